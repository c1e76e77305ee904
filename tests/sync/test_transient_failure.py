"""Rule 9: a transient failure stops the batch, answers 503 with Retry-After, and the
device's resend is then applied exactly once."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from server.models import Case
from tests.factories import DeviceClient, case_create


@contextmanager
def write_lock_held_elsewhere(database_url: str) -> Iterator[None]:
    """Another process holds the write lock (a long job, a stuck transaction). PostgreSQL's
    feed writers take no global lock: there it holds the rows of the devices, which every
    push writes (server.sync.push.record_device_status)."""
    if database_url.startswith("sqlite"):
        conn = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
    else:
        conn = psycopg.connect(database_url)
        conn.execute("SELECT id FROM devices FOR UPDATE")
    try:
        yield
    finally:
        conn.rollback()
        conn.close()


def test_push_waiting_too_long_for_the_write_lock_gets_503_then_applies_once(
    make_app, database_url, rows
):
    app = make_app(LOCK_TIMEOUT_MS=200)
    phone = DeviceClient(app.test_client(), "dayan_worker")
    assert phone.login().status_code == 200
    batch = [case_create(), case_create()]
    with write_lock_held_elsewhere(database_url):
        response = phone.push(*batch)
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "temporarily_unavailable"
    assert int(response.headers["Retry-After"]) > 0
    assert rows(Case) == []
    results = phone.push_ok(*batch)
    assert [r["status"] for r in results] == ["applied", "applied"]
    assert phone.push_ok(*batch)[0]["replayed"] is True
    assert len(rows(Case)) == 2
