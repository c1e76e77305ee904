"""rollup computes daily statistics per town and can run again without doubling them."""

from __future__ import annotations

from server.models import DailyStat
from tests.factories import case_create, checkin


def test_rollup_counts_todays_cases_and_checkins_per_town(run, login, sites, rows):
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
    today = max(day for _, day in stats)
    dayan_today = stats[("dayan", today)]
    assert (dayan_today.cases_opened, dayan_today.cases_open, dayan_today.cross_town_open) == (
        2,
        2,
        1,
    )
    assert (dayan_today.checkins, dayan_today.checkins_verified) == (2, 1)
    assert stats[("xidian", today)].cases_opened == 1
    assert stats[("shiliang", today)].cases_opened == 0
