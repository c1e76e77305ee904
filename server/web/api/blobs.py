"""Content-addressed photos: PUT checks hash and image type, GET only for those who may see."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, current_app, g, request
from sqlalchemy import exists, or_, select

from server.accounts.device_auth import device_auth
from server.domain.photos import strip_metadata
from server.domain.visibility import Scope
from server.errors import AppError, NotFound
from server.extensions import db
from server.models import Blob, BlobRef, FeedEntry
from server.storage import blobs as store
from server.web.api.http import limit_body

bp = Blueprint("blobs", __name__)


def blob_path(sha256: str) -> Path:
    return store.blob_path(current_app.config["DATA_DIR"], sha256)


@bp.put("/blobs/<sha256:sha256>")
@limit_body("BLOB_MAX_BYTES")
@device_auth(write=True)
def put_blob(sha256: str):
    """Store a photo under its SHA-256; storing the same content again changes nothing.

    :raise 415: unsupported_media_type. :raise 422: hash_mismatch.
    """
    if g.caller.role == "integration":
        raise AppError("read_only", status=403)
    content_type = (request.mimetype or "").lower()
    content = request.get_data()  # already read before the write lock was taken
    problem = store.photo_problem(content, content_type, sha256)
    if problem == "unsupported_media_type":
        raise AppError(problem, status=415)
    if problem is not None:
        raise AppError(problem, status=422)
    data_dir = current_app.config["DATA_DIR"]
    if not store.save_blob(db.session, data_dir, sha256, content, content_type, g.caller.user_id):
        g.unit.discard()
        return Response(status=200)
    g.unit.commit()
    return Response(status=201)


@bp.route("/blobs/<sha256:sha256>", methods=["HEAD"])
@device_auth(write=False)
def head_blob(sha256: str):
    """200 when the server has the photo, so a device can skip the upload; else 404."""
    blob = db.session.get(Blob, sha256)
    db.session.rollback()
    if blob is None:
        raise NotFound()
    return Response(status=200, headers={"Content-Length": str(blob.size)})


@bp.get("/blobs/<sha256:sha256>")
@device_auth(write=False)
def get_blob(sha256: str):
    """The photo, without EXIF/XMP, for a caller who can see a record that references it.

    :raise 404: not_found (also when the caller may not see it).
    """
    return photo_response(sha256, g.caller.scope)


def photo_response(
    sha256: str, scope: Scope, cache_control: str = "private, max-age=31536000, immutable"
) -> Response:
    """The photo without camera metadata, if `scope` sees a record that references it.

    The original is kept (its hash is its name). Phones may cache it for good (it never
    changes); the console, often on a shared office PC, does not. :raises NotFound: otherwise.
    """
    may_see = db.session.scalar(
        select(
            exists().where(
                BlobRef.sha256 == sha256,
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
    blob = db.session.get(Blob, sha256)
    db.session.rollback()
    if not may_see or blob is None:
        raise NotFound()
    content = strip_metadata(blob_path(sha256).read_bytes(), blob.content_type)
    return Response(content, mimetype=blob.content_type, headers={"Cache-Control": cache_control})
