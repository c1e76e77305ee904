"""escalate-overdue flags late cases, notes it on their timeline, and phones see it."""

from __future__ import annotations

from server.models import Case, CaseEvent, JobRun
from tests.factories import case_create, transition


def test_overdue_open_cases_are_flagged_once_and_phones_see_it(
    run, worker, supervisor, execute, rows
):
    late, closed, fresh = case_create(), case_create(), case_create()
    worker.push_ok(late, closed, fresh)
    supervisor.push_ok(
        *[
            transition(closed["record_id"], a, b)
            for a, b in (
                ("registered", "accepted"),
                ("accepted", "mediating"),
                ("mediating", "resolved"),
                ("resolved", "closed"),
            )
        ]
    )
    worker.sync()
    execute(
        "UPDATE cases SET due_at = '2026-01-01 00:00:00+00:00' WHERE id IN (:a, :b)",
        a=late["record_id"],
        b=closed["record_id"],
    )

    dry = run("escalate-overdue", dry_run=True)
    assert dry.exit_code == 0 and "overdue=1" in dry.line
    assert [c.is_overdue for c in rows(Case, id=late["record_id"])] == [False]

    assert "overdue=1" in run("escalate-overdue").line
    assert "overdue=0" in run("escalate-overdue").line  # idempotent
    [case] = rows(Case, id=late["record_id"])
    assert case.is_overdue and case.version == 2
    [event] = rows(CaseEvent, case_id=late["record_id"], kind="overdue")
    assert event.by is None
    assert not rows(Case, id=closed["record_id"])[0].is_overdue

    changes = worker.sync()
    assert {(c["entity"], c.get("data", {}).get("kind")) for c in changes} == {
        ("case", None),
        ("case_event", "overdue"),
    }
    assert worker.of("case")[late["record_id"]]["data"]["is_overdue"] is True
    assert [r.outcome for r in rows(JobRun, name="escalate-overdue")] == ["dry_run", "ok", "ok"]
