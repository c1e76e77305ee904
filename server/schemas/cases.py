"""Intent payloads for cases and their timeline, and the case data pulled by devices."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from server.domain.workflow import STATUSES
from server.schemas.base import (
    MAX_PHOTOS,
    StrictSchema,
    UUIDString,
    aware_time_text,
    code_field,
    photos_field,
    required_text,
    sha256_field,
    text_field,
)

SEVERITIES = ("low", "medium", "high")
PARTY_ROLES = ("applicant", "respondent", "other")
EVENT_KINDS_PUSHED = ("note", "mediation", "follow_up", "photo")
EDITABLE_CASE_FIELDS = (
    "title",
    "category",
    "involved_towns",
    "parties",
    "description",
    "severity",
    "location",
    "photos",
)


class PartySchema(StrictSchema):
    name = required_text(100)
    role = fields.String(required=True, validate=validate.OneOf(PARTY_ROLES))
    phone = fields.String(validate=validate.Regexp(r"^[0-9+\- ]{3,32}$"))
    village = text_field(100)


class LocationSchema(StrictSchema):
    lat = fields.Float(required=True, validate=validate.Range(-90, 90))
    lon = fields.Float(required=True, validate=validate.Range(-180, 180))
    accuracy_m = fields.Float(required=True, validate=validate.Range(0, 100_000))
    # The fix's own device time, kept as the text the phone sent (the location is JSON).
    fix_at = fields.String(validate=aware_time_text)


def _towns_field(**kwargs) -> fields.List:
    return fields.List(code_field(), validate=validate.Length(max=8), **kwargs)


def _parties_field(**kwargs) -> fields.List:
    return fields.List(fields.Nested(PartySchema), validate=validate.Length(max=50), **kwargs)


class CaseCreateSchema(StrictSchema):
    title = required_text(200)
    category = code_field(required=True)
    primary_town = code_field(required=True)
    involved_towns = _towns_field(load_default=list)
    parties = _parties_field(load_default=list)
    description = text_field(10_000, load_default="")
    severity = fields.String(load_default="medium", validate=validate.OneOf(SEVERITIES))
    location = fields.Nested(LocationSchema, allow_none=True, load_default=None)
    photos = photos_field()
    reported_at = fields.AwareDateTime(load_default=None)


class CaseUpdateSchema(StrictSchema):
    """Only the fields that changed; `primary_town` moves by a handoff, not an edit."""

    title = fields.String(validate=validate.Length(1, 200))
    category = code_field()
    involved_towns = _towns_field()
    parties = _parties_field()
    description = text_field(10_000)
    severity = fields.String(validate=validate.OneOf(SEVERITIES))
    location = fields.Nested(LocationSchema, allow_none=True)
    photos = fields.List(sha256_field(), validate=validate.Length(max=MAX_PHOTOS))


class CaseTransitionSchema(StrictSchema):
    from_status = fields.String(data_key="from", required=True, validate=validate.OneOf(STATUSES))
    to_status = fields.String(data_key="to", required=True, validate=validate.OneOf(STATUSES))
    note = text_field(2000, load_default="")


class CaseAssignSchema(StrictSchema):
    assignee = UUIDString(required=True, allow_none=True)


class CaseEventCreateSchema(StrictSchema):
    case_id = UUIDString(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(EVENT_KINDS_PUSHED))
    body = text_field(10_000, load_default="")
    at = fields.AwareDateTime(required=True)
    photos = photos_field()


class CaseDataSchema(Schema):
    """A case as devices pull it: the intent fields plus the server's."""

    title = fields.String()
    category = fields.String()
    primary_town = fields.String()
    involved_towns = fields.List(fields.String())
    parties = fields.List(fields.Dict())
    description = fields.String()
    severity = fields.String()
    location = fields.Dict(allow_none=True)
    photos = fields.List(fields.String())
    reported_at = fields.DateTime()
    number = fields.String()
    status = fields.String()
    assignee = fields.String(allow_none=True)
    due_at = fields.DateTime()
    reported_by = fields.String()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    is_cross_town = fields.Boolean()


class CaseEventDataSchema(Schema):
    case_id = fields.String()
    kind = fields.String()
    body = fields.String()
    at = fields.DateTime()
    photos = fields.List(fields.String())
    by = fields.String(allow_none=True)
    from_value = fields.String(data_key="from", allow_none=True)
    to_value = fields.String(data_key="to", allow_none=True)
    created_at = fields.DateTime()


class ConflictDataSchema(Schema):
    entity = fields.String()
    record_id = fields.String()
    field = fields.String()
    kept = fields.Raw(allow_none=True)
    incoming = fields.Raw(allow_none=True)
    by = fields.String()
    device_id = fields.String(allow_none=True)
    at = fields.DateTime()
    kept_by = fields.String(allow_none=True)  # who made the kept value (null: not known)
    kept_at = fields.DateTime(allow_none=True)  # when the server took it
    status = fields.String()
    resolution = fields.String(allow_none=True)  # kept | incoming | new | resubmitted | both
    resolved_by = fields.String(allow_none=True)
    resolved_at = fields.DateTime(allow_none=True)
