"""Request parsing shared by the API views."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import current_app, request
from marshmallow import Schema

from server.errors import AppError, PayloadTooLarge


def json_body(schema: Schema) -> dict[str, Any]:
    """Parse and validate the JSON body; unknown fields are refused.

    :raises AppError: invalid_json (400); marshmallow's ValidationError becomes 422.
    """
    payload = request.get_json(silent=True)
    if payload is None:
        raise AppError("invalid_json", status=400)
    return schema.load(payload)


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
