"""Signing in: the caller's address and binding a device (the limit: login_limits)."""

from __future__ import annotations

import uuid
from typing import Any

from flask import request

from server.accounts.passwords import token_hash
from server.errors import Unauthorized
from server.extensions import db
from server.models import Device, User
from server.models.base import utcnow


def bind_device(user: User, info: dict[str, Any], token: str) -> Device:
    """Register the device, or sign its own user in again, with a fresh token.

    A device belongs to one user for good: its stored results (receipts, rejections) and its
    edits (merge's "own device" rule) are that person's. A device id already bound to another
    user is never taken over: this user gets a fresh device id, returned by login as
    `device_id`, which the client adopts (docs/protocol.md, Extensions).

    :raises Unauthorized: device_revoked, a revoked phone stays revoked.
    """
    device = db.session.get(Device, info["id"])
    if device is not None and device.is_revoked:
        raise Unauthorized("device_revoked")
    if device is not None and device.user_id != user.id:
        device = None
        info = {**info, "id": str(uuid.uuid4())}
    now = utcnow()
    if device is None:
        device = Device(id=info["id"], user_id=user.id)
        db.session.add(device)
    device.name = info["name"]
    device.platform = info["platform"]
    device.app_version = info["app_version"]
    device.token_hash = token_hash(token)
    device.token_issued_at = now
    device.token_ended_at = None
    device.last_seen_at = now
    return device


def remote_addr() -> str:
    """The client's address: the socket's, or one proxy hop's X-Forwarded-For when
    FENGLING_TRUST_PROXY_HEADERS is set (ProxyFix, server.web.security_headers)."""
    return (request.remote_addr or "")[:64]
