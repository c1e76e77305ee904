"""Content-addressed photos: PUT checks hash and image and grants its uploader the photo;
HEAD and GET answer only those with a right to it (docs/security.md, Photos)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, Response, current_app, g, request
from sqlalchemy import exists, or_, select

from server.accounts.device_auth import authenticate, check_schema_version, device_auth
from server.domain.photos import PhotoRefused
from server.domain.visibility import Scope
from server.errors import AppError, NotFound
from server.extensions import db
from server.models import Blob, BlobGrant, BlobRef, FeedEntry
from server.storage import blobs as store
from server.web.api.http import limit_body

bp = Blueprint("blobs", __name__)


def photo_checked_before_lock(view: Callable[..., Any]) -> Callable[..., Any]:
    """Check the upload (type, hash, a full decode and re-encoding) before the write lock is
    taken, so decoding a large photo never holds up every other writer; strangers and
    read-only accounts are refused before any decoding. Sets `g.photo`."""

    @wraps(view)
    def wrapped(sha256: str) -> Any:
        check_schema_version()
        if authenticate().role == "integration":
            raise AppError("read_only", status=403)
        db.session.rollback()
        content_type = (request.mimetype or "").lower()
        try:
            g.photo = store.check_photo(request.get_data(cache=True), content_type, sha256)
        except PhotoRefused as refused:
            status = 415 if refused.code == "unsupported_media_type" else 422
            raise AppError(refused.code, status=status) from refused
        return view(sha256)

    return wrapped


@bp.put("/blobs/<sha256:sha256>")
@limit_body("BLOB_MAX_BYTES")
@photo_checked_before_lock
@device_auth(write=True)
def put_blob(sha256: str):
    """Store a photo under its SHA-256 and grant the uploader the right to it; storing the same
    content again stores nothing new but still grants that right (the bytes prove it).

    :raise 415: unsupported_media_type. :raise 422: hash_mismatch, photo_unreadable,
        photo_too_many_pixels.
    """
    if g.caller.role == "integration":
        raise AppError("read_only", status=403)
    is_new = store.save_blob(db.session, current_app.config["DATA_DIR"], g.photo, g.caller.user_id)
    g.unit.commit()
    return Response(status=201 if is_new else 200)


@bp.route("/blobs/<sha256:sha256>", methods=["HEAD"])
@device_auth(write=False)
def head_blob(sha256: str):
    """200 to a caller who uploaded the photo or may GET it, so a device can skip the upload;
    404 to everyone else, whether or not the server has it (no existence oracle). A phone
    that gets 404 uploads the bytes, which proves it holds them and grants it the photo."""
    blob = db.session.get(Blob, sha256)
    allowed = blob is not None and (
        has_grant(sha256, g.caller.scope.user_id) or may_see(sha256, g.caller.scope)
    )
    db.session.rollback()
    if not allowed or blob is None:
        raise NotFound()
    return Response(status=200, headers={"Content-Length": str(blob.size)})


@bp.get("/blobs/<sha256:sha256>")
@device_auth(write=False)
def get_blob(sha256: str):
    """The photo, without any metadata, for a caller who can see a record that validly names it.

    :raise 404: not_found (also when the caller may not see it).
    """
    return photo_response(sha256, g.caller.scope)


def has_grant(sha256: str, user_id: str) -> bool:
    return bool(user_id) and db.session.get(BlobGrant, (sha256, user_id)) is not None


def may_see(sha256: str, scope: Scope) -> bool:
    """Whether `scope` sees a record whose naming of the photo is valid: its author had a right
    to the photo (server.storage.blobs). An index look-up by hash, then by record."""
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    BlobRef.sha256 == sha256,
                    BlobRef.valid.is_(True),
                    FeedEntry.entity == BlobRef.entity,
                    FeedEntry.record_id == BlobRef.record_id,
                    FeedEntry.op == "upsert",
                    or_(
                        FeedEntry.town_mask.op("&")(scope.mask) != 0,
                        FeedEntry.owner_id == scope.user_id,
                    ),
                )
            )
        )
    )


def photo_response(
    sha256: str, scope: Scope, cache_control: str = "private, max-age=31536000, immutable"
) -> Response:
    """The photo's served bytes (re-encoded without metadata, never the original), if `scope`
    sees a record that validly names it. Shared with the console's photo route.

    Phones may cache it for good (it never changes); the console, often on a shared office
    PC, does not. :raises NotFound: otherwise, and when the stored photo cannot be made safe.
    """
    allowed = may_see(sha256, scope)
    blob = db.session.get(Blob, sha256)
    db.session.rollback()
    if not allowed or blob is None:
        raise NotFound()
    try:
        content = store.served_bytes(current_app.config["DATA_DIR"], sha256, blob.content_type)
    except PhotoRefused as refused:
        current_app.logger.warning("photo %s cannot be served safely: %s", sha256, refused)
        raise NotFound() from refused
    return Response(content, mimetype=blob.content_type, headers={"Cache-Control": cache_control})
