"""The one JSON error envelope, in the caller's language, for every error a request meets."""

from __future__ import annotations

from flask import Flask, Response, jsonify, request
from marshmallow import ValidationError
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from server.errors import AppError, flatten_errors, is_transient
from server.i18n import error_message, pick_language, translate_details

RETRY_AFTER_SECONDS = 5


def error_body(code: str, details: dict | None, language: str) -> dict:
    return {
        "error": {
            "code": code,
            "message": error_message(code, language, wait=retry_after(details)),
            "details": translate_details(details or {}, language),
        }
    }


def retry_after(details: dict | None) -> int | None:
    """The seconds to wait that an error carries (the login limit's), said in its message
    and in the Retry-After header too."""
    wait = (details or {}).get("retry_after")
    return wait if isinstance(wait, int) else None


def render_error(code: str, status: int, details: dict | None = None) -> Response:
    language = pick_language(request.headers.get("Accept-Language"))
    response = jsonify(error_body(code, details, language))
    response.status_code = status
    wait = retry_after(details)
    if wait is not None:
        response.headers["Retry-After"] = str(wait)
    return response


def init_app(app: Flask) -> None:
    from server.extensions import db

    @app.errorhandler(AppError)
    def _app_error(error: AppError) -> Response:
        db.session.rollback()
        return render_error(error.code, error.status, error.details)

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
