"""escalate-overdue notes late cases on their timeline once, and phones see the note; whether
a case is overdue never waits for the job (tests/web/console: queue, statistics, export)."""

from __future__ import annotations

from datetime import datetime

from server.clock import CHINA
from server.models import Case, CaseEvent, JobRun
from tests.factories import case_create, case_update, transition


def test_overdue_open_cases_get_one_timeline_event_and_phones_see_it(
    clock, run, worker, supervisor, rows
):
    """Two medium cases registered on 26 November 2026 at 09:12 are due a week later; on
    4 December the one still open gets an overdue event, not the closed one nor one
    registered that day, and a second run adds nothing."""
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
    assert rows(CaseEvent, kind="overdue") == []

    assert "overdue=1" in run("escalate-overdue").line
    clock.advance(days=1)
    assert "overdue=0" in run("escalate-overdue").line  # idempotent, a day later too
    [event] = rows(CaseEvent, case_id=late["record_id"], kind="overdue")
    assert event.by is None
    assert rows(CaseEvent, case_id=closed["record_id"], kind="overdue") == []
    assert rows(Case, id=late["record_id"])[0].version == 1  # the case itself is untouched

    changes = worker.sync()
    assert [(c["entity"], c["data"]["kind"], c["data"]["case_id"]) for c in changes] == [
        ("case_event", "overdue", late["record_id"])
    ]
    assert [r.outcome for r in rows(JobRun, name="escalate-overdue")] == [
        "dry_run",
        "ok",
        "ok",
    ]


def test_a_case_due_again_later_is_noted_again_when_that_date_passes(
    clock, run, worker, supervisor, rows
):
    """A medium case goes overdue and is noted; the worker lowers its severity, which moves
    its due date to 15 days after registration: nothing more until that date passes."""
    late = case_create()
    worker.push_ok(late)
    clock.set(datetime(2026, 12, 4, 8, 0, tzinfo=CHINA))
    assert "overdue=1" in run("escalate-overdue").line
    worker.push_ok(case_update(late["record_id"], 1, severity="low"))
    assert rows(Case, id=late["record_id"])[0].due_at == datetime(2026, 12, 11, 9, 12, tzinfo=CHINA)
    assert "overdue=0" in run("escalate-overdue").line
    clock.set(datetime(2026, 12, 11, 10, 0, tzinfo=CHINA))
    assert "overdue=1" in run("escalate-overdue").line
    assert "overdue=0" in run("escalate-overdue").line
    assert len(rows(CaseEvent, case_id=late["record_id"], kind="overdue")) == 2
