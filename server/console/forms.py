"""Form and query-string input, loaded through marshmallow schemas like every API body."""

from __future__ import annotations

from datetime import date
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate
from werkzeug.datastructures import MultiDict

from server.console.i18n import current_language
from server.errors import flatten_errors
from server.i18n import translate_details

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
