"""Importing a phone's unsent work ("导入手机导出的待同步数据").

A phone that cannot sync (lost signal for good, a revoked or refused session, a broken
phone that still opens the app) exports its unsent work as a file; the worker's town
supervisor or an alliance admin uploads it here. Each intent is applied as if the phone had
pushed it (server.sync.unsent_work): the phone's later push of the same intents is a replay,
and so is a second import. The page reports each intent in words, the import is recorded in
the job trail (the admins' 定时任务 page) and logged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, g, request, url_for
from marshmallow import ValidationError, fields
from sqlalchemy import select
from werkzeug.datastructures import CombinedMultiDict, FileStorage
from werkzeug.exceptions import RequestEntityTooLarge

from server.accounts.console_sessions import Staff, load_staff, staff_required
from server.extensions import db
from server.i18n import error_message
from server.models import Case, Device, JobRun, Site, User
from server.models.base import utcnow
from server.schemas.base import StrictSchema
from server.sync.context import RefData, caller_for
from server.sync.unit_of_work import feed_write_unit
from server.sync.unsent_work import (
    Applied,
    Limits,
    UnsentWork,
    UnsentWorkRefused,
    apply_work,
    read_file,
)
from server.web.console import UPLOAD_LIMITS, bp, local_time, render_page
from server.web.console.forms import FormError, load
from server.web.console.i18n import current_language, t, t_or
from server.web.console.inbox import reason_details
from server.web.console.scope import visible_cases

log = logging.getLogger(__name__)

JOB_NAME = "unsent-import"  # its runs in the job trail (job_runs)
UPLOAD_LIMITS["console.import_unsent_upload"] = "UNSENT_IMPORT_MAX_BYTES"

# How each refusal is answered: the page with the reason, and this status.
REFUSAL_STATUS = {"outside_towns": 403, "read_only": 403, "unknown_device": 404}
# Refusals whose details name fields (the rest say everything in their sentence).
DETAILED_REFUSALS = ("not_unsent_file", "content_invalid", "envelope_invalid")


def file_field_is_upload(value: Any) -> None:
    if not isinstance(value, FileStorage) or not value.filename:
        raise ValidationError("Missing data for required field.")


class ImportForm(StrictSchema):
    """The upload: one file (and the CSRF token, which forms.load leaves out)."""

    file = fields.Raw(required=True, validate=file_field_is_upload)


@dataclass
class IntentLine:
    """One intent of the file as the report shows it, in words."""

    what: str  # the kind of record: 登记案件, 流程变更, 红色打卡 ...
    subject: str  # the case's title (and number), or the site's name
    outcome: str  # applied, merged, rejected, replayed
    label: str
    reason: str = ""
    details: list[tuple[str, str]] = field(default_factory=list)
    link: str | None = None


@dataclass
class Report:
    worker: str
    username: str
    device: str
    exported_at: str
    lines: list[IntentLine]
    photos_new: int
    photos_known: int
    photos_refused: list[str]

    def count(self, outcome: str) -> int:
        return sum(1 for line in self.lines if line.outcome == outcome)


def limits() -> Limits:
    config = current_app.config
    return Limits(
        max_intent_bytes=config["PUSH_MAX_BYTES"], max_photo_bytes=config["BLOB_MAX_BYTES"]
    )


def page(status: int = 200, **context: Any) -> tuple[str, int]:
    max_mb = current_app.config["UNSENT_IMPORT_MAX_BYTES"] // (1024 * 1024)
    return render_page("unsent_import.html", status, max_mb=max_mb, **context)


@bp.get("/import")
@staff_required
def import_unsent() -> tuple[str, int]:
    return page()


@bp.post("/import")
@staff_required
def import_unsent_upload() -> tuple[str, int]:
    """Read the file, check who may import it, apply it in one unit of work, report."""
    staff: Staff = g.staff
    try:
        form = load(ImportForm(), CombinedMultiDict([request.form, request.files]))
    except FormError as error:
        return page(422, refusal=t("unsent.refused.no_file"), errors=error.errors)
    raw = form["file"].read()
    try:
        work = read_file(raw, limits())
        with feed_write_unit(db.session, end_read=True) as unit:
            device, user = device_owner(staff, work)
            ref = RefData.load(db.session)
            caller = caller_for(user, device.id, ref)
            applied = apply_work(
                db.session, unit.writer, ref, caller, work, current_app.config["DATA_DIR"]
            )
            record_run(staff, user, device, applied)
    except UnsentWorkRefused as refused:
        log.info("unsent-work import by %s refused: %s", staff.user.username, refused.code)
        return page(
            REFUSAL_STATUS.get(refused.code, 422),
            refusal=refusal_text(refused),
            refusal_details=detail_lines(refused.details)
            if refused.code in DETAILED_REFUSALS
            else [],
        )
    log.info(
        "unsent work of device %s (user %s) imported by %s: %s",
        device.id,
        user.username,
        staff.user.username,
        summary(applied),
    )
    return page(report=build_report(staff, work, user, device, applied))


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(error: RequestEntityTooLarge) -> tuple[str, int]:
    """A file over the limit gets the import page saying so; elsewhere the usual page."""
    if request.endpoint == "console.import_unsent_upload" and load_staff() is not None:
        mb = current_app.config["UNSENT_IMPORT_MAX_BYTES"] // (1024 * 1024)
        return page(413, refusal=t("unsent.refused.too_large", mb=mb))
    return render_page(
        "error.html", 413, message=error_message("payload_too_large", current_language())
    )


def device_owner(staff: Staff, work: UnsentWork) -> tuple[Device, User]:
    """The device that recorded the work and its user, if this staff member may import it:
    an admin any device's, a supervisor those of their own town's users.

    :raises UnsentWorkRefused: unknown_device, outside_towns, read_only, device_other_user.
    """
    device = db.session.get(Device, work.device_id)
    user = db.session.get(User, device.user_id) if device is not None else None
    if device is None or user is None:
        raise UnsentWorkRefused("unknown_device")
    if not staff.is_admin and (user.town_code is None or user.town_code != staff.user.town_code):
        raise UnsentWorkRefused("outside_towns")
    if user.role == "integration":
        raise UnsentWorkRefused("read_only")
    if user.id != work.user["id"]:
        # Someone else has signed in on that phone since: the work is not theirs to send.
        raise UnsentWorkRefused("device_other_user")
    return device, user


def summary(applied: Applied) -> dict[str, int]:
    counts = {"applied": 0, "merged": 0, "rejected": 0, "replayed": 0}
    for result in applied.results:
        counts["replayed" if result.get("replayed") else result["status"]] += 1
    counts["photos"] = applied.photos_new
    return counts


def record_run(staff: Staff, user: User, device: Device, applied: Applied) -> None:
    """The job trail keeps who imported whose work and what came of it."""
    now = utcnow()
    db.session.add(
        JobRun(
            name=JOB_NAME,
            started_at=now,
            finished_at=now,
            outcome="ok",
            counts=summary(applied),
            message=f"{staff.user.display_name} ← {user.display_name}（{device_label(device)}）",
        )
    )


def device_label(device: Device) -> str:
    return device.name or device.platform or t("unsent.device_unnamed")


# The report ---------------------------------------------------------------------------------


def case_id_of(mutation: dict[str, Any]) -> str | None:
    if mutation["op"].startswith("case."):
        return str(mutation["record_id"]).lower()
    case_id = mutation.get("data", {}).get("case_id")
    return case_id.lower() if isinstance(case_id, str) else None


def build_report(
    staff: Staff, work: UnsentWork, user: User, device: Device, applied: Applied
) -> Report:
    """Each intent with its case's title (or site's name) and its outcome in words; a case
    shows its title only when this staff member may see it, else what the file says."""
    mutations = work.mutations
    case_ids = {cid for m in mutations if (cid := case_id_of(m))}
    cases = {
        case_id: (title, number)
        for case_id, title, number in db.session.execute(
            select(Case.id, Case.title, Case.number).where(
                Case.id.in_(case_ids), visible_cases(staff)
            )
        )
    }
    site_ids = {
        str(m["data"].get("site_id")).lower() for m in mutations if m["op"] == "checkin.create"
    }
    sites = dict(db.session.execute(select(Site.id, Site.name).where(Site.id.in_(site_ids))).all())
    typed_titles = {
        str(m["record_id"]).lower(): m["data"].get("title")
        for m in mutations
        if m["op"] == "case.create" and isinstance(m["data"].get("title"), str)
    }
    db.session.rollback()
    lines = []
    for mutation, result in zip(mutations, applied.results, strict=True):
        link = None
        if mutation["op"] == "checkin.create":
            subject = sites.get(str(mutation["data"].get("site_id")).lower()) or t(
                "unsent.unknown_site"
            )
        else:
            case_id = case_id_of(mutation) or ""
            if case_id in cases:
                title, number = cases[case_id]
                subject = f"{title}（{number}）" if number else title
                link = url_for("console.case_page", case_id=case_id)
            else:
                subject = typed_titles.get(case_id) or t("unsent.unknown_case")
        lines.append(intent_line(mutation["op"], subject, result, link))
    return Report(
        worker=user.display_name,
        username=user.username,
        device=device_label(device),
        exported_at=local_time(work.exported_at),
        lines=lines,
        photos_new=applied.photos_new,
        photos_known=applied.photos_known,
        photos_refused=[t(f"unsent.photo.{p.problem}") for p in applied.photos_refused],
    )


def intent_line(op: str, subject: str, result: dict[str, Any], link: str | None) -> IntentLine:
    what = t_or(f"rejection.op.{op}", op)
    status = result["status"]
    reason, details = "", []
    if status == "rejected":
        error = result.get("error") or {}
        reason = error_message(error.get("code", ""), current_language())
        details = reason_details(error.get("details") or {})
    elif status == "merged":
        reason = t(
            "unsent.merged_fields",
            fields="、".join(
                t_or(f"field.{c.get('field')}", str(c.get("field")))
                for c in result.get("conflicts", [])
            ),
        )
    if result.get("replayed"):
        label = t("unsent.outcome.replayed", earlier=t(f"unsent.outcome.{status}"))
        return IntentLine(what, subject, "replayed", label, reason, details, link)
    return IntentLine(what, subject, status, t(f"unsent.outcome.{status}"), reason, details, link)


def refusal_text(refused: UnsentWorkRefused) -> str:
    details = refused.details
    if refused.code == "unknown_version":
        return t("unsent.refused.unknown_version", version=details.get("version", ""))
    if refused.code == "too_many_intents":
        return t("unsent.refused.too_many_intents", mb=details["max_bytes"] // (1024 * 1024))
    return t(f"unsent.refused.{refused.code}")


def detail_lines(details: dict[str, Any]) -> list[tuple[str, str]]:
    """A refusal's details: which intent ("第 3 条") and field, and why, in words."""
    lines = []
    for label, text in reason_details(details):
        head, _, rest = label.partition(".")
        if head == "mutations" and rest.split(".")[0].isdigit():
            index, _, name = rest.partition(".")
            label = t("unsent.intent_n", n=int(index) + 1)
            if name:
                label += " · " + t_or(f"field.{name}", name)
        lines.append((label, text))
    return lines
