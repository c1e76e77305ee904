"""The dispute case workflow: states, moves, and which roles may make each move."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from server.domain.errors import RuleViolation

STATUSES = ("registered", "accepted", "mediating", "resolved", "escalated", "closed")
INITIAL_STATUS = "registered"
OPEN_STATUSES = frozenset({"registered", "accepted", "mediating", "escalated"})

STAFF = frozenset({"supervisor", "admin"})
EVERYONE = frozenset({"worker", "supervisor", "admin"})

# (from, to) -> roles allowed. Workers mediate on the spot; only the town decides the rest.
MOVES: dict[tuple[str, str], frozenset[str]] = {
    ("registered", "accepted"): STAFF,
    ("accepted", "mediating"): EVERYONE,
    ("accepted", "escalated"): STAFF,
    ("mediating", "resolved"): EVERYONE,
    ("mediating", "escalated"): STAFF,
    ("escalated", "resolved"): STAFF,
    ("resolved", "closed"): STAFF,
    ("escalated", "closed"): STAFF,
}

# Days from registration to the due date, by severity.
DUE_DAYS = {"high": 3, "medium": 7, "low": 15}


@dataclass(frozen=True)
class TransitionDecision:
    """`changes` is False when the case already has the target status (rule 5)."""

    changes: bool
    event_kind: str = "status_change"


def decide_transition(
    current: str, from_status: str, to_status: str, role: str
) -> TransitionDecision:
    """Validate a move against the current state (rule 5).

    :raises RuleViolation: stale_transition, invalid_transition or forbidden.
    """
    if current == to_status:
        return TransitionDecision(changes=False)
    if from_status != current:
        raise RuleViolation("stale_transition", {"current": current, "from": from_status})
    allowed = MOVES.get((from_status, to_status))
    if allowed is None:
        raise RuleViolation("invalid_transition", {"from": from_status, "to": to_status})
    if role not in allowed:
        raise RuleViolation("forbidden", {"role": role, "to": to_status})
    kind = "escalation" if to_status == "escalated" else "status_change"
    return TransitionDecision(changes=True, event_kind=kind)


def due_at(registered_at: datetime, severity: str) -> datetime:
    return registered_at + timedelta(days=DUE_DAYS[severity])


def moves_for(role: str, current: str) -> list[str]:
    """The statuses a role may move a case to from `current`, for clients to offer."""
    return [to for (frm, to), roles in MOVES.items() if frm == current and role in roles]


def is_overdue(status: str, due: datetime | None, now: datetime) -> bool:
    """Overdue is never stored: a case is overdue while it is open and past its due date, so
    resolving or closing it clears it at once and no job has to run for it to show."""
    return status in OPEN_STATUSES and due is not None and due < now


def overdue_clause(status: Any, due: Any, now: datetime) -> Any:
    """The same rule as a SQL condition over the given columns (SQLAlchemy column elements),
    for queries that filter or count overdue cases: the due-date and status indexes serve it."""
    return status.in_(sorted(OPEN_STATUSES)) & (due < now)
