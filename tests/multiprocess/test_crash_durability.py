"""Kill the server with SIGKILL at random moments during pushes, ten times: every mutation the
phone saw acknowledged survives, and its retries of the rest apply exactly once."""

from __future__ import annotations

import random
import threading
import time

import pytest
import requests
from sqlalchemy import create_engine, text

from tests.factories import DEMO_PASSWORD, case_create, new_id

pytestmark = pytest.mark.slow
KILLS = 10


def test_acknowledged_pushes_survive_sigkill_and_retries_apply_once(start_server, database_url):
    server = start_server()
    device_id, rng = new_id(), random.Random(7)
    login = requests.post(
        f"{server.base}/api/v1/auth/login",
        timeout=30,
        json={"username": "dayan_worker", "password": DEMO_PASSWORD, "device": {"id": device_id}},
    )
    headers = {"Authorization": f"Bearer {login.json()['token']}", "X-Schema-Version": "1"}
    outbox: list[dict] = []
    acked: dict[str, str] = {}  # mutation_id -> record_id the server acknowledged
    state = {"base": server.base, "stop": False}

    def push_once() -> bool:
        """True when the server answered; the outbox keeps whatever was not acknowledged."""
        if not outbox:
            return True
        batch = outbox[:5]
        try:
            response = requests.post(
                f"{state['base']}/api/v1/sync/push",
                headers=headers,
                json={"mutations": batch},
                timeout=10,
            )
        except requests.RequestException:
            time.sleep(0.05)  # the server died under us: try again shortly
            return False
        if response.status_code != 200:
            return False
        for result in response.json()["results"]:
            assert result["status"] == "applied"
            acked[result["mutation_id"]] = result["record_id"]
        del outbox[: len(batch)]
        return True

    def phone() -> None:
        for _ in range(100_000):
            if state["stop"]:
                return
            if len(outbox) < 20:  # a person types slower than the phone syncs
                outbox.extend(case_create() for _ in range(rng.randint(1, 5)))
            push_once()

    worker = threading.Thread(target=phone)
    worker.start()
    try:
        for _ in range(KILLS):
            time.sleep(rng.uniform(0.2, 0.8))
            server.kill()
            server = start_server()
            state["base"] = server.base
    finally:
        state["stop"] = True
        worker.join(60)
    for _ in range(200):  # the phone empties its outbox once the server stays up
        if not outbox:
            break
        push_once()
    assert outbox == []

    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        cases = [r for (r,) in conn.execute(text("SELECT id FROM cases"))]
        receipts = conn.execute(text("SELECT count(*) FROM mutation_receipts")).scalar_one()
    engine.dispose()
    assert len(acked) > 20, "the phone got work through between the kills"
    assert sorted(cases) == sorted(acked.values())  # all acknowledged, none twice
    assert receipts == len(acked)
