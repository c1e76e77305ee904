"""A pull's response written as text from the feed's stored JSON, never parsed again.

Each change's `data` is already JSON text in the feed (written once, by the push that made
it); parsing it only to serialise it again cost a pull more than its query. So the page is
joined as text. tests/fastpath/test_feed_json.py checks that the result parses to what
`json.dumps` of the same page would give.
"""

from __future__ import annotations

from server.storage.json_text import to_json


def change_json(entity: str, record_id: str, op: str, version: int | None, data: str | None) -> str:
    """One change: an upsert with its version and stored data, or a remove. `entity` is one
    of the server's own names (plain ASCII), so it needs no escaping."""
    head = f'{{"entity":"{entity}","record_id":{to_json(record_id)}'
    if op == "remove":
        return head + ',"op":"remove"}'
    return f'{head},"op":"upsert","version":{int(version or 0)},"data":{data}}}'


def page_json(changes_json: list[str], cursor: str, has_more: bool, server_time: str) -> str:
    """The pull response around changes already written by `change_json`."""
    return (
        '{"changes":[' + ",".join(changes_json) + "],"
        f'"cursor":{to_json(cursor)},"has_more":{"true" if has_more else "false"},'
        f'"server_time":{to_json(server_time)}}}'
    )
