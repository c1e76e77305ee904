"""A model of several phones and the console syncing in any order, with lost replies,
duplicated requests and restarts (Hypothesis stateful testing).

After any sequence: no acknowledged mutation is lost or applied twice, cursors never go
back, every losing value of a merge is kept as a conflict, and after a final sync every
phone holds exactly the server's view.
"""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from server import create_app
from server.extensions import db
from server.models import Case, MergeConflict, MutationReceipt
from server.sync.cursor import Cursor
from tests.conftest import pg_admin, pg_url
from tests.factories import DeviceClient, case_create, case_event, case_update, transition

PHONES = ("dayan_worker", "dayan_worker", "dayan_supervisor")
NEXT_MOVE = {
    "registered": "accepted",
    "accepted": "mediating",
    "mediating": "resolved",
    "resolved": "closed",
}
EXAMPLES = {"sqlite": 200, "postgresql": 25}
words = st.sampled_from(["甲", "乙", "丙", "界址", "水渠", "补充说明"])


class Phone(DeviceClient):
    """A DeviceClient with an outbox and what the server acknowledged."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.outbox: list[dict] = []
        self.ops: dict[str, str] = {}  # mutation_id -> op, for every intent ever queued
        self.acked: dict[str, dict] = {}
        self.last_position = (0, 0)

    def queue(self, mutation: dict) -> None:
        self.ops[mutation["mutation_id"]] = mutation["op"]
        self.outbox.append(mutation)

    def send(self, count: int, *, lose_reply: bool = False, twice: bool = False) -> None:
        batch = self.outbox[:count]
        if not batch:
            return
        results = self.push_ok(*batch)
        if twice:
            results = self.push_ok(*batch)
            assert all(r.get("replayed") for r in results)
        if lose_reply:
            return
        for result in results:
            self.acked[result["mutation_id"]] = {k: v for k, v in result.items() if k != "replayed"}
        del self.outbox[: len(batch)]

    def known_cases(self) -> list[tuple[str, int, str]]:
        """(id, version, status) of the cases this phone has pulled."""
        return [(rid, c["version"], c["data"]["status"]) for rid, c in self.of("case").items()]


def sign_in_without_password(phone: Phone) -> None:
    """What a login leaves behind (a device with a token), minus the Argon2 work each example
    would repeat; logins themselves are tested in tests/web/api/test_auth.py."""
    from server.accounts.passwords import new_token, token_hash
    from server.models import Device, User
    from server.models.base import utcnow

    user = db.session.scalar(db.select(User).where(User.username == phone.username))
    phone.token = new_token()
    phone.user = {"id": user.id, "town": user.town_code, "role": user.role}
    db.session.add(
        Device(
            id=phone.device_id,
            user_id=user.id,
            token_hash=token_hash(phone.token),
            token_issued_at=utcnow(),
        )
    )
    db.session.commit()


class SyncModel(RuleBasedStateMachine):
    def __init__(self, backend: str, template: str, folder: Path):
        super().__init__()
        self.backend, self.folder = backend, folder / uuid.uuid4().hex[:8]
        self.folder.mkdir(parents=True)
        if backend == "sqlite":
            shutil.copyfile(template, self.folder / "db.sqlite")
            url = f"sqlite:///{self.folder / 'db.sqlite'}"
        else:
            self.pg_name = f"fengling_m_{uuid.uuid4().hex[:12]}"
            pg_admin(f'CREATE DATABASE "{self.pg_name}" TEMPLATE "{template}"')
            url = pg_url(self.pg_name)
        self.app = create_app(
            {"TESTING": True, "DATA_DIR": str(self.folder / "data"), "DATABASE_URL": url}
        )
        client = self.app.test_client()
        self.phones = [Phone(client, name) for name in PHONES]
        with self.app.app_context():
            for phone in self.phones:
                sign_in_without_password(phone)

    @rule(phone=st.integers(0, 2), title=words)
    def record_a_case(self, phone: int, title: str) -> None:
        self.phones[phone].queue(case_create(title=title))

    @rule(
        phone=st.integers(0, 2),
        pick=st.integers(0, 50),
        field=st.sampled_from(["title", "description", "severity"]),
        value=words,
    )
    def edit_a_case(self, phone: int, pick: int, field: str, value: str) -> None:
        device = self.phones[phone]
        cases = device.known_cases()
        if cases:
            record_id, version, _ = cases[pick % len(cases)]
            if field == "severity":
                value = ["low", "medium", "high"][pick % 3]
            device.queue(case_update(record_id, version, **{field: value}))

    @rule(phone=st.integers(0, 2), pick=st.integers(0, 50))
    def note_or_move(self, phone: int, pick: int) -> None:
        device = self.phones[phone]
        cases = device.known_cases()
        if not cases:
            return
        record_id, _, status = cases[pick % len(cases)]
        if pick % 2 and status in NEXT_MOVE:
            device.queue(transition(record_id, status, NEXT_MOVE[status]))
        else:
            device.queue(case_event(record_id, kind="note"))

    @rule(phone=st.integers(0, 2), count=st.integers(1, 6))
    def push(self, phone: int, count: int) -> None:
        self.phones[phone].send(count)

    @rule(phone=st.integers(0, 2), count=st.integers(1, 6))
    def push_and_lose_the_reply(self, phone: int, count: int) -> None:
        self.phones[phone].send(count, lose_reply=True)

    @rule(phone=st.integers(0, 2), count=st.integers(1, 6))
    def push_the_same_request_twice(self, phone: int, count: int) -> None:
        self.phones[phone].send(count, twice=True)

    @rule(phone=st.integers(0, 2))
    def pull(self, phone: int) -> None:
        self.phones[phone].sync()

    @rule(phone=st.integers(0, 2))
    def restart_with_only_the_outbox(self, phone: int) -> None:
        """The local store was wiped but the outbox survived: pull from scratch."""
        device = self.phones[phone]
        device.cursor, device.records, device.last_position = None, {}, (0, 0)

    @rule(pick=st.integers(0, 50))
    def console_assigns(self, pick: int) -> None:
        supervisor = self.phones[2]
        cases = supervisor.known_cases()
        if cases:
            from tests.factories import assign

            supervisor.push_ok(assign(cases[pick % len(cases)][0], supervisor.user["id"]))

    @invariant()
    def cursors_never_go_back(self) -> None:
        for device in self.phones:
            if device.cursor:
                position = Cursor.decode(device.cursor).position
                assert position >= device.last_position
                device.last_position = position

    def teardown(self) -> None:
        try:
            for _ in range(50):
                for device in self.phones:
                    device.send(len(device.outbox))
                if not any(d.outbox for d in self.phones):
                    break
            self.check_final_state()
        finally:
            with self.app.app_context():
                db.session.remove()
                db.engine.dispose()
            if self.backend == "postgresql":
                pg_admin(f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)')
            shutil.rmtree(self.folder, ignore_errors=True)

    def check_final_state(self) -> None:
        with self.app.app_context():
            receipts = {
                (r.device_id, r.mutation_id): json.loads(r.result)
                for r in db.session.scalars(db.select(MutationReceipt))
            }
            cases = db.session.scalar(db.select(db.func.count()).select_from(Case))
            conflicts = {c.id: c.incoming for c in db.session.scalars(db.select(MergeConflict))}
            db.session.rollback()
        created = 0
        for device in self.phones:
            for mutation_id, result in device.acked.items():
                # Nothing acknowledged is lost: the server keeps exactly what it answered.
                stored = receipts[(device.device_id, mutation_id)]
                assert stored["status"] == result["status"]
                assert stored.get("version") == result.get("version")
                for conflict in result.get("conflicts", []):
                    assert conflicts[conflict["conflict_id"]] == conflict["incoming"]
                if device.ops[mutation_id] == "case.create" and result["status"] == "applied":
                    created += 1
        assert cases == created  # every case created once, none twice
        for device in self.phones:
            device.sync()
            fresh = Phone(device.client, device.username)
            fresh.token = device.token
            fresh.sync()
            assert device.records == fresh.records  # converged on the server's view


@pytest.mark.slow
def test_phones_and_console_converge_whatever_the_order(backend, templates, tmp_path):
    settings_ = settings(
        max_examples=EXAMPLES[backend],
        stateful_step_count=40,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
        database=None,
    )
    run_state_machine_as_test(
        lambda: SyncModel(backend, templates[backend], tmp_path), settings=settings_
    )
