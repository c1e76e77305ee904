"""Pull: every change visible to the caller above the cursor, gap-free, one snapshot a page.

The feed is read in order of position, (txid, seq) (server.sync.cursor).

SQLite has one writer at a time, numbering changes in commit order with txid 0: every row
in the snapshot is committed, and none can commit later at or below `last_seq`.

PostgreSQL writers run concurrently (server.sync.feed). A page serves only rows whose
transaction id is below the snapshot's horizon: the oldest transaction of this database
still running when the snapshot was taken, else the next id to be handed out
(server.storage.database.FEED_HORIZON; the snapshot's xmin if only transactions of other
databases are left out). Every transaction of this database below it has ended (committed
and visible in the snapshot, or rolled back), and no transaction can later get an id below
it (ids only grow), so the set of rows with a txid below the horizon is final: a row can
only leave it by being rewritten by a later transaction, at a position of that
transaction's, at or above the horizon. Hence the cursor a page returns, its last row's
position or (horizon, 0) when the page reaches the end, never passes a change that commits
later, and whatever was below it and changed since is served again at its new position.
The horizon never goes back, so a valid cursor is never ahead of it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    BindParameter,
    ColumnClause,
    Integer,
    Select,
    String,
    Text,
    bindparam,
    cast,
    literal,
    literal_column,
    null,
    or_,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.orm import Session

from server.domain.visibility import Scope
from server.errors import ResyncRequired
from server.fastpath.feed_json import change_json
from server.fastpath.prepared import run_prepared
from server.models import FeedEntry, FeedRevocation, ServerState, User
from server.storage.database import FEED_HORIZON
from server.storage.json_text import to_json
from server.sync.cursor import Cursor

STATE = select(ServerState.epoch, ServerState.last_seq, ServerState.compacted_seq)
# PostgreSQL: instead of last_seq, the feed's horizon in the snapshot (the page's first
# statement takes it).
HORIZON: ColumnClause[int] = literal_column(FEED_HORIZON, BigInteger)
STATE_CONCURRENT = select(
    ServerState.epoch, HORIZON, ServerState.compacted_txid, ServerState.compacted_seq
)
Position = tuple[int, int]


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
    concurrent = conn.dialect.name == "postgresql"
    if concurrent:
        epoch, horizon, compacted_txid, compacted_seq = run_prepared(conn, STATE_CONCURRENT)[0]
        # Every transaction below the horizon has ended: the position at the end of the feed.
        end: Position = (horizon, 0)
        compacted: Position = (compacted_txid, compacted_seq)
    else:
        epoch, last_seq, compacted_seq = run_prepared(conn, STATE)[0]
        # Everything up to last_seq is committed in this snapshot.
        end, compacted = (0, last_seq), (0, compacted_seq)
    after: Position = (0, 0)
    if cursor_text:
        cursor = Cursor.decode(cursor_text)
        reason = resync_reason(cursor, epoch, end, compacted, scope)
        if reason:
            raise ResyncRequired(details={"reason": reason})
        after = cursor.position
    visible = {"mask": scope.mask, "user_id": scope.user_id, "limit": limit + 1}
    rows: Sequence[Sequence[Any]]
    if concurrent:
        rows = run_prepared(
            conn,
            VISIBLE_CHANGES_CONCURRENT,
            after_txid=after[0],
            after_seq=after[1],
            horizon=end[0],
            **visible,
        )
    else:
        rows = run_prepared(conn, VISIBLE_CHANGES, after=after[1], **visible)
    has_more = len(rows) > limit
    rows = rows[:limit]
    # The next pull starts after the last row served, or at the end of the feed.
    if has_more:
        next_position = (rows[-1][6], rows[-1][0]) if concurrent else (0, rows[-1][0])
    else:
        next_position = max(end, after)
    return PullPage(
        changes_json=[
            own_user_json(session, row)
            if row[1] == "user" and row[2] == scope.user_id
            else change_json(*row[1:6])
            for row in rows
        ],
        cursor=Cursor(epoch, next_position[1], scope.fingerprint, next_position[0]).encode(),
        has_more=has_more,
    )


def own_user_json(session: Session, row: Sequence[Any]) -> str:
    """The caller's own user record with their login name, which the feed leaves out for
    everyone (server.schemas.towns.UserDataSchema). Read only when the page holds that
    record: on a first sync and after the account changed."""
    entity, record_id, op, version, data = row[1:6]
    if op == "remove" or data is None:
        return change_json(entity, record_id, op, version, data)
    record = json.loads(data)
    record["username"] = session.scalar(select(User.username).where(User.id == record_id))
    return change_json(entity, record_id, op, version, to_json(record))


def resync_reason(
    cursor: Cursor, epoch: str, end: Position, compacted: Position, scope: Scope
) -> str | None:
    """Why the cursor cannot go on (None: it can): `end` is the position at the end of the
    feed in this snapshot, `compacted` the one below which history is gone."""
    if cursor.epoch != epoch:
        return "epoch"
    if cursor.position < compacted:
        return "compacted"
    if cursor.position > end:
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


def _visible_changes_concurrent_statement() -> Select[
    tuple[int, str, str, str, int | None, str | None, int]
]:
    """PostgreSQL's: the same columns and the row's txid, above the position (`after_txid`,
    `after_seq`) and below the `horizon`, in position order, at most `limit` (each side
    limited first, on its (txid, seq) index)."""
    after = tuple_(bindparam("after_txid"), bindparam("after_seq"))
    horizon: BindParameter[int] = bindparam("horizon")
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
            FeedEntry.txid,
        )
        .where(
            tuple_(FeedEntry.txid, FeedEntry.seq) > after,
            FeedEntry.txid < horizon,
            or_(FeedEntry.town_mask.op("&")(mask) != 0, FeedEntry.owner_id == bindparam("user_id")),
        )
        .order_by(FeedEntry.txid, FeedEntry.seq)
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
            FeedRevocation.txid,
        )
        .where(
            tuple_(FeedRevocation.txid, FeedRevocation.seq) > after,
            FeedRevocation.txid < horizon,
            FeedRevocation.town_mask.op("&")(mask) != 0,
        )
        .order_by(FeedRevocation.txid, FeedRevocation.seq)
        .limit(limit)
        .subquery()
    )
    both = union_all(select(feed), select(revocations)).subquery()
    return select(both).order_by(both.c.txid, both.c.seq).limit(limit)


VISIBLE_CHANGES_CONCURRENT = _visible_changes_concurrent_statement()
