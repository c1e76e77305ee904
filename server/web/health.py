"""Liveness and readiness for load balancers and orchestrators."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from server.extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """The process is up and answering."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """Ready to serve: the database answers and the data directory is writable."""
    checks = {"database": database_ok(), "data_dir": data_dir_ok()}
    db.session.rollback()
    ready = all(checks.values())
    return jsonify(status="ok" if ready else "unavailable", checks=checks), 200 if ready else 503


def database_ok() -> bool:
    try:
        return db.session.execute(text("SELECT epoch FROM server_state")).scalar() is not None
    except DBAPIError:
        return False


def data_dir_ok() -> bool:
    blobs = Path(current_app.config["DATA_DIR"]) / "blobs"
    return blobs.is_dir() and os.access(blobs, os.W_OK)
