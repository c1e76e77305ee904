"""Check-in intents and the heritage reference data pulled by devices."""

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from server.schemas.base import StrictSchema, UUIDString, photos_field, text_field

ACTIVITIES = ("party_history_study", "theme_party_day", "visit", "other")
# A position is all three or none: a check-in without one is kept, unverified (no_fix).
FIX_FIELDS = ("lat", "lon", "accuracy_m")


def fix_field_errors(data: dict[str, Any]) -> dict[str, list[str]]:
    """Half a position, or a fix time without one: the fields to name (a check step's rule,
    so that the schema keeps its fast path)."""
    given = [name for name in FIX_FIELDS if name in data]
    if given and len(given) < len(FIX_FIELDS):
        return {
            name: ["Required with lat, lon and accuracy_m."]
            for name in FIX_FIELDS
            if name not in data
        }
    if "fix_at" in data and not given:
        return {"fix_at": ["Only with a position (lat, lon, accuracy_m)."]}
    return {}


def unique_items(values: list) -> None:
    if len(set(values)) != len(values):
        raise ValidationError("Must not repeat.")


class CheckinCreateSchema(StrictSchema):
    site_id = UUIDString(required=True)
    at = fields.AwareDateTime(required=True)
    lat = fields.Float(validate=validate.Range(-90, 90))
    lon = fields.Float(validate=validate.Range(-180, 180))
    accuracy_m = fields.Float(validate=validate.Range(0, 100_000))
    fix_at = fields.AwareDateTime()
    activity = fields.String(required=True, validate=validate.OneOf(ACTIVITIES))
    participants = fields.Integer(required=True, strict=True, validate=validate.Range(0, 10_000))
    participant_names = fields.List(
        fields.String(validate=validate.Length(1, 50)),
        load_default=list,
        validate=validate.Length(max=500),
    )
    # Roster members picked (server.models.members), beside the names; each once.
    participant_ids = fields.List(
        UUIDString(),
        load_default=list,
        validate=[validate.Length(max=500), unique_items],
    )
    notes = text_field(5000, load_default="")
    photos = photos_field()


class CheckinDataSchema(Schema):
    site_id = fields.String()
    at = fields.DateTime()
    lat = fields.Float()
    lon = fields.Float()
    accuracy_m = fields.Float()
    fix_at = fields.DateTime()
    activity = fields.String()
    participants = fields.Integer()
    participant_names = fields.List(fields.String())
    participant_ids = fields.List(fields.String())
    notes = fields.String()
    photos = fields.List(fields.String())
    by = fields.String()
    town = fields.String()
    distance_m = fields.Float()
    verified = fields.Boolean()
    unverified_reason = fields.String()
    created_at = fields.DateTime()


class SiteDataSchema(Schema):
    code = fields.String()
    name = fields.String()
    town = fields.String(attribute="town_code")
    village = fields.String()
    lat = fields.Float()
    lon = fields.Float()
    radius_m = fields.Float()
    description = fields.String()


class RouteDataSchema(Schema):
    code = fields.String()
    name = fields.String()
    site_ids = fields.List(fields.String())
