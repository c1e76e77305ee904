"""`make bench-vs-pouchdb`: Fengling and PouchDB Server 4.2.0 side by side (issue 18).

Both run on 127.0.0.1 and get the same Chinese case documents of about 640 bytes of UTF-8
JSON from the same Python client (`requests`, one keep-alive session per client thread):
Fengling is `fengling serve` (gunicorn, --workers processes) on SQLite (`synchronous=FULL`)
or PostgreSQL; PouchDB Server 4.2.0 (leveldb, in-memory off, logging off) is installed from
the npm registry into bench/results/pouchdb-server-4.2.0/ on first use and reused after (it
is not a project dependency; without npm, or when the install fails, the table shows
Fengling alone). Every run starts both servers afresh on empty stores; the order of the two
alternates from run to run; every figure is the median of --runs runs.

- push: --records new documents in batches of 100, then as many in batches of 500
  (Fengling `POST /api/v1/sync/push` of `case.create`; PouchDB `POST /db/_bulk_docs`);
- pull from scratch in pages of 500 (Fengling's cursor loop; PouchDB
  `GET /db/_changes?include_docs=true&limit=500&since=...`);
- update of 100 existing records in one request (`case.update` with `base_version`;
  `_bulk_docs` with `_rev`), then the incremental pull of those 100 (median of 5 rounds);
- 20 clients at once × 20 requests × 20 new documents: throughput, request latency
  p50/p99 (each Fengling client its own device and token);
- server CPU per document (user + sys of the server's whole process tree, from /proc) for
  the push in batches of 500 and for the 20-client run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from bench.sync_bench import percentile
from testkit.server import (
    ROOT,
    SERVE_WORKERS,
    Server,
    create_pg_database,
    drop_pg_database,
    free_port,
)
from testkit.workload import TOWNS, case_document

POUCHDB_VERSION = "4.2.0"
POUCHDB_DIR = ROOT / "bench" / "results" / f"pouchdb-server-{POUCHDB_VERSION}"
POUCHDB_BIN = POUCHDB_DIR / "node_modules" / "pouchdb-server" / "bin" / "pouchdb-server"
UPDATE_ROUNDS = 5
CLIENTS, REQUESTS, DOCS_PER_REQUEST = 20, 20, 20


def body(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode()


def tree_cpu_seconds(pid: int) -> float:
    """User + sys CPU of `pid` and all its descendants (alive ones), from /proc."""
    total, seen, todo = 0, set(), [pid]
    for _ in range(10_000):
        if not todo:
            break
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += map(int, (task / "children").read_text().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total / os.sysconf("SC_CLK_TCK")


# --- the two systems behind one interface ---------------------------------------------------


class Fengling:
    name = "Fengling"

    def __init__(self, work: Path, workers: int, database: str):
        self.database_url = create_pg_database() if database == "postgresql" else None
        self.data_dir = work / f"fengling-{uuid.uuid4().hex[:8]}"
        self.server = Server(self.data_dir, workers, self.database_url)
        self.base = self.server.base
        self.pid = self.server.process.pid
        self.versions: dict[str, int] = {}

    def client(self, username: str = "admin") -> requests.Session:
        session = requests.Session()
        answer = session.post(
            f"{self.base}/api/v1/auth/login",
            timeout=60,
            json={
                "username": username,
                "password": "bench-password",
                "device": {"id": str(uuid.uuid4())},
            },
        )
        answer.raise_for_status()
        session.headers.update(
            {
                "Authorization": f"Bearer {answer.json()['token']}",
                "X-Schema-Version": "1",
                "Content-Type": "application/json",
            }
        )
        return session

    def concurrent_client(self, n: int) -> requests.Session:
        return self.client(f"{TOWNS[n % 5]}_worker")

    def town_of(self, n: int) -> str:
        return TOWNS[n % 5]

    def _push(self, session: requests.Session, mutations: list[dict]) -> list[dict]:
        response = session.post(
            f"{self.base}/api/v1/sync/push", data=body({"mutations": mutations}), timeout=300
        )
        response.raise_for_status()
        results = response.json()["results"]
        rejected = [r for r in results if r["status"] == "rejected"]
        assert not rejected, rejected[:3]
        return results

    def create(self, session: requests.Session, docs: list[tuple[str, dict]]) -> None:
        mutations = [
            {
                "mutation_id": str(uuid.uuid4()),
                "op": "case.create",
                "record_id": record_id,
                "client_time": "2026-11-26T09:12:00+08:00",
                "data": doc,
            }
            for record_id, doc in docs
        ]
        for mutation, result in zip(mutations, self._push(session, mutations), strict=True):
            self.versions[mutation["record_id"]] = result["version"]

    def update(self, session: requests.Session, ids: list[str], docs: dict, text: str) -> None:
        mutations = [
            {
                "mutation_id": str(uuid.uuid4()),
                "op": "case.update",
                "record_id": record_id,
                "base_version": self.versions[record_id],
                "data": {"description": text},
            }
            for record_id in ids
        ]
        for mutation, result in zip(mutations, self._push(session, mutations), strict=True):
            self.versions[mutation["record_id"]] = result["version"]

    def pull(self, session: requests.Session, cursor: str | None) -> tuple[int, str | None]:
        """Pages of 500 until the end; (records, cursor)."""
        count = 0
        for _ in range(100_000):
            params: dict[str, Any] = {"limit": 500, **({"cursor": cursor} if cursor else {})}
            response = session.get(f"{self.base}/api/v1/sync/pull", params=params, timeout=300)
            response.raise_for_status()
            page = response.json()
            count += len(page["changes"])
            cursor = page["cursor"]
            if not page["has_more"]:
                break
        return count, cursor

    def stop(self) -> None:
        try:
            self.server.stop()
        finally:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            if self.database_url:
                drop_pg_database(self.database_url)


class PouchDB:
    name = "PouchDB"

    def __init__(self, work: Path):
        self.folder = work / f"pouchdb-{uuid.uuid4().hex[:8]}"
        self.folder.mkdir()
        config = self.folder / "config.json"
        config.write_text(
            json.dumps({"log": {"file": str(self.folder / "log.txt"), "level": "none"}})
        )
        port = free_port()
        self.root = f"http://127.0.0.1:{port}"
        self.base = f"{self.root}/bench"
        self.process = subprocess.Popen(
            [
                "node",
                str(POUCHDB_BIN),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--dir",
                str(self.folder / "db"),
                "--config",
                str(config),
                "--no-stdout-logs",
            ],
            cwd=self.folder,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.pid = self.process.pid
        self.revs: dict[str, str] = {}
        self.docs: dict[str, dict] = {}
        for _ in range(300):
            if self.process.poll() is not None:
                break
            try:
                if requests.get(self.root, timeout=1).status_code == 200:
                    requests.put(self.base, timeout=60).raise_for_status()
                    return
            except requests.ConnectionError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("PouchDB Server did not start")

    def client(self) -> requests.Session:
        session = requests.Session()
        session.headers["Content-Type"] = "application/json"
        return session

    def concurrent_client(self, n: int) -> requests.Session:
        return self.client()

    def town_of(self, n: int) -> str:
        return TOWNS[n % 5]

    def _bulk(self, session: requests.Session, docs: list[dict]) -> None:
        response = session.post(f"{self.base}/_bulk_docs", data=body({"docs": docs}), timeout=300)
        response.raise_for_status()
        results = response.json()
        failed = [r for r in results if "error" in r]
        assert not failed, failed[:3]
        for result in results:
            self.revs[result["id"]] = result["rev"]

    def create(self, session: requests.Session, docs: list[tuple[str, dict]]) -> None:
        self._bulk(session, [{"_id": record_id, **doc} for record_id, doc in docs])

    def update(self, session: requests.Session, ids: list[str], docs: dict, text: str) -> None:
        self._bulk(
            session,
            [
                {
                    "_id": record_id,
                    "_rev": self.revs[record_id],
                    **docs[record_id],
                    "description": text,
                }
                for record_id in ids
            ],
        )

    def pull(self, session: requests.Session, since: str | None) -> tuple[int, str | None]:
        count = 0
        for _ in range(100_000):
            params = {"include_docs": "true", "limit": 500, "since": since or 0}
            response = session.get(f"{self.base}/_changes", params=params, timeout=300)
            response.raise_for_status()
            page = response.json()
            count += len(page["results"])
            since = page["last_seq"]
            if len(page["results"]) < 500:
                break
        return count, str(since)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(30)
        shutil.rmtree(self.folder, ignore_errors=True)


# --- the figures --------------------------------------------------------------------------


def new_docs(start: int, count: int) -> list[tuple[str, dict]]:
    return [(str(uuid.uuid4()), case_document(i)) for i in range(start, start + count)]


def measure(system: Any, records: int) -> dict:
    figures: dict[str, float] = {}
    writer = system.client()
    docs: dict[str, dict] = {}
    for batch, start in ((100, 0), (500, records)):
        items = new_docs(start, records)
        docs.update(items)
        cpu = tree_cpu_seconds(system.pid)
        started = time.perf_counter()
        for i in range(0, records, batch):
            system.create(writer, items[i : i + batch])
        elapsed = time.perf_counter() - started
        figures[f"push_{batch}"] = records / elapsed
        figures[f"cpu_push_{batch}_us"] = (tree_cpu_seconds(system.pid) - cpu) / records * 1e6

    reader = system.client()
    started = time.perf_counter()
    count, cursor = system.pull(reader, None)
    figures["pull"] = count / (time.perf_counter() - started)
    figures["pull_records"] = count

    ids = list(docs)[:100]
    updates, pulls = [], []
    for round_ in range(UPDATE_ROUNDS):
        started = time.perf_counter()
        system.update(writer, ids, docs, f"第{round_}次补充：双方同意再议。")
        updates.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        count, cursor = system.pull(reader, cursor)
        pulls.append((time.perf_counter() - started) * 1000)
        assert count >= 100, count
    figures["update_ms"] = statistics.median(updates)
    figures["incremental_ms"] = statistics.median(pulls)

    figures.update(concurrent(system, 2 * records))
    return figures


def concurrent(system: Any, start: int) -> dict:
    clients = [system.concurrent_client(n) for n in range(CLIENTS)]
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def run(session: requests.Session, n: int) -> None:
        for r in range(REQUESTS):
            items = new_docs(start + (n * REQUESTS + r) * DOCS_PER_REQUEST, DOCS_PER_REQUEST)
            for _, doc in items:
                doc["primary_town"] = system.town_of(n)
            began = time.perf_counter()
            try:
                system.create(session, items)
            except (requests.RequestException, AssertionError) as error:
                with lock:
                    errors.append(repr(error)[:200])
                continue
            with lock:
                latencies.append((time.perf_counter() - began) * 1000)

    threads = [
        threading.Thread(target=run, args=(c, n), daemon=True) for n, c in enumerate(clients)
    ]
    cpu = tree_cpu_seconds(system.pid)
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(600)
    elapsed = time.perf_counter() - started
    docs = CLIENTS * REQUESTS * DOCS_PER_REQUEST
    if errors:
        raise RuntimeError(f"{system.name}: {len(errors)} failed requests, e.g. {errors[0]}")
    return {
        "concurrent": docs / elapsed,
        "p50_ms": percentile(latencies, 0.5),
        "p99_ms": percentile(latencies, 0.99),
        "cpu_concurrent_us": (tree_cpu_seconds(system.pid) - cpu) / docs * 1e6,
    }


def install_pouchdb() -> str | None:
    """Install pouchdb-server into POUCHDB_DIR (once); None when ready, else why not."""
    if POUCHDB_BIN.exists():
        return None
    if not shutil.which("npm") or not shutil.which("node"):
        return "npm or node not found"
    print(f"installing pouchdb-server@{POUCHDB_VERSION} into {POUCHDB_DIR.relative_to(ROOT)} ...")
    POUCHDB_DIR.mkdir(parents=True, exist_ok=True)
    command = [
        "npm",
        "install",
        "--no-audit",
        "--no-fund",
        "--prefix",
        str(POUCHDB_DIR),
        f"pouchdb-server@{POUCHDB_VERSION}",
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=900)
    except subprocess.TimeoutExpired:
        return "npm install timed out"
    if done.returncode != 0 or not POUCHDB_BIN.exists():
        return f"npm install failed: {(done.stderr or done.stdout).strip()[-500:]}"
    return None


# --- the table ----------------------------------------------------------------------------

# (label, keys, kind, goal): kind "rate" (higher is better) or "time" (lower is better);
# goal (op, factor) on Fengling / PouchDB of every key in the row.
ROWS: list[tuple[str, tuple[str, ...], str, tuple[str, float] | None]] = [
    ("push, batches of 100 (docs/s)", ("push_100",), "rate", (">=", 3)),
    ("push, batches of 500 (docs/s)", ("push_500",), "rate", (">=", 3)),
    ("pull from scratch, pages of 500 (docs/s)", ("pull",), "rate", (">=", 2.5)),
    ("update 100 existing records (ms)", ("update_ms",), "time", ("<=", 0.5)),
    ("incremental pull of those 100 (ms)", ("incremental_ms",), "time", ("<=", 0.5)),
    (
        f"{CLIENTS} clients × {REQUESTS} requests × {DOCS_PER_REQUEST} docs (docs/s)",
        ("concurrent",),
        "rate",
        (">=", 3),
    ),
    ("request latency p50 / p99 (ms)", ("p50_ms", "p99_ms"), "time", None),
    (
        f"server CPU per doc, push b500 / {CLIENTS} clients (µs)",
        ("cpu_push_500_us", "cpu_concurrent_us"),
        "cpu",
        ("<=", 0.5),
    ),
]


def number(value: float) -> str:
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def ratio_text(ratios: list[float], kind: str) -> str:
    if kind == "rate":
        return " / ".join(f"{r:.2f}" for r in ratios)
    if kind == "cpu":
        return " / ".join(f"{r:.1f}" if r >= 1 else f"{r:.2f}" for r in ratios) + "×"
    if all(r > 1 for r in ratios):
        return " / ".join(f"{r:.1f}" for r in ratios) + "× slower"
    return " / ".join(f"{r:.2f}" for r in ratios)


def goal_text(label: str, keys: tuple[str, ...], goal: tuple[str, float] | None) -> str:
    if label.startswith("request latency"):
        return "p99 ≤ 0.5×"
    if goal is None:
        return ""
    op, factor = goal
    return f"{'≥' if op == '>=' else '≤'} {factor:g}×"


def table(medians: dict[str, dict[str, float]]) -> tuple[str, list[dict]]:
    """The markdown table and its rows as data."""
    fengling, pouch = medians["fengling"], medians.get("pouchdb")
    lines = [
        "| figure | Fengling | PouchDB | Fengling / PouchDB | goal | met |",
        "|---|---|---|---|---|---|",
    ]
    rows = []
    for label, keys, kind, goal in ROWS:
        ours = " / ".join(number(fengling[k]) for k in keys)
        theirs, ratio, met = "—", "—", "—"
        ratios: list[float] = []
        if pouch:
            theirs = " / ".join(number(pouch[k]) for k in keys)
            ratios = [fengling[k] / pouch[k] if pouch[k] else float("inf") for k in keys]
            ratio = ratio_text(ratios, kind)
            checked = ratios[-1:] if label.startswith("request latency") else ratios
            op, factor = goal or ("<=", 0.5)
            ok = all(r >= factor if op == ">=" else r <= factor for r in checked)
            met = "yes" if ok else "no"
        lines.append(
            f"| {label} | {ours} | {theirs} | {ratio} | {goal_text(label, keys, goal)} | {met} |"
        )
        rows.append({"figure": label, "keys": keys, "ratios": ratios, "met": met})
    return "\n".join(lines), rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=8_000, help="documents per push figure")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--workers",
        type=int,
        default=SERVE_WORKERS,
        help="Fengling's server processes (default: fengling serve's, one per core)",
    )
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()

    why_not = install_pouchdb()
    if why_not:
        print(f"PouchDB Server skipped ({why_not}); Fengling's figures only.")
    starters: dict[str, Callable[[Path], Any]] = {
        "fengling": lambda work: Fengling(work, args.workers, args.database)
    }
    if not why_not:
        starters["pouchdb"] = PouchDB
    runs: dict[str, list[dict]] = {name: [] for name in starters}
    work = Path(tempfile.mkdtemp(prefix="fengling-vs-pouchdb-"))
    try:
        for run in range(args.runs):
            order = list(starters) if run % 2 == 0 else list(reversed(starters))
            for name in order:
                print(f"run {run + 1}/{args.runs}: {name} ...", flush=True)
                system = starters[name](work)
                try:
                    runs[name].append(measure(system, args.records))
                finally:
                    system.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    medians = {
        name: {key: statistics.median(run[key] for run in values) for key in values[0]}
        for name, values in runs.items()
    }
    text, rows = table(medians)
    machine = f"{os.cpu_count()} cores, {sys.platform}, Python {sys.version.split()[0]}"
    print(
        f"\nFengling ({args.workers} processes, {args.database}) vs PouchDB Server "
        f"{POUCHDB_VERSION} (leveldb): {args.records} documents per push figure, "
        f"median of {args.runs} runs, alternating order; {machine}\n"
    )
    print(text)
    result = {
        "machine": machine,
        "date": time.strftime("%Y-%m-%d"),
        "records": args.records,
        "runs": args.runs,
        "workers": args.workers,
        "database": args.database,
        "pouchdb": None if why_not else POUCHDB_VERSION,
        "pouchdb_skipped": why_not,
        "medians": medians,
        "all_runs": runs,
        "rows": rows,
        "table": text,
    }
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    target = out / f"vs-pouchdb-{args.database}-{time.strftime('%Y%m%dT%H%M%S')}.json"
    target.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print(f"\nwritten: {target.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
