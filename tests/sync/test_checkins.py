"""Check-ins a supervisor can trust, along the whole alliance route.

A worker checks in with the fix their phone had; the server verifies it only when the fix was
taken at most two minutes before the check-in, inside the site at an accuracy within its
radius, and otherwise keeps it flagged with the reason. Anyone of the alliance may check in at
any town's site: the check-in is their town's and is seen by their town and the site's."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from server.models import Checkin
from tests.factories import CLIENT_TIME, case_create, checkin

AT = datetime.fromisoformat(CLIENT_TIME)


def minutes_before(minutes: float) -> str:
    return (AT - timedelta(minutes=minutes)).isoformat()


def test_a_fresh_fix_at_the_site_verifies_and_its_time_is_kept(worker, sites, rows):
    site = sites["dayan_alliance_hall"]
    visit = checkin(site["id"], site["lat"] + 0.0005, site["lon"], 10, fix_at=minutes_before(1))
    [result] = worker.push_ok(visit)
    assert result["status"] == "applied"

    [kept] = rows(Checkin, id=result["record_id"])
    assert kept.verified and kept.unverified_reason is None and 50 < kept.distance_m < 60
    assert kept.fix_at == AT - timedelta(minutes=1)
    worker.sync()
    pulled = worker.of("checkin")[result["record_id"]]["data"]
    assert pulled["verified"] is True and pulled["unverified_reason"] is None
    assert datetime.fromisoformat(pulled["fix_at"]) == AT - timedelta(minutes=1)


@pytest.mark.parametrize(
    ("where", "accuracy_m", "fix_at", "reason"),
    [
        ("at the site", 10, minutes_before(5), "stale_fix"),
        ("at the site", 10, None, "stale_fix"),  # an older phone: the fix's age is unknown
        ("at the site", 500, CLIENT_TIME, "poor_accuracy"),
        ("5 km north", 10, CLIENT_TIME, "too_far"),
    ],
    ids=["fix five minutes old", "fix without its time", "poor accuracy", "too far"],
)
def test_a_doubtful_fix_is_kept_unverified_with_its_reason(
    worker, sites, rows, where, accuracy_m, fix_at, reason
):
    site = sites["dayan_alliance_hall"]
    lat = site["lat"] + (0.045 if where == "5 km north" else 0)
    visit = checkin(site["id"], lat, site["lon"], accuracy_m)
    if fix_at is None:
        del visit["data"]["fix_at"]
    else:
        visit["data"]["fix_at"] = fix_at
    [result] = worker.push_ok(visit)
    assert result["status"] == "applied"

    [kept] = rows(Checkin, id=result["record_id"])
    assert not kept.verified and kept.unverified_reason == reason
    assert kept.distance_m is not None
    worker.sync()
    pulled = worker.of("checkin")[result["record_id"]]["data"]
    assert pulled["verified"] is False and pulled["unverified_reason"] == reason


def test_a_checkin_without_any_fix_is_saved_as_no_fix(worker, sites, rows):
    site = sites["dayan_alliance_hall"]
    [result] = worker.push_ok(checkin(site["id"], None, None, participants=3))
    assert result["status"] == "applied"

    [kept] = rows(Checkin, id=result["record_id"])
    assert (kept.lat, kept.lon, kept.accuracy_m, kept.fix_at, kept.distance_m) == (None,) * 5
    assert not kept.verified and kept.unverified_reason == "no_fix"
    worker.sync()
    pulled = worker.of("checkin")[result["record_id"]]["data"]
    assert pulled["unverified_reason"] == "no_fix" and pulled["distance_m"] is None


@pytest.mark.parametrize(
    ("drop", "field"),
    [(("lon",), "lon"), (("accuracy_m",), "accuracy_m"), (("lat", "lon", "accuracy_m"), "fix_at")],
)
def test_half_a_position_is_refused_with_the_missing_field(worker, sites, rows, drop, field):
    site = sites["dayan_alliance_hall"]
    visit = checkin(site["id"], site["lat"], site["lon"])
    for name in drop:
        del visit["data"][name]
    [result] = worker.push_ok(visit)
    assert result["status"] == "rejected"
    assert result["error"]["code"] == "validation_failed"
    assert field in result["error"]["details"]
    assert rows(Checkin, id=visit["record_id"]) == []


def test_a_dayan_group_at_a_shenzhen_site_is_seen_by_both_towns_and_no_other(login, sites, rows):
    dayan, shenzhen, xidian = (login(f"{t}_worker") for t in ("dayan", "shenzhen", "xidian"))
    site = sites["zhekeng_daicun"]  # 柘坑戴村, in 深甽
    [result] = dayan.push_ok(checkin(site["id"], site["lat"], site["lon"], participants=12))
    assert result["status"] == "applied"
    [kept] = rows(Checkin, id=result["record_id"])
    assert kept.town == "dayan" and kept.verified

    for phone in (dayan, shenzhen, xidian):
        phone.sync()
    assert result["record_id"] in dayan.of("checkin")
    assert shenzhen.of("checkin")[result["record_id"]]["data"]["town"] == "dayan"
    assert result["record_id"] not in xidian.of("checkin")


def test_a_worker_who_moves_town_gains_and_loses_cross_town_checkins_on_resync(
    login, sites, execute
):
    """Visibility follows the town: a worker moved away from 深甽 is told to resync and the
    fresh pull no longer holds the Dayan group's check-in at 深甽's site (the phone drops what
    it did not return); a worker moved into 深甽 gets it in theirs."""
    dayan, shenzhen, xidian = (login(f"{t}_worker") for t in ("dayan", "shenzhen", "xidian"))
    site = sites["zhekeng_daicun"]
    [result] = dayan.push_ok(checkin(site["id"], site["lat"], site["lon"]))
    for phone in (shenzhen, xidian):
        phone.sync()
    assert result["record_id"] in shenzhen.of("checkin")
    assert result["record_id"] not in xidian.of("checkin")

    execute("UPDATE users SET town_code = 'xidian' WHERE username = 'shenzhen_worker'")
    execute("UPDATE users SET town_code = 'shenzhen' WHERE username = 'xidian_worker'")
    for phone in (shenzhen, xidian):
        refused = phone.pull(phone.cursor)
        assert refused.status_code == 410
        assert refused.get_json()["error"]["details"] == {"reason": "visibility"}
        phone.cursor = None
        phone.records.clear()  # a fresh pull replaces what the phone held
        phone.sync()
    assert result["record_id"] not in shenzhen.of("checkin")
    assert xidian.of("checkin")[result["record_id"]]["data"]["town"] == "dayan"


def test_a_checkin_at_a_towns_own_site_stays_within_that_town(login, sites):
    dayan, shenzhen = login("dayan_worker"), login("shenzhen_worker")
    site = sites["dayan_alliance_hall"]
    [result] = dayan.push_ok(checkin(site["id"], site["lat"], site["lon"]))
    dayan.sync()
    shenzhen.sync()
    assert result["record_id"] in dayan.of("checkin")
    assert shenzhen.of("checkin") == {}


def test_an_admin_without_a_town_checks_in_for_the_sites_town(login, sites, rows):
    admin, xiaojiang = login("admin"), login("xiaojiang_worker")
    site = sites["xiaojiang_zhongxikou"]  # 小将 has its own site on the route
    [result] = admin.push_ok(checkin(site["id"], site["lat"], site["lon"]))
    [kept] = rows(Checkin, id=result["record_id"])
    assert kept.town == "xiaojiang"
    xiaojiang.sync()
    assert result["record_id"] in xiaojiang.of("checkin")


def test_every_town_has_a_site_on_the_route(worker, sites):
    [route] = worker.of("route").values()
    on_route = {sid for sid in route["data"]["site_ids"]}
    towns = {s["town"] for s in sites.values() if s["id"] in on_route}
    assert towns == {"dayan", "shenzhen", "xidian", "shiliang", "xiaojiang"}


def test_a_cases_location_keeps_the_time_of_its_fix(worker, rows):
    located = {"lat": 29.48, "lon": 121.17, "accuracy_m": 12, "fix_at": minutes_before(1)}
    create = case_create(location=located)
    [result] = worker.push_ok(create)
    assert result["status"] == "applied"
    worker.sync()
    assert worker.of("case")[create["record_id"]]["data"]["location"] == located

    wrong = case_create(location={**located, "fix_at": "yesterday"})
    [refused] = worker.push_ok(wrong)
    assert refused["error"]["code"] == "validation_failed"
    assert "location.fix_at" in refused["error"]["details"]
