"""Scheduled jobs: their runs, their locks, and the daily statistics they roll up."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, BigInt, UTCDateTime, utcnow


class JobRun(Base):
    """One run of a job: shown in the console so an operator sees what ran and how it went."""

    __tablename__ = "job_runs"
    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(32), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(16))  # running, ok, dry_run, failed
    counts: Mapped[dict] = mapped_column(JSON, default=dict)
    message: Mapped[str] = mapped_column(Text, default="")


class JobLock(Base):
    """Held while a job runs, so a second run of the same job exits instead of racing it."""

    __tablename__ = "job_locks"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    holder: Mapped[str] = mapped_column(String(100))
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DailyStat(Base):
    """Per town and day: what the console's charts and the exports read."""

    __tablename__ = "daily_stats"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    town: Mapped[str] = mapped_column(String(32), primary_key=True)
    cases_opened: Mapped[int] = mapped_column(Integer, default=0)
    cases_closed: Mapped[int] = mapped_column(Integer, default=0)
    cases_open: Mapped[int] = mapped_column(Integer, default=0)
    cases_overdue: Mapped[int] = mapped_column(Integer, default=0)
    cross_town_open: Mapped[int] = mapped_column(Integer, default=0)
    checkins: Mapped[int] = mapped_column(Integer, default=0)
    checkins_verified: Mapped[int] = mapped_column(Integer, default=0)
