"""escalate-overdue: flag open cases past their due date and note it on their timeline."""

from __future__ import annotations

from sqlalchemy import select

from server.domain.workflow import OPEN_STATUSES
from server.extensions import db
from server.jobs.runner import JobContext, JobResult, job
from server.models import Case
from server.sync.context import RefData, system_caller
from server.sync.ops import ApplyContext, BatchState
from server.sync.ops_cases import CASE, save_case, server_event
from server.sync.unit_of_work import feed_write_unit


@job("escalate-overdue")
def escalate_overdue(ctx: JobContext) -> JobResult:
    """Each flag is a change in the feed, so phones and the town's queue see it."""
    with feed_write_unit(db.session) as unit:
        rows = (
            db.session.execute(
                select(CASE)
                .where(
                    Case.status.in_(OPEN_STATUSES),
                    Case.due_at < ctx.now,
                    Case.is_overdue.is_(False),
                )
                .order_by(Case.due_at)
            )
            .mappings()
            .all()
        )
        if ctx.dry_run:
            unit.discard()
            return JobResult({"overdue": len(rows)})
        ref = RefData.load(db.session)
        op = ApplyContext(db.session, unit.writer, ref, system_caller(), None, BatchState())
        for row in rows:
            case = save_case(op, dict(row), {"is_overdue": True}, "overdue")
            server_event(op, case, "overdue", None, case["due_at"].isoformat(), "")
    return JobResult({"overdue": len(rows)})
