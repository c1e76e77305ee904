"""The PWA's copy of the server's ops and workflow is generated, and stays what the server says."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.contract import CONTRACT_JS, REGENERATE, main, pwa_contract, render
from server.domain import workflow


def test_the_committed_contract_js_is_what_the_server_generates() -> None:
    assert CONTRACT_JS.read_text(encoding="utf-8") == render(), (
        f"webapp/js/contract.js is stale: regenerate it with `{REGENERATE}` and commit it"
    )


def test_every_pushable_op_is_in_the_contract_with_its_entity() -> None:
    ops = pwa_contract()["ops"]
    # What a phone may push: never the console's own ops (handoffs); a conflict's author
    # settles it from the phone too (conflict.resolve).
    assert sorted(ops) == [
        "case.assign",
        "case.create",
        "case.transition",
        "case.update",
        "case_event.create",
        "checkin.create",
        "conflict.resolve",
    ]
    assert ops["case.create"] == {"entity": "case", "creates": True}
    assert ops["case.transition"] == {"entity": "case", "creates": False}
    assert ops["case_event.create"] == {"entity": "case_event", "creates": True}
    assert ops["conflict.resolve"] == {"entity": "conflict", "creates": False}


def test_the_contract_offers_the_moves_the_server_allows() -> None:
    moves = pwa_contract()["workflow"]["moves"]
    for role in ("worker", "supervisor", "admin"):
        for status in workflow.STATUSES:
            offered = [m["to"] for m in moves if m["from"] == status and role in m["roles"]]
            assert offered == workflow.moves_for(role, status), (role, status)


def test_the_output_does_not_depend_on_dict_order() -> None:
    contract = pwa_contract()
    shuffled = {key: contract[key] for key in reversed(list(contract))}
    assert render(shuffled) == render(contract)


def test_check_fails_on_a_stale_file_and_write_fixes_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "contract.js"
    target.write_text(render().replace('"worker"', '"guest"'), encoding="utf-8")
    assert main(["--check"], path=target) == 1
    assert REGENERATE in capsys.readouterr().err
    assert main(["--write"], path=target) == 0
    assert main(["--check"], path=target) == 0
