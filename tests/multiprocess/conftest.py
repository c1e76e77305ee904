"""A real multi-process server (`fengling serve`, gunicorn) on 127.0.0.1 for these tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

SERVER_WORKERS = 3
START_TIMEOUT_S = 30


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def live_server(database_url: str, tmp_path: Path) -> Iterator[str]:
    """Start `fengling serve` with several workers on a copy of the template database."""
    port = free_port()
    env = {
        **os.environ,
        "FENGLING_DATABASE_URL": database_url,
        "FENGLING_DATA_DIR": str(tmp_path / "server-data"),
    }
    fengling = Path(sys.executable).with_name("fengling")
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen(
        [
            str(fengling),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(SERVER_WORKERS),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base}/api/v1/openapi.json", timeout=1).status_code == 200:
                break
        except requests.ConnectionError:
            time.sleep(0.2)
    else:
        process.kill()
        raise RuntimeError((tmp_path / "server.log").read_text())
    yield base
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    log.close()
