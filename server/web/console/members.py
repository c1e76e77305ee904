"""The party-member roster (党员名册): a town's supervisor keeps their own town's, an admin
every town's.

Members are records of the change feed that only their town's phones pull (server.roster):
every add, edit, deactivation and import here is published, and the phones' check-in
pickers follow on their next pull. A member is never deleted, only deactivated.

A sheet (CSV or XLSX; columns 姓名, 党支部, 村/社区, and for an admin 乡镇) is imported in two
steps: the upload shows a preview with each row's problems and writes nothing; the preview's
confirmation sends the rows back, which are checked again and only the good ones added.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from typing import Any

from flask import g, request
from marshmallow import ValidationError, fields, validate
from sqlalchemy import func, or_, select
from werkzeug.datastructures import CombinedMultiDict, FileStorage

from server.accounts.console_sessions import Staff, staff_required
from server.domain.roster import (
    BRANCH,
    NAME,
    TOWN,
    VILLAGE,
    SheetRow,
    check_rows,
    header_columns,
)
from server.errors import NotFound
from server.extensions import db
from server.models import Member, Town
from server.models.members import MAX_BRANCH, MAX_NAME, MAX_VILLAGE
from server.roster import add_member, change_member, town_bits
from server.schemas.base import StrictSchema, code_field, required_text, text_field
from server.sync.feed import Author, FeedWriter
from server.sync.unit_of_work import feed_write_unit
from server.web.console import bp, render_page
from server.web.console.admin import handle_form, refuse, submit_published
from server.web.console.case_page import done_message
from server.web.console.forms import FormError, load, page_field, read_filter
from server.web.console.i18n import t
from server.web.console.paging import paginate

# What one sheet may hold: the file's bytes and its data rows (a town has hundreds).
MAX_SHEET_BYTES = 2 * 1024 * 1024
MAX_SHEET_ROWS = 2000
MAX_XLSX_UNPACKED = 50 * 1024 * 1024  # an XLSX is a zip: what its parts may unpack to
SHEET_COLUMNS = (NAME, BRANCH, VILLAGE, TOWN)


class MemberForm(StrictSchema):
    """A supervisor's member: always of their own town."""

    name = required_text(MAX_NAME)
    branch = text_field(MAX_BRANCH, load_default="")
    village = text_field(MAX_VILLAGE, load_default="")


class AdminMemberForm(MemberForm):
    town = code_field(required=True)


class ActiveForm(StrictSchema):
    active = fields.Boolean(required=True)


class RosterFilter(StrictSchema):
    q = text_field(50, load_default="")
    town = code_field(load_default=None)
    inactive = fields.Boolean(load_default=False)  # show deactivated members too
    page = page_field()


def upload_field(value: Any) -> None:
    if not isinstance(value, FileStorage) or not value.filename:
        raise ValidationError("Missing data for required field.")


class SheetUploadForm(StrictSchema):
    file = fields.Raw(required=True, validate=upload_field)


class SheetConfirmForm(StrictSchema):
    """The preview's rows sent back as JSON: checked again like a new upload."""

    rows = fields.String(required=True, validate=validate.Length(max=MAX_SHEET_BYTES))


class SheetRefused(Exception):
    def __init__(self, key: str, **values: Any):
        super().__init__(key)
        self.message = t(key, **values)


# ---------------------------------------------------------------- scope


def own_town(staff: Staff) -> str | None:
    """The one town a supervisor manages; None for an admin (every town)."""
    return None if staff.is_admin else staff.user.town_code


def find_member(member_id: Any) -> Member:
    """:raises NotFound: no such member, or one of a town the staff member does not manage
    (the same answer, so a supervisor learns nothing of other towns' rosters)."""
    member = db.session.get(Member, str(member_id))
    town = own_town(g.staff)
    if member is None or (town is not None and member.town != town):
        raise NotFound()
    return member


def author() -> Author:
    return Author(g.staff.user.id)


# ---------------------------------------------------------------- list


@bp.get("/members")
@staff_required
def members(
    errors: dict | None = None, status: int = 200, preview: dict | None = None
) -> tuple[str, int]:
    staff: Staff = g.staff
    f = read_filter(RosterFilter())
    values = f.values
    query = select(Member)
    town = own_town(staff)
    if town is not None:
        query = query.where(Member.town == town)
    elif values["town"]:
        query = query.where(Member.town == values["town"])
    if not values["inactive"]:
        query = query.where(Member.active.is_(True))
    if values["q"]:
        pattern = (
            "%" + values["q"].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        )
        query = query.where(
            or_(
                Member.name.like(pattern, escape="\\"),
                Member.branch.like(pattern, escape="\\"),
                Member.village.like(pattern, escape="\\"),
            )
        )
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pager = paginate(total, values["page"])
    rows = db.session.scalars(
        pager.of(
            query.order_by(Member.active.desc(), Member.town, Member.branch, Member.name, Member.id)
        )
    ).all()
    refused = status != 200 and preview is None
    return render_page(
        "members.html",
        status if status != 200 else f.status,
        members=rows,
        paging=pager,
        f=values,
        filter_errors=f.errors,
        args=f.link_args("page"),
        errors=errors or {},
        done=done_message(),
        message=t("form.invalid") if refused else "",
        form=request.form if refused else {},
        failed=failed_form() if refused else ("", ""),
        preview=preview,
        max_rows=MAX_SHEET_ROWS,
        max_mb=MAX_SHEET_BYTES // (1024 * 1024),
    )


def failed_form() -> tuple[str, str]:
    values = list((request.view_args or {}).values())
    return (request.endpoint or "", str(values[0]) if values else "")


# ---------------------------------------------------------------- add, edit, deactivate


def member_form() -> StrictSchema:
    return AdminMemberForm() if g.staff.is_admin else MemberForm()


def checked_town(form: dict[str, Any]) -> dict[str, Any]:
    """The form with its town: an admin's must exist, a supervisor's is their own."""
    town = own_town(g.staff)
    if town is not None:
        return {**form, "town": town}
    if form["town"] not in set(db.session.scalars(select(Town.code))):
        raise refuse("town", "admin.error.unknown_town")
    return form


@bp.post("/members")
@staff_required
def member_create() -> Any:
    def apply(writer: FeedWriter, form: dict[str, Any]) -> str:
        add_member(db.session, writer, checked_town(form), author=author())
        return "done.member_added"

    return submit_published(members, "console.members", member_form(), apply)


@bp.post("/members/<uuid:member_id>")
@staff_required
def member_edit(member_id: Any) -> Any:
    def apply(writer: FeedWriter, form: dict[str, Any]) -> str:
        member = find_member(member_id)
        change_member(db.session, writer, member, checked_town(form), author=author())
        return "done.member_saved"

    return submit_published(members, "console.members", member_form(), apply)


@bp.post("/members/<uuid:member_id>/active")
@staff_required
def member_active(member_id: Any) -> Any:
    """Deactivation is an upsert with active false: phones hide the member from the picker."""

    def apply(writer: FeedWriter, form: dict[str, Any]) -> str:
        member = find_member(member_id)
        change_member(db.session, writer, member, {"active": form["active"]}, author=author())
        return "done.member_activated" if form["active"] else "done.member_deactivated"

    return submit_published(members, "console.members", ActiveForm(), apply)


# ---------------------------------------------------------------- import


def read_sheet(upload: FileStorage) -> list[list[str]]:
    """The sheet's rows as text, header first: XLSX by its name or content, else CSV
    (UTF-8, with or without BOM, or GB18030 as Excel saves it in China).

    :raises SheetRefused: too large, too many rows, unreadable.
    """
    raw = upload.stream.read(MAX_SHEET_BYTES + 1)
    if len(raw) > MAX_SHEET_BYTES:
        raise SheetRefused("member.import.too_large", mb=MAX_SHEET_BYTES // (1024 * 1024))
    if not raw.strip():
        raise SheetRefused("member.import.empty")
    name = (upload.filename or "").lower()
    if name.endswith(".xlsx") or raw[:2] == b"PK":
        rows = read_xlsx(raw)
    else:
        rows = read_csv(raw)
    rows = [row for row in rows if any(cell for cell in row)]
    if len(rows) > MAX_SHEET_ROWS + 1:
        raise SheetRefused("member.import.too_many_rows", n=MAX_SHEET_ROWS)
    if not rows:
        raise SheetRefused("member.import.empty")
    return rows


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def read_xlsx(raw: bytes) -> list[list[str]]:
    """The first worksheet, streamed (read-only mode), at most MAX_SHEET_ROWS + 2 rows read."""
    from openpyxl import load_workbook

    try:
        # A zip's parts are unpacked (shared strings at once): bound what they unpack to.
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_XLSX_UNPACKED:
                raise SheetRefused(
                    "member.import.too_large_unpacked", mb=MAX_XLSX_UNPACKED // (1024 * 1024)
                )
        book = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
        raise SheetRefused("member.import.unreadable") from error
    try:
        rows: list[list[str]] = []
        for row in book.worksheets[0].iter_rows(values_only=True):
            cells = [cell_text(value) for value in row[: len(SHEET_COLUMNS) + 20]]
            if any(cells):
                rows.append(cells)
            if len(rows) > MAX_SHEET_ROWS + 1:
                break
        return rows
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
        raise SheetRefused("member.import.unreadable") from error
    finally:
        book.close()


def read_csv(raw: bytes) -> list[list[str]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any byte string
        raise SheetRefused("member.import.unreadable")
    if "\x00" in text:
        raise SheetRefused("member.import.unreadable")
    try:
        rows = []
        for row in csv.reader(io.StringIO(text)):
            rows.append([cell.strip() for cell in row])
            if len(rows) > MAX_SHEET_ROWS + 2:
                break
        return rows
    except csv.Error as error:
        raise SheetRefused("member.import.unreadable") from error


def town_names() -> dict[str, str]:
    """What an admin's sheet may call a town: its code, name, short name or English name."""
    names: dict[str, str] = {}
    for code, name, name_en in db.session.execute(select(Town.code, Town.name, Town.name_en)):
        for label in (code, name, name.removesuffix("镇"), name_en, name_en.lower()):
            names.setdefault(label, code)
    return names


def checked_sheet(rows: list[list[str]]) -> list[SheetRow]:
    """Each data row with its problems (server.domain.roster.check_rows).

    :raises SheetRefused: the header has no 姓名 column.
    """
    columns = header_columns(rows[0])
    if NAME not in columns:
        raise SheetRefused("member.import.no_name_column")
    town = own_town(g.staff)
    existing_query = select(Member.town, Member.name, Member.branch)
    if town is not None:
        existing_query = existing_query.where(Member.town == town)
    existing = {(t_, n, b) for t_, n, b in db.session.execute(existing_query)}
    return check_rows(rows[1:], columns, town_of=town_names(), fixed_town=town, existing=existing)


def preview_of(rows: list[list[str]], sheet: list[SheetRow]) -> dict[str, Any]:
    """What the preview page shows, and the rows its confirmation sends back."""
    return {
        "rows": sheet,
        "good": sum(1 for row in sheet if row.good),
        "bad": sum(1 for row in sheet if not row.good),
        "payload": json.dumps(rows, ensure_ascii=False),
    }


@bp.post("/members/import")
@staff_required
def member_import_preview() -> Any:
    """Read the sheet and show every row with its problems; nothing is written."""
    try:
        form = load(SheetUploadForm(), CombinedMultiDict([request.form, request.files]))
        rows = read_sheet(form["file"])
        sheet = checked_sheet(rows)
    except FormError as error:
        return members(errors=error.errors, status=422)
    except SheetRefused as refused:
        return members(errors={"file": [refused.message]}, status=422)
    finally:
        for upload in request.files.values():
            upload.close()  # a large one is a temporary file
    db.session.rollback()
    return members(preview=preview_of(rows, sheet))


def confirmed_rows() -> dict[str, Any]:
    """The preview's rows, as sent back: a list of lists of text, bounded like a sheet."""
    form = load(SheetConfirmForm(), request.form)
    try:
        rows = json.loads(form["rows"])
    except ValueError as error:
        raise refuse("file", "member.import.unreadable") from error
    if (
        not isinstance(rows, list)
        or not rows
        or len(rows) > MAX_SHEET_ROWS + 1
        or not all(
            isinstance(row, list) and all(isinstance(cell, str) for cell in row) for row in rows
        )
    ):
        raise refuse("file", "member.import.unreadable")
    return {"rows": rows}


@bp.post("/members/import/confirm")
@staff_required
def member_import_confirm() -> Any:
    """Check the rows again (the roster may have changed since the preview) and add the
    good ones, all in one unit of work."""

    def write(form: dict[str, Any]) -> str:
        try:
            sheet = checked_sheet(form["rows"])
        except SheetRefused as refused:
            raise FormError({"file": [refused.message]}) from refused
        good = [row for row in sheet if row.good]
        if not good:
            raise refuse("file", "member.import.nothing_good")
        with feed_write_unit(db.session, end_read=True) as unit:
            bits = town_bits(db.session)
            for row in good:
                assert row.town is not None
                fields_ = {
                    "town": row.town,
                    "name": row.name,
                    "branch": row.branch,
                    "village": row.village,
                }
                add_member(db.session, unit.writer, fields_, author=author(), bits=bits)
        return "done.member_imported"

    return handle_form(members, "console.members", confirmed_rows, write)
