"""A fast path that loads input the project's strict schemas accept, without marshmallow's
per-field machinery.

Why: a push validates every intent twice (envelope and payload); in marshmallow that costs
about 150 µs per case, most of it in bookkeeping (error stores, getters, hook dispatch)
rather than in the checks. `compile_loader` turns a schema's fields into plain checks once.
The result only ever *accepts*: on anything it does not handle, or any doubt, it raises
`Defer` and the caller runs marshmallow, which decides and words the error. So the rules
stay those of the marshmallow schema; tests/fastpath/test_schema_load.py compares both on
generated valid and invalid input.

Covered: String, Integer, Float, Boolean, Raw, Dict (without key/value fields), List,
Nested, UUIDString, DateTime and AwareDateTime; validators of any kind (they are called as
marshmallow calls them); required, load_default, allow_none, data_key, attribute; unknown
RAISE or EXCLUDE; the StrictSchema refusal of unstorable text (NUL, lone surrogates).
Anything else (other hooks, partial loads, other field types) makes `compile_loader` return
None: that schema always uses marshmallow.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, missing

from server.text import UNSTORABLE

Loader = Callable[[Any], Any]
# The one pre_load hook the fast path knows (server.schemas.base.StrictSchema).
TEXT_HOOK = "refuse_unstorable_text"
CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class Defer(Exception):
    """Not sure: let marshmallow decide."""


class Unsupported(Exception):
    """The schema uses something the fast path does not cover."""


def compile_loader(schema: Schema) -> Loader | None:
    """A function that returns what `schema.load(data)` would, or raises `Defer`."""
    try:
        return _compile_schema(schema, text_checked=False)
    except Unsupported:
        return None


def has_unstorable(value: Any) -> bool:
    """True when a parsed JSON value holds unstorable text (UNSTORABLE), in a key or a
    string."""
    kind = type(value)
    if kind is str:
        return UNSTORABLE.search(value) is not None
    if kind is dict:
        for key, item in value.items():
            if (type(key) is str and UNSTORABLE.search(key)) or _item_has_unstorable(item):
                return True
    elif kind is list:
        for item in value:
            if _item_has_unstorable(item):
                return True
    return False


def _item_has_unstorable(item: Any) -> bool:
    kind = type(item)
    if kind is str:
        return UNSTORABLE.search(item) is not None
    return (kind is dict or kind is list) and has_unstorable(item)


def _compile_schema(schema: Schema, text_checked: bool) -> Loader:
    """`text_checked`: the parent schema's check for unstorable text already covered this value."""
    if schema.many or schema.partial or schema.unknown not in (RAISE, EXCLUDE):
        raise Unsupported(schema)
    hooks = {tag: names for tag, names in schema._hooks.items() if names}
    checks_text = False
    if hooks:
        if set(hooks) != {"pre_load"} or [h[0] for h in hooks["pre_load"]] != [TEXT_HOOK]:
            raise Unsupported(schema)
        from server.schemas.base import StrictSchema

        if type(schema).refuse_unstorable_text is not StrictSchema.refuse_unstorable_text:
            raise Unsupported(schema)
        checks_text = True
    skip = frozenset(getattr(schema, "text_check_skip", ()))
    plan = []
    for name, field in schema.load_fields.items():
        in_key = field.data_key if field.data_key is not None else name
        out_key = field.attribute or name
        if "." in out_key:
            raise Unsupported(out_key)
        covered = text_checked or (checks_text and in_key not in skip)
        convert = _compile_field(field, covered)
        default = field.load_default
        plan.append((in_key, out_key, convert, bool(field.required), default, callable(default)))
    must_check_text = checks_text and not text_checked
    refuse_unknown = schema.unknown == RAISE

    def load(data: Any) -> dict[str, Any]:
        if type(data) is not dict:
            raise Defer
        if must_check_text:
            for key, value in data.items():
                if key not in skip and _item_has_unstorable(value):
                    raise Defer
        out: dict[str, Any] = {}
        seen = 0
        for in_key, out_key, convert, required, default, default_is_callable in plan:
            value = data.get(in_key, missing)
            if value is missing:
                if required:
                    raise Defer
                if default is not missing:
                    out[out_key] = default() if default_is_callable else default
                continue
            seen += 1
            out[out_key] = convert(value)
        if refuse_unknown and seen != len(data):
            raise Defer
        return out

    return load


def _compile_field(field: fields.Field, text_checked: bool) -> Loader:
    """A converter for a present value: marshmallow's `Field.deserialize` minus `missing`."""
    if getattr(field, "pre_load", None) or getattr(field, "post_load", None):
        raise Unsupported(field)
    convert = _converter(field, text_checked)
    validators = tuple(field.validators)
    allow_none = field.allow_none

    def deserialize(value: Any) -> Any:
        if value is None:
            if allow_none:
                return None
            raise Defer
        output = convert(value)
        for validator in validators:
            try:
                if validator(output) is False:
                    raise Defer
            except ValidationError:
                raise Defer from None
        return output

    return deserialize


def _exactly(python_type: type) -> Loader:
    """Values of exactly this type pass unchanged; anything else defers."""

    def check(value: Any) -> Any:
        if type(value) is not python_type:
            raise Defer
        return value

    return check


def _converter(field: fields.Field, text_checked: bool) -> Loader:
    from server.schemas.base import UUIDString

    kind = type(field)
    if kind is fields.String:
        return _exactly(str)
    if kind is fields.Integer:
        return _exactly(int)  # not bool, not 1.0: marshmallow refuses or converts those
    if kind is fields.Float:
        allow_nan = field.allow_nan

        def floating(value: Any) -> float:
            if type(value) is int:
                return float(value)  # OverflowError: the caller defers on any exception
            if type(value) is not float or (not allow_nan and not math.isfinite(value)):
                raise Defer
            return value

        return floating
    if kind is fields.Boolean:
        if field.truthy != fields.Boolean.truthy or field.falsy != fields.Boolean.falsy:
            raise Unsupported(field)

        def boolean(value: Any) -> bool:
            if value is True or value is False:
                return value
            raise Defer

        return boolean
    if kind is fields.Raw:
        return lambda value: value
    if kind is fields.Dict:
        if field.key_field is not None or field.value_field is not None:
            raise Unsupported(field)

        def mapping(value: Any) -> dict:
            if type(value) is not dict:
                raise Defer
            return dict(value)

        return mapping
    if kind is UUIDString:

        def uuid_string(value: Any) -> str:
            if type(value) is not str or not CANONICAL_UUID.fullmatch(value):
                raise Defer
            return value

        return uuid_string
    if kind in (fields.DateTime, fields.AwareDateTime):

        def moment(value: Any) -> Any:
            if type(value) is not str:
                raise Defer
            try:
                return field._deserialize(value, None, None)
            except ValidationError:
                raise Defer from None

        return moment
    if kind is fields.List:
        inner = _compile_field(field.inner, text_checked)

        def listing(value: Any) -> list:
            if type(value) is not list:
                raise Defer
            return [inner(item) for item in value]

        return listing
    if kind is fields.Nested:
        if field.unknown is not None or not isinstance(field.schema, Schema):
            raise Unsupported(field)
        nested = _compile_schema(field.schema, text_checked)
        if field.many:

            def many(value: Any) -> list:
                if type(value) is not list:
                    raise Defer
                return [nested(item) for item in value]

            return many
        return nested
    raise Unsupported(field)
