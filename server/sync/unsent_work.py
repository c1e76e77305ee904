"""A phone's unsent work, brought home in a file: read it, then apply it as the device's push.

The phone exports every intent the server has not confirmed, with its photos not yet
uploaded, as an "unsent-work file v1" (docs/protocol.md). `read_file` refuses a file that is
not one, whose checksum does not match, or whose intents fail the push envelope, before
anything is written. `apply_work` stores its photos as an upload would and runs its intents
through `push` as the device that recorded them: the same device id and mutation ids, so a
later push of the same intents from the phone is a replay (rule 2), and so is a second import.
Who may import a device's work is the caller's business (the console checks the towns).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from marshmallow import ValidationError
from sqlalchemy.orm import Session

from server.domain.photos import PhotoRefused
from server.errors import flatten_errors
from server.schemas.unsent import (
    UNSENT_FORMAT,
    UNSENT_VERSION,
    UnsentContentSchema,
    UnsentFileSchema,
)
from server.storage.blobs import CheckedPhoto, check_photo, save_blob
from server.storage.json_text import MAX_JSON_DEPTH, nesting_exceeds
from server.sync.context import Caller, RefData
from server.sync.feed import FeedWriter
from server.sync.push import push
from server.sync.registry import REGISTRY

# The content holds the mutations one level deeper than a push body does.
MAX_CONTENT_DEPTH = MAX_JSON_DEPTH + 1


class UnsentWorkRefused(Exception):
    """The file is refused as a whole and nothing of it is applied; `code` says why
    (not_unsent_file, unknown_version, checksum_mismatch, content_not_json, content_invalid,
    too_many_intents, envelope_invalid), `details` where."""

    def __init__(self, code: str, details: dict[str, Any] | None = None):
        super().__init__(code)
        self.code = code
        self.details: dict[str, Any] = details or {}


@dataclass(frozen=True)
class Limits:
    """`max_intent_bytes`: the intents as JSON text (UTF-8), the push's byte limit;
    `max_photo_bytes`: each photo, the upload's limit."""

    max_intent_bytes: int
    max_photo_bytes: int


@dataclass(frozen=True)
class Photo:
    sha256: str
    content_type: str
    content: bytes
    problem: str | None  # an upload's error code when it cannot be stored; then it is left out
    checked: CheckedPhoto | None = None  # when it can: the original and what will be served


@dataclass(frozen=True)
class UnsentWork:
    exported_at: datetime
    device_id: str
    user: dict[str, str]  # id, username, display_name, as the phone knew them
    mutations: list[dict[str, Any]]
    photos: list[Photo]


@dataclass
class Applied:
    """One result per mutation, in the file's order (push's stored results, `replayed` on
    those the server had already taken); photos stored, already known, and left out."""

    results: list[dict[str, Any]]
    photos_new: int = 0
    photos_known: int = 0
    photos_refused: list[Photo] = field(default_factory=list)


def read_file(raw: bytes, limits: Limits) -> UnsentWork:
    """Parse and check an exported file; nothing is looked up or written.

    :raises UnsentWorkRefused: see its codes.
    """
    try:
        wrapper = json.loads(raw.decode("utf-8-sig"))
    except (ValueError, RecursionError) as error:  # not UTF-8, not JSON, absurdly nested
        raise UnsentWorkRefused("not_unsent_file") from error
    if not isinstance(wrapper, dict) or wrapper.get("format") != UNSENT_FORMAT:
        raise UnsentWorkRefused("not_unsent_file")
    version = wrapper.get("version")
    if type(version) is not int or version != UNSENT_VERSION:
        raise UnsentWorkRefused("unknown_version", {"version": str(version)[:20]})
    try:
        loaded = UnsentFileSchema().load(wrapper)
    except ValidationError as error:
        raise UnsentWorkRefused("not_unsent_file", flatten_errors(error.messages)) from error
    content: str = loaded["content"]
    try:
        actual = hashlib.sha256(content.encode("utf-8")).hexdigest()
    except UnicodeEncodeError:  # half a character: no phone wrote this text
        actual = ""
    if not hmac.compare_digest(actual, loaded["sha256"]):
        raise UnsentWorkRefused("checksum_mismatch")
    try:
        parsed = json.loads(content)
    except (ValueError, RecursionError) as error:
        raise UnsentWorkRefused("content_not_json") from error
    if nesting_exceeds(parsed, MAX_CONTENT_DEPTH):
        raise UnsentWorkRefused("content_not_json", {"max_depth": MAX_JSON_DEPTH})
    try:
        data = UnsentContentSchema().load(parsed)
    except ValidationError as error:
        raise UnsentWorkRefused("content_invalid", flatten_errors(error.messages)) from error
    mutations: list[Any] = data["mutations"]
    size = len(
        json.dumps(mutations, ensure_ascii=False, separators=(",", ":")).encode(
            "utf-8", "surrogatepass"
        )
    )
    if size > limits.max_intent_bytes:
        raise UnsentWorkRefused("too_many_intents", {"max_bytes": limits.max_intent_bytes})
    check_envelopes(mutations)
    return UnsentWork(
        exported_at=data["exported_at"],
        device_id=data["device_id"],
        user=data["user"],
        mutations=mutations,
        photos=read_photos(data["photos"], limits.max_photo_bytes),
    )


def check_envelopes(mutations: list[Any]) -> None:
    """Every mutation must pass the push envelope (ids, a pushable op, data an object); its
    data is checked later by its op, which rejects that intent alone, as in a push.

    :raises UnsentWorkRefused: envelope_invalid, with the reasons of each one that fails.
    """
    errors: dict[str, list[str]] = {}
    for index, raw in enumerate(mutations):
        try:
            if not isinstance(raw, dict):
                raise ValidationError(["Not a valid mapping type."])
            REGISTRY.envelope_schema.load(raw)
        except ValidationError as error:
            errors.update(flatten_errors(error.messages, f"mutations.{index}"))
    if errors:
        raise UnsentWorkRefused("envelope_invalid", errors)


def read_photos(rows: list[dict[str, str]], max_bytes: int) -> list[Photo]:
    """Each photo checked as an upload is (type, bytes against the hash, size); one that
    fails carries its problem and is not stored."""
    photos: dict[str, Photo] = {}
    for row in rows:
        problem: str | None = None
        checked: CheckedPhoto | None = None
        try:
            content = base64.b64decode(row["base64"], validate=True)
        except (binascii.Error, ValueError):
            content, problem = b"", "photo_unreadable"
        else:
            if len(content) > max_bytes:
                problem = "payload_too_large"
            else:
                try:
                    checked = check_photo(content, row["type"], row["sha256"])
                except PhotoRefused as refused:
                    problem = refused.code
        photo = Photo(row["sha256"], row["type"], content, problem, checked)
        photos.setdefault(row["sha256"], photo)
    return list(photos.values())


def apply_work(
    session: Session,
    writer: FeedWriter,
    ref: RefData,
    caller: Caller,
    work: UnsentWork,
    data_dir: str | Path,
) -> Applied:
    """Store the photos and push the intents as `caller` (the device and its user), inside
    the caller's feed unit of work. The device's health record is left alone: the phone
    itself has not pushed."""
    outcome = Applied(results=[])
    for photo in work.photos:
        if photo.checked is None:
            outcome.photos_refused.append(photo)
        elif save_blob(session, data_dir, photo.checked, caller.user_id):
            outcome.photos_new += 1
        else:
            outcome.photos_known += 1
    outcome.results = push(
        session, caller, ref, writer, list(work.mutations), None, note_device=False
    )
    return outcome
