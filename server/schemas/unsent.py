"""The unsent-work file a phone exports (docs/protocol.md, "unsent-work file v1").

The file is `{"format", "version", "sha256", "content"}`; `content` is JSON text, checked
against `sha256` before it is parsed and loaded by UnsentContentSchema. Each mutation is
loaded later by the push envelope, exactly as a push would load it.
"""

from __future__ import annotations

from marshmallow import fields, validate

from server.schemas.base import SHA256_PATTERN, StrictSchema, UUIDString, text_field

UNSENT_FORMAT = "fengling-unsent-work"
UNSENT_VERSION = 1


def _hash_field() -> fields.String:
    return fields.String(
        required=True,
        validate=validate.Regexp(SHA256_PATTERN, error="Not a valid SHA-256 hex digest."),
    )


class UnsentFileSchema(StrictSchema):
    """The wrapper; `format` and `version` are read first, to say plainly what the file is."""

    text_check_skip = ("content",)  # checked as text once parsed (UnsentContentSchema)
    format = fields.String(required=True, validate=validate.Equal(UNSENT_FORMAT))
    version = fields.Integer(required=True, strict=True, validate=validate.Equal(UNSENT_VERSION))
    sha256 = _hash_field()
    content = fields.String(required=True)


class UnsentUserSchema(StrictSchema):
    id = UUIDString(required=True)
    username = text_field(64, required=True)
    display_name = text_field(100, required=True)


class UnsentPhotoSchema(StrictSchema):
    """A photo not yet uploaded; its type and bytes are checked as an upload's are, one by
    one, so a photo that fails is left out without holding back the intents."""

    sha256 = _hash_field()
    type = text_field(64, required=True)
    base64 = fields.String(required=True)


class UnsentContentSchema(StrictSchema):
    text_check_skip = ("mutations",)  # each is checked by the push envelope and its op
    exported_at = fields.AwareDateTime(required=True)
    device_id = UUIDString(required=True)
    user = fields.Nested(UnsentUserSchema, required=True)
    mutations = fields.List(fields.Raw(allow_none=True), required=True)
    photos = fields.List(fields.Nested(UnsentPhotoSchema), load_default=list)
