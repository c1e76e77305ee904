"""verify: integrity checks that a healthy server always passes."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select, tuple_

from server.extensions import db
from server.jobs.runner import JobContext, JobResult, job
from server.models import (
    Blob,
    BlobRef,
    Case,
    CaseNumberCounter,
    Change,
    FeedEntry,
    MutationReceipt,
)
from server.storage.database import begin_snapshot_read
from server.sync.case_numbers import greatest_numbers


def missing_photo_files(data_dir: Path) -> list[str]:
    blobs_dir = data_dir / "blobs"
    problems = []
    for sha, size in db.session.execute(select(Blob.sha256, Blob.size)):
        path = blobs_dir / sha[:2] / sha[2:4] / sha
        if not path.exists() or path.stat().st_size != size:
            problems.append(f"photo {sha} is recorded but its file is missing or truncated")
    return problems


def inconsistent_versions() -> list[str]:
    """Every case's version equals the number of changes in its history, and the feed agrees."""
    history = dict(
        db.session.execute(
            select(Change.record_id, func.count())
            .where(Change.entity == "case")
            .group_by(Change.record_id)
        ).all()
    )
    feed = dict(
        db.session.execute(
            select(FeedEntry.record_id, FeedEntry.version).where(FeedEntry.entity == "case")
        ).all()
    )
    problems = []
    for case_id, version in db.session.execute(select(Case.id, Case.version)):
        if history.get(case_id) != version:
            problems.append(
                f"case {case_id} is at version {version} with "
                f"{history.get(case_id, 0)} changes in its history"
            )
        if feed.get(case_id) != version:
            problems.append(
                f"case {case_id} is at version {version}, the feed has {feed.get(case_id)}"
            )
    return problems


def changes_without_receipts(compacted: tuple[int, int]) -> list[str]:
    """Every change a device made is backed by the receipt that device was (or will be) shown."""
    receipts = {
        (d, m): json.loads(r)["status"]
        for d, m, r in db.session.execute(
            select(MutationReceipt.device_id, MutationReceipt.mutation_id, MutationReceipt.result)
        )
    }
    problems = []
    for device_id, mutation_id in db.session.execute(
        select(Change.device_id, Change.mutation_id)
        .distinct()
        .where(
            Change.mutation_id.is_not(None),
            tuple_(Change.txid, Change.seq) > tuple_(*compacted),
        )
    ):
        if receipts.get((device_id, mutation_id)) not in ("applied", "merged"):
            problems.append(
                f"mutation {mutation_id} of device {device_id} changed records "
                "but has no applied receipt"
            )
    return problems


def case_number_counters_behind() -> list[str]:
    """Each town's year's counter is at least the greatest number its cases hold: a counter
    behind would give the next case a number already taken, and its push would fail."""
    counters = dict(
        db.session.execute(select(CaseNumberCounter.prefix, CaseNumberCounter.last_number)).all()
    )
    greatest = greatest_numbers(db.session.scalars(select(Case.number)))
    problems = []
    for prefix, number in sorted(greatest.items()):
        counter = counters.get(prefix)
        if counter is None:
            problems.append(f"case numbers {prefix} reach {number} but have no counter")
        elif counter < number:
            problems.append(f"case numbers {prefix} reach {number} but the counter is at {counter}")
    return problems


@job("verify")
def verify(ctx: JobContext) -> JobResult:
    begin_snapshot_read(db.session)
    from server.models import ServerState

    txid, seq = db.session.execute(
        select(ServerState.compacted_txid, ServerState.compacted_seq)
    ).one()
    compacted = (int(txid), int(seq))
    problems = [
        *missing_photo_files(Path(ctx.config["DATA_DIR"])),
        *inconsistent_versions(),
        *changes_without_receipts(compacted),
        *case_number_counters_behind(),
    ]
    referenced = db.session.scalar(select(func.count(func.distinct(BlobRef.sha256))))
    pending = db.session.scalar(
        select(func.count(func.distinct(BlobRef.sha256))).where(
            BlobRef.sha256.not_in(select(Blob.sha256))
        )
    )
    cases = db.session.scalar(select(func.count()).select_from(Case))
    db.session.rollback()
    return JobResult(
        {
            "cases": cases,
            "photos_referenced": referenced,
            "photos_pending": pending,
            "problems": len(problems),
        },
        problems,
    )
