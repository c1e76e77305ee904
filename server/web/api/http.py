"""Request parsing shared by the API views."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import current_app, request
from marshmallow import Schema

from server.errors import AppError, PayloadTooLarge
from server.storage.json_text import MAX_JSON_DEPTH, nesting_exceeds


def json_body(schema: Schema) -> dict[str, Any]:
    """Parse and validate the JSON body; unknown fields are refused.

    :raises AppError: invalid_json or too_deeply_nested (400); marshmallow's
        ValidationError becomes 422.
    """
    if not request.is_json:
        raise AppError("invalid_json", status=400)
    try:
        payload = json.loads(request.get_data(cache=True))
    except RecursionError as error:
        raise too_deep() from error
    except ValueError as error:  # not JSON, not UTF-8, an integer of over 4,300 digits
        raise AppError("invalid_json", status=400) from error
    if nesting_exceeds(payload, MAX_JSON_DEPTH):
        raise too_deep()
    return schema.load(payload)


def too_deep() -> AppError:
    return AppError("too_deeply_nested", {"max_depth": MAX_JSON_DEPTH}, status=400)


def limit_body(config_key: str):
    """Refuse a body over the configured size before any work is done.

    :raises PayloadTooLarge: 413 payload_too_large.
    """

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            limit = current_app.config[config_key]
            request.max_content_length = limit
            if request.content_length is not None and request.content_length > limit:
                raise PayloadTooLarge(details={"max_bytes": limit})
            return view(*args, **kwargs)

        return wrapped

    return decorator
