"""Field merge with literal records (protocol rule 4)."""

from server.domain.merge import FieldConflict, fields_changed_by_others, merge_fields


def test_merge_takes_fields_nobody_else_changed():
    result = merge_fields(
        {"title": "旧", "severity": "low"}, {"title": "新"}, changed_by_others={"severity"}
    )
    assert result.apply == {"title": "新"}
    assert result.conflicts == []


def test_merge_keeps_the_server_value_and_sets_the_incoming_one_aside():
    result = merge_fields({"title": "甲"}, {"title": "乙"}, changed_by_others={"title"})
    assert result.apply == {}
    assert result.conflicts == [FieldConflict("title", "甲", "乙")]


def test_merge_same_value_written_by_both_is_no_conflict():
    result = merge_fields({"title": "同"}, {"title": "同"}, changed_by_others={"title"})
    assert result.apply == {} and result.conflicts == []


def test_a_devices_own_earlier_changes_are_not_concurrent():
    history = [("phone-a", {"title"}), ("phone-b", {"severity"}), (None, {"parties"})]
    assert fields_changed_by_others(history, "phone-a") == {"severity", "parties"}


def test_an_edit_from_the_console_meets_earlier_console_edits_as_concurrent():
    """Console edits have no device; one supervisor's edit is never "their own" to another."""
    history = [(None, {"title"}), ("phone-a", {"severity"})]
    assert fields_changed_by_others(history, None) == {"title", "severity"}
