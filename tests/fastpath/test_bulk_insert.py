"""Rows written by the bulk insert (server.fastpath.bulk_insert) are stored as SQLAlchemy's
own insert stores them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import text

from server.extensions import db
from server.fastpath.bulk_insert import insert_many
from server.models import Case
from server.models.base import new_id
from server.storage.database import begin_write


def test_rows_written_by_insert_many_are_stored_as_sqlalchemy_stores_them(app):
    """The push path's fast insert gives the same stored values, Chinese text, JSON, times
    and flags included, as SQLAlchemy's own insert, on each database."""
    with app.app_context():
        town, category = db.session.execute(
            text("SELECT t.code, c.code FROM towns t, categories c LIMIT 1")
        ).one()
        user = db.session.execute(text("SELECT id FROM users LIMIT 1")).scalar_one()
        moment = datetime(2026, 11, 26, 9, 12, 30, 123456, tzinfo=timezone(timedelta(hours=8)))

        def case(number: str) -> dict:
            return {
                "id": new_id(),
                "number": number,
                "title": "山林权属争议",
                "category": category,
                "primary_town": town,
                "involved_towns": [town],
                "description": "双方各执一词",
                "parties": [{"name": "李某", "role": "applicant", "phone": "+86 138"}],
                "severity": "high",
                "location": {"lat": 29.48, "lon": 121.17, "accuracy_m": 12.5},
                "photos": [],
                "reported_at": moment,
                "status": "registered",
                "assignee": None,
                "due_at": moment + timedelta(days=3),
                "reported_by": user,
                "created_at": moment,
                "updated_at": moment,
                "is_cross_town": True,
                "town_mask": 5,
                "version": 1,
            }

        fast, usual = case("TEST-1"), case("TEST-2")
        db.session.rollback()
        begin_write(db.session, lock_feed=False)
        insert_many(db.session.connection(), Case.__table__, [fast])
        db.session.execute(Case.__table__.insert(), [usual])
        db.session.commit()
        stored = {
            number: row
            for number, *row in db.session.connection().exec_driver_sql(
                "SELECT number, title, involved_towns, parties, description, severity, location, "
                "photos, reported_at, status, assignee, due_at, created_at, is_cross_town, "
                "town_mask, version FROM cases WHERE number IN ('TEST-1', 'TEST-2')"
            )
        }
        assert stored["TEST-1"] == stored["TEST-2"]
        loaded = db.session.get(Case, fast["id"])
        assert (loaded.parties[0]["name"], loaded.reported_at, loaded.is_cross_town) == (
            "李某",
            moment,
            True,
        )
