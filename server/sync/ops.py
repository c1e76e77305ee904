"""What every op handler gets and returns, and the registry that dispatches ops by name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from server.domain.errors import RuleViolation
from server.models import Site
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
class BatchState:
    """What one push learns once and every intent in it shares."""

    rejected_creates: set[str] = field(default_factory=set)
    existing_ids: set[tuple[str, str]] = field(default_factory=set)  # (entity, id) taken
    case_numbers: dict[str, int] = field(default_factory=dict)  # prefix -> last number
    sites: dict[str, Site] | None = None

    def site(self, session: Session, site_id: str) -> Site | None:
        if self.sites is None:
            self.sites = {site.id: site for site in session.scalars(select(Site))}
        return self.sites.get(site_id)


@dataclass
class OpContext:
    session: Session
    writer: FeedWriter
    ref: RefData
    caller: Caller
    mutation: Mutation | None  # None for a job's own changes
    batch: BatchState
    claimed: list[tuple[str, str]] = field(default_factory=list)

    @property
    def author(self) -> Author:
        mutation_id = self.mutation.mutation_id if self.mutation else None
        return Author(self.caller.user_id, self.caller.device_id, mutation_id)

    @property
    def conn(self) -> Connection:
        """Writes go through Core on the session's connection: no ORM flush per row."""
        return self.session.connection()

    def missing(self, record_id: str) -> RuleViolation:
        """Rule 1: a record whose create was rejected, or one that never existed."""
        if record_id in self.batch.rejected_creates:
            return RuleViolation("depends_on_rejected", {"record_id": record_id})
        return RuleViolation("not_found", {"record_id": record_id})

    def check_not_rejected(self, record_id: str) -> None:
        if record_id in self.batch.rejected_creates:
            raise RuleViolation("depends_on_rejected", {"record_id": record_id})

    def claim_new_id(self, entity: str, record_id: str) -> None:
        """:raises RuleViolation: record_exists when the id is taken."""
        if (entity, record_id) in self.batch.existing_ids:
            raise RuleViolation("record_exists", {"record_id": record_id})
        self.batch.existing_ids.add((entity, record_id))
        self.claimed.append((entity, record_id))


# A handler validates and refuses (ValidationError, RuleViolation) before its first write:
# push runs a batch without a savepoint per intent and relies on it (server.sync.push).
Handler = Callable[[OpContext], OpResult]
HANDLERS: dict[str, Handler] = {}


def handles(op: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        HANDLERS[op] = handler
        return handler

    return register


def handler_for(op: str) -> Handler:
    """Unknown ops never reach here: the envelope schema refuses them. The console's own
    ops (handoffs, conflict resolution) are registered here too but are not pushable."""
    from server.sync import (  # noqa: F401  (registers the handlers)
        ops_cases,
        ops_checkins,
        ops_conflicts,
        ops_handoffs,
    )

    return HANDLERS[op]
