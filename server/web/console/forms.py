"""Form and query-string input, loaded through marshmallow schemas like every API body."""

from __future__ import annotations

from datetime import date
from typing import Any, NamedTuple

from flask import request
from marshmallow import Schema, ValidationError, fields, validate
from werkzeug.datastructures import MultiDict

from server.errors import flatten_errors
from server.i18n import translate_details
from server.web.console.i18n import current_language

# Sent with every form or every queue link, never part of the data.
TRANSPORT_FIELDS = ("csrf_token",)


class FormError(Exception):
    """Input the console refuses; `errors` maps fields to reasons in the user's language."""

    def __init__(self, errors: dict[str, list[str]], code: str = "validation_failed"):
        super().__init__(code)
        self.code = code
        self.errors = errors


def form_dict(source: MultiDict, list_fields: tuple[str, ...] = ()) -> dict[str, Any]:
    """A MultiDict as a plain dict; empty values are dropped so optional fields stay unset."""
    out: dict[str, Any] = {}
    for key in source:
        if key in TRANSPORT_FIELDS:
            continue
        if key in list_fields:
            out[key] = [v for v in source.getlist(key) if v != ""]
        else:
            value = source.get(key, "")
            if value != "":
                out[key] = value
    return out


def load(schema: Schema, source: MultiDict, list_fields: tuple[str, ...] = ()) -> dict[str, Any]:
    """:raises FormError: with the schema's reasons translated."""
    try:
        return schema.load(form_dict(source, list_fields))
    except ValidationError as error:
        raise FormError(translated(flatten_errors(error.messages))) from error


def translated(errors: dict[str, Any]) -> dict[str, list[str]]:
    result = translate_details(errors, current_language())
    assert isinstance(result, dict)
    return result


def day_field() -> fields.Date:
    """A calendar day in a filter; bounded so date arithmetic and UTC conversion never
    overflow (year 1 or 9999 would)."""
    return fields.Date(validate=validate.Range(date(2000, 1, 1), date(2100, 12, 31)))


def page_field(**options: Any) -> fields.Integer:
    """The page of a list asked for in its query string (see server.web.console.paging); the
    first unless `options` say otherwise."""
    return fields.Integer(**{"load_default": 1, "validate": validate.Range(1, 100_000), **options})


class Filter(NamedTuple):
    """A list page's query string: the filters to apply, and why any were refused."""

    values: dict[str, Any]
    errors: dict[str, list[str]]

    @property
    def status(self) -> int:
        """400 after refused filters: the page still shows, with none applied."""
        return 400 if self.errors else 200

    def link_args(self, *leave_out: str) -> dict[str, str]:
        """The query string as sent, minus `leave_out`, for the page's own links (its other
        pages, its export); nothing after refused filters, so no link repeats them."""
        if self.errors:
            return {}
        return {key: value for key, value in request.args.items() if key not in leave_out}


def read_filter(schema: Schema) -> Filter:
    """The query string through `schema`; a bad one gives the schema's defaults and the
    reasons (a list page shows them, a download refuses), never a crash."""
    try:
        return Filter(load(schema, request.args), {})
    except FormError as error:
        return Filter(schema.load({}), error.errors)
