"""Phones whose pushes arrive while another is being written share the next transaction,
and each still gets exactly its own answer (server.web.api.push_group). SQLite only: it has
one writer; PostgreSQL's pushes run concurrently instead (tests/sync/test_concurrent_writers.py)."""

from __future__ import annotations

import threading
import time

import pytest
from flask import Flask
from sqlalchemy import update

from server.extensions import db
from server.models import Case, Device, MutationReceipt
from server.sync.unit_of_work import feed_write_unit
from server.web.api.push_group import EXTENSION
from tests.factories import DeviceClient, case_create, case_update


class HeldWrite:
    """Someone else's write in progress (a console edit, a job): holds the write turn until
    `finish()`, which may first revoke a device inside that write."""

    def __init__(self, app: Flask):
        self.app = app
        self.holding = threading.Event()
        self.release = threading.Event()
        self.revoke: str | None = None
        self.thread = threading.Thread(target=self.run)
        self.thread.start()
        assert self.holding.wait(30)

    def run(self) -> None:
        with self.app.app_context():
            with feed_write_unit(db.session):
                self.holding.set()
                assert self.release.wait(30)
                if self.revoke:
                    db.session.execute(
                        update(Device).where(Device.id == self.revoke).values(is_revoked=True)
                    )
            db.session.remove()

    def finish(self, revoke: str | None = None) -> None:
        self.revoke = revoke
        self.release.set()
        self.thread.join(30)


def phone(app: Flask, username: str) -> DeviceClient:
    device = DeviceClient(app.test_client(), username)
    device.login()
    return device


def push_together(pushes: dict[str, tuple[DeviceClient, list[dict]]]) -> dict[str, object]:
    """Each phone pushes from its own thread; the responses by name."""
    responses: dict[str, object] = {}

    def send(name: str, device: DeviceClient, mutations: list[dict]) -> None:
        responses[name] = device.push(*mutations)

    threads = [threading.Thread(target=send, args=(n, *p)) for n, p in pushes.items()]
    for thread in threads:
        thread.start()
    return {"threads": threads, "responses": responses}


def wait_until_queued(app: Flask, count: int) -> None:
    group = app.extensions[EXTENSION]
    for _ in range(3000):
        if group.waiting() >= count:
            return
        time.sleep(0.01)
    raise AssertionError(f"{count} pushes did not queue within 30 s")


@pytest.mark.parametrize("backend", ["sqlite"])
def test_pushes_waiting_for_the_turn_share_one_transaction_and_keep_their_own_answers(app, rows):
    dayan, xidian, lost = (
        phone(app, "dayan_worker"),
        phone(app, "xidian_worker"),
        phone(app, "dayan_supervisor"),
    )
    own = phone(app, "xiaojiang_worker")
    earlier = case_create("xiaojiang")
    own.push_ok(earlier)
    group = app.extensions[EXTENSION]
    groups_before, grouped_before = group.groups, group.grouped

    held = HeldWrite(app)
    first = push_together({"first": (dayan, [case_create("dayan")])})
    mutations = {
        "xidian": [case_create("xidian"), case_create("xidian", category="no_such")],
        "lost": [case_create("dayan")],
        "own": [case_update(earlier["record_id"], 1, title="小将补充的标题")],
    }
    rest = push_together(
        {
            name: (device, mutations[name])
            for name, device in (("xidian", xidian), ("lost", lost), ("own", own))
        }
    )
    wait_until_queued(app, 3)
    held.finish(revoke=lost.device_id)  # the supervisor's phone is reported lost meanwhile
    for thread in [*first["threads"], *rest["threads"]]:
        thread.join(60)
    answers = {**first["responses"], **rest["responses"]}

    assert answers["first"].status_code == 200
    # The three that waited went in together: one more group after the first one's.
    assert (group.groups - groups_before, group.grouped - grouped_before) == (2, 4)
    xidian_results = answers["xidian"].get_json()["results"]
    assert [r["mutation_id"] for r in xidian_results] == [
        m["mutation_id"] for m in mutations["xidian"]
    ]
    assert [r["status"] for r in xidian_results] == ["applied", "rejected"]
    assert answers["lost"].status_code == 401
    assert answers["lost"].get_json()["error"]["code"] == "device_revoked"
    [own_result] = answers["own"].get_json()["results"]
    assert (own_result["status"], own_result["version"]) == ("applied", 2)
    # Nothing of the refused phone's push was written; everything of the others was.
    assert rows(Case, id=mutations["lost"][0]["record_id"]) == []
    assert rows(MutationReceipt, device_id=lost.device_id) == []
    assert len(rows(Case, id=mutations["xidian"][0]["record_id"])) == 1
    [edited] = rows(Case, id=earlier["record_id"])
    assert edited.title == "小将补充的标题"
