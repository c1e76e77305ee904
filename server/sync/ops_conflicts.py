"""Console intent that settles a merge conflict: keep the current value, take the one that
lost, or write a new one. A new value is a normal case change in the feed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from server.domain.errors import RuleViolation
from server.models import MergeConflict
from server.models.base import table_of
from server.schemas.console import ConflictResolveSchema
from server.sync.ops import STAFF, ApplyContext, CheckContext, OpResult, OpSpec
from server.sync.ops_cases import (
    CASE_UPDATE,
    apply_case_changes,
    check_codes,
    settle_conflict,
    visible_case,
)

CONFLICTS = table_of(MergeConflict)
CONFLICT_RESOLVE = ConflictResolveSchema()
RESOLUTIONS = {"keep": "kept", "incoming": "incoming", "new": "new"}


@dataclass(frozen=True)
class Settlement:
    conflict: dict[str, Any]
    case: dict[str, Any]
    change: dict[str, Any] | None  # None: the current value stays


def check_conflict_resolve(ctx: CheckContext) -> Settlement:
    data = CONFLICT_RESOLVE.load(ctx.mutation.data)
    row = (
        ctx.read.execute(select(CONFLICTS).where(CONFLICTS.c.id == ctx.mutation.record_id))
        .mappings()
        .first()
    )
    if row is None:
        raise RuleViolation("not_found", {"record_id": ctx.mutation.record_id})
    case = visible_case(ctx, row["record_id"])
    if row["status"] != "open":
        raise RuleViolation("already_settled", {"record_id": row["id"]})
    base = ctx.mutation.base_version
    if data["choice"] != "keep" and base is not None and base != case["version"]:
        # The case changed after the page was shown: writing now could overwrite that change.
        raise RuleViolation("stale_record", {"version": case["version"]})
    change = None
    if data["choice"] != "keep":
        value = row["incoming"] if data["choice"] == "incoming" else data.get("value")
        change = CASE_UPDATE.load({row["field"]: value})
        check_codes(ctx, change, case["primary_town"])
    return Settlement({**row, "choice": data["choice"]}, case, change)


def apply_conflict_resolve(ctx: ApplyContext, plan: Settlement) -> OpResult:
    conflict, case, change = dict(plan.conflict), plan.case, plan.change
    version = case["version"]
    if change is not None and case[conflict["field"]] != change[conflict["field"]]:
        version = apply_case_changes(ctx, case, change)["version"]
    resolution = RESOLUTIONS[conflict.pop("choice")]
    settle_conflict(ctx, conflict, resolution)
    return OpResult("applied", version)


OPS = (
    OpSpec(
        "conflict.resolve",
        "conflict",
        ConflictResolveSchema,
        check_conflict_resolve,
        apply_conflict_resolve,
        roles=STAFF,
        pushable=False,
    ),
)
