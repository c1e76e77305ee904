"""Login and logout bodies."""

from marshmallow import Schema, fields, validate

from server.schemas.base import StrictSchema, UUIDString, required_text, text_field


class DeviceInfoSchema(StrictSchema):
    id = UUIDString(required=True)
    name = text_field(100, load_default="")
    platform = text_field(50, load_default="")
    app_version = text_field(30, load_default="")


class LoginSchema(StrictSchema):
    username = required_text(64)
    password = fields.String(required=True, validate=validate.Length(min=1, max=256))
    device = fields.Nested(DeviceInfoSchema, required=True)


class UserInfoSchema(Schema):
    id = fields.String()
    username = fields.String()
    display_name = fields.String()
    role = fields.String()
    town = fields.String(allow_none=True)


class LoginResponseSchema(Schema):
    token = fields.String()
    user = fields.Nested(UserInfoSchema)
    device_id = fields.String()
    # Extension: wraps the PWA's local data key (server/accounts/device_keys.py).
    device_key = fields.String(
        metadata={"description": "32 random bytes, base64url; per device and user"}
    )


class DeviceKeyRequestSchema(StrictSchema):
    """POST /auth/device-key takes no fields: an empty object (or no body at all)."""


class DeviceKeyResponseSchema(Schema):
    # Extension: the same key the login gave this (device, user), for a phone without escrow.
    device_key = fields.String(
        metadata={"description": "32 random bytes, base64url; per device and user"}
    )


class LogoutResponseSchema(Schema):
    ok = fields.Boolean()


class ConsoleLoginSchema(StrictSchema):
    """The console's sign-in form; `next` is where to go afterwards (within the console)."""

    username = required_text(64)
    password = fields.String(required=True, validate=validate.Length(min=1, max=256))
    next = text_field(500, load_default="")
