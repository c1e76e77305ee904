"""Content-addressed photos: upload, HEAD, authorised GET, hash and type checks."""

from __future__ import annotations

import hashlib
import struct
import zlib

import pytest

from tests.factories import case_create, case_update


def png(seed: int = 0) -> bytes:
    """A real 1x1 PNG whose pixel depends on `seed`."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    pixel = bytes([0, seed % 256, (seed * 7) % 256, 200])
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(pixel))
        + chunk(b"IEND", b"")
    )


def sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def put(device, content: bytes, content_type: str = "image/png", digest: str | None = None):
    return device.client.put(
        f"/api/v1/blobs/{digest or sha(content)}",
        data=content,
        content_type=content_type,
        headers=device.headers,
    )


def fetch(device, url: str) -> tuple[int, bytes]:
    """GET a photo as the device would, closing the streamed file."""
    response = device.client.get(url, headers=device.headers)
    try:
        return response.status_code, response.get_data()
    finally:
        response.close()


def test_upload_is_201_then_200_and_the_file_is_stored_under_its_hash(worker, app):
    from pathlib import Path

    photo = png(1)
    assert put(worker, photo).status_code == 201
    assert put(worker, photo).status_code == 200
    digest = sha(photo)
    stored = Path(app.config["DATA_DIR"]) / "blobs" / digest[:2] / digest[2:4] / digest
    assert stored.read_bytes() == photo


def test_head_tells_a_device_whether_to_upload(worker):
    photo = png(2)
    url = f"/api/v1/blobs/{sha(photo)}"
    assert worker.client.head(url, headers=worker.headers).status_code == 404
    put(worker, photo)
    assert worker.client.head(url, headers=worker.headers).status_code == 200


def test_a_photo_whose_bytes_differ_from_its_hash_is_refused(worker):
    response = put(worker, png(3), digest=sha(png(4)))
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "hash_mismatch"


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"GIF89a........", "image/gif"),
        (b"not an image at all", "image/png"),
        (png(5), "image/jpeg"),
    ],
)
def test_only_real_jpeg_png_or_webp_is_accepted(worker, content, content_type):
    response = put(worker, content, content_type)
    assert response.status_code == 415
    assert response.get_json()["error"]["code"] == "unsupported_media_type"


def test_a_photo_over_10_mib_is_refused(worker):
    content = b"\x89PNG\r\n\x1a\n" + b"\0" * (10 * 1024 * 1024)
    assert put(worker, content).status_code == 413


def test_get_serves_a_photo_only_to_those_who_see_a_record_referencing_it(login):
    dayan, shenzhen, xidian = (
        login("dayan_worker"),
        login("shenzhen_worker"),
        login("xidian_worker"),
    )
    photo = png(6)
    url = f"/api/v1/blobs/{sha(photo)}"
    put(dayan, photo)
    assert fetch(dayan, url)[0] == 404  # referenced by nothing yet
    create = case_create(involved_towns=["xidian"], photos=[sha(photo)])
    dayan.push_ok(create)
    assert fetch(dayan, url) == (200, photo)
    assert fetch(xidian, url) == (200, photo)
    assert fetch(shenzhen, url)[0] == 404
    # Dropping the photo from the case takes the right away again.
    dayan.push_ok(case_update(create["record_id"], 1, photos=[]))
    assert fetch(xidian, url)[0] == 404


def test_a_record_may_reference_a_photo_before_it_is_uploaded(worker):
    photo = png(7)
    [result] = worker.push_ok(case_create(photos=[sha(photo)]))
    assert result["status"] == "applied"
    url = f"/api/v1/blobs/{sha(photo)}"
    assert fetch(worker, url)[0] == 404
    put(worker, photo)
    assert fetch(worker, url) == (200, photo)


def test_integration_accounts_cannot_upload(login):
    job = login("integration")
    assert put(job, png(8)).status_code == 403


def test_a_served_photo_no_longer_tells_where_it_was_taken(worker):
    from tests.photo_files import WHERE, assert_tells_nothing_of_where, jpeg

    photo = jpeg(("exif", "xmp"))
    put(worker, photo, "image/jpeg")
    worker.push_ok(case_create(photos=[sha(photo)]))
    status, served = fetch(worker, f"/api/v1/blobs/{sha(photo)}")
    assert status == 200 and WHERE in photo
    assert_tells_nothing_of_where(served, "image/jpeg")


@pytest.mark.parametrize(
    ("metadata", "content_type"),
    [
        (("fill", "exif", "xmp"), "image/jpeg"),  # a legal fill byte made the old parser give up
        (("extended_xmp",), "image/jpeg"),
        (("trailer",), "image/jpeg"),  # a second image after the first, with its own EXIF
        (("raw_exif", "raw_xmp", "exif"), "image/png"),
        (("exif", "xmp"), "image/webp"),
    ],
)
def test_no_hiding_place_of_camera_metadata_survives_serving(worker, metadata, content_type):
    from tests.photo_files import WHERE, assert_tells_nothing_of_where, jpeg, png, webp

    build = {"image/jpeg": jpeg, "image/png": png, "image/webp": webp}[content_type]
    photo = build(metadata)
    assert put(worker, photo, content_type).status_code == 201
    worker.push_ok(case_create(photos=[sha(photo)]))
    status, served = fetch(worker, f"/api/v1/blobs/{sha(photo)}")
    assert status == 200
    assert WHERE not in served
    assert_tells_nothing_of_where(served, content_type)


@pytest.mark.parametrize(
    ("language", "words"),
    [("zh-CN", "照片无法完整读取"), ("en", "cannot be read in full")],
)
def test_a_photo_that_cannot_be_read_is_refused_at_upload_with_a_reason(
    login, language, words, app
):
    """A JPEG that ends right after its EXIF block: nothing is stored, so nothing of it can
    ever be served."""
    from pathlib import Path

    from tests.photo_files import jpeg_cut_after_exif

    phone = login("dayan_worker", language=language)
    photo = jpeg_cut_after_exif()
    response = put(phone, photo, "image/jpeg")
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "photo_unreadable" and words in error["message"]
    assert not (Path(app.config["DATA_DIR"]) / "blobs").exists() or not any(
        (Path(app.config["DATA_DIR"]) / "blobs").rglob(sha(photo) + "*")
    )


def test_the_hash_names_the_uploaded_bytes_and_only_clean_bytes_are_served(worker, app):
    """The stored original is what the phone hashed and sent (kept, never served); GET serves
    its re-encoding without metadata."""
    from pathlib import Path

    from tests.photo_files import WHERE, jpeg

    photo = jpeg(("exif",))
    digest = sha(photo)
    put(worker, photo, "image/jpeg")
    worker.push_ok(case_create(photos=[digest]))
    folder = Path(app.config["DATA_DIR"]) / "blobs" / digest[:2] / digest[2:4]
    assert (folder / digest).read_bytes() == photo
    status, served = fetch(worker, f"/api/v1/blobs/{digest}")
    assert status == 200 and served == (folder / f"{digest}.served").read_bytes()
    assert WHERE in photo and WHERE not in served
