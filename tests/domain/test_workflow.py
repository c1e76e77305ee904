"""The workflow table: which moves exist and who may make them (protocol rule 5)."""

from datetime import UTC, datetime

import pytest

from server.domain.errors import RuleViolation
from server.domain.workflow import decide_transition, due_at, moves_for


@pytest.mark.parametrize(
    ("current", "to", "role", "kind"),
    [
        ("registered", "accepted", "supervisor", "status_change"),
        ("accepted", "mediating", "worker", "status_change"),
        ("mediating", "resolved", "worker", "status_change"),
        ("mediating", "escalated", "supervisor", "escalation"),
        ("accepted", "escalated", "admin", "escalation"),
        ("escalated", "resolved", "supervisor", "status_change"),
        ("resolved", "closed", "supervisor", "status_change"),
        ("escalated", "closed", "admin", "status_change"),
    ],
)
def test_workflow_allows_each_move_to_its_roles(current, to, role, kind):
    decision = decide_transition(current, current, to, role)
    assert decision.changes is True
    assert decision.event_kind == kind


@pytest.mark.parametrize(
    ("current", "to", "role"),
    [
        ("registered", "accepted", "worker"),
        ("resolved", "closed", "worker"),
        ("mediating", "escalated", "worker"),
        ("mediating", "resolved", "integration"),
    ],
)
def test_workflow_refuses_a_role_without_the_right(current, to, role):
    with pytest.raises(RuleViolation) as refused:
        decide_transition(current, current, to, role)
    assert refused.value.code == "forbidden"


@pytest.mark.parametrize(
    ("current", "to"),
    [("registered", "closed"), ("closed", "registered"), ("registered", "resolved")],
)
def test_workflow_refuses_a_move_that_does_not_exist(current, to):
    with pytest.raises(RuleViolation) as refused:
        decide_transition(current, current, to, "admin")
    assert refused.value.code == "invalid_transition"


def test_workflow_refuses_a_move_from_a_status_the_case_no_longer_has():
    with pytest.raises(RuleViolation) as refused:
        decide_transition("mediating", "accepted", "escalated", "supervisor")
    assert refused.value.code == "stale_transition"
    assert refused.value.details == {"current": "mediating", "from": "accepted"}


def test_workflow_same_move_twice_is_applied_without_change_whatever_from_says():
    decision = decide_transition("accepted", "registered", "accepted", "worker")
    assert decision.changes is False


def test_due_date_follows_severity():
    registered = datetime(2026, 11, 1, tzinfo=UTC)
    assert (due_at(registered, "high") - registered).days == 3
    assert (due_at(registered, "medium") - registered).days == 7
    assert (due_at(registered, "low") - registered).days == 15


def test_workers_are_offered_only_their_moves():
    assert moves_for("worker", "accepted") == ["mediating"]
    assert moves_for("supervisor", "mediating") == ["resolved", "escalated"]
