"""`schema.dump` for records whose values already have the right types."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields


class FastDump:
    """`schema.dump` for records whose values already have the right types, in a tenth of the
    time: the feed serialises every change, so this sits on the push hot path. The schema
    still decides the fields and their names; `tests/test_schemas.py` checks both agree."""

    def __init__(self, schema: Schema):
        self.plan = [
            (field.attribute or name, field.data_key or name, isinstance(field, fields.DateTime))
            for name, field in schema.dump_fields.items()
        ]
        self.fields = [key for _, key, _ in self.plan]

    def __call__(self, obj: Any) -> dict[str, Any]:
        getter = obj.get if isinstance(obj, dict) else lambda key: getattr(obj, key, None)
        out: dict[str, Any] = {}
        for attribute, key, is_time in self.plan:
            value = getter(attribute)
            out[key] = value.isoformat() if is_time and value is not None else value
        return out
