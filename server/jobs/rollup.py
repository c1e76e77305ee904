"""rollup: daily statistics per town, recomputed for recent days (safe to run again)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, delete, func, insert, select

from server.domain.workflow import OPEN_STATUSES, overdue_clause
from server.extensions import db
from server.jobs.runner import JobContext, JobResult, job
from server.models import Case, CaseEvent, Checkin, DailyStat, Town
from server.sync.unit_of_work import write_unit

# Days are the alliance's days: Zhejiang is on China Standard Time.
LOCAL = ZoneInfo("Asia/Shanghai")


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=LOCAL)
    return start, start + timedelta(days=1)


def counts_by_town(statement) -> dict[str, int]:
    return dict(db.session.execute(statement).all())


def stats_for_day(day: date, towns: list[str], now: datetime) -> list[dict]:
    """Cases by their lead (primary) town; open and overdue as of the run."""
    start, end = day_bounds(day)
    opened = counts_by_town(
        select(Case.primary_town, func.count())
        .where(Case.created_at >= start, Case.created_at < end)
        .group_by(Case.primary_town)
    )
    closed = counts_by_town(
        select(Case.primary_town, func.count())
        .join(CaseEvent, CaseEvent.case_id == Case.id)
        .where(
            CaseEvent.kind == "status_change",
            CaseEvent.to_value == "closed",
            CaseEvent.created_at >= start,
            CaseEvent.created_at < end,
        )
        .group_by(Case.primary_town)
    )
    open_now = Case.status.in_(OPEN_STATUSES)
    still_open = counts_by_town(
        select(Case.primary_town, func.count()).where(open_now).group_by(Case.primary_town)
    )
    overdue = counts_by_town(
        select(Case.primary_town, func.count())
        .where(overdue_clause(Case.status, Case.due_at, now))
        .group_by(Case.primary_town)
    )
    cross = counts_by_town(
        select(Case.primary_town, func.count())
        .where(and_(open_now, Case.is_cross_town.is_(True)))
        .group_by(Case.primary_town)
    )
    window = and_(Checkin.created_at >= start, Checkin.created_at < end)
    checkins = counts_by_town(
        select(Checkin.town, func.count()).where(window).group_by(Checkin.town)
    )
    verified = counts_by_town(
        select(Checkin.town, func.count())
        .where(window, Checkin.verified.is_(True))
        .group_by(Checkin.town)
    )
    return [
        {
            "day": day,
            "town": town,
            "cases_opened": opened.get(town, 0),
            "cases_closed": closed.get(town, 0),
            "cases_open": still_open.get(town, 0),
            "cases_overdue": overdue.get(town, 0),
            "cross_town_open": cross.get(town, 0),
            "checkins": checkins.get(town, 0),
            "checkins_verified": verified.get(town, 0),
        }
        for town in towns
    ]


@job("rollup")
def rollup(ctx: JobContext) -> JobResult:
    """Yesterday and today (local time) by default; ROLLUP_DAYS widens it."""
    today = ctx.now.astimezone(LOCAL).date()
    days = [today - timedelta(days=n) for n in range(int(ctx.config["ROLLUP_DAYS"]))]
    with write_unit(db.session) as unit:
        towns = list(db.session.scalars(select(Town.code).order_by(Town.bit)))
        rows = [row for day in days for row in stats_for_day(day, towns, ctx.now)]
        if ctx.dry_run:
            unit.discard()
        else:
            db.session.execute(delete(DailyStat).where(DailyStat.day.in_(days)))
            db.session.execute(insert(DailyStat), rows)
    return JobResult(
        {"days": len(days), "rows": len(rows), "cases_opened": sum(r["cases_opened"] for r in rows)}
    )
