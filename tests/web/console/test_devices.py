"""Device health at the console: what each phone reported at its last sync, which phones have
gone quiet, and revoking a lost phone so its next request is refused."""

from __future__ import annotations

from tests.factories import DeviceClient

SIX_MB = 6 * 1024 * 1024


def device_rows(console, **query) -> dict:
    page = console.page("/console/devices", query_string=query)
    return {row["data-device"]: row for row in page.select("#devices tbody tr[data-device]")}


def test_a_supervisor_sees_what_their_towns_phones_reported(console, login):
    phone = login("dayan_worker")
    response = phone.push(
        device={"pending": 3, "sw_version": "sw-7", "app_version": "1.2.0", "storage_used": SIX_MB}
    )
    assert response.status_code == 200
    other_town = login("shenzhen_worker")
    other_town.sync()

    rows = device_rows(console("dayan_supervisor"))
    assert other_town.device_id not in rows
    row = rows[phone.device_id]
    assert "大堰镇网格员" in row.text and "dayan_worker" in row.text and "大堰镇" in row.text
    assert "测试手机" in row.text and "android" in row.text
    assert row.select_one("td.pending").text == "3"
    assert row.select_one(".sw-version").text == "sw-7"
    assert row.select_one(".app-version").text == "1.2.0"
    assert row.select_one("td.storage").text == "6.0 MB"
    assert "从未同步" not in row.select_one("td.last-sync").text
    assert "stale" not in row.get("class", [])

    admin_rows = device_rows(console("admin"))
    assert {phone.device_id, other_town.device_id} <= set(admin_rows)
    assert set(device_rows(console("admin"), town="shenzhen")) >= {other_town.device_id}
    assert phone.device_id not in device_rows(console("admin"), town="shenzhen")


def test_phones_that_have_not_synced_for_days_are_highlighted_first(clock, console, login, execute):
    """On 26 November 2026 one phone syncs; another last pushed on the 16th and pulled on
    the 21st; a third never synced."""
    fresh = login("dayan_worker")
    fresh.sync()
    quiet = login("dayan_worker")
    quiet.push(device={"pending": 9})
    quiet.sync()
    execute(
        "UPDATE devices SET last_push_at = :push, last_pull_at = :pull WHERE id = :id",
        push="2026-11-16 01:12:00+00:00",
        pull="2026-11-21 01:12:00+00:00",
        id=quiet.device_id,
    )
    never = login("dayan_worker")  # signed in, never pushed nor pulled

    supervisor = console("dayan_supervisor")
    page = supervisor.page("/console/devices")
    order = [row["data-device"] for row in page.select("#devices tbody tr[data-device]")]
    stale = [row["data-device"] for row in page.select("#devices tbody tr.stale")]
    assert set(stale) == {quiet.device_id, never.device_id}
    assert order.index(fresh.device_id) > max(
        order.index(quiet.device_id), order.index(never.device_id)
    )
    assert "从未同步" in page.select_one(f"tr[data-device='{never.device_id}'] td.last-sync").text
    assert page.select_one(f"tr[data-device='{quiet.device_id}'] td.pending").text == "9"

    # the last sync is the later of push and pull: 5 days ago is fine within a week
    week = device_rows(supervisor, days=7)
    assert "stale" not in week[quiet.device_id].get("class", [])
    assert "stale" in week[never.device_id]["class"]
    assert "stale" in device_rows(supervisor, days=4)[quiet.device_id]["class"]
    assert supervisor.get("/console/devices?days=0").status_code == 400
    assert supervisor.get("/console/devices?sort=name").status_code == 400


def test_revoking_a_lost_phone_refuses_its_next_request(console, login, rows):
    from server.models import Device

    phone = login("dayan_worker")
    assert phone.pull().status_code == 200
    supervisor = console("dayan_supervisor")

    response = supervisor.post(f"/console/devices/{phone.device_id}/revoke")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/console/devices?done=done.device_revoked")
    page = supervisor.page(response.headers["Location"])
    assert "设备已停用" in page.select_one(".message.ok").text
    row = page.select_one(f"tr[data-device='{phone.device_id}']")
    assert row.select_one(".badge.revoked").text == "已停用" and row.select_one("form") is None

    refused = phone.pull()
    assert refused.status_code == 401
    assert refused.get_json()["error"]["code"] == "device_revoked"
    assert phone.push(device={"pending": 1}).status_code == 401
    [device] = rows(Device, id=phone.device_id)
    assert device.is_revoked and device.revoked_at is not None


def test_the_revoke_form_keeps_the_filters_and_refuses_unknown_fields(console, login):
    phone = login("dayan_worker")
    supervisor = console("dayan_supervisor")
    page = supervisor.page("/console/devices", query_string={"days": 9})
    form = page.select_one(f"tr[data-device='{phone.device_id}'] form.revoke")
    assert form.select_one("input[name=csrf_token]")["value"] == supervisor.csrf
    assert form.select_one("input[name=days]")["value"] == "9"

    unknown = supervisor.post(f"/console/devices/{phone.device_id}/revoke", {"is_revoked": "0"})
    assert unknown.status_code == 400 and "不允许的字段" in unknown.text
    assert phone.pull().status_code == 200

    kept = supervisor.post(f"/console/devices/{phone.device_id}/revoke", {"days": "9"})
    assert kept.headers["Location"].endswith("/console/devices?done=done.device_revoked&days=9")


def test_another_towns_supervisor_cannot_see_or_revoke_the_phone(console, login, client):
    phone = login("dayan_worker")
    shenzhen = console("shenzhen_supervisor")
    assert phone.device_id not in device_rows(shenzhen)
    response = shenzhen.post(f"/console/devices/{phone.device_id}/revoke")
    assert response.status_code == 404
    assert (
        shenzhen.post("/console/devices/6f1c7a2e-8d59-4d3c-9d4f-1a2b3c4d5e6f/revoke").status_code
        == 404
    )
    assert phone.pull().status_code == 200

    admin = console("admin")
    assert admin.post(f"/console/devices/{phone.device_id}/revoke").status_code == 302
    assert phone.pull().status_code == 401
    again = DeviceClient(client, "dayan_worker", device_id=phone.device_id)
    assert again.login().status_code == 401  # the same phone cannot sign in again


def test_a_revoke_without_the_form_token_is_refused(console, login):
    phone = login("dayan_worker")
    supervisor = console("dayan_supervisor")
    response = supervisor.post(f"/console/devices/{phone.device_id}/revoke", csrf=False)
    assert response.status_code == 400
    forged = supervisor.post(
        f"/console/devices/{phone.device_id}/revoke", {"csrf_token": "forged"}, csrf=False
    )
    assert forged.status_code == 400
    assert phone.pull().status_code == 200


def test_the_devices_page_speaks_english(dayan_console):
    dayan_console.get("/console/lang/en")
    page = dayan_console.page("/console/devices")
    assert page.select_one("h1").text == "Devices"
    assert page.select_one("#devices th").text == "User"
