"""Tables as downloads: CSV (UTF-8 with a byte-order mark, so Excel reads the Chinese) and
XLSX (openpyxl's write-only mode, rows written to a temporary file, not held in memory)."""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from flask import Response, stream_with_context
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from server.web.console import local_time

CHUNK_ROWS = 500
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


def csv_text(value: Any) -> Any:
    """A CSV cell that starts like a formula is prefixed with ' (CSV/formula injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def xlsx_cell(worksheet: Any, value: Any) -> Any:
    """Text is always a text cell (never a formula, no visible apostrophe); characters XLSX
    cannot hold (control characters pasted into a phone) are dropped instead of failing."""
    if not isinstance(value, str):
        return value
    text = WriteOnlyCell(worksheet, ILLEGAL_CHARACTERS_RE.sub("", value))
    text.data_type = "s"
    return text


def csv_chunks(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    """The CSV in pieces of a few hundred rows, so a large export is never held whole."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow(headers)
    for count, row in enumerate(rows, 1):
        writer.writerow([csv_text(cell(v)) for v in row])
        if count % CHUNK_ROWS == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def table_response(
    fmt: str, filename: str, sheet: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]
) -> Response:
    """A download of `rows` under `headers`; `filename` without extension (may be Chinese).

    CSV streams while the rows are read; XLSX is written row by row to a temporary file (a
    zip needs its end before it can be sent) and only the compressed file is read back.
    """
    name = f"{filename}.{fmt}"
    headers_out = {
        "Content-Disposition": f'attachment; filename="export.{fmt}"; '
        f"filename*=UTF-8''{quote(name)}",
        "Cache-Control": "no-store",
    }
    if fmt == "csv":
        return Response(
            stream_with_context(csv_chunks(headers, rows)),
            mimetype=FORMATS[fmt],
            headers=headers_out,
        )
    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(sheet[:31])
    worksheet.append(list(headers))
    for row in rows:
        worksheet.append([xlsx_cell(worksheet, cell(v)) for v in row])
    with tempfile.TemporaryFile() as handle:
        workbook.save(handle)
        handle.seek(0)
        body = handle.read()  # compressed: a few MB for 50,000 rows
    return Response(body, mimetype=FORMATS[fmt], headers=headers_out)
