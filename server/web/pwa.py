"""Serves the field PWA (webapp/) at /, with the caching headers a service worker needs.

Only the shell's own folders are served (never arbitrary files of webapp/), each with
caching chosen for it: the worker script and the shell are revalidated on every load (the
service worker's versioned cache is what makes them work offline), icons may be cached.
Every response carries a strict Content-Security-Policy: scripts only from this origin.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask, Response, abort, current_app, send_from_directory

# The app shipped with the server; FENGLING_PWA_DIR serves another build (a staged update).
WEBAPP_DIR = Path(__file__).resolve().parents[2] / "webapp"

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' blob: data:",
        "connect-src 'self'",
        "manifest-src 'self'",
        "worker-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "geolocation=(self), camera=(self), microphone=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}
# Folder -> (allowed suffixes, Cache-Control).
FOLDERS = {
    "js": ({".js"}, "no-cache"),
    "css": ({".css"}, "no-cache"),
    "i18n": ({".json"}, "no-cache"),
    "icons": ({".png"}, "public, max-age=86400"),
}
MIME_TYPES = {".js": "text/javascript", ".json": "application/json", ".css": "text/css"}

bp = Blueprint("pwa", __name__)


def shell_file(relative: str, cache_control: str, mimetype: str | None = None) -> Response:
    folder = current_app.config.get("PWA_DIR") or WEBAPP_DIR
    response = send_from_directory(folder, relative, mimetype=mimetype, max_age=0)
    response.headers["Cache-Control"] = cache_control
    response.headers.update(SECURITY_HEADERS)
    return response


@bp.get("/")
def index() -> Response:
    """The app shell; revalidated each time so a new version is seen at once when online."""
    return shell_file("index.html", "no-cache")


@bp.get("/service-worker.js")
def service_worker() -> Response:
    """The worker script is never taken from the HTTP cache, so updates are found."""
    response = shell_file("service-worker.js", "no-cache, no-store, max-age=0", "text/javascript")
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@bp.get("/manifest.webmanifest")
def manifest() -> Response:
    return shell_file("manifest.webmanifest", "no-cache", "application/manifest+json")


@bp.get("/<any(js, css, i18n, icons):folder>/<path:name>")
def asset(folder: str, name: str) -> Response:
    """A shell file from one of the served folders.

    :raise 404: for anything else (other suffixes, hidden files, the icon generator).
    """
    suffixes, cache_control = FOLDERS[folder]
    suffix = Path(name).suffix
    if suffix not in suffixes or any(part.startswith(".") for part in Path(name).parts):
        abort(404)
    return shell_file(f"{folder}/{name}", cache_control, MIME_TYPES.get(suffix))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
