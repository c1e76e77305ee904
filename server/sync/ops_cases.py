"""Case intents, re-executed on the server's current state: create, update, transition,
assign, and timeline events."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select

from server.domain.errors import RuleViolation
from server.domain.merge import MergeResult, fields_changed_by_others, merge_fields
from server.domain.visibility import NO_TOWNS, town_mask
from server.domain.workflow import (
    INITIAL_STATUS,
    TransitionDecision,
    decide_transition,
    due_at,
)
from server.fastpath.schema_dump import FastDump
from server.fastpath.schema_load import CANONICAL_UUID
from server.models import Case, CaseEvent, Change, MergeConflict, User
from server.models.base import new_id, table_of, utcnow
from server.schemas.cases import (
    CaseAssignSchema,
    CaseCreateSchema,
    CaseDataSchema,
    CaseEventCreateSchema,
    CaseEventDataSchema,
    CaseTransitionSchema,
    CaseUpdateSchema,
    ConflictDataSchema,
)
from server.sync.case_numbers import next_case_number
from server.sync.ops import (
    STAFF,
    ApplyContext,
    BatchState,
    CaseBatch,
    CheckContext,
    OpResult,
    OpSpec,
    Reader,
)

CASE = table_of(Case)
EVENT = table_of(CaseEvent)
CONFLICTS = table_of(MergeConflict)
# Schemas are built once: building one costs more than loading a record with it.
CASE_CREATE = CaseCreateSchema()
CASE_UPDATE = CaseUpdateSchema()
CASE_TRANSITION = CaseTransitionSchema()
CASE_ASSIGN = CaseAssignSchema()
EVENT_CREATE = CaseEventCreateSchema()
CASE_DATA = FastDump(CaseDataSchema())
EVENT_DATA = FastDump(CaseEventDataSchema())
CONFLICT_DATA = FastDump(ConflictDataSchema())
UPDATE_CASE = CASE.update().where(CASE.c.id == bindparam("b_id"))


def load_case(read: Reader, case_id: str) -> dict[str, Any] | None:
    row = read.execute(select(CASE).where(CASE.c.id == case_id)).mappings().first()
    return dict(row) if row else None


# The ops whose record is an existing case, and the one that names it in its payload.
CASE_RECORD_OPS = frozenset({"case.update", "case.transition", "case.assign"})


def prefetch_cases(read: Reader, batch: BatchState, mutations: list[Any]) -> None:
    """Read the cases a batch's intents name, their history and open conflicts, one query
    per table for the whole batch: read per intent, an update of 100 cases ran 300
    statements before writing anything. The raw intents are not validated yet, so only
    well-formed ids are looked up; an intent naming anything else reads for itself."""
    ids: set[str] = set()
    bases: list[int] = []
    for raw in mutations:
        if not isinstance(raw, dict):
            continue
        op, record_id, data = raw.get("op"), raw.get("record_id"), raw.get("data")
        if op in CASE_RECORD_OPS:
            named = record_id
            base = raw.get("base_version")
            if op == "case.update" and type(base) is int:
                bases.append(base)
        elif op == "case_event.create" and isinstance(data, dict):
            named = data.get("case_id")
        else:
            continue
        if isinstance(named, str) and CANONICAL_UUID.fullmatch(named):
            ids.add(named)
    if not ids:
        return
    chosen = sorted(ids)
    rows = {
        row["id"]: dict(row)
        for row in read.execute(select(CASE).where(CASE.c.id.in_(chosen))).mappings()
    }
    above = min(bases, default=0)
    history: dict[str, list[tuple[int, str | None, str | None, list[str]]]] = {i: [] for i in rows}
    if bases and rows:
        for record_id, version, device_id, user_id, changed in read.execute(
            select(
                Change.record_id, Change.version, Change.device_id, Change.user_id, Change.fields
            ).where(
                Change.entity == "case", Change.record_id.in_(sorted(rows)), Change.version > above
            )
        ):
            history[record_id].append((version, device_id, user_id, changed))
    conflicts: dict[str, list[dict[str, Any]]] = {i: [] for i in rows}
    if rows:
        for row in read.execute(
            select(CONFLICTS).where(
                CONFLICTS.c.entity == "case",
                CONFLICTS.c.record_id.in_(sorted(rows)),
                CONFLICTS.c.status == "open",
            )
        ).mappings():
            conflicts[row["record_id"]].append(dict(row))
    batch.cases = CaseBatch(rows, above if bases else 0, history, conflicts)


def visible_case(ctx: CheckContext, case_id: str) -> dict[str, Any]:
    """:raises RuleViolation: not_found (or depends_on_rejected) unless the caller sees it."""
    ctx.check_not_rejected(case_id)
    cases = ctx.batch.cases
    if cases is not None and case_id in cases.rows:
        row: dict[str, Any] | None = dict(cases.rows[case_id])
    else:
        row = load_case(ctx.read, case_id)
    if row is None or not ctx.caller.scope.sees(row["town_mask"]):
        raise ctx.missing(case_id)
    return row


def check_codes(ctx: CheckContext, data: dict[str, Any], primary: str) -> None:
    """Category and towns must exist; involved towns must not repeat or name the primary."""
    errors: dict[str, list[str]] = {}
    if "category" in data and data["category"] not in ctx.ref.categories:
        errors["category"] = [f"Unknown code: {data['category']}."]
    if primary not in ctx.ref.town_bits:
        errors["primary_town"] = [f"Unknown code: {primary}."]
    involved = data.get("involved_towns") or []
    unknown = [code for code in involved if code not in ctx.ref.town_bits]
    if unknown:
        errors["involved_towns"] = [f"Unknown code: {', '.join(unknown)}."]
    elif primary in involved:
        errors["involved_towns"] = ["Must not repeat the primary town."]
    elif len(set(involved)) != len(involved):
        errors["involved_towns"] = ["Codes must not repeat."]
    if errors:
        raise RuleViolation("validation_failed", errors)


def publish_case(
    ctx: ApplyContext, row: dict[str, Any], action: str, changed: set[str], is_new: bool
) -> None:
    data = CASE_DATA(row)
    ctx.writer.publish(
        "case",
        row["id"],
        row["version"],
        row["town_mask"],
        data,
        author=ctx.author,
        action=action,
        changed={k: data[k] for k in changed},
        is_new=is_new,
    )


def add_event(ctx: ApplyContext, case: dict[str, Any], event: dict[str, Any], action: str) -> None:
    """Append a timeline entry, visible wherever its case is."""
    if ctx.writer.concurrent:
        # PostgreSQL's feed writers are concurrent (REPEATABLE READ), and only a row both
        # write makes one of two writers fail. Writing the case row (unchanged) makes a
        # writer that moves the case, and re-masks the entries it sees (rescope_case),
        # conflict with this one: the new entry never keeps a mask its case no longer has.
        ctx.conn.execute(
            CASE.update().where(CASE.c.id == case["id"]).values(version=CASE.c.version)
        )
    ctx.conn.execute(EVENT.insert(), event)
    data = EVENT_DATA(event)
    ctx.writer.publish(
        "case_event",
        event["id"],
        1,
        case["town_mask"],
        data,
        author=ctx.author,
        action=action,
        changed=data,
        is_new=True,
    )
    ctx.writer.set_photos(
        "case_event", event["id"], event.get("photos") or [], is_new=True, named_by=ctx.caller.scope
    )


def server_event(
    ctx: ApplyContext, case: dict[str, Any], kind: str, old: Any, new: Any, body: str
) -> None:
    event = {
        "id": new_id(),
        "case_id": case["id"],
        "kind": kind,
        "body": body,
        "at": utcnow(),
        "photos": [],
        "by": ctx.caller.user_id,
        "from_value": old,
        "to_value": new,
        "created_at": utcnow(),
    }
    add_event(ctx, case, event, action=kind)


def save_case(
    ctx: ApplyContext, row: dict[str, Any], changes: dict[str, Any], action: str
) -> dict[str, Any]:
    """Write changed columns, bump the version and publish; returns the new row."""
    new = {**row, **changes, "version": row["version"] + 1, "updated_at": utcnow()}
    columns = set(changes) | {"version", "updated_at"}
    ctx.conn.execute(UPDATE_CASE, {"b_id": row["id"], **{k: new[k] for k in columns}})
    if ctx.batch.cases is not None and row["id"] in ctx.batch.cases.rows:
        ctx.batch.cases.rows[row["id"]] = dict(new)
    publish_case(ctx, new, action, set(changes) & set(CASE_DATA.fields), is_new=False)
    return new


def check_case_create(ctx: CheckContext) -> dict[str, Any]:
    m, caller = ctx.mutation, ctx.caller
    data = CASE_CREATE.load(m.data)
    check_codes(ctx, data, data["primary_town"])
    if caller.role != "admin" and data["primary_town"] != caller.town:
        raise RuleViolation("forbidden", {"primary_town": [data["primary_town"]]})
    ctx.claim_new_id("case", m.record_id)
    return dict(data)


def apply_case_create(ctx: ApplyContext, data: dict[str, Any]) -> OpResult:
    m, caller = ctx.mutation, ctx.caller
    assert m is not None
    now = utcnow()
    towns = [data["primary_town"], *data["involved_towns"]]
    row = {
        **data,
        "id": m.record_id,
        "number": take_case_number(ctx, data["primary_town"], now),
        "reported_at": data["reported_at"] or m.client_time or now,
        "status": INITIAL_STATUS,
        "assignee": None,
        "due_at": due_at(now, data["severity"]),
        "reported_by": caller.user_id,
        "created_at": now,
        "updated_at": now,
        "is_cross_town": len(towns) > 1,
        "town_mask": town_mask(towns, ctx.ref.town_bits),
        "version": 1,
    }
    ctx.writer.insert(CASE, row)  # with the batch's other new cases, when push buffers them
    publish_case(ctx, row, "case.create", set(CASE_DATA.fields), is_new=True)
    ctx.writer.set_photos("case", row["id"], row["photos"], is_new=True, named_by=ctx.caller.scope)
    return OpResult("applied", 1)


def take_case_number(ctx: ApplyContext, town: str, at: datetime) -> str:
    abbr = ctx.ref.town_abbr[town]
    if ctx.batch.numbers is not None:
        return ctx.batch.numbers.take(ctx.conn, town, abbr, at)
    return next_case_number(ctx.conn, abbr, at)


def creates_by_town(mutations: list[Any]) -> dict[str, int]:
    """How many of a batch's (not yet validated) intents create a case in each town."""
    wanted: dict[str, int] = {}
    for raw in mutations:
        if isinstance(raw, dict) and raw.get("op") == "case.create":
            data = raw.get("data")
            town = data.get("primary_town") if isinstance(data, dict) else None
            if isinstance(town, str):
                wanted[town] = wanted.get(town, 0) + 1
    return wanted


@dataclass(frozen=True)
class CaseEdit:
    row: dict[str, Any]
    merge: MergeResult
    # For each field set aside: who wrote the value kept, and when (None: not found).
    kept_by: dict[str, tuple[str | None, datetime | None]] = field(default_factory=dict)


def check_case_update(ctx: CheckContext) -> CaseEdit:
    m = ctx.mutation
    if m.base_version is None:
        raise RuleViolation(
            "validation_failed", {"base_version": ["Missing data for required field."]}
        )
    incoming = CASE_UPDATE.load(m.data)
    if not incoming:
        raise RuleViolation("validation_failed", {"data": ["At least one field must change."]})
    row = visible_case(ctx, m.record_id)
    check_codes(ctx, incoming, row["primary_town"])
    if m.base_version > row["version"]:
        raise RuleViolation(
            "validation_failed",
            {"base_version": [f"Ahead of the server's version {row['version']}."]},
        )
    # Rule 4: fields written after base_version by another device (or the console) are contested.
    # "This device" is this device of this person: another user's change never counts as own.
    history = case_history(ctx, row["id"], m.base_version)
    own_user = ctx.caller.user_id
    contested = fields_changed_by_others(
        [(d if u == own_user else None, set(f)) for d, u, f in history], ctx.caller.device_id
    )
    merge = merge_fields({k: row[k] for k in incoming}, incoming, contested)
    lost = {c.field for c in merge.conflicts}
    return CaseEdit(row, merge, kept_authors(ctx, row["id"], m.base_version, lost))


def kept_authors(
    ctx: CheckContext, case_id: str, base_version: int, names: set[str]
) -> dict[str, tuple[str | None, datetime | None]]:
    """Who last wrote each of `names` after `base_version`, and when: the author of the value
    a merge keeps. Read only when a merge sets something aside, so a plain edit pays nothing."""
    if not names:
        return {}
    found: dict[str, tuple[str | None, datetime | None]] = {}
    rows = ctx.read.execute(
        select(Change.user_id, Change.at, Change.fields)
        .where(Change.entity == "case", Change.record_id == case_id, Change.version > base_version)
        .order_by(Change.version.desc())
    )
    for user_id, at, changed in rows:
        for name in names - set(found):
            if name in (changed or {}):
                found[name] = (user_id, at)
    return found


def case_history(
    ctx: CheckContext, case_id: str, base_version: int
) -> list[tuple[str | None, str | None, list[str]]]:
    """Who changed which fields of a case after `base_version`: (device, user, fields)."""
    cases = ctx.batch.cases
    if cases is not None and case_id in cases.history and base_version >= cases.history_above:
        return [(d, u, f) for v, d, u, f in cases.history[case_id] if v > base_version]
    rows = ctx.read.execute(
        select(Change.device_id, Change.user_id, Change.fields).where(
            Change.entity == "case", Change.record_id == case_id, Change.version > base_version
        )
    )
    return [(d, u, f) for d, u, f in rows]


def apply_case_update(ctx: ApplyContext, edit: CaseEdit) -> OpResult:
    m, row, merge = ctx.mutation, edit.row, edit.merge
    assert m is not None and m.base_version is not None
    version = row["version"]
    if merge.apply:
        version = apply_case_changes(ctx, row, merge.apply)["version"]
        resolve_own_conflicts(ctx, row["id"], set(merge.apply))
    conflicts = [
        record_conflict(
            ctx, row["id"], c.field, c.kept, c.incoming, edit.kept_by.get(c.field, (None, None))
        )
        for c in merge.conflicts
    ]
    status = "applied" if m.base_version == row["version"] else "merged"
    return OpResult(status, version, conflicts)


def apply_case_changes(
    ctx: ApplyContext, row: dict[str, Any], changes: dict[str, Any], action: str = "case.update"
) -> dict[str, Any]:
    """Derived fields follow the edited ones: visibility, cross-town flag, due date."""
    changes = dict(changes)
    if "involved_towns" in changes or "primary_town" in changes:
        primary = changes.get("primary_town", row["primary_town"])
        towns = [primary, *changes.get("involved_towns", row["involved_towns"])]
        changes["town_mask"] = town_mask(towns, ctx.ref.town_bits)
        changes["is_cross_town"] = len(towns) > 1
    if "severity" in changes:
        changes["due_at"] = due_at(row["created_at"], changes["severity"])
    new = save_case(ctx, row, changes, action)
    if "photos" in changes:
        ctx.writer.set_photos(
            "case", row["id"], changes["photos"], is_new=False, named_by=ctx.caller.scope
        )
    if new["town_mask"] != row["town_mask"]:
        rescope_case(ctx, row["id"], row["town_mask"], new["town_mask"])
    return new


def rescope_case(ctx: ApplyContext, case_id: str, old_mask: int, new_mask: int) -> None:
    """The case's timeline follows its visibility; towns that lost it are told to drop both."""
    lost = old_mask & ~new_mask
    ctx.writer.revoke("case", case_id, lost)
    event_ids = ctx.session.scalars(select(EVENT.c.id).where(EVENT.c.case_id == case_id)).all()
    for event_id in event_ids:
        ctx.writer.rescope("case_event", event_id, new_mask, lost)


def record_conflict(
    ctx: ApplyContext,
    record_id: str,
    field: str,
    kept: Any,
    incoming: Any,
    kept_by: tuple[str | None, datetime | None] = (None, None),
) -> dict[str, Any]:
    """Rule 4: the value that lost is kept as a conflict, visible to its author, with who made
    the value kept and when (so the author's phone can say it in words)."""
    conflict = {
        "id": new_id(),
        "entity": "case",
        "record_id": record_id,
        "field": field,
        "kept": kept,
        "incoming": incoming,
        "by": ctx.caller.user_id,
        "device_id": ctx.caller.device_id,
        "mutation_id": ctx.mutation.mutation_id if ctx.mutation else None,
        "at": utcnow(),
        "kept_by": kept_by[0],
        "kept_at": kept_by[1],
        "status": "open",
        "resolution": None,
        "resolved_by": None,
        "resolved_at": None,
    }
    ctx.conn.execute(CONFLICTS.insert(), conflict)
    if ctx.batch.cases is not None and record_id in ctx.batch.cases.open_conflicts:
        ctx.batch.cases.open_conflicts[record_id].append(conflict)
    data = CONFLICT_DATA(conflict)
    ctx.writer.publish(
        "conflict",
        conflict["id"],
        1,
        NO_TOWNS,
        data,
        author=ctx.author,
        action="conflict.create",
        changed=data,
        is_new=True,
        owner_id=ctx.caller.user_id,
    )
    return {"field": field, "kept": kept, "incoming": incoming, "conflict_id": conflict["id"]}


def resolve_own_conflicts(ctx: ApplyContext, record_id: str, fields: set[str]) -> None:
    """The author's value of a field has now been applied: their open conflicts on it are
    settled (the PWA's "resubmit my value"), and their phones see it in the feed."""
    cases = ctx.batch.cases
    if cases is not None and record_id in cases.open_conflicts:
        mine = [
            row
            for row in cases.open_conflicts[record_id]
            if row["field"] in fields and row["by"] == ctx.caller.user_id
        ]
        for kept in mine:
            settle_conflict(ctx, dict(kept), "resubmitted")
        return
    rows = (
        ctx.session.execute(
            select(CONFLICTS).where(
                CONFLICTS.c.entity == "case",
                CONFLICTS.c.record_id == record_id,
                CONFLICTS.c.field.in_(fields),
                CONFLICTS.c.by == ctx.caller.user_id,
                CONFLICTS.c.status == "open",
            )
        )
        .mappings()
        .all()
    )
    for row in rows:
        settle_conflict(ctx, dict(row), "resubmitted")


def settle_conflict(ctx: ApplyContext, row: dict[str, Any], resolution: str) -> None:
    """Mark a conflict resolved and tell its author's phones how (version 2 in the feed)."""
    now = utcnow()
    settled = {
        **row,
        "status": "resolved",
        "resolution": resolution,
        "resolved_by": ctx.caller.user_id,
        "resolved_at": now,
    }
    ctx.conn.execute(
        CONFLICTS.update()
        .where(CONFLICTS.c.id == row["id"])
        .values(
            status="resolved",
            resolution=resolution,
            resolved_by=ctx.caller.user_id,
            resolved_at=now,
        )
    )
    cases = ctx.batch.cases
    if cases is not None and row["record_id"] in cases.open_conflicts:
        still_open = cases.open_conflicts[row["record_id"]]
        still_open[:] = [kept for kept in still_open if kept["id"] != row["id"]]
    data = CONFLICT_DATA(settled)
    ctx.writer.publish(
        "conflict",
        row["id"],
        2,
        NO_TOWNS,
        data,
        author=ctx.author,
        action="conflict.resolve",
        changed={"status": "resolved", "resolution": resolution},
        is_new=False,
        owner_id=row["by"],
    )


@dataclass(frozen=True)
class Move:
    row: dict[str, Any]
    decision: TransitionDecision
    to_status: str
    note: str


def check_case_transition(ctx: CheckContext) -> Move:
    data = CASE_TRANSITION.load(ctx.mutation.data)
    row = visible_case(ctx, ctx.mutation.record_id)
    decision = decide_transition(
        row["status"], data["from_status"], data["to_status"], ctx.caller.role
    )
    return Move(row, decision, data["to_status"], data["note"])


def apply_case_transition(ctx: ApplyContext, move: Move) -> OpResult:
    row = move.row
    if not move.decision.changes:
        return OpResult("applied", row["version"])
    new = save_case(ctx, row, {"status": move.to_status}, "case.transition")
    server_event(ctx, new, move.decision.event_kind, row["status"], move.to_status, move.note)
    return OpResult("applied", new["version"])


def check_case_assign(ctx: CheckContext) -> tuple[dict[str, Any], str | None]:
    assignee = CASE_ASSIGN.load(ctx.mutation.data)["assignee"]
    row = visible_case(ctx, ctx.mutation.record_id)
    if assignee is not None and assignee != row["assignee"]:
        check_assignee(ctx, row, assignee)
    return row, assignee


def apply_case_assign(ctx: ApplyContext, plan: tuple[dict[str, Any], str | None]) -> OpResult:
    row, assignee = plan
    if assignee == row["assignee"]:
        return OpResult("applied", row["version"])
    new = save_case(ctx, row, {"assignee": assignee}, "case.assign")
    server_event(ctx, new, "assignment", row["assignee"], assignee, "")
    return OpResult("applied", new["version"])


def check_assignee(ctx: CheckContext, case: dict[str, Any], user_id: str) -> None:
    user = ctx.read.get(User, user_id)
    towns = {case["primary_town"], *case["involved_towns"]}
    if (
        user is None
        or not user.is_active
        or user.role not in ("worker", "supervisor")
        or user.town_code not in towns
    ):
        raise RuleViolation("invalid_assignee", {"assignee": [user_id]})


def check_case_event_create(ctx: CheckContext) -> tuple[dict[str, Any], dict[str, Any]]:
    data = EVENT_CREATE.load(ctx.mutation.data)
    case = visible_case(ctx, data["case_id"])
    ctx.claim_new_id("case_event", ctx.mutation.record_id)
    return case, data


def apply_case_event_create(
    ctx: ApplyContext, plan: tuple[dict[str, Any], dict[str, Any]]
) -> OpResult:
    case, data = plan
    assert ctx.mutation is not None
    event = {
        **data,
        "id": ctx.mutation.record_id,
        "by": ctx.caller.user_id,
        "from_value": None,
        "to_value": None,
        "created_at": utcnow(),
    }
    add_event(ctx, case, event, action="case_event.create")
    return OpResult("applied", 1)


OPS = (
    # A new case reads nothing an earlier new case of the batch holds (its number comes
    # from its town's year's counter row), so its row may wait for the batch's end.
    OpSpec(
        "case.create",
        "case",
        CaseCreateSchema,
        check_case_create,
        apply_case_create,
        table=CASE,
        buffered=True,
    ),
    OpSpec("case.update", "case", CaseUpdateSchema, check_case_update, apply_case_update),
    OpSpec(
        "case.transition",
        "case",
        CaseTransitionSchema,
        check_case_transition,
        apply_case_transition,
    ),
    OpSpec(
        "case.assign", "case", CaseAssignSchema, check_case_assign, apply_case_assign, roles=STAFF
    ),
    OpSpec(
        "case_event.create",
        "case_event",
        CaseEventCreateSchema,
        check_case_event_create,
        apply_case_event_create,
        table=EVENT,
    ),
)
