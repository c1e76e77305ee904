"""Administration, for alliance admins only: users, towns and grids, categories, heritage
sites and the order of each route.

Towns, categories, sites, routes and people's names are records of the change feed like any
case, so every edit here is published with the next version and phones pick it up on their
next pull. Grids are not part of the sync protocol (no phone reads them), so they stay in the
database only. Codes are identifiers (cases, check-ins and exports refer to them), so they
are set once when a record is added and never edited.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import g, redirect, request, url_for
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import func, select

from server.accounts.console_sessions import admin_required, end_sessions_of
from server.accounts.passwords import hash_password
from server.accounts.users import AccountError, add_user, end_device_tokens, town_refusal
from server.domain.reference import lowest_free_bit, route_order
from server.errors import NotFound
from server.extensions import db
from server.models import Category, Device, FeedEntry, Grid, Route, Site, Town, User
from server.models.people import ROLES
from server.schemas.base import StrictSchema, code_field, required_text, text_field
from server.schemas.checkins import RouteDataSchema, SiteDataSchema
from server.schemas.towns import CategoryDataSchema, TownDataSchema, UserDataSchema
from server.sync.feed import Author, FeedWriter, publish_reference
from server.sync.unit_of_work import feed_write_unit, write_unit
from server.web.console import bp, render_page
from server.web.console.case_page import done_message
from server.web.console.forms import FormError, load
from server.web.console.i18n import t

USERNAME_PATTERN = r"^[a-z0-9][a-z0-9_.-]{2,63}$"
# Prefix of case numbers (DY2026-00042): capitals and digits, starting with a letter.
ABBR_PATTERN = r"^[A-Z][A-Z0-9]{0,7}$"
MIN_PASSWORD = 8
MAX_POSITION = 9999


# ---------------------------------------------------------------- forms


def latitude() -> fields.Float:
    return fields.Float(required=True, validate=validate.Range(-90, 90))


def longitude() -> fields.Float:
    return fields.Float(required=True, validate=validate.Range(-180, 180))


def password_field() -> fields.String:
    # Two checks, so a short password is told "at least 8", not "between 8 and 256".
    return fields.String(
        required=True, validate=[validate.Length(min=MIN_PASSWORD), validate.Length(max=256)]
    )


class RoleTownRule(StrictSchema):
    """Workers and supervisors belong to a town; admins and integration accounts to none
    (server.accounts.town_refusal, the same rule as the command line's)."""

    @validates_schema
    def _town_for_role(self, data: dict[str, Any], **_kwargs: Any) -> None:
        refusal = town_refusal(data["role"], data.get("town") or None)
        if refusal is not None:
            raise ValidationError(t(f"admin.error.{refusal}"), "town")


class UserCreateForm(RoleTownRule):
    username = fields.String(required=True, validate=validate.Regexp(USERNAME_PATTERN))
    display_name = required_text(100)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    town = code_field(load_default=None)
    password = password_field()


class UserEditForm(RoleTownRule):
    display_name = required_text(100)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    town = code_field(load_default=None)


class PasswordForm(StrictSchema):
    password = password_field()


class ActiveForm(StrictSchema):
    active = fields.Boolean(required=True)


class TownEditForm(StrictSchema):
    name = required_text(100)
    name_en = required_text(100)
    county = required_text(100)
    city = required_text(100)
    lat = latitude()
    lon = longitude()


class TownCreateForm(TownEditForm):
    code = code_field(required=True)
    abbr = fields.String(required=True, validate=validate.Regexp(ABBR_PATTERN))


class GridEditForm(StrictSchema):
    name = required_text(100)
    village = text_field(100, load_default="")
    town = code_field(required=True)


class GridCreateForm(GridEditForm):
    code = code_field(required=True)


class CategoryEditForm(StrictSchema):
    name = required_text(100)
    name_en = required_text(100)
    position = fields.Integer(required=True, validate=validate.Range(0, MAX_POSITION))


class CategoryCreateForm(CategoryEditForm):
    code = code_field(required=True)
    # Left empty: after the last category.
    position = fields.Integer(load_default=None, validate=validate.Range(0, MAX_POSITION))


class SiteEditForm(StrictSchema):
    name = required_text(200)
    town = code_field(required=True)
    village = text_field(100, load_default="")
    lat = latitude()
    lon = longitude()
    radius_m = fields.Float(required=True, validate=validate.Range(10, 5000))
    description = text_field(2000, load_default="")


class SiteCreateForm(SiteEditForm):
    code = code_field(required=True)


def route_order_form(site_ids: list[str]) -> Schema:
    """One optional position per site (`pos_<site id>`); a site left empty is off the route.

    Built from the sites that exist, so any other field is still refused as unknown.
    """
    positions = {
        site_id: fields.Integer(
            data_key=f"pos_{site_id}", load_default=None, validate=validate.Range(1, 999)
        )
        for site_id in site_ids
    }
    return StrictSchema.from_dict(positions, name="RouteOrderForm")()


# ---------------------------------------------------------------- writing


def publish(
    writer: FeedWriter, entity: str, record_id: str, data: dict[str, Any], *, is_new: bool = False
) -> None:
    """Publish to every town with the next version, so phones replace what they hold."""
    version = 1
    if not is_new:
        previous = db.session.scalar(
            select(FeedEntry.version).where(
                FeedEntry.entity == entity, FeedEntry.record_id == record_id
            )
        )
        # A record added outside the feed (by hand in SQL) enters it now.
        is_new = previous is None
        version = 1 if previous is None else previous + 1
    publish_reference(
        writer, entity, record_id, data, is_new=is_new, version=version, author=Author(g.admin_id)
    )


def change_published(
    writer: FeedWriter, entity: str, record: Any, schema: Schema, change: Callable[[], None]
) -> None:
    """Apply `change` to `record` and publish it with the next version, only if what phones
    see of it (its data schema's dump) changed."""
    before = schema.dump(record)
    change()
    after = schema.dump(record)
    if after != before:
        db.session.flush()
        publish(writer, entity, record.id, after)


def set_fields(record: Any, form: dict[str, Any]) -> Callable[[], None]:
    def change() -> None:
        for key, value in form.items():
            setattr(record, key, value)

    return change


def submit(
    page: Callable[..., Any],
    endpoint: str,
    schema: Schema | Callable[[], dict[str, Any]],
    apply: Callable[[dict[str, Any]], str],
) -> Any:
    """Validate, then `apply` the form in one unit of work outside the feed (passwords,
    activation, grids): see handle_form."""

    def write(form: dict[str, Any]) -> str:
        with write_unit(db.session, end_read=True):
            return apply(form)

    return handle_form(page, endpoint, schema, write)


def submit_published(
    page: Callable[..., Any],
    endpoint: str,
    schema: Schema | Callable[[], dict[str, Any]],
    apply: Callable[[FeedWriter, dict[str, Any]], str],
) -> Any:
    """Validate, then `apply` the form in one unit of work that publishes what phones see
    through the writer it is given: see handle_form."""

    def write(form: dict[str, Any]) -> str:
        with feed_write_unit(db.session, end_read=True) as unit:
            return apply(unit.writer, form)

    return handle_form(page, endpoint, schema, write)


def handle_form(
    page: Callable[..., Any],
    endpoint: str,
    schema: Schema | Callable[[], dict[str, Any]],
    write: Callable[[dict[str, Any]], str],
) -> Any:
    """Validate (a schema, or a loader of its own), write and redirect with a done message;
    refused input re-renders the page with 422 and nothing written."""
    g.admin_id = g.staff.user.id
    try:
        form = load(schema, request.form) if isinstance(schema, Schema) else schema()
        done = write(form)
    except FormError as error:
        db.session.rollback()
        return page(errors=error.errors, status=422)
    return redirect(url_for(endpoint, done=done))


def refuse(field: str, key: str) -> FormError:
    return FormError({field: [t(key)]})


def town_codes() -> set[str]:
    return set(db.session.scalars(select(Town.code)))


def check_town(code: str | None, field: str = "town") -> None:
    """:raises FormError: the code names no town."""
    if code is not None and code not in town_codes():
        raise refuse(field, "admin.error.unknown_town")


def failed_record() -> tuple[str, str]:
    """Which form was refused (endpoint and record), so the page opens it again."""
    values = list((request.view_args or {}).values())
    return (request.endpoint or "", str(values[0]) if values else "")


def admin_page(section: str, errors: dict | None, status: int, **context: Any) -> tuple[str, int]:
    """One of the four pages; after refused input it shows the reasons and the form again,
    filled in with what was sent."""
    refused = status != 200
    return render_page(
        f"admin_{section}.html",
        status,
        section=f"console.admin_{section}",
        errors=errors or {},
        done=done_message(),
        message=t("form.invalid") if refused else "",
        form=request.form if refused else {},
        failed=failed_record() if refused else ("", ""),
        **context,
    )


# ---------------------------------------------------------------- users


@bp.get("/admin/users")
@admin_required
def admin_users(errors: dict | None = None, status: int = 200) -> tuple[str, int]:
    devices = (
        select(Device.user_id, func.count().label("n"))
        .where(Device.is_revoked.is_(False))
        .group_by(Device.user_id)
        .subquery()
    )
    users = db.session.execute(
        select(User, func.coalesce(devices.c.n, 0))
        .outerjoin(devices, devices.c.user_id == User.id)
        .order_by(User.is_active.desc(), User.town_code, User.role, User.username)
    ).all()
    return admin_page("users", errors, status, users=users, roles=ROLES)


# Why accounts.add_user refused an account (AccountError.code): the field it concerns and
# the words the console says it in.
ACCOUNT_REFUSALS = {
    "town_required": ("town", "admin.error.town_required"),
    "town_not_allowed": ("town", "admin.error.town_not_allowed"),
    "unknown_town": ("town", "admin.error.unknown_town"),
    "unknown_scope_town": ("town", "admin.error.unknown_town"),
    "password_short": ("password", "admin.error.password_short"),
    "username_taken": ("username", "admin.error.username_taken"),
}


def account_refusal(error: AccountError) -> FormError:
    """accounts.add_user says why in English for the command line; the console says it in
    the admin's language, next to the field."""
    field, key = ACCOUNT_REFUSALS.get(error.code, ("_schema", "admin.error.account_refused"))
    return refuse(field, key)


@bp.post("/admin/users")
@admin_required
def admin_user_create() -> Any:
    def apply(writer: FeedWriter, form: dict[str, Any]) -> str:
        if db.session.scalar(select(User.id).where(User.username == form["username"])):
            raise refuse("username", "admin.error.username_taken")
        check_town(form["town"])
        try:
            add_user(
                writer,
                form["username"],
                form["password"],
                form["role"],
                form["town"],
                form["display_name"],
            )
        except AccountError as error:
            raise account_refusal(error) from error
        return "done.admin_user_created"

    return submit_published(admin_users, "console.admin_users", UserCreateForm(), apply)


def find_user(user_id: Any) -> User:
    user = db.session.get(User, str(user_id))
    if user is None:
        raise NotFound()
    return user


@bp.post("/admin/users/<uuid:user_id>")
@admin_required
def admin_user_edit(user_id: Any) -> Any:
    """Name, role and town; published, since phones show names and pick assignees by town."""

    def apply(writer: FeedWriter, form: dict[str, Any]) -> str:
        user = find_user(user_id)
        if user.id == g.admin_id and form["role"] != "admin":
            raise refuse("role", "admin.error.self_demote")
        check_town(form["town"])
        before = (user.role, user.town_code)

        def change() -> None:
            user.display_name = form["display_name"]
            user.role = form["role"]
            user.town_code = form["town"]
            if user.role != "integration":
                user.scope_towns = None

        change_published(writer, "user", user, UserDataSchema(), change)
        if (user.role, user.town_code) != before:
            # What the person may see and do changed: their phones sign in again, so no
            # token keeps working for someone the phone's holder no longer is.
            end_device_tokens(user.id)
        return "done.admin_user_saved"

    return submit_published(admin_users, "console.admin_users", UserEditForm(), apply)


@bp.post("/admin/users/<uuid:user_id>/password")
@admin_required
def admin_user_password(user_id: Any) -> Any:
    """A new password signs the user out of the console and ends every device token: each
    phone asks for the (new) password and keeps its data (401 token_expired)."""

    def apply(form: dict[str, Any]) -> str:
        user = find_user(user_id)
        user.password_hash = hash_password(form["password"])
        end_sessions_of(user.id)
        end_device_tokens(user.id)
        return "done.admin_password_reset"

    return submit(admin_users, "console.admin_users", PasswordForm(), apply)


@bp.post("/admin/users/<uuid:user_id>/active")
@admin_required
def admin_user_active(user_id: Any) -> Any:
    """Deactivation ends console sessions and every device token at once; phones get 401
    account_disabled while the account is off, and token_expired after reactivation: the
    person signs in again, so a token from before never works again."""

    def apply(form: dict[str, Any]) -> str:
        user = find_user(user_id)
        if user.id == g.admin_id and not form["active"]:
            raise refuse("active", "admin.error.self_deactivate")
        user.is_active = form["active"]
        if not user.is_active:
            end_sessions_of(user.id)
            end_device_tokens(user.id)
        return "done.admin_user_activated" if user.is_active else "done.admin_user_deactivated"

    return submit(admin_users, "console.admin_users", ActiveForm(), apply)


# ---------------------------------------------------------------- towns and grids


@bp.get("/admin/towns")
@admin_required
def admin_towns(errors: dict | None = None, status: int = 200) -> tuple[str, int]:
    towns = db.session.scalars(select(Town).order_by(Town.bit)).all()
    grids = db.session.scalars(select(Grid).order_by(Grid.town_code, Grid.code)).all()
    return admin_page("towns", errors, status, towns=towns, grids=grids)


@bp.post("/admin/towns")
@admin_required
def admin_town_create() -> Any:
    """A new town takes the lowest free visibility bit and is published to every phone."""

    def apply(writer: FeedWriter, form: dict[str, Any]) -> str:
        problems: dict[str, list[str]] = {}
        if db.session.scalar(select(Town.id).where(Town.code == form["code"])):
            problems["code"] = [t("admin.error.code_taken")]
        if db.session.scalar(select(Town.id).where(Town.abbr == form["abbr"])):
            problems["abbr"] = [t("admin.error.abbr_taken")]
        if problems:
            raise FormError(problems)
        bit = lowest_free_bit(db.session.scalars(select(Town.bit)))
        if bit is None:
            raise refuse("_schema", "admin.error.no_free_bit")
        town = Town(bit=bit, **form)
        db.session.add(town)
        db.session.flush()
        publish(writer, "town", town.id, TownDataSchema().dump(town), is_new=True)
        return "done.admin_town_created"

    return submit_published(admin_towns, "console.admin_towns", TownCreateForm(), apply)


@bp.post("/admin/towns/<code>")
@admin_required
def admin_town_edit(code: str) -> Any:
    def apply(writer: FeedWriter, form: dict[str, Any]) -> str:
        town = db.session.scalar(select(Town).where(Town.code == code))
        if town is None:
            raise NotFound()
        change_published(writer, "town", town, TownDataSchema(), set_fields(town, form))
        return "done.admin_town_saved"

    return submit_published(admin_towns, "console.admin_towns", TownEditForm(), apply)


@bp.post("/admin/grids")
@admin_required
def admin_grid_create() -> Any:
    """Grids are kept in the database only: the sync protocol has no grid entity."""

    def apply(form: dict[str, Any]) -> str:
        if db.session.scalar(select(Grid.id).where(Grid.code == form["code"])):
            raise refuse("code", "admin.error.code_taken")
        check_town(form["town"])
        db.session.add(
            Grid(
                code=form["code"],
                name=form["name"],
                village=form["village"],
                town_code=form["town"],
            )
        )
        return "done.admin_grid_created"

    return submit(admin_towns, "console.admin_towns", GridCreateForm(), apply)


@bp.post("/admin/grids/<code>")
@admin_required
def admin_grid_edit(code: str) -> Any:
    def apply(form: dict[str, Any]) -> str:
        grid = db.session.scalar(select(Grid).where(Grid.code == code))
        if grid is None:
            raise NotFound()
        check_town(form["town"])
        grid.name, grid.village, grid.town_code = form["name"], form["village"], form["town"]
        return "done.admin_grid_saved"

    return submit(admin_towns, "console.admin_towns", GridEditForm(), apply)


# ---------------------------------------------------------------- categories


@bp.get("/admin/categories")
@admin_required
def admin_categories(errors: dict | None = None, status: int = 200) -> tuple[str, int]:
    categories = db.session.scalars(
        select(Category).order_by(Category.position, Category.code)
    ).all()
    return admin_page("categories", errors, status, categories=categories)


@bp.post("/admin/categories")
@admin_required
def admin_category_create() -> Any:
    def apply(writer: FeedWriter, form: dict[str, Any]) -> str:
        if db.session.scalar(select(Category.id).where(Category.code == form["code"])):
            raise refuse("code", "admin.error.code_taken")
        if form["position"] is None:
            last = db.session.scalar(select(func.max(Category.position)))
            form["position"] = min(MAX_POSITION, (last if last is not None else -1) + 1)
        category = Category(**form)
        db.session.add(category)
        db.session.flush()
        publish(writer, "category", category.id, CategoryDataSchema().dump(category), is_new=True)
        return "done.admin_category_created"

    return submit_published(
        admin_categories, "console.admin_categories", CategoryCreateForm(), apply
    )


@bp.post("/admin/categories/<code>")
@admin_required
def admin_category_edit(code: str) -> Any:
    """Rename or move a category; phones list categories by position."""

    def apply(writer: FeedWriter, form: dict[str, Any]) -> str:
        category = db.session.scalar(select(Category).where(Category.code == code))
        if category is None:
            raise NotFound()
        change_published(
            writer, "category", category, CategoryDataSchema(), set_fields(category, form)
        )
        return "done.admin_category_saved"

    return submit_published(admin_categories, "console.admin_categories", CategoryEditForm(), apply)


# ---------------------------------------------------------------- sites and routes


@bp.get("/admin/sites")
@admin_required
def admin_sites(errors: dict | None = None, status: int = 200) -> tuple[str, int]:
    sites = db.session.scalars(select(Site).order_by(Site.town_code, Site.code)).all()
    routes = db.session.scalars(select(Route).order_by(Route.code)).all()
    by_id = {site.id: site for site in sites}
    # Per route: its sites in order with their positions, then the sites not on it.
    route_rows = {
        route.code: [(by_id[sid], n) for n, sid in enumerate(route.site_ids, 1) if sid in by_id]
        + [(site, None) for site in sites if site.id not in route.site_ids]
        for route in routes
    }
    return admin_page("sites", errors, status, sites=sites, routes=routes, route_rows=route_rows)


def site_fields(site: Site, form: dict[str, Any]) -> None:
    site.name, site.town_code, site.village = form["name"], form["town"], form["village"]
    site.lat, site.lon, site.radius_m = form["lat"], form["lon"], form["radius_m"]
    site.description = form["description"]


@bp.post("/admin/sites")
@admin_required
def admin_site_create() -> Any:
    def apply(writer: FeedWriter, form: dict[str, Any]) -> str:
        if db.session.scalar(select(Site.id).where(Site.code == form["code"])):
            raise refuse("code", "admin.error.code_taken")
        check_town(form["town"])
        site = Site(code=form["code"])
        site_fields(site, form)
        db.session.add(site)
        db.session.flush()
        publish(writer, "site", site.id, SiteDataSchema().dump(site), is_new=True)
        return "done.admin_site_created"

    return submit_published(admin_sites, "console.admin_sites", SiteCreateForm(), apply)


@bp.post("/admin/sites/<code>")
@admin_required
def admin_site_edit(code: str) -> Any:
    """Check-ins already made keep the distance and verdict they were given."""

    def apply(writer: FeedWriter, form: dict[str, Any]) -> str:
        site = db.session.scalar(select(Site).where(Site.code == code))
        if site is None:
            raise NotFound()
        check_town(form["town"])
        change_published(writer, "site", site, SiteDataSchema(), lambda: site_fields(site, form))
        return "done.admin_site_saved"

    return submit_published(admin_sites, "console.admin_sites", SiteEditForm(), apply)


@bp.post("/admin/routes/<code>/order")
@admin_required
def admin_route_order(code: str) -> Any:
    """The order phones walk the route in: a position per site, empty to leave it off."""
    if db.session.scalar(select(Route.id).where(Route.code == code)) is None:
        raise NotFound()
    sites = dict(db.session.execute(select(Site.id, Site.name)).all())

    def load_positions() -> dict[str, Any]:
        try:
            return load(route_order_form(list(sites)), request.form)
        except FormError as error:  # name the site, not its form field
            raise FormError(
                {
                    sites.get(key.removeprefix("pos_"), key): reasons
                    for key, reasons in error.errors.items()
                }
            ) from error

    def apply(writer: FeedWriter, positions: dict[str, Any]) -> str:
        route = db.session.scalar(select(Route).where(Route.code == code))
        if route is None:
            raise NotFound()
        order = route_order(positions, route.site_ids)
        if not order:
            raise refuse("_schema", "admin.error.route_empty")
        if order != route.site_ids:
            route.site_ids = order
            db.session.flush()
            publish(writer, "route", route.id, RouteDataSchema().dump(route))
        return "done.admin_route_saved"

    return submit_published(admin_sites, "console.admin_sites", load_positions, apply)
