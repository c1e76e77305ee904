"""A guesser who sends a dozen wrong passwords at once, to a server of several processes,
gets no more password checks than the limit allows (docs/security.md, Login limits)."""

from __future__ import annotations

import threading

import pytest
import requests

from tests.factories import new_id

pytestmark = pytest.mark.slow

GUESSES = 12
LIMIT = 5  # LOGIN_MAX_FAILURES, the default the server runs with


def guess(base: str, start: threading.Barrier, answers: list[requests.Response]) -> None:
    start.wait()
    answers.append(
        requests.post(
            f"{base}/api/v1/auth/login",
            timeout=60,
            json={
                "username": "dayan_supervisor",
                "password": f"guess-{new_id()}",
                "device": {"id": new_id()},
            },
        )
    )


def test_twelve_parallel_wrong_logins_get_at_most_the_limit_of_password_checks(
    start_server, rows, monkeypatch
):
    from server.models import LoginAttempt

    # A minute's wait after the limit, so a guess that a busy machine delivers late is not
    # let through by the delay having passed (one second by default).
    monkeypatch.setenv("FENGLING_LOGIN_FIRST_DELAY_SECONDS", "60")
    server = start_server(workers=4)
    answers: list[requests.Response] = []
    start = threading.Barrier(GUESSES)
    threads = [
        threading.Thread(target=guess, args=(server.base, start, answers)) for _ in range(GUESSES)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert len(answers) == GUESSES
    checked = [a for a in answers if a.status_code == 401]
    refused = [a for a in answers if a.status_code == 429]
    assert len(checked) + len(refused) == GUESSES
    # Every password check is recorded before it runs: the attempts table counts them.
    attempts = rows(LoginAttempt, username="dayan_supervisor")
    assert len(attempts) == len(checked) <= LIMIT
    assert not any(attempt.succeeded for attempt in attempts)
    for answer in refused:
        error = answer.json()["error"]
        assert error["code"] == "too_many_attempts"
        assert int(answer.headers["Retry-After"]) == error["details"]["retry_after"] >= 1
    log = server.log_path.read_text()
    assert "Traceback" not in log
