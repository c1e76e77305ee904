"""Push and pull endpoints: parse, call the sync core, render."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Response, current_app, g, request
from sqlalchemy import update

from server.accounts.device_auth import (
    authenticate,
    check_schema_version,
    device_auth,
    request_token_hash,
)
from server.errors import Forbidden, PayloadTooLarge
from server.extensions import db
from server.fastpath.feed_json import page_json
from server.i18n import error_message, pick_language, translate_details
from server.models import Device
from server.models.base import utcnow
from server.schemas.sync import PushRequestSchema, pull_query_schema
from server.storage.json_text import to_json
from server.sync.pull import pull
from server.sync.unit_of_work import write_unit
from server.web.api.http import json_body, limit_body
from server.web.api.push_group import PushJob, submit_push

bp = Blueprint("sync", __name__)
# Built once: a schema is costlier to build (and compile) than a small push to load.
PUSH_REQUEST = PushRequestSchema()


@bp.post("/sync/push")
@limit_body("PUSH_MAX_BYTES")
def push_view():
    """Apply a batch of intents exactly once each; one result per mutation, in order.

    The token is checked and the body parsed and validated before the push queues for the
    write turn, where it is written with the process's other waiting pushes in one
    transaction (server.web.api.push_group); the results are rendered after its commit.

    :raise 413: payload_too_large.
    """
    check_schema_version()
    signed_in = authenticate()
    db.session.rollback()  # nothing more to read: no transaction held while queueing
    g.device_id = signed_in.device_id
    if signed_in.role == "integration":
        raise Forbidden("read_only")
    body = json_body(PUSH_REQUEST)
    if len(body["mutations"]) > current_app.config["PUSH_MAX_MUTATIONS"]:
        raise PayloadTooLarge(details={"mutations": [current_app.config["PUSH_MAX_MUTATIONS"]]})
    job = PushJob(request_token_hash(), signed_in.device_id, body["mutations"], body["device"])
    results = submit_push(job)
    language = pick_language(request.headers.get("Accept-Language"))
    body = {
        "results": [render_result(r, language) for r in results],
        "server_time": utcnow().isoformat(),
    }
    return Response(to_json(body), mimetype="application/json")


@bp.get("/sync/pull")
@device_auth(write=False)
def pull_view():
    """Changes visible to the caller above the cursor, one snapshot per page.

    :raise 410: resync_required.
    """
    max_limit = current_app.config["PULL_MAX_LIMIT"]
    query = pull_query_schema(max_limit).load(request.args.to_dict())
    limit = query.get("limit", min(current_app.config["PULL_DEFAULT_LIMIT"], max_limit))
    device_id, last_pull_at = g.device_id, g.signed_in.last_pull_at
    page = pull(db.session, g.caller.scope, query.get("cursor"), limit)
    db.session.rollback()  # end the read snapshot
    note_pull(device_id, last_pull_at)
    body = page_json(page.changes_json, page.cursor, page.has_more, utcnow().isoformat())
    return Response(body, mimetype="application/json")


def note_pull(device_id: str, last_pull_at) -> None:
    """Device health without a write per pull: at most one update a minute per device."""
    throttle = timedelta(seconds=current_app.config["DEVICE_SEEN_THROTTLE_SECONDS"])
    now = utcnow()
    if last_pull_at is not None and now - last_pull_at < throttle:
        return
    with write_unit(db.session):
        db.session.execute(
            update(Device).where(Device.id == device_id).values(last_pull_at=now, last_seen_at=now)
        )


def render_result(result: dict, language: str) -> dict:
    """A stored result in the caller's language (stored results hold codes, not text)."""
    error = result.get("error")
    if error is None:
        return result
    return {
        **result,
        "error": {
            "code": error["code"],
            "message": error_message(error["code"], language),
            "details": translate_details(error["details"], language),
        },
    }
