"""The console's case queue and case page with 50,000 cases in the database.

Builds a SQLite database with the demo towns and users plus CASES cases (spread over towns,
statuses, categories, a year of dates, a fifth cross-town, a third assigned), starts the real
server (`fengling serve`, several processes) on 127.0.0.1, signs in through the console's
form like a browser, and times whole HTTP requests (query, rendering and transfer). Each
figure is the median of RUNS requests after one warm-up, with min and max.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

from testkit.server import ROOT, Server
from testkit.workload import TEXT, TOWNS

STATUSES = ["registered", "accepted", "mediating", "resolved", "escalated", "closed"]
TITLES = ["山林权属", "邻里噪音", "用水纠纷", "道路通行"]
CATEGORIES = ["land", "water", "roads", "labour", "neighbours", "family", "environment", "other"]
SURNAMES = "李王张刘陈杨黄赵周吴徐孙胡朱高林何郭马罗"


def fill(data_dir: Path, count: int, events: int) -> str:
    """Insert `count` cases straight into the database (loading is not what is measured);
    returns the id of a case with `events` timeline entries, for the case page."""
    from sqlalchemy import select

    from server import create_app
    from server.domain.visibility import town_mask
    from server.extensions import db
    from server.models import Case, CaseEvent, Town, User

    app = create_app({"DATA_DIR": str(data_dir)})
    rng = random.Random(7)
    with app.app_context():
        bits = dict(db.session.execute(select(Town.code, Town.bit)).all())
        abbrs = dict(db.session.execute(select(Town.code, Town.abbr)).all())
        workers = dict(
            db.session.execute(select(User.town_code, User.id).where(User.role == "worker")).all()
        )
        now = datetime.now(UTC)
        rows = []
        for i in range(count):
            town = TOWNS[i % 5]
            involved = [TOWNS[(i + 1) % 5]] if i % 5 == 0 else []
            created = now - timedelta(minutes=rng.randrange(365 * 24 * 60))
            status = STATUSES[rng.randrange(6)]
            rows.append(
                {
                    "id": str(uuid.uuid4()),
                    "number": f"{abbrs[town]}B-{i:06d}",
                    "title": f"{rng.choice(TITLES)}争议 {i}",
                    "category": CATEGORIES[i % 8],
                    "primary_town": town,
                    "involved_towns": involved,
                    "parties": [
                        {"name": rng.choice(SURNAMES) + "某" + str(i % 97), "role": "applicant"}
                    ],
                    "description": TEXT,
                    "severity": ["low", "medium", "high"][i % 3],
                    "location": {"lat": 29.4, "lon": 121.2, "accuracy_m": 10},
                    "photos": [],
                    "reported_at": created,
                    "status": status,
                    "assignee": workers[town] if i % 3 == 0 else None,
                    "due_at": created + timedelta(days=7),
                    "reported_by": workers[town],
                    "created_at": created,
                    "updated_at": created,
                    "is_cross_town": bool(involved),
                    "town_mask": town_mask([town, *involved], bits),
                    "version": 1,
                }
            )
            if len(rows) == 5000:
                db.session.execute(Case.__table__.insert(), rows)
                rows = []
        if rows:
            db.session.execute(Case.__table__.insert(), rows)
        target = db.session.scalar(select(Case.id).where(Case.primary_town == "dayan").limit(1))
        db.session.execute(
            CaseEvent.__table__.insert(),
            [
                {
                    "id": str(uuid.uuid4()),
                    "case_id": target,
                    "kind": "note",
                    "body": TEXT,
                    "at": now - timedelta(hours=n),
                    "photos": [],
                    "by": workers["dayan"],
                    "from_value": None,
                    "to_value": None,
                    "created_at": now,
                }
                for n in range(events)
            ],
        )
        db.session.commit()
        db.session.execute(db.text("ANALYZE"))
        db.session.commit()
        db.engine.dispose()
    return target


def sign_in(base: str, username: str, password: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{base}/console/login", timeout=30)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = session.post(
        f"{base}/console/login",
        timeout=30,
        allow_redirects=False,
        data={"csrf_token": token, "username": username, "password": password},
    )
    assert response.status_code == 302, response.text[:300]
    return session


def timed(session: requests.Session, url: str, runs: int) -> dict:
    assert session.get(url, timeout=60).status_code == 200  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        response = session.get(url, timeout=60)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, url
    return {"median": statistics.median(times), "min": min(times), "max": max(times)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="fengling-console-bench-"))
    os.environ["FENGLING_DEMO_PASSWORD"] = "bench-password"
    try:
        # Schema and demo users first (the Server helper migrates and seeds, then serves).
        Server(work, 1).stop()
        started = time.perf_counter()
        case_id = fill(work, args.cases, events=60)
        print(f"loaded {args.cases} cases in {time.perf_counter() - started:.1f} s")
        server = Server(work, args.workers)
        try:
            base = server.base
            admin = sign_in(base, "admin", "bench-password")
            dayan = sign_in(base, "dayan_supervisor", "bench-password")
            figures = {
                "queue, admin, first page (ms)": timed(admin, f"{base}/console/cases", args.runs),
                "queue, admin, status+category+town filters (ms)": timed(
                    admin,
                    f"{base}/console/cases?status=registered&category=land"
                    "&town=dayan&sort=due&dir=asc",
                    args.runs,
                ),
                "queue, supervisor, overdue+unassigned (ms)": timed(
                    dayan, f"{base}/console/cases?overdue=1&unassigned=1", args.runs
                ),
                "queue, admin, text search of party names (ms)": timed(
                    admin, f"{base}/console/cases?q=陈某1", args.runs
                ),
                "queue, admin, page 40 (ms)": timed(
                    admin, f"{base}/console/cases?page=40", args.runs
                ),
                "case page, 60 timeline entries (ms)": timed(
                    dayan, f"{base}/console/cases/{case_id}", args.runs
                ),
            }
        finally:
            server.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result = {
        "machine": f"{os.cpu_count()} cores, {sys.platform}",
        "cases": args.cases,
        "runs": args.runs,
        "workers": args.workers,
        "table": figures,
    }
    print(
        f"Fengling console benchmark: {args.cases} cases, SQLite, {args.workers} server "
        f"processes, {result['machine']}; goal: queue under 300 ms"
    )
    print(f"{'figure':<52} {'median':>9} {'min':>9} {'max':>9}")
    for name, values in figures.items():
        print(f"{name:<52} {values['median']:>9.1f} {values['min']:>9.1f} {values['max']:>9.1f}")
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    target = out / f"console-{time.strftime('%Y%m%dT%H%M%S')}.json"
    target.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print(f"written: {target.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
