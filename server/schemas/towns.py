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
    username = fields.String()
    display_name = fields.String()
    role = fields.String()
    town = fields.String(attribute="town_code", allow_none=True)
