"""compact: prune receipts and tombstones older than the horizon, so storage stays bounded.

Cursors older than the horizon then get 410 resync_required. The horizon must exceed the
longest time a phone may stay offline with unsent work, or a resend older than it would be
applied again; it defaults to 180 days.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, select, update

from server.extensions import db
from server.jobs.runner import JobContext, JobResult, job
from server.models import Change, FeedEntry, FeedRevocation, MutationReceipt, ServerState
from server.sync.unit_of_work import feed_write_unit


@job("compact")
def compact(ctx: JobContext) -> JobResult:
    cutoff = ctx.now - timedelta(days=int(ctx.config["COMPACT_HORIZON_DAYS"]))
    # Under the feed lock, as every writer of feed rows (tombstones are feed rows).
    with feed_write_unit(db.session) as unit:
        horizon = db.session.scalar(select(func.max(Change.seq)).where(Change.at < cutoff)) or 0
        current = db.session.scalar(select(ServerState.compacted_seq))
        horizon = max(horizon, current)
        statements = {
            "receipts": delete(MutationReceipt).where(MutationReceipt.created_at < cutoff),
            "revocations": delete(FeedRevocation).where(FeedRevocation.seq <= horizon),
            "tombstones": delete(FeedEntry).where(
                FeedEntry.op == "remove", FeedEntry.seq <= horizon
            ),
        }
        counts = {}
        for name, statement in statements.items():
            counts[name] = db.session.execute(
                select(func.count()).select_from(statement.table).where(statement.whereclause)
            ).scalar_one()
            if not ctx.dry_run:
                db.session.execute(statement)
        counts["horizon_seq"] = horizon
        if ctx.dry_run:
            unit.discard()
        else:
            db.session.execute(
                update(ServerState).where(ServerState.id == 1).values(compacted_seq=horizon)
            )
    return JobResult(counts)
