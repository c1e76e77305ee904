"""Statements run on the driver (server.fastpath.prepared) give what SQLAlchemy gives."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import literal_column, select

from server.domain.visibility import ALL_TOWNS
from server.extensions import db
from server.fastpath.prepared import run_prepared
from server.sync.context import CATEGORIES, TOWNS
from server.sync.pull import STATE, VISIBLE_CHANGES
from tests.factories import case_create, case_event


def test_the_pulls_statements_give_the_same_rows_prepared_as_through_sqlalchemy(app, worker, login):
    """On each database, over a feed with visible, hidden and revoked records."""
    case = case_create()
    worker.push_ok(case, case_create(), case_event(case["record_id"]))
    login("xidian_worker").push_ok(case_create(town="xidian"))
    with app.app_context():
        conn = db.session.connection()
        for statement in (STATE, TOWNS, CATEGORIES):
            assert list(run_prepared(conn, statement)) == list(conn.execute(statement))

        @given(
            after=st.integers(-1, 40),
            mask=st.integers(0, 2**5 - 1) | st.just(ALL_TOWNS),  # an admin sees all
            limit=st.integers(1, 50),
            user_id=st.sampled_from(["", "nobody"]),
        )
        @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        def same_page(after: int, mask: int, limit: int, user_id: str) -> None:
            params = {"after": after, "mask": mask, "limit": limit, "user_id": user_id}
            prepared = run_prepared(conn, VISIBLE_CHANGES, **params)
            assert list(prepared) == list(conn.execute(VISIBLE_CHANGES, params))

        same_page()
        db.session.rollback()


def test_a_new_statement_never_runs_the_sql_of_a_dropped_one(app):
    """Statements made and dropped one after another may reuse an object id."""
    with app.app_context():
        conn = db.session.connection()
        for number in range(300):
            assert run_prepared(conn, select(literal_column(str(number))))[0][0] == number
        db.session.rollback()
