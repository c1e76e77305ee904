"""Importing a phone's exported unsent work at the console ("导入手机导出的待同步数据").

The file is built here exactly as the PWA builds it (webapp/js/unsent-file.js): the content is
JSON text and the wrapper carries the SHA-256 of its UTF-8 bytes. Each intent is applied as if
the phone had pushed it, so the phone's own later push of it, and a second import, are replays.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from tests.factories import (
    DeviceClient,
    case_create,
    case_event,
    case_update,
    checkin,
    transition,
)
from tests.web.console.conftest import ConsoleUser, soup

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)


def content_of(
    phone: DeviceClient, mutations: list[Any], photos: list[dict] | None = None, **over: Any
) -> dict[str, Any]:
    return {
        "exported_at": "2026-11-26T10:00:00.000Z",
        "device_id": phone.device_id,
        "user": {k: phone.user[k] for k in ("id", "username", "display_name")},
        "mutations": mutations,
        "photos": photos or [],
        **over,
    }


def wrap(content_text: str, **over: Any) -> bytes:
    """The file around a content text, as JSON.stringify writes it."""
    wrapper = {
        "format": "fengling-unsent-work",
        "version": 1,
        "sha256": hashlib.sha256(content_text.encode("utf-8")).hexdigest(),
        "content": content_text,
        **over,
    }
    return json.dumps(wrapper, ensure_ascii=False).encode("utf-8")


def unsent_file(phone: DeviceClient, mutations: list[Any], **kwargs: Any) -> bytes:
    return wrap(json.dumps(content_of(phone, mutations, **kwargs), ensure_ascii=False))


def photo(colour: tuple[int, int, int], size: int = 64) -> dict[str, str]:
    """A real PNG of one colour, padded with a text chunk of `size` pixels' worth of bytes
    (as a camera's metadata pads a photo)."""
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Comment", "x" * (3 * size))
    out = io.BytesIO()
    Image.new("RGB", (8, 8), colour).save(out, "PNG", pnginfo=info)
    content = out.getvalue()
    return {
        "sha256": hashlib.sha256(content).hexdigest(),
        "type": "image/png",
        "base64": base64.b64encode(content).decode(),
    }


def upload(console: ConsoleUser, raw: bytes, name: str = "fengling-unsent.json") -> Any:
    """Post the file as a browser does. The body is encoded here, in memory: the test client
    would spool a large one to a temporary file it never closes."""
    boundary, body = encode_multipart(
        {"csrf_token": console.csrf, "file": FileStorage(io.BytesIO(raw), filename=name)}
    )
    return console.client.post(
        "/console/import", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )


def report_lines(response: Any) -> list[tuple[str, str, str, str]]:
    """(record kind, subject, outcome key, outcome text) per row of the report."""
    page = soup(response)
    return [
        (
            row.select("td")[1].text.strip(),
            row.select_one("td.subject").text.strip(),
            row["data-outcome"],
            " ".join(row.select_one("td.outcome").text.split()),
        )
        for row in page.select("#import-lines tbody tr[data-outcome]")
    ]


def table_counts(app) -> dict[str, int]:
    from sqlalchemy import func, select

    from server.extensions import db
    from server.models import Case, Change, FeedEntry, MutationReceipt, RejectedIntent

    with app.app_context():
        counts = {
            model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
            for model in (Case, Change, FeedEntry, MutationReceipt, RejectedIntent)
        }
        db.session.remove()
        return counts


@pytest.fixture
def story(login, sites):
    """A Dayan worker's phone with a day of work it never sent: a new case with a photo and a
    timeline note on it, a retitle of a case the supervisor retitled meanwhile (a merge), a
    move a worker may not make (a rejection) and a check-in."""
    phone = login("dayan_worker")
    other = login("dayan_supervisor")
    existing = case_create(title="灌溉渠堵塞")
    other.push_ok(existing)
    other.push_ok(case_update(existing["record_id"], 1, title="灌溉渠堵塞（已核实）"))
    picture = photo((200, 30, 30))
    created = case_create(title="竹林界桩争议", photos=[picture["sha256"]])
    hall = sites["dayan_alliance_hall"]
    mutations = [
        created,
        case_event(created["record_id"], kind="note", body="已约双方周五到村委会"),
        case_update(existing["record_id"], 1, title="灌溉渠被树枝堵塞"),
        transition(existing["record_id"], "registered", "accepted"),
        checkin(hall["id"], hall["lat"], hall["lon"]),
    ]
    return phone, mutations, picture


def test_an_import_applies_each_intent_as_the_phone_and_reports_it_in_words(
    app, story, dayan_console: ConsoleUser, console, rows
):
    from server.models import Blob, Case, Change, Device, JobRun, MutationReceipt, Site

    phone, mutations, picture = story
    raw = unsent_file(phone, mutations, photos=[picture])
    response = upload(dayan_console, raw)
    assert response.status_code == 200, response.text[:2000]

    page = soup(response)
    report = page.select_one("#import-report")
    assert "大堰镇网格员（dayan_worker）的手机“测试手机”" in report.text
    assert "已应用 3 项 · 已合并 1 项 · 被拒绝 1 项 · 此前已导入或已同步 0 项" in report.text
    assert "新保存 1 张" in report.text
    lines = report_lines(response)
    assert [(what, outcome) for what, _, outcome, _ in lines] == [
        ("登记案件", "applied"),
        ("办理记录", "applied"),
        ("修改案件", "merged"),
        ("流程变更", "rejected"),
        ("红色打卡", "applied"),
    ]
    assert lines[0][1].startswith("竹林界桩争议（DY")  # the title with its new case number
    assert lines[1][1] == lines[0][1]  # the note names the case it was written on
    assert lines[2][1].startswith("灌溉渠堵塞（已核实）（DY")
    assert "标题与他人的修改冲突" in lines[2][3]
    assert "被拒绝" in lines[3][3] and "您没有权限执行此操作" in lines[3][3]
    [hall] = rows(Site, code="dayan_alliance_hall")
    assert lines[4][1] == hall.name
    assert not UUID.search(report.text), "the report shows words, never ids"

    # Applied as the phone: its device, its user, its mutation ids, in the audit trail.
    [case] = rows(Case, title="竹林界桩争议")
    [audit] = rows(Change, record_id=case.id, version=1)
    assert (audit.device_id, audit.user_id) == (phone.device_id, phone.user["id"])
    assert audit.mutation_id == mutations[0]["mutation_id"]
    receipts = rows(MutationReceipt, device_id=phone.device_id)
    assert len(receipts) == 5
    assert {r.user_id for r in receipts} == {phone.user["id"]}  # replayed to the worker only
    # The photo is stored as an upload stores it, under its hash, by the worker.
    [blob] = rows(Blob, sha256=picture["sha256"])
    assert blob.uploaded_by == phone.user["id"] and blob.content_type == "image/png"
    data_dir = Path(app.config["DATA_DIR"])
    stored = data_dir / "blobs" / picture["sha256"][:2] / picture["sha256"][2:4] / picture["sha256"]
    assert stored.read_bytes() == base64.b64decode(picture["base64"])
    # Stored by the worker, so the case's naming of it counts: the town sees the photo.
    photo_url = f"/api/v1/blobs/{picture['sha256']}"
    assert phone.client.get(photo_url, headers=phone.headers).status_code == 200
    # The phone did not push: its health record does not say so.
    [device] = rows(Device, id=phone.device_id)
    assert device.last_push_at is None
    # The job trail keeps who imported whose work.
    [run] = rows(JobRun, name="unsent-import")
    assert run.outcome == "ok"
    assert run.counts == {"applied": 3, "merged": 1, "rejected": 1, "replayed": 0, "photos": 1}
    assert "大堰镇管理员" in run.message and "大堰镇网格员" in run.message
    trail = console("admin").page("/console/admin/jobs", query_string={"name": "unsent-import"})
    [listed] = trail.select("#job-runs tbody tr[data-outcome]")
    assert "导入待同步数据" in listed.text and "applied: 3" in listed.text

    # Importing the same file again changes nothing: every intent was received before.
    before = table_counts(app)
    again = upload(dayan_console, raw)
    assert again.status_code == 200
    assert [outcome for _, _, outcome, _ in report_lines(again)] == ["replayed"] * 5
    assert "此前已导入或已同步（已应用）" in report_lines(again)[0][3]
    assert "此前已导入或已同步（被拒绝）" in report_lines(again)[3][3]
    assert "服务器已有 1 张" in soup(again).select_one("#import-photos").text
    assert table_counts(app) == before

    # The phone comes back online and pushes the same intents: replays, nothing doubled.
    results = phone.push_ok(*mutations)
    assert all(r["replayed"] for r in results), results
    assert [r["status"] for r in results] == ["applied", "applied", "merged", "rejected", "applied"]
    assert table_counts(app) == before
    assert len(rows(Case, title="竹林界桩争议")) == 1
    # And it pulls the case it recorded, as the server has it.
    phone.sync()
    assert phone.of("case")[case.id]["data"]["title"] == "竹林界桩争议"


def test_the_import_page_is_reached_from_the_rejections_and_the_devices(
    dayan_console: ConsoleUser,
):
    for path in ("/console/rejections", "/console/devices"):
        link = dayan_console.page(path).select_one("#import-link")
        assert link["href"] == "/console/import"
        assert link.text == "导入手机导出的待同步数据"
    form = dayan_console.page("/console/import").select_one("#import-form")
    assert form["enctype"] == "multipart/form-data"
    assert form.select_one("input[type=file][name=file]") is not None


def test_a_supervisor_of_another_town_is_refused_and_an_admin_may_import(app, login, console):
    phone = login("dayan_worker")
    mutation = case_create(title="跨镇导入测试")
    raw = unsent_file(phone, [mutation])
    before = table_counts(app)

    refused = upload(console("shenzhen_supervisor"), raw)
    assert refused.status_code == 403
    assert "这台手机属于其他乡镇的人员" in soup(refused).select_one("#import-refusal").text
    assert table_counts(app) == before

    done = upload(console("admin"), raw)
    assert done.status_code == 200
    assert [outcome for _, _, outcome, _ in report_lines(done)] == ["applied"]


def test_a_photo_that_cannot_be_read_is_left_out_and_the_work_still_arrives(
    login, dayan_console: ConsoleUser, rows
):
    from server.models import Blob, Case

    phone = login("dayan_worker")
    good, bad = photo((10, 200, 10)), photo((10, 10, 200))
    bad = {**bad, "base64": bad["base64"][:-8] + "AAAAAAA="}  # damaged bytes: not its hash
    mutation = case_create(title="照片损坏", photos=[good["sha256"], bad["sha256"]])
    response = upload(dayan_console, unsent_file(phone, [mutation], photos=[good, bad]))
    assert response.status_code == 200
    assert "照片内容与其校验值不符" in soup(response).select_one("#import-photos-refused").text
    assert len(rows(Case, title="照片损坏")) == 1
    assert rows(Blob, sha256=good["sha256"]) and not rows(Blob, sha256=bad["sha256"])


def tampered(phone: DeviceClient, mutation: dict) -> bytes:
    text = json.dumps(content_of(phone, [mutation]), ensure_ascii=False)
    wrapper = json.loads(wrap(text))
    wrapper["content"] = text.replace("山林界址争议", "山林界址争议（改）")
    return json.dumps(wrapper, ensure_ascii=False).encode()


REFUSALS: dict[str, tuple[Any, int, str]] = {
    "not JSON": (lambda phone, m: b"\x89PNG not json", 422, "这不是锋领手机导出的待同步数据文件"),
    "another format": (
        lambda phone, m: json.dumps({"mutations": [m]}).encode(),
        422,
        "这不是锋领手机导出的待同步数据文件",
    ),
    "the old raw export": (
        lambda phone, m: json.dumps(content_of(phone, [m])).encode(),
        422,
        "这不是锋领手机导出的待同步数据文件",
    ),
    "unknown version": (
        lambda phone, m: wrap(json.dumps(content_of(phone, [m])), version=2),
        422,
        "文件格式版本“2”无法识别",
    ),
    "checksum mismatch": (tampered, 422, "文件内容与其校验值不符"),
    "content not JSON": (lambda phone, m: wrap("{not json"), 422, "不是有效的 JSON"),
    "content incomplete": (
        lambda phone, m: wrap(json.dumps({"mutations": [m]})),
        422,
        "文件内容不完整或有误",
    ),
    "unknown device": (
        lambda phone, m: wrap(json.dumps(content_of(phone, [m], device_id=str(uuid.uuid4())))),
        404,
        "导出这份文件的手机从未在本服务器登录过",
    ),
    "device now someone else's": (
        lambda phone, m: wrap(
            json.dumps(
                content_of(
                    phone,
                    [m],
                    user={"id": str(uuid.uuid4()), "username": "x", "display_name": "某人"},
                )
            )
        ),
        422,
        "已有其他人在这台手机上登录",
    ),
    "a console-only op": (
        lambda phone, m: unsent_file(
            phone, [m, {**m, "mutation_id": str(uuid.uuid4()), "op": "case.handoff_request"}]
        ),
        422,
        "第 2 条记录 · op",
    ),
    "an intent without its id": (
        lambda phone, m: unsent_file(
            phone, [m, {k: v for k, v in m.items() if k != "mutation_id"}]
        ),
        422,
        "第 2 条记录 · mutation_id: 必填项",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_a_file_is_refused_with_its_reason_and_nothing_is_applied(
    case, app, login, dayan_console: ConsoleUser, rows
):
    from server.models import JobRun

    phone = login("dayan_worker")
    build, status, reason = REFUSALS[case]
    before = table_counts(app)
    response = upload(dayan_console, build(phone, case_create()))
    assert response.status_code == status, response.text[:1000]
    refusal = soup(response).select_one("#import-refusal")
    assert "未导入任何内容" in refusal.text
    assert reason in " ".join(refusal.text.split())
    assert not UUID.search(refusal.text)
    assert table_counts(app) == before
    assert not rows(JobRun, name="unsent-import")


def test_a_file_over_the_limit_or_no_file_is_refused(app, login, dayan_console: ConsoleUser):
    phone = login("dayan_worker")
    app.config["UNSENT_IMPORT_MAX_BYTES"] = 1024 * 1024
    big = photo((1, 2, 3), size=300_000)  # about 1.2 MB once in base64
    raw = unsent_file(phone, [case_create(photos=[big["sha256"]])], photos=[big])
    too_big = upload(dayan_console, raw)
    assert too_big.status_code == 413
    assert "文件过大（上限 1 MB）" in soup(too_big).select_one("#import-refusal").text
    app.config["UNSENT_IMPORT_MAX_BYTES"] = 64 * 1024 * 1024
    missing = dayan_console.post("/console/import", {}, content_type="multipart/form-data")
    assert missing.status_code == 422
    assert "请选择手机导出的文件" in soup(missing).select_one("#import-refusal").text


def test_the_report_speaks_english(login, dayan_console: ConsoleUser):
    phone = login("dayan_worker")
    dayan_console.client.set_cookie("fengling_lang", "en")
    response = upload(dayan_console, unsent_file(phone, [case_create(title="Bamboo boundary")]))
    assert response.status_code == 200
    assert report_lines(response) == [
        ("Register a case", report_lines(response)[0][1], "applied", "Applied")
    ]
    assert "1 applied · 0 merged · 0 rejected · 0 received before" in response.text
    refused = upload(dayan_console, b"{}")
    assert "This is not a file of unsent work" in refused.text
