"""Photo files: content-addressed under DATA_DIR/blobs, checked, written atomically.

Shared by the photo upload (server/web/api/blobs.py) and the import of a phone's unsent work
(server/sync/unsent_work.py), so a photo is stored the same way whichever way it came.
The stored original keeps its bytes (its hash is its name); camera metadata is removed when it
is served (server.domain.photos.strip_metadata).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from sqlalchemy import insert
from sqlalchemy.orm import Session

from server.models import Blob
from server.models.base import utcnow

MAGIC = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/webp": (b"RIFF",),
}
PHOTO_TYPES = tuple(MAGIC)


def blob_path(data_dir: str | Path, sha256: str) -> Path:
    return Path(data_dir) / "blobs" / sha256[:2] / sha256[2:4] / sha256


def matches_type(content: bytes, content_type: str) -> bool:
    if content_type == "image/webp":
        return content[:4] == b"RIFF" and content[8:12] == b"WEBP"
    return any(content.startswith(magic) for magic in MAGIC[content_type])


def photo_problem(content: bytes, content_type: str, sha256: str) -> str | None:
    """Why these bytes cannot be stored as the photo `sha256` of `content_type`, as an error
    code (unsupported_media_type: not a JPEG, PNG or WebP, or not the type declared;
    hash_mismatch: the bytes are not that hash), or None when they can."""
    if content_type not in MAGIC or not matches_type(content, content_type):
        return "unsupported_media_type"
    if hashlib.sha256(content).hexdigest() != sha256:
        return "hash_mismatch"
    return None


def save_blob(
    session: Session,
    data_dir: str | Path,
    sha256: str,
    content: bytes,
    content_type: str,
    uploaded_by: str | None,
) -> bool:
    """Store a checked photo (see photo_problem) in the caller's unit of work; True when it is
    new, False when the server already had it (nothing written)."""
    if session.get(Blob, sha256) is not None:
        return False
    write_atomically(blob_path(data_dir, sha256), content)
    session.execute(
        insert(Blob),
        [
            {
                "sha256": sha256,
                "content_type": content_type,
                "size": len(content),
                "uploaded_by": uploaded_by,
                "created_at": utcnow(),
            }
        ],
    )
    return True


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
