"""Payloads of the console-only intents (not accepted from devices' pushes)."""

from __future__ import annotations

from marshmallow import fields, validate

from server.schemas.base import StrictSchema, code_field, text_field

HANDOFF_DECISIONS = ("accepted", "declined", "cancelled")
CONFLICT_CHOICES = ("keep", "incoming", "new")


class HandoffRequestSchema(StrictSchema):
    to_town = code_field(required=True)
    reason = fields.String(required=True, validate=validate.Length(1, 2000))


class HandoffDecisionSchema(StrictSchema):
    decision = fields.String(required=True, validate=validate.OneOf(HANDOFF_DECISIONS))
    note = text_field(2000, load_default="")


class ConflictResolveSchema(StrictSchema):
    """`value` (for "new") is checked by the case update schema for the conflict's field."""

    choice = fields.String(required=True, validate=validate.OneOf(CONFLICT_CHOICES))
    value = fields.Raw(allow_none=True)
