"""Photo files: content-addressed under DATA_DIR/blobs, checked, written atomically; and who
has a right to each photo.

Shared by the photo upload (server/web/api/blobs.py) and the import of a phone's unsent work
(server/sync/unsent_work.py), so a photo is stored the same way whichever way it came.

Two files per photo. `<sha256>` is the original as uploaded: the hash names exactly these
bytes (what the phone hashed and sent), and they are never served, since they may carry
where the photo was taken. `<sha256>.served` is what GET serves: the photo decoded and
re-encoded without any metadata (server.domain.photos.servable_photo), made at upload; a
photo that cannot be made so is refused at upload and never stored.

Rights (docs/security.md, Photos): uploading content grants its uploader the right to it
(`blob_grants`), also when the server already had the bytes; a record's naming of a photo
counts (`blob_refs.valid`) only when its author had that right, or could see a record whose
naming counted, or uploads the bytes later (`grant` makes their pending names count).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from server.domain.photos import PhotoRefused, servable_photo
from server.models import Blob, BlobGrant, BlobRef
from server.models.base import utcnow

MAGIC = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/webp": (b"RIFF",),
}
PHOTO_TYPES = tuple(MAGIC)
SERVED_SUFFIX = ".served"


@dataclass(frozen=True)
class CheckedPhoto:
    """An upload that passed every check: `content` is the original (its hash is `sha256`),
    `served` the metadata-free re-encoding GET serves."""

    sha256: str
    content_type: str
    content: bytes
    served: bytes


def blob_path(data_dir: str | Path, sha256: str) -> Path:
    return Path(data_dir) / "blobs" / sha256[:2] / sha256[2:4] / sha256


def served_path(data_dir: str | Path, sha256: str) -> Path:
    return blob_path(data_dir, sha256).with_name(sha256 + SERVED_SUFFIX)


def matches_type(content: bytes, content_type: str) -> bool:
    if content_type == "image/webp":
        return content[:4] == b"RIFF" and content[8:12] == b"WEBP"
    return any(content.startswith(magic) for magic in MAGIC[content_type])


def check_photo(content: bytes, content_type: str, sha256: str) -> CheckedPhoto:
    """Check an upload and make the bytes GET will serve. Decoding takes time: callers run
    it before taking the write lock.

    :raises PhotoRefused: unsupported_media_type (not a JPEG, PNG or WebP, or not the type
        declared), hash_mismatch (the bytes are not that hash), photo_unreadable (not a whole
        image), photo_too_many_pixels.
    """
    if content_type not in MAGIC or not matches_type(content, content_type):
        raise PhotoRefused("unsupported_media_type")
    if hashlib.sha256(content).hexdigest() != sha256:
        raise PhotoRefused("hash_mismatch")
    return CheckedPhoto(sha256, content_type, content, servable_photo(content, content_type))


def photo_problem(content: bytes, content_type: str, sha256: str) -> str | None:
    """check_photo's refusal as an error code, or None when the photo can be stored."""
    try:
        check_photo(content, content_type, sha256)
    except PhotoRefused as refused:
        return refused.code
    return None


def save_blob(
    session: Session, data_dir: str | Path, photo: CheckedPhoto, uploaded_by: str | None
) -> bool:
    """Store a checked photo in the caller's unit of work and grant `uploaded_by` the right to
    it; True when it is new, False when the server already had it (only the grant and a
    missing served file are written then)."""
    known = session.get(Blob, photo.sha256) is not None
    if not known:
        write_atomically(blob_path(data_dir, photo.sha256), photo.content)
    served = served_path(data_dir, photo.sha256)
    if not known or not served.exists():
        write_atomically(served, photo.served)
    if not known:
        session.execute(
            insert(Blob),
            [
                {
                    "sha256": photo.sha256,
                    "content_type": photo.content_type,
                    "size": len(photo.content),
                    "uploaded_by": uploaded_by,
                    "created_at": utcnow(),
                }
            ],
        )
    if uploaded_by is not None:
        grant(session, photo.sha256, uploaded_by)
    return not known


def grant(session: Session, sha256: str, user_id: str) -> None:
    """`user_id` proved they hold these bytes: record it, and make the records they named the
    photo in before uploading it (a phone pushes before it uploads) count. Two primary-key
    look-ups; runs under the write lock, so check-then-insert cannot race."""
    if session.get(BlobGrant, (sha256, user_id)) is not None:
        return
    session.execute(
        insert(BlobGrant), [{"sha256": sha256, "user_id": user_id, "created_at": utcnow()}]
    )
    session.execute(
        update(BlobRef)
        .where(BlobRef.sha256 == sha256, BlobRef.named_by == user_id, BlobRef.valid.is_(False))
        .values(valid=True)
    )


def served_bytes(data_dir: str | Path, sha256: str, content_type: str) -> bytes:
    """The bytes GET serves: the served file, made from the original if it is missing (a
    photo stored before served files existed).

    :raises PhotoRefused: the original cannot be made safe; it is never served instead.
    """
    served = served_path(data_dir, sha256)
    try:
        return served.read_bytes()
    except FileNotFoundError:
        pass
    content = servable_photo(blob_path(data_dir, sha256).read_bytes(), content_type)
    write_atomically(served, content)
    return content


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
