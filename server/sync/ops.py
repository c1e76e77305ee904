"""What every op handler gets and returns, and the registry that dispatches ops by name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from server.domain.errors import RuleViolation
from server.sync.context import Caller, RefData
from server.sync.feed import Author, FeedWriter


@dataclass(frozen=True)
class Mutation:
    """A pushed intent whose envelope passed validation."""

    mutation_id: str
    op: str
    record_id: str
    data: dict[str, Any]
    client_time: datetime | None = None
    base_version: int | None = None


@dataclass(frozen=True)
class OpResult:
    status: str  # applied | merged
    version: int
    conflicts: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class OpContext:
    session: Session
    writer: FeedWriter
    ref: RefData
    caller: Caller
    mutation: Mutation
    rejected_creates: set[str]

    @property
    def author(self) -> Author:
        return Author(self.caller.user_id, self.caller.device_id, self.mutation.mutation_id)

    def missing(self, record_id: str) -> RuleViolation:
        """Rule 1: a record whose create was rejected, or one that never existed."""
        if record_id in self.rejected_creates:
            return RuleViolation("depends_on_rejected", {"record_id": record_id})
        return RuleViolation("not_found", {"record_id": record_id})

    def check_not_rejected(self, record_id: str) -> None:
        if record_id in self.rejected_creates:
            raise RuleViolation("depends_on_rejected", {"record_id": record_id})


Handler = Callable[[OpContext], OpResult]
HANDLERS: dict[str, Handler] = {}


def handles(op: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        HANDLERS[op] = handler
        return handler

    return register


def handler_for(op: str) -> Handler:
    """Unknown ops never reach here: the envelope schema refuses them."""
    from server.sync import ops_cases, ops_checkins  # noqa: F401  (registers the handlers)

    return HANDLERS[op]
