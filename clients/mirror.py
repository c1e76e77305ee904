"""A headless client of the pull protocol that mirrors a feed into SQLite or JSON Lines.

The cursor is stored with the data it covers (one SQLite transaction per page; for JSON
Lines the page is appended and fsynced before the cursor file is replaced), so an
interrupted mirror resumes where it stopped. A `410 resync_required` starts a full pull;
records the fresh pull did not bring are then dropped.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

MAX_PAGES = 1_000_000
MAX_RETRIES = 8


class MirrorError(RuntimeError):
    """The server refused us (bad token, revoked) or kept failing."""


@dataclass
class Summary:
    pages: int = 0
    upserts: int = 0
    removals: int = 0
    resyncs: int = 0


class Target(Protocol):
    def cursor(self) -> str | None: ...
    def resyncing(self) -> bool: ...
    def apply_page(self, changes: list[dict], cursor: str) -> None: ...
    def start_resync(self) -> None: ...
    def finish_resync(self) -> None: ...


class SqliteTarget:
    """records(entity, record_id, version, data) and the cursor, updated in one transaction."""

    def __init__(self, path: Path):
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS records (entity TEXT, record_id TEXT, "
            "version INTEGER, data TEXT, seen INTEGER DEFAULT 1, "
            "PRIMARY KEY (entity, record_id))"
        )
        self.conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")

    def cursor(self) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'cursor'").fetchone()
        return row[0] if row else None

    def apply_page(self, changes: list[dict], cursor: str) -> None:
        self.conn.execute("BEGIN IMMEDIATE")
        for change in changes:
            if change["op"] == "remove":
                self.conn.execute(
                    "DELETE FROM records WHERE entity = ? AND record_id = ?",
                    (change["entity"], change["record_id"]),
                )
            else:
                self.conn.execute(
                    "INSERT OR REPLACE INTO records VALUES (?, ?, ?, ?, 1)",
                    (
                        change["entity"],
                        change["record_id"],
                        change["version"],
                        json.dumps(change["data"], ensure_ascii=False),
                    ),
                )
        self.conn.execute("INSERT OR REPLACE INTO meta VALUES ('cursor', ?)", (cursor,))
        self.conn.execute("COMMIT")

    def resyncing(self) -> bool:
        return self.conn.execute("SELECT 1 FROM meta WHERE key = 'resync'").fetchone() is not None

    def start_resync(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")
        self.conn.execute("UPDATE records SET seen = 0")
        self.conn.execute("DELETE FROM meta WHERE key = 'cursor'")
        self.conn.execute("INSERT OR REPLACE INTO meta VALUES ('resync', '1')")
        self.conn.execute("COMMIT")

    def finish_resync(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")
        self.conn.execute("DELETE FROM records WHERE seen = 0")
        self.conn.execute("DELETE FROM meta WHERE key = 'resync'")
        self.conn.execute("COMMIT")

    def close(self) -> None:
        self.conn.close()


class JsonLinesTarget:
    """changes.jsonl (append-only, every change as pulled) and a cursor file beside it."""

    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        self.changes = folder / "changes.jsonl"
        self.cursor_file = folder / "cursor"

    def cursor(self) -> str | None:
        return self.cursor_file.read_text().strip() if self.cursor_file.exists() else None

    def apply_page(self, changes: list[dict], cursor: str) -> None:
        with self.changes.open("a", encoding="utf-8") as handle:
            for change in changes:
                handle.write(json.dumps(change, ensure_ascii=False) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        staging = self.cursor_file.with_suffix(".tmp")
        staging.write_text(cursor)
        staging.replace(self.cursor_file)

    def resyncing(self) -> bool:
        return False

    def start_resync(self) -> None:
        with self.changes.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps({"op": "resync"}) + "\n")
        self.cursor_file.unlink(missing_ok=True)

    def finish_resync(self) -> None:
        """Readers drop what they held before the resync marker and was not seen after it."""

    def close(self) -> None:
        pass


def open_target(into: str) -> SqliteTarget | JsonLinesTarget:
    path = Path(into)
    if path.suffix in (".db", ".sqlite", ".sqlite3"):
        return SqliteTarget(path)
    return JsonLinesTarget(path)


class FeedClient:
    def __init__(self, base_url: str, token: str, limit: int = 1000):
        self.base = base_url.rstrip("/")
        self.token = token
        self.limit = limit

    def pull(self, cursor: str | None) -> tuple[int, dict[str, Any]]:
        query = {"limit": self.limit, **({"cursor": cursor} if cursor else {})}
        request = urllib.request.Request(
            f"{self.base}/api/v1/sync/pull?{urllib.parse.urlencode(query)}",
            headers={
                "Authorization": f"Bearer {self.token}",
                "X-Schema-Version": "1",
                "Accept-Language": "en",
            },
        )
        for attempt in range(MAX_RETRIES):
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    return response.status, json.load(response)
            except urllib.error.HTTPError as error:
                if error.code in (502, 503, 504):
                    time.sleep(min(30.0, 0.5 * 2**attempt))
                    continue
                return error.code, json.load(error)
            except urllib.error.URLError:
                time.sleep(min(30.0, 0.5 * 2**attempt))
        raise MirrorError(f"{self.base} did not answer after {MAX_RETRIES} tries")


def mirror(
    client: FeedClient, target: Target, progress=None, max_pages: int = MAX_PAGES
) -> Summary:
    """Pull until the feed is drained (or `max_pages`), applying every page to `target`."""
    summary = Summary()
    cursor = target.cursor()
    resyncing = target.resyncing()  # a resync interrupted earlier goes on
    for _ in range(max_pages):
        status, body = client.pull(cursor)
        if status == 410:
            if resyncing:
                raise MirrorError("the server asked for a resync during a resync")
            target.start_resync()
            cursor, resyncing = None, True
            summary.resyncs += 1
            continue
        if status != 200:
            error = body.get("error", {})
            raise MirrorError(f"{status} {error.get('code')}: {error.get('message')}")
        changes = body["changes"]
        target.apply_page(changes, body["cursor"])
        cursor = body["cursor"]
        summary.pages += 1
        summary.removals += sum(1 for c in changes if c["op"] == "remove")
        summary.upserts += sum(1 for c in changes if c["op"] != "remove")
        if progress is not None:
            progress(summary)
        if not body["has_more"]:
            if resyncing:
                target.finish_resync()
            return summary
    return summary
