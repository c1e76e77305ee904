"""compact: prune receipts and tombstones older than the horizon, so storage stays bounded.

Cursors older than the horizon then get 410 resync_required. The horizon must exceed the
longest time a phone may stay offline with unsent work, or a resend older than it would be
applied again; it defaults to 180 days.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import ColumnElement, and_, delete, func, select, tuple_, update

from server.extensions import db
from server.jobs.runner import JobContext, JobResult, job
from server.models import Change, FeedEntry, FeedRevocation, MutationReceipt, ServerState
from server.sync.pull import HORIZON
from server.sync.unit_of_work import feed_write_unit


def at_or_below(table, position: tuple[int, int]) -> ColumnElement[bool]:
    """Rows of `table` at or below a feed position (server.sync.cursor); on the seq index
    when the position's txid is 0 (always on SQLite)."""
    txid, seq = position
    if txid == 0:
        return and_(table.txid == 0, table.seq <= seq)
    return tuple_(table.txid, table.seq) <= tuple_(txid, seq)


def newest_before(cutoff, concurrent: bool) -> tuple[int, int]:
    """The position of the newest change older than `cutoff` ((0, 0): none). On PostgreSQL
    only among transactions below the snapshot's horizon, which have all ended and which
    pulls may already have served: compacting above it would send every device to resync."""
    query = select(Change.txid, Change.seq).where(Change.at < cutoff)
    if concurrent:
        query = query.where(Change.txid < HORIZON)
    row = db.session.execute(query.order_by(Change.txid.desc(), Change.seq.desc()).limit(1)).first()
    return (int(row[0]), int(row[1])) if row else (0, 0)


@job("compact")
def compact(ctx: JobContext) -> JobResult:
    cutoff = ctx.now - timedelta(days=int(ctx.config["COMPACT_HORIZON_DAYS"]))
    # As a feed writer, as every writer of feed rows (tombstones are feed rows). Pulls from
    # a cursor below the new horizon answer resync_required (server.sync.pull): only rows at
    # or below it are deleted, so a cursor at or above it misses none.
    with feed_write_unit(db.session) as unit:
        concurrent = db.session.get_bind().dialect.name == "postgresql"
        newest = newest_before(cutoff, concurrent)
        current = db.session.execute(
            select(ServerState.compacted_txid, ServerState.compacted_seq)
        ).one()
        horizon = max(newest, (int(current[0]), int(current[1])))
        statements = {
            "receipts": delete(MutationReceipt).where(MutationReceipt.created_at < cutoff),
            "revocations": delete(FeedRevocation).where(at_or_below(FeedRevocation, horizon)),
            "tombstones": delete(FeedEntry).where(
                FeedEntry.op == "remove", at_or_below(FeedEntry, horizon)
            ),
        }
        counts = {}
        for name, statement in statements.items():
            counts[name] = db.session.execute(
                select(func.count()).select_from(statement.table).where(statement.whereclause)
            ).scalar_one()
            if not ctx.dry_run:
                db.session.execute(statement)
        counts["horizon_seq"] = horizon[1]
        if concurrent:
            counts["horizon_txid"] = horizon[0]
        if ctx.dry_run:
            unit.discard()
        else:
            db.session.execute(
                update(ServerState)
                .where(ServerState.id == 1)
                .values(compacted_txid=horizon[0], compacted_seq=horizon[1])
            )
    return JobResult(counts)
