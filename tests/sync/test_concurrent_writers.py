"""Concurrent feed writers on PostgreSQL: pushes of different towns hold their transactions
open at the same moment, and pulls neither skip a change that commits late nor lose an
update or apply a mutation twice.

Each push here runs the server's own code (server.sync.push in a feed unit of work) in its
own thread and connection, and waits inside its transaction, after writing its feed rows,
until the test lets it commit.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from sqlalchemy import select, text

from server.domain.visibility import ALL_TOWNS, Scope
from server.errors import is_write_conflict
from server.extensions import db
from server.models import Case, Change, FeedEntry, MutationReceipt, User
from server.storage.database import begin_snapshot_read
from server.sync.context import RefData, caller_for
from server.sync.cursor import Cursor
from server.sync.pull import pull
from server.sync.push import push
from server.sync.unit_of_work import feed_write_unit
from tests.factories import DeviceClient, case_create, case_event, case_update

pytestmark = pytest.mark.parametrize("backend", ["postgresql"])  # SQLite has one writer
WAIT_S = 30
READER = Scope(ALL_TOWNS, "reader")


class OpenPush:
    """A device's push applied in a transaction that stays open until `commit()`."""

    def __init__(self, app, device: DeviceClient, *mutations: dict):
        self.app, self.device, self.mutations = app, device, list(mutations)
        self.began = threading.Event()  # the transaction has its snapshot
        self.written = threading.Event()  # the push has written its rows
        self.go = threading.Event()
        self.results: list[dict] | None = None
        self.txid = 0
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self.run)
        self.thread.start()

    def run(self) -> None:
        try:
            with self.app.app_context(), feed_write_unit(db.session) as unit:
                self.began.set()
                ref = RefData.load(db.session)
                user = db.session.get(User, self.device.user["id"])
                caller = caller_for(user, self.device.device_id, ref)
                self.results = push(db.session, caller, ref, unit.writer, self.mutations, None)
                self.txid = db.session.scalar(text("SELECT pg_current_xact_id()::text::bigint"))
                self.written.set()
                assert self.go.wait(WAIT_S)
        except BaseException as error:  # looked at by the test
            self.error = error
        finally:
            self.began.set()
            self.written.set()

    def commit(self) -> None:
        self.go.set()
        self.thread.join(WAIT_S)
        assert not self.thread.is_alive()


def reader_pull(app, cursor: str | None) -> tuple[set[str], str]:
    """Pull every page as a reader who sees all towns: (record ids served, the cursor)."""
    served: set[str] = set()
    with app.app_context():
        for _ in range(100):
            begin_snapshot_read(db.session)
            page = pull(db.session, READER, cursor, 1000)
            db.session.rollback()
            served |= {c.split('"record_id":"')[1][:36] for c in page.changes_json}
            cursor = page.cursor
            if not page.has_more:
                return served, cursor
    raise AssertionError("the feed did not end")


def feed_txid(app, record_id: str) -> int:
    with app.app_context():
        return db.session.scalar(select(FeedEntry.txid).where(FeedEntry.record_id == record_id))


def position(cursor: str) -> tuple[int, int]:
    return Cursor.decode(cursor).position


def test_two_towns_push_at_the_same_moment_and_no_pull_skips_either(app, login):
    dayan, xidian = login("dayan_worker"), login("xidian_worker")
    _, cursor = reader_pull(app, None)
    a, b = case_create("dayan"), case_create("xidian")
    first, second = OpenPush(app, dayan, a), OpenPush(app, xidian, b)
    assert first.written.wait(WAIT_S) and second.written.wait(WAIT_S)
    assert first.error is None and second.error is None
    # Both transactions hold feed rows at once: neither has to wait for the other.
    served, cursor = reader_pull(app, cursor)
    assert served == set()

    first.commit()
    served_between, cursor = reader_pull(app, cursor)
    # Only a transaction below every one still running may be served.
    older_first = first.txid < second.txid
    assert served_between == ({a["record_id"]} if older_first else set())
    assert position(cursor) <= (second.txid, 0)

    second.commit()
    served_after, _ = reader_pull(app, cursor)
    assert served_between | served_after == {a["record_id"], b["record_id"]}
    assert first.results and first.results[0]["status"] == "applied"
    assert second.results and second.results[0]["status"] == "applied"


def test_a_pull_while_an_older_transaction_is_open_does_not_pass_it(app, login):
    dayan, xidian = login("dayan_worker"), login("xidian_worker")
    _, cursor = reader_pull(app, None)
    late, early = case_create("dayan"), case_create("xidian")
    older = OpenPush(app, dayan, late)  # numbered first, commits last
    assert older.written.wait(WAIT_S) and older.error is None
    xidian.push_ok(early)  # a younger transaction commits meanwhile
    assert feed_txid(app, early["record_id"]) > older.txid

    served, cursor = reader_pull(app, cursor)
    # The younger change waits behind the open one: serving it would move the cursor past
    # the older transaction, whose change would then never be served.
    assert served == set()

    older.commit()
    assert older.error is None
    served, _ = reader_pull(app, cursor)
    assert served == {late["record_id"], early["record_id"]}


def blocked_behind(app, open_push: OpenPush, device: DeviceClient, *mutations: dict) -> OpenPush:
    """A second push that begins while `open_push` is open and touches what it wrote."""
    second = OpenPush(app, device, *mutations)
    assert second.began.wait(WAIT_S)
    second.go.set()  # it commits as soon as its push is done
    return second


def finish(second: OpenPush, first: OpenPush) -> None:
    first.commit()
    second.thread.join(WAIT_S)
    assert not second.thread.is_alive() and first.error is None


def assert_lost_to_the_other(error: BaseException | None) -> None:
    """The push route runs such a push again (server.accounts.device_auth.run_writer), and
    past its attempts answers 503 (server.web.errors): the device sends it again."""
    assert error is not None
    assert is_write_conflict(error), error


def test_two_devices_updating_one_case_at_once_lose_no_update(app, login, rows):
    worker, supervisor = login("dayan_worker"), login("dayan_supervisor")
    create = case_create()
    worker.push_ok(create)
    case_id = create["record_id"]
    first = OpenPush(app, worker, case_update(case_id, 1, title="甲改标题"))
    assert first.written.wait(WAIT_S) and first.error is None
    update = case_update(case_id, 1, severity="high")
    second = blocked_behind(app, first, supervisor, update)
    finish(second, first)
    # Both read version 1: the second cannot commit on top of the first without merging.
    assert_lost_to_the_other(second.error)
    [merged] = supervisor.push_ok(update)  # run again
    assert merged["status"] == "merged" and merged["version"] == 3
    [case] = rows(Case, id=case_id)
    assert (case.title, case.severity, case.version) == ("甲改标题", "high", 3)
    assert len(rows(Change, record_id=case_id)) == 3


def test_one_mutation_pushed_twice_at_once_is_applied_once(app, login, rows):
    worker = login("dayan_worker")
    create = case_create()
    first = OpenPush(app, worker, create)
    assert first.written.wait(WAIT_S) and first.error is None
    second = blocked_behind(app, first, worker, create)
    finish(second, first)
    assert_lost_to_the_other(second.error)
    [replayed] = worker.push_ok(create)  # run again
    assert replayed["replayed"] is True and replayed["status"] == "applied"
    assert len(rows(Case, id=create["record_id"])) == 1
    assert len(rows(Change, record_id=create["record_id"])) == 1
    assert len(rows(MutationReceipt, mutation_id=create["mutation_id"])) == 1


def test_two_cases_of_one_town_created_at_once_get_the_next_numbers(app, login, rows):
    """Each reads the town's last number in its own snapshot: the second to commit sees its
    number taken, answers 503, and its resend takes the next one."""
    worker, supervisor = login("dayan_worker"), login("dayan_supervisor")
    a, b = case_create(), case_create()
    first = OpenPush(app, worker, a)
    assert first.written.wait(WAIT_S) and first.error is None
    second = blocked_behind(app, first, supervisor, b)
    finish(second, first)
    assert_lost_to_the_other(second.error)
    [applied] = supervisor.push_ok(b)  # run again
    assert applied["status"] == "applied"
    [case_a] = rows(Case, id=a["record_id"])
    [case_b] = rows(Case, id=b["record_id"])
    assert int(case_b.number[-5:]) == int(case_a.number[-5:]) + 1


def test_the_push_route_runs_a_push_that_lost_again_and_it_merges(app, login, rows):
    worker, supervisor = login("dayan_worker"), login("dayan_supervisor")
    create = case_create()
    worker.push_ok(create)
    case_id = create["record_id"]
    first = OpenPush(app, worker, case_update(case_id, 1, title="甲改标题"))
    assert first.written.wait(WAIT_S) and first.error is None
    responses: list[Any] = []
    update = case_update(case_id, 1, severity="high")
    second = threading.Thread(target=lambda: responses.append(supervisor.push(update)))
    second.start()
    time.sleep(0.3)  # the second waits for the first one's rows
    first.commit()
    second.join(WAIT_S)
    [response] = responses
    assert response.status_code == 200
    [merged] = response.get_json()["results"]
    assert merged["status"] == "merged" and merged["version"] == 3
    [case] = rows(Case, id=case_id)
    assert (case.title, case.severity, case.version) == ("甲改标题", "high", 3)


def test_a_timeline_entry_added_while_its_case_leaves_a_town_leaves_with_it(app, login, rows):
    """The entry takes its case's towns as its snapshot shows them; the move re-masks the
    entries its snapshot shows. Neither sees the other, so they must not both commit."""
    worker, supervisor = login("dayan_worker"), login("dayan_supervisor")
    create = case_create(involved_towns=["shenzhen"])
    worker.push_ok(create)
    case_id = create["record_id"]
    note = case_event(case_id)
    first = OpenPush(app, worker, note)
    assert first.written.wait(WAIT_S) and first.error is None
    responses: list[Any] = []
    move = case_update(case_id, 1, involved_towns=[])
    second = threading.Thread(target=lambda: responses.append(supervisor.push(move)))
    second.start()
    time.sleep(0.3)  # the move waits for the entry's transaction
    first.commit()
    second.join(WAIT_S)
    [response] = responses
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["results"][0]["status"] == "applied"
    [case_row] = rows(FeedEntry, entity="case", record_id=case_id)
    [event_row] = rows(FeedEntry, entity="case_event", record_id=note["record_id"])
    assert event_row.town_mask == case_row.town_mask
    shenzhen = login("shenzhen_worker")
    shenzhen.sync()
    assert shenzhen.of("case") == {} and shenzhen.of("case_event") == {}
