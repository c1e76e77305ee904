"""Content-addressed photos, who has a right to each, and which records name them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, UTCDateTime, utcnow


class Blob(Base):
    __tablename__ = "blobs"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(BigInteger)
    uploaded_by: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BlobGrant(Base):
    """`user_id` uploaded these bytes (the server hashed them), first or again: proof that
    they hold the photo, so they may name it in a record and HEAD it."""

    __tablename__ = "blob_grants"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BlobRef(Base):
    """A record that names a photo. GET is allowed to whoever can see a record whose naming is
    `valid`: its author (`named_by`) had a grant for the photo or could see a valid naming of
    it when they named it, or uploaded the bytes since (server.storage.blobs.grant)."""

    __tablename__ = "blob_refs"
    __table_args__ = (Index("ix_blob_refs_record", "entity", "record_id"),)
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    entity: Mapped[str] = mapped_column(String(32), primary_key=True)
    record_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    named_by: Mapped[str | None] = mapped_column(String(36))
    valid: Mapped[bool] = mapped_column(Boolean, default=False)
