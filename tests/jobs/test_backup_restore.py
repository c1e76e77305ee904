"""A backup of a populated server restores into an empty data directory with every record and
photo; a damaged backup is refused; restored cursors resync."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from server import create_app
from server.extensions import db
from server.jobs.backup import BackupError, restore
from server.models import FeedEntry
from tests.conftest import pg_admin, pg_url
from tests.factories import DeviceClient, case_create
from tests.web.api.test_blobs import fetch, png, put, sha


@pytest.fixture
def empty_target(backend: str, tmp_path: Path):
    """A fresh data directory and an empty database of the same kind."""
    config = {"TESTING": True, "DATA_DIR": str(tmp_path / "restored")}
    name = None
    if backend == "postgresql":
        name = f"fengling_r_{uuid.uuid4().hex[:12]}"
        pg_admin(f'CREATE DATABASE "{name}"')
        config["DATABASE_URL"] = pg_url(name)
    app = create_app(config)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    if name:
        pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def newest_backup(app) -> Path:
    return sorted((Path(app.config["DATA_DIR"]) / "backups").iterdir())[-1]


def test_backup_restores_into_an_empty_data_directory_with_records_and_photos(
    app, run, worker, empty_target
):
    photo = png(42)
    put(worker, photo)
    cases = [case_create(photos=[sha(photo)]), case_create(title="第二件")]
    worker.push_ok(*cases)
    worker.sync()
    assert run("backup").exit_code == 0
    folder = newest_backup(app)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["counts"]["cases"] == 2 and manifest["counts"]["blobs"] == 1

    with empty_target.app_context():
        result = restore(folder)
    assert result["rows"] == sum(manifest["counts"].values())
    with empty_target.app_context():
        # Positions carry no transaction id of the cluster that wrote them (server.sync.cursor).
        assert db.session.scalar(select(func.max(FeedEntry.txid))) == 0
        db.session.rollback()
    phone = DeviceClient(empty_target.test_client(), "dayan_worker")
    assert phone.login().status_code == 200
    phone.sync()
    assert {c["record_id"] for c in cases} <= set(phone.of("case"))
    assert fetch(phone, f"/api/v1/blobs/{sha(photo)}") == (200, photo)
    # A phone that synced before the restore gets 410 and resyncs (new epoch).
    worker.client = empty_target.test_client()
    worker.login()
    assert worker.pull(worker.cursor).status_code == 410


def test_a_truncated_backup_is_refused_loudly(app, run, worker, empty_target):
    worker.push_ok(case_create())
    run("backup")
    folder = newest_backup(app)
    database = folder / json.loads((folder / "manifest.json").read_text())["database"]
    database.write_bytes(database.read_bytes()[:-100])
    with empty_target.app_context(), pytest.raises(BackupError, match="truncated"):
        restore(folder)


def test_restore_refuses_to_overwrite_a_database_with_data(app, run):
    run("backup")
    with app.app_context(), pytest.raises(BackupError, match="already holds data"):
        restore(newest_backup(app))


def test_backups_beyond_the_retention_are_removed(make_app):
    from server.jobs.runner import run_job

    app = make_app(BACKUP_KEEP=2)
    with app.app_context():
        for _ in range(3):
            assert run_job("backup").exit_code == 0
    assert len(list((Path(app.config["DATA_DIR"]) / "backups").iterdir())) == 2
