"""Who sees what: town bit masks for records and scopes for callers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# Every town bit set; PostgreSQL's BIGINT holds 63 bits plus the sign.
ALL_TOWNS = (1 << 63) - 1
NO_TOWNS = 0


def town_mask(codes: Iterable[str], bits: Mapping[str, int]) -> int:
    mask = 0
    for code in codes:
        mask |= 1 << bits[code]
    return mask


@dataclass(frozen=True)
class Scope:
    """What a caller can see: records whose mask shares a bit, and records they own."""

    mask: int
    user_id: str

    def sees(self, record_mask: int, owner_id: str | None = None) -> bool:
        return bool(record_mask & self.mask) or (owner_id is not None and owner_id == self.user_id)

    @property
    def fingerprint(self) -> str:
        """Changes when the caller's visibility changes, so old cursors are refused."""
        return f"{self.mask:x}"


def scope_for(
    role: str,
    user_id: str,
    town: str | None,
    scope_towns: list[str] | None,
    bits: Mapping[str, int],
) -> Scope:
    """Admins and all-towns integration clients see everything; others their town(s)."""
    if role == "admin" or (role == "integration" and scope_towns is None):
        return Scope(ALL_TOWNS, user_id)
    if role == "integration":
        return Scope(town_mask(scope_towns or [], bits), user_id)
    return Scope(town_mask([town] if town else [], bits), user_id)
