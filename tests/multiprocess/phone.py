"""A phone that syncs over real HTTP with a flaky link: lost replies, duplicates, retries."""

from __future__ import annotations

import random
import threading
import time
import uuid
from typing import Any

import requests

from tests.factories import DEMO_PASSWORD, case_create, case_event, case_update, transition

MAX_RETRIES = 8
USERS = [
    f"{town}_{role}"
    for town in ("dayan", "shenzhen", "xidian", "shiliang", "xiaojiang")
    for role in ("worker", "supervisor")
]
TOWNS = ["dayan", "shenzhen", "xidian", "shiliang", "xiaojiang"]


class Phone:
    """A device with an outbox that it empties over a flaky link."""

    def __init__(self, base: str, username: str, seed: int):
        self.base, self.username = base, username
        self.rng = random.Random(seed)
        self.http = requests.Session()
        self.device_id = str(uuid.uuid4())
        self.cursor: str | None = None
        self.records: dict[tuple[str, str], dict] = {}
        self.sent: dict[str, dict] = {}  # mutation_id -> the mutation
        self.results: dict[str, dict] = {}  # mutation_id -> the result the phone finally saw
        response = self.http.post(
            f"{base}/api/v1/auth/login",
            timeout=30,
            json={
                "username": username,
                "password": DEMO_PASSWORD,
                "device": {"id": self.device_id},
            },
        )
        response.raise_for_status()
        self.user = response.json()["user"]
        self.http.headers.update(
            {"Authorization": f"Bearer {response.json()['token']}", "X-Schema-Version": "1"}
        )

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Retry 503s and dropped connections with bounded backoff."""
        for attempt in range(MAX_RETRIES):
            try:
                response = self.http.request(method, f"{self.base}{path}", timeout=30, **kwargs)
                if response.status_code != 503:
                    return response
            except requests.ConnectionError:
                pass
            time.sleep(min(2.0, 0.05 * 2**attempt) * self.rng.random())
        raise AssertionError(f"{path} kept failing")

    def push(self, mutations: list[dict]) -> None:
        for mutation in mutations:
            self.sent[mutation["mutation_id"]] = mutation
        if self.rng.random() < 0.3:
            self.request("POST", "/api/v1/sync/push", json={"mutations": mutations})  # lost reply
        batch = list(mutations)
        if self.rng.random() < 0.3:
            batch = batch + batch[: self.rng.randint(1, len(batch))]  # duplicated inside a batch
        response = self.request("POST", "/api/v1/sync/push", json={"mutations": batch})
        assert response.status_code == 200, response.text
        for result in response.json()["results"]:
            self.results[result["mutation_id"]] = result

    def sync(self) -> None:
        self.records, self.cursor = self.pull_into(dict(self.records), self.cursor)

    def pull_into(self, records: dict, cursor: str | None) -> tuple[dict, str]:
        """Pull until has_more is false, applying the changes to `records`."""
        for _ in range(1000):
            params = {"cursor": cursor} if cursor else {}
            page = self.request("GET", "/api/v1/sync/pull", params=params).json()
            for change in page["changes"]:
                key = (change["entity"], change["record_id"])
                if change["op"] == "remove":
                    records.pop(key, None)
                else:
                    records[key] = change
            cursor = page["cursor"]
            if not page["has_more"]:
                return records, cursor
        raise AssertionError("pull did not finish")

    def work_round(self) -> None:
        """Record new cases, edit and move cases it can see, add timeline entries."""
        self.sync()
        town = self.user["town"]
        others = [t for t in TOWNS if t != town]
        mutations = [
            case_create(
                town,
                involved_towns=self.rng.sample(others, self.rng.randint(0, 1)),
                title=f"{self.username} 的案件",
            )
            for _ in range(self.rng.randint(1, 3))
        ]
        cases = [c for (entity, _), c in self.records.items() if entity == "case"]
        for case in self.rng.sample(cases, min(len(cases), 3)):
            field = self.rng.choice(["title", "description", "severity"])
            value = (
                self.rng.choice(["low", "medium", "high"])
                if field == "severity"
                else (f"{self.username} 改 {self.rng.randint(0, 999)}")
            )
            mutations.append(case_update(case["record_id"], case["version"], **{field: value}))
            mutations.append(case_event(case["record_id"], kind="note"))
            if case["data"]["status"] == "registered" and self.user["role"] == "supervisor":
                mutations.append(transition(case["record_id"], "registered", "accepted"))
        self.push(mutations)


def run_phones(phones: list[Phone], rounds: int) -> None:
    """Every phone works `rounds` rounds at once, each in its own thread."""
    errors: list[BaseException] = []

    def run(phone: Phone) -> None:
        try:
            for _ in range(rounds):
                phone.work_round()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(phone,)) for phone in phones]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    assert not errors, errors


def check_converged(phones: list[Phone]) -> None:
    """After a final pull each phone holds exactly what a fresh pull of the server gives it."""
    for phone in phones:
        phone.sync()
        server_view, _ = phone.pull_into({}, None)
        assert phone.records == server_view, f"{phone.username} diverged"


def check_nothing_lost_or_doubled(phones: list[Phone], database_url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        receipts = {
            (d, m)
            for d, m in conn.execute(text("SELECT device_id, mutation_id FROM mutation_receipts"))
        }
        applied_creates = [
            m
            for (m,) in conn.execute(
                text(
                    "SELECT mutation_id FROM changes"
                    " WHERE action IN ('case.create', 'case_event.create')"
                )
            )
        ]
        cases = conn.execute(text("SELECT count(*) FROM cases")).scalar_one()
    engine.dispose()
    for phone in phones:
        # Every mutation the phone sent has exactly one stored result, the one it was shown.
        assert all((phone.device_id, m) in receipts for m in phone.sent)
        assert set(phone.results) == set(phone.sent)
    assert len(applied_creates) == len(set(applied_creates)), "a create was applied twice"
    case_creates = sum(
        1
        for p in phones
        for m in p.sent.values()
        if m["op"] == "case.create" and p.results[m["mutation_id"]]["status"] == "applied"
    )
    assert cases == case_creates
