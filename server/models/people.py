"""Users, their devices (one token each) and login attempts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, BigInt, UTCDateTime, new_id, utcnow

ROLES = ("worker", "supervisor", "admin", "integration")


class User(Base):
    __tablename__ = "users"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))
    town_code: Mapped[str | None] = mapped_column(ForeignKey("towns.code"), index=True)
    # Integration accounts: the town codes they may read, or null for all towns.
    scope_towns: Mapped[list | None] = mapped_column(JSON)
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Device(Base):
    """A phone or job; its id is generated on the device, its token is stored only as a hash.

    A device belongs to one user for good (`user_id` never changes): its receipts, rejections
    and audit rows are that person's. Its token ends when `token_ended_at` is set (a password
    reset, deactivation, role or town change, or the console's "end sign-in"), when it has not
    been used (`last_seen_at`) for DEVICE_TOKEN_IDLE_DAYS, or DEVICE_TOKEN_MAX_DAYS after
    `token_issued_at`; an ended token answers 401 token_expired.
    """

    __tablename__ = "devices"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    platform: Mapped[str] = mapped_column(String(50), default="")
    app_version: Mapped[str] = mapped_column(String(30), default="")
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    is_revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    token_issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    token_ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_push_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_pull_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pending_count: Mapped[int | None] = mapped_column(Integer)
    sw_version: Mapped[str] = mapped_column(String(30), default="")
    storage_used: Mapped[int | None] = mapped_column(BigInteger)


class DeviceKey(Base):
    """The server-held key that wraps a phone's local data key (server/accounts/device_keys.py).

    One per (device, user); dropped when the device is revoked.
    """

    __tablename__ = "device_keys"
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LoginAttempt(Base):
    """One password check, kept in the database so the limit holds across server processes.

    Recorded as failed before the check runs and marked succeeded after it (server.accounts
    .login_limits): a check that never finishes counts against the limit. `device_id` is set
    only for a device already bound to the user named, whose attempts are limited apart.
    """

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_bucket", "username", "remote_addr", "device_id", "at"),
    )
    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    remote_addr: Mapped[str] = mapped_column(String(64), default="")
    device_id: Mapped[str | None] = mapped_column(String(36))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    succeeded: Mapped[bool] = mapped_column(Boolean, default=False)
