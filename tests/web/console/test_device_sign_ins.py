"""A person's phones at the console: when each was last used, ending a sign-in, and the
changes to an account that end every one of its phone sign-ins (a new password,
deactivation, another role or town). An ended phone gets `401 token_expired`, asks for the
password and keeps its data; unlike a revoked (lost) phone, it can sign in again."""

from __future__ import annotations

from typing import Any

from server.models import Device, User
from tests.factories import DEMO_PASSWORD, DeviceClient, case_create
from tests.web.console.conftest import ConsoleUser

NEW_PASSWORD = "neue-passwort-2026"


def user_id(rows: Any, username: str) -> str:
    return rows(User, username=username)[0].id


def expired(response: Any) -> bool:
    return response.status_code == 401 and response.get_json()["error"]["code"] == "token_expired"


def sign_in_cell(console: ConsoleUser, device_id: str, **query: Any) -> Any:
    page = console.page("/console/devices", query_string=query)
    return page.select_one(f"tr[data-device='{device_id}'] td.sign-in")


def test_an_admin_lists_a_persons_phones_with_last_use_and_ends_one(
    clock, admin_console, login, rows
):
    phone, spare = login("dayan_worker"), login("dayan_worker")
    other = login("xidian_worker")
    clock.advance(hours=2)
    assert phone.pull().status_code == 200
    target = user_id(rows, "dayan_worker")

    page = admin_console.page("/console/admin/users")
    link = page.select_one("tr[data-user=dayan_worker] td.devices a")
    assert link.text == "2"
    listed = admin_console.page(link["href"])
    shown = {row["data-device"]: row for row in listed.select("#devices tbody tr[data-device]")}
    assert set(shown) == {phone.device_id, spare.device_id}
    assert other.device_id not in shown
    assert "11-26 11:12" in shown[phone.device_id].text  # last use, in China's time
    assert shown[phone.device_id].select_one("td.sign-in").text.strip().startswith("已登录")

    response = admin_console.post(f"/console/devices/{phone.device_id}/end", {"user": target})
    assert response.status_code == 302
    after = admin_console.page(response.headers["Location"])
    assert "已结束该设备的登录" in after.select_one(".message.ok").text
    cell = after.select_one(f"tr[data-device='{phone.device_id}'] td.sign-in")
    assert cell["data-sign-in"] == "ended" and cell.select_one("form") is None

    assert expired(phone.pull())
    assert spare.pull().status_code == 200  # only the phone that was ended
    [device] = rows(Device, id=phone.device_id)
    assert not device.is_revoked
    assert phone.login().status_code == 200  # not a lost phone: the worker signs in again
    assert phone.pull().status_code == 200


def test_a_supervisor_ends_their_towns_phones_but_not_another_towns(console, login):
    phone = login("dayan_worker")
    shenzhen = console("shenzhen_supervisor")
    assert shenzhen.post(f"/console/devices/{phone.device_id}/end").status_code == 404
    assert phone.pull().status_code == 200

    dayan = console("dayan_supervisor")
    assert dayan.post(f"/console/devices/{phone.device_id}/end", csrf=False).status_code == 400
    assert phone.pull().status_code == 200
    assert dayan.post(f"/console/devices/{phone.device_id}/end").status_code == 302
    assert expired(phone.pull())


def test_a_password_reset_ends_every_phone_of_that_person(admin_console, login, rows, client, app):
    phones = [login("dayan_worker"), login("dayan_worker")]
    bystander = login("xidian_worker")
    target = user_id(rows, "dayan_worker")
    response = admin_console.post(
        f"/console/admin/users/{target}/password", {"password": NEW_PASSWORD}
    )
    assert response.status_code == 302
    for phone in phones:
        assert expired(phone.pull())
        assert expired(phone.push(case_create()))
    assert bystander.pull().status_code == 200

    phone = phones[0]
    phone.password = NEW_PASSWORD
    assert phone.login().status_code == 200
    assert phone.pull().status_code == 200
    assert DeviceClient(client, "dayan_worker", password=DEMO_PASSWORD).login().status_code == 401


def test_a_new_role_or_town_ends_the_phones_and_a_new_name_does_not(admin_console, login, rows):
    phone = login("dayan_worker")
    target = user_id(rows, "dayan_worker")
    form = {"display_name": "大堰镇网格员（改名）", "role": "worker", "town": "dayan"}
    assert admin_console.post(f"/console/admin/users/{target}", form).status_code == 302
    assert phone.pull().status_code == 200

    moved = {**form, "town": "shenzhen"}
    assert admin_console.post(f"/console/admin/users/{target}", moved).status_code == 302
    assert expired(phone.pull())
    assert phone.login().status_code == 200
    assert phone.pull().status_code == 200

    promoted = {**moved, "role": "supervisor"}
    assert admin_console.post(f"/console/admin/users/{target}", promoted).status_code == 302
    assert expired(phone.pull())


def test_deactivation_ends_the_phones_for_good_even_after_reactivation(admin_console, login, rows):
    phone = login("dayan_worker")
    target = user_id(rows, "dayan_worker")
    admin_console.post(f"/console/admin/users/{target}/active", {"active": "0"})
    assert phone.pull().get_json()["error"]["code"] == "account_disabled"
    assert phone.login().status_code == 401
    admin_console.post(f"/console/admin/users/{target}/active", {"active": "1"})
    assert expired(phone.pull())
    assert phone.login().status_code == 200
    assert phone.pull().status_code == 200
