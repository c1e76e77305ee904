"""Run a job under its lock and keep a record of the run."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError

from server.extensions import db
from server.models import JobLock, JobRun
from server.models.base import utcnow
from server.sync.unit_of_work import write_unit

log = logging.getLogger(__name__)
STALE_LOCK = timedelta(hours=6)  # a lock older than this was left by a crashed run


@dataclass
class JobContext:
    dry_run: bool
    now: datetime = field(default_factory=utcnow)

    @property
    def config(self) -> dict:
        return current_app.config


@dataclass
class JobResult:
    counts: dict[str, int]
    problems: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        parts = [f"{key}={value}" for key, value in self.counts.items()]
        return ", ".join(parts) or "nothing to do"


Job = Callable[[JobContext], JobResult]
JOBS: dict[str, Job] = {}
JOB_NAMES = ("escalate-overdue", "rollup", "compact", "backup", "verify")


def job(name: str) -> Callable[[Job], Job]:
    def register(function: Job) -> Job:
        JOBS[name] = function
        return function

    return register


@dataclass(frozen=True)
class RunOutcome:
    exit_code: int
    line: str


def run_job(name: str, *, dry_run: bool = False) -> RunOutcome:
    """Run `name` once: 0 when done or already running elsewhere, 1 when it failed."""
    from server.jobs import backup, compact, escalate, rollup, verify  # noqa: F401  (register)

    if not acquire_lock(name):
        return RunOutcome(0, f"{name}: already running elsewhere; nothing done")
    run_id = start_run(name)
    try:
        result = JOBS[name](JobContext(dry_run=dry_run))
    except Exception as error:  # recorded, reported, and the exit code says so
        db.session.rollback()
        log.exception("job %s failed", name)
        finish_run(run_id, "failed", {}, f"{type(error).__name__}: {error}")
        return RunOutcome(1, f"{name}: failed: {error}")
    finally:
        release_lock(name)
    outcome = "failed" if result.problems else ("dry_run" if dry_run else "ok")
    finish_run(run_id, outcome, result.counts, "\n".join(result.problems))
    prefix = f"{name}{' (dry run)' if dry_run else ''}: {outcome}: {result.summary}"
    lines = [prefix, *(f"  problem: {p}" for p in result.problems[:50])]
    return RunOutcome(1 if result.problems else 0, "\n".join(lines))


def acquire_lock(name: str) -> bool:
    try:
        with write_unit(db.session) as unit:
            held = db.session.get(JobLock, name)
            if held is not None and utcnow() - held.acquired_at < STALE_LOCK:
                unit.discard()
                return False
            if held is not None:
                db.session.execute(delete(JobLock).where(JobLock.name == name))
            db.session.add(JobLock(name=name, holder=f"{socket.gethostname()}:{os.getpid()}"))
    except IntegrityError:
        return False
    return True


def release_lock(name: str) -> None:
    with write_unit(db.session, end_read=True):
        db.session.execute(delete(JobLock).where(JobLock.name == name))


def start_run(name: str) -> int:
    with write_unit(db.session):
        run = JobRun(name=name, outcome="running", counts={}, message="")
        db.session.add(run)
        db.session.flush()
        run_id = run.id
    return run_id


def finish_run(run_id: int, outcome: str, counts: dict, message: str) -> None:
    with write_unit(db.session, end_read=True):
        db.session.execute(
            update(JobRun)
            .where(JobRun.id == run_id)
            .values(outcome=outcome, counts=counts, message=message[:10_000], finished_at=utcnow())
        )
