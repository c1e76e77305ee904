"""The OpenAPI 3 document of the API, generated from the same marshmallow schemas."""

from __future__ import annotations

from functools import cache

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, current_app, jsonify

from server.schemas.auth import (
    DeviceKeyRequestSchema,
    DeviceKeyResponseSchema,
    LoginResponseSchema,
    LoginSchema,
    LogoutResponseSchema,
)
from server.schemas.base import ErrorSchema
from server.schemas.sync import (
    PullResponseSchema,
    PushRequestSchema,
    PushResponseSchema,
)
from server.sync.registry import REGISTRY

bp = Blueprint("openapi", __name__)

AUTH_HEADERS = [
    {"in": "header", "name": "X-Schema-Version", "required": True, "schema": {"type": "integer"}},
]


def _errors(*statuses: int) -> dict:
    return {
        str(s): {"description": "Error", "content": {"application/json": {"schema": "Error"}}}
        for s in statuses
    }


def _json(schema: str, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def build_spec() -> dict:
    """The document for the ops declared now (server.sync.registry) and this app's limits."""
    return _build_spec(REGISTRY.version, current_app.config["PULL_MAX_LIMIT"])


@cache
def _build_spec(_registry_version: int, pull_max_limit: int) -> dict:
    spec = APISpec(
        title="Fengling sync API",
        version="1.0.0",
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={"description": "Sync protocol v1: see docs/protocol.md."},
        servers=[{"url": "/api/v1"}],
    )
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    for name, schema in [
        ("Error", ErrorSchema),
        ("Login", LoginSchema),
        ("LoginResponse", LoginResponseSchema),
        ("Logout", LogoutResponseSchema),
        ("DeviceKeyRequest", DeviceKeyRequestSchema),
        ("DeviceKeyResponse", DeviceKeyResponseSchema),
        ("PushRequest", PushRequestSchema),
        ("Mutation", type(REGISTRY.envelope_schema)),
        ("PushResponse", PushResponseSchema),
        ("PullResponse", PullResponseSchema),
        *((spec.schema_name, spec.payload) for spec in REGISTRY.pushable),
    ]:
        spec.components.schema(name, schema=schema)
    secured = {"security": [{"bearer": []}], "parameters": AUTH_HEADERS}
    spec.path(
        "/auth/login",
        operations={
            "post": {
                "summary": "Exchange credentials for a device-bound token.",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": "Login"}},
                },
                "responses": {"200": _json("LoginResponse"), **_errors(401, 422, 429)},
            }
        },
    )
    spec.path(
        "/auth/device-key",
        operations={
            "post": {
                **secured,
                "summary": "This device's escrow key again (extension, docs/protocol.md).",
                "requestBody": {
                    "required": False,
                    "content": {"application/json": {"schema": "DeviceKeyRequest"}},
                },
                "responses": {"200": _json("DeviceKeyResponse"), **_errors(400, 401, 422, 426)},
            }
        },
    )
    spec.path(
        "/auth/logout",
        operations={
            "post": {
                **secured,
                "summary": "Revoke this device's token.",
                "responses": {"200": _json("Logout"), **_errors(400, 401, 426)},
            }
        },
    )
    spec.path(
        "/sync/push",
        operations={
            "post": {
                **secured,
                "summary": "Apply intents exactly once each, in order.",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": "PushRequest"}},
                },
                "responses": {
                    "200": _json("PushResponse"),
                    **_errors(400, 401, 403, 413, 422, 426, 503),
                },
            }
        },
    )
    spec.path(
        "/sync/pull",
        operations={
            "get": {
                **secured,
                "summary": "Changes visible to the caller above the cursor.",
                "parameters": [
                    *AUTH_HEADERS,
                    {"in": "query", "name": "cursor", "schema": {"type": "string"}},
                    {
                        "in": "query",
                        "name": "limit",
                        "schema": {"type": "integer", "minimum": 1, "maximum": pull_max_limit},
                    },
                ],
                "responses": {"200": _json("PullResponse"), **_errors(400, 401, 410, 422, 426)},
            }
        },
    )
    blob_param = {
        "in": "path",
        "name": "sha256",
        "required": True,
        "schema": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
    }
    image = {
        t: {"schema": {"type": "string", "format": "binary"}}
        for t in ("image/jpeg", "image/png", "image/webp")
    }
    spec.path(
        "/blobs/{sha256}",
        operations={
            "put": {
                **secured,
                "parameters": [*AUTH_HEADERS, blob_param],
                "summary": "Upload a photo under its SHA-256.",
                "requestBody": {"required": True, "content": image},
                "responses": {
                    "200": {"description": "Already stored"},
                    "201": {"description": "Stored"},
                    **_errors(401, 403, 413, 415, 422),
                },
            },
            "head": {
                **secured,
                "parameters": [*AUTH_HEADERS, blob_param],
                "summary": "Whether the server has the photo.",
                "responses": {"200": {"description": "Present"}, "404": {"description": "Absent"}},
            },
            "get": {
                **secured,
                "parameters": [*AUTH_HEADERS, blob_param],
                "summary": "The photo, to callers who can see a record referencing it.",
                "responses": {
                    "200": {"description": "The image", "content": image},
                    **_errors(401, 404),
                },
            },
        },
    )
    return spec.to_dict()


@bp.get("/openapi.json")
def openapi_json():
    """The OpenAPI document; public, like the protocol it describes."""
    return jsonify(build_spec())
