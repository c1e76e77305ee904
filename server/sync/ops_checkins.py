"""Check-in intents: verified by distance to the site, kept and flagged when not."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from server.domain.errors import RuleViolation
from server.domain.geofence import Verification, verify_checkin
from server.domain.visibility import town_mask
from server.fastpath.schema_dump import FastDump
from server.models import Checkin, Member, Site
from server.models.base import table_of, utcnow
from server.schemas.checkins import CheckinCreateSchema, CheckinDataSchema
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
    m, caller = ctx.mutation, ctx.caller
    data = CHECKIN_CREATE.load(m.data)
    site = ctx.batch.site(ctx.read, data["site_id"])
    if site is None:
        raise RuleViolation("validation_failed", {"site_id": [f"Unknown code: {data['site_id']}."]})
    if caller.role != "admin" and site.town_code != caller.town:
        raise RuleViolation("forbidden", {"site_id": [site.code]})
    check_participants(ctx, data["participant_ids"])
    ctx.claim_new_id("checkin", m.record_id)
    # Rule 6: an unverified check-in is kept and flagged, never dropped.
    verdict = verify_checkin(
        data["lat"], data["lon"], data["accuracy_m"], site.lat, site.lon, site.radius_m
    )
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
    row = {
        **plan.data,
        "id": ctx.mutation.record_id,
        "by": ctx.caller.user_id,
        "town": site.town_code,
        "distance_m": verdict.distance_m,
        "verified": verdict.verified,
        "created_at": utcnow(),
    }
    ctx.conn.execute(CHECKINS.insert(), row)
    payload = CHECKIN_DATA(row)
    ctx.writer.publish(
        "checkin",
        row["id"],
        1,
        town_mask([site.town_code], ctx.ref.town_bits),
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
