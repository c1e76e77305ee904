"""Shared schema pieces: the strict base, ids, hashes and times."""

from __future__ import annotations

import uuid
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate

SHA256_PATTERN = r"^[0-9a-f]{64}$"
CODE_PATTERN = r"^[a-z][a-z0-9_]{0,31}$"
MAX_PHOTOS = 20


class StrictSchema(Schema):
    """Unknown fields are an error, never silently dropped (no mass assignment)."""

    class Meta:
        unknown = RAISE


class UUIDString(fields.UUID):
    """A UUID kept as its canonical lower-case string."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, str) and len(value) > 64:
            raise ValidationError("Not a valid UUID.")
        parsed = super()._deserialize(value, attr, data, **kwargs)
        assert isinstance(parsed, uuid.UUID)
        return str(parsed)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else str(value)


def sha256_field() -> fields.String:
    return fields.String(
        validate=validate.Regexp(SHA256_PATTERN, error="Not a valid SHA-256 hex digest.")
    )


def photos_field() -> fields.List:
    return fields.List(sha256_field(), load_default=list, validate=validate.Length(max=MAX_PHOTOS))


def code_field(**kwargs: Any) -> fields.String:
    return fields.String(validate=validate.Regexp(CODE_PATTERN), **kwargs)


def text_field(max_length: int, **kwargs: Any) -> fields.String:
    return fields.String(validate=validate.Length(max=max_length), **kwargs)


def required_text(max_length: int, **kwargs: Any) -> fields.String:
    return fields.String(required=True, validate=validate.Length(min=1, max=max_length), **kwargs)


class ErrorDetailSchema(Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)
    details = fields.Dict()


class ErrorSchema(Schema):
    """The one error envelope of the API."""

    error = fields.Nested(ErrorDetailSchema, required=True)
