"""Text that no database can store, and how to make a copy of it that one can.

A NUL character cannot be stored by PostgreSQL; a lone UTF-16 surrogate (JSON's "\\ud83d"
without its pair: what a JavaScript string cut inside an emoji holds) cannot be encoded by
any driver. Schemas refuse both where a person's input enters (server.schemas.base); what
must be kept anyway (a refused intent's copy, error details echoing input) goes through
`storable`.
"""

from __future__ import annotations

import math
import re
from typing import Any, TypeVar, cast

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
LONE_SURROGATE = re.compile("[\ud800-\udfff]")
REPLACEMENT = "\ufffd"
Value = TypeVar("Value")


def storable_text(text: str) -> str:
    """`text` with each lone surrogate replaced by U+FFFD (NUL is kept: stored as JSON text
    it is an escape, which every database takes)."""
    return LONE_SURROGATE.sub(REPLACEMENT, text)


def column_text(text: str) -> str:
    """`text` for a plain text column: lone surrogates and NUL replaced by U+FFFD."""
    return UNSTORABLE.sub(REPLACEMENT, text)


def storable(value: Value) -> Value:
    """A parsed JSON value made storable as JSON anywhere: every string and key through
    `storable_text`, and NaN or an infinity (Python's parser takes them, PostgreSQL's JSON
    does not) written as text."""
    return cast(Value, _storable(value))


def _storable(value: Any) -> Any:
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, dict):
        return {_storable(key): _storable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_storable(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value
