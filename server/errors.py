"""One exception family for protocol errors and one JSON envelope renderer."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify, request
from marshmallow import ValidationError
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException

from server.i18n import error_message, pick_language, translate_details

RETRY_AFTER_SECONDS = 5
# PostgreSQL: serialization failure, deadlock, lock timeout, cannot connect now.
TRANSIENT_PG_CODES = {"40001", "40P01", "55P03", "57P03"}


class AppError(Exception):
    """A protocol error with a stable code; the edge renders its message by language."""

    status = 400
    code = "bad_request"

    def __init__(
        self, code: str | None = None, details: dict | None = None, status: int | None = None
    ):
        super().__init__(code or self.code)
        self.code = code or self.code
        self.details = details or {}
        if status is not None:
            self.status = status


class ValidationFailed(AppError):
    status = 422
    code = "validation_failed"


class Unauthorized(AppError):
    status = 401
    code = "unauthorized"


class Forbidden(AppError):
    status = 403
    code = "forbidden"


class NotFound(AppError):
    status = 404
    code = "not_found"


class Conflict(AppError):
    status = 409
    code = "record_exists"


class PayloadTooLarge(AppError):
    status = 413
    code = "payload_too_large"


class TooManyAttempts(AppError):
    status = 429
    code = "too_many_attempts"


class ResyncRequired(AppError):
    status = 410
    code = "resync_required"


def flatten_errors(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """Marshmallow's nested messages as {"a.b.0.c": [reasons]}, the protocol's details shape."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            for field, reasons in flatten_errors(value, name).items():
                flat.setdefault(field, []).extend(reasons)
    elif isinstance(messages, list) and all(isinstance(item, str) for item in messages):
        flat[prefix or "_schema"] = list(messages)
    else:
        flat[prefix or "_schema"] = [str(messages)]
    return flat


def from_validation_error(error: ValidationError) -> ValidationFailed:
    return ValidationFailed(details=flatten_errors(error.messages))


def error_body(code: str, details: dict | None, language: str) -> dict:
    return {
        "error": {
            "code": code,
            "message": error_message(code, language),
            "details": translate_details(details or {}, language),
        }
    }


def render_error(code: str, status: int, details: dict | None = None) -> Response:
    language = pick_language(request.headers.get("Accept-Language"))
    response = jsonify(error_body(code, details, language))
    response.status_code = status
    return response


def is_transient(error: DBAPIError) -> bool:
    """Failures worth a retry: the database is busy, locked or briefly unreachable."""
    if isinstance(error, OperationalError):
        return True
    sqlstate = getattr(getattr(error, "orig", None), "sqlstate", None)
    return sqlstate in TRANSIENT_PG_CODES


def init_app(app: Flask) -> None:
    from server.extensions import db

    @app.errorhandler(AppError)
    def _app_error(error: AppError) -> Response:
        db.session.rollback()
        response = render_error(error.code, error.status, error.details)
        if error.status == 429:
            response.headers["Retry-After"] = str(app.config["LOGIN_WINDOW_SECONDS"])
        return response

    @app.errorhandler(ValidationError)
    def _validation_error(error: ValidationError) -> Response:
        db.session.rollback()
        return render_error("validation_failed", 422, flatten_errors(error.messages))

    @app.errorhandler(DBAPIError)
    def _database_error(error: DBAPIError) -> Response:
        # Rule 9: a transient failure stops the batch; nothing uncommitted survives.
        db.session.rollback()
        if not is_transient(error):
            raise error
        response = render_error("temporarily_unavailable", 503)
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response:
        codes = {
            400: "bad_request",
            404: "not_found",
            405: "method_not_allowed",
            413: "payload_too_large",
            415: "unsupported_media_type",
        }
        return render_error(codes.get(error.code or 400, "bad_request"), error.code or 400)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        db.session.rollback()
        app.logger.exception("unhandled error")
        return render_error("internal_error", 500)
