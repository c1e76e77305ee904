"""escalate-overdue: note on their timeline the open cases that went past their due date.

Whether a case is overdue is never stored: queries and pages compute it from its status, due
date and now (server.domain.workflow.is_overdue / overdue_clause), so it shows without this
job and clears the moment the case is resolved or closed. The job only adds the "overdue"
timeline event, once per due date: its memory is the event itself (one written after the
current due date passed), so a second run adds nothing, and a case whose due date moves
later is noted again when it passes that one.
"""

from __future__ import annotations

from sqlalchemy import and_, exists, select

from server.domain.workflow import overdue_clause
from server.extensions import db
from server.jobs.runner import JobContext, JobResult, job
from server.models import Case, CaseEvent
from server.sync.context import RefData, system_caller
from server.sync.ops import ApplyContext, BatchState
from server.sync.ops_cases import CASE, server_event
from server.sync.unit_of_work import feed_write_unit


def already_noted():
    """An overdue event written after the case's current due date: indexed by case_id."""
    return exists().where(
        and_(
            CaseEvent.case_id == Case.id,
            CaseEvent.kind == "overdue",
            CaseEvent.created_at >= Case.due_at,
        )
    )


@job("escalate-overdue")
def escalate_overdue(ctx: JobContext) -> JobResult:
    """Each event is a change in the feed, so phones and the town's queue see it."""
    with feed_write_unit(db.session) as unit:
        rows = (
            db.session.execute(
                select(CASE)
                .where(overdue_clause(Case.status, Case.due_at, ctx.now), ~already_noted())
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
            server_event(op, dict(row), "overdue", None, row["due_at"].isoformat(), "")
    return JobResult({"overdue": len(rows)})
