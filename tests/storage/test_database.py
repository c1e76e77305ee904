"""SQLite done right: every pooled connection is durable and waits, writers lock up front."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.dialects import postgresql, sqlite

from server.extensions import db
from server.models.base import UTCDateTime
from server.storage.database import begin_write


@pytest.mark.parametrize("backend", ["sqlite"])
def test_every_sqlite_connection_has_wal_full_sync_foreign_keys_and_a_busy_timeout(app):
    with app.app_context():
        connections = [db.engine.connect() for _ in range(3)]  # distinct pooled connections
        try:
            for conn in connections:
                pragma = {
                    name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                    for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
                }
                assert pragma == {
                    "journal_mode": "wal",
                    "synchronous": 2,
                    "foreign_keys": 1,
                    "busy_timeout": 10_000,
                }
        finally:
            for conn in connections:
                conn.close()


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_writer_holds_the_sqlite_write_lock_from_its_first_statement(app, database_url):
    other = sqlite3.connect(
        database_url.removeprefix("sqlite:///"), timeout=0.1, isolation_level=None
    )
    with app.app_context():
        begin_write(db.session)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        db.session.rollback()
    other.execute("BEGIN IMMEDIATE")  # free again once the writer is done
    other.execute("ROLLBACK")
    other.close()


@pytest.mark.parametrize("backend", ["postgresql"])
def test_a_postgresql_feed_writer_takes_no_global_lock_and_is_bounded(app, database_url):
    """Feed writers run concurrently (server.sync.pull says why the feed stays gap-free), in
    REPEATABLE READ, with their statements and idle time bounded; the bounds end with them."""
    import psycopg

    with app.app_context():
        begin_write(db.session)
        settings = "SELECT current_setting('transaction_isolation'),"
        settings += " current_setting('statement_timeout'),"
        settings += " current_setting('idle_in_transaction_session_timeout')"
        assert tuple(db.session.execute(text(settings)).one()) == ("repeatable read", "30s", "1min")
        with psycopg.connect(database_url) as other:
            other.execute("SET lock_timeout = '100ms'")
            other.execute("SELECT last_seq FROM server_state FOR UPDATE")  # not waited for
        db.session.rollback()
        assert db.session.execute(text(settings)).one()[1:] == ("0", "0")
        db.session.rollback()


def test_sqlite_writers_take_turns_through_a_kernel_lock(tmp_path):
    """A second writer waits for the first one's turn to end, then gets it at once; after
    the timeout it goes on without one (SQLite's busy timeout then decides)."""
    import time

    from server.storage.database import TURN_KEY, end_write_turn, take_write_turn

    lock = tmp_path / "fengling.db.writelock"
    first = take_write_turn(lock, timeout_s=1)
    assert first is not None
    started = time.monotonic()
    assert take_write_turn(lock, timeout_s=0.05) is None
    assert time.monotonic() - started >= 0.05
    end_write_turn({TURN_KEY: first})
    second = take_write_turn(lock, timeout_s=0.05)
    assert second is not None
    end_write_turn({TURN_KEY: second})


def test_a_waiting_writer_is_handed_the_turn_when_it_is_released(tmp_path):
    """The waiter is woken by the release itself, long before its timeout; a waiter that
    gave up does not keep the turn when it comes to it later."""
    import threading
    import time

    from server.storage.database import TURN_KEY, end_write_turn, take_write_turn

    lock = tmp_path / "fengling.db.writelock"
    holder = take_write_turn(lock, timeout_s=1)
    assert take_write_turn(lock, timeout_s=0.01) is None  # gives up; its helper still waits
    release = threading.Timer(0.2, end_write_turn, args=({TURN_KEY: holder},))
    release.start()
    started = time.monotonic()
    waiter = take_write_turn(lock, timeout_s=30)
    waited = time.monotonic() - started
    release.join()
    assert waiter is not None
    assert 0.1 < waited < 15  # woken by the release, not by the 30 s timeout
    end_write_turn({TURN_KEY: waiter})
    again = take_write_turn(lock, timeout_s=5)
    assert again is not None
    end_write_turn({TURN_KEY: again})


@given(
    moment=st.datetimes(
        timezones=st.sampled_from(
            [UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-11, minutes=-30))]
        )
    )
)
@settings(max_examples=300, deadline=None)
def test_times_are_stored_on_sqlite_as_sqlalchemys_datetime_stores_them(moment: datetime):
    """UTCDateTime writes SQLite's text in one step; it must be the text SQLAlchemy's own
    DATETIME makes of the same instant in UTC, or stored times would stop sorting."""
    dialect = sqlite.dialect()
    ours = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    theirs = sqlite.DATETIME().bind_processor(dialect)
    assert ours(moment) == theirs(moment.astimezone(UTC).replace(tzinfo=None))


def test_a_naive_time_is_refused_on_every_database():
    for dialect in (sqlite.dialect(), postgresql.psycopg.dialect()):
        process = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
        with pytest.raises(ValueError, match="naive"):
            process(datetime(2026, 1, 1))
