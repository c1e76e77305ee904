"""The `fengling` command: database, demo data, users, and the production server."""

from __future__ import annotations

import os
import sys

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from server.extensions import db


def init_app(app: Flask) -> None:
    app.cli.add_command(db_group)
    app.cli.add_command(seed_demo)
    app.cli.add_command(user_group)
    app.cli.add_command(serve)
    app.cli.add_command(device_group)


@click.group("db")
def db_group() -> None:
    """Database schema (Alembic migrations)."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Bring the database schema up to REVISION (default: head)."""
    from server import migrate

    migrate.upgrade(db.engine, revision)
    click.echo(f"database at {revision}: {safe_url()}")


@db_group.command("downgrade")
@click.argument("revision")
@with_appcontext
def db_downgrade(revision: str) -> None:
    """Take the database schema down to REVISION."""
    from server import migrate

    migrate.downgrade(db.engine, revision)
    click.echo(f"database at {revision}")


@click.command("seed-demo")
@with_appcontext
def seed_demo() -> None:
    """Load the five towns, categories, the red-heritage route and demo users (idempotent)."""
    from server.demo import seed

    password = os.environ.get("FENGLING_DEMO_PASSWORD", "fengling-demo")
    summary = seed(password)
    click.echo(summary)
    click.echo(f"demo users' password: {password}  (set FENGLING_DEMO_PASSWORD to change)")


@click.group("user")
def user_group() -> None:
    """User accounts."""


@user_group.command("add")
@click.argument("username")
@click.option(
    "--role", type=click.Choice(["worker", "supervisor", "admin", "integration"]), required=True
)
@click.option("--town", help="Home town code (workers and supervisors).")
@click.option(
    "--scope-town",
    "scope_towns",
    multiple=True,
    help="Integration accounts: a town they may read (repeat); none means all.",
)
@click.option("--display-name", default=None)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
def user_add(
    username: str,
    role: str,
    town: str | None,
    scope_towns: tuple[str, ...],
    display_name: str | None,
    password_stdin: bool,
) -> None:
    """Create a user account."""
    from server.accounts import AccountError, create_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = create_user(
            username, password, role, town, display_name or username, list(scope_towns) or None
        )
    except AccountError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"created {user.role} {user.username} ({user.town_code or 'all towns'})")


@click.group("device")
def device_group() -> None:
    """Devices (phones and jobs)."""


@device_group.command("revoke")
@click.argument("device_id")
@with_appcontext
def device_revoke(device_id: str) -> None:
    """Revoke a lost phone: its next request is refused with 401 device_revoked."""
    from server.accounts import revoke_device

    if not revoke_device(device_id):
        raise click.ClickException(f"no device {device_id}")
    click.echo(f"revoked {device_id}")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=4, show_default=True, type=int)
@with_appcontext
def serve(host: str, port: int, workers: int) -> None:
    """Run the production WSGI server (gunicorn) with several worker processes."""
    from server.wsgi_server import run

    click.echo(
        f"Fengling is serving at http://{host}:{port}/  (API: /api/v1, "
        f"{workers} workers, database: {safe_url()})"
    )
    run(host, port, workers)


def safe_url(url: str | None = None) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url or current_app.config["DATABASE_URL"]).render_as_string(hide_password=True)


def main() -> None:
    """Entry point of the `fengling` console script."""
    from server import create_app

    FlaskGroup(
        create_app=create_app, add_default_commands=True, set_debug_flag=False, load_dotenv=False
    )(prog_name="fengling")
