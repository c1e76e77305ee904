"""A town's party-member roster reaches that town's phones (and admins'), and no one else's;
a check-in keeps the members it picked."""

from __future__ import annotations

from sqlalchemy import select

from server.extensions import db
from server.models import Member
from server.roster import change_member
from server.sync.feed import Author
from server.sync.unit_of_work import feed_write_unit
from tests.factories import checkin, new_id


def names_of(device) -> set[str]:
    return {change["data"]["name"] for change in device.of("member").values()}


def town_of_members(device) -> set[str]:
    return {change["data"]["town"] for change in device.of("member").values()}


def edit_member(app, name: str, **fields) -> str:
    """As the console does: change a member and publish it; returns their id."""
    with app.app_context(), feed_write_unit(db.session) as unit:
        member = db.session.scalar(select(Member).where(Member.name == name))
        change_member(db.session, unit.writer, member, fields, author=Author(None))
        return member.id


def test_a_worker_pulls_their_towns_roster_and_no_other_towns(worker, login):
    worker.sync()
    shenzhen = login("shenzhen_worker")
    shenzhen.sync()

    assert town_of_members(worker) == {"dayan"}
    assert len(worker.of("member")) == 15
    assert "王建国" in names_of(worker)
    assert town_of_members(shenzhen) == {"shenzhen"}
    assert names_of(worker).isdisjoint(names_of(shenzhen))
    member = next(iter(worker.of("member").values()))["data"]
    assert member["branch"].endswith("党支部") and member["village"] and member["active"]


def test_an_admin_pulls_every_towns_roster(login):
    admin = login("admin")
    admin.sync()
    assert town_of_members(admin) == {"dayan", "shenzhen", "xidian", "shiliang", "xiaojiang"}


def test_deactivation_reaches_the_phone_as_an_upsert_with_active_false(app, worker):
    worker.sync()
    member_id = edit_member(app, "王建国", active=False)

    changes = worker.sync()

    [change] = [c for c in changes if c["entity"] == "member"]
    assert change["op"] == "upsert" and change["record_id"] == member_id
    assert change["data"]["active"] is False and change["data"]["name"] == "王建国"
    assert change["version"] == 2


def test_a_member_moved_to_another_town_leaves_the_old_towns_phones(app, worker, login):
    shenzhen = login("shenzhen_worker")
    worker.sync()
    shenzhen.sync()
    edit_member(app, "王建国", town="shenzhen")

    worker.sync()
    shenzhen.sync()

    assert "王建国" not in names_of(worker)
    assert "王建国" in names_of(shenzhen)


def test_a_checkin_keeps_the_members_it_picked_beside_the_names(worker, login, sites):
    site = sites["dayan_alliance_hall"]
    roster = {c["data"]["name"]: rid for rid, c in worker.of("member").items()}
    picked = [roster["王建国"], roster["陈秀英"]]
    mutation = checkin(
        site["id"],
        site["lat"],
        site["lon"],
        participants=3,
        participant_ids=picked,
        participant_names=["王建国", "陈秀英", "来访的老党员"],
    )

    [result] = worker.push_ok(mutation)

    assert result["status"] == "applied"
    supervisor = login("dayan_supervisor")
    supervisor.sync()
    data = supervisor.of("checkin")[mutation["record_id"]]["data"]
    assert data["participant_ids"] == picked
    assert data["participant_names"] == ["王建国", "陈秀英", "来访的老党员"]


def test_a_checkin_naming_another_towns_member_is_refused(worker, login, sites):
    shenzhen = login("shenzhen_worker")
    shenzhen.sync()
    theirs = next(iter(shenzhen.of("member")))
    site = sites["dayan_alliance_hall"]
    ours = next(iter(worker.of("member")))

    [result] = worker.push_ok(
        checkin(site["id"], site["lat"], site["lon"], participant_ids=[ours, theirs])
    )

    assert result["status"] == "rejected"
    assert result["error"]["code"] == "validation_failed"
    assert list(result["error"]["details"]["participant_ids"]) == ["1"]


def test_a_checkin_naming_an_unknown_member_is_refused_in_words(worker, sites):
    site = sites["dayan_alliance_hall"]
    response = worker.push(
        checkin(site["id"], site["lat"], site["lon"], participant_ids=[new_id()])
    )

    [result] = response.get_json()["results"]
    assert result["status"] == "rejected"
    assert "名册中没有这位党员" in result["error"]["details"]["participant_ids"]["0"][0]


def test_a_deactivated_member_picked_offline_still_counts(app, worker, sites):
    site = sites["dayan_alliance_hall"]
    roster = {c["data"]["name"]: rid for rid, c in worker.of("member").items()}
    edit_member(app, "王建国", active=False)

    [result] = worker.push_ok(
        checkin(site["id"], site["lat"], site["lon"], participant_ids=[roster["王建国"]])
    )

    assert result["status"] == "applied"
