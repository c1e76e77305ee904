"""A phone's batch of edits reads what it needs once, not once per intent, and its later
intents still see what its earlier ones did (server.sync.ops_cases.prefetch_cases)."""

from __future__ import annotations

import re

from server.models import MergeConflict
from tests.factories import case_create, case_event, case_update, transition

READS_CASES = re.compile(r"^\s*SELECT\b.*?\bFROM\s+(cases|changes|conflicts)\b", re.S | re.I)


def test_editing_fifty_cases_in_one_push_reads_each_table_once(worker, statements):
    creates = [case_create() for _ in range(50)]
    worker.push_ok(*creates)
    edits = [case_update(c["record_id"], 1, description="补充：双方同意再议") for c in creates]
    results: list[dict] = []
    ran = statements(lambda: results.extend(worker.push_ok(*edits)))
    assert [r["status"] for r in results] == ["applied"] * 50
    assert [r["version"] for r in results] == [2] * 50
    reads = [s for s in ran if READS_CASES.match(s)]
    assert len(reads) <= 3, reads  # the cases, their history, their open conflicts


def test_later_intents_of_a_batch_see_what_earlier_ones_did(login, rows):
    """One offline session of a worker, sent together after the supervisor retitled and
    accepted the case: an edit that loses, mediation begins, a timeline note, the edit
    again on the new version, and a second edit of another field."""
    supervisor, worker = login("dayan_supervisor"), login("dayan_worker")
    create = case_create()
    worker.push_ok(create)
    case_id = create["record_id"]
    supervisor.push_ok(
        case_update(case_id, 1, title="主管改的标题"), transition(case_id, "registered", "accepted")
    )
    results = worker.push_ok(
        case_update(case_id, 1, title="网格员的标题"),
        transition(case_id, "accepted", "mediating"),
        case_event(case_id, kind="note", body="已电话联系双方"),
        case_update(case_id, 4, title="网格员的标题"),
        case_update(case_id, 4, description="第二次补充"),
    )
    statuses = [r["status"] for r in results]
    assert statuses == ["merged", "applied", "applied", "applied", "merged"], results
    assert results[0]["conflicts"][0]["kept"] == "主管改的标题"
    assert [results[1]["version"], results[3]["version"], results[4]["version"]] == [4, 5, 6]
    [conflict] = rows(MergeConflict, record_id=case_id)
    # The losing value was applied by a later intent of the same batch: settled at once.
    assert (conflict.status, conflict.resolution) == ("resolved", "resubmitted")
    worker.sync()
    case = worker.of("case")[case_id]
    assert case["version"] == 6
    assert case["data"]["title"] == "网格员的标题"
    assert case["data"]["description"] == "第二次补充"
    assert case["data"]["status"] == "mediating"
