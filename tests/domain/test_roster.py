"""Which rows of a roster sheet are imported: the rules the console's preview shows."""

from __future__ import annotations

from server.domain.roster import BRANCH, NAME, TOWN, VILLAGE, check_rows, header_columns

TOWNS = {"大堰镇": "dayan", "大堰": "dayan", "dayan": "dayan", "深甽镇": "shenzhen"}


def problems(rows, *, fixed_town=None, header=(NAME, BRANCH, VILLAGE, TOWN), existing=frozenset()):
    checked = check_rows(
        rows, header_columns(list(header)), town_of=TOWNS, fixed_town=fixed_town, existing=existing
    )
    return {row.line: row.problems for row in checked}


def test_the_header_is_found_in_any_order_and_with_common_spellings():
    assert header_columns(["村 / 社区", "备注", "name", "支部"]) == {VILLAGE: 0, NAME: 2, BRANCH: 3}


def test_a_supervisors_rows_take_their_town_and_another_town_is_refused():
    rows = [["王建国", "", "", ""], ["李秀英", "", "", "深甽镇"], ["陈志强", "", "", "大堰"]]

    checked = check_rows(
        rows, header_columns([NAME, BRANCH, VILLAGE, TOWN]), town_of=TOWNS, fixed_town="dayan"
    )

    assert [(row.town, row.problems) for row in checked] == [
        ("dayan", []),
        ("dayan", ["other_town"]),
        ("dayan", []),
    ]


def test_each_bad_row_says_why_and_blank_rows_are_left_out():
    rows = [
        ["", "大堰村党支部", "", "大堰镇"],
        ["欧" * 51, "", "", "大堰镇"],
        ["王建国", "支" * 101, "村" * 101, "大堰镇"],
        ["", "", "", ""],
        ["李秀英", "", "", "火星镇"],
        ["陈志强", "", "", ""],
        ["赵丽华", "甲支部", "", "大堰镇"],
        ["赵丽华", "甲支部", "", "dayan"],
        ["赵丽华", "乙支部", "", "大堰镇"],
        ["周海燕", "", "", "大堰镇"],
    ]

    assert problems(rows, existing={("dayan", "周海燕", "")}) == {
        2: ["name_missing"],
        3: ["name_too_long"],
        4: ["branch_too_long", "village_too_long"],
        6: ["unknown_town"],
        7: ["town_missing"],
        8: [],
        9: ["duplicate"],
        10: [],
        11: ["exists"],
    }
