"""Role × town × API action, against a table of expected outcomes.

The setting: a Dayan case with a stored photo, and a Dayan check-in. Each person acts on
them from their own phone; "own" means the person belongs to Dayan.
"""

from __future__ import annotations

import hashlib

import pytest

from tests.factories import case_create, case_event, case_update, checkin, transition
from tests.photo_files import jpeg

JPEG = jpeg(())
PHOTO = hashlib.sha256(JPEG).hexdigest()
OTHER_JPEG = jpeg((), seed=1)
OTHER_PHOTO = hashlib.sha256(OTHER_JPEG).hexdigest()

# action -> expected outcome per person. "applied"/"rejected:<code>" are push results;
# numbers are HTTP statuses; "sees"/"blind" say whether a pull returns the Dayan records.
EXPECTED: dict[str, dict[str, str | int]] = {
    "pull": {
        "dayan_worker": "sees",
        "dayan_supervisor": "sees",
        "shenzhen_worker": "blind",
        "shenzhen_supervisor": "blind",
        "admin": "sees",
        "integration": "sees",
    },
    "get_photo": {
        "dayan_worker": 200,
        "dayan_supervisor": 200,
        "shenzhen_worker": 404,
        "shenzhen_supervisor": 404,
        "admin": 200,
        "integration": 200,
    },
    "head_photo": {  # the photo exists for everyone; only those with a right to it are told
        "dayan_worker": 200,
        "dayan_supervisor": 200,
        "shenzhen_worker": 404,
        "shenzhen_supervisor": 404,
        "admin": 200,
        "integration": 200,
    },
    "put_photo": {
        "dayan_worker": 201,
        "dayan_supervisor": 201,
        "shenzhen_worker": 201,
        "shenzhen_supervisor": 201,
        "admin": 201,
        "integration": 403,
    },
    "edit_case": {
        "dayan_worker": "applied",
        "dayan_supervisor": "applied",
        "shenzhen_worker": "rejected:not_found",
        "shenzhen_supervisor": "rejected:not_found",
        "admin": "applied",
        "integration": 403,
    },
    "note_on_case": {
        "dayan_worker": "applied",
        "dayan_supervisor": "applied",
        "shenzhen_worker": "rejected:not_found",
        "shenzhen_supervisor": "rejected:not_found",
        "admin": "applied",
        "integration": 403,
    },
    "accept_case": {
        "dayan_worker": "rejected:forbidden",
        "dayan_supervisor": "applied",
        "shenzhen_worker": "rejected:not_found",
        "shenzhen_supervisor": "rejected:not_found",
        "admin": "applied",
        "integration": 403,
    },
    "create_in_dayan": {
        "dayan_worker": "applied",
        "dayan_supervisor": "applied",
        "shenzhen_worker": "rejected:forbidden",
        "shenzhen_supervisor": "rejected:forbidden",
        "admin": "applied",
        "integration": 403,
    },
    "reuse_the_case_id": {
        "dayan_worker": "rejected:record_exists",
        "dayan_supervisor": "rejected:record_exists",
        # A case they cannot see: the same answer as an id never used (no existence oracle).
        "shenzhen_worker": "rejected:not_found",
        "shenzhen_supervisor": "rejected:not_found",
        "admin": "rejected:record_exists",
        "integration": 403,
    },
    "check_in_at_dayan_site": {  # the route crosses the alliance: any site, any town
        "dayan_worker": "applied",
        "dayan_supervisor": "applied",
        "shenzhen_worker": "applied",
        "shenzhen_supervisor": "applied",
        "admin": "applied",
        "integration": 403,
    },
}
PEOPLE = list(EXPECTED["pull"])


@pytest.fixture
def dayan_records(login, sites) -> dict[str, str]:
    phone = login("dayan_worker")
    create = case_create("dayan", photos=[PHOTO], title="大堰山林纠纷")
    phone.push_ok(create)
    put = phone.client.put(
        f"/api/v1/blobs/{PHOTO}", data=JPEG, headers={**phone.headers, "Content-Type": "image/jpeg"}
    )
    assert put.status_code == 201
    site = sites["dayan_alliance_hall"]
    [done] = phone.push_ok(checkin(site["id"], site["lat"], site["lon"]))
    assert done["status"] == "applied"
    return {"case": create["record_id"], "site": site["id"], "lat": site["lat"], "lon": site["lon"]}


def outcome_of_push(person, mutation: dict) -> str | int:
    response = person.push(mutation)
    if response.status_code != 200:
        return response.status_code
    [result] = response.get_json()["results"]
    if result["status"] == "rejected":
        return f"rejected:{result['error']['code']}"
    return "applied"


def act(person, action: str, records: dict[str, str]) -> str | int:
    case_id = records["case"]
    if action == "pull":
        person.sync()
        ids = {rid for (entity, rid) in person.records if entity in ("case", "checkin")}
        return "sees" if case_id in ids else "blind"
    if action == "get_photo":
        return person.client.get(f"/api/v1/blobs/{PHOTO}", headers=person.headers).status_code
    if action == "head_photo":
        return person.client.head(f"/api/v1/blobs/{PHOTO}", headers=person.headers).status_code
    if action == "put_photo":
        return person.client.put(
            f"/api/v1/blobs/{OTHER_PHOTO}",
            data=OTHER_JPEG,
            headers={**person.headers, "Content-Type": "image/jpeg"},
        ).status_code
    mutations = {
        "edit_case": lambda: case_update(case_id, 1, description="补充"),
        "note_on_case": lambda: case_event(case_id, "note", "备注"),
        "accept_case": lambda: transition(case_id, "registered", "accepted"),
        "create_in_dayan": lambda: case_create("dayan"),
        "reuse_the_case_id": lambda: case_create(
            person.user.get("town") or "dayan", record_id=case_id, title="冒用编号"
        ),
        "check_in_at_dayan_site": lambda: checkin(records["site"], records["lat"], records["lon"]),
    }
    return outcome_of_push(person, mutations[action]())


@pytest.mark.parametrize("username", PEOPLE)
def test_every_api_action_follows_the_matrix(login, dayan_records, rows, username):
    from server.models import Case

    person = login(username)
    for action, expected in EXPECTED.items():
        assert act(person, action, dayan_records) == expected[username], (action, username)
    [case] = rows(Case, id=dayan_records["case"])
    assert case.title == "大堰山林纠纷" and case.primary_town == "dayan"  # never taken over


def test_strangers_and_revoked_phones_get_nothing(client, login, dayan_records, app):
    from server.accounts.users import revoke_device

    phone = login("dayan_worker")
    with app.app_context():
        assert revoke_device(phone.device_id)
    for response in (
        phone.pull(),
        phone.push(case_create()),
        client.get(f"/api/v1/blobs/{PHOTO}", headers=phone.headers),
        client.get("/api/v1/sync/pull", headers={"X-Schema-Version": "1"}),
        client.get(f"/api/v1/blobs/{PHOTO}", headers={"X-Schema-Version": "1"}),
    ):
        assert response.status_code == 401
