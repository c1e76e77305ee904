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


def run(host: str, port: int, workers: int) -> None:
    FenglingServer(
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "worker_class": "sync",
            "timeout": 60,
            "graceful_timeout": 20,
            "accesslog": None,  # server.web.requestlog writes one JSON line per request
            "preload_app": False,
        }
    ).run()
