"""A real multi-process server (`fengling serve`, gunicorn) on 127.0.0.1 for these tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from testkit.server import free_port

SERVER_WORKERS = 3
START_TIMEOUT_S = 30


class ServerProcess:
    """`fengling serve` in a subprocess, stopped with SIGTERM (a graceful shutdown)."""

    def __init__(
        self, database_url: str, data_dir: Path, log_path: Path, workers: int = SERVER_WORKERS
    ):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "FENGLING_DATABASE_URL": database_url,
            "FENGLING_DATA_DIR": str(data_dir),
        }
        self.log_path = log_path
        self.log = log_path.open("w")
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("fengling")),
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                str(workers),
            ],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so kill() reaches the workers
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.base}/readyz", timeout=1).status_code == 200:
                    return
            except requests.ConnectionError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(log_path.read_text())

    def kill(self) -> None:
        """SIGKILL the master and every worker at once, as a power cut would."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=20)
        self.log.close()

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        self.log.close()
        return code


@pytest.fixture
def start_server(database_url: str, tmp_path: Path) -> Iterator:
    """start_server(workers=3) -> a running ServerProcess on this test's database (shared
    data dir)."""
    servers: list[ServerProcess] = []

    def start(workers: int = SERVER_WORKERS) -> ServerProcess:
        server = ServerProcess(
            database_url,
            tmp_path / "server-data",
            tmp_path / f"server-{len(servers)}.log",
            workers,
        )
        servers.append(server)
        return server

    yield start
    for server in servers:
        if server.process.poll() is None:
            server.stop()
        if not server.log.closed:
            server.log.close()


@pytest.fixture
def live_server(start_server) -> str:
    return start_server().base
