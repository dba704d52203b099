"""Upload of one submission's values from CSV or XLSX: columns ``indicator_code``, ``value``, ``note``
(the template adds ``indicator`` and ``unit`` to read by; they are ignored on upload).

The upload goes through the plan import's gates (``srpp.plans.imports``: size limit, content matching
the extension, XLSX package checks against zip bombs, external links and XML declarations, formulas
refused) and its number parser; the values are checked with the form's own rules
(``services.parse_value``). All or nothing: every problem is listed (row, column, message) and nothing
is saved unless every row is right. A row whose value and note are both empty is skipped (the
indicator keeps what it has); a file without a note column keeps the notes already entered."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from srpp.auth.models import User
from srpp.core.permissions import require
from srpp.plans.exports import neutralise
from srpp.plans.imports import (
    MAX_UPLOAD_BYTES,
    CellError,
    Column,
    ImportRefused,
    RowError,
    Sheet,
    _is_empty,
    _text,
    find_header,
    map_header,
    normalise_header,
    open_upload,
    read_limited,
    refuse,
)
from srpp.reporting import services
from srpp.reporting.models import DataSubmission

__all__ = ["COLUMNS", "ImportRefused", "RowError", "UploadSummary", "import_values", "template_csv",
           "template_xlsx"]

MAX_ROWS = 500
DATA_SHEET = "Duomenys"

COLUMNS: tuple[Column, ...] = (
    Column("indicator_code", "Rodiklio kodas", "Indicator code", True, ("kodas", "code", "indicator code"), 40),
    Column("value", "Reikšmė", "Value", True, ("vertė", "reiksme")),
    Column("note", "Pastaba", "Note", False, ("pastabos", "notes", "comment", "komentaras"), services.NOTE_MAX),
    # written in the template to read by; ignored on upload
    Column("indicator", "Rodiklis", "Indicator", False, ("pavadinimas", "name", "indicator name")),
    Column("unit", "Matavimo vienetas", "Unit", False, ("vienetas", "mato vienetas")),
)
COLUMN_BY_KEY = {c.key: c for c in COLUMNS}
_HEADER_INDEX: dict[str, str] = {}


def column_for_header(text: Any) -> str | None:
    if not _HEADER_INDEX:
        for col in COLUMNS:
            for name in col.names():
                _HEADER_INDEX[name] = col.key
    return _HEADER_INDEX.get(normalise_header(text))


# --- reading ----------------------------------------------------------------------------------------

def open_file(filename: str, data: bytes) -> Sheet:
    """The plan import's checks (extension, content, XLSX package); a CSV file is read with the
    delimiter under which this upload's headers are recognised."""
    return open_upload(filename, data, column_for_header)


def _missing_header() -> str:
    return _("The file has no header row the upload recognises. Its first row must name the columns "
             "indicator_code, value and note (download the template to see them).")


@dataclass
class FileRow:
    row: int
    cells: dict[str, Any]
    problems: dict[str, str]


def read_rows(sheet: Sheet) -> tuple[list[FileRow], dict[str, str]]:
    """The non-empty rows under the header (cells by column key, formulas marked as problems) and the
    column labels as written in the file."""
    header_row, header = find_header(sheet.rows, column_for_header, _missing_header)
    index, labels, unnamed = map_header(header, header_row, column_for_header,
                                        [(c.key, c.key) for c in COLUMNS if c.required],
                                        _("Use indicator_code, value and note."))
    key_of = {idx: key for key, idx in index.items()}
    out: list[FileRow] = []
    for n, values in sheet.rows:
        formulas = sheet.formulas.get(n, {})
        if _is_empty(values) and not formulas:
            continue
        if len(out) >= MAX_ROWS:
            raise refuse(_("The file has more than %(n)s rows.", n=MAX_ROWS))
        cells = {key: (values[idx] if idx < len(values) else None) for key, idx in index.items()}
        row_problems: dict[str, str] = {}
        for idx, formula in formulas.items():
            message = _("The cell contains a formula or an error value (%(formula)s). Replace it by its value.",
                        formula=formula[:60])
            row_problems[key_of.get(idx, get_column_letter(idx + 1))] = message
        for idx in [*unnamed, *range(len(header), len(values))]:
            if idx < len(values) and idx not in formulas and not _is_empty([values[idx]]):
                row_problems[get_column_letter(idx + 1)] = _("This column has no header but the cell holds data.")
        out.append(FileRow(n, cells, row_problems))
    if not out:
        raise refuse(_("The file has no values: every row under the headers is empty."))
    return out, labels


# --- checking and saving ------------------------------------------------------------------------------

@dataclass
class UploadSummary:
    rows: int = 0
    values: int = 0
    notes_only: int = 0
    skipped: int = 0


def check_rows(submission: DataSubmission, rows: list[FileRow],
               labels: dict[str, str]) -> tuple[dict[int, services.Entry], dict[int, int], UploadSummary]:
    """Entries by indicator id, the row of each, and the counts; ``ImportRefused`` lists every problem."""
    applicable = {i.code.upper(): i for i in services.applicable(submission)}
    others = {i.code.upper(): i for i in services.reported_indicators()}
    existing_notes = {v.indicator_id: v.note for v in submission.values}
    has_note = "note" in labels
    errors: list[RowError] = []
    entries: dict[int, services.Entry] = {}
    row_of: dict[int, int] = {}
    summary = UploadSummary(rows=len(rows))

    def label(key: str) -> str:
        return labels.get(key, key)

    for r in rows:
        code = _text(r.cells.get("indicator_code")).upper()
        problems = {label(k) if k in COLUMN_BY_KEY else k: m for k, m in r.problems.items()}
        indicator = applicable.get(code)
        if "indicator_code" not in r.problems:
            if not code:
                problems[label("indicator_code")] = _("This column must be filled in.")
            elif indicator is None and code in others:
                problems[label("indicator_code")] = _(
                    "The indicator %(code)s is not reported in this submission (it is reported per %(level)s).",
                    code=code, level=_("contract") if others[code].reported_by == "contract" else _("municipality"))
            elif indicator is None:
                problems[label("indicator_code")] = _("There is no reported indicator with the code %(code)s.",
                                                      code=code)
            elif indicator.id in row_of:
                problems[label("indicator_code")] = _("The indicator %(code)s is given twice (also in row %(row)s).",
                                                      code=code, row=row_of[indicator.id])
        value = note = None
        if "value" not in r.problems:
            try:
                value = services.parse_value(indicator, r.cells.get("value")) if indicator is not None else None
            except CellError as err:
                problems[label("value")] = str(err)
        if "note" not in r.problems:
            try:
                note = services.parse_note(r.cells.get("note"))
            except CellError as err:
                problems[label("note")] = str(err)
        if problems:
            errors += [RowError(r.row, col, message, code or None) for col, message in problems.items()]
            continue
        assert indicator is not None
        row_of[indicator.id] = r.row
        if not has_note:
            note = existing_notes.get(indicator.id)
        raw_value = r.cells.get("value")
        if value is None and note is None:
            summary.skipped += 1
            continue
        entries[indicator.id] = services.Entry(raw_value if value is not None else None, note)
        if value is None:
            summary.notes_only += 1
        else:
            summary.values += 1
    if errors:
        raise ImportRefused(errors)
    return entries, row_of, summary


def import_values(actor: User, submission: DataSubmission, filename: str, stream: Any, *,
                  version: int | str | None = None, max_bytes: int = MAX_UPLOAD_BYTES) -> UploadSummary:
    """Check the whole file, then save its values into the submission (a submitted one is aggregated
    again). Raises ``ImportRefused`` (nothing saved) when any row is wrong. The caller commits."""
    require(actor, "reporting.edit", submission)
    if version is not None:
        from srpp.core.services import check_version

        check_version(submission, version)
    data = read_limited(stream, max_bytes)
    sheet = open_file(filename, data)
    try:
        rows, labels = read_rows(sheet)
    finally:
        sheet.rows.close()
    entries, row_of, summary = check_rows(submission, rows, labels)
    if entries:
        try:
            services.save_values(actor, submission, entries, source="upload")
        except services.ValuesRefused as err:  # the same rules as above: a coding error if it happens
            raise ImportRefused([RowError(row_of.get(i), labels.get("value", "value"), m)
                                 for i, m in err.errors.items()]) from err
    return summary


# --- templates -------------------------------------------------------------------------------------------

def _template_rows(submission: DataSubmission) -> list[list[str]]:
    current = {v.indicator_id: v for v in submission.values}
    rows = []
    for ind in services.applicable(submission):
        v = current.get(ind.id)
        rows.append([ind.code, services.plain(v.value) if v is not None else "", (v.note or "") if v else "",
                     ind.name, ind.unit])
    return rows


HEADERS = ["indicator_code", "value", "note", "indicator", "unit"]


def template_csv(submission: DataSubmission) -> bytes:
    """UTF-8 with a byte-order mark: one row per indicator of the submission, with its current value."""
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(HEADERS)
    for row in _template_rows(submission):
        writer.writerow([neutralise(v) for v in row])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def template_xlsx(submission: DataSubmission) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = DATA_SHEET
    for r, row in enumerate([HEADERS, *_template_rows(submission)], start=1):
        for c, value in enumerate(row, start=1):
            cell = ws.cell(row=r, column=c)
            if r > 1 and c == 2 and value:
                cell.value = Decimal(value)  # a number cell
                continue
            cell.value = value
            cell.data_type = "s"  # never a formula, whatever the text starts with
            if r == 1:
                cell.font = Font(bold=True)
                cell.fill = PatternFill("solid", fgColor="DDE7F0")
    for letter, width in zip("ABCDE", (22, 14, 40, 60, 12), strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
