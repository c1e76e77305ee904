"""Push, rule by rule, as a phone experiences it (SYNC-PROTOCOL.md, push rules 1-8)."""

from __future__ import annotations

from server.models import (
    Case,
    CaseEvent,
    Change,
    Checkin,
    Device,
    FeedEntry,
    MergeConflict,
    MutationReceipt,
    RejectedIntent,
)
from tests.factories import case_create, case_event, case_update, checkin, new_id, transition


# Rule 1: one result per mutation, in order; a rejection never blocks the rest.
def test_push_returns_one_result_per_mutation_in_request_order(worker):
    first, bad, last = case_create(), case_create(category="no_such"), case_create()
    results = worker.push_ok(first, bad, last)
    assert [r["mutation_id"] for r in results] == [m["mutation_id"] for m in (first, bad, last)]
    assert [r["status"] for r in results] == ["applied", "rejected", "applied"]
    assert results[1]["error"]["details"] == {"category": ["未知代码：no_such。"]}


def test_push_rejects_changes_to_a_record_whose_create_was_rejected(worker):
    bad = case_create(primary_town="xidian")  # a Dayan worker cannot open a Xidian case
    results = worker.push_ok(bad, case_update(bad["record_id"], 1, title="改"))
    assert results[0]["error"]["code"] == "forbidden"
    assert results[1]["error"]["code"] == "depends_on_rejected"
    # ...and in a later request too, for an update and for a timeline entry.
    later = worker.push_ok(
        transition(bad["record_id"], "registered", "accepted"), case_event(bad["record_id"])
    )
    assert [r["error"]["code"] for r in later] == ["depends_on_rejected", "depends_on_rejected"]


def test_push_rejects_a_change_to_a_record_that_never_existed(worker):
    [result] = worker.push_ok(case_update(new_id(), 1, title="无"))
    assert result["status"] == "rejected" and result["error"]["code"] == "not_found"


# Rule 2: exactly once per (device, mutation_id).
def test_push_replays_a_duplicate_mutation_without_change(worker, rows):
    create = case_create()
    [first] = worker.push_ok(create)
    feed_before = len(rows(FeedEntry))
    again, same_batch = worker.push_ok(create, create)
    assert again == {**first, "replayed": True}
    assert same_batch == {**first, "replayed": True}
    assert len(rows(Case, id=create["record_id"])) == 1
    assert len(rows(FeedEntry)) == feed_before
    assert len(rows(MutationReceipt, mutation_id=create["mutation_id"])) == 1


def test_push_duplicate_within_one_batch_is_applied_once(worker, rows):
    event_case = case_create()
    worker.push_ok(event_case)
    note = case_event(event_case["record_id"], kind="note")
    first, second = worker.push_ok(note, note)
    assert first["status"] == "applied" and "replayed" not in first
    assert second["replayed"] is True
    assert len(rows(CaseEvent, case_id=event_case["record_id"])) == 1


def test_push_replays_a_stored_rejection_with_its_reason(worker, rows):
    bad = case_create(title="")
    [first] = worker.push_ok(bad)
    [again] = worker.push_ok(bad)
    assert again["error"]["code"] == first["error"]["code"] == "validation_failed"
    assert again["replayed"] is True
    assert len(rows(RejectedIntent, mutation_id=bad["mutation_id"])) == 1


def test_the_same_mutation_id_from_another_device_is_a_different_intent(login, rows):
    one, other = login("dayan_worker"), login("dayan_worker")
    create = case_create()
    one.push_ok(create)
    [result] = other.push_ok(create)
    assert result["error"]["code"] == "record_exists"
    assert len(rows(Case, id=create["record_id"])) == 1


def test_reusing_the_id_of_a_record_the_caller_cannot_see_is_not_found(login, sites, rows):
    """A create never tells whether a record the caller cannot see exists: its id taken by
    such a record gets not_found, as an id never used would in an edit; record_exists only
    for records the caller can see (or an earlier intent of the same push)."""
    dayan = login("dayan_worker")
    hidden_case = case_create(title="大堰内部纠纷")
    note = case_event(hidden_case["record_id"], kind="note")
    site = next(s for s in sites.values() if s["town"] == "dayan")
    visit = checkin(site["id"], site["lat"], site["lon"])
    dayan.push_ok(hidden_case, note, visit)

    shenzhen = login("shenzhen_worker")
    own_case = case_create("shenzhen")
    shenzhen.push_ok(own_case)
    shenzhen_site = next(s for s in sites.values() if s["town"] == "shenzhen")
    reuses = [
        case_create("shenzhen", record_id=hidden_case["record_id"]),
        {**case_event(own_case["record_id"], kind="note"), "record_id": note["record_id"]},
        {
            **checkin(shenzhen_site["id"], shenzhen_site["lat"], shenzhen_site["lon"]),
            "record_id": visit["record_id"],
        },
    ]
    results = shenzhen.push_ok(*reuses)
    assert [r["error"]["code"] for r in results] == ["not_found"] * 3
    assert len(rows(Case, id=hidden_case["record_id"])) == 1

    seen = shenzhen.push_ok(case_create("shenzhen", record_id=own_case["record_id"]))
    twice = case_create("shenzhen")
    first, second = shenzhen.push_ok(twice, {**twice, "mutation_id": new_id()})
    assert seen[0]["error"]["code"] == "record_exists"
    assert first["status"] == "applied" and second["error"]["code"] == "record_exists"
    dayan_again = dayan.push_ok(case_create(record_id=hidden_case["record_id"]))
    assert dayan_again[0]["error"]["code"] == "record_exists"


# Rule 3: a rejection writes nothing to the record, and lands in the rejection inbox.
def test_rejected_intent_writes_nothing_and_is_kept_in_the_inbox(worker, rows):
    create = case_create()
    worker.push_ok(create)
    stale = transition(create["record_id"], "accepted", "mediating")
    [result] = worker.push_ok(stale)
    assert result["status"] == "rejected"
    [case] = rows(Case, id=create["record_id"])
    assert case.status == "registered" and case.version == 1
    [kept] = rows(RejectedIntent, mutation_id=stale["mutation_id"])
    assert kept.error_code == "stale_transition" and kept.data == stale["data"]
    assert kept.device_id == worker.device_id


# Rule 4: field merge.
def test_concurrent_edits_of_different_fields_both_survive(login):
    a, b = login("dayan_worker"), login("dayan_supervisor")
    create = case_create()
    a.push_ok(create)
    a.push_ok(case_update(create["record_id"], 1, title="甲改标题"))
    [merged] = b.push_ok(case_update(create["record_id"], 1, severity="high"))
    assert merged["status"] == "merged" and merged["conflicts"] == []
    assert merged["version"] == 3
    a.sync()
    data = a.of("case")[create["record_id"]]["data"]
    assert (data["title"], data["severity"]) == ("甲改标题", "high")


def test_concurrent_edits_of_one_field_keep_the_server_value_and_record_a_conflict(login, rows):
    a, b = login("dayan_supervisor"), login("dayan_worker")
    create = case_create()
    a.push_ok(create)
    a.push_ok(case_update(create["record_id"], 1, title="甲的标题"))
    losing = case_update(create["record_id"], 1, title="乙的标题")
    [merged] = b.push_ok(losing)
    assert merged["status"] == "merged"
    [conflict] = merged["conflicts"]
    assert (conflict["field"], conflict["kept"], conflict["incoming"]) == (
        "title",
        "甲的标题",
        "乙的标题",
    )
    [record] = rows(MergeConflict, id=conflict["conflict_id"])
    assert record.device_id == b.device_id and record.status == "open"
    # The author sees the conflict in their pull; the other person does not.
    b.sync()
    assert b.of("conflict")[conflict["conflict_id"]]["data"]["incoming"] == "乙的标题"
    a.sync()
    assert conflict["conflict_id"] not in a.of("conflict")
    assert a.of("case")[create["record_id"]]["data"]["title"] == "甲的标题"


def test_a_devices_own_offline_edits_never_conflict_with_each_other(worker):
    create = case_create()
    worker.push_ok(create)
    first = case_update(create["record_id"], 1, title="第一次")
    second = case_update(create["record_id"], 1, title="第二次")
    results = worker.push_ok(first, second)
    assert results[0]["status"] == "applied"
    assert results[1]["status"] == "merged" and results[1]["conflicts"] == []
    worker.sync()
    assert worker.of("case")[create["record_id"]]["data"]["title"] == "第二次"


def test_a_console_or_server_change_counts_as_concurrent(login):
    worker, supervisor = login("dayan_worker"), login("dayan_supervisor")
    create = case_create()
    worker.push_ok(create)
    supervisor.push_ok(case_update(create["record_id"], 1, description="主管补充"))
    [result] = worker.push_ok(case_update(create["record_id"], 1, description="网格员补充"))
    assert result["conflicts"][0]["kept"] == "主管补充"


def test_update_with_a_base_version_from_the_future_is_rejected(worker):
    create = case_create()
    worker.push_ok(create)
    [result] = worker.push_ok(case_update(create["record_id"], 9, title="未来"))
    assert result["error"]["code"] == "validation_failed"
    assert "base_version" in result["error"]["details"]


def test_every_change_is_audited_with_who_which_device_and_which_mutation(worker, rows):
    create = case_create()
    edit = case_update(create["record_id"], 1, severity="high")
    worker.push_ok(create, edit)
    audit = rows(Change, entity="case", record_id=create["record_id"])
    assert [
        (c.version, c.mutation_id, c.device_id) for c in sorted(audit, key=lambda c: c.seq)
    ] == [(1, create["mutation_id"], worker.device_id), (2, edit["mutation_id"], worker.device_id)]
    assert audit[-1].fields == {"severity": "high", "due_at": audit[-1].fields["due_at"]}
    assert all(c.user_id == worker.user["id"] for c in audit)


# Rule 5: workflow moves against the current state.
def test_two_devices_making_the_same_move_both_succeed(login):
    a, b = login("dayan_supervisor"), login("dayan_supervisor")
    create = case_create()
    a.push_ok(create)
    [first] = a.push_ok(transition(create["record_id"], "registered", "accepted"))
    [second] = b.push_ok(transition(create["record_id"], "registered", "accepted"))
    assert first["status"] == second["status"] == "applied"
    assert first["version"] == second["version"] == 2


def test_a_stale_move_is_rejected(supervisor):
    create = case_create()
    supervisor.push_ok(create, transition(create["record_id"], "registered", "accepted"))
    [result] = supervisor.push_ok(transition(create["record_id"], "registered", "escalated"))
    assert result["error"]["code"] == "stale_transition"


def test_a_move_the_workflow_lacks_is_rejected(supervisor):
    create = case_create()
    [_, result] = supervisor.push_ok(
        create, transition(create["record_id"], "registered", "closed")
    )
    assert result["error"]["code"] == "invalid_transition"


def test_a_worker_cannot_close_a_case(login):
    worker, supervisor = login("dayan_worker"), login("dayan_supervisor")
    create = case_create()
    worker.push_ok(create)
    supervisor.push_ok(
        transition(create["record_id"], "registered", "accepted"),
        transition(create["record_id"], "accepted", "mediating"),
        transition(create["record_id"], "mediating", "resolved"),
    )
    [result] = worker.push_ok(transition(create["record_id"], "resolved", "closed"))
    assert result["error"]["code"] == "forbidden"


def test_a_move_adds_a_status_change_to_the_timeline(supervisor):
    create = case_create()
    supervisor.push_ok(create, transition(create["record_id"], "registered", "accepted", "已受理"))
    supervisor.sync()
    [event] = [
        c["data"]
        for c in supervisor.of("case_event").values()
        if c["data"]["case_id"] == create["record_id"]
    ]
    assert (event["kind"], event["from"], event["to"], event["body"]) == (
        "status_change",
        "registered",
        "accepted",
        "已受理",
    )
    assert event["by"] == supervisor.user["id"]


# Rule 6: check-ins are verified by a fresh fix and distance, never dropped
# (more in tests/sync/test_checkins.py).
def test_checkin_at_the_site_is_verified(worker, sites, rows):
    site = sites["dayan_alliance_hall"]
    [result] = worker.push_ok(checkin(site["id"], site["lat"] + 0.0005, site["lon"], 10))
    assert result["status"] == "applied"
    [kept] = rows(Checkin, id=result["record_id"])
    assert kept.verified and 50 < kept.distance_m < 60 and kept.town == "dayan"


def test_checkin_far_from_the_site_is_kept_and_flagged(worker, sites, rows):
    site = sites["dayan_alliance_hall"]
    [result] = worker.push_ok(checkin(site["id"], site["lat"] + 0.05, site["lon"], 10))
    assert result["status"] == "applied"
    [kept] = rows(Checkin, id=result["record_id"])
    assert not kept.verified and kept.distance_m > 5000 and kept.unverified_reason == "too_far"


# Rule 8: the device object updates the server's view of the device.
def test_push_records_the_devices_pending_count_and_version(worker, rows):
    response = worker.push(case_create(), device={"pending": 7, "app_version": "1.4.0"})
    assert response.status_code == 200
    [device] = rows(Device, id=worker.device_id)
    assert device.pending_count == 7 and device.app_version == "1.4.0"
    assert device.last_push_at is not None


def test_integration_accounts_cannot_push(login):
    job = login("integration")
    response = job.push(case_create())
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "read_only"


def test_resubmitting_the_losing_value_settles_the_authors_conflict(login, rows):
    a, b = login("dayan_supervisor"), login("dayan_worker")
    create = case_create()
    a.push_ok(create, case_update(create["record_id"], 1, title="甲的标题"))
    [merged] = b.push_ok(case_update(create["record_id"], 1, title="乙的标题"))
    conflict_id = merged["conflicts"][0]["conflict_id"]
    b.sync()
    version = b.of("case")[create["record_id"]]["version"]
    [again] = b.push_ok(case_update(create["record_id"], version, title="乙的标题"))
    assert again["status"] == "applied"
    [record] = rows(MergeConflict, id=conflict_id)
    assert record.status == "resolved" and record.resolved_by == b.user["id"]
    b.sync()
    assert b.of("conflict")[conflict_id]["data"]["status"] == "resolved"
    assert b.of("case")[create["record_id"]]["data"]["title"] == "乙的标题"


def test_a_constraint_the_rules_missed_rejects_only_its_own_intent(worker, clashing_create, rows):
    """The batch runs without a savepoint per intent; when the database refuses one after it
    wrote part of itself, the batch is redone intent by intent and only that one is refused."""
    clash = clashing_create()
    before, after = case_create(), case_create()
    results = worker.push_ok(before, clash, after)
    assert [r["status"] for r in results] == ["applied", "rejected", "applied"]
    assert rows(Case, id=clash["record_id"]) == []
    assert {c.id for c in rows(Case)} == {before["record_id"], after["record_id"]}
    replay = worker.push_ok(before, clash, after)
    assert [r["status"] for r in replay] == ["applied", "rejected", "applied"]
    assert all(r["replayed"] for r in replay)
