"""Dispute cases, their append-only timeline, and merge conflicts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, UTCDateTime, utcnow


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        # The console's counts per status scan this index, not the table, whatever the filters
        # (overdue is status and due_at against now, server.domain.workflow.overdue_clause).
        Index(
            "ix_cases_queue",
            "status",
            "town_mask",
            "category",
            "due_at",
            "is_cross_town",
            "assignee",
            "created_at",
        ),
        # "Unassigned" and "assigned to X" pages walk this in date order and stop at a page.
        Index("ix_cases_assignee_created", "assignee", "created_at"),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(ForeignKey("categories.code"), index=True)
    primary_town: Mapped[str] = mapped_column(ForeignKey("towns.code"), index=True)
    involved_towns: Mapped[list] = mapped_column(JSON, default=list)
    parties: Mapped[list] = mapped_column(JSON, default=list)
    description: Mapped[str] = mapped_column(Text, default="")
    severity: Mapped[str] = mapped_column(String(8))
    location: Mapped[dict | None] = mapped_column(JSON)
    photos: Mapped[list] = mapped_column(JSON, default=list)
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), index=True)
    assignee: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    reported_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    is_cross_town: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    town_mask: Mapped[int] = mapped_column(BigInteger)
    version: Mapped[int] = mapped_column(Integer, default=1)


class CaseNumberCounter(Base):
    """The last number given in a town's year ("DY2026-" -> 42): the next case takes one
    more in a single statement, however many cases that year already holds."""

    __tablename__ = "case_number_counters"
    prefix: Mapped[str] = mapped_column(Text, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer)


class CaseEvent(Base):
    __tablename__ = "case_events"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    photos: Mapped[list] = mapped_column(JSON, default=list)
    by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))  # null: a scheduled job
    from_value: Mapped[str | None] = mapped_column(String(64))
    to_value: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MergeConflict(Base):
    """A value that lost a field merge, kept for review instead of being dropped."""

    __tablename__ = "conflicts"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    entity: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[str] = mapped_column(String(36), index=True)
    field: Mapped[str] = mapped_column(String(64))
    kept: Mapped[object] = mapped_column(JSON)
    incoming: Mapped[object] = mapped_column(JSON)
    by: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    device_id: Mapped[str | None] = mapped_column(String(36))
    mutation_id: Mapped[str | None] = mapped_column(String(36))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Who made the value that was kept, and when the server took it (null before 0013).
    kept_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    kept_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    resolved_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # kept | incoming | new | resubmitted | both: how the conflict was settled.
    resolution: Mapped[str | None] = mapped_column(String(16))
