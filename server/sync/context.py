"""Who is acting and the reference data an intent is checked against."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from server.domain.visibility import ALL_TOWNS, Scope, scope_for
from server.fastpath.prepared import run_prepared
from server.models import Category, Town, User

TOWNS = select(Town.code, Town.bit, Town.abbr)
CATEGORIES = select(Category.code)


@dataclass(frozen=True)
class Caller:
    """The authenticated user and device behind a request."""

    user_id: str | None  # None for scheduled jobs
    role: str
    town: str | None
    scope: Scope
    device_id: str | None

    @property
    def is_staff(self) -> bool:
        return self.role in ("supervisor", "admin")


@dataclass(frozen=True)
class RefData:
    """Towns and categories, loaded once per unit of work."""

    town_bits: dict[str, int]
    town_abbr: dict[str, str]
    categories: frozenset[str]

    @classmethod
    def load(cls, session: Session) -> RefData:
        """Every API request loads this: two small prepared statements (server.fastpath)."""
        conn = session.connection()
        towns = run_prepared(conn, TOWNS)
        return cls(
            town_bits={code: bit for code, bit, _ in towns},
            town_abbr={code: abbr for code, _, abbr in towns},
            categories=frozenset(code for (code,) in run_prepared(conn, CATEGORIES)),
        )


def system_caller() -> Caller:
    """Scheduled jobs act as the system: every town, no user, no device."""
    return Caller(None, "system", None, Scope(ALL_TOWNS, ""), None)


def caller_for(user: User | Row[Any], device_id: str | None, ref: RefData) -> Caller:
    """`user`: a User, or a row with its id, role, town_code and scope_towns."""
    scope = scope_for(user.role, user.id, user.town_code, user.scope_towns, ref.town_bits)
    return Caller(user.id, user.role, user.town_code, scope, device_id)
