"""escalate-overdue flags late cases, notes it on their timeline, and phones see it."""

from __future__ import annotations

from datetime import datetime

from server.clock import CHINA
from server.models import Case, CaseEvent, JobRun
from tests.factories import case_create, transition


def test_overdue_open_cases_are_flagged_once_and_phones_see_it(
    clock, run, worker, supervisor, rows
):
    """Two medium cases registered on 26 November 2026 at 09:12 are due a week later; on
    4 December the one still open is flagged, not the closed one nor one registered that day."""
    late, closed, fresh = case_create(), case_create(), case_create()
    worker.push_ok(late, closed)
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
    assert rows(Case, id=late["record_id"])[0].due_at == datetime(2026, 12, 3, 9, 12, tzinfo=CHINA)
    clock.set(datetime(2026, 12, 4, 8, 0, tzinfo=CHINA))
    worker.push_ok(fresh)
    worker.sync()

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
