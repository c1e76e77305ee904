"""The sign-in limit: counted atomically, per username and address, with a growing delay.

Each password check is recorded before it runs, as a failure, in a short write unit that
first counts the failures of its bucket; the check runs outside any lock and then marks the
attempt succeeded. Because the count and the record happen together under a lock held by
every server process (SQLite: the write lock, `BEGIN IMMEDIATE`; PostgreSQL: an advisory
lock on the username for the transaction), parallel requests cannot all pass the count
before any of them is recorded, and a check that never finishes still counts.

A bucket is (username, address): a stranger elsewhere cannot slow the owner down. A device
already bound to the user named has a bucket of its own at each address, so strangers
behind the same NAT cannot stop the owner's phone either; a device id that is not bound
to that user (made up, or another person's) falls into the address's bucket, so inventing
ids buys nothing. After LOGIN_MAX_FAILURES failures (k) in a row (since the bucket's last
success, with no quiet LOGIN_WINDOW_SECONDS between them), the n-th failure must be
followed by a wait of LOGIN_FIRST_DELAY_SECONDS x 2^(n-k) (1, 2, 4 ... seconds by default),
at most the window, before the next check: a delay, never a lockout.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import ColumnElement, select, text, update
from sqlalchemy.orm import Session

from server.accounts.logins import remote_addr
from server.errors import TooManyAttempts
from server.extensions import db
from server.models import Device, LoginAttempt, User
from server.models.base import utcnow
from server.sync.unit_of_work import write_unit

# Rows of a bucket read beyond the limit to count its failures. The wait reaches its
# longest (the window) about a dozen failures past the limit, long before this many, so
# the read stays this small however long a guesser keeps going.
RECENT_ROWS = 64


@dataclass(frozen=True)
class Bucket:
    """Whose attempts count together: a username at an address, and a bound device or None."""

    username: str
    remote_addr: str
    device_id: str | None

    def matches(self) -> ColumnElement[bool]:
        device = (
            LoginAttempt.device_id.is_(None)
            if self.device_id is None
            else LoginAttempt.device_id == self.device_id
        )
        return (
            (LoginAttempt.username == self.username)
            & (LoginAttempt.remote_addr == self.remote_addr)
            & device
        )


def bucket_for(username: str, device_id: str | None = None) -> Bucket:
    """The caller's bucket; `device_id` counts only for a device bound to that user and not
    revoked (the devices table knows whose each device is)."""
    bound = None
    if device_id is not None:
        bound = db.session.scalar(
            select(Device.id)
            .join(User, User.id == Device.user_id)
            .where(Device.id == device_id, User.username == username, Device.is_revoked.is_(False))
        )
    return Bucket(username, remote_addr(), bound)


def wait_seconds(bucket: Bucket, now: datetime) -> int:
    """Seconds before the bucket may have its next password check; 0 for now.

    Its failures are those since its last success, each within the window of the next (and
    the last within the window of now): a quiet window forgets them. The longest wait is the
    window itself, so a patient guesser keeps the count, and the longest wait, going.
    """
    config = current_app.config
    window = timedelta(seconds=int(config["LOGIN_WINDOW_SECONDS"]))
    allowed = int(config["LOGIN_MAX_FAILURES"])
    recent = db.session.execute(
        select(LoginAttempt.at, LoginAttempt.succeeded)
        .where(bucket.matches())
        .order_by(LoginAttempt.at.desc(), LoginAttempt.id.desc())
        .limit(allowed + RECENT_ROWS)
    ).all()
    failures, later = 0, now
    for at, succeeded in recent:
        if succeeded or later - at > window:
            break
        failures, later = failures + 1, at
    if failures < allowed:
        return 0
    first = int(config["LOGIN_FIRST_DELAY_SECONDS"])
    delay = min(timedelta(seconds=first * 2 ** min(failures - allowed, 30)), window)
    return max(0, math.ceil((recent[0].at + delay - now).total_seconds()))


def refuse_if_waiting(bucket: Bucket, now: datetime) -> None:
    """:raises TooManyAttempts: with `retry_after` (seconds) in its details."""
    wait = wait_seconds(bucket, now)
    if wait > 0:
        raise TooManyAttempts(details={"retry_after": wait})


def lock_username(session: Session, username: str) -> None:
    """PostgreSQL: serialise the attempts on one username until the transaction ends. (On
    SQLite the write unit's `BEGIN IMMEDIATE` already serialises every writer.)"""
    if session.get_bind().dialect.name != "postgresql":
        return
    digest = hashlib.sha256(b"fengling-login:" + username.encode()).digest()
    key = int.from_bytes(digest[:8], "big", signed=True)
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def begin_attempt(username: str, device_id: str | None = None) -> int:
    """Count the bucket's failures and record this attempt as one, atomically, before the
    slow password check. Returns the attempt's id, for `settle_attempt`.

    A quick look first, outside the lock: a flood of refused attempts never queues for it.

    :raises TooManyAttempts: the bucket must wait; `details["retry_after"]` says how long.
    """
    refuse_if_waiting(bucket_for(username, device_id), utcnow())
    with write_unit(db.session, end_read=True):
        lock_username(db.session(), username)
        bucket = bucket_for(username, device_id)
        now = utcnow()
        refuse_if_waiting(bucket, now)
        attempt = LoginAttempt(
            username=username,
            remote_addr=bucket.remote_addr,
            device_id=bucket.device_id,
            at=now,
            succeeded=False,
        )
        db.session.add(attempt)
        db.session.flush()
        attempt_id = attempt.id
    return attempt_id


def settle_attempt(attempt_id: int, succeeded: bool) -> None:
    """Inside the caller's write unit: a right password clears the bucket's failures; a
    wrong one stays counted as it was recorded."""
    if succeeded:
        db.session.execute(
            update(LoginAttempt).where(LoginAttempt.id == attempt_id).values(succeeded=True)
        )
