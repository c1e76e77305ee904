"""Bounded load: N simulated phones for a fixed time against the real server on 127.0.0.1.

Each phone signs in, then until the deadline pushes a batch (new cases, timeline entries,
edits of its own cases) and pulls what changed, like the PWA does after a market day. At the
end an admin device pulls everything and checks that every acknowledged create is there
exactly once. Prints throughput and p50/p95/p99 latency and writes them as JSON to
bench/results/. With several bases (`--instances N`: N `fengling serve` on one PostgreSQL
database) the phones are spread over them round-robin. `tests/multiprocess/test_load.py` runs
it in CI and asserts 0 errors and nothing lost; the figures are not asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import requests

from testkit.server import ROOT, SERVE_WORKERS, Server, create_pg_database, drop_pg_database
from testkit.workload import TOWNS

# Shorter than testkit.workload.TEXT, as the load has always sent (figures stay comparable).
LOAD_TEXT = "两村交界处毛竹采伐权属不清，双方各执一词，网格员已到场初步调解。"
BATCH = 5


@dataclass
class Tally:
    push_ms: list[float] = field(default_factory=list)
    pull_ms: list[float] = field(default_factory=list)
    mutations: int = 0
    errors: list[str] = field(default_factory=list)
    created: set[str] = field(default_factory=set)  # acknowledged case ids
    lock: threading.Lock = field(default_factory=threading.Lock)


def sign_in(base: str, username: str, password: str) -> requests.Session:
    session = requests.Session()
    device = {"id": str(uuid.uuid4()), "name": "load", "platform": "bench", "app_version": "b"}
    response = session.post(
        f"{base}/api/v1/auth/login",
        timeout=60,
        json={"username": username, "password": password, "device": device},
    )
    response.raise_for_status()
    session.headers.update(
        {"Authorization": f"Bearer {response.json()['token']}", "X-Schema-Version": "1"}
    )
    return session


def timed(
    tally: Tally, label: str, send: Callable[[], requests.Response]
) -> tuple[requests.Response, float] | None:
    """Send one request; its answer and milliseconds, or None with the error counted."""
    started = time.perf_counter()
    try:
        response = send()
    except requests.RequestException as error:
        with tally.lock:
            tally.errors.append(f"{label}: {error}")
        return None
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        with tally.lock:
            tally.errors.append(f"{label} {response.status_code}: {response.text[:200]}")
        return None
    return response, elapsed


def phone(
    base: str, session: requests.Session, town: str, deadline: float, seed: int, tally: Tally
) -> None:
    """One phone's loop; every request is bounded by the deadline and a timeout."""
    rng = random.Random(seed)
    cursor = None
    mine: dict[str, int] = {}  # case id -> version this phone knows
    while time.monotonic() < deadline:
        batch = []
        for _ in range(BATCH):
            roll = rng.random()
            if mine and roll < 0.3:
                case_id = rng.choice(list(mine))
                batch.append(
                    {
                        "mutation_id": str(uuid.uuid4()),
                        "op": "case_event.create",
                        "record_id": str(uuid.uuid4()),
                        "data": {
                            "case_id": case_id,
                            "kind": "mediation",
                            "body": LOAD_TEXT,
                            "at": "2026-11-26T09:00:00+08:00",
                        },
                    }
                )
            elif mine and roll < 0.45:
                case_id = rng.choice(list(mine))
                batch.append(
                    {
                        "mutation_id": str(uuid.uuid4()),
                        "op": "case.update",
                        "record_id": case_id,
                        "base_version": mine[case_id],
                        "data": {"description": f"{LOAD_TEXT} {rng.random():.6f}"},
                    }
                )
            else:
                batch.append(
                    {
                        "mutation_id": str(uuid.uuid4()),
                        "op": "case.create",
                        "record_id": str(uuid.uuid4()),
                        "data": {
                            "title": f"山林权属争议 {seed}",
                            "category": "land",
                            "primary_town": town,
                            "description": LOAD_TEXT,
                            "parties": [{"name": "李某", "role": "applicant"}],
                        },
                    }
                )
        answer = timed(
            tally,
            "push",
            partial(
                session.post, f"{base}/api/v1/sync/push", json={"mutations": batch}, timeout=60
            ),
        )
        if answer is None:
            continue
        response, elapsed = answer
        results = response.json()["results"]
        with tally.lock:
            tally.push_ms.append(elapsed)
            tally.mutations += len(batch)
            for mutation, result in zip(batch, results, strict=True):
                if result["status"] == "rejected":
                    tally.errors.append(f"rejected: {result['error']}")
                elif mutation["op"] == "case.create":
                    tally.created.add(mutation["record_id"])
        for mutation, result in zip(batch, results, strict=True):
            if mutation["op"] in ("case.create", "case.update") and result["status"] != "rejected":
                mine[mutation["record_id"]] = result["version"]
        params = {"cursor": cursor} if cursor else {}
        answer = timed(
            tally,
            "pull",
            partial(session.get, f"{base}/api/v1/sync/pull", params=params, timeout=60),
        )
        if answer is None:
            continue
        response, elapsed = answer
        page = response.json()
        cursor = page["cursor"]
        with tally.lock:
            tally.pull_ms.append(elapsed)


def server_cases(base: str, password: str) -> list[str]:
    """Every case id in the admin's full pull (duplicates would show as repeats)."""
    session = sign_in(base, "admin", password)
    ids: list[str] = []
    cursor = None
    for _ in range(10_000):
        params = {"limit": 1000, **({"cursor": cursor} if cursor else {})}
        page = session.get(f"{base}/api/v1/sync/pull", params=params, timeout=120).json()
        ids += [c["record_id"] for c in page["changes"] if c["entity"] == "case"]
        cursor = page["cursor"]
        if not page["has_more"]:
            return ids
    raise RuntimeError("pull did not finish")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def run(base: str | list[str], devices: int, seconds: float, password: str) -> dict:
    """Drive the server at `base` (or the instances at several bases, one database behind
    them, phone i on base i mod N); returns the figures and the checks' outcome."""
    bases = [base] if isinstance(base, str) else base
    tally = Tally()
    # The phones sign in before the clock starts, one after the other: the demo has one
    # worker per town, and twenty sign-ins of one person from one address at the same
    # instant would meet the sign-in limit (it counts a check as failed until it ends).
    sessions: dict[int, requests.Session] = {}
    for i in range(devices):
        try:
            sessions[i] = sign_in(bases[i % len(bases)], f"{TOWNS[i % 5]}_worker", password)
        except requests.RequestException as error:
            tally.errors.append(f"login: {error}")
    deadline = time.monotonic() + seconds
    threads = [
        threading.Thread(
            target=phone,
            daemon=True,
            args=(bases[i % len(bases)], session, TOWNS[i % 5], deadline, i, tally),
        )
        for i, session in sessions.items()
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 180)
    duration = time.monotonic() - started
    ids = server_cases(bases[0], password)
    missing = tally.created - set(ids)
    return {
        "devices": devices,
        "instances": len(bases),
        "seconds": round(duration, 1),
        "pushes": len(tally.push_ms),
        "pulls": len(tally.pull_ms),
        "mutations": tally.mutations,
        "mutations_per_s": tally.mutations / duration,
        "push_p50_ms": percentile(tally.push_ms, 0.5),
        "push_p95_ms": percentile(tally.push_ms, 0.95),
        "push_p99_ms": percentile(tally.push_ms, 0.99),
        "pull_p50_ms": percentile(tally.pull_ms, 0.5),
        "pull_p95_ms": percentile(tally.pull_ms, 0.95),
        "pull_p99_ms": percentile(tally.pull_ms, 0.99),
        "push_mean_ms": statistics.fmean(tally.push_ms) if tally.push_ms else 0.0,
        "errors": tally.errors[:20],
        "error_count": len(tally.errors),
        "acknowledged_creates": len(tally.created),
        "missing": len(missing),
        "duplicated": len(ids) - len(set(ids)),
        "stuck_threads": sum(thread.is_alive() for thread in threads),
    }


def write_result(result: dict) -> Path:
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    target = out / f"load-{time.strftime('%Y%m%dT%H%M%S')}.json"
    target.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    return target


def report(result: dict) -> str:
    instances = result.get("instances", 1)
    return (
        f"{result['devices']} devices"
        + (f" on {instances} instances" if instances > 1 else "")
        + f" for {result['seconds']} s: "
        f"{result['mutations']} mutations ({result['mutations_per_s']:.0f}/s) in "
        f"{result['pushes']} pushes and {result['pulls']} pulls; push p50/p95/p99 "
        f"{result['push_p50_ms']:.0f}/{result['push_p95_ms']:.0f}/{result['push_p99_ms']:.0f} "
        f"ms; pull p50/p95/p99 {result['pull_p50_ms']:.0f}/{result['pull_p95_ms']:.0f}/"
        f"{result['pull_p99_ms']:.0f} ms; errors {result['error_count']}, missing "
        f"{result['missing']}, duplicated {result['duplicated']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--devices", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument(
        "--workers", type=int, default=SERVE_WORKERS, help="server processes per instance"
    )
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument(
        "--instances",
        type=int,
        default=1,
        help="`fengling serve` instances on different ports, one PostgreSQL database",
    )
    args = parser.parse_args()
    if args.instances < 1 or (args.instances > 1 and args.database != "postgresql"):
        parser.error("--instances above 1 needs --database postgresql (one shared database)")
    database_url = create_pg_database() if args.database == "postgresql" else None
    servers: list[Server] = []
    try:
        with tempfile.TemporaryDirectory(prefix="fengling-load-") as work:
            try:
                # One data directory (photos, secret key) shared, as on one host.
                for n in range(args.instances):
                    servers.append(Server(Path(work), args.workers, database_url, prepare=n == 0))
                bases = [server.base for server in servers]
                result = run(bases, args.devices, args.seconds, "bench-password")
            finally:
                for server in servers:
                    server.stop()
    finally:
        if database_url:
            drop_pg_database(database_url)
    result["machine"] = f"{os.cpu_count()} cores, {sys.platform}"
    result["workers"] = args.workers
    result["database"] = args.database
    print(report(result))
    print(f"written: {write_result(result).relative_to(ROOT)}")
