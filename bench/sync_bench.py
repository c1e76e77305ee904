"""Push, pull and concurrent-device figures for the real server, beside raw sqlite3 floors
measured in the same run on the same payloads, so they hold as ratios on a noisy machine.

Everything runs on 127.0.0.1: the server is `fengling serve` (gunicorn, several processes);
this process is the client. Each figure is the median of RUNS runs, with min and max.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import requests

from testkit.server import ROOT, SERVE_WORKERS, Server, create_pg_database, drop_pg_database
from testkit.workload import TOWNS, case_mutation


class Device:
    def __init__(self, base: str, username: str = "admin"):
        self.base = base
        self.http = requests.Session()
        answer = self.http.post(
            f"{base}/api/v1/auth/login",
            timeout=60,
            json={
                "username": username,
                "password": "bench-password",
                "device": {"id": str(uuid.uuid4())},
            },
        ).json()
        self.http.headers.update(
            {"Authorization": f"Bearer {answer['token']}", "X-Schema-Version": "1"}
        )

    def push(self, mutations: list[dict]) -> float:
        started = time.perf_counter()
        response = self.http.post(
            f"{self.base}/api/v1/sync/push", json={"mutations": mutations}, timeout=300
        )
        elapsed = time.perf_counter() - started
        results = response.json()["results"]
        assert all(r["status"] != "rejected" for r in results), results[:3]
        return elapsed

    def pull_all(self, cursor: str | None = None, limit: int = 500) -> tuple[int, str, float]:
        count, started = 0, time.perf_counter()
        for _ in range(100_000):
            params = {"limit": limit, **({"cursor": cursor} if cursor else {})}
            page = self.http.get(f"{self.base}/api/v1/sync/pull", params=params, timeout=300).json()
            count += len(page["changes"])
            cursor = page["cursor"]
            if not page["has_more"]:
                break
        return count, cursor, time.perf_counter() - started


def raw_floor(payloads: list[str], batch: int, folder: Path) -> tuple[float, float]:
    """Raw sqlite3 (WAL, synchronous=FULL): insert the JSON texts, then read them by seq."""
    path = folder / f"raw-{uuid.uuid4().hex}.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE feed (seq INTEGER PRIMARY KEY, body TEXT)")
    started = time.perf_counter()
    for i in range(0, len(payloads), batch):
        conn.executemany(
            "INSERT INTO feed (body) VALUES (?)", [(p,) for p in payloads[i : i + batch]]
        )
        conn.commit()
    insert_rate = len(payloads) / (time.perf_counter() - started)
    started = time.perf_counter()
    rows = conn.execute("SELECT seq, body FROM feed ORDER BY seq").fetchall()
    read_rate = len(rows) / (time.perf_counter() - started)
    conn.close()
    return insert_rate, read_rate


def raw_floor_postgresql(payloads: list[str], batch: int, url: str) -> tuple[float, float]:
    """Raw psycopg: insert the JSON texts with executemany per batch, then read them by seq."""
    import psycopg

    with psycopg.connect(url) as conn:
        conn.execute("DROP TABLE IF EXISTS raw_feed")
        conn.execute("CREATE TABLE raw_feed (seq BIGSERIAL PRIMARY KEY, body TEXT)")
        conn.commit()
        started = time.perf_counter()
        with conn.cursor() as cursor:
            for i in range(0, len(payloads), batch):
                cursor.executemany(
                    "INSERT INTO raw_feed (body) VALUES (%s)",
                    [(p,) for p in payloads[i : i + batch]],
                )
                conn.commit()
        insert_rate = len(payloads) / (time.perf_counter() - started)
        started = time.perf_counter()
        rows = conn.execute("SELECT seq, body FROM raw_feed ORDER BY seq").fetchall()
        read_rate = len(rows) / (time.perf_counter() - started)
        conn.execute("DROP TABLE raw_feed")
        conn.commit()
    return insert_rate, read_rate


def summary(values: list[float]) -> dict:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def one_run(records: int, workers: int, work: Path, database: str, big: int) -> dict:
    data_dir = work / f"run-{uuid.uuid4().hex[:8]}"
    database_url = create_pg_database() if database == "postgresql" else None
    server = Server(data_dir, workers, database_url)
    try:
        figures: dict = {}
        for batch in (100, 500):
            device = Device(server.base)
            mutations = [case_mutation(i) for i in range(records)]
            payloads = [json.dumps(m, ensure_ascii=False) for m in mutations]
            cpu_before = server.cpu_seconds()
            elapsed = sum(device.push(mutations[i : i + batch]) for i in range(0, records, batch))
            cpu = server.cpu_seconds() - cpu_before
            if database_url:
                raw_insert, raw_read = raw_floor_postgresql(payloads, batch, database_url)
            else:
                raw_insert, raw_read = raw_floor(payloads, batch, work)
            figures[f"push_{batch}"] = {
                "rate": records / elapsed,
                "raw_insert": raw_insert,
                "cpu_us_per_mutation": cpu / records * 1e6,
            }
        reader = Device(server.base)
        count, cursor, elapsed = reader.pull_all()
        figures["pull"] = {"rate": count / elapsed, "records": count, "raw_read": raw_read}
        figures["incremental"] = incremental_pull(server, reader, cursor)
        figures["concurrent"] = concurrent_devices(server.base)
        figures["peak_rss_mib"] = server.peak_rss_mib()
        figures["payload_bytes"] = statistics.mean(len(p.encode()) for p in payloads)
        if big:
            figures["incremental_big"] = incremental_at_scale(server, data_dir, big)
        return figures
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
        if database_url:
            drop_pg_database(database_url)


def fill_feed(server: Server, data_dir: Path, total: int) -> tuple[str, int, int]:
    """Grow the feed to `total` records with case-sized rows written straight into the table
    (as months of pushes would leave it); returns (epoch, txid, seq), the position at the end
    of the feed (server.sync.cursor; txid 0 on SQLite)."""
    from server.domain.visibility import ALL_TOWNS

    body = json.dumps(case_mutation(0)["data"], ensure_ascii=False)
    if server.database_url:
        import psycopg

        with psycopg.connect(server.database_url) as conn:
            epoch = conn.execute("SELECT epoch FROM server_state").fetchone()[0]
            count = conn.execute("SELECT count(*) FROM feed").fetchone()[0]
            # Numbers from the feed's sequence, where the server's writers take theirs.
            first = conn.execute(
                "SELECT setval('feed_seq', nextval('feed_seq') + %s) - %s",
                (total - count, total - count),
            ).fetchone()[0]
            with conn.cursor().copy(
                "COPY feed (entity, record_id, seq, op, version, town_mask, data) FROM STDIN"
            ) as copy:
                for n in range(total - count):
                    copy.write_row(
                        ("case", str(uuid.uuid4()), first + n, "upsert", 1, ALL_TOWNS, body)
                    )
            conn.execute("ANALYZE feed")
        with psycopg.connect(server.database_url) as conn:
            # Once the rows above have committed: every transaction below it has ended.
            horizon = conn.execute(
                "SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint"
            ).fetchone()[0]
        return epoch, horizon, 0
    conn = sqlite3.connect(data_dir / "fengling.db", timeout=60)
    conn.execute("BEGIN IMMEDIATE")
    epoch, last = conn.execute("SELECT epoch, last_seq FROM server_state").fetchone()
    count = conn.execute("SELECT count(*) FROM feed").fetchone()[0]
    for start in range(0, total - count, 50_000):
        rows = [
            ("case", str(uuid.uuid4()), last + n, "upsert", 1, ALL_TOWNS, body)
            for n in range(start + 1, min(total - count, start + 50_000) + 1)
        ]
        conn.executemany(
            "INSERT INTO feed (entity, record_id, seq, op, version, town_mask, data)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    last += total - count
    conn.execute("UPDATE server_state SET last_seq = ?", (last,))
    conn.commit()
    conn.close()
    return epoch, 0, last


def incremental_at_scale(server: Server, data_dir: Path, total: int) -> dict:
    """The incremental pull of 100 changes again, with `total` records in the feed: the
    reader's cursor is at the end, as a phone's is after its last sync."""
    from server.domain.visibility import ALL_TOWNS
    from server.sync.cursor import Cursor

    epoch, txid, seq = fill_feed(server, data_dir, total)
    reader = Device(server.base)
    cursor = Cursor(epoch, seq, f"{ALL_TOWNS:x}", txid).encode()
    figures = incremental_pull(server, reader, cursor)
    figures["records"] = total
    return figures


def incremental_pull(server: Server, reader: Device, cursor: str) -> dict:
    """Update 100 cases, then time a pull of just those changes (p50 of 10 rounds)."""
    editor = Device(server.base)
    ids = [
        c["record_id"]
        for c in editor.http.get(
            f"{server.base}/api/v1/sync/pull", params={"limit": 1000}, timeout=60
        ).json()["changes"]
        if c["entity"] == "case"
    ][:100]
    timings = []
    for round_ in range(10):
        editor.push(
            [
                {
                    "mutation_id": str(uuid.uuid4()),
                    "op": "case.update",
                    "record_id": rid,
                    "base_version": 1,
                    "data": {"description": f"第{round_}次补充"},
                }
                for rid in ids
            ]
        )
        count, cursor, elapsed = reader.pull_all(cursor)
        timings.append(elapsed * 1000)
    return {"p50_ms": statistics.median(timings), "changes": count}


def concurrent_devices(base: str, devices: int = 20, batches: int = 50, size: int = 20) -> dict:
    phones = [Device(base, f"{TOWNS[i % 5]}_worker") for i in range(devices)]
    latencies: list[float] = []
    lock = threading.Lock()

    def run(phone: Device, n: int) -> None:
        town = TOWNS[n % 5]
        for _ in range(batches):
            mutations = [case_mutation(n) for _ in range(size)]
            for m in mutations:
                m["data"]["primary_town"] = town
            elapsed = phone.push(mutations)
            with lock:
                latencies.append(elapsed * 1000)

    threads = [threading.Thread(target=run, args=(p, n)) for n, p in enumerate(phones)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(600)
    elapsed = time.perf_counter() - started
    return {
        "rate": devices * batches * size / elapsed,
        "p50_ms": percentile(latencies, 0.5),
        "p95_ms": percentile(latencies, 0.95),
        "p99_ms": percentile(latencies, 0.99),
    }


def report(runs: list[dict]) -> dict:
    def collect(*path: str) -> dict:
        values = []
        for run in runs:
            value = run
            for key in path:
                value = value[key]
            values.append(value)
        return summary(values)

    table = {
        "push batches of 100 (mutations/s)": collect("push_100", "rate"),
        "push batches of 500 (mutations/s)": collect("push_500", "rate"),
        "raw driver insert, batches of 500 (rows/s)": collect("push_500", "raw_insert"),
        "server CPU per pushed mutation (µs, batches of 500)": collect(
            "push_500", "cpu_us_per_mutation"
        ),
        "pull from scratch, pages of 500 (records/s)": collect("pull", "rate"),
        "raw driver read by seq (rows/s)": collect("pull", "raw_read"),
        "incremental pull of 100 changes, p50 (ms)": collect("incremental", "p50_ms"),
        **(
            {
                "incremental pull of 100 changes at the big feed, p50 (ms)": collect(
                    "incremental_big", "p50_ms"
                )
            }
            if "incremental_big" in runs[0]
            else {}
        ),
        "20 devices × 50 × 20: throughput (mutations/s)": collect("concurrent", "rate"),
        "20 devices: p50 latency (ms)": collect("concurrent", "p50_ms"),
        "20 devices: p95 latency (ms)": collect("concurrent", "p95_ms"),
        "20 devices: p99 latency (ms)": collect("concurrent", "p99_ms"),
        "peak memory per server process (MiB)": collect("peak_rss_mib"),
    }
    ratios = {
        "push 500 / raw insert": collect("push_500", "rate")["median"]
        / collect("push_500", "raw_insert")["median"],
        "push 100 / raw insert": collect("push_100", "rate")["median"]
        / collect("push_500", "raw_insert")["median"],
        "pull / raw read": collect("pull", "rate")["median"]
        / collect("pull", "raw_read")["median"],
        "20 devices / raw insert": collect("concurrent", "rate")["median"]
        / collect("push_500", "raw_insert")["median"],
    }
    if "incremental_big" in runs[0]:
        ratios["incremental big / 20k"] = (
            collect("incremental_big", "p50_ms")["median"]
            / collect("incremental", "p50_ms")["median"]
        )
    return {"table": table, "ratios": ratios}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=SERVE_WORKERS)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument(
        "--big",
        type=int,
        default=0,
        help="also time the incremental pull with this many records in the feed",
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="fengling-bench-"))
    try:
        runs = [
            one_run(args.records, args.workers, work, args.database, args.big)
            for _ in range(args.runs)
        ]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result = {
        "machine": f"{os.cpu_count()} cores, {sys.platform}",
        "records": args.records,
        "runs": args.runs,
        "workers": args.workers,
        "database": args.database,
        "big": args.big,
        **report(runs),
    }
    print(
        f"Fengling sync benchmark: {args.records} records, {args.runs} runs, {args.database}, "
        f"{args.workers} server processes, {result['machine']}"
    )
    print(f"{'figure':<56} {'median':>12} {'min':>12} {'max':>12}")
    for name, values in result["table"].items():
        print(f"{name:<56} {values['median']:>12.1f} {values['min']:>12.1f} {values['max']:>12.1f}")
    for name, ratio in result["ratios"].items():
        print(f"ratio {name:<50} {ratio:>12.3f}")
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    target = out / f"sync-{args.database}-{time.strftime('%Y%m%dT%H%M%S')}.json"
    target.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print(f"written: {target.relative_to(ROOT)}")
