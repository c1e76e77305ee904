"""The OpenAPI document is generated from the same schemas the server validates with."""


def test_openapi_document_describes_every_endpoint(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"].startswith("3.")
    assert set(spec["paths"]) == {
        "/auth/login",
        "/auth/logout",
        "/auth/device-key",
        "/sync/push",
        "/sync/pull",
        "/blobs/{sha256}",
    }
    schemas = spec["components"]["schemas"]
    assert {
        "CaseCreate",
        "CaseUpdate",
        "CheckinCreate",
        "PushRequest",
        "PullResponse",
        "Error",
    } <= set(schemas)
    # Server-owned fields are not part of what a device may send.
    assert "status" not in schemas["CaseCreate"]["properties"]
    assert schemas["CaseCreate"]["required"] == ["category", "primary_town", "title"]
    assert schemas["Login"]["additionalProperties"] is False
    assert schemas["DeviceKeyRequest"]["additionalProperties"] is False
