"""Serves the field PWA (webapp/) at /, with the caching headers a service worker needs."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask, send_from_directory

WEBAPP_DIR = Path(__file__).resolve().parent.parent / "webapp"

bp = Blueprint("pwa", __name__)


@bp.get("/")
def index():  # noqa: ANN201
    return send_from_directory(WEBAPP_DIR, "index.html")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
