"""Console intents for cross-town handoff: request, then accept, decline or cancel."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from server.domain.errors import RuleViolation
from server.domain.handoff import PENDING, Towns, check_decision, check_request, towns_after_handoff
from server.models import CaseHandoff
from server.models.base import table_of, utcnow
from server.schemas.console import HandoffDecisionSchema, HandoffRequestSchema
from server.sync.ops import STAFF, ApplyContext, CheckContext, OpResult, OpSpec
from server.sync.ops_cases import (
    apply_case_changes,
    check_codes,
    load_case,
    server_event,
    visible_case,
)

HANDOFFS = table_of(CaseHandoff)
HANDOFF_REQUEST = HandoffRequestSchema()
HANDOFF_DECISION = HandoffDecisionSchema()
EVENT_KINDS = {
    "accepted": "handoff",
    "declined": "handoff_decline",
    "cancelled": "handoff_cancel",
}


def pending_handoff(ctx: CheckContext, case_id: str) -> dict[str, Any] | None:
    row = (
        ctx.read.execute(
            select(HANDOFFS).where(HANDOFFS.c.case_id == case_id, HANDOFFS.c.status == PENDING)
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


@dataclass(frozen=True)
class Request:
    case: dict[str, Any]
    lead: str
    to_town: str
    reason: str


def check_handoff_request(ctx: CheckContext) -> Request:
    """Both towns see the case in their queues until the receiving town decides."""
    data = HANDOFF_REQUEST.load(ctx.mutation.data)
    case = visible_case(ctx, ctx.mutation.record_id)
    check_codes(ctx, {"involved_towns": [data["to_town"]]}, case["primary_town"])
    towns = Towns(case["primary_town"], tuple(case["involved_towns"]))
    caller = ctx.caller
    check_request(
        case["status"],
        towns,
        data["to_town"],
        caller.role,
        caller.town,
        pending_handoff(ctx, case["id"]) is not None,
    )
    return Request(case, towns.lead, data["to_town"], data["reason"])


def apply_handoff_request(ctx: ApplyContext, plan: Request) -> OpResult:
    assert ctx.mutation is not None
    ctx.conn.execute(
        HANDOFFS.insert(),
        {
            "id": ctx.mutation.mutation_id,
            "case_id": plan.case["id"],
            "from_town": plan.lead,
            "to_town": plan.to_town,
            "reason": plan.reason,
            "status": PENDING,
            "requested_by": ctx.caller.user_id,
            "requested_at": utcnow(),
            "decision_note": "",
        },
    )
    server_event(ctx, plan.case, "handoff_request", plan.lead, plan.to_town, plan.reason)
    return OpResult("applied", plan.case["version"])


@dataclass(frozen=True)
class Decision:
    handoff: dict[str, Any]
    case: dict[str, Any]
    decision: str
    note: str
    after: Towns | None  # the case's towns once an accepted handoff moves the lead


def check_handoff_decision(ctx: CheckContext) -> Decision:
    data = HANDOFF_DECISION.load(ctx.mutation.data)
    row = (
        ctx.read.execute(select(HANDOFFS).where(HANDOFFS.c.id == ctx.mutation.record_id))
        .mappings()
        .first()
    )
    caller = ctx.caller
    if row is None or (
        caller.role != "admin" and caller.town not in (row["from_town"], row["to_town"])
    ):
        raise RuleViolation("not_found", {"record_id": ctx.mutation.record_id})
    case = load_case(ctx.read, row["case_id"])
    if case is None:
        raise RuleViolation("not_found", {"record_id": row["case_id"]})
    check_decision(
        row["status"],
        data["decision"],
        row["from_town"],
        row["to_town"],
        caller.role,
        caller.town,
        data["note"],
        case["status"],
    )
    after = None
    if data["decision"] == "accepted":
        if case["primary_town"] != row["from_town"]:
            raise RuleViolation("invalid_handoff", {"lead": case["primary_town"]})
        towns = Towns(case["primary_town"], tuple(case["involved_towns"]))
        after = towns_after_handoff(towns, row["to_town"])
    return Decision(dict(row), case, data["decision"], data["note"], after)


def apply_handoff_decision(ctx: ApplyContext, plan: Decision) -> OpResult:
    handoff, case = plan.handoff, plan.case
    ctx.conn.execute(
        HANDOFFS.update()
        .where(HANDOFFS.c.id == handoff["id"])
        .values(
            status=plan.decision,
            decided_by=ctx.caller.user_id,
            decided_at=utcnow(),
            decision_note=plan.note,
        )
    )
    if plan.after is not None:
        case = apply_case_changes(
            ctx,
            case,
            {"primary_town": plan.after.lead, "involved_towns": list(plan.after.co_handling)},
            action="case.handoff",
        )
    kind = EVENT_KINDS[plan.decision]
    server_event(ctx, case, kind, handoff["from_town"], handoff["to_town"], plan.note)
    return OpResult("applied", case["version"])


OPS = (
    OpSpec(
        "case.handoff_request",
        "case",
        HandoffRequestSchema,
        check_handoff_request,
        apply_handoff_request,
        roles=STAFF,
        pushable=False,
    ),
    OpSpec(
        "case.handoff_decide",
        "case_handoff",
        HandoffDecisionSchema,
        check_handoff_decision,
        apply_handoff_decision,
        roles=STAFF,
        pushable=False,
    ),
)
