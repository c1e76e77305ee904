"""Statistics for a town or the whole alliance: cases by status and category, cross-town
share, overdue, median time to resolve, and check-ins per site per month.

Counts are grouped in SQL with portable expressions only (no date functions: SQLite and
PostgreSQL differ there); months are bucketed with CASE over China Standard Time month
boundaries computed in Python, and the median is taken in Python over two timestamps per case.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from flask import g
from markupsafe import Markup
from marshmallow import ValidationError, validates_schema
from sqlalchemy import ColumnElement, and_, case, func, select, true

from server.accounts.console_sessions import Staff, staff_required
from server.clock import local_today
from server.domain.workflow import OPEN_STATUSES, STATUSES, overdue_clause
from server.errors import NotFound
from server.extensions import db
from server.models import Case, CaseEvent, Checkin, Site, Town
from server.models.base import utcnow
from server.schemas.base import StrictSchema, code_field
from server.web.console import bp, names, render_page
from server.web.console.forms import day_field, read_filter
from server.web.console.i18n import t
from server.web.console.queue import day_start, town_bits
from server.web.console.scope import involves_town
from server.web.console.svg import Bar, bar_chart

MONTHS = 12
DAY_SECONDS = 86_400
STATUS_FILL = {
    "registered": "#8a96a3",
    "accepted": "#0b57a4",
    "mediating": "#c58a00",
    "resolved": "#1e6b3a",
    "escalated": "#b3261e",
    "closed": "#5f6b76",
}


class StatsFilterSchema(StrictSchema):
    """The statistics page's query string: a town (admins only) and a registration range."""

    town = code_field()
    date_from = day_field()
    date_to = day_field()

    @validates_schema
    def _range_in_order(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if "date_from" in data and "date_to" in data and data["date_from"] > data["date_to"]:
            raise ValidationError(t("stats.range_order"), "date_to")


STATS_FILTER = StatsFilterSchema()


@dataclass
class SiteMonths:
    """Check-ins at one site: one count per month of the window, oldest first."""

    site_id: str
    name: str
    town: str
    counts: list[int]
    verified: int = 0

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclass
class TownRow:
    town: str
    cases: int
    open: int
    overdue: int


@dataclass
class Stats:
    """Every figure of the page, for one town (its code) or the alliance (None)."""

    town: str | None
    by_status: dict[str, int]
    by_category: dict[str, int]
    cross_town: int
    overdue: int
    resolved: int
    median_days: float | None
    months: list[date]
    sites: list[SiteMonths]
    by_town: list[TownRow] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.by_status.values())

    @property
    def cross_share(self) -> float | None:
        """Percent of the cases that involve more than one town."""
        return 100 * self.cross_town / self.total if self.total else None

    @property
    def month_totals(self) -> list[int]:
        return [sum(site.counts[i] for site in self.sites) for i in range(len(self.months))]


def month_starts(last_day: date, count: int = MONTHS) -> list[date]:
    """The first days of the `count` months ending with the month of `last_day`."""
    year, month = last_day.year, last_day.month
    starts = []
    for _ in range(count):
        starts.append(date(year, month, 1))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return starts[::-1]


def next_month(day: date) -> date:
    return date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)


def case_clauses(bit: int | None, f: dict[str, Any]) -> list[ColumnElement[bool]]:
    """A town's cases are those it leads or co-handles; the range is on registration."""
    clauses: list[ColumnElement[bool]] = [involves_town(bit) if bit is not None else true()]
    if "date_from" in f:
        clauses.append(Case.created_at >= day_start(f["date_from"]))
    if "date_to" in f:
        clauses.append(Case.created_at < day_start(f["date_to"] + timedelta(days=1)))
    return clauses


def median_days_to_resolve(clauses: list[ColumnElement[bool]]) -> tuple[int, float | None]:
    """From registration to the first move to "resolved": (cases counted, median in days)."""
    first = (
        select(CaseEvent.case_id.label("case_id"), func.min(CaseEvent.at).label("resolved_at"))
        .where(CaseEvent.kind == "status_change", CaseEvent.to_value == "resolved")
        .group_by(CaseEvent.case_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Case.created_at, first.c.resolved_at)
        .join(first, first.c.case_id == Case.id)
        .where(*clauses)
    ).all()
    days = [
        max((resolved - created).total_seconds(), 0) / DAY_SECONDS for created, resolved in rows
    ]
    if not days:
        return 0, None
    return len(days), round(statistics.median(days), 1)


def checkins_per_site(
    town: str | None, f: dict[str, Any], today: date
) -> tuple[list[date], list[SiteMonths]]:
    """Check-ins per site and month (by the time of the visit, in China Standard Time) for
    the 12 months ending with the range's last day, or today."""
    months = month_starts(f.get("date_to", today))
    bounds = [day_start(m) for m in months] + [day_start(next_month(months[-1]))]
    lower, upper = bounds[0], bounds[-1]
    if "date_from" in f:
        lower = max(lower, day_start(f["date_from"]))
    sites_query = (
        select(Site.id, Site.name, Site.town_code)
        .join(Town, Town.code == Site.town_code)
        .order_by(Town.bit, Site.code)
    )
    scope: ColumnElement[bool] = true()
    if town is not None:
        sites_query = sites_query.where(Site.town_code == town)
        scope = Checkin.town == town
    sites = {
        sid: SiteMonths(sid, name, code, [0] * len(months))
        for sid, name, code in db.session.execute(sites_query)
    }
    # The CASE goes in a subquery: PostgreSQL would not match a GROUP BY expression whose
    # bound parameters differ from the select list's.
    month = case(*[(Checkin.at < bound, index) for index, bound in enumerate(bounds[1:])], else_=-1)
    inner = (
        select(
            Checkin.site_id.label("site_id"),
            month.label("month"),
            Checkin.verified.label("verified"),
        )
        .where(Checkin.at >= lower, Checkin.at < upper, scope)
        .subquery()
    )
    counted = db.session.execute(
        select(
            inner.c.site_id,
            inner.c.month,
            func.count(),
            func.sum(case((inner.c.verified.is_(True), 1), else_=0)),
        ).group_by(inner.c.site_id, inner.c.month)
    )
    for site_id, index, count, verified in counted:
        site = sites.get(site_id)
        if site is not None and 0 <= index < len(months):
            site.counts[index] += count
            site.verified += int(verified or 0)
    return months, list(sites.values())


def per_town(f: dict[str, Any], bits: dict[str, int]) -> list[TownRow]:
    """For the alliance: each town's cases (a cross-town case counts for each town)."""
    ordered = sorted(bits.items(), key=lambda item: item[1])
    is_open = Case.status.in_(OPEN_STATUSES)
    overdue = overdue_clause(Case.status, Case.due_at, utcnow())
    columns = []
    for _code, bit in ordered:
        mine = involves_town(bit)
        columns += [
            func.sum(case((mine, 1), else_=0)),
            func.sum(case((and_(mine, is_open), 1), else_=0)),
            func.sum(case((and_(mine, overdue), 1), else_=0)),
        ]
    row = db.session.execute(select(*columns).where(*case_clauses(None, f))).one()
    values = [int(v or 0) for v in row]
    return [TownRow(code, *values[3 * i : 3 * i + 3]) for i, (code, _bit) in enumerate(ordered)]


def compute(town: str | None, f: dict[str, Any], today: date) -> Stats:
    """All figures in seven queries, whatever the number of cases."""
    bits = town_bits()
    clauses = case_clauses(bits[town] if town else None, f)
    by_status = dict(
        db.session.execute(
            select(Case.status, func.count()).where(*clauses).group_by(Case.status)
        ).all()
    )
    by_category = dict(
        db.session.execute(
            select(Case.category, func.count()).where(*clauses).group_by(Case.category)
        ).all()
    )
    cross, overdue = db.session.execute(
        select(
            func.sum(case((Case.is_cross_town.is_(True), 1), else_=0)),
            func.sum(case((overdue_clause(Case.status, Case.due_at, utcnow()), 1), else_=0)),
        ).where(*clauses)
    ).one()
    resolved, median = median_days_to_resolve(clauses)
    months, sites = checkins_per_site(town, f, today)
    return Stats(
        town=town,
        by_status={s: by_status.get(s, 0) for s in STATUSES},
        by_category=by_category,
        cross_town=int(cross or 0),
        overdue=int(overdue or 0),
        resolved=resolved,
        median_days=median,
        months=months,
        sites=sites,
        by_town=[] if town else per_town(f, bits),
    )


def chosen_town(staff: Staff, asked: str | None) -> str | None:
    """Admins see the alliance or pick a town; a supervisor sees only their own town.

    :raises NotFound: an unknown town, or a supervisor asking for another town.
    """
    if staff.is_admin:
        if asked is not None and asked not in names().towns:
            raise NotFound("not_found")
        return asked
    own = staff.user.town_code
    if own is None or (asked is not None and asked != own):
        raise NotFound("not_found")
    return own


def charts(data: Stats) -> dict[str, Markup]:
    n = names()
    empty = t("stats.no_data")
    categories = list(n.categories) + [c for c in data.by_category if c not in n.categories]
    result = {
        "status": bar_chart(
            [
                Bar(t("status." + s), v, css_class=f"bar-{s}", fill=STATUS_FILL[s])
                for s, v in data.by_status.items()
            ],
            t("stats.by_status"),
            empty_text=empty,
        ),
        "category": bar_chart(
            [Bar(n.category(c), data.by_category.get(c, 0)) for c in categories],
            t("stats.by_category"),
            empty_text=empty,
        ),
        "months": bar_chart(
            [
                Bar(m.strftime("%Y-%m"), v)
                for m, v in zip(data.months, data.month_totals, strict=True)
            ],
            t("stats.checkins_by_month"),
            empty_text=empty,
        ),
    }
    if data.by_town:
        result["town"] = bar_chart(
            [Bar(n.town(row.town), row.cases) for row in data.by_town],
            t("stats.by_town"),
            empty_text=empty,
        )
    return result


@bp.get("/stats")
@staff_required
def stats() -> tuple[str, int]:
    staff: Staff = g.staff
    query = read_filter(STATS_FILTER)
    f = query.values
    town = chosen_town(staff, f.get("town"))
    today = local_today()
    data = compute(town, f, today)
    categories = list(names().categories) + [
        c for c in data.by_category if c not in names().categories
    ]
    queue_args = {k: f[k].isoformat() for k in ("date_from", "date_to") if k in f}
    if town:
        queue_args["town"] = town
    return render_page(
        "stats.html",
        query.status,
        data=data,
        scope_name=names().town(town) if town else t("stats.alliance"),
        f=f,
        errors=query.errors,
        charts=charts(data),
        categories=categories,
        queue_args=queue_args,
        generated_at=utcnow(),
    )
