"""Console intent that settles a merge conflict: keep the current value, take the one that
lost, or write a new one. A new value is a normal case change in the feed."""

from __future__ import annotations

from sqlalchemy import select

from server.domain.errors import RuleViolation
from server.models import MergeConflict
from server.schemas.console import ConflictResolveSchema
from server.sync.ops import OpContext, OpResult, handles
from server.sync.ops_cases import (
    CASE_UPDATE,
    apply_case_changes,
    check_codes,
    settle_conflict,
    visible_case,
)

CONFLICTS = MergeConflict.__table__
CONFLICT_RESOLVE = ConflictResolveSchema()
RESOLUTIONS = {"keep": "kept", "incoming": "incoming", "new": "new"}


@handles("conflict.resolve")
def apply_conflict_resolve(ctx: OpContext) -> OpResult:
    if not ctx.caller.is_staff:
        raise RuleViolation("forbidden", {"role": ctx.caller.role})
    data = CONFLICT_RESOLVE.load(ctx.mutation.data)
    row = (
        ctx.session.execute(select(CONFLICTS).where(CONFLICTS.c.id == ctx.mutation.record_id))
        .mappings()
        .first()
    )
    if row is None:
        raise RuleViolation("not_found", {"record_id": ctx.mutation.record_id})
    case = visible_case(ctx, row["record_id"])
    if row["status"] != "open":
        raise RuleViolation("already_settled", {"record_id": row["id"]})
    version = case["version"]
    base = ctx.mutation.base_version
    if data["choice"] != "keep" and base is not None and base != version:
        # The case changed after the page was shown: writing now could overwrite that change.
        raise RuleViolation("stale_record", {"version": version})
    if data["choice"] != "keep":
        value = row["incoming"] if data["choice"] == "incoming" else data.get("value")
        change = CASE_UPDATE.load({row["field"]: value})
        check_codes(ctx, change, case["primary_town"])
        if case[row["field"]] != change[row["field"]]:
            version = apply_case_changes(ctx, case, change)["version"]
    settle_conflict(ctx, dict(row), RESOLUTIONS[data["choice"]])
    return OpResult("applied", version)
