"""Limit logins per username and address (and bound device); no usernames in the feed

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 05:30:00

Login attempts get the device they came from (when it is bound to the user named) and an
index for the limit's buckets, (username, address, device, time). The `user` records in the
feed stop carrying login names: every phone pulls them, and a login name is half of what a
stranger needs to guess a password or aim the login limit at its owner. The field stays in
the record, null (docs/protocol.md, Extensions); pull fills it in for the caller's own user.
Downgrading writes the names back from `users`.
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Limit logins per username and address (and bound device); no usernames in the feed"""
    with op.batch_alter_table("login_attempts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("device_id", sa.String(length=36), nullable=True))
        batch_op.create_index(
            "ix_login_attempts_bucket",
            ["username", "remote_addr", "device_id", "at"],
            unique=False,
        )
    rewrite_user_feed_rows(lambda data, username: None)


def downgrade() -> None:
    """Give the login names back to the feed; drop the device column and the bucket index"""
    rewrite_user_feed_rows(lambda data, username: username)
    with op.batch_alter_table("login_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_login_attempts_bucket")
        batch_op.drop_column("device_id")


def rewrite_user_feed_rows(new_username) -> None:
    """Set `username` in each user record of the feed (a few hundred rows at most)."""
    conn = op.get_bind()
    rows = conn.execute(
        sa.text(
            "SELECT feed.record_id, feed.data, users.username FROM feed "
            "LEFT JOIN users ON users.id = feed.record_id "
            "WHERE feed.entity = 'user' AND feed.op = 'upsert'"
        )
    ).all()
    for record_id, text, username in rows:
        data = json.loads(text)
        value = new_username(data, username)
        if data.get("username") == value:
            continue
        data["username"] = value
        conn.execute(
            sa.text("UPDATE feed SET data = :data WHERE entity = 'user' AND record_id = :id"),
            {"data": json.dumps(data, ensure_ascii=False, separators=(",", ":")), "id": record_id},
        )
