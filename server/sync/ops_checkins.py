"""Check-in intents: verified with a fresh fix inside the site, kept and flagged when not.

Anyone of the alliance may check in at any site of any town (the route crosses the towns).
A check-in belongs to the person's town (an admin without a town: the site's) and is seen by
that town and by the site's town.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from server.domain.errors import RuleViolation
from server.domain.geofence import Fix, Verification, verify_checkin
from server.domain.visibility import town_mask
from server.fastpath.schema_dump import FastDump
from server.models import Checkin, Member, Site
from server.models.base import table_of, utcnow
from server.schemas.checkins import CheckinCreateSchema, CheckinDataSchema, fix_field_errors
from server.sync.ops import ApplyContext, CheckContext, OpResult, OpSpec

CHECKINS = table_of(Checkin)
CHECKIN_CREATE = CheckinCreateSchema()
CHECKIN_DATA = FastDump(CheckinDataSchema())


@dataclass(frozen=True)
class CheckinPlan:
    data: dict[str, Any]
    site: Site
    verdict: Verification


def check_checkin_create(ctx: CheckContext) -> CheckinPlan:
    m = ctx.mutation
    data = CHECKIN_CREATE.load(m.data)
    half_a_fix = fix_field_errors(data)
    if half_a_fix:
        raise RuleViolation("validation_failed", half_a_fix)
    site = ctx.batch.site(ctx.read, data["site_id"])
    if site is None:
        raise RuleViolation("validation_failed", {"site_id": [f"Unknown code: {data['site_id']}."]})
    check_participants(ctx, data["participant_ids"])
    ctx.claim_new_id("checkin", m.record_id)
    fix = (
        Fix(data["lat"], data["lon"], data["accuracy_m"], data.get("fix_at"))
        if "lat" in data
        else None
    )
    # Rule 6: an unverified check-in is kept and flagged with its reason, never dropped.
    verdict = verify_checkin(data["at"], fix, site.lat, site.lon, site.radius_m)
    return CheckinPlan(data, site, verdict)


def check_participants(ctx: CheckContext, member_ids: list[str]) -> None:
    """Every picked member must be on a roster the caller can see (their town's, or any for
    an admin); a deactivated member still counts, since the phone may have picked them
    offline before the change reached it.

    :raises RuleViolation: validation_failed naming each unknown id's position: an id of no
        member and one of another town's get the same answer, so a create never tells
        which ids exist elsewhere.
    """
    if not member_ids:
        return
    towns = dict(
        ctx.read.execute(select(Member.id, Member.town).where(Member.id.in_(member_ids))).all()
    )
    bits = ctx.ref.town_bits
    unknown = {
        str(index): ["Unknown member."]
        for index, member_id in enumerate(member_ids)
        if towns.get(member_id) not in bits
        or not ctx.caller.scope.sees(town_mask([towns[member_id]], bits))
    }
    if unknown:
        raise RuleViolation("validation_failed", {"participant_ids": unknown})


def apply_checkin_create(ctx: ApplyContext, plan: CheckinPlan) -> OpResult:
    assert ctx.mutation is not None
    site, verdict = plan.site, plan.verdict
    town = ctx.caller.town or site.town_code
    row = {
        "lat": None,
        "lon": None,
        "accuracy_m": None,
        "fix_at": None,
        **plan.data,
        "id": ctx.mutation.record_id,
        "by": ctx.caller.user_id,
        "town": town,
        "distance_m": verdict.distance_m,
        "verified": verdict.verified,
        "unverified_reason": verdict.reason,
        "created_at": utcnow(),
    }
    ctx.conn.execute(CHECKINS.insert(), row)
    payload = CHECKIN_DATA(row)
    ctx.writer.publish(
        "checkin",
        row["id"],
        1,
        town_mask({town, site.town_code}, ctx.ref.town_bits),
        payload,
        author=ctx.author,
        action="checkin.create",
        changed=payload,
        is_new=True,
    )
    ctx.writer.set_photos(
        "checkin", row["id"], row["photos"], is_new=True, named_by=ctx.caller.scope
    )
    return OpResult("applied", 1)


OPS = (
    OpSpec(
        "checkin.create",
        "checkin",
        CheckinCreateSchema,
        check_checkin_create,
        apply_checkin_create,
        table=CHECKINS,
    ),
)
