"""Role × town × action: a supervisor can neither see nor act on another town's case,
by URL or by form; workers, integration accounts and strangers cannot enter at all."""

from __future__ import annotations

import hashlib

import pytest

from tests.photo_files import jpeg
from tests.web.console.conftest import ConsoleUser

JPEG = jpeg(())
PHOTO = hashlib.sha256(JPEG).hexdigest()

# What each person gets for each action on a case of Dayan (no other town involved).
# "ok" is 200 for a page or 302 back to the case after an action; "login" a redirect there.
EXPECTED = {
    "admin": "ok",
    "dayan_supervisor": "ok",
    "shenzhen_supervisor": 404,
    "dayan_worker": "login",
    "integration": "login",
    None: "login",
}
ACTIONS = {
    "view": ("GET", "/console/cases/{case}", None),
    "photo": ("GET", "/console/photos/{photo}", None),
    "accept": (
        "POST",
        "/console/cases/{case}/transition",
        {"from": "registered", "to": "accepted"},
    ),
    "assign": ("POST", "/console/cases/{case}/assign", {"assignee": ""}),
    "note": ("POST", "/console/cases/{case}/events", {"kind": "note", "body": "备注"}),
    "follow_up": ("POST", "/console/cases/{case}/events", {"kind": "follow_up", "body": "回访"}),
    "handoff": ("POST", "/console/cases/{case}/handoff", {"to_town": "xidian", "reason": "r"}),
}


def person(app, console, username: str | None) -> ConsoleUser:
    if username in ("admin", "dayan_supervisor", "shenzhen_supervisor"):
        return console(username)
    user = ConsoleUser(app, username or "nobody")
    if username is not None:
        assert user.sign_in().status_code == 401
    return user


@pytest.mark.parametrize("username", list(EXPECTED))
def test_every_case_action_follows_the_matrix(app, console, report, login, rows, username):
    from server.models import Case, CaseEvent

    case_id = report(photos=[PHOTO])
    phone = login("dayan_worker")
    phone.client.put(
        f"/api/v1/blobs/{PHOTO}", data=JPEG, headers={**phone.headers, "Content-Type": "image/jpeg"}
    )
    user = person(app, console, username)
    expected = EXPECTED[username]
    for name, (method, path, form) in ACTIONS.items():
        url = path.format(case=case_id, photo=PHOTO)
        response = user.get(url) if method == "GET" else user.post(url, form)
        if expected == "ok":
            assert response.status_code in (200, 302), (name, response.status_code)
            if response.status_code == 302:
                assert f"/console/cases/{case_id}" in response.headers["Location"], name
        elif expected == "login":
            assert response.status_code in (302, 400), (name, response.status_code)
            if response.status_code == 302:
                assert response.headers["Location"].startswith("/console/login"), name
        else:
            assert response.status_code == expected, (name, response.status_code)
    if expected != "ok":
        [case] = rows(Case, id=case_id)
        assert case.version == 1 and case.status == "registered"
        assert rows(CaseEvent) == []


def test_the_queue_never_lists_another_towns_case(console, report):
    report("shenzhen", title="深甽本镇纠纷")
    page = console("dayan_supervisor").page("/console/cases", query_string={"town": "shenzhen"})
    assert page.select("#queue tbody tr[data-case]") == []
    counts = [int(a.strong.text) for a in page.select(".status-counts a")]
    assert sum(counts) == 0


def test_a_handoff_offer_lets_the_receiver_see_but_not_act_until_accepted(console, report):
    case_id = report()
    dayan, shenzhen = console("dayan_supervisor"), console("shenzhen_supervisor")
    dayan.post(f"/console/cases/{case_id}/handoff", {"to_town": "shenzhen", "reason": "移交"})
    assert shenzhen.get(f"/console/cases/{case_id}").status_code == 200
    refused = shenzhen.post(
        f"/console/cases/{case_id}/transition", {"from": "registered", "to": "accepted"}
    )
    assert refused.status_code == 422  # the rules see the case as not theirs yet
    assert console("xidian_supervisor").get(f"/console/cases/{case_id}").status_code == 404


def sample_value(converter: object) -> object:
    """A well-formed value for a route argument: the token check comes before any lookup."""
    kind = type(converter).__name__
    if kind == "AnyConverter":
        return next(iter(converter.items))  # type: ignore[attr-defined]
    return {
        "UUIDConverter": "6f1c7a2e-8d59-4d3c-9d4f-1a2b3c4d5e6f",
        "IntegerConverter": 1,
        "Sha256Converter": "0" * 64,
    }.get(kind, "x")


def test_every_console_form_refuses_a_post_without_the_csrf_token(app, console):
    """Walk the URL map: no console POST route may skip the token check."""
    from flask import url_for

    admin = console("admin")
    urls = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if rule.endpoint.startswith("console.") and "POST" in rule.methods:
                values = {arg: sample_value(rule._converters[arg]) for arg in rule.arguments}
                urls.append(url_for(rule.endpoint, **values))
    assert len(urls) >= 6
    for url in urls:
        response = admin.post(url, {"anything": "1"}, csrf=False)
        assert response.status_code == 400, (url, response.status_code)
        assert "表单已过期" in response.text
        wrong = admin.post(url, {"csrf_token": "forged"}, csrf=False)
        assert wrong.status_code == 400, url
