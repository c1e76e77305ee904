"""Jobs run inside the app, against the test's database, exactly as `fengling jobs` runs them."""

from __future__ import annotations

import pytest

from server.jobs.runner import RunOutcome, run_job


@pytest.fixture
def run(app):
    """run("rollup", dry_run=False) -> RunOutcome."""

    def run_in_app(name: str, dry_run: bool = False) -> RunOutcome:
        with app.app_context():
            return run_job(name, dry_run=dry_run)

    return run_in_app
