"""Liveness, readiness and request ids, as a load balancer and an operator see them."""

from __future__ import annotations

import shutil
from pathlib import Path


def test_healthz_and_readyz_answer_when_all_is_well(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["checks"] == {"database": True, "data_dir": True}


def test_readyz_is_unavailable_without_the_data_directory(app, client):
    shutil.rmtree(Path(app.config["DATA_DIR"]) / "blobs")
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.get_json()["checks"] == {"database": True, "data_dir": False}


def test_every_response_carries_a_request_id(client):
    assert len(client.get("/healthz").headers["X-Request-ID"]) == 32
    echoed = client.get("/healthz", headers={"X-Request-ID": "lb-1234"})
    assert echoed.headers["X-Request-ID"] == "lb-1234"
