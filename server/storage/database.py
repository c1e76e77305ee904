"""Connection setup for SQLite and PostgreSQL, and the one global write lock."""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path

from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session, scoped_session

WRITE_OPTION = "fengling_write"
TURN_KEY = "fengling_write_turn"


def take_write_turn(lock_path: Path, timeout_s: float) -> int | None:
    """Wait for the kernel lock that orders SQLite writers across processes; returns its fd.

    A free lock is taken at once. Otherwise a helper thread blocks in flock, and the kernel
    wakes it the moment the holder lets go: no polling, no sleeping past the release
    (SQLite's own busy handler sleeps up to 100 ms between tries, which let unlucky writers
    starve). Past `timeout_s` the writer goes on without a turn and SQLite's busy timeout
    decides (503 if still locked); the helper, should it get the lock later, lets it go.
    """
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return fd
    except BlockingIOError:
        pass
    waiter = TurnWaiter(fd)
    helper = threading.Thread(target=waiter.wait, name="write-turn", daemon=True)
    helper.start()
    helper.join(timeout_s)
    return waiter.claim()


class TurnWaiter:
    """A blocking flock in a helper thread that the writer can give up on."""

    def __init__(self, fd: int):
        self.fd = fd
        self.lock = threading.Lock()
        self.held = False
        self.abandoned = False

    def wait(self) -> None:
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX)
            got = True
        except OSError:
            got = False
        with self.lock:
            self.held = got and not self.abandoned
            if not self.held:
                os.close(self.fd)  # closing the descriptor releases the lock

    def claim(self) -> int | None:
        """The fd, holding the turn; or None, and the helper lets it go when it comes."""
        with self.lock:
            if self.held:
                return self.fd
            self.abandoned = True
            return None


def end_write_turn(info: dict) -> None:
    fd = info.pop(TURN_KEY, None)
    if fd is not None:
        os.close(fd)  # closing the descriptor releases the lock


def configure_engine(engine: Engine, lock_timeout_ms: int) -> None:
    """SQLite: WAL, busy timeout, synchronous=FULL, foreign keys, and BEGIN IMMEDIATE for writes."""
    if engine.dialect.name != "sqlite":
        return
    busy_ms = int(lock_timeout_ms)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    database = engine.url.database
    lock_path = Path(f"{database}.writelock") if database and database != ":memory:" else None

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:
        # Writers take the lock up front, so two processes never deadlock upgrading a read lock.
        is_write = conn.get_execution_options().get(WRITE_OPTION, False)
        if is_write and lock_path is not None:
            fd = take_write_turn(lock_path, busy_ms / 1000)
            if fd is not None:
                conn.info[TURN_KEY] = fd
        conn.exec_driver_sql("BEGIN IMMEDIATE" if is_write else "BEGIN")

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection, record) -> None:
        end_write_turn(record.info)  # the transaction ended (commit or rollback)

    @event.listens_for(engine, "invalidate")
    def _on_invalidate(_dbapi_connection, record, _exception) -> None:
        end_write_turn(record.info)


def begin_write(session: Session, *, lock_feed: bool = True) -> int:
    """Open the unit of work as a writer; with `lock_feed`, hold the feed lock until commit.

    Every writer of the feed goes through here first, so changes commit in the order of
    their sequence numbers: that is what makes the pull cursor gap-free. Returns the
    last sequence number allocated so far (0 without `lock_feed`). Application code writes
    through server.sync.unit_of_work, which calls this and ends the unit.
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
