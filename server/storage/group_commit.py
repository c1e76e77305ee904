"""Group commit: the requests of one process that wait for the write turn go in together.

SQLite has one writer, and each of its transactions ends in an fsync. A request that finds
the write turn taken waits here instead of queueing for a turn and an fsync of its own: the
first waiter becomes the leader, takes every request waiting at that moment (its own first),
writes them all in one transaction and wakes each with its own outcome. Whoever arrives
meanwhile waits for the next leader, which is one of them.

The leader's `write` decides what a failure touches (server.web.api.push_group: one request's
failure is its own, a failure of the transaction is everyone's); what it raises becomes the
outcome of every request of the group that it did not settle. A request returns only once
its group's transaction has ended, so an acknowledged write is a committed one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

Work = TypeVar("Work")

# A follower waits in slices, so that a lost wake-up costs at most a slice, never forever.
WAIT_SLICE_S = 1.0
GROUP_HANG_S = 120.0


class GroupWaitTimeout(Exception):
    """No leader took the request within the wait limit; nothing of it was written."""


class Ticket(Generic[Work]):
    """One request's work and, once its group ended, its outcome."""

    def __init__(self, work: Work):
        self.work = work
        self.group_size = 0  # how many requests its group wrote together
        self.done = False
        self.result: Any = None
        self.error: BaseException | None = None

    def settle(self, result: Any = None, error: BaseException | None = None) -> None:
        self.result, self.error, self.done = result, error, True

    def outcome(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.result


class GroupCommit(Generic[Work]):
    """`submit(work)` returns the result `write` settled for it, or raises its error.

    `write(tickets)` runs in the leader's thread with the tickets of one group; it settles
    each ticket (after its commit, for those that wrote) or raises.
    """

    def __init__(
        self, write: Callable[[list[Ticket[Work]]], None], *, max_group: int, wait_s: float
    ):
        self.write = write
        self.max_group = max_group
        self.wait_s = wait_s
        self._changed = threading.Condition()
        self._waiting: list[Ticket[Work]] = []
        self._leading = False
        self.groups = 0  # how many groups this process wrote, and how many requests in them
        self.grouped = 0

    def waiting(self) -> int:
        """How many requests wait for a leader to take them."""
        with self._changed:
            return len(self._waiting)

    def submit(self, work: Work) -> Any:
        """:raises GroupWaitTimeout: not taken into a group within `wait_s`."""
        return self.submit_ticket(Ticket(work))

    def submit_ticket(self, ticket: Ticket[Work]) -> Any:
        """`submit`, for a caller that reads the ticket afterwards (its group's size)."""
        group = self._wait_or_lead(ticket)
        if group is None:
            return ticket.outcome()
        failure: BaseException = RuntimeError("the group ended without its result")
        try:
            self.write(group)
        except BaseException as error:
            failure = error
        finally:
            with self._changed:
                for unsettled in group:  # `write` raised, or forgot one
                    if not unsettled.done:
                        unsettled.settle(error=failure)
                self.groups += 1
                self.grouped += len(group)
                self._leading = False
                self._changed.notify_all()
        return ticket.outcome()

    def _wait_or_lead(self, ticket: Ticket[Work]) -> list[Ticket[Work]] | None:
        """The group to write when `ticket` leads one; None once another leader settled it."""
        deadline = time.monotonic() + self.wait_s
        # A ticket taken into a group waits for it past `deadline`, but not for ever: should a
        # leader hang, the request answers "try again", and the device's resend is replayed
        # from its receipt if the group did commit.
        last = deadline + GROUP_HANG_S
        with self._changed:
            self._waiting.append(ticket)
            while not ticket.done:
                if not self._leading and ticket in self._waiting:
                    self._leading = True
                    self._waiting.remove(ticket)
                    group = [ticket, *self._waiting[: self.max_group - 1]]
                    del self._waiting[: self.max_group - 1]
                    for member in group:
                        member.group_size = len(group)
                    return group
                left = deadline - time.monotonic()
                if left <= 0 and ticket in self._waiting:
                    self._waiting.remove(ticket)
                    raise GroupWaitTimeout
                if time.monotonic() > last:
                    raise GroupWaitTimeout
                self._changed.wait(min(WAIT_SLICE_S, max(left, 0.001)))
        return None
