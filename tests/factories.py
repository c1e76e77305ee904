"""Plain factories for intents, and a device that talks the protocol through a test client."""

from __future__ import annotations

import json
import uuid
from typing import Any

DEMO_PASSWORD = "fengling-demo"
CLIENT_TIME = "2026-11-26T09:12:00+08:00"


def new_id() -> str:
    return str(uuid.uuid4())


def case_create(town: str = "dayan", record_id: str | None = None, **data: Any) -> dict:
    payload = {
        "title": "山林界址争议",
        "category": "land",
        "primary_town": town,
        "involved_towns": [],
        "parties": [{"name": "李某", "role": "applicant"}, {"name": "王某", "role": "respondent"}],
        "description": "两村交界处毛竹采伐权属不清",
        "severity": "medium",
        "location": {"lat": 29.48, "lon": 121.17, "accuracy_m": 12},
        **data,
    }
    return {
        "mutation_id": new_id(),
        "op": "case.create",
        "record_id": record_id or new_id(),
        "client_time": CLIENT_TIME,
        "data": payload,
    }


def case_update(record_id: str, base_version: int, **data: Any) -> dict:
    return {
        "mutation_id": new_id(),
        "op": "case.update",
        "record_id": record_id,
        "base_version": base_version,
        "client_time": CLIENT_TIME,
        "data": data,
    }


def transition(record_id: str, from_status: str, to_status: str, note: str = "") -> dict:
    return {
        "mutation_id": new_id(),
        "op": "case.transition",
        "record_id": record_id,
        "data": {"from": from_status, "to": to_status, "note": note},
    }


def assign(record_id: str, assignee: str | None) -> dict:
    return {
        "mutation_id": new_id(),
        "op": "case.assign",
        "record_id": record_id,
        "data": {"assignee": assignee},
    }


def case_event(case_id: str, kind: str = "mediation", body: str = "双方同意再议") -> dict:
    return {
        "mutation_id": new_id(),
        "op": "case_event.create",
        "record_id": new_id(),
        "data": {"case_id": case_id, "kind": kind, "body": body, "at": CLIENT_TIME},
    }


def checkin(
    site_id: str, lat: float | None, lon: float | None, accuracy_m: float = 10, **data: Any
) -> dict:
    """A check-in at CLIENT_TIME (or `at`) with a fix taken at that moment; lat None: without
    a fix."""
    at = data.get("at", CLIENT_TIME)
    fix = {} if lat is None else {"lat": lat, "lon": lon, "accuracy_m": accuracy_m, "fix_at": at}
    payload = {
        "site_id": site_id,
        "at": CLIENT_TIME,
        **fix,
        "activity": "party_history_study",
        "participants": 12,
        "notes": "主题党日",
        **data,
    }
    return {"mutation_id": new_id(), "op": "checkin.create", "record_id": new_id(), "data": payload}


class DeviceClient:
    """One phone: its own device id and token, pushing and pulling like the PWA does."""

    def __init__(
        self,
        client: Any,
        username: str,
        password: str = DEMO_PASSWORD,
        device_id: str | None = None,
        language: str = "zh-CN",
    ):
        self.client = client
        self.username = username
        self.password = password
        self.device_id = device_id or new_id()
        self.language = language
        self.token: str | None = None
        self.user: dict = {}
        self.cursor: str | None = None
        self.records: dict[tuple[str, str], dict] = {}

    def login(self) -> Any:
        response = self.client.post(
            "/api/v1/auth/login",
            json={
                "username": self.username,
                "password": self.password,
                "device": {
                    "id": self.device_id,
                    "name": "测试手机",
                    "platform": "android",
                    "app_version": "1.0.0",
                },
            },
        )
        if response.status_code == 200:
            self.token = response.get_json()["token"]
            self.user = response.get_json()["user"]
            # A client uses the id the server returns (docs/protocol.md, Extensions): another
            # person's device id is never taken over, the server gives a fresh one instead.
            self.device_id = response.get_json()["device_id"]
        return response

    @property
    def headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.token}",
            "X-Schema-Version": "1",
            "Accept-Language": self.language,
        }

    def push(self, *mutations: dict, device: dict | None = None) -> Any:
        body: dict[str, Any] = {"mutations": list(mutations)}
        if device is not None:
            body["device"] = device
        # As a phone sends it: JSON.stringify escapes what is not plain text (a lone
        # surrogate becomes "\\ud83d"), so the body is ASCII-safe JSON.
        return self.client.post(
            "/api/v1/sync/push",
            data=json.dumps(body),
            content_type="application/json",
            headers=self.headers,
        )

    def push_ok(self, *mutations: dict) -> list[dict]:
        response = self.push(*mutations)
        assert response.status_code == 200, response.get_json()
        return response.get_json()["results"]

    def pull(self, cursor: str | None = None, limit: int | None = None) -> Any:
        query = {}
        if cursor:
            query["cursor"] = cursor
        if limit is not None:
            query["limit"] = limit
        return self.client.get("/api/v1/sync/pull", query_string=query, headers=self.headers)

    def sync(self, limit: int | None = None, max_pages: int = 1000) -> list[dict]:
        """Pull until has_more is false, applying changes to the local copy; returns them."""
        seen: list[dict] = []
        for _ in range(max_pages):
            response = self.pull(self.cursor, limit)
            assert response.status_code == 200, response.get_json()
            page = response.get_json()
            for change in page["changes"]:
                key = (change["entity"], change["record_id"])
                if change["op"] == "remove":
                    self.records.pop(key, None)
                else:
                    self.records[key] = change
            seen.extend(page["changes"])
            self.cursor = page["cursor"]
            if not page["has_more"]:
                return seen
        raise AssertionError("pull did not finish")

    def of(self, entity: str) -> dict[str, dict]:
        return {rid: change for (kind, rid), change in self.records.items() if kind == entity}
