"""`fengling mirror` follows a live server while phones push, survives being interrupted and
killed, and ends equal to what the integration account may see."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.multiprocess.phone import Phone

pytestmark = pytest.mark.slow
FENGLING = str(Path(sys.executable).with_name("fengling"))


def create_token(database_url: str, data_dir: Path, username: str) -> str:
    env = {**os.environ, "FENGLING_DATABASE_URL": database_url, "FENGLING_DATA_DIR": str(data_dir)}
    done = subprocess.run(
        [FENGLING, "token", "create", username],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.strip()


def mirror(base: str, token_file: Path, into: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            FENGLING,
            "mirror",
            "--url",
            base,
            "--token-file",
            str(token_file),
            "--into",
            str(into),
            *args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen, timeout: float = 120) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out, err


def mirrored(into: Path) -> dict[tuple[str, str], dict]:
    with sqlite3.connect(into) as conn:
        rows = conn.execute("SELECT entity, record_id, version, data FROM records").fetchall()
    conn.close()
    return {(e, r): {"version": v, "data": json.loads(d)} for e, r, v, d in rows}


def test_mirror_resumes_after_interruption_and_ends_equal_to_the_server(
    live_server, database_url, tmp_path
):
    token_file = tmp_path / "token"
    token_file.write_text(create_token(database_url, tmp_path / "server-data", "integration"))
    into = tmp_path / "mirror.db"
    phones = [
        Phone(live_server, name, seed=i)
        for i, name in enumerate(["dayan_worker", "xidian_supervisor", "shiliang_worker"])
    ]
    stop = threading.Event()

    def keep_pushing() -> None:
        for _ in range(40):
            if stop.is_set():
                return
            for phone in phones:
                phone.work_round()

    pusher = threading.Thread(target=keep_pushing)
    pusher.start()
    try:
        # Interrupted at a page boundary...
        code, _, err = finish(mirror(live_server, token_file, into, "--max-pages", "2"))
        assert code == 0, err
        # ...then killed at a random moment, then resumed while phones keep pushing.
        killed = mirror(live_server, token_file, into)
        time.sleep(0.3)
        killed.send_signal(signal.SIGKILL)
        finish(killed)
        code, _, err = finish(mirror(live_server, token_file, into))
        assert code == 0, err
    finally:
        stop.set()
        pusher.join(300)
    code, out, _ = finish(mirror(live_server, token_file, into))
    assert code == 0 and "mirrored:" in out

    server_view, _ = Phone(live_server, "integration", seed=99).pull_into({}, None)
    expected = {key: {"version": c["version"], "data": c["data"]} for key, c in server_view.items()}
    assert mirrored(into) == expected
    assert sum(1 for entity, _ in expected if entity == "case") >= 3


def test_mirror_resyncs_in_full_when_the_server_asks(live_server, database_url, tmp_path, execute):
    token_file = tmp_path / "token"
    token_file.write_text(create_token(database_url, tmp_path / "server-data", "integration"))
    into = tmp_path / "mirror.db"
    Phone(live_server, "dayan_worker", seed=1).work_round()
    assert finish(mirror(live_server, token_file, into))[0] == 0
    with sqlite3.connect(into) as conn:  # a record the server no longer has
        conn.execute("INSERT INTO records VALUES ('case', 'gone', 1, '{}', 1)")
    conn.close()
    execute("UPDATE server_state SET epoch = 'restored'")  # as a restore does
    code, out, _ = finish(mirror(live_server, token_file, into))
    assert code == 0 and "1 resyncs" in out
    server_view, _ = Phone(live_server, "integration", seed=2).pull_into({}, None)
    assert set(mirrored(into)) == set(server_view)
