"""rollup computes daily statistics per town and can run again without doubling them."""

from __future__ import annotations

from datetime import datetime

from server.clock import CHINA
from server.models import DailyStat
from tests.factories import case_create, checkin


def test_rollup_counts_todays_cases_and_checkins_per_town(clock, run, login, sites, rows):
    """On 26 November 2026 (China Standard Time) the rollup covers the 25th and the 26th."""
    dayan, xidian = login("dayan_worker"), login("xidian_worker")
    dayan.push_ok(case_create(), case_create(involved_towns=["shenzhen"]))
    xidian.push_ok(case_create("xidian"))
    site = sites["dayan_alliance_hall"]
    dayan.push_ok(
        checkin(site["id"], site["lat"], site["lon"]),
        checkin(site["id"], site["lat"] + 0.1, site["lon"]),
    )
    assert run("rollup").exit_code == 0
    assert run("rollup").exit_code == 0
    stats = {(s.town, s.day.isoformat()): s for s in rows(DailyStat)}
    assert len(stats) == 10  # five towns, two days
    assert {day for _, day in stats} == {"2026-11-25", "2026-11-26"}
    dayan_today = stats[("dayan", "2026-11-26")]
    assert (dayan_today.cases_opened, dayan_today.cases_open, dayan_today.cross_town_open) == (
        2,
        2,
        1,
    )
    assert (dayan_today.checkins, dayan_today.checkins_verified) == (2, 1)
    assert stats[("xidian", "2026-11-26")].cases_opened == 1
    assert stats[("shiliang", "2026-11-26")].cases_opened == 0
    assert stats[("dayan", "2026-11-25")].cases_opened == 0


def test_the_days_are_chinas_days_not_utcs(clock, run, login, rows):
    """A case registered at 23:50 on 28 February 2027 in China, and one at 00:30 on 1 March
    (still 28 February in UTC): the rollup then counts one for each day."""
    clock.set(datetime(2027, 2, 28, 23, 50, tzinfo=CHINA))
    dayan = login("dayan_worker")  # signed in on the day: a token ends after idle days
    dayan.push_ok(case_create(title="二月的"))
    clock.set(datetime(2027, 3, 1, 0, 30, tzinfo=CHINA))
    dayan.push_ok(case_create(title="三月的"))
    assert run("rollup").exit_code == 0
    opened = {s.day.isoformat(): s.cases_opened for s in rows(DailyStat, town="dayan")}
    assert opened == {"2027-02-28": 1, "2027-03-01": 1}
