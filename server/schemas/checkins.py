"""Check-in intents and the heritage reference data pulled by devices."""

from marshmallow import Schema, ValidationError, fields, validate

from server.schemas.base import StrictSchema, UUIDString, photos_field, text_field

ACTIVITIES = ("party_history_study", "theme_party_day", "visit", "other")


def unique_items(values: list) -> None:
    if len(set(values)) != len(values):
        raise ValidationError("Must not repeat.")


class CheckinCreateSchema(StrictSchema):
    site_id = UUIDString(required=True)
    at = fields.AwareDateTime(required=True)
    lat = fields.Float(required=True, validate=validate.Range(-90, 90))
    lon = fields.Float(required=True, validate=validate.Range(-180, 180))
    accuracy_m = fields.Float(required=True, validate=validate.Range(0, 100_000))
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
