"""Every response carries the baseline security headers; HTTPS responses add HSTS."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    "path", ["/api/v1/openapi.json", "/healthz", "/api/v1/sync/pull", "/no/such/page"]
)
def test_every_response_carries_the_baseline_headers(client, path):
    response = client.get(path)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP here


def test_https_behind_a_trusted_proxy_adds_hsts(make_app):
    app = make_app(TRUST_PROXY_HEADERS=True)
    response = app.test_client().get("/healthz", headers={"X-Forwarded-Proto": "https"})
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
