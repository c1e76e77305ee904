"""The only writer of the change feed, the audit trail and photo references.

Every change gets the next sequence number while the global write lock is held
(server.database.begin_write), so changes commit in sequence order and a pull
cursor never passes a change that commits later.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, update
from sqlalchemy.orm import Session

from server.models import BlobRef, Change, FeedEntry, FeedRevocation, ServerState
from server.models.base import utcnow


@dataclass(frozen=True)
class Author:
    """Who made a change: console and job changes have no device or mutation."""

    user_id: str | None
    device_id: str | None = None
    mutation_id: str | None = None


def to_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class FeedWriter:
    def __init__(self, session: Session, last_seq: int):
        self.session = session
        self.seq = last_seq

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
        self.seq += 1
        row = {
            "seq": self.seq,
            "op": "upsert",
            "version": version,
            "town_mask": town_mask,
            "owner_id": owner_id,
            "data": to_json(data),
        }
        if is_new:
            self.session.execute(
                insert(FeedEntry), [{"entity": entity, "record_id": record_id, **row}]
            )
        else:
            self.session.execute(
                update(FeedEntry)
                .where(FeedEntry.entity == entity, FeedEntry.record_id == record_id)
                .values(**row)
            )
        self.session.execute(
            insert(Change),
            [
                {
                    "seq": self.seq,
                    "entity": entity,
                    "record_id": record_id,
                    "version": version,
                    "action": action,
                    "fields": changed,
                    "user_id": author.user_id,
                    "device_id": author.device_id,
                    "mutation_id": author.mutation_id,
                    "at": utcnow(),
                }
            ],
        )
        return self.seq

    def revoke(self, entity: str, record_id: str, lost_mask: int) -> None:
        """Tell the towns in `lost_mask` to drop a record they can no longer see."""
        if lost_mask:
            self.session.execute(
                insert(FeedRevocation),
                [
                    {
                        "seq": self.seq,
                        "entity": entity,
                        "record_id": record_id,
                        "town_mask": lost_mask,
                    }
                ],
            )

    def rescope(self, entity: str, record_id: str, town_mask: int, lost_mask: int) -> None:
        """A record's visibility changed but not its data (a timeline following its case)."""
        self.seq += 1
        self.session.execute(
            update(FeedEntry)
            .where(FeedEntry.entity == entity, FeedEntry.record_id == record_id)
            .values(seq=self.seq, town_mask=town_mask)
        )
        self.revoke(entity, record_id, lost_mask)

    def set_photos(self, entity: str, record_id: str, photos: list[str], *, is_new: bool) -> None:
        if not is_new:
            self.session.execute(
                delete(BlobRef).where(BlobRef.entity == entity, BlobRef.record_id == record_id)
            )
        if photos:
            self.session.execute(
                insert(BlobRef),
                [{"sha256": h, "entity": entity, "record_id": record_id} for h in set(photos)],
            )

    def finish(self) -> None:
        """Store the last allocated sequence number; call once before commit."""
        self.session.execute(
            update(ServerState).where(ServerState.id == 1).values(last_seq=self.seq)
        )
