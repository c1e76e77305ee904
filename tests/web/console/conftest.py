"""A supervisor or admin at the console: a browser-like client with its own cookies."""

from __future__ import annotations

from typing import Any

import pytest
from bs4 import BeautifulSoup
from flask import Flask

from tests.factories import DEMO_PASSWORD


class ConsoleUser:
    """One person at the console. Forms are posted with the CSRF token of their session,
    read from the page like a browser would."""

    def __init__(self, app: Flask, username: str, password: str = DEMO_PASSWORD):
        self.client = app.test_client()
        self.username = username
        self.password = password
        self.csrf = ""

    def sign_in(self) -> Any:
        page = self.client.get("/console/login")
        token = BeautifulSoup(page.text, "html.parser").select_one("input[name=csrf_token]")
        response = self.client.post(
            "/console/login",
            data={
                "csrf_token": token["value"],
                "username": self.username,
                "password": self.password,
            },
        )
        if response.status_code == 302:
            self.csrf = self.read_csrf(self.client.get("/console/cases"))
        return response

    @staticmethod
    def read_csrf(response: Any) -> str:
        field = BeautifulSoup(response.text, "html.parser").select_one("input[name=csrf_token]")
        return field["value"] if field else ""

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(path, **kwargs)

    def page(self, path: str, **kwargs: Any) -> BeautifulSoup:
        """GET a page that must answer 200, parsed."""
        response = self.client.get(path, **kwargs)
        assert response.status_code == 200, (path, response.status_code, response.text[:500])
        return BeautifulSoup(response.text, "html.parser")

    def post(self, path: str, data: dict | None = None, *, csrf: bool = True, **kwargs: Any) -> Any:
        form = dict(data or {})
        if csrf:
            form["csrf_token"] = self.csrf
        return self.client.post(path, data=form, **kwargs)


def soup(response: Any) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


@pytest.fixture
def console(app: Flask):
    """console("dayan_supervisor") -> a signed-in ConsoleUser."""

    def sign_in(username: str, password: str = DEMO_PASSWORD) -> ConsoleUser:
        user = ConsoleUser(app, username, password)
        response = user.sign_in()
        assert response.status_code == 302, response.text[:500]
        return user

    return sign_in


@pytest.fixture
def admin_console(console) -> ConsoleUser:
    return console("admin")


@pytest.fixture
def dayan_console(console) -> ConsoleUser:
    return console("dayan_supervisor")


@pytest.fixture
def report(login):
    """report(town="dayan", **fields) -> the id of a case a worker of that town registered
    from their phone, through the sync protocol."""
    from tests.factories import case_create

    phones: dict[str, Any] = {}

    def register(town: str = "dayan", **data: Any) -> str:
        if town not in phones:
            phones[town] = login(f"{town}_worker")
        mutation = case_create(town, **data)
        [result] = phones[town].push_ok(mutation)
        assert result["status"] == "applied", result
        return mutation["record_id"]

    return register


def browser_fields(form: Any, button: Any | None = None) -> dict[str, Any]:
    """What a browser sends for `form` as rendered: named inputs with their values, checked
    boxes, selected options, textareas, and the pressed button's name (if it has one)."""
    data: dict[str, Any] = {}
    for field in form.select("input[name], select[name], textarea[name]"):
        name = field["name"]
        if field.name == "select":
            option = field.select_one("option[selected]") or field.select_one("option")
            value = option.get("value", option.text) if option else ""
        elif field.name == "textarea":
            value = field.text
        elif field.get("type") in ("checkbox", "radio"):
            if not field.has_attr("checked"):
                continue
            value = field.get("value", "on")
        else:
            value = field.get("value", "")
        data.setdefault(name, []).append(value)
    if button is not None and button.get("name"):
        data.setdefault(button["name"], []).append(button.get("value", ""))
    return data
