"""compact bounds storage; a phone behind the horizon resyncs and keeps its outbox."""

from __future__ import annotations

from server.models import FeedRevocation, MutationReceipt
from tests.factories import case_create, case_update


def test_compact_prunes_old_history_and_a_stale_phone_recovers_with_its_outbox(
    run, login, execute, rows
):
    dayan, shenzhen = login("dayan_supervisor"), login("shenzhen_worker")
    shared = case_create(involved_towns=["shenzhen"])
    dayan.push_ok(shared)
    shenzhen.sync()
    dayan.push_ok(case_update(shared["record_id"], 1, involved_towns=[]))  # a tombstone
    assert rows(FeedRevocation)
    # Everything so far happened long ago.
    execute("UPDATE changes SET at = '2025-01-01 00:00:00+00:00'")
    execute("UPDATE mutation_receipts SET created_at = '2025-01-01 00:00:00+00:00'")
    outbox = [case_create("shenzhen", title="离线时登记")]  # typed offline, not yet sent

    assert "receipts=0" not in run("compact", dry_run=True).line
    assert rows(MutationReceipt)  # a dry run changes nothing
    outcome = run("compact")
    assert outcome.exit_code == 0 and "revocations=1" in outcome.line
    assert rows(FeedRevocation) == [] and rows(MutationReceipt) == []

    response = shenzhen.pull(shenzhen.cursor)
    assert response.status_code == 410
    shenzhen.cursor, shenzhen.records = None, {}
    shenzhen.sync()
    assert shared["record_id"] not in shenzhen.of("case")
    [result] = shenzhen.push_ok(*outbox)
    assert result["status"] == "applied"
    shenzhen.sync()
    assert outbox[0]["record_id"] in shenzhen.of("case")
