"""A hundred phones for a minute against the real server: no errors, nothing lost or doubled.

The driver is testkit/load.py (shared with `python -m bench.load`); its throughput and
latency figures are written to bench/results/ (recorded, not asserted: speed lives in the
benchmarks).
"""

from __future__ import annotations

import pytest

from testkit.load import report, run, write_result
from tests.factories import DEMO_PASSWORD

pytestmark = pytest.mark.slow

DEVICES = 100
SECONDS = 60


def test_a_hundred_devices_for_a_minute_lose_nothing(start_server, backend):
    server = start_server(workers=4)
    result = run(server.base, DEVICES, SECONDS, DEMO_PASSWORD)
    result["backend"] = backend
    write_result(result)
    print(report(result))
    assert result["error_count"] == 0, result["errors"]
    assert result["stuck_threads"] == 0
    assert result["acknowledged_creates"] > DEVICES  # every phone got work through
    assert result["missing"] == 0 and result["duplicated"] == 0
    log = server.log_path.read_text()
    assert "database is locked" not in log and "Traceback" not in log
