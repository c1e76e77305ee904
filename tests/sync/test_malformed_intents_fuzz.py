"""Property: valid intents mixed with intents made of arbitrary JSON (all of Unicode, lone
surrogates written as JSON escapes, nesting, huge and negative numbers, floats, wrong types,
long text) never get a 5xx; each malformed one is rejected with a reason per field, never
`server_error`; each valid one is applied exactly once. On both databases."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.models import Case
from server.sync.registry import REGISTRY
from tests.factories import case_create, new_id

# Every code point, surrogates included (hypothesis leaves those out by default).
short_text = st.text(st.characters(exclude_categories=()), max_size=40)
# Long text (over every field's limit) built by repetition, cheap to generate.
any_text = short_text | st.builds(
    lambda text, times: (text or "长") * times, short_text, st.integers(200, 3_000)
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**80), 2**80)
    | st.integers(-(2**1100), 2**1100)  # past any float
    | st.floats(allow_nan=True, allow_infinity=True)
    | any_text
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(any_text, inner, max_size=4),
    max_leaves=20,
)
ops = st.sampled_from([spec.name for spec in REGISTRY.pushable]) | any_text
# Ids as a phone makes them, in other UUID spellings, or any text at all.
ids = st.builds(new_id) | st.builds(lambda: new_id().replace("-", "").upper()) | any_text
odd_envelopes = st.fixed_dictionaries(
    {"mutation_id": ids, "op": ops, "record_id": ids},
    optional={"data": json_values, "base_version": json_values, "client_time": json_values},
)
# A payload of a real op with one field replaced by an arbitrary value.
odd_payloads = st.builds(
    lambda field, value: {**case_create(), "data": {**case_create()["data"], field: value}},
    st.sampled_from(list(case_create()["data"])) | any_text,
    json_values,
)
malformed = odd_envelopes | odd_payloads | json_values


@given(
    batch=st.lists(
        st.tuples(st.booleans(), malformed).map(lambda pair: (pair[0], pair[1])),
        min_size=1,
        max_size=8,
    )
)
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_malformed_intents_are_rejected_alone_and_the_valid_ones_applied_once(worker, rows, batch):
    mutations, valid_ids = [], []
    for is_valid, odd in batch:
        if is_valid:
            create = case_create(title="山林纠纷 😀")
            valid_ids.append(create["record_id"])
            mutations.append(create)
        else:
            mutations.append(odd)
    body = json.dumps({"mutations": mutations})  # lone surrogates as escapes, NaN as NaN
    response = worker.client.post(
        "/api/v1/sync/push", data=body, content_type="application/json", headers=worker.headers
    )
    assert response.status_code == 200, response.get_json()
    results = response.get_json()["results"]
    assert len(results) == len(mutations)
    for (is_valid, _), result in zip(batch, results, strict=True):
        if is_valid:
            assert result["status"] == "applied", result
            continue
        if result["status"] == "rejected":
            error = result["error"]
            assert error["code"] != "server_error", error
            assert error["details"] and isinstance(error["details"], dict), error
            assert error["message"]
    stored = {case.id for case in rows(Case)}
    assert set(valid_ids) <= stored
    resent = worker.push_ok(*[m for m, (ok, _) in zip(mutations, batch, strict=True) if ok])
    assert all(r.get("replayed") for r in resent)
    assert len({case.id for case in rows(Case)}) == len(stored)  # nothing applied twice
