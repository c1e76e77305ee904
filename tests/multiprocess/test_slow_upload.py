"""A slow upload must not hold the write lock: other phones keep pushing meanwhile."""

from __future__ import annotations

import json
import socket
import time

import pytest
import requests

from tests.factories import DEMO_PASSWORD, case_create, new_id

pytestmark = pytest.mark.slow


def sign_in(base: str, username: str) -> dict[str, str]:
    token = requests.post(
        f"{base}/api/v1/auth/login",
        timeout=30,
        json={"username": username, "password": DEMO_PASSWORD, "device": {"id": new_id()}},
    ).json()["token"]
    return {"Authorization": f"Bearer {token}", "X-Schema-Version": "1"}


def test_a_stalled_push_body_does_not_block_other_devices(live_server):
    slow, fast = sign_in(live_server, "dayan_worker"), sign_in(live_server, "xidian_worker")
    body = json.dumps({"mutations": [case_create()]}).encode()
    host, port = live_server.removeprefix("http://").split(":")
    stalled = socket.create_connection((host, int(port)), timeout=30)
    head = "".join(f"{k}: {v}\r\n" for k, v in slow.items())
    stalled.sendall(
        f"POST /api/v1/sync/push HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n{head}\r\n".encode()
        + body[:10]
    )  # headers and a little of the body, then nothing
    time.sleep(0.5)
    started = time.monotonic()
    response = requests.post(
        f"{live_server}/api/v1/sync/push",
        headers=fast,
        timeout=30,
        json={"mutations": [case_create("xidian")]},
    )
    elapsed = time.monotonic() - started
    stalled.close()
    assert response.status_code == 200
    assert response.json()["results"][0]["status"] == "applied"
    assert elapsed < 3, f"a stalled upload held other pushes for {elapsed:.1f} s"
