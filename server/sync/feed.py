"""The only writer of the change feed, the audit trail and photo references.

SQLite: every change gets the next sequence number while the one write lock is held
(server.storage.database.begin_write), so changes commit in sequence order and a pull
cursor never passes a change that commits later.

PostgreSQL: writers run concurrently. Numbers come from the `feed_seq` sequence (unique,
no lock), and every row is stamped with its transaction's id (`txid`); pulls serve only
rows of transactions that have all ended, in (txid, seq) order (server.sync.pull).

Feed rows are written at once (later intents of the batch may move them); audit rows
and photo references are only read after commit, so they are kept and written in a few
statements by `finish()`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, bindparam, or_, select, text
from sqlalchemy.orm import Session

from server.domain.visibility import ALL_TOWNS, Scope
from server.fastpath.bulk_insert import insert_many
from server.models import BlobGrant, BlobRef, Change, FeedEntry, FeedRevocation, ServerState
from server.models.base import table_of, utcnow
from server.storage.json_text import to_json

FEED = table_of(FeedEntry)
CHANGES = table_of(Change)
REFS = table_of(BlobRef)
GRANTS = table_of(BlobGrant)
UPDATE_FEED = FEED.update().where(
    FEED.c.entity == bindparam("b_entity"), FEED.c.record_id == bindparam("b_record_id")
)
# PostgreSQL: `n` numbers, and the transaction's id (assigned now if it had none).
NUMBERS = text(
    "SELECT pg_current_xact_id()::text::bigint, nextval('feed_seq') FROM generate_series(1, :n)"
)
MAX_NUMBERS_AT_ONCE = 512


@dataclass(frozen=True)
class Author:
    """Who made a change: console and job changes have no device or mutation."""

    user_id: str | None
    device_id: str | None = None
    mutation_id: str | None = None


@dataclass(frozen=True)
class PhotoSet:
    """A record's photo list as an intent left it, and who named them (None: no one with
    rights, so the names never count)."""

    entity: str
    record_id: str
    photos: list[str]
    is_new: bool
    named_by: Scope | None


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    numbered: int
    changes: int
    photo_sets: int
    new_rows: int


class FeedWriter:
    def __init__(self, session: Session, last_seq: int):
        self.session = session
        self.seq = last_seq
        # PostgreSQL: numbers come from the sequence a few at a time (`numbers`, of which
        # `numbered` are used), with the transaction id stamped on every row (`stamp`).
        self.concurrent = session.get_bind().dialect.name == "postgresql"
        self.numbers: list[int] = []
        self.numbered = 0
        self.stamp: dict[str, int] = {}
        # What server_state.last_seq holds in this transaction; None once a rollback to a
        # savepoint may have undone the update.
        self.written_seq: int | None = last_seq
        self.changes: list[dict[str, Any]] = []
        self.photo_sets: list[PhotoSet] = []
        # With `buffer_new_rows`, new rows (feed rows, and records through `insert`) wait and
        # go in one statement per table (push's fast path); `flush()` writes them, before
        # anything updates or reads what they hold, and `finish()` at the end.
        self.buffer_new_rows = False
        self.new_rows: list[tuple[Table, dict[str, Any]]] = []

    @property
    def conn(self) -> Connection:
        return self.session.connection()

    def checkpoint(self) -> Checkpoint:
        return Checkpoint(
            self.seq, self.numbered, len(self.changes), len(self.photo_sets), len(self.new_rows)
        )

    def reset_to(self, point: Checkpoint) -> None:
        """Forget everything since `point`, numbers included: its transaction rolled back."""
        self.rollback_to(point)
        self.seq = point.seq
        self.numbered = point.numbered

    def next_seq(self) -> int:
        """The number of the next change: after the last one on SQLite, from the sequence on
        PostgreSQL (taken in growing batches, so a unit asks O(log n) times for n changes;
        the ones it does not use are skipped, which only leaves gaps in the numbers)."""
        if not self.concurrent:
            self.seq += 1
            return self.seq
        if self.numbered == len(self.numbers):
            wanted = min(max(len(self.numbers), 1), MAX_NUMBERS_AT_ONCE)
            rows = self.conn.execute(NUMBERS, {"n": wanted}).all()
            self.stamp = {"txid": int(rows[0][0])}
            self.numbers += [int(seq) for _, seq in rows]
        self.seq = self.numbers[self.numbered]
        self.numbered += 1
        return self.seq

    def rollback_to(self, point: Checkpoint) -> None:
        """Forget what an intent rolled back to its savepoint had queued."""
        self.written_seq = None
        del self.changes[point.changes :]
        del self.photo_sets[point.photo_sets :]
        del self.new_rows[point.new_rows :]

    def insert(self, table: Table, row: dict[str, Any]) -> None:
        """Insert a new row now, or with the batch's others when buffering."""
        if self.buffer_new_rows:
            self.new_rows.append((table, row))
        else:
            self.conn.execute(table.insert(), row)

    def flush(self) -> None:
        """Write the buffered new rows, one statement per table (no foreign key links them)."""
        by_table: dict[Table, list[dict[str, Any]]] = {}
        for table, row in self.new_rows:
            by_table.setdefault(table, []).append(row)
        for table, rows in by_table.items():
            insert_many(self.conn, table, rows)
        self.new_rows = []

    def publish(
        self,
        entity: str,
        record_id: str,
        version: int,
        town_mask: int,
        data: dict[str, Any],
        *,
        author: Author,
        action: str,
        changed: dict[str, Any],
        is_new: bool,
        owner_id: str | None = None,
    ) -> int:
        """Record an upsert of `record_id` in the feed and the audit trail; returns its seq."""
        seq = self.next_seq()
        row = {
            "seq": seq,
            "op": "upsert",
            "version": version,
            "town_mask": town_mask,
            "owner_id": owner_id,
            "data": to_json(data),
            **self.stamp,
        }
        if is_new:
            self.insert(FEED, {"entity": entity, "record_id": record_id, **row})
        else:
            self.flush()
            self.conn.execute(UPDATE_FEED, {"b_entity": entity, "b_record_id": record_id, **row})
        self.changes.append(
            {
                "seq": seq,
                "entity": entity,
                "record_id": record_id,
                "version": version,
                "action": action,
                "fields": changed,
                "user_id": author.user_id,
                "device_id": author.device_id,
                "mutation_id": author.mutation_id,
                "at": utcnow(),
                **self.stamp,
            }
        )
        return seq

    def revoke(self, entity: str, record_id: str, lost_mask: int) -> None:
        """Tell the towns in `lost_mask` to drop a record they can no longer see (at the
        number of the unit's last change, or a number of its own if it has none yet)."""
        if lost_mask:
            if self.concurrent and not self.numbered:
                self.next_seq()
            self.conn.execute(
                table_of(FeedRevocation).insert(),
                {
                    "seq": self.seq,
                    "entity": entity,
                    "record_id": record_id,
                    "town_mask": lost_mask,
                    **self.stamp,
                },
            )

    def rescope(self, entity: str, record_id: str, town_mask: int, lost_mask: int) -> None:
        """A record's visibility changed but not its data (a timeline following its case)."""
        seq = self.next_seq()
        self.flush()
        self.conn.execute(
            UPDATE_FEED,
            {
                "b_entity": entity,
                "b_record_id": record_id,
                "seq": seq,
                "town_mask": town_mask,
                **self.stamp,
            },
        )
        self.revoke(entity, record_id, lost_mask)

    def set_photos(
        self,
        entity: str,
        record_id: str,
        photos: list[str],
        *,
        is_new: bool,
        named_by: Scope | None,
    ) -> None:
        """Queue a record's photo list; `named_by` is the scope of who wrote it, whose right to
        name each new photo is checked when the references are written."""
        self.photo_sets.append(PhotoSet(entity, record_id, list(photos), is_new, named_by))

    def finish(self) -> None:
        """Write the queued feed and audit rows and photo references, and on SQLite the last
        sequence number. Calling it again writes only what was queued since (nothing if
        nothing was): the unit of work (server.sync.unit_of_work) finishes its writer at
        commit, whether or not the code it ran had finished it already."""
        self.flush()
        if self.changes:
            insert_many(self.conn, CHANGES, self.changes)
        self.write_photo_refs()
        if self.seq != self.written_seq and not self.concurrent:
            self.conn.execute(
                table_of(ServerState).update().where(ServerState.id == 1).values(last_seq=self.seq)
            )
            self.written_seq = self.seq
        self.changes, self.photo_sets = [], []

    def write_photo_refs(self) -> None:
        """Write the references of the queued photo lists (the last list of a record wins).

        A photo a record already named keeps its reference as it was; only a newly named
        photo is checked (valid_names): a record may name a photo only if its author holds
        a grant for it or can see a record whose naming of it is valid. Anything else is
        kept as a pending name, which the author's upload of the bytes makes valid
        (server.storage.blobs.grant). Indexed look-ups only, per named photo."""
        final: dict[tuple[str, str], PhotoSet] = {}
        replaced: set[tuple[str, str]] = set()
        for photo_set in self.photo_sets:
            key = (photo_set.entity, photo_set.record_id)
            final[key] = photo_set
            if not photo_set.is_new:
                replaced.add(key)
        rows: list[dict[str, Any]] = []
        for key, photo_set in final.items():
            wanted = set(photo_set.photos)
            kept = self.keep_named(key, wanted) if key in replaced else {}
            author = (photo_set.named_by.user_id or None) if photo_set.named_by else None
            named = sorted(wanted - set(kept))
            pending = sorted(h for h, valid in kept.items() if not valid)
            valid = self.valid_names(named + pending, photo_set.named_by)
            rows += [
                {
                    "sha256": h,
                    "entity": key[0],
                    "record_id": key[1],
                    "named_by": author,
                    "valid": h in valid,
                }
                for h in named
            ]
            # A pending name the new author has a right to counts now, as theirs; one they
            # have no right to stays its first author's, whose upload can still make it count.
            confirmed = [h for h in pending if h in valid]
            if confirmed:
                self.conn.execute(
                    REFS.update()
                    .where(
                        REFS.c.entity == key[0],
                        REFS.c.record_id == key[1],
                        REFS.c.sha256.in_(confirmed),
                    )
                    .values(valid=True, named_by=author)
                )
        if rows:
            insert_many(self.conn, REFS, rows)

    def keep_named(self, key: tuple[str, str], wanted: set[str]) -> dict[str, bool]:
        """Drop a record's references to photos it no longer names; the ones it still names,
        each with whether its naming counts."""
        entity, record_id = key
        where = (REFS.c.entity == entity, REFS.c.record_id == record_id)
        existing = dict(self.conn.execute(select(REFS.c.sha256, REFS.c.valid).where(*where)).all())
        gone = set(existing) - wanted
        if gone:
            self.conn.execute(REFS.delete().where(*where, REFS.c.sha256.in_(gone)))
        return {h: bool(valid) for h, valid in existing.items() if h in wanted}

    def valid_names(self, photos: list[str], scope: Scope | None) -> set[str]:
        """The photos `scope` may name: those its user uploaded (a grant), and those named
        validly by a record it can see."""
        if not photos or scope is None or not scope.user_id:
            return set()
        granted = set(
            self.conn.scalars(
                select(GRANTS.c.sha256).where(
                    GRANTS.c.user_id == scope.user_id, GRANTS.c.sha256.in_(photos)
                )
            )
        )
        rest = [h for h in photos if h not in granted]
        if not rest:
            return granted
        seen = self.conn.scalars(
            select(REFS.c.sha256)
            .distinct()
            .join(
                FEED,
                (FEED.c.entity == REFS.c.entity) & (FEED.c.record_id == REFS.c.record_id),
            )
            .where(
                REFS.c.sha256.in_(rest),
                REFS.c.valid.is_(True),
                FEED.c.op == "upsert",
                or_(FEED.c.town_mask.op("&")(scope.mask) != 0, FEED.c.owner_id == scope.user_id),
            )
        )
        return granted | set(seen)


def publish_reference(
    writer: FeedWriter,
    entity: str,
    record_id: str,
    data: dict[str, Any],
    *,
    is_new: bool,
    version: int = 1,
    author: Author | None = None,
) -> None:
    """Reference data and people's names are visible to every town."""
    writer.publish(
        entity,
        record_id,
        version,
        ALL_TOWNS,
        data,
        author=author or Author(None),
        action=f"{entity}.{'create' if is_new else 'update'}",
        changed=data,
        is_new=is_new,
    )
