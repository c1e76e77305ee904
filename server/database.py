"""Connection setup for SQLite and PostgreSQL, and the one global write lock."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

from flask import Flask
from sqlalchemy import Connection, Dialect, Engine, Executable, Row, Table, event, text
from sqlalchemy.orm import Session, scoped_session

WRITE_OPTION = "fengling_write"
TURN_KEY = "fengling_write_turn"
TURN_POLL_MAX_S = 0.002


def take_write_turn(lock_path: Path, timeout_s: float) -> int | None:
    """Wait for the kernel lock that orders SQLite writers across processes; returns its fd.

    SQLite's own busy handler sleeps up to 100 ms between tries, so a writer often sleeps
    long after the lock was freed; here a waiter tries again within 2 ms. Past `timeout_s`
    it goes on without a turn and SQLite's busy timeout decides (503 if still locked).
    """
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    deadline = time.monotonic() + timeout_s
    pause = 0.0001
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if time.monotonic() > deadline:
                os.close(fd)
                return None
            time.sleep(pause)
            pause = min(pause * 2, TURN_POLL_MAX_S)


def end_write_turn(info: dict) -> None:
    fd = info.pop(TURN_KEY, None)
    if fd is not None:
        os.close(fd)  # closing the descriptor releases the lock


def configure_engine(app: Flask, engine: Engine) -> None:
    """SQLite: WAL, busy timeout, synchronous=FULL, foreign keys, and BEGIN IMMEDIATE for writes."""
    if engine.dialect.name != "sqlite":
        return
    busy_ms = int(app.config["LOCK_TIMEOUT_MS"])

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
    through server.unit_of_work, which calls this and ends the unit.
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


Prepared = tuple[str, tuple[str, ...] | None, dict[str, Any]]
InsertPlan = tuple[str, list[tuple[str, Callable[[Any], Any] | None]]]
_insert_plans: dict[tuple[str, str, tuple[str, ...]], InsertPlan] = {}


def insert_many(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert rows that all name the same columns, in one driver `executemany`.

    `conn.execute(table.insert(), rows)` spends ~15 µs a row in SQLAlchemy's parameter
    handling, and the push path writes four rows per intent. Values still go through each
    column's own bind processor (JSON text, UTC times), so the stored values are the same
    (tests/test_database.py compares both). Rows that differ in their columns, or that
    leave out a column with a Python-side default, take SQLAlchemy's path.
    """
    if not rows:
        return
    first = rows[0].keys()
    names = tuple(first)
    plan = _insert_plans.get((conn.dialect.name, table.name, names))
    if plan is None:
        plan = _insert_plan(conn.dialect, table, names)
        _insert_plans[(conn.dialect.name, table.name, names)] = plan
    sql, processors = plan
    if not sql or any(row.keys() != first for row in rows):
        conn.execute(table.insert(), rows)
        return
    conn.exec_driver_sql(
        sql,
        [
            tuple(
                row[name] if process is None else process(row[name]) for name, process in processors
            )
            for row in rows
        ],
    )


def _insert_plan(dialect: Dialect, table: Table, names: tuple[str, ...]) -> InsertPlan:
    """The statement and the columns' bind processors; an empty statement means "use
    SQLAlchemy" (a column this row leaves out has a Python-side default)."""
    if any(column.default is not None and column.key not in names for column in table.columns):
        return "", []
    quote = dialect.identifier_preparer.quote
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    sql = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) "
        f"VALUES ({', '.join([marker] * len(names))})"
    )
    processors = [
        (name, table.c[name].type.dialect_impl(dialect).bind_processor(dialect)) for name in names
    ]
    return sql, processors


# Per dialect, keyed by the statement object itself (weakly): a key by id() could hand a
# new statement the SQL of a dropped one that had the same id.
_prepared: dict[str, WeakKeyDictionary[Executable, Prepared]] = {}


def run_prepared(conn: Connection, statement: Executable, **params: Any) -> Sequence[Row]:
    """Run a statement built once (a module constant) straight on the driver.

    Its SQL is compiled once per dialect; each run then skips SQLAlchemy's cache-key walk
    over the statement and its result processing, which together cost about a third of an
    incremental pull. Only for statements whose parameters and result columns need no type
    conversion (integers and text), such as the pull's; tests/test_prepared.py compares it
    with SQLAlchemy's own execution on both databases.
    """
    cache = _prepared.setdefault(conn.dialect.name, WeakKeyDictionary())
    prepared = cache.get(statement)
    if prepared is None:
        compiled = statement.compile(dialect=conn.dialect)
        order = tuple(compiled.positiontup or ()) if compiled.positional else None
        prepared = cache[statement] = (compiled.string, order, dict(compiled.params))
    sql, order, defaults = prepared
    values = {**defaults, **params}
    arguments = tuple(values[name] for name in order) if order is not None else values
    return conn.exec_driver_sql(sql, arguments).all()
