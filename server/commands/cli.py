"""The `fengling` command: database, demo data, users, and the production server."""

from __future__ import annotations

import os
import sys

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from server.extensions import db
from server.jobs.runner import JOB_NAMES


def init_app(app: Flask) -> None:
    app.cli.add_command(db_group)
    app.cli.add_command(seed_demo)
    app.cli.add_command(user_group)
    app.cli.add_command(serve)
    app.cli.add_command(device_group)
    app.cli.add_command(jobs_command)
    app.cli.add_command(restore_command)
    app.cli.add_command(token_group)
    app.cli.add_command(mirror_command)


@click.group("db")
def db_group() -> None:
    """Database schema (Alembic migrations)."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Bring the database schema up to REVISION (default: head)."""
    from server.storage import migrate

    migrate.upgrade(db.engine, revision)
    click.echo(f"database at {revision}: {safe_url()}")


@db_group.command("downgrade")
@click.argument("revision")
@with_appcontext
def db_downgrade(revision: str) -> None:
    """Take the database schema down to REVISION."""
    from server.storage import migrate

    migrate.downgrade(db.engine, revision)
    click.echo(f"database at {revision}")


@click.command("seed-demo")
@with_appcontext
def seed_demo() -> None:
    """Load the five towns, categories, the red-heritage route and demo users (idempotent)."""
    from server.commands.demo import seed

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
    from server.accounts.users import AccountError, create_user

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
    from server.accounts.users import revoke_device

    if not revoke_device(device_id):
        raise click.ClickException(f"no device {device_id}")
    click.echo(f"revoked {device_id}")


@click.command("jobs")
@click.argument("name", type=click.Choice(JOB_NAMES))
@click.option("--dry-run", is_flag=True, help="Say what would change; change nothing.")
@with_appcontext
def jobs_command(name: str, dry_run: bool) -> None:
    """Run a scheduled job once (safe to run twice at once: the second one exits)."""
    from server.jobs.runner import run_job

    outcome = run_job(name, dry_run=dry_run)
    click.echo(outcome.line)
    sys.exit(outcome.exit_code)


@click.command("restore")
@click.argument("backup", type=click.Path(exists=True, file_okay=False))
@click.option("--force", is_flag=True, help="Replace a database that already holds data.")
@with_appcontext
def restore_command(backup: str, force: bool) -> None:
    """Bring a backup folder back; devices then resync (new epoch) and keep their outboxes."""
    from pathlib import Path

    from server.jobs.backup import BackupError, restore

    try:
        result = restore(Path(backup), force=force)
    except BackupError as error:
        raise click.ClickException(f"refused: {error}") from error
    click.echo(f"restored {result['rows']} rows from {backup}; new epoch {result['epoch']}")


@click.group("token")
def token_group() -> None:
    """Tokens for headless clients."""


@token_group.command("create")
@click.argument("username")
@click.option("--name", default="integration job", help="A name for the device in the console.")
@with_appcontext
def token_create(username: str, name: str) -> None:
    """Create a device for USERNAME (an integration account) and print its token once."""
    from server.accounts.users import AccountError, create_token

    try:
        device_id, token = create_token(username, name)
    except AccountError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"device {device_id}", err=True)
    click.echo(token)


@click.command("mirror")
@click.option("--url", required=True, help="The server, e.g. https://fengling.example.org")
@click.option("--token-file", required=True, type=click.File("r"))
@click.option(
    "--into",
    "into",
    required=True,
    help="A .db/.sqlite file (SQLite mirror) or a folder (JSON Lines).",
)
@click.option("--max-pages", type=int, default=1_000_000, show_default=True)
def mirror_command(url: str, token_file, into: str, max_pages: int) -> None:
    """Mirror the feed this account may see, incrementally; resumes where it stopped."""
    from clients.mirror import FeedClient, MirrorError, mirror, open_target

    target = open_target(into)
    show = sys.stderr.isatty()

    def progress(summary) -> None:
        if show:
            click.echo(
                f"\r{summary.pages} pages, {summary.upserts} records, {summary.removals} removals",
                err=True,
                nl=False,
            )

    try:
        summary = mirror(FeedClient(url, token_file.read().strip()), target, progress, max_pages)
    except MirrorError as error:
        raise click.ClickException(str(error)) from error
    finally:
        target.close()
    if show:
        click.echo("", err=True)
    click.echo(
        f"mirrored: {summary.pages} pages, {summary.upserts} upserts, "
        f"{summary.removals} removals, {summary.resyncs} resyncs"
    )


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--workers",
    default=lambda: max(2, os.cpu_count() or 2),
    show_default="the number of CPU cores, at least 2",
    type=int,
)
@click.option("--threads", default=8, show_default=True, type=int, help="requests per worker")
@with_appcontext
def serve(host: str, port: int, workers: int, threads: int) -> None:
    """Run the production WSGI server (gunicorn): several worker processes, each serving
    several requests at once."""
    from server.commands.wsgi_server import run

    click.echo(
        f"Fengling is serving at http://{host}:{port}/  (API: /api/v1, "
        f"{workers} workers × {threads} threads, database: {safe_url()})\n"
        f"Supervisor console: http://{host}:{port}/console"
    )
    run(host, port, workers, bool(current_app.config["TRUST_PROXY_HEADERS"]), threads)


def safe_url(url: str | None = None) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url or current_app.config["DATABASE_URL"]).render_as_string(hide_password=True)


def main() -> None:
    """Entry point of the `fengling` console script."""
    from server import create_app

    FlaskGroup(
        create_app=create_app, add_default_commands=True, set_debug_flag=False, load_dotenv=False
    )(prog_name="fengling")
