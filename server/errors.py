"""One exception family for protocol errors, free of HTTP: the core raises them and
server.web.errors renders them."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError
from sqlalchemy.exc import DBAPIError, OperationalError

# PostgreSQL: serialization failure, deadlock, lock timeout, statement timeout, cannot
# connect now.
TRANSIENT_PG_CODES = {"40001", "40P01", "55P03", "57014", "57P03"}
# Unique keys that only a concurrent writer can make a push break (PostgreSQL's feed
# writers are concurrent, server.storage.database.begin_write): a second receipt for one
# (device, mutation_id), when two pushes of one mutation ran at once; a case number, read as
# the town's last one plus one while another push took that number. The push rolls back
# whole and runs again (server.accounts.device_auth) or answers 503; either way the next
# attempt sees the other's row (its stored result is replayed, the next number is taken).
CONCURRENT_UNIQUE_KEYS = {"pk_mutation_receipts", "uq_cases_number"}


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


def is_write_conflict(error: BaseException) -> bool:
    """A concurrent writer won (PostgreSQL): a serialization failure, a deadlock, or a unique
    key only such a writer can break. The unit of work that lost may run again at once."""
    if not isinstance(error, DBAPIError):
        return False
    orig = getattr(error, "orig", None)
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate == "23505":
        return getattr(getattr(orig, "diag", None), "constraint_name", None) in (
            CONCURRENT_UNIQUE_KEYS
        )
    return sqlstate in ("40001", "40P01")


def is_transient(error: DBAPIError) -> bool:
    """Failures worth a retry: the database is busy, locked or briefly unreachable."""
    if isinstance(error, OperationalError):
        return True
    if is_write_conflict(error):
        return True
    sqlstate = getattr(getattr(error, "orig", None), "sqlstate", None)
    return sqlstate in TRANSIENT_PG_CODES
