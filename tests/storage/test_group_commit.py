"""Group commit as the requests of one process see it: whoever waits while a group is
written goes into the next one, together, and each gets its own outcome."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from server.storage.group_commit import GroupCommit, GroupWaitTimeout, Ticket


class Writer:
    """A `write` that records its groups; the first group waits until the test opens it."""

    def __init__(self, fail: Callable[[str], BaseException | None] = lambda work: None):
        self.groups: list[list[str]] = []
        self.opened = threading.Event()
        self.started = threading.Event()
        self.fail = fail

    def __call__(self, tickets: list[Ticket[str]]) -> None:
        self.started.set()
        assert self.opened.wait(30)
        self.groups.append([t.work for t in tickets])
        for ticket in tickets:
            error = self.fail(ticket.work)
            if error is not None:
                ticket.settle(error=error)
            else:
                ticket.settle(f"written: {ticket.work}")


class Submitted:
    """Works submitted each from its own thread; `join()` gives each one's result or error."""

    def __init__(self, outcomes: dict[str, object], threads: list[threading.Thread]):
        self.outcomes, self.threads = outcomes, threads

    def join(self) -> dict[str, object]:
        for thread in self.threads:
            thread.join(30)
        return self.outcomes


def submit_all(group: GroupCommit[str], works: list[str]) -> Submitted:
    outcomes: dict[str, object] = {}

    def run(work: str) -> None:
        try:
            outcomes[work] = group.submit(work)
        except Exception as error:  # the outcome under test
            outcomes[work] = error

    threads = [threading.Thread(target=run, args=(w,)) for w in works]
    for thread in threads:
        thread.start()
    return Submitted(outcomes, threads)


def wait_for(condition: Callable[[], bool]) -> None:
    for _ in range(3000):
        if condition():
            return
        time.sleep(0.01)
    raise AssertionError("not within 30 s")


def test_requests_that_wait_during_a_write_go_in_together_each_with_its_own_result():
    write = Writer()
    group = GroupCommit(write, max_group=32, wait_s=30)
    first = submit_all(group, ["a"])
    assert write.started.wait(30)
    rest = submit_all(group, ["b", "c", "d", "e"])
    wait_for(lambda: group.waiting() == 4)
    write.opened.set()
    outcomes = first.join() | rest.join()
    assert write.groups[0] == ["a"]
    assert sorted(write.groups[1]) == ["b", "c", "d", "e"] and len(write.groups) == 2
    assert outcomes == {w: f"written: {w}" for w in "abcde"}
    assert (group.groups, group.grouped) == (2, 5)


def test_a_group_holds_at_most_its_limit():
    write = Writer()
    group = GroupCommit(write, max_group=2, wait_s=30)
    first = submit_all(group, ["a"])
    assert write.started.wait(30)
    rest = submit_all(group, ["b", "c", "d", "e"])
    wait_for(lambda: group.waiting() == 4)
    write.opened.set()
    outcomes = first.join() | rest.join()
    assert [len(g) for g in write.groups] == [1, 2, 2]
    assert len(outcomes) == 5


def test_one_requests_failure_is_its_own_and_a_failed_write_is_everyones():
    refused = PermissionError("device revoked")
    write = Writer(fail=lambda work: refused if work == "revoked" else None)
    group = GroupCommit(write, max_group=32, wait_s=30)
    write.opened.set()
    outcomes = submit_all(group, ["ok", "revoked"]).join()
    assert outcomes["ok"] == "written: ok" and outcomes["revoked"] is refused

    def broken(tickets: list[Ticket[str]]) -> None:
        for ticket in tickets:
            if ticket.work == "refused before the commit":
                ticket.settle(error=refused)
        raise ConnectionError("the database went away")

    group = GroupCommit(broken, max_group=32, wait_s=30)
    with pytest.raises(PermissionError):
        group.submit("refused before the commit")
    with pytest.raises(ConnectionError):
        group.submit("written")


def test_a_request_not_taken_within_the_wait_limit_gives_up_and_is_never_written():
    write = Writer()
    group = GroupCommit(write, max_group=32, wait_s=0.2)
    first = submit_all(group, ["a"])
    assert write.started.wait(30)
    with pytest.raises(GroupWaitTimeout):
        group.submit("late")
    assert group.waiting() == 0
    write.opened.set()
    assert first.join() == {"a": "written: a"}
    assert write.groups == [["a"]]
