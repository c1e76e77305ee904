"""backup and restore: a consistent online copy of the database plus the photos.

A backup is a folder: the database (SQLite's `VACUUM INTO`, or `pg_dump` from an exported
snapshot), `blobs.tar`, and `manifest.json` with row counts and a SHA-256 per file, so a
damaged copy is refused before anything is overwritten.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import subprocess
import tarfile
import uuid
from pathlib import Path

from flask import current_app
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import DBAPIError

from server.extensions import db
from server.jobs.runner import JobContext, JobResult, job
from server.models import Base, ServerState
from server.storage.database import begin_snapshot_read

MANIFEST = "manifest.json"


class BackupError(RuntimeError):
    """The backup cannot be used; the message says why."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def libpq_url() -> str:
    return db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def table_counts() -> dict[str, int]:
    return {
        name: db.session.scalar(select(func.count()).select_from(table))
        for name, table in sorted(Base.metadata.tables.items())
    }


def dump_database(folder: Path) -> tuple[str, dict[str, int], str]:
    """Copy the database as of one snapshot; returns (file name, row counts, epoch)."""
    begin_snapshot_read(db.session)
    counts, epoch = table_counts(), db.session.scalar(select(ServerState.epoch))
    if db.engine.dialect.name == "sqlite":
        db.session.rollback()
        source = db.engine.url.database
        with sqlite3.connect(source) as conn:  # VACUUM INTO reads one consistent snapshot
            conn.execute("VACUUM INTO ?", (str(folder / "database.sqlite"),))
        conn.close()
        return "database.sqlite", counts_of_sqlite(folder / "database.sqlite"), epoch
    snapshot = db.session.scalar(text("SELECT pg_export_snapshot()"))
    target = folder / "database.pgdump"
    subprocess.run(
        [
            "pg_dump",
            "--format=custom",
            "--no-owner",
            f"--snapshot={snapshot}",
            f"--file={target}",
            libpq_url(),
        ],
        check=True,
        capture_output=True,
    )
    db.session.rollback()
    return target.name, counts, epoch


def counts_of_sqlite(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as conn:
        counts = {
            name: conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
            for name in sorted(Base.metadata.tables)
        }
    conn.close()
    return counts


@job("backup")
def backup(ctx: JobContext) -> JobResult:
    data_dir = Path(ctx.config["DATA_DIR"])
    root = data_dir / "backups"
    name = f"fengling-{ctx.now.strftime('%Y%m%dT%H%M%S.%fZ')}"
    if ctx.dry_run:
        return JobResult(
            {
                "would_write": 1,
                "kept": min(len(list_backups(root)) + 1, int(ctx.config["BACKUP_KEEP"])),
            }
        )
    partial = root / f".{name}.partial"
    partial.mkdir(parents=True)
    try:
        database, counts, epoch = dump_database(partial)
        with tarfile.open(partial / "blobs.tar", "w") as tar:  # after the database: every
            tar.add(data_dir / "blobs", arcname="blobs")  # photo it names is on disk
        files = {
            f: {"size": (partial / f).stat().st_size, "sha256": sha256_of(partial / f)}
            for f in (database, "blobs.tar")
        }
        manifest = {
            "format": 1,
            "name": name,
            "created_at": ctx.now.isoformat(),
            "database": database,
            "epoch": epoch,
            "counts": counts,
            "files": files,
        }
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
        partial.rename(root / name)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    removed = prune(root, int(ctx.config["BACKUP_KEEP"]))
    return JobResult({"written": 1, "removed": removed, "rows": sum(counts.values())})


def list_backups(root: Path) -> list[Path]:
    if not root.exists():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and (p / MANIFEST).exists())


def prune(root: Path, keep: int) -> int:
    old = list_backups(root)[:-keep] if keep > 0 else []
    for folder in old:
        shutil.rmtree(folder)
    return len(old)


def read_manifest(folder: Path) -> dict:
    """:raises BackupError: missing, truncated or altered files."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError) as error:
        raise BackupError(f"no readable {MANIFEST} in {folder}") from error
    for name, expected in manifest["files"].items():
        path = folder / name
        if not path.exists() or path.stat().st_size != expected["size"]:
            raise BackupError(f"{name} is missing or truncated")
        if sha256_of(path) != expected["sha256"]:
            raise BackupError(f"{name} does not match its checksum")
    return manifest


def restore(folder: Path, *, force: bool = False) -> dict:
    """Bring a backup back into the configured database and data directory.

    The restored database gets a new epoch, so devices resync (their outboxes stay).
    :raises BackupError: a damaged backup, or a target that already holds data.
    """
    manifest = read_manifest(folder)
    if not force and has_data():
        raise BackupError("the target database already holds data; use --force to replace it")
    data_dir = Path(current_app.config["DATA_DIR"])
    db.session.remove()
    db.engine.dispose()
    if manifest["database"] == "database.sqlite":
        restore_sqlite(folder / "database.sqlite", Path(db.engine.url.database))
    else:
        subprocess.run(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                f"--dbname={libpq_url()}",
                str(folder / "database.pgdump"),
            ],
            check=True,
            capture_output=True,
        )
        forget_transaction_ids()
    with tarfile.open(folder / "blobs.tar") as tar:
        tar.extractall(data_dir, filter="data")
    new_epoch = str(uuid.uuid4())
    db.session.execute(text("UPDATE server_state SET epoch = :e WHERE id = 1"), {"e": new_epoch})
    db.session.commit()
    counts = table_counts()
    db.session.rollback()
    if counts != manifest["counts"]:
        raise BackupError(f"restored row counts differ from the manifest: {counts}")
    return {"rows": sum(counts.values()), "epoch": new_epoch}


def forget_transaction_ids() -> None:
    """PostgreSQL: the feed's positions (server.sync.cursor) hold the transaction ids of the
    cluster that wrote them, which the cluster restored into may not have reached yet: its
    pulls would not serve those rows until it did, and its writers would sort below them.
    Every restored row has committed, and the new epoch sends every device to pull from
    scratch, so all become (0, seq), as rows written before migration 0010 are."""
    if "txid" not in {c["name"] for c in inspect(db.engine).get_columns("feed")}:
        return  # a backup from before 0010: its upgrade gives every row txid 0
    for table in ("feed", "feed_revocations", "changes"):
        db.session.execute(text(f"UPDATE {table} SET txid = 0 WHERE txid <> 0"))
    db.session.execute(text("UPDATE server_state SET compacted_txid = 0"))


def restore_sqlite(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    staging = target.with_suffix(".restoring")
    shutil.copyfile(source, staging)
    staging.replace(target)


def has_data() -> bool:
    try:
        count = db.session.scalar(text("SELECT count(*) FROM users"))
    except DBAPIError:  # no schema yet: an empty database
        db.session.rollback()
        return False
    db.session.rollback()
    return bool(count)
