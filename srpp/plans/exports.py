"""Export of plan versions and the import template, as CSV and XLSX.

Both use the bilingual columns of ``imports.COLUMNS`` so that an export can be imported again.
Text that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, tab or
carriage return) is neutralised: prefixed with ``'`` in CSV (the import removes it again) and
stored as a string cell in XLSX. Amounts are written from Decimal, never through float
arithmetic."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

from flask_babel import force_locale, get_locale
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy import select

from srpp.core.exports import CSV_MIME as CSV_MIME  # re-exported: the other importers and exports use them
from srpp.core.exports import XLSX_MIME as XLSX_MIME
from srpp.core.exports import neutralise
from srpp.extensions import db
from srpp.orgs.models import FundingMeasure, PriorityArea, ServiceCategory
from srpp.plans.imports import COLUMN_HELP, COLUMNS, EXAMPLE_MARKER
from srpp.plans.models import PlanItem, PlanVersion
from srpp.rules.models import Procedure, ReservationBasis

PLAN_SHEET = "Planas"
HELP_SHEET = "Paaiškinimai – Help"


def headers() -> list[str]:
    return [c.header for c in COLUMNS]


def _bundle_word(flag: bool) -> str:
    lithuanian = str(get_locale() or "lt") == "lt"
    if flag:
        return "taip" if lithuanian else "yes"
    return "ne" if lithuanian else "no"


def item_row(item: PlanItem) -> list[Any]:
    """One item in the order of ``COLUMNS`` (text, Decimal, int or None)."""
    extra = [c.code for c in item.additional_cpv if c.code != item.main_cpv]
    return [
        item.title,
        item.category.key if item.category else "",
        item.main_cpv,
        "; ".join(extra),
        item.priority_area.value if item.priority_area else "",
        item.target_groups or "",
        item.estimated_value,
        item.quantity,
        item.unit or "",
        item.launch_month.strftime("%Y-%m") if item.launch_month else "",
        item.duration_months,
        item.procedure.value if item.procedure else "",
        item.reservation.value if item.reservation else "",
        item.intended_lots,
        item.funding_measure.code if item.funding_measure else "",
        _bundle_word(item.is_bundle),
        item.notes_for_seos or "",
    ]


def version_rows(version: PlanVersion) -> Iterator[list[Any]]:
    for item in version.items:
        yield item_row(item)


def filename(version: PlanVersion, ext: str) -> str:
    code = re.sub(r"[^A-Za-z0-9-]", "", version.plan.municipality.code) or "plan"
    return f"plan-{code}-v{version.number}.{ext}"


# --- CSV ---------------------------------------------------------------------------------------

def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, bool):
        return _bundle_word(value)
    if isinstance(value, int):
        return str(value)
    return neutralise(str(value))


def to_csv(rows: Iterable[list[Any]]) -> bytes:
    """UTF-8 with a byte-order mark (so spreadsheet programs see the Lithuanian letters), ``,``."""
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(headers())
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def template_csv() -> bytes:
    return to_csv([explanation_row()])


def explanation_row() -> list[str]:
    """The CSV template's second row: what each column accepts (skipped by the import)."""
    cats = " | ".join(c.key for c in _categories())
    funding = " | ".join(f.code for f in _funding())
    return [
        EXAMPLE_MARKER,
        cats,
        "85312100-0",
        "85311100-3; 85312400-3",
        " | ".join(a.value for a in PriorityArea),
        "65+; negalia / disability",
        "1 234,50 | 1234.50",
        "300",
        "vietadienis / place-day",
        "YYYY-MM (2027-03)",
        "1–120",
        " | ".join(p.value for p in Procedure),
        " | ".join(r.value for r in ReservationBasis),
        "1",
        funding,
        "taip | ne | yes | no",
        "Pastabos / notes",
    ]


# --- XLSX --------------------------------------------------------------------------------------

_HEAD_FONT = Font(bold=True)
_HEAD_FILL = PatternFill("solid", fgColor="DDE7F0")
_WIDTHS = {"title": 48, "category": 18, "main_cpv": 16, "additional_cpv": 26, "priority_area": 16,
           "target_groups": 28, "estimated_value": 18, "quantity": 10, "unit": 16, "launch_month": 14,
           "duration_months": 12, "procedure": 14, "reservation": 14, "intended_lots": 10, "funding": 18,
           "is_bundle": 10, "notes_for_seos": 48}


def _text_cell(ws: Any, row: int, col: int, value: str) -> None:
    cell = ws.cell(row=row, column=col)
    cell.value = value
    cell.data_type = "s"  # never a formula, whatever the text starts with


def _categories() -> list[ServiceCategory]:
    return list(db.session.scalars(select(ServiceCategory).order_by(ServiceCategory.sort_order, ServiceCategory.key)))


def _funding() -> list[FundingMeasure]:
    return list(db.session.scalars(select(FundingMeasure).order_by(FundingMeasure.code)))


def _labels(member: Any) -> tuple[str, str]:
    out = []
    for lang in ("lt", "en"):
        with force_locale(lang):
            out.append(member.label)
    return out[0], out[1]


def _help_sheet(wb: Workbook) -> dict[str, str]:
    """The explanations and the lists of allowed values; returns list ranges for validation."""
    ws = wb.create_sheet(HELP_SHEET)
    ws.column_dimensions["A"].width = 44
    ws.column_dimensions["B"].width = 48
    ws.column_dimensions["C"].width = 60
    ws.column_dimensions["D"].width = 18
    r = 1

    def heading(text: str) -> None:
        nonlocal r
        r += 1
        _text_cell(ws, r, 1, text)
        ws.cell(row=r, column=1).font = Font(bold=True, size=12)
        r += 1

    def line(*values: Any, bold: bool = False) -> None:
        nonlocal r
        for c, v in enumerate(values, start=1):
            _text_cell(ws, r, c, "" if v is None else str(v))
            if bold:
                ws.cell(row=r, column=c).font = _HEAD_FONT
        r += 1

    _text_cell(ws, r, 1, "Planuojamų pirkimų importas / Import of planned procurements")
    ws.cell(row=r, column=1).font = Font(bold=True, size=14)
    r += 1
    line("Įrašykite pirkimus lape „Planas“, po vieną eilutėje; formulės neleidžiamos. / "
         "Enter the items on the sheet \"Planas\", one per row; formulas are not allowed.")

    heading("Stulpeliai / Columns")
    line("Stulpelis / Column", "Reikšmės / Values", "", bold=True)
    for col in COLUMNS:
        with force_locale("lt"):
            help_lt = str(COLUMN_HELP[col.key])
        with force_locale("en"):
            help_en = str(COLUMN_HELP[col.key])
        line(col.header, help_lt, help_en if help_en != help_lt else "")

    ranges: dict[str, str] = {}

    def listing(title: str, key: str, rows: list[tuple[str, ...]], head: tuple[str, ...]) -> None:
        heading(title)
        line(*head, bold=True)
        first = r
        for row in rows:
            line(*row)
        ranges[key] = f"'{HELP_SHEET}'!$A${first}:$A${r - 1}"

    listing("Paslaugų kategorijos / Service categories", "category",
            [(c.key, c.name_lt, c.name_en, c.priority_area.value) for c in _categories()],
            ("Raktas / Key", "Pavadinimas", "Name", "Sritis / Area"))
    listing("Prioritetinės sritys / Priority areas", "priority_area",
            [(a.value, *_labels(a)) for a in PriorityArea], ("Raktas / Key", "Pavadinimas", "Name"))
    listing("Pirkimo būdai / Procedures", "procedure",
            [(p.value, *_labels(p)) for p in Procedure], ("Kodas / Code", "Pavadinimas", "Name"))
    listing("Rezervavimas / Reservation", "reservation",
            [(b.value, *_labels(b)) for b in ReservationBasis], ("Kodas / Code", "Pavadinimas", "Name"))
    listing("Finansavimo šaltiniai / Funding", "funding",
            [(f.code, f.name_lt, f.name_en) for f in _funding()], ("Kodas / Code", "Pavadinimas", "Name"))
    heading("Paketas / Bundle")
    line("taip / ne", "yes / no")
    return ranges


def _workbook(rows: Iterable[list[Any]]) -> Workbook:
    wb = Workbook()
    ws = wb.active
    ws.title = PLAN_SHEET
    for c, col in enumerate(COLUMNS, start=1):
        _text_cell(ws, 1, c, col.header)
        cell = ws.cell(row=1, column=c)
        cell.font = _HEAD_FONT
        cell.fill = _HEAD_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.column_dimensions[get_column_letter(c)].width = _WIDTHS.get(col.key, 14)
    ws.freeze_panes = "A2"
    keys = [c.key for c in COLUMNS]
    n = 1
    for n, row in enumerate(rows, start=2):
        for c, value in enumerate(row, start=1):
            if value is None or value == "":
                continue
            if isinstance(value, str):
                _text_cell(ws, n, c, value)
                continue
            cell = ws.cell(row=n, column=c, value=value)
            if isinstance(value, Decimal):
                cell.number_format = "#,##0.00"
    ranges = _help_sheet(wb)
    last = max(n, 1000)
    for key, formula in (
        ("category", ranges.get("category")),
        ("priority_area", ranges.get("priority_area")),
        ("procedure", ranges.get("procedure")),
        ("reservation", ranges.get("reservation")),
        ("funding", ranges.get("funding")),
        ("is_bundle", '"taip,ne,yes,no"'),
    ):
        if not formula:
            continue
        letter = get_column_letter(keys.index(key) + 1)
        dv = DataValidation(type="list", formula1=formula,
                            allow_blank=True, showErrorMessage=False)
        dv.add(f"{letter}2:{letter}{last}")
        ws.add_data_validation(dv)
    return wb


def to_xlsx(rows: Iterable[list[Any]]) -> bytes:
    buf = io.BytesIO()
    _workbook(rows).save(buf)
    return buf.getvalue()


def template_xlsx() -> bytes:
    return to_xlsx([])


def version_csv(version: PlanVersion) -> bytes:
    return to_csv(version_rows(version))


def version_xlsx(version: PlanVersion) -> bytes:
    return to_xlsx(version_rows(version))

