"""Red-heritage sites, the route through them, and check-ins at the sites."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, UTCDateTime, new_id, utcnow


class Site(Base):
    __tablename__ = "sites"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    town_code: Mapped[str] = mapped_column(ForeignKey("towns.code"), index=True)
    village: Mapped[str] = mapped_column(String(100), default="")
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    radius_m: Mapped[float] = mapped_column(Float)
    description: Mapped[str] = mapped_column(Text, default="")


class Route(Base):
    __tablename__ = "routes"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    site_ids: Mapped[list] = mapped_column(JSON, default=list)


class Checkin(Base):
    __tablename__ = "checkins"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    # No position at all is a check-in kept unverified (no_fix): all three null together.
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    fix_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the fix's own device time
    activity: Mapped[str] = mapped_column(String(32))
    participants: Mapped[int] = mapped_column(Integer)
    participant_names: Mapped[list] = mapped_column(JSON, default=list)
    # The roster members (server.models.members) the phone picked, beside their names.
    participant_ids: Mapped[list] = mapped_column(JSON, default=list)
    notes: Mapped[str] = mapped_column(Text, default="")
    photos: Mapped[list] = mapped_column(JSON, default=list)
    by: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    town: Mapped[str] = mapped_column(ForeignKey("towns.code"), index=True)  # the person's
    distance_m: Mapped[float | None] = mapped_column(Float)  # null without a fix
    verified: Mapped[bool] = mapped_column(Boolean, index=True)
    # Why not verified (server.domain.geofence.REASONS); null when verified.
    unverified_reason: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
