"""Cross-town handoff: the lead town of a case moves only when the receiving town agrees."""

from __future__ import annotations

from dataclasses import dataclass

from server.domain.errors import RuleViolation
from server.domain.workflow import OPEN_STATUSES

PENDING = "pending"
DECISIONS = ("accepted", "declined", "cancelled")


@dataclass(frozen=True)
class Towns:
    """A case's lead town and its co-handling towns."""

    lead: str
    co_handling: tuple[str, ...]


def check_request(
    status: str, towns: Towns, to_town: str, role: str, caller_town: str | None, pending: bool
) -> None:
    """Staff of the lead town (or an admin) may ask another town to take the lead of an
    open case, one request at a time.

    :raises RuleViolation: forbidden, invalid_handoff.
    """
    if role != "admin" and not (role == "supervisor" and caller_town == towns.lead):
        raise RuleViolation("forbidden", {"role": role, "town": caller_town})
    if status not in OPEN_STATUSES:
        raise RuleViolation("invalid_handoff", {"status": status})
    if to_town == towns.lead:
        raise RuleViolation("invalid_handoff", {"to_town": to_town})
    if pending:
        raise RuleViolation("invalid_handoff", {"pending": True})


def check_decision(
    handoff_status: str,
    decision: str,
    from_town: str,
    to_town: str,
    role: str,
    caller_town: str | None,
    note: str,
    case_status: str,
) -> None:
    """The receiving town accepts or declines (a decline says why); the asking town may
    cancel; an admin may do either. A case finished meanwhile can no longer be taken over.

    :raises RuleViolation: invalid_handoff, forbidden, validation_failed.
    """
    if handoff_status != PENDING or decision not in DECISIONS:
        raise RuleViolation("invalid_handoff", {"status": handoff_status})
    if decision == "accepted" and case_status not in OPEN_STATUSES:
        raise RuleViolation("invalid_handoff", {"case_status": case_status})
    deciding_town = from_town if decision == "cancelled" else to_town
    if role != "admin" and not (role == "supervisor" and caller_town == deciding_town):
        raise RuleViolation("forbidden", {"role": role, "town": caller_town})
    if decision == "declined" and not note.strip():
        raise RuleViolation("validation_failed", {"note": ["Missing data for required field."]})


def towns_after_handoff(towns: Towns, to_town: str) -> Towns:
    """The receiving town leads; the former lead stays on as a co-handling town."""
    others = [code for code in towns.co_handling if code != to_town]
    return Towns(lead=to_town, co_handling=(towns.lead, *others))
