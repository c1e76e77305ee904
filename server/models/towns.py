"""Reference data: towns, grids and case categories."""

from __future__ import annotations

from sqlalchemy import Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, new_id


class Town(Base):
    """A town of the alliance; `bit` is its place in the visibility masks of the feed."""

    __tablename__ = "towns"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    abbr: Mapped[str] = mapped_column(String(8), unique=True)  # prefix of case numbers
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    county: Mapped[str] = mapped_column(String(100))
    city: Mapped[str] = mapped_column(String(100))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    bit: Mapped[int] = mapped_column(Integer, unique=True)


class Grid(Base):
    """The smallest management area, usually a village or part of one."""

    __tablename__ = "grids"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    town_code: Mapped[str] = mapped_column(ForeignKey("towns.code"), index=True)
    village: Mapped[str] = mapped_column(String(100), default="")


class Category(Base):
    __tablename__ = "categories"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer, default=0)
