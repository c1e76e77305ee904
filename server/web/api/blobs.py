"""Content-addressed photos: PUT checks hash and image type, GET only for those who may see."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from flask import Blueprint, Response, current_app, g, request
from sqlalchemy import exists, insert, or_, select

from server.accounts.device_auth import device_auth
from server.domain.photos import strip_metadata
from server.domain.visibility import Scope
from server.errors import AppError, NotFound
from server.extensions import db
from server.models import Blob, BlobRef, FeedEntry
from server.models.base import utcnow
from server.web.api.http import limit_body

bp = Blueprint("blobs", __name__)

MAGIC = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/webp": (b"RIFF",),
}


def blob_path(sha256: str) -> Path:
    return Path(current_app.config["DATA_DIR"]) / "blobs" / sha256[:2] / sha256[2:4] / sha256


def matches_type(content: bytes, content_type: str) -> bool:
    if content_type == "image/webp":
        return content[:4] == b"RIFF" and content[8:12] == b"WEBP"
    return any(content.startswith(magic) for magic in MAGIC[content_type])


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
    if content_type not in MAGIC or not matches_type(content, content_type):
        raise AppError("unsupported_media_type", status=415)
    if hashlib.sha256(content).hexdigest() != sha256:
        raise AppError("hash_mismatch", status=422)
    if db.session.get(Blob, sha256) is not None:
        g.unit.discard()
        return Response(status=200)
    write_atomically(blob_path(sha256), content)
    db.session.execute(
        insert(Blob),
        [
            {
                "sha256": sha256,
                "content_type": content_type,
                "size": len(content),
                "uploaded_by": g.caller.user_id,
                "created_at": utcnow(),
            }
        ],
    )
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


def write_atomically(path: Path, content: bytes) -> None:
    """Write, fsync and rename, so a crash never leaves half a photo under its hash."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
