"""Scheduled job runs (admins): what ran, when, how it went and what it counted."""

from __future__ import annotations

from marshmallow import fields, validate
from sqlalchemy import select

from server.accounts.console_sessions import admin_required
from server.extensions import db
from server.jobs.runner import JOB_NAMES
from server.models import JobLock, JobRun
from server.schemas.base import StrictSchema
from server.web.console import bp, render_page
from server.web.console.forms import read_filter
from server.web.console.i18n import t_or

RUNS_SHOWN = 100
# The scheduled jobs, and the console's imports of phones' unsent work (unsent_import.py).
TRAIL_NAMES = (*JOB_NAMES, "unsent-import")


class JobFilterSchema(StrictSchema):
    name = fields.String(validate=validate.OneOf(TRAIL_NAMES))


def job_label(name: str) -> str:
    """The job's name in words where the catalogue has them (an import), else its command."""
    return t_or(f"jobs.kind.{name}", name)


@bp.get("/admin/jobs")
@admin_required
def admin_jobs() -> tuple[str, int]:
    """The newest runs first, failures highlighted, and any job holding its lock now."""
    query = read_filter(JobFilterSchema())
    f = query.values
    runs = select(JobRun).order_by(JobRun.started_at.desc(), JobRun.id.desc())
    if "name" in f:
        runs = runs.where(JobRun.name == f["name"])
    return render_page(
        "admin_jobs.html",
        query.status,
        runs=list(db.session.scalars(runs.limit(RUNS_SHOWN))),
        locks=list(db.session.scalars(select(JobLock).order_by(JobLock.name))),
        f=f,
        errors=query.errors,
        job_names=TRAIL_NAMES,
        job_label=job_label,
        section="console.admin_jobs",
    )
