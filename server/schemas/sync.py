"""Envelopes of push and pull."""

from functools import cache
from typing import Any

from marshmallow import Schema, fields, validate

from server.schemas.base import StrictSchema, UUIDString, text_field

ENTITIES = (
    "town",
    "category",
    "site",
    "route",
    "case",
    "case_event",
    "checkin",
    "conflict",
    "user",
    "member",
)


class DeviceStatusSchema(StrictSchema):
    pending = fields.Integer(strict=True, validate=validate.Range(0, 1_000_000))
    app_version = text_field(30)
    sw_version = text_field(30)
    storage_used = fields.Integer(strict=True, validate=validate.Range(0, 2**53))  # bytes


class PushRequestSchema(StrictSchema):
    """Mutations are checked one by one (a bad one rejects only itself), so here they are raw."""

    text_check_skip = ("mutations",)

    device = fields.Nested(DeviceStatusSchema, load_default=None)
    mutations = fields.List(fields.Raw(allow_none=True), required=True)


class MutationSchema(StrictSchema):
    """The envelope of one intent; server.sync.registry makes the schema push uses, whose
    `op` is one of the pushable ops."""

    text_check_skip = ("data",)  # loaded by the op's own schema
    mutation_id = UUIDString(required=True)
    op = fields.String(required=True)
    record_id = UUIDString(required=True)
    client_time = fields.AwareDateTime(load_default=None)
    base_version = fields.Integer(strict=True, load_default=None, validate=validate.Range(min=1))
    data = fields.Dict(required=True)


class ConflictSummarySchema(Schema):
    field = fields.String()
    kept = fields.Raw(allow_none=True)
    incoming = fields.Raw(allow_none=True)
    conflict_id = fields.String()


class ResultErrorSchema(Schema):
    code = fields.String()
    message = fields.String()
    details = fields.Dict()


class MutationResultSchema(Schema):
    mutation_id = fields.Raw(allow_none=True)  # echoed as sent; null when it was unusable
    status = fields.String(validate=validate.OneOf(("applied", "merged", "rejected")))
    record_id = fields.String(allow_none=True)
    version = fields.Integer()
    conflicts = fields.List(fields.Nested(ConflictSummarySchema))
    error = fields.Nested(ResultErrorSchema)
    replayed = fields.Boolean()


class PushResponseSchema(Schema):
    results = fields.List(fields.Nested(MutationResultSchema))
    server_time = fields.DateTime()


class PullQuerySchema(StrictSchema):
    """The pull's query string; a `limit` above `max_limit` (PULL_MAX_LIMIT) is refused."""

    cursor = fields.String(validate=validate.Length(max=512))
    limit = fields.Integer()

    def __init__(self, *, max_limit: int, **kwargs: Any):
        super().__init__(**kwargs)
        self.fields["limit"].validators = [validate.Range(1, max_limit)]


@cache
def pull_query_schema(max_limit: int) -> PullQuerySchema:
    """One schema per maximum, built once: building one (and compiling its fast path) cost
    more than a whole incremental pull's query."""
    return PullQuerySchema(max_limit=max_limit)


class ChangeSchema(Schema):
    entity = fields.String(validate=validate.OneOf(ENTITIES))
    record_id = fields.String()
    op = fields.String(validate=validate.OneOf(("upsert", "remove")))
    version = fields.Integer()
    data = fields.Dict()


class PullResponseSchema(Schema):
    changes = fields.List(fields.Nested(ChangeSchema))
    cursor = fields.String()
    has_more = fields.Boolean()
    server_time = fields.DateTime()
