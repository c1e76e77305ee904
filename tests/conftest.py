"""Fixtures: an app on a fresh database (SQLite and PostgreSQL), devices that sync with it.

Each test database is a copy of a template built once per run by `alembic upgrade head`
plus the demo reference data, so the migrations are what every test runs on.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient

from server import create_app
from server.clock import FixedClock, pinned
from server.extensions import db
from tests.factories import DEMO_PASSWORD, DeviceClient

PG_ADMIN_URL = os.environ.get("FENGLING_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
BACKENDS = ["sqlite", "postgresql"]
# The moment `clock` pins: Thursday 26 November 2026, 09:12 in Zhejiang (factories.CLIENT_TIME).
CLOCK_START = datetime(2026, 11, 26, 1, 12, tzinfo=UTC)


def pg_url(database: str) -> str:
    base, _, _ = PG_ADMIN_URL.rpartition("/")
    return f"{base}/{database}"


def pg_admin(statement: str) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(statement)


def build_template(url: str, data_dir: Path) -> None:
    """Migrate and seed reference data and demo users (no demo cases)."""
    from server.commands.demo import seed
    from server.storage import migrate

    app = create_app({"TESTING": True, "DATA_DIR": str(data_dir), "DATABASE_URL": url})
    with app.app_context():
        migrate.upgrade(db.engine)
        seed(DEMO_PASSWORD, with_cases=False)
        db.engine.dispose()


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    root = tmp_path_factory.mktemp("templates")
    sqlite_file = root / "template.db"
    build_template(f"sqlite:///{sqlite_file}", root)
    pg_name = f"fengling_tmpl_{uuid.uuid4().hex[:8]}"
    pg_admin(f'CREATE DATABASE "{pg_name}"')
    build_template(pg_url(pg_name), root)
    yield {"sqlite": str(sqlite_file), "postgresql": pg_name}
    pg_admin(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')


@pytest.fixture
def clock() -> Iterator[FixedClock]:
    """The server's "now", stopped at CLOCK_START for the test and given back afterwards.

    A test that depends on the date takes this fixture and reads its dates from it (clock.at)
    or sets them outright (clock.set(datetime(...)), clock.advance(days=1)); it never reads
    the wall clock. Servers in other processes keep the real clock.
    """
    with pinned(CLOCK_START) as fixed:
        yield fixed


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def database_url(backend: str, templates: dict[str, str], tmp_path: Path) -> Iterator[str]:
    """A fresh copy of the template database for one test."""
    if backend == "sqlite":
        target = tmp_path / "fengling.db"
        shutil.copyfile(templates["sqlite"], target)
        yield f"sqlite:///{target}"
        return
    name = f"fengling_t_{uuid.uuid4().hex[:12]}"
    pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{templates["postgresql"]}"')
    yield pg_url(name)
    pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def make_app(database_url: str, tmp_path: Path) -> Iterator:
    """make_app(**config) -> an app on this test's database, with config overrides."""
    made: list[Flask] = []

    def build(**config) -> Flask:
        app = create_app(
            {
                "TESTING": True,
                "DATA_DIR": str(tmp_path / "data"),
                "DATABASE_URL": database_url,
                **config,
            }
        )
        made.append(app)
        return app

    yield build
    for app in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(make_app) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def login(client: FlaskClient):
    """login("dayan_worker") -> a signed-in DeviceClient with a new device id."""

    def sign_in(username: str, **kwargs) -> DeviceClient:
        device = DeviceClient(client, username, **kwargs)
        device.login()
        return device

    return sign_in


@pytest.fixture
def worker(login) -> DeviceClient:
    return login("dayan_worker")


@pytest.fixture
def supervisor(login) -> DeviceClient:
    return login("dayan_supervisor")


@pytest.fixture
def sites(worker) -> dict[str, dict]:
    """The demo heritage sites by code: {"code": {"id", "lat", "lon", "radius_m", "town"}}."""
    worker.sync()
    return {c["data"]["code"]: {"id": rid, **c["data"]} for rid, c in worker.of("site").items()}


@pytest.fixture
def rows(app: Flask):
    """rows(Model, **filters) -> the rows of a table, read straight from the database."""

    def read(model, **filters):
        with app.app_context():
            query = db.select(model).filter_by(**filters)
            found = db.session.scalars(query).all()
            db.session.close()  # detach without expiring what was read
            return found

    return read


@pytest.fixture
def execute(app: Flask):
    """execute(sql, **params): a change made the way an operator or a restore would make it."""
    from sqlalchemy import text

    def run(sql: str, **params) -> None:
        with app.app_context():
            db.session.execute(text(sql), params)
            db.session.commit()

    return run


@pytest.fixture
def clashing_create(execute):
    """clashing_create() -> a case.create the database will refuse after its case row is
    written: a feed row already names its record (left by an operator's repair, say), so
    its own feed row breaks the feed's key. The rules cannot foresee it."""
    from tests.factories import case_create

    def make() -> dict:
        clash = case_create()
        execute(
            "INSERT INTO feed (entity, record_id, seq, op, version, town_mask, data) "
            "VALUES ('case', :id, -1, 'upsert', 1, 0, '{}')",
            id=clash["record_id"],
        )
        return clash

    return make


@pytest.fixture
def statements(app: Flask):
    """statements(lambda: ...) -> the SQL statements the call ran, transaction control left
    out: to show what a page or a push reads, and that it costs the same however much it
    holds."""
    from sqlalchemy import event

    with app.app_context():
        engine = db.engine

    def run(action: Callable[[], object]) -> list[str]:
        ran: list[str] = []

        def record(conn, cursor, statement, *args) -> None:
            control = ("BEGIN", "PRAGMA", "SAVEPOINT", "RELEASE")
            if not statement.lstrip().upper().startswith(control):
                ran.append(statement)

        event.listen(engine, "before_cursor_execute", record)
        try:
            action()
        finally:
            event.remove(engine, "before_cursor_execute", record)
        return ran

    return run


@pytest.fixture
def queries(statements):
    """queries(lambda: ...) -> how many SQL statements the call ran."""
    return lambda action: len(statements(action))
