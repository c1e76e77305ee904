"""Baseline security headers on every response; pages that need more (the PWA) set their own."""

from __future__ import annotations

from flask import Flask, Response, request
from werkzeug.middleware.proxy_fix import ProxyFix

BASELINE = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    # JSON and photos need nothing from the page that shows them.
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
}
HSTS = "max-age=31536000; includeSubDomains"


def init_app(app: Flask) -> None:
    if app.config["TRUST_PROXY_HEADERS"]:
        # Behind the reverse proxy of docs/operations.md: trust one hop's X-Forwarded-*.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)

    @app.after_request
    def _headers(response: Response) -> Response:
        for name, value in BASELINE.items():
            response.headers.setdefault(name, value)
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response
