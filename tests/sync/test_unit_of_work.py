"""The unit of work: commit on a normal exit, roll back on an exception, and the feed's
number written once, whoever finished the writer."""

from __future__ import annotations

import sqlite3
from contextlib import nullcontext

import pytest
from sqlalchemy import func, select, text

from server.extensions import db
from server.models import Change, JobLock, ServerState
from server.sync.feed import Author
from server.sync.unit_of_work import feed_write_unit, write_unit


def last_seq() -> int:
    """The last number handed out: server_state's on SQLite, the sequence's on PostgreSQL
    (whose writers number from it, server.sync.feed)."""
    if db.session.get_bind().dialect.name == "postgresql":
        seq = db.session.execute(
            text("SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM feed_seq")
        ).scalar_one()
    else:
        seq = db.session.scalar(select(ServerState.last_seq))
    db.session.rollback()
    return seq


def probe(writer, record_id: str) -> None:
    writer.publish(
        "probe",
        record_id,
        1,
        1,
        {},
        author=Author(None),
        action="probe",
        changed={},
        is_new=True,
    )


def locks() -> int:
    count = db.session.scalar(select(func.count()).select_from(JobLock))
    db.session.rollback()
    return count


def test_a_feed_unit_numbers_finishes_and_commits_once(app):
    with app.app_context():
        before = last_seq()
        with feed_write_unit(db.session) as unit:
            probe(unit.writer, "a")
            unit.writer.finish()  # as push() does; the unit finishes it again at commit
            probe(unit.writer, "b")
        assert last_seq() == before + 2
        assert db.session.scalar(select(func.count()).where(Change.entity == "probe")) == 2


def test_an_exception_rolls_back_and_goes_on(app):
    with app.app_context():
        before = last_seq()
        with pytest.raises(LookupError), feed_write_unit(db.session) as unit:
            probe(unit.writer, "a")
            raise LookupError
        assert not db.session().in_transaction()
        assert db.session.scalar(select(func.count()).where(Change.entity == "probe")) == 0
        if db.session.get_bind().dialect.name == "sqlite":
            assert last_seq() == before  # PostgreSQL's sequence skips the number instead


def test_discard_and_an_early_commit_end_the_unit(app):
    with app.app_context():
        with write_unit(db.session) as unit:
            db.session.add(JobLock(name="discarded", holder="test"))
            unit.discard()
        assert locks() == 0
        with write_unit(db.session) as unit:
            db.session.add(JobLock(name="kept", holder="test"))
            unit.commit()
            assert not db.session().in_transaction()
        assert locks() == 1


def test_a_unit_after_a_read_ends_the_read_only_when_asked(app):
    with app.app_context():
        db.session.scalar(select(ServerState.last_seq))
        with pytest.raises(RuntimeError, match="must open the unit of work"):
            with write_unit(db.session):
                pass
        with write_unit(db.session, end_read=True):
            db.session.add(JobLock(name="after-read", holder="test"))
        assert locks() == 1


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_sqlite_write_lock_is_free_once_the_unit_ends(app, database_url):
    other = sqlite3.connect(
        database_url.removeprefix("sqlite:///"), timeout=0.1, isolation_level=None
    )
    with app.app_context():
        for ending in ("commit", "exception"):
            with pytest.raises(LookupError) if ending == "exception" else nullcontext():
                with write_unit(db.session):
                    with pytest.raises(sqlite3.OperationalError, match="locked"):
                        other.execute("BEGIN IMMEDIATE")
                    if ending == "exception":
                        raise LookupError
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
    other.close()
