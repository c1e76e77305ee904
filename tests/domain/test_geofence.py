"""Check-in verification by distance (protocol rule 6)."""

import pytest

from server.domain.geofence import distance_m, verify_checkin

SITE = (29.3655, 121.2731)


def test_distance_of_one_thousandth_degree_of_latitude_is_about_111_metres():
    assert distance_m(29.0, 121.0, 29.001, 121.0) == pytest.approx(111.2, abs=0.5)


def test_checkin_inside_radius_with_good_accuracy_is_verified():
    verdict = verify_checkin(29.3660, 121.2731, 15, *SITE, radius_m=200)
    assert verdict.verified and verdict.distance_m == pytest.approx(55.6, abs=1)


def test_checkin_outside_radius_is_kept_unverified():
    verdict = verify_checkin(29.3755, 121.2731, 10, *SITE, radius_m=200)
    assert not verdict.verified and verdict.distance_m > 1000


def test_checkin_with_accuracy_worse_than_radius_is_unverified():
    assert not verify_checkin(29.3655, 121.2731, 250, *SITE, radius_m=200).verified
