"""Check-in verification by distance to the site (protocol rule 6)."""

from __future__ import annotations

import math
from dataclasses import dataclass

EARTH_RADIUS_M = 6_371_008.8


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two WGS-84 points (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlmb = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True)
class Verification:
    distance_m: float
    verified: bool


def verify_checkin(
    lat: float, lon: float, accuracy_m: float, site_lat: float, site_lon: float, radius_m: float
) -> Verification:
    """Verified when within the radius at an accuracy no worse than the radius; never dropped."""
    distance = distance_m(lat, lon, site_lat, site_lon)
    return Verification(round(distance, 1), distance <= radius_m and accuracy_m <= radius_m)
