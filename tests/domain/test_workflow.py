"""The workflow table: which moves exist and who may make them (protocol rule 5)."""

from datetime import UTC, datetime, timedelta

import pytest

from server.domain.errors import RuleViolation
from server.domain.workflow import (
    OPEN_STATUSES,
    STATUSES,
    decide_transition,
    due_at,
    is_overdue,
    moves_for,
    overdue_clause,
)


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


NOON = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)  # 12:00 in Zhejiang


@pytest.mark.parametrize(
    ("status", "due", "overdue"),
    [
        ("registered", datetime(2026, 11, 30, tzinfo=UTC), True),
        ("accepted", NOON - timedelta(seconds=1), True),
        ("mediating", NOON, False),  # due this very moment: not yet late
        ("escalated", datetime(2026, 11, 1, tzinfo=UTC), True),
        ("resolved", datetime(2026, 11, 1, tzinfo=UTC), False),
        ("closed", datetime(2026, 11, 1, tzinfo=UTC), False),
        ("registered", datetime(2026, 12, 2, tzinfo=UTC), False),
    ],
)
def test_a_case_is_overdue_while_open_and_past_its_due_date(status, due, overdue):
    assert is_overdue(status, due, NOON) is overdue


def test_queries_select_exactly_the_cases_the_rule_calls_overdue():
    """The SQL form of the rule, run on a table of every status with a due date before, at
    and after now, picks the same cases as the Python form."""
    import sqlalchemy as sa

    table = sa.Table(
        "cases",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("status", sa.String),
        sa.Column("due_at", sa.DateTime),
    )
    dues = [NOON - timedelta(days=1), NOON, NOON + timedelta(days=1)]
    rows = [
        {"id": i, "status": s, "due_at": d}
        for i, (s, d) in enumerate((s, d) for s in STATUSES for d in dues)
    ]
    engine = sa.create_engine("sqlite://")
    with engine.begin() as conn:
        table.create(conn)
        conn.execute(
            table.insert(), [{**r, "due_at": r["due_at"].replace(tzinfo=None)} for r in rows]
        )
        now = NOON.replace(tzinfo=None)
        picked = set(
            conn.scalars(
                sa.select(table.c.id).where(overdue_clause(table.c.status, table.c.due_at, now))
            )
        )
    assert picked == {r["id"] for r in rows if is_overdue(r["status"], r["due_at"], NOON)}
    assert len(picked) == len(OPEN_STATUSES)
