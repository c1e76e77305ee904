"""A pull page joined as text (server.fastpath.feed_json) parses to what json.dumps gives."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from server.fastpath.feed_json import change_json, page_json
from server.storage.json_text import to_json

# Stored data is JSON written by the push path; any JSON value, with all of Unicode.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
upserts = st.tuples(
    st.sampled_from(["case", "case_event", "checkin", "conflict", "town", "user"]),
    st.text(),
    st.integers(1, 2**31),
    json_values,
)
removes = st.tuples(st.sampled_from(["case", "checkin"]), st.text())


@given(
    changes=st.lists(upserts | removes, max_size=6),
    cursor=st.text(),
    has_more=st.booleans(),
    server_time=st.text(),
)
def test_a_page_joined_as_text_is_the_page_json_dumps_would_write(
    changes, cursor, has_more, server_time
):
    written, plain = [], []
    for change in changes:
        if len(change) == 4:
            entity, record_id, version, data = change
            written.append(change_json(entity, record_id, "upsert", version, to_json(data)))
            plain.append(
                {
                    "entity": entity,
                    "record_id": record_id,
                    "op": "upsert",
                    "version": version,
                    "data": data,
                }
            )
        else:
            entity, record_id = change
            written.append(change_json(entity, record_id, "remove", None, None))
            plain.append({"entity": entity, "record_id": record_id, "op": "remove"})
    page = page_json(written, cursor, has_more, server_time)
    expected = {
        "changes": plain,
        "cursor": cursor,
        "has_more": has_more,
        "server_time": server_time,
    }
    assert json.loads(page) == json.loads(json.dumps(expected))
