"""Gunicorn as a library: several worker processes, each building its own app after fork."""

from __future__ import annotations

from gunicorn.app.base import BaseApplication


class FenglingServer(BaseApplication):
    def __init__(self, options: dict):
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from server import create_app

        return create_app()


def options(
    host: str, port: int, workers: int, trust_proxy_headers: bool, threads: int = 8
) -> dict:
    """Gunicorn's settings. `forwarded_allow_ips` follows FENGLING_TRUST_PROXY_HEADERS: by
    default gunicorn believes X-Forwarded-Proto from 127.0.0.1, so any local process (or a
    proxy that passes the header on) could make a plain-HTTP request look like HTTPS. Without
    trust, no address is believed; with it, the app's ProxyFix reads the one hop's headers
    (server.web.security_headers) and gunicorn keeps its loopback default.

    Each process serves `threads` requests at once, so that the pushes waiting for the
    write turn can be written together (server.web.api.push_group); a process with one
    thread would queue them one transaction and one fsync each."""
    settings = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        "timeout": 60,
        # Longer than a phone's pause between the requests of one sync, so that a reused
        # connection is rarely closed under a request already on its way (a POST is not
        # retried by every client).
        "keepalive": 20,
        "graceful_timeout": 20,
        "accesslog": None,  # server.web.requestlog writes one JSON line per request
        "preload_app": False,
        "forwarded_allow_ips": "127.0.0.1,::1" if trust_proxy_headers else "",
    }
    return settings


def run(
    host: str, port: int, workers: int, trust_proxy_headers: bool = False, threads: int = 8
) -> None:
    FenglingServer(options(host, port, workers, trust_proxy_headers, threads)).run()
