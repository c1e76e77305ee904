"""What every op gets and returns: an intent is checked, then applied.

An op is two steps (declared together in server.sync.registry):
- its *check* reads (through a `Reader`, which runs SELECTs and nothing else) and raises
  every refusal (ValidationError, RuleViolation); it returns a plan;
- its *apply* gets the plan and a `FeedWriter`, writes, and never refuses.

So a refused intent has written nothing, by construction: push runs a whole batch in one
savepoint (server.sync.push) and the console needs none for a refusal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVarTuple

from marshmallow import Schema
from sqlalchemy import Connection, Engine, Result, Select, Table, event, select
from sqlalchemy.orm import Session

from server.domain.errors import RuleViolation
from server.models import FeedEntry, Site
from server.schemas.sync import ENTITIES as FED_ENTITIES
from server.sync.case_numbers import NumberBlocks
from server.sync.context import Caller, RefData
from server.sync.feed import Author, FeedWriter

Columns = TypeVarTuple("Columns")
# Set on the connection while a check step runs; the guard below refuses any write then.
CHECKING = "fengling_checking"


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


class CheckWroteError(RuntimeError):
    """A check step tried to write: a server bug, never a refusal."""


class Reader:
    """A check step's only way into the database: SELECT statements and primary-key gets."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def execute(self, statement: Select[*Columns]) -> Result[*Columns]:
        if not isinstance(statement, Select):
            raise CheckWroteError(f"a check step may only read, not run {type(statement)}")
        return self._session.execute(statement)

    def get(self, model: type, ident: Any) -> Any:
        return self._session.get(model, ident)


@dataclass
class CaseBatch:
    """A batch's cases as they stand now, their audit history above the lowest base version
    the batch names, and their open conflicts: ids absent here are read from the database."""

    rows: dict[str, dict[str, Any]]
    history_above: int
    history: dict[str, list[tuple[int, str | None, str | None, list[str]]]]
    open_conflicts: dict[str, list[dict[str, Any]]]


@dataclass
class BatchState:
    """What one push learns once and every intent in it shares."""

    rejected_creates: set[str] = field(default_factory=set)
    existing_ids: set[tuple[str, str]] = field(default_factory=set)  # (entity, id) taken
    claimed_ids: set[tuple[str, str]] = field(default_factory=set)  # taken by this batch
    sites: dict[str, Site] | None = None
    # Read once for the whole batch by push's fast pass (server.sync.ops_cases.prefetch_cases),
    # kept current by the apply steps; None where each intent reads for itself (the careful
    # redo, whose savepoint rollbacks would leave these stale).
    cases: CaseBatch | None = None
    # Case numbers taken a block per town's year (the fast pass); None: one at a time.
    numbers: NumberBlocks | None = None

    def release(self, claimed: list[tuple[str, str]]) -> None:
        """A refused intent's new ids are free again."""
        self.existing_ids.difference_update(claimed)
        self.claimed_ids.difference_update(claimed)

    def site(self, read: Reader, site_id: str) -> Site | None:
        if self.sites is None:
            self.sites = {site.id: site for site in read.execute(select(Site)).scalars()}
        return self.sites.get(site_id)


@dataclass
class CheckContext:
    """What a check step sees: who asks, the intent, reference data and a `Reader`."""

    read: Reader
    ref: RefData
    caller: Caller
    mutation: Mutation
    batch: BatchState
    claimed: list[tuple[str, str]] = field(default_factory=list)

    def missing(self, record_id: str) -> RuleViolation:
        """Rule 1: a record whose create was rejected, or one that never existed."""
        if record_id in self.batch.rejected_creates:
            return RuleViolation("depends_on_rejected", {"record_id": record_id})
        return RuleViolation("not_found", {"record_id": record_id})

    def check_not_rejected(self, record_id: str) -> None:
        if record_id in self.batch.rejected_creates:
            raise RuleViolation("depends_on_rejected", {"record_id": record_id})

    def claim_new_id(self, entity: str, record_id: str) -> None:
        """Reserve a new record's id for this batch (undone if the intent is refused).

        :raises RuleViolation: record_exists when the id is taken by a record the caller can
            see (or by an earlier intent of this batch); not_found when the record holding it
            is one the caller cannot see, so a create never tells that such a record exists.
        """
        key = (entity, record_id)
        if key in self.batch.existing_ids:
            if key in self.batch.claimed_ids or self.sees(entity, record_id):
                raise RuleViolation("record_exists", {"record_id": record_id})
            raise RuleViolation("not_found", {"record_id": record_id})
        self.batch.existing_ids.add(key)
        self.batch.claimed_ids.add(key)
        self.claimed.append(key)

    def sees(self, entity: str, record_id: str) -> bool:
        """Whether the caller's scope sees the record holding the id, by its feed row (its
        towns or owner); a record without one is not seen.

        The holder may be fed as another entity than the create names (a `memo.create` whose
        id a case event holds, both rows of one table), so every fed entity is looked at: a
        few seeks on the feed's primary key, never a scan."""
        rows = self.read.execute(
            select(FeedEntry.town_mask, FeedEntry.owner_id).where(
                FeedEntry.entity.in_(sorted({entity, *FED_ENTITIES})),
                FeedEntry.record_id == record_id,
            )
        )
        return any(self.caller.scope.sees(row.town_mask, row.owner_id) for row in rows)


@dataclass
class ApplyContext:
    """What an apply step gets: the session to write with and the feed writer."""

    session: Session
    writer: FeedWriter
    ref: RefData
    caller: Caller
    mutation: Mutation | None  # None for a job's own changes
    batch: BatchState

    @property
    def author(self) -> Author:
        mutation_id = self.mutation.mutation_id if self.mutation else None
        return Author(self.caller.user_id, self.caller.device_id, mutation_id)

    @property
    def conn(self) -> Connection:
        """Writes go through Core on the session's connection: no ORM flush per row."""
        return self.session.connection()


Check = Callable[[CheckContext], Any]
Apply = Callable[[ApplyContext, Any], OpResult]

EVERYONE = frozenset({"worker", "supervisor", "admin"})
STAFF = frozenset({"supervisor", "admin"})


@dataclass(frozen=True)
class OpSpec:
    """One op. `table` is where a creating op's new record goes (its id must be new);
    `buffered` lets push hold the new rows to the end of the batch: only for ops whose
    check and apply read nothing a buffered row of an earlier intent holds."""

    name: str
    entity: str
    payload: type[Schema]
    check: Check
    apply: Apply
    roles: frozenset[str] = EVERYONE
    pushable: bool = True  # False: only the console and jobs run it
    table: Table | None = None
    buffered: bool = False

    @property
    def creates(self) -> bool:
        return self.table is not None

    @property
    def schema_name(self) -> str:
        """Its payload's name in the OpenAPI document: case_event.create -> CaseEventCreate."""
        return "".join(w.capitalize() for w in self.name.replace(".", "_").split("_"))

    def check_role(self, ctx: CheckContext) -> None:
        """:raises RuleViolation: forbidden for a role the op is not for."""
        if ctx.caller.role not in self.roles:
            raise RuleViolation("forbidden", {"role": ctx.caller.role})


def run_check(spec: OpSpec, ctx: CheckContext, conn: Connection) -> Any:
    """The op's role check and its check step, with the write guard up on `conn`; returns
    the plan for its apply step.

    :raises ValidationError, RuleViolation: the intent is refused (nothing was written).
    """
    # The dict, not the connection: after a lost connection `conn.info` itself raises, and
    # that must not hide the error that the push turns into a 503.
    info = conn.info
    info[CHECKING] = True
    try:
        spec.check_role(ctx)
        return spec.check(ctx)
    finally:
        info[CHECKING] = False


def guard_check_steps(engine: Engine) -> None:
    """Refuse, at the driver, any statement but a read while a check step runs: the
    `Reader` keeps honest code from writing, this catches a way around it."""

    @event.listens_for(engine, "before_cursor_execute")
    def _refuse_writes(
        conn: Connection, _cursor: Any, statement: str, _params: Any, _context: Any, _many: bool
    ) -> None:
        if conn.info.get(CHECKING) and not statement.lstrip()[:6].upper() == "SELECT":
            raise CheckWroteError(f"a check step wrote: {statement[:80]}")
