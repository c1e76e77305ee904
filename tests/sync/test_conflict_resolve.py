"""A worker whose edit lost a field merge settles it from the phone: keep the value in force,
resubmit theirs, or keep both texts. The server settles it too, so the console's inbox says
the same as the phone, exactly once, and only the author (or the towns' staff) may do it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.factories import CLIENT_TIME, DeviceClient, case_create, case_update, new_id
from tests.web.console.conftest import ConsoleUser

LABEL = "——（我的版本，大堰镇网格员 11月26日 09:12）"


def resolve(conflict_id: str, choice: str, base_version: int | None = None, **data: Any) -> dict:
    mutation: dict[str, Any] = {
        "mutation_id": new_id(),
        "op": "conflict.resolve",
        "record_id": conflict_id,
        "client_time": CLIENT_TIME,
        "data": {"choice": choice, **data},
    }
    if base_version is not None:
        mutation["base_version"] = base_version
    return mutation


def lost_edit(
    login, clock, field: str, kept: Any, incoming: Any, **case: Any
) -> tuple[str, str, DeviceClient, DeviceClient]:
    """The town supervisor edits a field; ten minutes later the worker's offline edit of the
    same field arrives and loses. Returns (case id, conflict id, worker, supervisor)."""
    supervisor, worker = login("dayan_supervisor"), login("dayan_worker")
    create = case_create(**case)
    supervisor.push_ok(create)
    supervisor.push_ok(case_update(create["record_id"], 1, **{field: kept}))
    clock.advance(minutes=10)
    [merged] = worker.push_ok(case_update(create["record_id"], 1, **{field: incoming}))
    assert merged["status"] == "merged", merged
    [conflict] = merged["conflicts"]
    return create["record_id"], conflict["conflict_id"], worker, supervisor


def inbox_ids(app, username: str, status: str = "open") -> set[str]:
    desk = ConsoleUser(app, username)
    assert desk.sign_in().status_code == 302
    page = desk.page(f"/console/conflicts?status={status}")
    return {item["id"].removeprefix("conflict-") for item in page.select("[id^=conflict-]")}


def test_the_pulled_conflict_says_who_made_the_kept_value_and_when(clock, login, app, rows):
    from server.models import User

    case_id, conflict_id, worker, _ = lost_edit(login, clock, "severity", "high", "low")
    worker.sync()
    data = worker.of("conflict")[conflict_id]["data"]
    [supervisor] = rows(User, username="dayan_supervisor")
    assert (data["field"], data["kept"], data["incoming"]) == ("severity", "high", "low")
    assert data["kept_by"] == supervisor.id
    # The supervisor's edit came ten minutes before the worker's.
    assert data["kept_at"] == (clock.at - timedelta(minutes=10)).isoformat()
    assert worker.of("user")[supervisor.id]["data"]["display_name"] == "大堰镇管理员"
    # The console says it too, beside the value kept.
    desk = ConsoleUser(app, "dayan_supervisor")
    assert desk.sign_in().status_code == 302
    item = desk.page("/console/conflicts").select_one(f"#conflict-{conflict_id}")
    assert item.select_one(".kept").text not in ("", "high")  # a word, not the code
    assert item.select_one(".kept-by").text.startswith("现值由 大堰镇管理员 于 ")


@pytest.mark.parametrize(
    ("choice", "resolution", "title"),
    [
        ("keep", "kept", "镇里改的标题"),
        ("mine", "resubmitted", "网格员改的标题"),
        ("both", "both", f"镇里改的标题 {LABEL} 网格员改的标题"),
    ],
)
def test_the_author_settles_a_title_and_the_console_inbox_no_longer_lists_it(
    clock, login, app, rows, choice, resolution, title
):
    from server.models import Case, MergeConflict

    case_id, conflict_id, worker, _ = lost_edit(
        login, clock, "title", "镇里改的标题", "网格员改的标题"
    )
    assert conflict_id in inbox_ids(app, "dayan_supervisor")
    extra = {"label": LABEL} if choice == "both" else {}
    [result] = worker.push_ok(resolve(conflict_id, choice, 2, **extra))
    assert result["status"] == "applied", result
    assert rows(Case, id=case_id)[0].title == title
    [settled] = rows(MergeConflict, id=conflict_id)
    assert (settled.status, settled.resolution) == ("resolved", resolution)
    assert conflict_id not in inbox_ids(app, "dayan_supervisor")
    assert conflict_id in inbox_ids(app, "dayan_supervisor", "resolved")
    # The worker's phones learn the settled state and the case's text.
    worker.sync()
    assert worker.of("conflict")[conflict_id]["data"]["status"] == "resolved"
    assert worker.of("case")[case_id]["data"]["title"] == title


def test_keeping_both_descriptions_appends_mine_below_whatever_is_there_now(clock, login, rows):
    from server.models import Case

    case_id, conflict_id, worker, supervisor = lost_edit(
        login, clock, "description", "下游村民称水渠被堵。", "上游村民称水渠是自家修的。"
    )
    # Before the worker's choice arrives, the town adds a sentence: it is not overwritten.
    supervisor.push_ok(case_update(case_id, 2, description="下游村民称水渠被堵。已约双方面谈。"))
    [result] = worker.push_ok(resolve(conflict_id, "both", 2, label=LABEL))
    assert result["status"] == "applied", result
    assert rows(Case, id=case_id)[0].description == (
        f"下游村民称水渠被堵。已约双方面谈。\n{LABEL}\n上游村民称水渠是自家修的。"
    )


def test_resubmitting_mine_over_a_newer_change_is_refused_and_nothing_is_lost(clock, login, rows):
    from server.models import Case, MergeConflict

    case_id, conflict_id, worker, supervisor = lost_edit(
        login, clock, "title", "镇里改的标题", "网格员改的标题"
    )
    supervisor.push_ok(case_update(case_id, 2, title="镇里又改的标题"))
    [result] = worker.push_ok(resolve(conflict_id, "mine", 2))
    assert result["error"]["code"] == "stale_record"
    assert rows(Case, id=case_id)[0].title == "镇里又改的标题"
    assert rows(MergeConflict, id=conflict_id)[0].status == "open"


def test_a_replayed_settlement_changes_nothing_the_second_time(clock, login, rows):
    from server.models import Case, Change, MergeConflict

    case_id, conflict_id, worker, _ = lost_edit(
        login, clock, "description", "现场已拍照。", "双方同意先停工。"
    )
    both = resolve(conflict_id, "both", 2, label=LABEL)
    [first] = worker.push_ok(both)
    changes = len(rows(Change))
    [again, other] = worker.push_ok(both, resolve(conflict_id, "keep"))
    assert again == {**first, "replayed": True}
    # A second, different "keep" from the author finds it settled and does nothing.
    assert other["status"] == "applied", other
    assert len(rows(Change)) == changes
    assert rows(Case, id=case_id)[0].description.count("双方同意先停工。") == 1
    assert rows(MergeConflict, id=conflict_id)[0].resolution == "both"


def test_another_worker_cannot_settle_it_but_the_towns_supervisors_can(clock, login, app, rows):
    from server.models import Case, MergeConflict

    case_id, conflict_id, _, supervisor = lost_edit(
        login, clock, "title", "镇里改的标题", "网格员改的标题", involved_towns=["shenzhen"]
    )
    # A co-handling town's worker sees the case, not the conflict; another town sees neither.
    [other] = login("shenzhen_worker").push_ok(resolve(conflict_id, "keep"))
    assert other["error"]["code"] == "forbidden"
    [stranger] = login("xidian_supervisor").push_ok(resolve(conflict_id, "keep"))
    assert stranger["error"]["code"] == "not_found"
    # The supervisor cannot call the worker's value "mine", but may take it (as at the console).
    [mine] = supervisor.push_ok(resolve(conflict_id, "mine"))
    assert mine["error"]["code"] == "forbidden"
    assert conflict_id in inbox_ids(app, "shenzhen_supervisor")
    [taken] = login("shenzhen_supervisor").push_ok(resolve(conflict_id, "incoming", 2))
    assert taken["status"] == "applied", taken
    assert rows(Case, id=case_id)[0].title == "网格员改的标题"
    assert rows(MergeConflict, id=conflict_id)[0].resolution == "incoming"
    # Settled by someone else, the author's late "keep" is no error; a late "mine" is.
    worker = login("dayan_worker")
    [keep, late] = worker.push_ok(resolve(conflict_id, "keep"), resolve(conflict_id, "mine"))
    assert keep["status"] == "applied"
    assert late["error"]["code"] == "already_settled"


@pytest.mark.parametrize(
    ("field", "data", "reason"),
    [
        ("severity", {"choice": "both", "label": LABEL}, "choice"),
        ("description", {"choice": "both"}, "label"),
        ("description", {"choice": "both", "label": "两\n行"}, "label"),
        ("description", {"choice": "whatever"}, "choice"),
        ("description", {"choice": "keep", "colour": "red"}, "colour"),
    ],
)
def test_a_malformed_settlement_is_refused_with_the_field(clock, login, rows, field, data, reason):
    from server.models import MergeConflict

    kept, incoming = ("high", "low") if field == "severity" else ("甲说法", "乙说法")
    _, conflict_id, worker, _ = lost_edit(login, clock, field, kept, incoming)
    mutation = {**resolve(conflict_id, "keep"), "data": data}
    [result] = worker.push_ok(mutation)
    assert result["error"]["code"] == "validation_failed"
    assert reason in result["error"]["details"]
    assert rows(MergeConflict, id=conflict_id)[0].status == "open"
