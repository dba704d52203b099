"""One small table exporter for the list pages: columns (a header in the user's language, a value
getter and a type) and rows → CSV (streamed) or XLSX.

* CSV: UTF-8 with a byte-order mark (so spreadsheet programs see the Lithuanian letters), ``,`` as
  the separator, quoted where needed, CRLF line ends; written in chunks while the rows are read, so a
  100 000-row export never sits in memory. Amounts in plain ``1234.50`` (exact, from Decimal), dates
  ``YYYY-MM-DD``, months ``YYYY-MM``, percentages in percent (``12.5``; the header says ``(%)``).
* XLSX: an openpyxl write-only workbook (rows go to a temporary file, not to memory); a bold, frozen
  header row and column widths; amounts are number cells (from Decimal) with a two-decimal number
  format, dates are date cells, percentages are fractions with a percent format.
* Text a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, tab or
  carriage return) is neutralised: ``'``-prefixed in CSV, stored as a string cell in XLSX (never a
  formula). Characters XML cannot hold are dropped from XLSX text.

A view builds the rows from the same statement or service its page uses and answers with
``response(fmt, columns, rows, filename(...))``."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from itertools import islice
from typing import Any

from flask import Response, stream_with_context
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIME = "text/csv; charset=utf-8"
FORMATS = ("csv", "xlsx")

#: column types
TEXT, DECIMAL, INT, DATE, MONTH, PERCENT = "text", "decimal", "int", "date", "month", "percent"
TYPES = (TEXT, DECIMAL, INT, DATE, MONTH, PERCENT)

_DANGEROUS = re.compile(r"^'*[=+\-@\t\r]")
_CSV_CHUNK = 64 * 1024
_HEAD_FONT = Font(bold=True)
_HEAD_FILL = PatternFill("solid", fgColor="DDE7F0")
_HEAD_ALIGN = Alignment(wrap_text=True, vertical="top")
_WIDTHS = {TEXT: 28, DECIMAL: 16, INT: 10, DATE: 12, MONTH: 10, PERCENT: 10}


def neutralise(text: str) -> str:
    """CSV: ``'``-prefix text a spreadsheet would evaluate (also ``'=…``, so an import that removes
    one leading ``'`` gives back exactly the original)."""
    return "'" + text if _DANGEROUS.match(text) else text


@dataclass(frozen=True)
class Column:
    """One column: ``header`` (a string or lazy string, translated when written), ``value`` (row →
    value; None for an empty cell), ``type`` (one of ``TYPES``; a ``percent`` value is a ratio, 0.125
    for 12.5 %), ``places`` (decimals XLSX shows: of the amount, of the percentage), ``width`` (XLSX
    characters; by type and header when None)."""

    header: Any
    value: Callable[[Any], Any]
    type: str = TEXT
    places: int = 2
    width: int | None = None

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise ValueError(f"unknown column type {self.type!r}")

    @property
    def title(self) -> str:
        text = str(self.header)
        return f"{text} (%)" if self.type == PERCENT else text


# --- values ------------------------------------------------------------------------------------------

def _decimal(value: Any) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):  # never expected: through str, not binary arithmetic
        return Decimal(str(value))
    return Decimal(value)


def _csv_value(col: Column, value: Any) -> str:
    if value is None or value == "":
        return ""
    if col.type == DECIMAL:
        return format(_decimal(value), "f")
    if col.type == PERCENT:
        return format(_decimal(value).scaleb(2).normalize(), "f")
    if col.type == INT:
        return str(int(value))
    if col.type == DATE and isinstance(value, dt.date):
        return (value.date() if isinstance(value, dt.datetime) else value).isoformat()
    if col.type == MONTH and isinstance(value, dt.date):
        return value.strftime("%Y-%m")
    return neutralise(str(value))


def _number_format(col: Column) -> str | None:
    if col.type == DECIMAL:
        return "#,##0." + "0" * col.places if col.places else "#,##0"
    if col.type == PERCENT:
        return "0." + "0" * col.places + "%" if col.places else "0%"
    if col.type == DATE:
        return "yyyy-mm-dd"
    if col.type == MONTH:
        return "yyyy-mm"
    return None


class _XlsxColumn:
    """One styled cell per column, filled again for each row: the write-only sheet writes a row's
    cells as they are appended, so the cell is free again for the next row (and its style is worked
    out once, not per cell). Values are set with their type directly (text never becomes a formula)."""

    def __init__(self, ws: Any, col: Column) -> None:
        self.col = col
        self.cell = WriteOnlyCell(ws)
        self.cell.number_format = _number_format(col) or "@"  # always styled: openpyxl never reuses it

    def __call__(self, value: Any) -> Any:
        if value is None or value == "":
            return None
        kind = self.col.type
        if kind in (DECIMAL, PERCENT):
            value, data_type = _decimal(value), "n"
        elif kind == INT:
            return int(value)  # a plain number: openpyxl types it
        elif kind in (DATE, MONTH) and isinstance(value, dt.date):
            value, data_type = (value.date() if isinstance(value, dt.datetime) else value), "d"
        else:
            value, data_type = ILLEGAL_CHARACTERS_RE.sub("", str(value)), "s"
            if not value.startswith("=") and value not in ERROR_CODES:
                return value  # openpyxl stores it as text (only "=…" would become a formula)
        self.cell._value = value
        self.cell.data_type = data_type
        return self.cell


# --- writers -----------------------------------------------------------------------------------------

def csv_chunks(columns: list[Column], rows: Iterable[Any]) -> Iterator[bytes]:
    """The CSV file in chunks of about 64 KB (the first starts with the byte-order mark)."""
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    buf.write("\ufeff")
    writer.writerow([neutralise(c.title) for c in columns])
    for row in rows:
        writer.writerow([_csv_value(c, c.value(row)) for c in columns])
        if buf.tell() >= _CSV_CHUNK:
            yield buf.getvalue().encode("utf-8")
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue().encode("utf-8")


def to_csv(columns: list[Column], rows: Iterable[Any]) -> bytes:
    return b"".join(csv_chunks(columns, rows))


def to_xlsx(columns: list[Column], rows: Iterable[Any], sheet: str = "Export") -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=_sheet_title(sheet))
    for n, col in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(n)].width = col.width or max(_WIDTHS[col.type],
                                                                            min(len(col.title) + 2, 40))
    ws.freeze_panes = "A2"
    head = []
    for col in columns:
        cell = WriteOnlyCell(ws)
        cell.value = ILLEGAL_CHARACTERS_RE.sub("", col.title)
        cell.data_type = "s"
        cell.font, cell.fill, cell.alignment = _HEAD_FONT, _HEAD_FILL, _HEAD_ALIGN
        head.append(cell)
    ws.append(head)
    cells = [_XlsxColumn(ws, c) for c in columns]
    for row in rows:
        ws.append([cell(cell.col.value(row)) for cell in cells])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _sheet_title(text: str) -> str:
    return re.sub(r"[\[\]:*?/\\]", "", text)[:31] or "Export"


# --- responses ---------------------------------------------------------------------------------------

def filename(base: str, *scope: Any, ext: str, day: dt.date | None = None) -> str:
    """``regional-plan-ROK-2026-11-26.xlsx``: the base, the scope parts that are set (reduced to
    letters, digits and ``-``) and the day."""
    parts = [base, *(str(s) for s in scope if s), (day or dt.date.today()).isoformat()]
    safe = [re.sub(r"[^A-Za-z0-9-]+", "-", p).strip("-") for p in parts]
    return "-".join(p for p in safe if p) + f".{ext}"


def response(fmt: str, columns: list[Column], rows: Iterable[Any], name: str, sheet: str = "Export") -> Response:
    """The export as an attachment: CSV streamed while ``rows`` is read (in the request's context,
    so the database session and the language stay), XLSX built in a write-only workbook."""
    if fmt == "xlsx":
        resp = Response(to_xlsx(columns, rows, sheet), mimetype=XLSX_MIME)
    elif fmt == "csv":
        resp = Response(stream_with_context(csv_chunks(columns, rows)), content_type=CSV_MIME)
    else:
        raise ValueError(f"unknown export format {fmt!r}")
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


def batched(rows: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Rows in lists of ``size`` (for loading what a chunk of rows needs in one query)."""
    it = iter(rows)
    while chunk := list(islice(it, size)):
        yield chunk


def stream(stmt: Any, batch: int = 500) -> Iterator[Any]:
    """The ORM rows of ``stmt`` read ``batch`` at a time (a server-side cursor on PostgreSQL); the
    statement may eager-load many-to-one relations (joined) and collections (selectin) only."""
    from srpp.extensions import db

    yield from db.session.scalars(stmt.execution_options(yield_per=batch))
