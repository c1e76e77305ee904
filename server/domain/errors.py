"""The one error the pure core raises; the edges map its code to a status and message."""

from __future__ import annotations

from typing import Any


class RuleViolation(Exception):
    """A domain rule refused a change; `code` is the protocol error code."""

    def __init__(self, code: str, details: dict[str, Any] | None = None):
        super().__init__(code)
        self.code = code
        self.details = details or {}
