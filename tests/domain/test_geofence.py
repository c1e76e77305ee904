"""Check-in verification: a fresh fix inside the site, else kept with the first reason."""

from datetime import UTC, datetime, timedelta

import pytest

from server.domain.geofence import Fix, distance_m, verify_checkin

SITE = (29.3655, 121.2731)
AT = datetime(2026, 11, 26, 1, 12, tzinfo=UTC)


def fix(lat=29.3660, lon=121.2731, accuracy_m=15.0, age=timedelta(seconds=10)) -> Fix:
    return Fix(lat, lon, accuracy_m, None if age is None else AT - age)


def test_distance_of_one_thousandth_degree_of_latitude_is_about_111_metres():
    assert distance_m(29.0, 121.0, 29.001, 121.0) == pytest.approx(111.2, abs=0.5)


def test_a_fresh_fix_inside_the_radius_with_good_accuracy_is_verified():
    verdict = verify_checkin(AT, fix(), *SITE, radius_m=200)
    assert verdict.verified and verdict.reason is None
    assert verdict.distance_m == pytest.approx(55.6, abs=1)


@pytest.mark.parametrize(
    ("age", "verified"),
    [
        (timedelta(seconds=120), True),  # two minutes old: still fresh
        (timedelta(seconds=121), False),
        (timedelta(minutes=5), False),
        (timedelta(seconds=-120), True),  # the GPS clock a little ahead of the system's
        (timedelta(seconds=-121), False),
        (None, False),  # a phone from before fix_at: its age cannot be known
    ],
)
def test_a_fix_counts_only_when_taken_within_two_minutes_of_the_checkin(age, verified):
    verdict = verify_checkin(AT, fix(age=age), *SITE, radius_m=200)
    assert verdict.verified is verified
    assert verdict.reason == (None if verified else "stale_fix")
    assert verdict.distance_m == pytest.approx(55.6, abs=1)  # the distance is kept either way


def test_a_checkin_without_a_fix_is_kept_unverified_without_a_distance():
    verdict = verify_checkin(AT, None, *SITE, radius_m=200)
    assert not verdict.verified and verdict.reason == "no_fix" and verdict.distance_m is None


def test_an_accuracy_worse_than_the_radius_is_poor_accuracy():
    verdict = verify_checkin(AT, fix(accuracy_m=250), *SITE, radius_m=200)
    assert verdict.reason == "poor_accuracy"


def test_a_fix_outside_the_radius_is_too_far():
    verdict = verify_checkin(AT, fix(lat=29.3755), *SITE, radius_m=200)
    assert verdict.reason == "too_far" and verdict.distance_m > 1000


def test_the_first_failing_check_names_the_reason():
    old_vague_far = fix(lat=29.3755, accuracy_m=500, age=timedelta(minutes=5))
    assert verify_checkin(AT, old_vague_far, *SITE, radius_m=200).reason == "stale_fix"
    vague_far = fix(lat=29.3755, accuracy_m=500)
    assert verify_checkin(AT, vague_far, *SITE, radius_m=200).reason == "poor_accuracy"
