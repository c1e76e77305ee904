"""Connection setup for SQLite and PostgreSQL, and the one global write lock."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session, scoped_session

WRITE_OPTION = "fengling_write"


def configure_engine(app: Flask, engine: Engine) -> None:
    """SQLite: WAL, busy timeout, synchronous=FULL, foreign keys, and BEGIN IMMEDIATE for writes."""
    if engine.dialect.name != "sqlite":
        return
    busy_ms = int(app.config["LOCK_TIMEOUT_MS"])

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # noqa: ANN001
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:  # noqa: ANN001
        # Writers take the lock up front, so two processes never deadlock upgrading a read lock.
        is_write = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if is_write else "BEGIN")


def begin_write(session: Session, *, lock_feed: bool = True) -> int:
    """Open the unit of work as a writer; with `lock_feed`, hold the feed lock until commit.

    Every writer of the feed goes through here first, so changes commit in the order of
    their sequence numbers: that is what makes the pull cursor gap-free. Returns the
    last sequence number allocated so far (0 without `lock_feed`).
    """
    if isinstance(session, scoped_session):
        session = session()
    if session.in_transaction():
        raise RuntimeError("begin_write must open the unit of work")
    session.connection(execution_options={WRITE_OPTION: True})
    if not lock_feed:
        return 0
    statement = "SELECT last_seq FROM server_state WHERE id = 1"
    if session.get_bind().dialect.name == "postgresql":
        statement += " FOR UPDATE"
    return int(session.execute(text(statement)).scalar_one())


def begin_snapshot_read(session: Session) -> None:
    """Open a read-only unit of work that sees one consistent snapshot across statements."""
    if session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    else:
        session.connection()
