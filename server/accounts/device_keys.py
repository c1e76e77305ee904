"""The server-held half of a phone's key escrow: one random key per (device, user).

The PWA encrypts its local data under a random data key, wrapped twice on the phone: under a key
derived from the worker's PIN, and under this key. The phone never stores this key: it gets it
in the login response, wraps the data key with it and forgets it, so a forgotten PIN can be
recovered by signing in online with the password ("用密码找回"). A revoked device loses its keys,
so a thief who later learns the password cannot unwrap the data key either.
"""

from __future__ import annotations

import base64
import secrets

from sqlalchemy import delete, select

from server.extensions import db
from server.models import DeviceKey

KEY_BYTES = 32


def device_key_for(device_id: str, user_id: str) -> str:
    """The (device, user) key as base64url without padding; made at the first login, then kept.

    Called inside the login's write unit, so two racing logins cannot both create one.
    """
    row = db.session.get(DeviceKey, (device_id, user_id))
    if row is None:
        key = base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).rstrip(b"=").decode()
        row = DeviceKey(device_id=device_id, user_id=user_id, key=key)
        db.session.add(row)
    return row.key


def drop_device_keys(device_id: str) -> None:
    """Forget every key of a revoked device (inside the revocation's unit of work)."""
    db.session.execute(delete(DeviceKey).where(DeviceKey.device_id == device_id))


def has_device_key(device_id: str, user_id: str) -> bool:
    """For tests and the console: whether the pair still has a key."""
    query = select(DeviceKey.key).where(
        DeviceKey.device_id == device_id, DeviceKey.user_id == user_id
    )
    return db.session.scalar(query) is not None
