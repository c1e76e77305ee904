"""Fengling server: the app factory."""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.routing import BaseConverter

from server.config import Config, finalise


class Sha256Converter(BaseConverter):
    regex = "[0-9a-f]{64}"


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Defaults, then FENGLING_* environment variables, then `config` (tests)."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_object(Config)
    app.config.from_prefixed_env("FENGLING")
    if config:
        app.config.update(config)
    finalise(app.config)
    app.config["MAX_CONTENT_LENGTH"] = app.config["BLOB_MAX_BYTES"] + 1024
    app.json.ensure_ascii = False
    app.url_map.converters["sha256"] = Sha256Converter

    from server.commands import cli
    from server.extensions import db
    from server.storage.database import configure_engine
    from server.sync.ops import guard_check_steps
    from server.web import api, console, errors, health, pwa, requestlog, security_headers

    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine, app.config["LOCK_TIMEOUT_MS"])
        guard_check_steps(db.engine)
    errors.init_app(app)
    requestlog.init_app(app)
    security_headers.init_app(app)
    app.register_blueprint(health.bp)
    api.init_app(app)
    pwa.init_app(app)
    console.init_app(app)
    cli.init_app(app)
    return app
