"""The migrations are the schema: one head, they match the models, and they go down and up."""

from __future__ import annotations

import json

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from server.extensions import db
from server.models import Base
from server.storage import migrate
from tests.factories import case_create


def test_migrations_have_a_single_head(app):
    with app.app_context():
        script = ScriptDirectory.from_config(migrate.alembic_config(db.engine))
    assert len(script.get_heads()) == 1


def test_models_match_the_migrated_schema(app):
    with app.app_context(), db.engine.connect() as conn:
        opts = {"compare_type": True, "include_object": migrate.include_for(conn.dialect.name)}
        context = MigrationContext.configure(conn, opts=opts)
        assert compare_metadata(context, Base.metadata) == []


def test_downgrade_then_upgrade_on_a_database_with_rows(app, worker):
    worker.push_ok(case_create())
    with app.app_context():
        migrate.downgrade(db.engine, "base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        migrate.upgrade(db.engine)
        tables = set(inspect(db.engine).get_table_names())
    assert set(Base.metadata.tables) <= tables


def test_the_feed_stops_carrying_login_names_and_a_downgrade_gives_them_back(app):
    """Phones pulled every user's login name before revision 0006; the upgrade clears them
    from the feed's user records."""
    from server.models import FeedEntry, User

    def feed_usernames() -> dict[str, str | None]:
        # Only columns that revision 0005 has: the model's later ones are not there yet.
        entries = db.session.execute(
            db.select(FeedEntry.record_id, FeedEntry.data).where(FeedEntry.entity == "user")
        )
        return {record_id: json.loads(data)["username"] for record_id, data in entries}

    with app.app_context():
        script = ScriptDirectory.from_config(migrate.alembic_config(db.engine))
        before = script.get_revision("0006").down_revision
        names = {id_: name for id_, name in db.session.execute(db.select(User.id, User.username))}
        db.session.close()
        migrate.downgrade(db.engine, before)
        assert feed_usernames() == names
        db.session.close()
        migrate.upgrade(db.engine)
        assert set(feed_usernames().values()) == {None}
        db.session.close()


def test_receipts_learn_their_user_and_unattributable_ones_on_shared_phones_go(
    app, client, execute, rows
):
    """Revision 0008: a receipt takes the user of its changes or of its rejection. One that
    nothing attributes stays (user null) on a phone that has had one user, and is deleted on a
    phone that changed hands before this version: no one can prove whose it is."""
    from server.models import MutationReceipt
    from tests.factories import DeviceClient, case_update, new_id

    shared, own = DeviceClient(client, "dayan_worker"), DeviceClient(client, "xidian_worker")
    shared.login(), own.login()
    create = case_create()
    [applied] = shared.push_ok(create)
    [refused] = shared.push_ok(case_update(new_id(), 1, title="无"))
    assert applied["status"] == "applied" and refused["status"] == "rejected"
    shenzhen = DeviceClient(client, "shenzhen_worker")
    shenzhen.login()

    with app.app_context():
        script = ScriptDirectory.from_config(migrate.alembic_config(db.engine))
        migrate.downgrade(db.engine, script.get_revision("0008").down_revision)
    unknown_shared, unknown_own = new_id(), new_id()
    for device_id, mutation_id in (
        (shared.device_id, unknown_shared),
        (own.device_id, unknown_own),
    ):
        execute(
            "INSERT INTO mutation_receipts (device_id, mutation_id, result, created_at)"
            " VALUES (:d, :m, '{}', '2026-11-30 08:00:00+00:00')",
            d=device_id,
            m=mutation_id,
        )
    # The shared phone went to the Shenzhen worker, as a sign-in did before this version.
    execute(
        "UPDATE devices SET user_id = :u WHERE id = :d", u=shenzhen.user["id"], d=shared.device_id
    )
    with app.app_context():
        migrate.upgrade(db.engine)

    owners = {(r.device_id, r.mutation_id): r.user_id for r in rows(MutationReceipt)}
    assert owners == {
        (shared.device_id, create["mutation_id"]): shared.user["id"],
        (shared.device_id, refused["mutation_id"]): shared.user["id"],
        (own.device_id, unknown_own): None,
    }


def test_case_number_counters_start_from_the_greatest_number_compared_as_integers(
    clock, app, login, execute, rows
):
    """Revision 0009: each town's year's counter starts at its greatest case number. Past
    99,999 numbers have six digits and "-100000" sorts before "-99999" as text; the counter
    takes 100000, and the town's next case is 100001."""
    from server.models import Case, CaseNumberCounter

    admin = login("admin")
    dayan = [case_create("dayan"), case_create("dayan")]
    admin.push_ok(*dayan, case_create("xidian"))
    with app.app_context():
        migrate.downgrade(db.engine, "0008")
    for mutation, number in zip(dayan, ("DY2026-99999", "DY2026-100000"), strict=True):
        execute("UPDATE cases SET number = :n WHERE id = :id", n=number, id=mutation["record_id"])
    with app.app_context():
        migrate.upgrade(db.engine)

    counters = {c.prefix: c.last_number for c in rows(CaseNumberCounter)}
    assert counters == {"DY2026-": 100_000, "XD2026-": 1}
    later = case_create("dayan")
    admin.push_ok(later)
    assert [c.number for c in rows(Case, id=later["record_id"])] == ["DY2026-100001"]
