"""SQLite under several server processes: 4 gunicorn workers, 8 clients each doing 200
read-then-write rounds (pull the case, push an edit based on what was read). No `database
is locked`, no server error, every edit applied exactly once."""

from __future__ import annotations

import threading
import uuid

import pytest
import requests

from tests.factories import DEMO_PASSWORD, case_create, case_update

pytestmark = pytest.mark.slow

CLIENTS = 8
ROUNDS = 200


def sign_in(base: str, username: str) -> requests.Session:
    session = requests.Session()
    response = session.post(
        f"{base}/api/v1/auth/login",
        timeout=30,
        json={"username": username, "password": DEMO_PASSWORD, "device": {"id": str(uuid.uuid4())}},
    )
    response.raise_for_status()
    session.headers.update(
        {"Authorization": f"Bearer {response.json()['token']}", "X-Schema-Version": "1"}
    )
    return session


def client(
    base: str, session: requests.Session, index: int, outcomes: list[tuple[int, str]]
) -> None:
    """One phone with its own case: read its version, push an edit from it, 200 times."""
    create = case_create("dayan", title=f"客户端 {index}")
    session.post(f"{base}/api/v1/sync/push", json={"mutations": [create]}, timeout=60)
    cursor = None
    version = 1
    for round_number in range(ROUNDS):
        params = {"cursor": cursor} if cursor else {}
        pulled = session.get(f"{base}/api/v1/sync/pull", params=params, timeout=60)
        if pulled.status_code != 200:
            outcomes.append((pulled.status_code, "pull"))
            continue
        page = pulled.json()
        cursor = page["cursor"]
        for change in page["changes"]:
            if change["record_id"] == create["record_id"]:
                version = change["version"]
        edit = case_update(create["record_id"], version, description=f"第{round_number}次")
        pushed = session.post(f"{base}/api/v1/sync/push", json={"mutations": [edit]}, timeout=60)
        status = pushed.json()["results"][0]["status"] if pushed.status_code == 200 else ""
        outcomes.append((pushed.status_code, status))


@pytest.mark.parametrize("backend", ["sqlite"])
def test_eight_clients_on_four_processes_never_see_a_locked_database(start_server, rows):
    from server.models import Case, Change

    server = start_server(workers=4)
    outcomes: list[tuple[int, str]] = []
    # Signed in one after the other: eight sign-ins of one person from one address at the
    # same instant would meet the sign-in limit, which counts a check as failed until it ends.
    sessions = [sign_in(server.base, "dayan_worker") for _ in range(CLIENTS)]
    threads = [
        threading.Thread(target=client, args=(server.base, sessions[i], i, outcomes))
        for i in range(CLIENTS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert not any(thread.is_alive() for thread in threads)
    assert len(outcomes) == CLIENTS * ROUNDS
    assert {code for code, _ in outcomes} == {200}
    assert {status for _, status in outcomes} <= {"applied", "merged"}
    cases = rows(Case)
    assert len(cases) == CLIENTS and all(case.version == ROUNDS + 1 for case in cases)
    assert len([c for c in rows(Change) if c.entity == "case"]) == CLIENTS * (ROUNDS + 1)
    log = server.log_path.read_text()
    assert "database is locked" not in log and "Traceback" not in log
