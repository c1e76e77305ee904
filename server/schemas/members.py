"""The party-member roster as phones pull it (entity `member`)."""

from marshmallow import Schema, fields


class MemberDataSchema(Schema):
    """A member as their town's phones see them; `active` false hides them from the picker."""

    town = fields.String()
    name = fields.String()
    branch = fields.String()
    village = fields.String()
    active = fields.Boolean()
