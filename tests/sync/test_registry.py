"""Ops are declared once (server.sync.registry): a new op reaches the push envelope, push's
tables and the OpenAPI document by its declaration alone, and its check step cannot write."""

from __future__ import annotations

from typing import Any

import pytest
from marshmallow import fields
from sqlalchemy import update

from server.contract import pwa_contract
from server.models import Case, CaseEvent, Town
from server.schemas.base import StrictSchema, text_field
from server.sync.ops import ApplyContext, CheckContext, OpResult, OpSpec
from server.sync.ops_cases import server_event, visible_case
from server.sync.registry import REGISTRY
from tests.factories import case_create, new_id


class FlagSchema(StrictSchema):
    reason = text_field(200, required=True)


class MemoSchema(StrictSchema):
    body = fields.String(required=True)


def check_flag(ctx: CheckContext) -> tuple[dict[str, Any], str]:
    return visible_case(ctx, ctx.mutation.record_id), FlagSchema().load(ctx.mutation.data)["reason"]


def apply_flag(ctx: ApplyContext, plan: tuple[dict[str, Any], str]) -> OpResult:
    case, reason = plan
    server_event(ctx, case, "note", None, None, reason)
    return OpResult("applied", case["version"])


FLAG = OpSpec("case.flag", "case", FlagSchema, check_flag, apply_flag)
# A creating op: its new ids go in the case timeline's table.
MEMO = OpSpec(
    "memo.create",
    "memo",
    MemoSchema,
    lambda ctx: ctx.claim_new_id("memo", ctx.mutation.record_id),
    lambda ctx, plan: OpResult("applied", 1),
    table=CaseEvent.__table__,
)


def intent(op: str, record_id: str, **data: Any) -> dict:
    return {"mutation_id": new_id(), "op": op, "record_id": record_id, "data": data}


def test_a_declared_op_is_pushable_and_described_without_touching_anything_else(worker, client):
    case = case_create()
    worker.push_ok(case)
    before = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    assert "CaseFlag" not in before
    refused = worker.push_ok(intent("case.flag", case["record_id"], reason="村民再次来访"))
    assert refused[0]["error"]["code"] == "validation_failed"  # not an op yet

    with REGISTRY.extra(FLAG, MEMO):
        assert "case.flag" in REGISTRY.envelope_schema.fields["op"].validate.choices
        assert REGISTRY.create_tables["memo"] is CaseEvent.__table__
        described = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
        assert described["CaseFlag"]["required"] == ["reason"]
        assert "MemoCreate" in described
        assert pwa_contract()["ops"]["case.flag"] == {"entity": "case", "creates": False}
        assert pwa_contract()["ops"]["memo.create"] == {"entity": "memo", "creates": True}
        flagged = worker.push_ok(intent("case.flag", case["record_id"], reason="村民再次来访"))
        assert flagged[0]["status"] == "applied"
        # Push looked up the new ids of a creating op in its declared table.
        events = [e["record_id"] for e in worker.sync() if e["entity"] == "case_event"]
        taken = worker.push_ok(intent("memo.create", events[-1], body="x"))
        assert taken[0]["error"]["code"] == "record_exists"

    assert "case.flag" not in REGISTRY.envelope_schema.fields["op"].validate.choices
    after = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    assert "CaseFlag" not in after
    assert "case.flag" not in pwa_contract()["ops"]


def test_only_the_console_and_jobs_may_run_ops_declared_not_pushable(worker):
    case = case_create()
    worker.push_ok(case)
    pushed = worker.push_ok(intent("case.handoff_request", case["record_id"], to_town="xidian"))
    assert pushed[0]["error"]["code"] == "validation_failed"
    assert "op" in pushed[0]["error"]["details"]


def writes_in_its_check(ctx: CheckContext) -> None:
    session = ctx.read._session  # a way around the Reader, as a careless handler might take
    session.execute(update(Town).where(Town.code == "dayan").values(name="改名"))


def reads_an_update_in_its_check(ctx: CheckContext) -> None:
    ctx.read.execute(update(Town).values(name="改名"))  # type: ignore[arg-type]


@pytest.mark.parametrize("check", [writes_in_its_check, reads_an_update_in_its_check])
def test_a_check_step_that_writes_is_stopped_and_only_its_intent_is_refused(worker, rows, check):
    wrong = OpSpec(
        "town.rename", "town", MemoSchema, check, lambda ctx, plan: OpResult("applied", 1)
    )
    first, last = case_create(), case_create()
    with REGISTRY.extra(wrong):
        results = worker.push_ok(first, intent("town.rename", new_id(), body="x"), last)
    assert [r["status"] for r in results] == ["applied", "rejected", "applied"]
    assert results[1]["error"]["code"] == "server_error"
    assert "改名" not in {t.name for t in rows(Town)}
    assert {c.id for c in rows(Case)} == {first["record_id"], last["record_id"]}
