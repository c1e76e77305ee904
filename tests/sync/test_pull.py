"""Pull: pagination, visibility across towns, tombstones, and resync (protocol: Pull)."""

from __future__ import annotations

import pytest

from tests.factories import DeviceClient, case_create, case_event, case_update


def test_first_pull_brings_reference_data_people_and_visible_cases(clock, worker):
    create = case_create()
    worker.push_ok(create)
    worker.sync()
    assert {c["data"]["code"] for c in worker.of("town").values()} == {
        "dayan",
        "shenzhen",
        "xidian",
        "shiliang",
        "xiaojiang",
    }
    assert len(worker.of("category")) == 8
    assert len(worker.of("site")) == 5  # one per town at least
    [route] = worker.of("route").values()
    assert len(route["data"]["site_ids"]) == 5
    names = {u["data"]["display_name"] for u in worker.of("user").values()}
    assert {"大堰镇网格员", "联盟管理员"} <= names
    assert "password_hash" not in next(iter(worker.of("user").values()))["data"]
    case = worker.of("case")[create["record_id"]]
    assert case["version"] == 1
    assert case["data"]["status"] == "registered"
    assert case["data"]["number"].startswith("DY2026-")
    assert case["data"]["reported_by"] == worker.user["id"]


def test_a_phone_learns_its_colleagues_names_to_show_but_not_to_sign_in_with(client, worker):
    """Every phone pulls every user: a login name there would tell a stranger who holds the
    phone whose name to guess a password for, the admin's included."""
    worker.sync()
    people = {record_id: c["data"] for record_id, c in worker.of("user").items()}
    me = people.pop(worker.user["id"])
    assert me["username"] == "dayan_worker"  # its own, as the contract has it
    assert len(people) > 5
    assert {person["username"] for person in people.values()} == {None}
    assert "联盟管理员" in {person["display_name"] for person in people.values()}
    supervisor = DeviceClient(client, "dayan_supervisor")
    supervisor.login()
    supervisor.sync()
    assert supervisor.of("user")[worker.user["id"]]["data"]["username"] is None


def test_pull_pages_through_everything_exactly_once(worker):
    creates = [case_create(title=f"案件{i}") for i in range(25)]
    worker.push_ok(*creates)
    changes = worker.sync(limit=7)
    ids = [c["record_id"] for c in changes]
    assert len(ids) == len(set(ids))
    assert {m["record_id"] for m in creates} <= set(worker.of("case"))


def test_pull_limit_is_capped_and_validated(worker):
    for limit, status in [(1000, 200), (1001, 422), (0, 422)]:
        assert worker.pull(limit=limit).status_code == status
    response = worker.client.get("/api/v1/sync/pull?since=3", headers=worker.headers)
    assert response.status_code == 422
    assert response.get_json()["error"]["details"] == {"since": ["不允许的字段。"]}


def test_the_pull_limit_maximum_is_the_configured_one(make_app):
    """FENGLING_PULL_MAX_LIMIT: a larger limit is refused naming it, and a pull without a
    limit never returns more."""
    phone = DeviceClient(make_app(PULL_MAX_LIMIT=5).test_client(), "dayan_worker")
    phone.login()
    assert phone.pull(limit=5).status_code == 200
    refused = phone.pull(limit=6)
    assert refused.status_code == 422
    assert refused.get_json()["error"]["details"] == {"limit": ["须在 1 到 5 之间。"]}
    page = phone.pull().get_json()
    assert len(page["changes"]) == 5 and page["has_more"]
    described = phone.client.get("/api/v1/openapi.json").get_json()["paths"]["/sync/pull"]
    limit = next(p for p in described["get"]["parameters"] if p["name"] == "limit")
    assert limit["schema"]["maximum"] == 5


def test_incremental_pull_returns_only_what_changed_at_its_latest_version(worker):
    create = case_create()
    worker.push_ok(create)
    worker.sync()
    worker.push_ok(
        case_update(create["record_id"], 1, title="二改"),
        case_update(create["record_id"], 2, title="三改"),
    )
    changes = worker.sync()
    assert [(c["entity"], c["version"]) for c in changes] == [("case", 3)]
    assert changes[0]["data"]["title"] == "三改"
    assert worker.sync() == []


def test_towns_see_only_cases_that_involve_them(login):
    dayan, shenzhen, xidian, admin = (
        login(u) for u in ("dayan_worker", "shenzhen_worker", "xidian_worker", "admin")
    )
    local = case_create()
    cross = case_create(involved_towns=["xidian"])
    dayan.push_ok(local, cross)
    for device in (dayan, shenzhen, xidian, admin):
        device.sync()
    assert {local["record_id"], cross["record_id"]} <= set(dayan.of("case"))
    assert set(shenzhen.of("case")) == set()
    assert set(xidian.of("case")) == {cross["record_id"]}
    assert {local["record_id"], cross["record_id"]} <= set(admin.of("case"))


def test_a_town_removed_from_a_case_is_told_to_drop_it_and_its_timeline(login):
    dayan, shenzhen = login("dayan_supervisor"), login("shenzhen_worker")
    create = case_create(involved_towns=["shenzhen"])
    note = case_event(create["record_id"], kind="note")
    dayan.push_ok(create, note)
    shenzhen.sync()
    assert create["record_id"] in shenzhen.of("case")
    assert note["record_id"] in shenzhen.of("case_event")
    dayan.push_ok(case_update(create["record_id"], 1, involved_towns=[]))
    changes = shenzhen.sync()
    removed = {(c["entity"], c["record_id"]) for c in changes if c["op"] == "remove"}
    assert removed == {("case", create["record_id"]), ("case_event", note["record_id"])}
    assert shenzhen.of("case") == {} and shenzhen.of("case_event") == {}
    # Adding the town back brings both back.
    dayan.push_ok(case_update(create["record_id"], 2, involved_towns=["shenzhen"]))
    shenzhen.sync()
    assert create["record_id"] in shenzhen.of("case")
    assert note["record_id"] in shenzhen.of("case_event")


def test_a_cursor_from_another_database_epoch_needs_a_resync(worker, execute):
    worker.sync()
    execute("UPDATE server_state SET epoch = 'restored-from-backup'")
    response = worker.pull(worker.cursor)
    assert response.status_code == 410
    assert response.get_json()["error"]["code"] == "resync_required"
    worker.cursor = None
    worker.sync()
    assert len(worker.of("town")) == 5


def test_a_user_moved_to_another_town_must_resync(worker, execute):
    worker.sync()
    execute("UPDATE users SET town_code = 'xidian' WHERE username = 'dayan_worker'")
    response = worker.pull(worker.cursor)
    assert response.status_code == 410
    assert response.get_json()["error"]["details"] == {"reason": "visibility"}


def test_a_cursor_older_than_compacted_history_needs_a_resync(worker, execute):
    worker.sync()
    old_cursor = worker.cursor
    worker.push_ok(case_create())
    # History compacted up to the newest change, at its position (txid, seq): txid is 0 on
    # SQLite, the writing transaction's id on PostgreSQL.
    execute(
        "UPDATE server_state SET compacted_txid = (SELECT max(txid) FROM changes),"
        " compacted_seq = (SELECT max(seq) FROM changes)"
    )
    assert worker.pull(old_cursor).status_code == 410


@pytest.mark.parametrize("cursor", ["garbage", "MXxh", "!!!"])
def test_a_cursor_not_made_by_the_server_is_refused(worker, cursor):
    response = worker.pull(cursor)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_cursor"


def test_pull_records_when_the_device_last_synced(worker, rows):
    from server.models import Device

    worker.sync()
    [device] = rows(Device, id=worker.device_id)
    assert device.last_pull_at is not None


def test_an_integration_account_scoped_to_towns_pulls_only_theirs(app, login):
    from server.accounts.users import create_user

    with app.app_context():
        create_user("county_feed", "a-long-secret", "integration", None, "县平台", ["xidian"])
    dayan = login("dayan_worker")
    local, cross = case_create(), case_create(involved_towns=["xidian"])
    dayan.push_ok(local, cross)
    feed = login("county_feed", password="a-long-secret")
    feed.sync()
    assert set(feed.of("case")) == {cross["record_id"]}
    assert len(feed.of("town")) == 5
