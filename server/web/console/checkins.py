"""Check-ins at the red-heritage sites: the filtered list, a summary per site, the route view
drawn from the sites' coordinates, and the CSV/XLSX export of the same filters.

A check-in belongs to the person's town and is seen by that town and the site's town; an
admin sees all. Flagged means "not verified": kept, never dropped (protocol rule 6), with the
reason in words, so a person can look.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask import Response, g
from marshmallow import fields, validate
from sqlalchemy import ColumnElement, Select, and_, case, func, select

from server.accounts.console_sessions import Staff, staff_required
from server.extensions import db
from server.models import Checkin, Route, Site, User
from server.schemas.base import StrictSchema, UUIDString, code_field
from server.web.console import bp, names, render_page
from server.web.console.forms import day_field, page_field, read_filter
from server.web.console.i18n import t, t_or
from server.web.console.paging import paginate
from server.web.console.queue import day_start
from server.web.console.scope import visible_checkins
from server.web.console.tables import table_response

EXPORT_BATCH = 500  # rows fetched per round trip while an export streams
EXPORT_COLUMNS = (
    "at",
    "site",
    "town",
    "worker",
    "activity",
    "participants",
    "participant_names",
    "verified",
    "distance",
    "accuracy",
    "notes",
)


class CheckinFilterSchema(StrictSchema):
    """The check-ins page's query string; the export takes the same filters."""

    site = UUIDString()
    route = UUIDString()
    town = code_field()
    verified = fields.String(validate=validate.OneOf(("yes", "no")))
    date_from = day_field()
    date_to = day_field()
    page = page_field()


CHECKIN_FILTER = CheckinFilterSchema()


def filter_clauses(staff: Staff, f: dict[str, Any]) -> list[ColumnElement[bool]]:
    """Visibility first, then the filters; dates are whole days in China Standard Time."""
    clauses: list[ColumnElement[bool]] = [visible_checkins(staff)]
    if "site" in f:
        clauses.append(Checkin.site_id == f["site"])
    if "route" in f:
        route = db.session.get(Route, f["route"])
        clauses.append(Checkin.site_id.in_(list(route.site_ids) if route else []))
    if "town" in f:
        clauses.append(Checkin.town == f["town"])
    if "verified" in f:
        clauses.append(Checkin.verified.is_(f["verified"] == "yes"))
    if "date_from" in f:
        clauses.append(Checkin.at >= day_start(f["date_from"]))
    if "date_to" in f:
        clauses.append(Checkin.at < day_start(f["date_to"] + timedelta(days=1)))
    return clauses


def listed_checkins(clauses: Sequence[ColumnElement[bool]]) -> Select:
    """Check-ins with their site's and worker's names in the same row (no query per row)."""
    return (
        select(Checkin, Site.name, User.display_name)
        .join(Site, Site.id == Checkin.site_id)
        .join(User, User.id == Checkin.by)
        .where(and_(*clauses))
        .order_by(Checkin.at.desc(), Checkin.id)
    )


@dataclass
class SiteSummary:
    site_id: str
    name: str
    town: str
    total: int
    verified: int

    @property
    def flagged(self) -> int:
        return self.total - self.verified


def site_summaries(clauses: Sequence[ColumnElement[bool]]) -> list[SiteSummary]:
    """Check-ins, verified and flagged per site for the current filters, in one query."""
    verified = func.sum(case((Checkin.verified.is_(True), 1), else_=0))
    rows = db.session.execute(
        select(Site.id, Site.name, Site.town_code, func.count(Checkin.id), verified)
        .join(Checkin, Checkin.site_id == Site.id)
        .where(and_(*clauses))
        .group_by(Site.id, Site.name, Site.town_code)
        .order_by(func.count(Checkin.id).desc(), Site.name)
    ).all()
    return [
        SiteSummary(sid, name, town, total, int(ver or 0)) for sid, name, town, total, ver in rows
    ]


# The route view: an inline SVG schematic, no map tiles (none are reachable offline).
SVG_WIDTH, SVG_HEIGHT, SVG_PAD = 720, 360, 48
# Fill per count level: 0 = no check-ins, 4 = the busiest site of the route.
LEVEL_FILLS = ("#ffffff", "#f6c9c4", "#e88a80", "#cc4a3d", "#8c1d15")


@dataclass
class RoutePoint:
    order: int
    site_id: str
    name: str
    x: float
    y: float
    r: float
    level: int
    count: int

    @property
    def fill(self) -> str:
        return LEVEL_FILLS[self.level]

    @property
    def label_anchor(self) -> str:
        """Labels point into the box so names near the right edge stay visible."""
        return "end" if self.x > SVG_WIDTH * 0.6 else "start"

    @property
    def label_y(self) -> float:
        return round(self.y + 4, 1)  # about half a 12px line below the centre: beside it

    @property
    def label_x(self) -> float:
        gap = self.r + 4
        return round(self.x - gap if self.label_anchor == "end" else self.x + gap, 1)


@dataclass
class RouteDrawing:
    route_id: str
    code: str
    name: str
    points: list[RoutePoint] = field(default_factory=list)
    width: int = SVG_WIDTH
    height: int = SVG_HEIGHT

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x},{p.y}" for p in self.points)


def count_level(count: int, busiest: int) -> int:
    return 0 if count <= 0 or busiest <= 0 else max(1, min(4, math.ceil(4 * count / busiest)))


def draw_route(route: Route, sites: dict[str, Site], counts: dict[str, int]) -> RouteDrawing:
    """Project the route's sites into the SVG box, keeping the map's proportions.

    Longitude is scaled by cos(latitude) so the schematic is not stretched east-west; north is
    up. Sites the route names but that no longer exist are left out.
    """
    drawing = RouteDrawing(route.id, route.code, route.name)
    stops = [sites[sid] for sid in route.site_ids if sid in sites]
    if not stops:
        return drawing
    mean_lat = math.radians(sum(s.lat for s in stops) / len(stops))
    xs = [s.lon * math.cos(mean_lat) for s in stops]
    ys = [s.lat for s in stops]
    span_x, span_y = max(xs) - min(xs), max(ys) - min(ys)
    inner_w, inner_h = SVG_WIDTH - 2 * SVG_PAD, SVG_HEIGHT - 2 * SVG_PAD
    scale = min(inner_w / span_x if span_x else math.inf, inner_h / span_y if span_y else math.inf)
    if scale == math.inf:
        scale = 0.0  # one place only: draw it in the middle
    off_x = SVG_PAD + (inner_w - span_x * scale) / 2
    off_y = SVG_PAD + (inner_h - span_y * scale) / 2
    busiest = max((counts.get(s.id, 0) for s in stops), default=0)
    for order, (site, x, y) in enumerate(zip(stops, xs, ys, strict=True), start=1):
        count = counts.get(site.id, 0)
        r = 6.0 if not count else 7 + 9 * math.sqrt(count / busiest)
        drawing.points.append(
            RoutePoint(
                order=order,
                site_id=site.id,
                name=site.name,
                x=round(off_x + (x - min(xs)) * scale, 1),
                y=round(off_y + (max(ys) - y) * scale, 1),
                r=round(r, 1),
                level=count_level(count, busiest),
                count=count,
            )
        )
    return drawing


def route_drawings(routes: list[Route], counts: dict[str, int]) -> list[RouteDrawing]:
    """All routes' sites in one query, whatever the number of routes."""
    wanted = {sid for route in routes for sid in route.site_ids}
    sites = (
        {s.id: s for s in db.session.scalars(select(Site).where(Site.id.in_(wanted)))}
        if wanted
        else {}
    )
    return [draw_route(route, sites, counts) for route in routes]


@dataclass
class CheckinPage:
    rows: list[tuple[Checkin, str, str]]
    total: int
    page: int
    pages: int
    summaries: list[SiteSummary]
    drawings: list[RouteDrawing]


def checkin_page(staff: Staff, f: dict[str, Any]) -> CheckinPage:
    """One page of check-ins plus the summaries, in a fixed number of queries."""
    clauses = filter_clauses(staff, f)
    summaries = site_summaries(clauses)
    total = sum(s.total for s in summaries)
    pager = paginate(total, f.get("page", 1))
    rows = [
        (c, site, who) for c, site, who in db.session.execute(pager.of(listed_checkins(clauses)))
    ]
    route_query = select(Route).order_by(Route.name)
    if "route" in f:
        route_query = route_query.where(Route.id == f["route"])
    drawings = route_drawings(
        list(db.session.scalars(route_query)), {s.site_id: s.total for s in summaries}
    )
    return CheckinPage(rows, total, pager.page, pager.pages, summaries, drawings)


def filter_choices(staff: Staff) -> tuple[list[Site], list[Route]]:
    """Every site and route: a town's people check in at any town's site on the route."""
    site_query = select(Site).order_by(Site.town_code, Site.name)
    return (
        list(db.session.scalars(site_query)),
        list(db.session.scalars(select(Route).order_by(Route.name))),
    )


def activity_name(code: str) -> str:
    return t_or(f"activity.{code}", code)


def verdict_words(c: Checkin) -> str:
    """ "Verified", or "Flagged: <the reason in words>"."""
    if c.verified:
        return t("checkin.verified")
    reason = c.unverified_reason
    if reason is None:
        return t("checkin.flagged")
    return t("checkin.flagged_because", reason=t_or(f"reason.{reason}", reason))


def metres(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


@bp.get("/checkins")
@staff_required
def checkins() -> tuple[str, int]:
    staff: Staff = g.staff
    query = read_filter(CHECKIN_FILTER)
    result = checkin_page(staff, query.values)
    site_choices, route_choices = filter_choices(staff)
    return render_page(
        "checkins.html",
        query.status,
        result=result,
        f=query.values,
        errors=query.errors,
        args=query.link_args("page"),
        site_choices=site_choices,
        route_choices=route_choices,
        activity_name=activity_name,
        verdict_words=verdict_words,
    )


def export_rows(staff: Staff, f: dict[str, Any]) -> Iterator[list[Any]]:
    """Rows streamed from the database in batches, so a large export stays small in memory."""
    query = listed_checkins(filter_clauses(staff, f)).execution_options(yield_per=EXPORT_BATCH)
    for c, site, who in db.session.execute(query):
        yield [
            c.at,
            site,
            names().town(c.town),
            who,
            activity_name(c.activity),
            c.participants,
            "、".join(c.participant_names or []),
            verdict_words(c),
            metres(c.distance_m),
            metres(c.accuracy_m),
            c.notes,
        ]


@bp.get("/checkins/export.<any(csv,xlsx):fmt>")
@staff_required
def export_checkins(fmt: str) -> Response | tuple[str, int]:
    """The filtered check-ins as a sheet, with headers in the console's language."""
    staff: Staff = g.staff
    query = read_filter(CHECKIN_FILTER)
    if query.errors:
        return render_page("error.html", 400, message=format_errors(query.errors))
    names()  # town names loaded once, before the rows stream
    headers = [t(f"checkin.col.{column}") for column in EXPORT_COLUMNS]
    return table_response(
        fmt,
        t("checkin.export_name"),
        t("checkin.export_sheet"),
        headers,
        export_rows(staff, query.values),
    )


def format_errors(errors: dict[str, list[str]]) -> str:
    """A download has no page to show the filters on: the reasons go in the error page."""
    reasons = "; ".join(f"{name}: {' '.join(why)}" for name, why in errors.items())
    return f"{t('form.invalid')} {reasons}"
