"""The intent that settles a merge conflict, from the console or from a phone.

At the console a supervisor keeps the current value, takes the one that lost ("incoming") or
writes a new one. On a phone the author keeps the current value, resubmits theirs ("mine"),
or, for text, keeps both ("both": theirs appended below the value in force, under the label
the phone wrote). A new value is a normal case change in the feed, and the conflict's new
state reaches its author's phones, so the console's inbox and the phones agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from server.domain.errors import RuleViolation
from server.domain.merge import fields_changed_by_others
from server.models import MergeConflict
from server.models.base import table_of
from server.schemas.console import BOTH_FIELDS, ConflictResolveSchema
from server.sync.ops import EVERYONE, ApplyContext, CheckContext, OpResult, OpSpec
from server.sync.ops_cases import (
    CASE_UPDATE,
    apply_case_changes,
    case_history,
    check_codes,
    settle_conflict,
    visible_case,
)

CONFLICTS = table_of(MergeConflict)
CONFLICT_RESOLVE = ConflictResolveSchema()
RESOLUTIONS = {"keep": "kept", "incoming": "incoming", "new": "new", "both": "both"}
AUTHOR_CHOICES = frozenset({"keep", "mine", "both"})  # what a worker may choose for their own


@dataclass(frozen=True)
class Settlement:
    conflict: dict[str, Any]
    case: dict[str, Any]
    change: dict[str, Any] | None  # None: the current value stays
    resolution: str | None  # None: already settled, and the author only wanted it gone


def check_conflict_resolve(ctx: CheckContext) -> Settlement:
    data = CONFLICT_RESOLVE.load(ctx.mutation.data)
    choice = data["choice"]
    row = (
        ctx.read.execute(select(CONFLICTS).where(CONFLICTS.c.id == ctx.mutation.record_id))
        .mappings()
        .first()
    )
    if row is None:
        raise RuleViolation("not_found", {"record_id": ctx.mutation.record_id})
    case = visible_case(ctx, row["record_id"])
    is_author = row["by"] == ctx.caller.user_id
    # A worker settles only their own conflicts; staff settle any on a case they see.
    if ctx.caller.role == "worker" and not is_author:
        raise RuleViolation("forbidden", {"record_id": row["id"]})
    if choice == "mine" and not is_author:
        raise RuleViolation("forbidden", {"choice": ["Only the author's own value is 'mine'."]})
    if row["status"] != "open":
        if choice == "keep" and is_author:
            return Settlement(dict(row), case, None, None)  # settled meanwhile: nothing to do
        raise RuleViolation("already_settled", {"record_id": row["id"]})
    change = planned_change(ctx, dict(row), case, data)
    if change is not None:
        check_codes(ctx, change, case["primary_town"])
    resolution = "resubmitted" if choice == "mine" else RESOLUTIONS[choice]
    return Settlement(dict(row), case, change, resolution)


def planned_change(
    ctx: CheckContext, row: dict[str, Any], case: dict[str, Any], data: dict[str, Any]
) -> dict[str, Any] | None:
    """The case change a choice makes, loaded by the case update schema for the field.

    :raises RuleViolation: stale_record when the value would overwrite a change made after
        the caller looked (`base_version`); validation_failed for keep-both on a field that
        is not free text.
    """
    choice, name = data["choice"], row["field"]
    if choice == "keep":
        return None
    if choice == "both":
        if name not in BOTH_FIELDS:
            raise RuleViolation("validation_failed", {"choice": [f"Not for field {name}."]})
        if not (data.get("label") or "").strip():
            raise RuleViolation("validation_failed", {"label": ["Required when keeping both."]})
        # Nothing is overwritten: whatever the text is now stays, the author's goes below it.
        current = case[name] or ""
        joiner = "\n" if name == "description" else " "
        head = joiner.join(part for part in (current.rstrip(), data["label"]) if part)
        return dict(CASE_UPDATE.load({name: f"{head}{joiner}{row['incoming'] or ''}"}))
    base = ctx.mutation.base_version
    if base is not None and base > case["version"]:
        raise RuleViolation("validation_failed", {"base_version": ["Ahead of the server."]})
    if choice == "mine":
        # Rule 4 again: the field written by others after what the author saw is not replaced.
        if base is not None and base != case["version"]:
            history = case_history(ctx, case["id"], base)
            own = ctx.caller.user_id
            others = fields_changed_by_others(
                [(d if u == own else None, set(f)) for d, u, f in history], ctx.caller.device_id
            )
            if name in others:
                raise RuleViolation("stale_record", {"version": case["version"]})
    elif base is not None and base != case["version"]:
        # The case changed after the page was shown: writing now could overwrite that change.
        raise RuleViolation("stale_record", {"version": case["version"]})
    value = row["incoming"] if choice in ("incoming", "mine") else data.get("value")
    return dict(CASE_UPDATE.load({name: value}))


def apply_conflict_resolve(ctx: ApplyContext, plan: Settlement) -> OpResult:
    conflict, case, change = dict(plan.conflict), plan.case, plan.change
    version = case["version"]
    if plan.resolution is None:
        return OpResult("applied", version)
    if change is not None and case[conflict["field"]] != change[conflict["field"]]:
        version = apply_case_changes(ctx, case, change)["version"]
    settle_conflict(ctx, conflict, plan.resolution)
    return OpResult("applied", version)


OPS = (
    OpSpec(
        "conflict.resolve",
        "conflict",
        ConflictResolveSchema,
        check_conflict_resolve,
        apply_conflict_resolve,
        roles=EVERYONE,
    ),
)
