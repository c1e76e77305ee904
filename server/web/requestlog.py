"""One JSON log line per request with a request id; never bodies, tokens or parameters."""

from __future__ import annotations

import json
import logging
import sys
import time
import uuid

from flask import Flask, Response, g, request

from server import clock

log = logging.getLogger("fengling.request")


def init_app(app: Flask) -> None:
    if not log.handlers and not app.testing:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False

    @app.before_request
    def _start() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = (
            incoming if 0 < len(incoming) <= 64 and incoming.isprintable() else (uuid.uuid4().hex)
        )
        g.started = time.perf_counter()

    @app.after_request
    def _finish(response: Response) -> Response:
        response.headers["X-Request-ID"] = g.get("request_id", "")
        line = {
            "ts": clock.now().astimezone().strftime("%Y-%m-%dT%H:%M:%S%z"),
            "request_id": g.get("request_id"),
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "ms": round((time.perf_counter() - g.get("started", time.perf_counter())) * 1000, 1),
            "device": g.get("device_id"),
        }
        if "push_group" in g:  # how many pushes shared this one's transaction
            line["group"] = g.push_group
        log.info(json.dumps(line))
        return response
