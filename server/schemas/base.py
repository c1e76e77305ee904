"""Shared schema pieces: the strict base, ids, hashes and times."""

from __future__ import annotations

import uuid
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, missing, pre_load, validate

from server.fastpath.schema_load import compile_loader
from server.text import UNSTORABLE, storable_text

SHA256_PATTERN = r"^[0-9a-f]{64}$"
CODE_PATTERN = r"^[a-z][a-z0-9_]{0,31}$"
MAX_PHOTOS = 20


class StrictSchema(Schema):
    """Unknown fields are an error, never silently dropped (no mass assignment); text that no
    database can store is refused with the field it is in: a NUL character (PostgreSQL cannot
    store it, and no person types it) or half of a character (a lone UTF-16 surrogate, what a
    JavaScript string cut inside an emoji holds: no driver can encode it)."""

    class Meta:
        unknown = RAISE

    # Fields whose content another schema loads and checks (a push's mutations, an intent's
    # data), so that the refusal names the field where that schema would.
    text_check_skip: tuple[str, ...] = ()

    def load(
        self,
        data: Any,
        *,
        many: bool | None = None,
        partial: Any = None,
        unknown: str | None = None,
    ) -> Any:
        """marshmallow's load, through the compiled fast path when it is sure the input is
        valid (server.fastpath.schema_load); marshmallow decides everything else."""
        if many is None and partial is None and unknown is None:
            fast = self.__dict__.get("_fast_loader", missing)
            if fast is missing:
                fast = self._fast_loader = compile_loader(self)
            if fast is not None:
                try:
                    return fast(data)
                except Exception:
                    pass
        return super().load(data, many=many, partial=partial, unknown=unknown)

    @pre_load
    def refuse_unstorable_text(self, data: Any, **_kwargs: Any) -> Any:
        if isinstance(data, dict) and self.text_check_skip:
            data_to_check = {k: v for k, v in data.items() if k not in self.text_check_skip}
        else:
            data_to_check = data
        found = unstorable_paths(data_to_check, "")
        if found:
            raise ValidationError({path or "_schema": [reason] for path, reason in found})
        return data


NUL_REASON = "Must not contain NUL characters."
SURROGATE_REASON = "Contains half of a character (a lone surrogate)."


def unstorable_reason(text: str) -> str | None:
    """Why no database can store `text`, or None when it can."""
    found = UNSTORABLE.search(text)
    if found is None:
        return None
    return NUL_REASON if "\x00" in text else SURROGATE_REASON


def unstorable_paths(value: Any, path: str) -> list[tuple[str, str]]:
    """Where in a parsed JSON value (keys included) unstorable text occurs, and why."""
    if isinstance(value, str):
        reason = unstorable_reason(value)
        return [(path, reason)] if reason else []
    if isinstance(value, dict):
        found = []
        for key, item in value.items():
            here = f"{path}.{key}" if path else str(key)
            reason = unstorable_reason(key) if isinstance(key, str) else None
            if reason:
                found.append((storable_text(here), reason))
            else:
                found += unstorable_paths(item, here)
        return found
    if isinstance(value, list):
        return [
            found
            for index, item in enumerate(value)
            for found in unstorable_paths(item, f"{path}.{index}" if path else str(index))
        ]
    return []


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


_AWARE_TIME = fields.AwareDateTime()


def aware_time_text(value: str) -> None:
    """A validator: RFC 3339 text with an offset, as `fields.AwareDateTime` reads it.

    :raise ValidationError: not such a time (marshmallow's own words).
    """
    if len(value) > 64:
        raise ValidationError("Not a valid datetime.")
    _AWARE_TIME.deserialize(value)
