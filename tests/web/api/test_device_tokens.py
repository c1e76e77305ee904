"""Whose a device is, and how long its token lasts.

A device id belongs to one person for good: signing in with someone else's device id gives a
fresh id, never the other person's phone, results or edits. A token ends when it has not been
used for DEVICE_TOKEN_IDLE_DAYS, DEVICE_TOKEN_MAX_DAYS after its sign-in, or when a person
ends it; the phone then gets `401 token_expired`, signs in again and sends its outbox once.
"""

from __future__ import annotations

import json

from server.models import Case, Device, MutationReceipt
from tests.factories import DeviceClient, case_create, case_update


def expired(response) -> bool:
    return response.status_code == 401 and response.get_json()["error"]["code"] == "token_expired"


def test_a_device_id_is_never_taken_over_by_another_towns_worker(client, login, rows):
    # The Dayan worker's phone records a case, and an edit whose merge keeps a colleague's
    # title: Dayan-only text sits in that stored result.
    dayan = DeviceClient(client, "dayan_worker")
    assert dayan.login().status_code == 200
    phone_id = dayan.device_id
    create = case_create(title="大堰村内部纠纷")
    dayan.push_ok(create)
    colleague = login("dayan_supervisor")
    colleague.push_ok(case_update(create["record_id"], 1, title="大堰仅本镇可见的标题"))
    edit = case_update(create["record_id"], 1, title="网格员的标题")
    [merged] = dayan.push_ok(edit)
    assert merged["status"] == "merged"
    assert merged["conflicts"][0]["kept"] == "大堰仅本镇可见的标题"

    # A Shenzhen worker signs in with the same device id: they get a fresh one.
    shenzhen = DeviceClient(client, "shenzhen_worker", device_id=phone_id)
    response = shenzhen.login()
    assert response.status_code == 200
    assert response.get_json()["device_id"] != phone_id
    assert shenzhen.device_id != phone_id
    [theirs] = rows(Device, id=shenzhen.device_id)
    [mine] = rows(Device, id=phone_id)
    assert theirs.user_id == shenzhen.user["id"] and mine.user_id == dayan.user["id"]

    # The Dayan worker keeps working on their phone.
    assert dayan.pull().status_code == 200
    assert dayan.push_ok(case_create())[0]["status"] == "applied"

    # Replaying the Dayan worker's mutation id as the Shenzhen worker returns nothing of it.
    [replay] = shenzhen.push_ok(edit)
    assert "replayed" not in replay
    assert replay["status"] == "rejected" and replay["error"]["code"] == "not_found"
    assert "大堰" not in json.dumps(replay, ensure_ascii=False)
    assert rows(MutationReceipt, device_id=shenzhen.device_id, mutation_id=edit["mutation_id"])
    [case] = rows(Case, id=create["record_id"])
    assert case.title == "大堰仅本镇可见的标题"


def test_the_same_person_signing_in_again_keeps_their_device_id(client):
    phone = DeviceClient(client, "dayan_worker")
    phone.login()
    first = phone.device_id
    assert phone.login().get_json()["device_id"] == first


def test_a_token_unused_for_the_idle_period_ends_and_the_outbox_goes_once(clock, client, rows):
    phone = DeviceClient(client, "dayan_worker")
    phone.login()
    clock.advance(days=29)
    assert phone.pull().status_code == 200  # used: the idle time starts again
    clock.advance(days=29)
    assert phone.pull().status_code == 200
    clock.advance(days=30, minutes=1)  # a month in a drawer

    create = case_create()
    assert expired(phone.pull())
    assert expired(phone.push(create))
    assert rows(Case, id=create["record_id"]) == []

    device_id = phone.device_id
    assert phone.login().status_code == 200
    assert phone.device_id == device_id
    [result] = phone.push_ok(create)
    assert result["status"] == "applied"
    [again] = phone.push_ok(create)
    assert again["replayed"] is True
    assert len(rows(Case, id=create["record_id"])) == 1


def test_a_token_ends_after_its_absolute_lifetime_however_often_it_is_used(clock, client):
    phone = DeviceClient(client, "dayan_worker")
    phone.login()
    for _ in range(9):
        clock.advance(days=20)
        assert phone.pull().status_code == 200  # day 180: still within its lifetime
    clock.advance(days=1)
    assert expired(phone.pull())
    assert phone.login().status_code == 200
    assert phone.pull().status_code == 200


def test_a_revoked_device_still_says_revoked_and_a_disabled_account_disabled(
    clock, app, login, execute
):
    from server.accounts.users import revoke_device

    lost, other = login("dayan_worker"), login("xidian_worker")
    clock.advance(days=400)  # long expired as well
    with app.app_context():
        assert revoke_device(lost.device_id)
    assert lost.pull().get_json()["error"]["code"] == "device_revoked"
    execute("UPDATE users SET is_active = false WHERE username = 'xidian_worker'")
    assert other.pull().get_json()["error"]["code"] == "account_disabled"


def test_token_expired_is_said_in_the_users_language(clock, login):
    phone = login("dayan_worker", language="en")
    clock.advance(days=31)
    body = phone.pull().get_json()["error"]
    assert body["code"] == "token_expired"
    assert body["message"].startswith("Your sign-in has expired")
    phone.language = "zh-CN"
    assert phone.pull().get_json()["error"]["message"].startswith("登录已过期")


def test_using_a_token_writes_the_device_row_at_most_once_a_minute(clock, app, login, rows):
    """Idle time is read from the last contact the server already notes: pulls write it at
    most once a minute, so reading does not turn into a write per request."""
    phone = login("dayan_worker")
    assert phone.pull().status_code == 200
    [before] = rows(Device, id=phone.device_id)
    for _ in range(3):
        clock.advance(seconds=15)
        assert phone.pull().status_code == 200
    [after] = rows(Device, id=phone.device_id)
    assert after.last_seen_at == before.last_seen_at
    clock.advance(seconds=20)
    assert phone.pull().status_code == 200
    [later] = rows(Device, id=phone.device_id)
    assert later.last_seen_at == clock.at
