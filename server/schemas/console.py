"""Payloads of the console's intents; `conflict.resolve` is pushed by phones too."""

from __future__ import annotations

from marshmallow import fields, validate

from server.schemas.base import StrictSchema, code_field, text_field

HANDOFF_DECISIONS = ("accepted", "declined", "cancelled")
# keep, incoming and new at the console; keep, mine (the author's own value) and both on a phone.
CONFLICT_CHOICES = ("keep", "incoming", "new", "mine", "both")
BOTH_FIELDS = ("title", "description")  # free text, where keeping both values reads well


class HandoffRequestSchema(StrictSchema):
    to_town = code_field(required=True)
    reason = fields.String(required=True, validate=validate.Length(1, 2000))


class HandoffDecisionSchema(StrictSchema):
    decision = fields.String(required=True, validate=validate.OneOf(HANDOFF_DECISIONS))
    note = text_field(2000, load_default="")


class ConflictResolveSchema(StrictSchema):
    """`value` (for "new") is checked by the case update schema for the conflict's field;
    `label` (for "both") is the line the phone puts between the two texts, in its language."""

    choice = fields.String(required=True, validate=validate.OneOf(CONFLICT_CHOICES))
    value = fields.Raw(allow_none=True)
    # One line; required for "both" (server.sync.ops_conflicts checks that, so the payload
    # keeps its fast path: no schema-level hooks).
    label = fields.String(validate=[validate.Length(max=200), validate.Regexp(r"^[^\r\n]*$")])
