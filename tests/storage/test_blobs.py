"""Photo files and rights on disk and in the database: a grant per uploader, the served file
beside the original, and photos stored before served files existed."""

from __future__ import annotations

from pathlib import Path

from server.models import BlobGrant, BlobRef
from server.storage.blobs import blob_path, served_path
from tests.factories import case_create
from tests.photo_files import WHERE, assert_tells_nothing_of_where, jpeg
from tests.web.api.test_blobs import fetch, put, sha


def test_every_upload_grants_its_uploader_also_of_content_already_stored(login, rows):
    dayan, shenzhen = login("dayan_worker"), login("shenzhen_worker")
    photo = jpeg(seed=11)
    assert put(dayan, photo, "image/jpeg").status_code == 201
    assert put(shenzhen, photo, "image/jpeg").status_code == 200
    put(shenzhen, photo, "image/jpeg")  # again: still one grant each
    grants = {(g.sha256, g.user_id) for g in rows(BlobGrant)}
    assert grants == {(sha(photo), dayan.user["id"]), (sha(photo), shenzhen.user["id"])}


def test_a_name_without_right_waits_and_the_authors_upload_makes_it_count(worker, rows):
    photo = jpeg(seed=12)
    worker.push_ok(case_create(photos=[sha(photo)]))
    [ref] = rows(BlobRef, sha256=sha(photo))
    assert (ref.named_by, ref.valid) == (worker.user["id"], False)
    put(worker, photo, "image/jpeg")
    [ref] = rows(BlobRef, sha256=sha(photo))
    assert ref.valid


def test_a_photo_stored_before_served_files_existed_is_re_encoded_when_first_served(worker, app):
    photo = jpeg(("exif", "fill"), seed=13)
    put(worker, photo, "image/jpeg")
    worker.push_ok(case_create(photos=[sha(photo)]))
    served_file = served_path(app.config["DATA_DIR"], sha(photo))
    served_file.unlink()  # as a photo uploaded by an earlier version has none
    status, served = fetch(worker, f"/api/v1/blobs/{sha(photo)}")
    assert status == 200
    assert_tells_nothing_of_where(served, "image/jpeg")
    assert served_file.read_bytes() == served


def test_a_stored_photo_that_cannot_be_read_is_never_served_as_it_is(worker, app, execute):
    """An earlier version stored anything with the right magic bytes; such a file now gets a
    404, never its original bytes with whatever they carry."""
    content = b"\xff\xd8\xff\xe1\x00\x40Exif\x00\x00" + WHERE + b"\x00" * 40
    digest = sha(content)
    path: Path = blob_path(app.config["DATA_DIR"], digest)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    execute(
        "INSERT INTO blobs (sha256, content_type, size, uploaded_by, created_at) "
        "VALUES (:h, 'image/jpeg', :size, :user, CURRENT_TIMESTAMP)",
        h=digest,
        size=len(content),
        user=worker.user["id"],
    )
    execute(
        "INSERT INTO blob_grants (sha256, user_id, created_at) "
        "VALUES (:h, :user, CURRENT_TIMESTAMP)",
        h=digest,
        user=worker.user["id"],
    )
    worker.push_ok(case_create(photos=[digest]))
    status, body = fetch(worker, f"/api/v1/blobs/{digest}")
    assert status == 404 and WHERE not in body
