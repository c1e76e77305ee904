"""Bad input gets a clear error in the user's language, and nothing is written."""

from __future__ import annotations

import json

import pytest

from server.models import Case, Checkin, MutationReceipt
from tests.factories import case_create, case_event, case_update, checkin, new_id

SERVER_CASE_FIELDS = [
    "number",
    "status",
    "assignee",
    "due_at",
    "reported_by",
    "created_at",
    "updated_at",
    "is_cross_town",
    "version",
    "town_mask",
]


@pytest.mark.parametrize("field", SERVER_CASE_FIELDS)
def test_case_create_refuses_server_owned_fields(worker, rows, field):
    create = case_create(**{field: "x"})
    [result] = worker.push_ok(create)
    assert result["error"]["code"] == "validation_failed"
    assert result["error"]["details"] == {field: ["不允许的字段。"]}
    assert rows(Case, id=create["record_id"]) == []


@pytest.mark.parametrize("field", [*SERVER_CASE_FIELDS, "primary_town"])
def test_case_update_refuses_server_owned_fields(worker, rows, field):
    create = case_create()
    worker.push_ok(create)
    [result] = worker.push_ok(case_update(create["record_id"], 1, **{field: "x"}))
    assert result["error"]["details"] == {field: ["不允许的字段。"]}
    [case] = rows(Case, id=create["record_id"])
    assert case.version == 1


@pytest.mark.parametrize("field", ["by", "from", "to", "created_at"])
def test_case_event_refuses_server_owned_fields(worker, field):
    create = case_create()
    worker.push_ok(create)
    event = case_event(create["record_id"])
    event["data"][field] = "x"
    [_result] = worker.push_ok(event)
    assert _result["error"]["details"] == {field: ["不允许的字段。"]}


@pytest.mark.parametrize("field", ["by", "town", "distance_m", "verified"])
def test_checkin_refuses_server_owned_fields(worker, sites, rows, field):
    site = sites["dayan_alliance_hall"]
    mutation = checkin(site["id"], site["lat"], site["lon"], **{field: True})
    [result] = worker.push_ok(mutation)
    assert result["error"]["details"] == {field: ["不允许的字段。"]}
    assert rows(Checkin, id=mutation["record_id"]) == []


def test_login_refuses_a_role_sent_by_the_client(client):
    response = client.post(
        "/api/v1/auth/login",
        json={
            "username": "dayan_worker",
            "password": "fengling-demo",
            "role": "admin",
            "device": {"id": new_id()},
        },
    )
    assert response.status_code == 422
    assert response.get_json()["error"]["details"] == {"role": ["不允许的字段。"]}


@pytest.mark.parametrize(
    ("data", "field", "reason"),
    [
        ({"title": 42}, "title", "Not a valid string."),
        ({"title": "长" * 201}, "title", "Length must be between 1 and 200."),
        ({"severity": "urgent"}, "severity", "Must be one of: low, medium, high."),
        (
            {"location": {"lat": 95, "lon": 121, "accuracy_m": 5}},
            "location.lat",
            "Must be greater than or equal to -90 and less than or equal to 90.",
        ),
        (
            {"parties": [{"name": "李某", "role": "judge"}]},
            "parties.0.role",
            "Must be one of: applicant, respondent, other.",
        ),
        ({"photos": ["not-a-hash"]}, "photos.0", "Not a valid SHA-256 hex digest."),
        ({"involved_towns": ["dayan"]}, "involved_towns", "Must not repeat the primary town."),
        ({"involved_towns": ["atlantis"]}, "involved_towns", "Unknown code: atlantis."),
        ({"reported_at": "2026-11-26T09:00:00"}, "reported_at", "Not a valid aware datetime."),
    ],
)
def test_invalid_case_fields_are_named_with_their_reason_in_english(login, data, field, reason):
    worker = login("dayan_worker", language="en")
    [result] = worker.push_ok(case_create(**data))
    assert result["error"]["message"] == "Some fields are invalid; see details."
    assert result["error"]["details"] == {field: [reason]}


def test_a_malformed_mutation_rejects_only_itself(worker, rows):
    good = case_create()
    results = worker.push_ok(
        {"op": "case.create"}, "not an object", {**case_create(), "op": "case.delete"}, good
    )
    assert [r["status"] for r in results] == ["rejected", "rejected", "rejected", "applied"]
    assert set(results[0]["error"]["details"]) == {"mutation_id", "record_id", "data"}
    assert results[2]["error"]["details"] == {
        "op": [
            "必须是以下之一：case.create, case.update, "
            "case.transition, case.assign, "
            "case_event.create, checkin.create, conflict.resolve。"
        ]
    }
    assert len(rows(Case, id=good["record_id"])) == 1


def test_malformed_json_is_refused(worker):
    response = worker.client.post(
        "/api/v1/sync/push",
        data="{not json",
        content_type="application/json",
        headers=worker.headers,
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_json"


def test_unknown_top_level_fields_are_refused(worker):
    response = worker.client.post(
        "/api/v1/sync/push", headers=worker.headers, json={"mutations": [], "force": True}
    )
    assert response.status_code == 422
    assert response.get_json()["error"]["details"] == {"force": ["不允许的字段。"]}


def test_more_than_500_mutations_are_refused_whole(worker, rows):
    mutations = [case_create() for _ in range(501)]
    response = worker.push(*mutations)
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large"
    assert rows(MutationReceipt) == []


def test_a_body_over_5_mib_is_refused(worker, rows):
    body = json.dumps({"mutations": [case_create(description="x" * 10_000) for _ in range(540)]})
    assert len(body.encode()) > 5 * 1024 * 1024
    response = worker.client.post(
        "/api/v1/sync/push", data=body, content_type="application/json", headers=worker.headers
    )
    assert response.status_code == 413
    assert rows(Case) == []


def test_500_mutations_in_one_batch_are_accepted(worker, rows):
    results = worker.push_ok(*[case_create(title=f"批量{i}") for i in range(500)])
    assert {r["status"] for r in results} == {"applied"}
    assert len(rows(Case)) == 500


def test_text_with_a_nul_character_is_refused_not_a_server_error(client, worker, rows):
    """PostgreSQL cannot store NUL in text, and no person types one: refused everywhere."""
    from server.models import Case

    login = client.post(
        "/api/v1/auth/login", json={"username": "\x00", "password": "x", "device": {"id": new_id()}}
    )
    assert login.status_code == 422
    assert login.get_json()["error"]["details"]["username"] == ["不能包含空字符（NUL）。"]
    [result] = worker.push_ok(case_create(title="山林\x00纠纷"))
    assert result["status"] == "rejected"
    assert result["error"]["details"] == {"title": ["不能包含空字符（NUL）。"]}
    assert rows(Case) == []
