"""The party-member roster of each town (党员名册), from which check-ins pick participants."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, UTCDateTime, new_id, utcnow

# A member's name is what a check-in's `participant_names` keeps: at most 50 characters.
MAX_NAME = 50
MAX_BRANCH = 100
MAX_VILLAGE = 100


class Member(Base):
    """A party member of one town. Never deleted: a member who leaves is deactivated
    (`active` false), so check-ins that named them keep a meaning and phones hide them."""

    __tablename__ = "members"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    town: Mapped[str] = mapped_column(ForeignKey("towns.code"), index=True)
    name: Mapped[str] = mapped_column(String(MAX_NAME))
    branch: Mapped[str] = mapped_column(String(MAX_BRANCH), default="")  # 党支部
    village: Mapped[str] = mapped_column(String(MAX_VILLAGE), default="")  # 村/社区
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
