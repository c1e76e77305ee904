"""Photos by right, not by hash: knowing a photo's SHA-256 gives nothing. A record's naming of
a photo counts only when its author uploaded those bytes or could already see the photo; a
phone's name-before-upload counts once that phone's user uploads the bytes."""

from __future__ import annotations

from tests.factories import case_create, case_event, case_update
from tests.photo_files import WHERE, jpeg
from tests.web.api.test_blobs import fetch, put, sha


def head(device, digest: str) -> int:
    return device.client.head(f"/api/v1/blobs/{digest}", headers=device.headers).status_code


def test_another_towns_worker_cannot_attach_a_known_hash_and_download_the_photo(login):
    """Shenzhen's worker learned the hash of a Dayan photo (from a forwarded message, or a
    case Shenzhen no longer sees) and names it in a case of their own."""
    dayan, shenzhen = login("dayan_worker"), login("shenzhen_worker")
    shenzhen_supervisor = login("shenzhen_supervisor")
    photo = jpeg()
    digest = sha(photo)
    assert put(dayan, photo, "image/jpeg").status_code == 201
    dayan.push_ok(case_create("dayan", photos=[digest]))
    assert fetch(dayan, f"/api/v1/blobs/{digest}")[0] == 200

    [result] = shenzhen.push_ok(case_create("shenzhen", photos=[digest]))
    assert result["status"] == "applied"  # a name is kept, as a phone's pending photo is
    for outsider in (shenzhen, shenzhen_supervisor):
        status, body = fetch(outsider, f"/api/v1/blobs/{digest}")
        assert status == 404 and WHERE not in body
        assert head(outsider, digest) == 404


def test_a_town_that_lost_a_case_cannot_attach_its_photo_anew(login):
    """Xidian was involved in a Dayan case and saw its photo; the case no longer involves
    Xidian. Naming the remembered hash in a new Xidian case gives Xidian nothing."""
    dayan, xidian = login("dayan_worker"), login("xidian_worker")
    xidian_supervisor = login("xidian_supervisor")
    photo = jpeg(seed=8)
    digest = sha(photo)
    put(dayan, photo, "image/jpeg")
    create = case_create("dayan", involved_towns=["xidian"], photos=[digest])
    dayan.push_ok(create)
    assert fetch(xidian, f"/api/v1/blobs/{digest}")[0] == 200
    dayan.push_ok(case_update(create["record_id"], 1, involved_towns=[]))
    assert fetch(xidian, f"/api/v1/blobs/{digest}")[0] == 404
    xidian_supervisor.push_ok(case_create("xidian", photos=[digest]))
    assert fetch(xidian, f"/api/v1/blobs/{digest}")[0] == 404
    assert head(xidian_supervisor, digest) == 404


def test_head_answers_only_those_who_uploaded_or_may_see_the_photo(login):
    dayan, shenzhen, xidian = (
        login("dayan_worker"),
        login("shenzhen_worker"),
        login("xidian_worker"),
    )
    photo = jpeg(seed=1)
    digest = sha(photo)
    put(dayan, photo, "image/jpeg")
    assert head(dayan, digest) == 200  # uploaded it: no need to send it again
    assert head(shenzhen, digest) == 404  # no existence oracle: as for a photo never stored
    assert head(xidian, digest) == 404
    dayan.push_ok(case_create("dayan", involved_towns=["xidian"], photos=[digest]))
    assert head(xidian, digest) == 200  # may GET it now
    assert head(shenzhen, digest) == 404


def test_a_photo_named_before_upload_counts_once_its_author_uploads_it(login):
    """The offline flow: the phone pushes the case, then uploads the photo (HEAD, then PUT)."""
    dayan, xidian, shenzhen = (
        login("dayan_worker"),
        login("xidian_worker"),
        login("shenzhen_worker"),
    )
    photo = jpeg(seed=2)
    digest, url = sha(photo), f"/api/v1/blobs/{sha(photo)}"
    dayan.push_ok(case_create("dayan", involved_towns=["xidian"], photos=[digest]))
    shenzhen.push_ok(case_create("shenzhen", photos=[digest]))  # guessed, never uploaded
    assert fetch(xidian, url)[0] == 404
    assert head(dayan, digest) == 404  # so the phone uploads it
    assert put(dayan, photo, "image/jpeg").status_code == 201
    assert fetch(dayan, url)[0] == 200
    assert fetch(xidian, url)[0] == 200
    assert fetch(shenzhen, url)[0] == 404
    assert head(shenzhen, digest) == 404


def test_uploading_the_bytes_proves_possession(login):
    """Whoever holds the photo itself (a forwarded copy) may upload it, already stored or not,
    and then name it: the server hashed what they sent."""
    dayan, shenzhen = login("dayan_worker"), login("shenzhen_worker")
    photo = jpeg(seed=3)
    digest = sha(photo)
    put(dayan, photo, "image/jpeg")
    dayan.push_ok(case_create("dayan", photos=[digest]))
    assert put(shenzhen, photo, "image/jpeg").status_code == 200  # known content
    assert head(shenzhen, digest) == 200
    shenzhen.push_ok(case_create("shenzhen", photos=[digest]))
    assert fetch(shenzhen, f"/api/v1/blobs/{digest}")[0] == 200


def test_who_sees_a_photo_may_name_it_again_without_uploading(login):
    """A supervisor adds a worker's photo to a timeline entry: they can see it already."""
    worker, supervisor = login("dayan_worker"), login("dayan_supervisor")
    photo = jpeg(seed=4)
    digest = sha(photo)
    put(worker, photo, "image/jpeg")
    create = case_create("dayan", photos=[digest])
    worker.push_ok(create)
    event = case_event(create["record_id"], "photo", "现场照片")
    event["data"]["photos"] = [digest]
    supervisor.push_ok(event)
    # The case drops the photo: the supervisor's timeline entry still names it validly.
    worker.push_ok(case_update(create["record_id"], 1, photos=[]))
    assert fetch(supervisor, f"/api/v1/blobs/{digest}")[0] == 200


def test_editing_a_cases_photo_list_keeps_the_names_it_already_had(login):
    """A colleague edits the list before the phone that took the photo has uploaded it; the
    photo still counts once that phone uploads it."""
    worker, supervisor = login("dayan_worker"), login("dayan_supervisor")
    photo, other = jpeg(seed=5), jpeg(seed=6)
    create = case_create("dayan", photos=[sha(photo)])
    worker.push_ok(create)
    put(supervisor, other, "image/jpeg")
    supervisor.push_ok(case_update(create["record_id"], 1, photos=[sha(photo), sha(other)]))
    put(worker, photo, "image/jpeg")
    assert fetch(supervisor, f"/api/v1/blobs/{sha(photo)}")[0] == 200
    assert fetch(worker, f"/api/v1/blobs/{sha(other)}")[0] == 200


def test_a_colleague_who_uploaded_the_photo_confirms_a_waiting_name_by_keeping_it(login):
    """The worker's phone named a photo it never managed to send; the supervisor has the same
    photo, uploads it and one more, and saves the case's list with both: both now show."""
    worker, supervisor = login("dayan_worker"), login("dayan_supervisor")
    photo, more = jpeg(seed=10), jpeg(seed=14)
    create = case_create("dayan", photos=[sha(photo)])
    worker.push_ok(create)
    put(supervisor, photo, "image/jpeg")
    put(supervisor, more, "image/jpeg")
    assert fetch(worker, f"/api/v1/blobs/{sha(photo)}")[0] == 404
    supervisor.push_ok(case_update(create["record_id"], 1, photos=[sha(photo), sha(more)]))
    assert fetch(worker, f"/api/v1/blobs/{sha(photo)}")[0] == 200
    assert fetch(worker, f"/api/v1/blobs/{sha(more)}")[0] == 200
