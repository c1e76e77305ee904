"""Connection setup for SQLite and PostgreSQL, and how a unit of work begins to write."""

from __future__ import annotations

import fcntl
import os
import threading
import time
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


# A PostgreSQL feed writer's bounds (lock_timeout comes from LOCK_TIMEOUT_MS, set on every
# connection by server.config). Its transaction id holds back every pull until it ends
# (server.sync.pull), so no statement may run, nor the transaction sit idle, for longer.
WRITER_STATEMENT_TIMEOUT = "30s"
WRITER_IDLE_TIMEOUT = "60s"
POSTGRESQL_FEED_WRITER = text(
    "SELECT set_config('statement_timeout', :statement, true),"
    " set_config('idle_in_transaction_session_timeout', :idle, true)"
).bindparams(statement=WRITER_STATEMENT_TIMEOUT, idle=WRITER_IDLE_TIMEOUT)


def begin_write(session: Session, *, lock_feed: bool = True) -> int:
    """Open the unit of work as a writer of the feed (`lock_feed`) or of other tables.

    SQLite: one writer at a time; a feed writer reads the last sequence number allocated
    and the unit numbers its changes after it, so changes commit in sequence order, which
    keeps the pull cursor gap-free. Returns that number (0 without `lock_feed`).

    PostgreSQL: feed writers run concurrently, in REPEATABLE READ (two writers of one
    record cannot both commit: the second fails with a serialization failure, answered
    503). Returns 0: the unit numbers changes from the `feed_seq` sequence and stamps them
    with its transaction id, and pulls keep to transactions that have all ended
    (server.sync.pull). Application code writes through server.sync.unit_of_work, which calls
    this and ends the unit.
    """
    if isinstance(session, scoped_session):
        session = session()
    if session.in_transaction():
        raise RuntimeError("begin_write must open the unit of work")
    if lock_feed and session.get_bind().dialect.name == "postgresql":
        session.connection(
            execution_options={WRITE_OPTION: True, "isolation_level": "REPEATABLE READ"}
        )
        session.execute(POSTGRESQL_FEED_WRITER)  # also takes the transaction's snapshot
        return 0
    session.connection(execution_options={WRITE_OPTION: True})
    if not lock_feed:
        return 0
    return int(session.execute(text("SELECT last_seq FROM server_state WHERE id = 1")).scalar_one())


# PostgreSQL: the feed's horizon in snapshot `s` (server.sync.pull), the oldest transaction
# of this database still running, else the next id to be handed out. Transaction ids are
# the cluster's, but a transaction of another database (a backend's database never changes)
# cannot write this feed, so it does not hold pulls back. A running id that
# pg_stat_activity does not show in another database (it ended meanwhile, or the role may
# not see it) counts as this database's: the horizon can only come out lower, never higher.
FEED_HORIZON_OF_S = """least(
    pg_snapshot_xmax(s)::text::bigint,
    (SELECT min(x::text::bigint) FROM pg_snapshot_xip(s) AS x
      WHERE NOT EXISTS (SELECT 1 FROM pg_stat_activity AS a
                         WHERE a.backend_xid = x::xid AND a.datname <> current_database())))"""
FEED_HORIZON = f"(SELECT {FEED_HORIZON_OF_S} FROM pg_current_snapshot() AS s)"
# The horizon and the next transaction id.
SNAPSHOT_BOUNDS = text(
    f"SELECT {FEED_HORIZON_OF_S}, pg_snapshot_xmax(s)::text::bigint FROM pg_current_snapshot() AS s"
)
SETTLE_TIMEOUT_S = 1.0
SETTLE_POLL_MAX_S = 0.02


def begin_snapshot_read(session: Session) -> None:
    """Open a read-only unit of work that sees one consistent snapshot across statements.

    PostgreSQL: a pull serves only the changes of transactions below the snapshot's horizon
    (server.sync.pull), and a writer that began before a change that already committed holds
    it back. So that a reader sees everything committed before it began (a phone, its own
    push), the snapshot is taken again until every transaction running at the first one has
    ended: usually at once, else within a writer's time; after SETTLE_TIMEOUT_S it goes on
    with what it has (still gap-free: the rest comes with the next pull).
    """
    if session.get_bind().dialect.name != "postgresql":
        session.connection()
        return
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    pause = 0.0005
    target = None
    while True:
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        horizon, next_id = session.execute(SNAPSHOT_BOUNDS).one()  # takes the snapshot
        target = next_id if target is None else target
        if horizon >= target or time.monotonic() > deadline:
            return
        session.rollback()
        time.sleep(pause)
        pause = min(pause * 2, SETTLE_POLL_MAX_S)
