"""A stored result is replayed only to the person whose intent it was (issue #16).

Before this version a sign-in could re-bind a device id to another person: the device row's
user changed, its receipts stayed. Whoever holds such a phone now must not get the earlier
owner's stored results by sending their mutation ids again, and the earlier owner's own
replays still replay exactly once.
"""

from __future__ import annotations

import json

from server.models import Case, Change, Device, MutationReceipt, RejectedIntent
from tests.factories import DeviceClient, case_create, case_update


def rebind(execute, phone_id: str, holder: DeviceClient, token_hash: str) -> None:
    """What a sign-in did before this version: the device row's user and token became the
    signing-in person's (here: the token `holder` signed in with on a device of its own)."""
    execute("UPDATE devices SET token_hash = NULL WHERE token_hash = :h", h=token_hash)
    execute(
        "UPDATE devices SET user_id = :u, token_hash = :h WHERE id = :d",
        u=holder.user["id"],
        h=token_hash,
        d=phone_id,
    )
    holder.device_id = phone_id


def test_a_phone_that_changed_hands_before_this_version_replays_to_its_owner_only(
    client, login, rows, execute
):
    # The Dayan worker records a case and an edit whose merge keeps a colleague's title:
    # Dayan-only text sits in that stored result.
    dayan = DeviceClient(client, "dayan_worker")
    assert dayan.login().status_code == 200
    phone_id = dayan.device_id
    [dayan_hash] = [d.token_hash for d in rows(Device, id=phone_id)]
    create = case_create(title="大堰村内部纠纷")
    dayan.push_ok(create)
    login("dayan_supervisor").push_ok(
        case_update(create["record_id"], 1, title="大堰仅本镇可见的标题")
    )
    edit = case_update(create["record_id"], 1, title="网格员的标题")
    [merged] = dayan.push_ok(edit)
    assert merged["status"] == "merged"
    assert merged["conflicts"][0]["kept"] == "大堰仅本镇可见的标题"

    # The phone goes to a Shenzhen worker, the way sign-in did it before this version.
    shenzhen = DeviceClient(client, "shenzhen_worker")
    assert shenzhen.login().status_code == 200
    [shenzhen_hash] = [d.token_hash for d in rows(Device, id=shenzhen.device_id)]
    rebind(execute, phone_id, shenzhen, shenzhen_hash)

    # Sending the Dayan worker's mutation ids gets none of their results, and runs nothing.
    replay_edit, replay_create = shenzhen.push_ok(edit, create)
    for replay in (replay_edit, replay_create):
        assert "replayed" not in replay
        assert replay["status"] == "rejected"
        assert replay["error"]["code"] == "mutation_id_reused"
        assert "另一位用户" in replay["error"]["message"]
        assert "大堰" not in json.dumps(replay, ensure_ascii=False)
    [case] = rows(Case, id=create["record_id"])
    assert case.title == "大堰仅本镇可见的标题" and case.version == 2
    [receipt] = rows(MutationReceipt, device_id=phone_id, mutation_id=edit["mutation_id"])
    assert receipt.user_id == dayan.user["id"] and json.loads(receipt.result) == merged
    refused = rows(RejectedIntent, mutation_id=edit["mutation_id"])
    assert [r.user_id for r in refused] == [shenzhen.user["id"]]

    # Their own work on the phone is theirs, and replays to them.
    own = case_create(town="shenzhen")
    [applied] = shenzhen.push_ok(own)
    assert applied["status"] == "applied"
    assert shenzhen.push_ok(own) == [{**applied, "replayed": True}]
    [own_receipt] = rows(MutationReceipt, device_id=phone_id, mutation_id=own["mutation_id"])
    assert own_receipt.user_id == shenzhen.user["id"]

    # The phone comes back to the Dayan worker: their edit replays, once, as it was stored;
    # the Shenzhen worker's id is refused to them in turn.
    rebind(execute, phone_id, dayan, dayan_hash)
    changes_before = len(rows(Change))
    assert dayan.push_ok(edit, edit) == [{**merged, "replayed": True}] * 2
    assert len(rows(Change)) == changes_before
    assert len(rows(Change, mutation_id=edit["mutation_id"])) == 1
    [theirs] = dayan.push_ok(own)
    assert theirs["error"]["code"] == "mutation_id_reused"
    assert "replayed" not in theirs


def test_a_receipt_from_before_migration_0008_replays_to_the_devices_one_user(
    worker, rows, execute
):
    """Receipts nothing attributes keep a null user; they are kept only on devices that have
    had one user, so null means the caller."""
    create = case_create()
    [first] = worker.push_ok(create)
    execute("UPDATE mutation_receipts SET user_id = NULL")
    assert worker.push_ok(create) == [{**first, "replayed": True}]
    assert len(rows(Case, id=create["record_id"])) == 1
