"""Every job is locked: a second run while one is running exits cleanly and says so."""

from __future__ import annotations

import threading

from server.jobs import runner
from server.models import JobLock, JobRun


def test_two_runs_at_once_one_runs_the_other_exits_saying_so(app, monkeypatch, rows):
    started, release = threading.Event(), threading.Event()

    def slow_job(ctx: runner.JobContext) -> runner.JobResult:
        started.set()
        assert release.wait(30)
        return runner.JobResult({"done": 1})

    monkeypatch.setitem(runner.JOBS, "slow", slow_job)
    outcomes: list[runner.RunOutcome] = []

    def run_in_thread() -> None:
        with app.app_context():
            outcomes.append(runner.run_job("slow"))

    first = threading.Thread(target=run_in_thread)
    first.start()
    assert started.wait(30)
    with app.app_context():
        second = runner.run_job("slow")
    release.set()
    first.join(30)
    assert second.exit_code == 0 and "already running" in second.line
    assert outcomes[0].exit_code == 0 and "done=1" in outcomes[0].line
    assert [r.outcome for r in rows(JobRun, name="slow")] == ["ok"]
    assert rows(JobLock) == []


def test_a_failing_job_exits_non_zero_and_records_why(app, monkeypatch, rows):
    def broken(ctx: runner.JobContext) -> runner.JobResult:
        raise RuntimeError("disk full")

    monkeypatch.setitem(runner.JOBS, "broken", broken)
    with app.app_context():
        outcome = runner.run_job("broken")
    assert outcome.exit_code == 1 and "disk full" in outcome.line
    [record] = rows(JobRun, name="broken")
    assert record.outcome == "failed" and "disk full" in record.message
    assert record.finished_at is not None
    assert rows(JobLock) == []
