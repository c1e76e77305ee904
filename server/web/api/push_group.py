"""Pushes of one process written together: one transaction, one fsync, one check of
reference data and of the signed-in devices for the whole group (server.storage.group_commit).

That is for SQLite, which has one writer. PostgreSQL's feed writers run concurrently
(docs/performance.md), so there each push is its own transaction, run again should a
concurrent writer win (server.sync.unit_of_work.rerun_on_conflict).

Each push of a group still gets exactly its own results: it runs in its own savepoint, as
if alone, so a failure of its intents touches only it (and within it only the intent that
failed, server.sync.push). A refusal of its device (revoked or signed out while it waited)
is its own too. Only a failure of the transaction itself (a lock timeout, a lost
connection, the commit) is the whole group's: every push of it answers 503, nothing of it
was written, and each device sends again.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import text
from sqlalchemy.orm import Session

from server.accounts.device_auth import signed_in_refusal, still_signed_in
from server.errors import AppError, Forbidden
from server.extensions import db
from server.storage.group_commit import GroupCommit, GroupWaitTimeout, Ticket
from server.sync.context import RefData, caller_for
from server.sync.ops_cases import creates_by_town
from server.sync.push import is_transient_failure, push
from server.sync.unit_of_work import FeedWriteUnit, rerun_on_conflict

log = logging.getLogger(__name__)
EXTENSION = "fengling_push_group"


@dataclass(frozen=True)
class PushJob:
    """A parsed push request of a device whose token was checked before it queued."""

    token_hash: str
    device_id: str
    mutations: list[Any]
    device_status: dict[str, Any] | None


# PostgreSQL advisory locks of this class are a town's turn to number new cases.
TOWN_NUMBERS_LOCK_CLASS = 18


@contextmanager
def town_turns(towns: Iterable[str]) -> Iterator[None]:
    """PostgreSQL: pushes that create cases in one town take turns, before their transactions
    begin (server processes and instances alike).

    Each new case takes the next number from its town's year's counter row; under REPEATABLE
    READ two concurrent transactions that both write that row make one fail and run again,
    and with twenty phones of a town the losers ran out of attempts (503). The turn is an
    advisory lock held on a connection of its own, so the push's snapshot is taken only once
    the turn is there and sees the previous holder's numbers. `lock_timeout` bounds the wait
    (503 past it); the locks end with that connection should the process die."""
    keys = sorted({zlib.crc32(t.encode("utf-8", "surrogatepass")) & 0x7FFFFFFF for t in towns})
    if not keys:
        yield
        return
    with db.engine.connect() as turns:
        turns = turns.execution_options(isolation_level="AUTOCOMMIT")
        try:
            for key in keys:  # in one order everywhere: no deadlock
                turns.execute(LOCK_TURN, {"class_": TOWN_NUMBERS_LOCK_CLASS, "key": key})
            yield
        finally:
            try:
                turns.execute(UNLOCK_TURNS)
            except Exception:
                turns.invalidate()  # closed for good: the server drops its locks
                raise


LOCK_TURN = text("SELECT pg_advisory_lock(:class_, :key)")
UNLOCK_TURNS = text("SELECT pg_advisory_unlock_all()")


def init_app(app: Flask) -> None:
    one_writer = app.config["DATABASE_URL"].startswith("sqlite")
    app.extensions[EXTENSION] = (
        GroupCommit(
            write_pushes,
            max_group=int(app.config["PUSH_GROUP_MAX_REQUESTS"]),
            wait_s=int(app.config["LOCK_TIMEOUT_MS"]) / 1000,
        )
        if one_writer
        else None
    )


def submit_push(job: PushJob) -> list[dict[str, Any]]:
    """The push's stored results, once the transaction that wrote them has committed.

    :raises AppError: 503 temporarily_unavailable when no turn came within the lock
        timeout; whatever the device's check or its push raised.
    """
    group: GroupCommit[PushJob] | None = current_app.extensions[EXTENSION]
    ticket = Ticket(job)
    try:
        if group is None:
            ticket.group_size = 1
            with town_turns(creates_by_town(job.mutations)):
                write_pushes([ticket])
            return ticket.outcome()
        return group.submit_ticket(ticket)
    except GroupWaitTimeout as error:
        raise AppError("temporarily_unavailable", status=503) from error
    finally:
        g.push_group = ticket.group_size


def write_pushes(tickets: list[Ticket[PushJob]]) -> None:
    """Write a group in one unit of work (again, whole, if a concurrent writer won); settle
    each ticket with its results after the commit, or with its own refusal or failure."""
    session = db.session()
    written = rerun_on_conflict(session, lambda unit: write_group(session, unit, tickets))
    for ticket, results in written:
        ticket.settle(results)


def write_group(
    session: Session, unit: FeedWriteUnit, tickets: list[Ticket[PushJob]]
) -> list[tuple[Ticket[PushJob], list[dict[str, Any]]]]:
    """Each push in its own savepoint; the refused and failed ones settled at once."""
    written: list[tuple[Ticket[PushJob], list[dict[str, Any]]]] = []
    ref = RefData.load(session)
    signed_in = still_signed_in([ticket.work.device_id for ticket in tickets])
    for ticket in tickets:
        job = ticket.work
        row = signed_in.get(job.device_id)
        if row is not None and row.token_hash != job.token_hash:
            row = None  # signed in again meanwhile: this token is no longer the device's
        refusal: AppError | None = signed_in_refusal(row)
        if refusal is None and row.role == "integration":
            refusal = Forbidden("read_only")
        if refusal is not None:
            ticket.settle(error=refusal)
            continue
        caller = caller_for(row, job.device_id, ref)
        start = unit.writer.checkpoint()
        savepoint = session.connection().begin_nested()
        try:
            results = push(session, caller, ref, unit.writer, job.mutations, job.device_status)
            savepoint.commit()
        except Exception as error:
            savepoint.rollback()
            unit.writer.reset_to(start)
            if is_transient_failure(error):
                raise  # the transaction's trouble (or a concurrent writer won): the group's
            log.exception("a push failed in its group; the others go on")
            ticket.settle(error=error)
            continue
        written.append((ticket, results))
    return written
