"""Tables as downloads: CSV (UTF-8 with a byte-order mark, so Excel reads the Chinese) and
XLSX (openpyxl's write-only mode, rows streamed to a temporary file, not held in memory)."""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from flask import Response
from openpyxl import Workbook

from server.console import local_time

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def cell(value: Any) -> Any:
    """Times in China Standard Time, lists joined, None as empty: as a person reads a sheet."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return "、".join(str(v) for v in value)
    if isinstance(value, datetime):
        return local_time(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def safe_text(value: Any) -> Any:
    """Cells that start like a formula are kept as text (CSV/formula injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def table_response(fmt: str, filename: str, sheet: str, headers: Sequence[str],
                   rows: Iterable[Sequence[Any]]) -> Response:
    """A download of `rows` under `headers`; `filename` without extension (may be Chinese)."""
    if fmt == "csv":
        buffer = io.StringIO()
        buffer.write("\ufeff")
        writer = csv.writer(buffer)
        writer.writerow(headers)
        for row in rows:
            writer.writerow([safe_text(cell(v)) for v in row])
        body: bytes = buffer.getvalue().encode("utf-8")
    else:
        workbook = Workbook(write_only=True)
        worksheet = workbook.create_sheet(sheet[:31])
        worksheet.append(list(headers))
        for row in rows:
            worksheet.append([safe_text(cell(v)) for v in row])
        with tempfile.TemporaryFile() as handle:
            workbook.save(handle)
            handle.seek(0)
            body = handle.read()
    name = f"{filename}.{fmt}"
    return Response(body, mimetype=FORMATS[fmt], headers={
        "Content-Disposition": f"attachment; filename=\"export.{fmt}\"; "
                               f"filename*=UTF-8''{quote(name)}",
        "Cache-Control": "no-store",
    })
