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
        context = MigrationContext.configure(conn, opts={"compare_type": True})
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
        entries = db.session.scalars(db.select(FeedEntry).filter_by(entity="user")).all()
        return {e.record_id: json.loads(e.data)["username"] for e in entries}

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
