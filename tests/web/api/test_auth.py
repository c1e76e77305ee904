"""Login, device-bound tokens, logout, revocation, schema versions, languages."""

from __future__ import annotations

import pytest

from server.models import Device, User
from tests.factories import DeviceClient, case_create


def test_login_returns_a_token_bound_to_the_device_and_stores_only_its_hash(client, rows):
    phone = DeviceClient(client, "dayan_worker")
    response = phone.login()
    assert response.status_code == 200
    body = response.get_json()
    assert body["device_id"] == phone.device_id
    assert body["user"] == {
        "id": body["user"]["id"],
        "username": "dayan_worker",
        "display_name": "大堰镇网格员",
        "role": "worker",
        "town": "dayan",
    }
    [device] = rows(Device, id=phone.device_id)
    assert device.token_hash and body["token"] not in device.token_hash
    assert device.name == "测试手机" and device.app_version == "1.0.0"


def test_passwords_are_stored_with_argon2id(rows):
    [user] = rows(User, username="dayan_worker")
    assert user.password_hash.startswith("$argon2id$")


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("zh-CN,zh;q=0.9", "用户名或密码错误。"),
        ("en-US,en;q=0.8", "Wrong username or password."),
    ],
)
def test_wrong_password_is_refused_in_the_users_language(client, language, message):
    phone = DeviceClient(client, "dayan_worker", password="wrong-password", language=language)
    response = client.post(
        "/api/v1/auth/login",
        headers={"Accept-Language": language},
        json={
            "username": phone.username,
            "password": phone.password,
            "device": {"id": phone.device_id},
        },
    )
    assert response.status_code == 401
    assert response.get_json()["error"] == {
        "code": "invalid_credentials",
        "message": message,
        "details": {},
    }


def test_unknown_user_gets_the_same_answer_as_a_wrong_password(client):
    response = DeviceClient(client, "nobody", password="whatever1").login()
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "invalid_credentials"


def test_login_attempts_are_rate_limited_per_username(clock, client):
    for _ in range(5):
        assert (
            DeviceClient(client, "xidian_worker", password="bad-guess").login().status_code == 401
        )
    response = DeviceClient(client, "xidian_worker").login()  # even the right password
    assert response.status_code == 429
    assert response.get_json()["error"]["code"] == "too_many_attempts"
    assert int(response.headers["Retry-After"]) > 0
    assert DeviceClient(client, "dayan_worker").login().status_code == 200


def test_logout_revokes_the_token(worker):
    response = worker.client.post("/api/v1/auth/logout", headers=worker.headers)
    assert response.status_code == 200
    response = worker.pull()
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "invalid_token"


def test_a_revoked_device_is_refused_and_nothing_it_sends_is_accepted(app, worker, rows):
    from server.accounts.users import revoke_device
    from server.models import Case

    with app.app_context():
        assert revoke_device(worker.device_id)
    create = case_create()
    for response in (worker.push(create), worker.pull()):
        assert response.status_code == 401
        assert response.get_json()["error"]["code"] == "device_revoked"
    assert rows(Case, id=create["record_id"]) == []
    assert worker.login().status_code == 401  # the same phone cannot sign in again


def test_a_new_login_on_the_same_device_replaces_its_token(client):
    phone = DeviceClient(client, "dayan_worker")
    phone.login()
    old_token = phone.token
    phone.login()
    stale = DeviceClient(client, "dayan_worker")
    stale.token = old_token
    assert stale.pull().status_code == 401
    assert phone.pull().status_code == 200


def test_requests_without_a_token_are_refused(client):
    response = client.get("/api/v1/sync/pull", headers={"X-Schema-Version": "1"})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize(
    ("header", "status", "code"),
    [
        (None, 400, "schema_version_missing"),
        ("0", 426, "client_outdated"),
        ("2", 400, "unsupported_schema_version"),
        ("one", 400, "unsupported_schema_version"),
    ],
)
def test_schema_version_is_checked_before_anything_else(worker, header, status, code):
    headers = {k: v for k, v in worker.headers.items() if k != "X-Schema-Version"}
    if header is not None:
        headers["X-Schema-Version"] = header
    response = worker.client.get("/api/v1/sync/pull", headers=headers)
    assert response.status_code == status
    assert response.get_json()["error"]["code"] == code


def test_deactivated_account_is_refused(app, worker, execute):
    execute("UPDATE users SET is_active = false WHERE username = 'dayan_worker'")
    response = worker.pull()
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "account_disabled"


def test_login_gives_the_phone_a_key_to_escrow_its_data_key_the_same_on_each_login(client, rows):
    """The PWA wraps its local data key under this key, so a forgotten PIN is recovered online."""
    import base64

    from server.models import DeviceKey

    phone = DeviceClient(client, "dayan_worker")
    first = phone.login().get_json()["device_key"]
    assert len(base64.urlsafe_b64decode(first + "=")) == 32
    assert phone.login().get_json()["device_key"] == first
    other_phone = DeviceClient(client, "dayan_worker")
    assert other_phone.login().get_json()["device_key"] != first
    other_user = DeviceClient(client, "dayan_supervisor", device_id=phone.device_id)
    assert other_user.login().get_json()["device_key"] != first
    kept = rows(DeviceKey, device_id=phone.device_id, user_id=phone.user["id"])
    assert [k.key for k in kept] == [first]


def test_revoking_a_device_drops_its_keys_so_a_stolen_phone_cannot_be_recovered(app, worker, rows):
    from server.accounts.users import revoke_device
    from server.models import DeviceKey

    assert rows(DeviceKey, device_id=worker.device_id)
    with app.app_context():
        assert revoke_device(worker.device_id)
    assert rows(DeviceKey, device_id=worker.device_id) == []
    response = worker.login()
    assert response.status_code == 401 and "device_key" not in response.get_json()


def test_a_signed_in_phone_gets_its_escrow_key_again_and_only_its_own(client, app):
    """A phone without a server-wrapped copy of its data key asks for the key while unlocked."""
    from server.accounts.users import revoke_device

    phone = DeviceClient(client, "dayan_worker")
    given = phone.login().get_json()["device_key"]
    response = client.post("/api/v1/auth/device-key", headers=phone.headers)
    assert response.status_code == 200 and response.get_json() == {"device_key": given}
    empty = client.post("/api/v1/auth/device-key", headers=phone.headers, json={})
    assert empty.get_json() == {"device_key": given}
    extra = client.post("/api/v1/auth/device-key", headers=phone.headers, json={"user_id": "x"})
    assert extra.status_code == 422

    # Another person (on this very phone) gets their own key, never the first person's.
    other = DeviceClient(client, "dayan_supervisor", device_id=phone.device_id)
    other_key = other.login().get_json()["device_key"]
    answer = client.post("/api/v1/auth/device-key", headers=other.headers).get_json()
    assert answer == {"device_key": other_key} and other_key != given

    unsigned = client.post("/api/v1/auth/device-key", headers={"X-Schema-Version": "1"})
    assert unsigned.status_code == 401
    with app.app_context():
        assert revoke_device(phone.device_id)
    refused = client.post("/api/v1/auth/device-key", headers=phone.headers)
    assert refused.status_code == 401 and "device_key" not in refused.get_json()
    assert refused.get_json()["error"]["code"] == "device_revoked"
