"""The compiled fast path of the strict schemas accepts only what marshmallow accepts, with
the same result; everything else is left to marshmallow (server.fastpath.schema_load)."""

from __future__ import annotations

import re
import uuid

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from marshmallow import Schema, ValidationError, fields, validate

from server.fastpath.schema_load import compile_loader
from server.schemas.base import StrictSchema, UUIDString
from server.schemas.cases import (
    CaseAssignSchema,
    CaseCreateSchema,
)
from server.schemas.sync import DeviceStatusSchema, PushRequestSchema
from server.sync.registry import REGISTRY
from testkit.workload import case_mutation

# The push envelope (its op one of the registry's), and every pushable op's payload.
MutationSchema = type(REGISTRY.envelope_schema)
PUSHED = [
    MutationSchema,
    PushRequestSchema,
    DeviceStatusSchema,
    *(spec.payload for spec in REGISTRY.pushable),
]

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["", "\x00", "a\x00b", "2026-11-26T09:12:00", "1e3", "true", "NaN"]),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


def marshmallow_only(schema_class: type[Schema]) -> Schema:
    """A schema instance whose own and nested loads never take the fast path."""
    schema = schema_class()

    def switch_off(instance: Schema) -> None:
        instance._fast_loader = None
        for field in instance.fields.values():
            inner = field.inner if isinstance(field, fields.List) else field
            if isinstance(inner, fields.Nested):
                switch_off(inner.schema)

    switch_off(schema)
    return schema


clean_text = st.text(
    st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=12
)


def rule(field: fields.Field, kind: type) -> object | None:
    return next((v for v in field.validators if isinstance(v, kind)), None)


def valid_value(field: fields.Field) -> st.SearchStrategy:
    """A value the field accepts."""
    if isinstance(field, fields.Nested):
        inner = payload(type(field.schema), odd_fields=0)
        return st.lists(inner, max_size=2) if field.many else inner
    length = rule(field, validate.Length)
    if isinstance(field, fields.List):
        return st.lists(valid_value(field.inner), max_size=min(length.max or 3, 3) if length else 3)
    if isinstance(field, UUIDString):
        return st.uuids().map(str)
    if isinstance(field, fields.DateTime):
        return st.datetimes(timezones=st.sampled_from([timezone(h) for h in (0, 8, -5)])).map(
            lambda moment: moment.isoformat()
        )
    if isinstance(field, fields.Float | fields.Integer):
        bounds = rule(field, validate.Range)
        low = bounds.min if bounds and bounds.min is not None else -(2**53)
        high = bounds.max if bounds and bounds.max is not None else 2**53
        if isinstance(field, fields.Integer):
            return st.integers(int(low), int(high))
        return st.integers(int(low), int(high)) | st.floats(float(low), float(high))
    if isinstance(field, fields.String):
        choices = rule(field, validate.OneOf)
        if choices:
            return st.sampled_from(list(choices.choices))
        pattern = rule(field, validate.Regexp)
        low = length.min or 0 if length else 0
        high = min(length.max, 40) if length and length.max is not None else 40
        if pattern:
            return st.from_regex(pattern.regex, fullmatch=True).filter(
                lambda text: low <= len(text) <= high
            )
        return st.text(
            st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)),
            min_size=low,
            max_size=high,
        )
    if isinstance(field, fields.Dict):
        return st.dictionaries(clean_text, json_values, max_size=3)
    return json_values


def odd_value(field: fields.Field) -> st.SearchStrategy:
    """Values of another type, just outside a limit, or not quite canonical."""
    odd: list[st.SearchStrategy] = [
        json_values,
        st.none(),
        st.booleans(),
        st.binary(max_size=4),
        st.sampled_from([float("nan"), float("inf"), 10**400]),
    ]
    if isinstance(field, fields.String):
        odd.append(valid_value(field).map(lambda text: text + "\x00"))
        length = rule(field, validate.Length)
        if length and length.max is not None:
            odd.append(st.text(min_size=length.max, max_size=length.max + 2))
    if isinstance(field, UUIDString):
        odd += [st.uuids().map(lambda u: str(u).upper()), st.uuids().map(lambda u: u.hex)]
    if isinstance(field, fields.Float | fields.Integer):
        bounds = rule(field, validate.Range)
        if bounds and bounds.max is not None:
            odd += [st.just(bounds.max + 1), st.just(float(bounds.max) + 0.5)]
        odd.append(st.floats(-10, 10))
    if isinstance(field, fields.DateTime):
        odd.append(st.datetimes().map(lambda moment: moment.isoformat()))
    if isinstance(field, fields.List):
        odd.append(st.lists(odd_value(field.inner), min_size=1, max_size=2))
    if isinstance(field, fields.Nested):
        odd.append(payload(type(field.schema), odd_fields=1))
    return st.one_of(*odd)


def timezone(hours: int):
    from datetime import timedelta
    from datetime import timezone as tz

    return tz(timedelta(hours=hours))


@st.composite
def payload(draw: st.DrawFn, schema_class: type[Schema], odd_fields: int | None = None) -> dict:
    """A valid payload (some optional fields left out) with up to `odd_fields` odd values."""
    schema = schema_class()
    out: dict = {}
    for name, field in schema.load_fields.items():
        if field.required or draw(st.booleans()):
            out[field.data_key or name] = draw(valid_value(field))
    odd = draw(st.integers(0, 2)) if odd_fields is None else odd_fields
    names = list(schema.load_fields)
    for _ in range(odd):
        field = schema.load_fields[draw(st.sampled_from(names))]
        key = field.data_key or field.name
        if draw(st.integers(0, 5)) == 0:
            out.pop(key, None)
        else:
            out[key] = draw(odd_value(field))
    if draw(st.integers(0, 9)) == 0:
        out[draw(clean_text)] = draw(json_values)  # an unknown key
    return out


def payloads(schema_class: type[Schema]) -> st.SearchStrategy:
    return st.one_of(payload(schema_class), payload(schema_class), json_values)


def outcome(schema: Schema, data: object) -> tuple[str, str]:
    """What marshmallow says, typed: repr keeps 1 and 1.0, and key order, apart."""
    try:
        return "loaded", repr(Schema.load(schema, data))
    except ValidationError:
        return "refused", ""


@pytest.mark.parametrize("schema_class", PUSHED, ids=lambda c: c.__name__)
def test_every_pushed_schema_has_a_fast_path(schema_class: type[Schema]) -> None:
    assert compile_loader(schema_class()) is not None


@pytest.mark.parametrize("schema_class", PUSHED, ids=lambda c: c.__name__)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fast_path_accepts_only_what_marshmallow_accepts_with_the_same_result(
    schema_class: type[Schema], data: st.DataObject
) -> None:
    candidate = data.draw(payloads(schema_class))
    fast = compile_loader(schema_class())
    assert fast is not None
    try:
        loaded = fast(candidate)
    except Exception:
        return
    assert outcome(marshmallow_only(schema_class), candidate) == ("loaded", repr(loaded))


@given(mutation=st.integers(0, 10_000).map(case_mutation))
@example(mutation=case_mutation(0))
@settings(max_examples=50, deadline=None)
def test_a_phones_new_case_is_loaded_by_the_fast_path_as_marshmallow_would(
    mutation: dict,
) -> None:
    envelope, payload_ = compile_loader(MutationSchema()), compile_loader(CaseCreateSchema())
    assert envelope is not None and payload_ is not None
    assert repr(envelope(mutation)) == outcome(marshmallow_only(MutationSchema), mutation)[1]
    assert (
        repr(payload_(mutation["data"]))
        == outcome(marshmallow_only(CaseCreateSchema), mutation["data"])[1]
    )


def test_the_error_a_user_sees_is_marshmallows() -> None:
    """Bad input goes to marshmallow, so the refusal names every wrong field as before."""
    bad = {**case_mutation(1)["data"], "severity": "urgent", "title": "", "colour": "red"}
    with pytest.raises(ValidationError) as refused:
        CaseCreateSchema().load(bad)
    assert set(refused.value.messages) == {"severity", "title", "colour"}
    with pytest.raises(ValidationError) as nul:
        CaseCreateSchema().load({**bad, "severity": "low", "title": "a\x00b", "colour": None})
    assert "title" in nul.value.messages


def test_a_schema_with_rules_it_does_not_know_always_uses_marshmallow() -> None:
    class Checked(StrictSchema):
        start = fields.Integer()
        end = fields.Integer()

        from marshmallow import validates_schema

        @validates_schema
        def ordered(self, data: dict, **_kwargs: object) -> None:
            if data.get("start", 0) > data.get("end", 0):
                raise ValidationError("start after end")

    assert compile_loader(Checked()) is None
    with pytest.raises(ValidationError):
        Checked().load({"start": 5, "end": 1})


def test_non_canonical_ids_are_still_accepted_and_made_canonical() -> None:
    shouting = str(uuid.uuid4()).upper()
    loaded = CaseAssignSchema().load({"assignee": shouting})
    assert loaded == {"assignee": shouting.lower()}
    assert re.fullmatch(r"[0-9a-f-]{36}", loaded["assignee"])
