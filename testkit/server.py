"""A real server process: `fengling serve` (gunicorn, several processes) on 127.0.0.1."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
FENGLING = str(Path(sys.executable).with_name("fengling"))
# `fengling serve`'s own default (server.commands.cli): one process per core, at least 2.
SERVE_WORKERS = max(2, os.cpu_count() or 2)
PG_ADMIN_URL = os.environ.get("FENGLING_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """Migrate, seed (demo password `bench-password`) and serve `data_dir` on a free port,
    on SQLite or at `database_url`; returns once /readyz answers. `prepare=False` skips the
    migration and the seed (another instance on a database an earlier one prepared)."""

    def __init__(
        self,
        data_dir: Path,
        workers: int,
        database_url: str | None = None,
        *,
        prepare: bool = True,
    ):
        self.env = {
            **os.environ,
            "FENGLING_DATA_DIR": str(data_dir),
            "FENGLING_DEMO_PASSWORD": "bench-password",
        }
        self.database_url = database_url
        if database_url:
            self.env["FENGLING_DATABASE_URL"] = database_url
        else:
            self.env.pop("FENGLING_DATABASE_URL", None)
        if prepare:
            for command in (["db", "upgrade"], ["seed-demo"]):
                subprocess.run([FENGLING, *command], env=self.env, check=True, capture_output=True)
        self.base = f"http://127.0.0.1:{free_port()}"
        port = self.base.rsplit(":", 1)[1]
        self.process = subprocess.Popen(
            [FENGLING, "serve", "--host", "127.0.0.1", "--port", port, "--workers", str(workers)],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(300):
            try:
                if requests.get(f"{self.base}/readyz", timeout=1).status_code == 200:
                    return
            except requests.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    def pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [self.process.pid, *map(int, children.read_text().split())]

    def cpu_seconds(self) -> float:
        total = 0
        for pid in self.pids():
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")

    def peak_rss_mib(self) -> float:
        peaks = []
        for pid in self.pids()[1:]:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
        return max(peaks)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)


def create_pg_database() -> str:
    """A fresh, empty PostgreSQL database next to PG_ADMIN_URL's; returns its URL."""
    import psycopg

    name = f"fengling_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{PG_ADMIN_URL.rpartition('/')[0]}/{name}"


def drop_pg_database(url: str) -> None:
    import psycopg

    name = url.rpartition("/")[2]
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
