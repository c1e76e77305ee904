"""A malformed intent is rejected alone, never a 500 and never a blocked outbox: half an
emoji, JSON nested past any sane depth, and a server bug met by one intent."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from server.models import Case, MutationReceipt, RejectedIntent
from server.sync.ops import ApplyContext, CheckContext, OpResult, OpSpec
from server.sync.ops_cases import server_event, visible_case
from server.sync.registry import REGISTRY
from tests.factories import DEMO_PASSWORD, case_create, case_update, new_id
from tests.sync.test_registry import FlagSchema, intent

HALF_EMOJI = "\ud83d"  # what a JavaScript string cut inside 😀 holds
SURROGATE = "含有残缺的字符（如被截断的表情符号），请删去后重试。"


def post_json(client, path: str, body: object, headers: dict | None = None):
    """As a phone posts it: JSON.stringify writes a lone surrogate as the escape \\ud83d."""
    return client.post(
        path, data=json.dumps(body), content_type="application/json", headers=headers or {}
    )


def test_half_an_emoji_in_a_case_is_refused_with_its_field_and_the_rest_applies(worker, rows):
    before, cut, after = case_create(), case_create(title="山林纠纷" + HALF_EMOJI), case_create()
    results = worker.push_ok(before, cut, after)
    assert [r["status"] for r in results] == ["applied", "rejected", "applied"]
    assert results[1]["error"]["details"] == {"title": [SURROGATE]}
    assert {c.id for c in rows(Case)} == {before["record_id"], after["record_id"]}
    # The refused intent's copy is kept for the supervisor, made storable.
    [kept] = rows(RejectedIntent)
    assert kept.data["title"] == "山林纠纷\ufffd"
    # Sent again (the phone retries), it is the same refusal, replayed.
    assert worker.push_ok(cut)[0]["replayed"] is True


def test_half_an_emoji_in_an_edit_a_field_name_or_the_device_status_is_no_server_error(
    worker, rows
):
    case = case_create()
    worker.push_ok(case)
    edit = case_update(case["record_id"], 1, description="调解记录" + HALF_EMOJI)
    odd_key = case_create()
    odd_key["data"]["备注" + HALF_EMOJI] = "x"
    odd_id = {**case_create(), "mutation_id": "id" + HALF_EMOJI}
    results = worker.push_ok(edit, odd_key, odd_id)
    assert [r["status"] for r in results] == ["rejected"] * 3
    assert results[0]["error"]["details"] == {"description": [SURROGATE]}
    assert results[1]["error"]["details"] == {"备注\ufffd": [SURROGATE]}
    assert results[2]["mutation_id"] == "id\ufffd"
    status = worker.push(case_create(), device={"app_version": "1.2" + HALF_EMOJI})
    assert status.status_code == 422
    assert status.get_json()["error"]["details"] == {"device.app_version": [SURROGATE]}
    assert len(rows(Case)) == 1


def test_signing_in_with_half_an_emoji_is_refused_before_any_token(client):
    device = {"id": new_id(), "name": "李的手机", "platform": "android", "app_version": "1"}
    for body in (
        {"username": "dayan" + HALF_EMOJI, "password": "x", "device": device},
        {
            "username": "dayan_worker",
            "password": DEMO_PASSWORD,
            "device": {**device, "name": "手机" + HALF_EMOJI},
        },
    ):
        response = post_json(client, "/api/v1/auth/login", body)
        assert response.status_code == 422
        assert SURROGATE in json.dumps(response.get_json(), ensure_ascii=False)


def nested(depth: int) -> object:
    value: object = "底"
    for _ in range(depth - 1):
        value = [value]
    return value


def test_json_nested_past_64_levels_is_refused_with_400_signed_in_or_not(client, worker, rows):
    for depth in (65, 100_000):
        login = client.post(
            "/api/v1/auth/login",
            data="[" * depth + "]" * depth,
            content_type="application/json",
        )
        assert login.status_code == 400
        assert login.get_json()["error"]["code"] == "too_deeply_nested"
        assert login.get_json()["error"]["message"] == "请求内容嵌套层数过多。"
    deep = case_create()
    deep["data"]["location"] = {"lat": 29.4, "lon": 121.1, "accuracy_m": 5, "x": "DEEP"}
    body = json.dumps({"mutations": [deep]}).replace('"DEEP"', "[" * 50_000 + "]" * 50_000)
    response = client.post(
        "/api/v1/sync/push", data=body, content_type="application/json", headers=worker.headers
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["details"] == {"max_depth": 64}
    assert rows(Case) == []


def test_json_up_to_64_levels_is_read_and_judged_by_the_schema(worker):
    shallow = case_create()
    shallow["data"]["location"] = nested(60)
    [result] = worker.push_ok(shallow)
    assert result["status"] == "rejected"
    assert result["error"]["details"] == {"location._schema": ["类型不正确。"]}


def flag_then_fail(ctx: ApplyContext, plan: tuple) -> OpResult:
    case, reason = plan
    server_event(ctx, case, "note", None, None, reason)  # written, then the bug
    raise ZeroDivisionError("a bug in an apply step")


def check_then_fail(ctx: CheckContext) -> None:
    visible_case(ctx, ctx.mutation.record_id)
    raise KeyError("a bug in a check step")


BUGGY_APPLY = OpSpec(
    "case.flag",
    "case",
    FlagSchema,
    lambda ctx: (visible_case(ctx, ctx.mutation.record_id), "再次来访"),
    flag_then_fail,
)
BUGGY_CHECK = OpSpec("case.flag2", "case", FlagSchema, check_then_fail, flag_then_fail)


def test_a_server_bug_met_by_one_intent_rejects_it_alone_and_the_rest_flow(worker, rows):
    case = case_create()
    worker.push_ok(case)
    first, last = case_create(), case_create()
    bug_in_apply = intent("case.flag", case["record_id"], reason="再次来访")
    bug_in_check = intent("case.flag2", case["record_id"], reason="再次来访")
    with REGISTRY.extra(BUGGY_APPLY, BUGGY_CHECK):
        results = worker.push_ok(first, bug_in_apply, bug_in_check, last)
        again = worker.push_ok(first, bug_in_apply, bug_in_check, last)
    assert [r["status"] for r in results] == ["applied", "rejected", "rejected", "applied"]
    assert [r["error"]["code"] for r in results[1:3]] == ["server_error", "server_error"]
    assert results[1]["error"]["message"].startswith("服务器无法处理此记录")
    assert {c.id for c in rows(Case)} == {case["record_id"], first["record_id"], last["record_id"]}
    events = [e for e in worker.sync() if e["entity"] == "case_event"]
    assert not [e for e in events if e["data"]["kind"] == "note"]  # the half-done write is gone
    assert [r["status"] for r in again] == ["applied", "rejected", "rejected", "applied"]
    assert all(r["replayed"] for r in again)
    stored = {r.mutation_id: r.error_code for r in rows(RejectedIntent)}
    assert stored == {
        bug_in_apply["mutation_id"]: "server_error",
        bug_in_check["mutation_id"]: "server_error",
    }
    assert len(rows(MutationReceipt)) == 5


def test_a_nul_in_an_intents_op_or_ids_is_rejected_alone(worker, rows):
    """The refused intent's op and ids are kept in plain text columns, which take no NUL."""
    bad_op, bad_id, bad_record = case_create(), case_create(), case_create()
    bad_op["op"] = "case.create\x00"
    bad_id["mutation_id"] = "abc\x00"
    bad_record["record_id"] = "abc\x00"
    good = case_create()
    results = worker.push_ok(bad_op, bad_id, bad_record, good)
    assert [r["status"] for r in results] == ["rejected"] * 3 + ["applied"]
    assert {r.op for r in rows(RejectedIntent)} >= {"case.create\ufffd"}


def test_an_id_written_in_another_uuid_form_is_replayed_not_applied_again(worker, rows):
    case = case_create()
    worker.push_ok(case)
    edit = case_update(case["record_id"], 1, description="调解中")
    edit["mutation_id"] = edit["mutation_id"].replace("-", "").upper()
    assert worker.push_ok(edit)[0]["status"] == "applied"
    again = worker.push_ok(edit)[0]
    assert again["replayed"] is True and again["status"] == "applied"
    assert rows(Case)[0].version == 2


def lose_the_connection(ctx: CheckContext) -> None:
    ctx.read.execute(select(func.pg_terminate_backend(func.pg_backend_pid())))


@pytest.mark.parametrize("backend", ["postgresql"])
def test_a_connection_lost_during_a_check_is_a_retry_not_a_rejection(worker, rows):
    """Rule 9: transient trouble is no intent's fault; the phone sends the batch again."""
    drop = OpSpec("case.drop", "case", FlagSchema, lose_the_connection, flag_then_fail)
    first = case_create()
    with REGISTRY.extra(drop):
        response = worker.push(first, intent("case.drop", new_id(), reason="x"))
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert rows(Case) == [] and rows(RejectedIntent) == []
