"""verify passes on a healthy server and names what is wrong on a damaged one."""

from __future__ import annotations

from pathlib import Path

from tests.factories import case_create, case_update
from tests.web.api.test_blobs import png, put, sha


def test_verify_passes_on_a_healthy_server_and_counts_pending_photos(run, worker):
    photo, pending = png(1), png(2)
    put(worker, photo)
    create = case_create(photos=[sha(photo), sha(pending)])
    worker.push_ok(create, case_update(create["record_id"], 1, title="改"))
    outcome = run("verify")
    assert outcome.exit_code == 0
    assert "photos_referenced=2, photos_pending=1, problems=0" in outcome.line


def test_verify_fails_when_a_photo_file_or_a_version_is_missing(app, run, worker, execute):
    photo = png(3)
    put(worker, photo)
    create = case_create(photos=[sha(photo)])
    worker.push_ok(create)
    digest = sha(photo)
    (Path(app.config["DATA_DIR"]) / "blobs" / digest[:2] / digest[2:4] / digest).unlink()
    execute("UPDATE cases SET version = 5 WHERE id = :id", id=create["record_id"])
    outcome = run("verify")
    assert outcome.exit_code == 1
    assert f"photo {digest} is recorded but its file is missing" in outcome.line
    assert "is at version 5 with 1 changes in its history" in outcome.line


def test_verify_fails_when_a_case_number_counter_is_behind_its_cases(clock, run, login, execute):
    """A counter behind its town's greatest number would give the next case a taken number."""
    admin = login("admin")
    admin.push_ok(case_create("dayan"), case_create("dayan"), case_create("xidian"))
    assert run("verify").exit_code == 0
    execute("UPDATE case_number_counters SET last_number = 1 WHERE prefix = 'DY2026-'")
    execute("DELETE FROM case_number_counters WHERE prefix = 'XD2026-'")
    outcome = run("verify")
    assert outcome.exit_code == 1
    assert "case numbers DY2026- reach 2 but the counter is at 1" in outcome.line
    assert "case numbers XD2026- reach 1 but have no counter" in outcome.line
