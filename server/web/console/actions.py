"""Console actions run as intents: the same op handlers and domain rules as a push, in one
unit of work under the write lock, so every change lands in the feed for the phones."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from marshmallow import ValidationError
from sqlalchemy.exc import IntegrityError

from server.accounts.console_sessions import Staff
from server.domain.errors import RuleViolation
from server.errors import flatten_errors
from server.extensions import db
from server.i18n import error_message
from server.models import User
from server.models.base import new_id, utcnow
from server.sync.context import RefData, caller_for
from server.sync.ops import (
    ApplyContext,
    BatchState,
    CheckContext,
    Mutation,
    OpResult,
    Reader,
    run_check,
)
from server.sync.registry import REGISTRY
from server.sync.unit_of_work import feed_write_unit
from server.web.console.forms import FormError, translated
from server.web.console.i18n import current_language


class ActionRefused(FormError):
    """A rule refused the action; `message` says why in the user's language."""

    @property
    def message(self) -> str:
        return error_message(self.code, current_language())


def run_op(
    staff: Staff,
    op: str,
    record_id: str,
    data: dict[str, Any],
    base_version: int | None = None,
) -> OpResult:
    """Apply one intent as `staff` (no device: the audit shows it came from the console).

    :raises ActionRefused: validation or a domain rule refused it; nothing was written.
    """
    session = db.session
    with refusals_as_action_refused(), feed_write_unit(session, end_read=True) as unit:
        user = session.get(User, staff.user.id)
        if user is None or not user.is_active:
            raise RuleViolation("account_disabled", {})
        ref = RefData.load(session)
        caller = caller_for(user, None, ref)
        mutation = Mutation(new_id(), op, record_id, data, utcnow(), base_version)
        spec, batch = REGISTRY.get(op), BatchState()
        check = CheckContext(Reader(session), ref, caller, mutation, batch)
        plan = run_check(spec, check, session.connection())
        result = spec.apply(ApplyContext(session, unit.writer, ref, caller, mutation, batch), plan)
    return result


@contextmanager
def refusals_as_action_refused() -> Iterator[None]:
    """What refuses an intent, as the console's ActionRefused (the unit of work inside has
    already rolled back)."""
    try:
        yield
    except ValidationError as error:
        raise ActionRefused(translated(flatten_errors(error.messages))) from error
    except RuleViolation as error:
        details = error.details if isinstance(error.details, dict) else {}
        fields = {k: v for k, v in details.items() if isinstance(v, list)}
        raise ActionRefused(translated(fields), error.code) from error
    except IntegrityError as error:
        raise ActionRefused({}, "bad_request") from error
