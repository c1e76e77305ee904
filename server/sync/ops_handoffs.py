"""Console intents for cross-town handoff: request, then accept, decline or cancel."""

from __future__ import annotations

from sqlalchemy import select

from server.domain.errors import RuleViolation
from server.domain.handoff import PENDING, Towns, check_decision, check_request, towns_after_handoff
from server.models import CaseHandoff
from server.models.base import utcnow
from server.schemas.console import HandoffDecisionSchema, HandoffRequestSchema
from server.sync.ops import OpContext, OpResult, handles
from server.sync.ops_cases import (
    apply_case_changes,
    check_codes,
    load_case,
    server_event,
    visible_case,
)

HANDOFFS = CaseHandoff.__table__
HANDOFF_REQUEST = HandoffRequestSchema()
HANDOFF_DECISION = HandoffDecisionSchema()
EVENT_KINDS = {
    "accepted": "handoff",
    "declined": "handoff_decline",
    "cancelled": "handoff_cancel",
}


def pending_handoff(ctx: OpContext, case_id: str) -> dict | None:
    row = (
        ctx.session.execute(
            select(HANDOFFS).where(HANDOFFS.c.case_id == case_id, HANDOFFS.c.status == PENDING)
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


@handles("case.handoff_request")
def apply_handoff_request(ctx: OpContext) -> OpResult:
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
    ctx.conn.execute(
        HANDOFFS.insert(),
        {
            "id": ctx.mutation.mutation_id,
            "case_id": case["id"],
            "from_town": towns.lead,
            "to_town": data["to_town"],
            "reason": data["reason"],
            "status": PENDING,
            "requested_by": caller.user_id,
            "requested_at": utcnow(),
            "decision_note": "",
        },
    )
    server_event(ctx, case, "handoff_request", towns.lead, data["to_town"], data["reason"])
    return OpResult("applied", case["version"])


@handles("case.handoff_decide")
def apply_handoff_decision(ctx: OpContext) -> OpResult:
    data = HANDOFF_DECISION.load(ctx.mutation.data)
    row = (
        ctx.session.execute(select(HANDOFFS).where(HANDOFFS.c.id == ctx.mutation.record_id))
        .mappings()
        .first()
    )
    caller = ctx.caller
    if row is None or (
        caller.role != "admin" and caller.town not in (row["from_town"], row["to_town"])
    ):
        raise RuleViolation("not_found", {"record_id": ctx.mutation.record_id})
    case = load_case(ctx.session, row["case_id"])
    assert case is not None
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
    ctx.conn.execute(
        HANDOFFS.update()
        .where(HANDOFFS.c.id == row["id"])
        .values(
            status=data["decision"],
            decided_by=caller.user_id,
            decided_at=utcnow(),
            decision_note=data["note"],
        )
    )
    kind = EVENT_KINDS[data["decision"]]
    if data["decision"] == "accepted":
        if case["primary_town"] != row["from_town"]:
            raise RuleViolation("invalid_handoff", {"lead": case["primary_town"]})
        after = towns_after_handoff(
            Towns(case["primary_town"], tuple(case["involved_towns"])), row["to_town"]
        )
        case = apply_case_changes(
            ctx,
            case,
            {"primary_town": after.lead, "involved_towns": list(after.co_handling)},
            action="case.handoff",
        )
    server_event(ctx, case, kind, row["from_town"], row["to_town"], data["note"])
    return OpResult("applied", case["version"])
