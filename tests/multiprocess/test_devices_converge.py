"""Twenty phones against a multi-process server over real HTTP, with lost responses,
duplicated requests and retries: nothing lost, nothing applied twice, all converge."""

from __future__ import annotations

import pytest

from tests.multiprocess.phone import (
    USERS,
    Phone,
    check_converged,
    check_nothing_lost_or_doubled,
    run_phones,
)

pytestmark = pytest.mark.slow

DEVICES = 20
ROUNDS = 6


def test_twenty_devices_converge_with_nothing_lost_or_doubled(live_server, database_url):
    phones = [Phone(live_server, USERS[i % len(USERS)], seed=i) for i in range(DEVICES)]
    run_phones(phones, ROUNDS)
    check_nothing_lost_or_doubled(phones, database_url)
    check_converged(phones)


@pytest.mark.parametrize("backend", ["postgresql"])
def test_two_server_instances_on_one_postgresql_database_converge(start_server, database_url):
    first, second = start_server(), start_server()
    phones = [
        Phone((first, second)[i % 2].base, USERS[i % len(USERS)], seed=100 + i) for i in range(10)
    ]
    run_phones(phones, ROUNDS)
    check_nothing_lost_or_doubled(phones, database_url)
    check_converged(phones)
    assert first.stop() == 0 and second.stop() == 0  # graceful shutdown on SIGTERM
