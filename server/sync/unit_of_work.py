"""The one way to write: a unit of work, one writer at a time on SQLite.

    with write_unit(db.session) as unit:            # bookkeeping, not in the feed
        ...
    with feed_write_unit(db.session) as unit:       # changes the phones pull
        unit.writer.publish(...)

Entering begins to write (server.storage.database.begin_write): on SQLite it takes the write
lock, and a feed unit reads where the numbering of changes stands; on PostgreSQL feed units
run concurrently, in REPEATABLE READ, numbering from a sequence (server.sync.feed). A feed
unit's `writer` numbers the changes. Leaving normally writes what the writer
queued (FeedWriter.finish) and commits; leaving by an exception rolls back and lets it go on.
Either way the transaction ends, and with it the lock (on SQLite the write turn is released
when the connection goes back to the pool, see server.storage.database.configure_engine).

`commit()` and `discard()` end the unit early, for a caller that has more to do after it
but nothing more to write (render a response outside the lock, a dry run that writes
nothing). Nothing the session does after that belongs to the unit.

The unit must open the transaction (begin_write refuses otherwise): a request that has
read first passes `end_read=True`, which rolls that read back.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from types import TracebackType
from typing import Self, TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, scoped_session

from server.errors import is_write_conflict
from server.storage.database import begin_write
from server.sync.feed import FeedWriter

AnySession = Session | scoped_session[Session]
T = TypeVar("T")


class WriteUnit:
    """A unit of work that writes outside the feed (on SQLite under the write lock)."""

    lock_feed = False

    def __init__(self, session: AnySession, *, end_read: bool = False):
        # Flask-SQLAlchemy's db.session is a scoped_session: work on the session it scopes.
        self.session: Session = session() if isinstance(session, scoped_session) else session
        self.end_read = end_read
        self.is_open = False
        self.committed = False

    def __enter__(self) -> Self:
        if self.end_read:
            self.session.rollback()
        self.begun(begin_write(self.session, lock_feed=self.lock_feed))
        self.is_open = True
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is None:
            if self.is_open:
                self.commit()
        else:
            self.is_open = False
            self.session.rollback()

    def begun(self, last_seq: int) -> None:
        """Writing has begun; `last_seq` is the last sequence number (SQLite's feed units;
        else 0)."""

    def write_queued(self) -> None:
        """Write what was kept for the end of the unit, just before the commit."""

    def commit(self) -> None:
        """Write out and commit now; on failure roll back and raise."""
        if not self.is_open:
            raise RuntimeError("the unit of work has ended")
        self.is_open = False
        try:
            self.write_queued()
            self.session.commit()
            self.committed = True
        except BaseException:
            self.session.rollback()
            raise

    def discard(self) -> None:
        """Roll back now: nothing of the unit is written (a dry run, a refusal)."""
        self.is_open = False
        self.session.rollback()


class FeedWriteUnit(WriteUnit):
    """A unit of work that publishes in the feed: `writer` numbers the changes."""

    lock_feed = True
    writer: FeedWriter

    def begun(self, last_seq: int) -> None:
        self.writer = FeedWriter(self.session, last_seq)

    def write_queued(self) -> None:
        self.writer.finish()


def write_unit(session: AnySession, *, end_read: bool = False) -> WriteUnit:
    """A unit of work that writes outside the feed (sessions, devices, job bookkeeping)."""
    return WriteUnit(session, end_read=end_read)


def feed_write_unit(session: AnySession, *, end_read: bool = False) -> FeedWriteUnit:
    """A unit of work that publishes in the feed through `unit.writer`."""
    return FeedWriteUnit(session, end_read=end_read)


# A writer that lost to a concurrent one runs again, after a random pause of up to
# CONFLICT_PAUSE_S doubled at each attempt, at most CONFLICT_PAUSE_MAX_S (so that losers do
# not meet again at once): at most about a second of pauses in all.
WRITE_ATTEMPTS = 8
CONFLICT_PAUSE_S = 0.01
CONFLICT_PAUSE_MAX_S = 0.2


def rerun_on_conflict(session: AnySession, write: Callable[[FeedWriteUnit], T]) -> T:
    """`write(unit)` in a feed unit of work; again, in a new one, when a concurrent writer
    won (PostgreSQL's feed writers are concurrent: two writers of one record, two pushes of
    one mutation, two new case numbers of one town). Every attempt starts from nothing (the
    unit rolled back whole) and sees what the winner committed, so a push is applied once
    whatever the attempt. Past WRITE_ATTEMPTS the conflict propagates (503: send again).
    On SQLite, one writer at a time, there is never such a conflict."""
    for attempt in range(1, WRITE_ATTEMPTS + 1):
        unit = feed_write_unit(session, end_read=True)
        try:
            with unit:
                return write(unit)
        except DBAPIError as error:
            if unit.committed or attempt == WRITE_ATTEMPTS or not is_write_conflict(error):
                raise
        time.sleep(random.uniform(0, min(CONFLICT_PAUSE_S * 2**attempt, CONFLICT_PAUSE_MAX_S)))
    raise AssertionError("unreachable")
