"""Pages of a list: every console list shows CONSOLE_PAGE_SIZE rows at a time."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import Select


@dataclass(frozen=True)
class Pager:
    """Which rows of `total` to show: the page asked for, or the last one when the list got
    shorter than that (a link followed after rows went away)."""

    total: int
    page: int
    pages: int
    size: int

    def of(self, query: Select) -> Select:
        """`query` (ordered) limited to this page's rows."""
        return query.limit(self.size).offset((self.page - 1) * self.size)


def paginate(total: int, asked: int) -> Pager:
    size = current_app.config["CONSOLE_PAGE_SIZE"]
    pages = max(1, -(-total // size))
    return Pager(total, min(asked, pages), pages, size)
