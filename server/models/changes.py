"""The change feed, its visibility, mutation receipts, the rejection inbox and the audit trail."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, BigInt, UTCDateTime, utcnow


class ServerState(Base):
    """One row: the epoch (identity of this database), the last feed sequence number and the
    feed position below which history is compacted.

    `last_seq` is kept on SQLite only: PostgreSQL numbers changes from the `feed_seq`
    sequence, and pull positions there come from transaction ids (server.sync.pull).
    `compacted_txid` is 0 on SQLite, where every feed row's `txid` is 0.
    """

    __tablename__ = "server_state"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    epoch: Mapped[str] = mapped_column(String(36))
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    compacted_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    compacted_txid: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# The pull's order on PostgreSQL, (txid, seq): built by migration 0010 on PostgreSQL only,
# SQLite pulls by `seq` alone and would only pay for maintaining it.
TXID_DOC = (
    "Id of the transaction that wrote the row (PostgreSQL's pg_current_xact_id); 0 on SQLite "
    "and for rows written before migration 0010. Pulls order by (txid, seq)."
)


class FeedEntry(Base):
    """The latest state of each synced record, at the sequence number of its last change.

    `town_mask` has a bit per town that may see it (all bits for reference data);
    `owner_id` makes a record visible to one user (their conflicts).
    """

    __tablename__ = "feed"
    __table_args__ = (Index("ix_feed_txid_seq", "txid", "seq").ddl_if(dialect="postgresql"),)
    entity: Mapped[str] = mapped_column(String(32), primary_key=True)
    record_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    op: Mapped[str] = mapped_column(String(8))
    version: Mapped[int] = mapped_column(Integer)
    town_mask: Mapped[int] = mapped_column(BigInteger)
    owner_id: Mapped[str | None] = mapped_column(String(36), index=True)
    data: Mapped[str] = mapped_column(Text)
    txid: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0", doc=TXID_DOC)


class FeedRevocation(Base):
    """A record left the view of some towns at `seq`: their devices get a `remove`."""

    __tablename__ = "feed_revocations"
    __table_args__ = (
        Index("ix_feed_revocations_txid_seq", "txid", "seq").ddl_if(dialect="postgresql"),
    )
    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    seq: Mapped[int] = mapped_column(BigInteger, index=True)
    entity: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[str] = mapped_column(String(36))
    town_mask: Mapped[int] = mapped_column(BigInteger)
    txid: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0", doc=TXID_DOC)


class MutationReceipt(Base):
    """The stored result of one (device, mutation_id): rule 2, exactly once.

    `user_id` is whose intent it was: a result is replayed only to that person. It is null
    only for receipts written before migration 0008 that nothing attributes, kept only on
    devices that have had a single user (server.sync.push.load_receipts).
    """

    __tablename__ = "mutation_receipts"
    device_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    mutation_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str | None] = mapped_column(String(36))
    result: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class RejectedIntent(Base):
    """The rejection inbox: an intent the server refused, kept with its reason."""

    __tablename__ = "rejected_intents"
    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    device_id: Mapped[str] = mapped_column(String(36), index=True)
    user_id: Mapped[str] = mapped_column(String(36), index=True)
    mutation_id: Mapped[str] = mapped_column(String(64))
    op: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[str | None] = mapped_column(String(64), index=True)
    data: Mapped[object] = mapped_column(JSON)
    error_code: Mapped[str] = mapped_column(String(64))
    error_details: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    handled_by: Mapped[str | None] = mapped_column(String(36))  # a supervisor closed it
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Change(Base):
    """The audit trail: every change to a record, who made it, from which device and mutation.

    Also the history that field merge reads (rule 4).
    """

    __tablename__ = "changes"
    __table_args__ = (Index("ix_changes_record_version", "entity", "record_id", "version"),)
    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    entity: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[str] = mapped_column(String(36))
    version: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(32))
    fields: Mapped[dict] = mapped_column(JSON)
    user_id: Mapped[str | None] = mapped_column(String(36))
    device_id: Mapped[str | None] = mapped_column(String(36))
    mutation_id: Mapped[str | None] = mapped_column(String(36))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    txid: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0", doc=TXID_DOC)
