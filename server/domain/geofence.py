"""Check-in verification (protocol rule 6, "Additions in v1"): a fresh fix inside the site.

A check-in is verified only when all of these hold, checked in this order; the first that
fails is the reason it is kept unverified (never dropped):

1. `no_fix`: the check-in carries a position (lat, lon, accuracy).
2. `stale_fix`: the fix carries its own time (`fix_at`), taken at most `FRESH_BEFORE` before
   the check-in's `at` and at most `CLOCK_TOLERANCE` after it. A fix without a time (a phone
   from before `fix_at`) cannot show that it is fresh, so it counts as stale: a supervisor
   trusts "verified" only when the age of the fix is known.
3. `poor_accuracy`: the fix's accuracy is no worse than the site's radius.
4. `too_far`: the fix lies within the site's radius.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

EARTH_RADIUS_M = 6_371_008.8
# How old a fix may be when the check-in is made (DOMAIN.md: "at most two minutes before").
FRESH_BEFORE = timedelta(seconds=120)
# A fix "after" the check-in: both times are the same device's, but a GPS chip's timestamp
# and the system clock can disagree by a little; more than this is not the same moment.
CLOCK_TOLERANCE = timedelta(seconds=120)

NO_FIX = "no_fix"
STALE_FIX = "stale_fix"
POOR_ACCURACY = "poor_accuracy"
TOO_FAR = "too_far"
REASONS = (NO_FIX, STALE_FIX, POOR_ACCURACY, TOO_FAR)


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two WGS-84 points (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlmb = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True)
class Fix:
    """A GPS position as the phone took it; `at` is the fix's own (device) time, if sent."""

    lat: float
    lon: float
    accuracy_m: float
    at: datetime | None = None


@dataclass(frozen=True)
class Verification:
    distance_m: float | None  # None without a fix
    reason: str | None  # None when verified, else one of REASONS

    @property
    def verified(self) -> bool:
        return self.reason is None


def fix_is_fresh(fix_at: datetime | None, at: datetime) -> bool:
    """Taken at most FRESH_BEFORE before `at` and at most CLOCK_TOLERANCE after it."""
    return fix_at is not None and -CLOCK_TOLERANCE <= at - fix_at <= FRESH_BEFORE


def verify_checkin(
    at: datetime, fix: Fix | None, site_lat: float, site_lon: float, radius_m: float
) -> Verification:
    """The verdict on a check-in made at `at` with `fix`; the first failing check names it."""
    if fix is None:
        return Verification(None, NO_FIX)
    exact = distance_m(fix.lat, fix.lon, site_lat, site_lon)
    distance = round(exact, 1)
    if not fix_is_fresh(fix.at, at):
        return Verification(distance, STALE_FIX)
    if fix.accuracy_m > radius_m:
        return Verification(distance, POOR_ACCURACY)
    if exact > radius_m:
        return Verification(distance, TOO_FAR)
    return Verification(distance, None)
