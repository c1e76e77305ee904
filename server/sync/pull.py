"""Pull: every change visible to the caller above the cursor, gap-free, one snapshot a page."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BindParameter,
    Integer,
    Select,
    String,
    Text,
    bindparam,
    cast,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from server.domain.visibility import Scope
from server.errors import ResyncRequired
from server.fastpath.feed_json import change_json
from server.fastpath.prepared import run_prepared
from server.models import FeedEntry, FeedRevocation, ServerState, User
from server.storage.json_text import to_json
from server.sync.cursor import Cursor

STATE = select(ServerState.epoch, ServerState.last_seq, ServerState.compacted_seq)


@dataclass(frozen=True)
class PullPage:
    """`changes_json` holds the changes already serialised, to join into the response."""

    changes_json: list[str]
    cursor: str
    has_more: bool


def pull(session: Session, scope: Scope, cursor_text: str | None, limit: int) -> PullPage:
    """Read one page. The caller opened a snapshot (server.storage.database.begin_snapshot_read).

    :raises ResyncRequired: the cursor is from another epoch, compacted history, or
        a visibility the caller no longer has.
    """
    conn = session.connection()
    epoch, last_seq, compacted_seq = run_prepared(conn, STATE)[0]
    after = 0
    if cursor_text:
        cursor = Cursor.decode(cursor_text)
        reason = resync_reason(cursor, epoch, last_seq, compacted_seq, scope)
        if reason:
            raise ResyncRequired(details={"reason": reason})
        after = cursor.seq
    rows = run_prepared(
        conn, VISIBLE_CHANGES, after=after, mask=scope.mask, user_id=scope.user_id, limit=limit + 1
    )
    has_more = len(rows) > limit
    rows = rows[:limit]
    # Everything up to last_seq is committed in this snapshot: the next pull starts there.
    next_seq = rows[-1][0] if has_more else max(last_seq, after)
    return PullPage(
        changes_json=[
            own_user_json(session, row)
            if row[1] == "user" and row[2] == scope.user_id
            else change_json(*row[1:])
            for row in rows
        ],
        cursor=Cursor(epoch, next_seq, scope.fingerprint).encode(),
        has_more=has_more,
    )


def own_user_json(session: Session, row: Sequence[Any]) -> str:
    """The caller's own user record with their login name, which the feed leaves out for
    everyone (server.schemas.towns.UserDataSchema). Read only when the page holds that
    record: on a first sync and after the account changed."""
    entity, record_id, op, version, data = row[1:]
    if op == "remove" or data is None:
        return change_json(entity, record_id, op, version, data)
    record = json.loads(data)
    record["username"] = session.scalar(select(User.username).where(User.id == record_id))
    return change_json(entity, record_id, op, version, to_json(record))


def resync_reason(
    cursor: Cursor, epoch: str, last_seq: int, compacted_seq: int, scope: Scope
) -> str | None:
    if cursor.epoch != epoch:
        return "epoch"
    if cursor.seq < compacted_seq:
        return "compacted"
    if cursor.seq > last_seq:
        return "ahead"
    if cursor.scope != scope.fingerprint:
        return "visibility"
    return None


def _visible_changes_statement() -> Select[tuple[int, str, str, str, int | None, str | None]]:
    """Upserts and removals a scope (`mask`, `user_id`) may see above `after`, in sequence
    order, at most `limit`.

    Each side is limited before the two are merged, so a page reads at most `limit` rows of
    each index range instead of sorting everything above the cursor (which made a pull from
    scratch cost more with every page). Built once: building it cost about as much as
    running it.
    """
    # Untyped, as before: a typed parameter would be cast (mask ::INTEGER overflows on
    # PostgreSQL for an all-towns scope).
    after: BindParameter[int] = bindparam("after")
    mask: BindParameter[int] = bindparam("mask")
    limit: BindParameter[int] = bindparam("limit")
    feed = (
        select(
            FeedEntry.seq,
            FeedEntry.entity,
            FeedEntry.record_id,
            FeedEntry.op,
            FeedEntry.version,
            FeedEntry.data,
        )
        .where(
            FeedEntry.seq > after,
            or_(FeedEntry.town_mask.op("&")(mask) != 0, FeedEntry.owner_id == bindparam("user_id")),
        )
        .order_by(FeedEntry.seq)
        .limit(limit)
        .subquery()
    )
    revocations = (
        select(
            FeedRevocation.seq,
            FeedRevocation.entity,
            FeedRevocation.record_id,
            literal("remove", String).label("op"),
            cast(null(), Integer).label("version"),
            cast(null(), Text).label("data"),
        )
        .where(FeedRevocation.seq > after, FeedRevocation.town_mask.op("&")(mask) != 0)
        .order_by(FeedRevocation.seq)
        .limit(limit)
        .subquery()
    )
    both = union_all(select(feed), select(revocations)).subquery()
    return select(both).order_by(both.c.seq).limit(limit)


VISIBLE_CHANGES = _visible_changes_statement()
