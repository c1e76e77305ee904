"""JSON text as the server writes it: compact, Chinese kept as text (not \\u escapes)."""

from __future__ import annotations

import json
from typing import Any

import orjson


def to_json(value: Any) -> str:
    """orjson writes this about five times faster than the standard library, and the push
    path writes several JSON texts per intent (record columns, feed data, audit, receipt).
    What orjson does not take (integers beyond 64 bits, non-text keys) goes to the standard
    library, which writes the same form."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
