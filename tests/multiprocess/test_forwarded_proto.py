"""Who may say a request came over HTTPS: gunicorn believes X-Forwarded-Proto only when
FENGLING_TRUST_PROXY_HEADERS is on (server/commands/wsgi_server.py). Otherwise a plain-HTTP
request from the machine itself (another local process, or a proxy passing the header on
unchecked) must not pass for HTTPS, which would mark it secure (HSTS, secure cookies)."""

from __future__ import annotations

import pytest
import requests

from server.commands.wsgi_server import options

HTTPS = {"X-Forwarded-Proto": "https"}


def test_without_proxy_trust_a_local_forwarded_proto_is_not_believed(start_server):
    base = start_server(workers=1).base
    response = requests.get(f"{base}/readyz", headers=HTTPS, timeout=10)
    assert response.status_code == 200
    assert "Strict-Transport-Security" not in response.headers


def test_behind_a_trusted_proxy_https_is_seen(start_server, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("FENGLING_TRUST_PROXY_HEADERS", "true")
    base = start_server(workers=1).base
    response = requests.get(f"{base}/readyz", headers=HTTPS, timeout=10)
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert "Strict-Transport-Security" not in requests.get(f"{base}/readyz", timeout=10).headers


def test_gunicorns_forwarded_allow_ips_follows_the_setting():
    assert options("127.0.0.1", 8000, 2, trust_proxy_headers=False)["forwarded_allow_ips"] == ""
    trusted = options("127.0.0.1", 8000, 2, trust_proxy_headers=True)
    assert trusted["forwarded_allow_ips"] == "127.0.0.1,::1"
