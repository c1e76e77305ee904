"""Reference data pulled by devices: towns, categories, people's display names."""

from marshmallow import Schema, fields


class TownDataSchema(Schema):
    code = fields.String()
    name = fields.String()
    name_en = fields.String()
    county = fields.String()
    city = fields.String()
    lat = fields.Float()
    lon = fields.Float()


class CategoryDataSchema(Schema):
    code = fields.String()
    name = fields.String()
    name_en = fields.String()
    position = fields.Integer()  # the order phones list categories in


class UserDataSchema(Schema):
    """A person as every phone sees them: the name to show, never the name to sign in with.

    `username` stays in the record for the wire contract but is null: every phone pulls every
    user, and a login name is half of what it takes to guess a password or to aim the login
    limit at its owner. Pull fills it in for the caller's own record (server.sync.pull).
    """

    username = fields.Constant(None)
    display_name = fields.String()
    role = fields.String()
    town = fields.String(attribute="town_code", allow_none=True)
