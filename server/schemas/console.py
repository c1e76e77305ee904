"""Payloads of the console's intents; `conflict.resolve` is pushed by phones too."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

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
    label = fields.String(validate=validate.Length(max=200))

    @validates_schema
    def label_for_both(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data["choice"] == "both" and not (data.get("label") or "").strip():
            raise ValidationError(["Required when keeping both."], "label")
        if "\n" in (data.get("label") or ""):
            raise ValidationError(["One line."], "label")
