"""Writing the party-member roster: every change is published to the member's town only.

A member is reference data like a site, but a roster is a town's own: their town's phones
(and admins') pull them, no other town's. Deactivation is an upsert with `active` false, so
a phone hides the member from its picker and check-ins that named them keep their name. A
member moved to another town is revoked from the town that loses them (a tombstone in its
next pull).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.domain.visibility import town_mask
from server.models import FeedEntry, Member, Town
from server.schemas.members import MemberDataSchema
from server.sync.feed import Author, FeedWriter

MEMBER_DATA = MemberDataSchema()


def town_bits(session: Session) -> dict[str, int]:
    return {code: bit for code, bit in session.execute(select(Town.code, Town.bit))}


def publish_member(
    session: Session,
    writer: FeedWriter,
    member: Member,
    *,
    author: Author,
    bits: dict[str, int] | None = None,
    is_new: bool = False,
) -> None:
    """Publish `member` with the next version to their town, and revoke it from a town that
    saw it before and no longer does."""
    bits = bits if bits is not None else town_bits(session)
    mask = town_mask([member.town], bits)
    previous = None
    if not is_new:
        previous = session.execute(
            select(FeedEntry.version, FeedEntry.town_mask).where(
                FeedEntry.entity == "member", FeedEntry.record_id == member.id
            )
        ).first()
    data = MEMBER_DATA.dump(member)
    writer.publish(
        "member",
        member.id,
        1 if previous is None else previous.version + 1,
        mask,
        data,
        author=author,
        action="member.create" if previous is None else "member.update",
        changed=data,
        is_new=previous is None,
    )
    if previous is not None:
        writer.revoke("member", member.id, previous.town_mask & ~mask)


def add_member(
    session: Session,
    writer: FeedWriter,
    fields: dict[str, Any],
    *,
    author: Author,
    bits: dict[str, int] | None = None,
) -> Member:
    """A new active member; `fields`: town, name, branch, village."""
    member = Member(active=True, **fields)
    session.add(member)
    session.flush()
    publish_member(session, writer, member, author=author, bits=bits, is_new=True)
    return member


def change_member(
    session: Session, writer: FeedWriter, member: Member, fields: dict[str, Any], *, author: Author
) -> bool:
    """Set `fields` (any of town, name, branch, village, active) and publish, only if what
    phones see of the member changed; returns whether it did."""
    before = MEMBER_DATA.dump(member)
    for key, value in fields.items():
        setattr(member, key, value)
    if MEMBER_DATA.dump(member) == before:
        return False
    session.flush()
    publish_member(session, writer, member, author=author)
    return True
