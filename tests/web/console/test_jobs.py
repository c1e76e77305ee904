"""Admins see what the scheduled jobs did: every run with its outcome and counts."""

from __future__ import annotations

from server.jobs.runner import run_job


def test_an_admin_sees_each_job_run_with_its_counts(app, admin_console, report, execute):
    case_id = report()
    execute("UPDATE cases SET due_at = '2020-01-01 00:00:00+00:00' WHERE id = :id", id=case_id)
    with app.app_context():
        assert run_job("escalate-overdue").exit_code == 0
        assert run_job("rollup", dry_run=True).exit_code == 0
    page = admin_console.page("/console/admin/jobs")
    rows = page.select("#job-runs tbody tr[data-outcome]")
    assert [row.select("td")[0].text for row in rows] == ["rollup", "escalate-overdue"]
    assert rows[1]["data-outcome"] == "ok" and "overdue: 1" in rows[1].text
    assert rows[0]["data-outcome"] == "dry_run"
    only = admin_console.page("/console/admin/jobs", query_string={"name": "rollup"})
    assert len(only.select("#job-runs tbody tr[data-outcome]")) == 1


def test_a_failed_run_stands_out_and_supervisors_cannot_look(app, console, execute):
    execute(
        "INSERT INTO job_runs (name, started_at, finished_at, outcome, counts, message) "
        "VALUES ('backup', '2026-11-26 01:00:00+00:00', '2026-11-26 01:00:05+00:00', "
        "'failed', '{}', 'OSError: disk full')"
    )
    page = console("admin").page("/console/admin/jobs")
    [row] = page.select("#job-runs tbody tr.stale")
    assert "disk full" in row.text and "失败" in row.text
    assert console("dayan_supervisor").get("/console/admin/jobs").status_code == 403


def test_an_admin_with_a_home_town_opens_the_jobs_page(console, execute):
    """The header names the admin's town through names(); the page's own list of job names
    must not hide it. Accounts made before the console refused a town for an admin (the
    command line accepted one) still have it."""
    execute("UPDATE users SET town_code = 'dayan' WHERE username = 'admin'")
    page = console("admin").page("/console/admin/jobs")
    assert "大堰镇" in page.select_one("header .user").text
    options = [o["value"] for o in page.select("select[name=name] option") if o["value"]]
    assert options == ["escalate-overdue", "rollup", "compact", "backup", "verify", "unsent-import"]
    labels = [o.text for o in page.select("select[name=name] option") if o["value"]]
    assert labels[-1] == "导入待同步数据"  # an import of a phone's unsent work, in words
