"""Import of plan items from CSV or XLSX.

The whole file is read and every row checked (with ``services.check_item``, the same rule check as
the forms) before anything is written: one wrong row refuses the file and nothing is imported.
Uploads are checked before parsing: size, that the content really is UTF-8 text or an XLSX
package, the declared uncompressed size of an XLSX (zip bombs), external links and XML entity
declarations. XLSX cells with formulas are refused (their cached values could be anything).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import re
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl.utils import get_column_letter
from sqlalchemy import select

from srpp.auth.models import User
from srpp.core.errors import DomainError
from srpp.core.permissions import require
from srpp.extensions import db
from srpp.orgs.models import FundingMeasure, PriorityArea
from srpp.plans import services
from srpp.plans.models import PlanState, PlanVersion
from srpp.rules.models import Procedure, ReservationBasis

#: refuse uploads above this many bytes before parsing (Flask's MAX_CONTENT_LENGTH applies too)
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
#: refuse XLSX packages whose members declare more than this uncompressed (zip bombs)
MAX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024
#: refuse XLSX parts (above RATIO_FLOOR_BYTES) compressed more than this: spreadsheets compress about
#: 5 to 30 times, a zip bomb hundreds of times
MAX_COMPRESSION_RATIO = 100
RATIO_FLOOR_BYTES = 1024 * 1024
MAX_ZIP_MEMBERS = 2000
MAX_ROWS = 20_000
#: rows searched for the header row (a title line above the headers is allowed)
HEADER_SEARCH_ROWS = 10
#: largest amount the database stores (Numeric(14, 2))
MAX_AMOUNT = Decimal("999999999999.99")
MAX_INT = 1_000_000

#: the title cell of the explanation row in the CSV template; such a row is skipped on import
EXAMPLE_MARKER = "PAVYZDYS – ištrinkite šią eilutę / EXAMPLE – delete this row"


@dataclass(frozen=True)
class Column:
    key: str
    lt: str
    en: str
    required: bool = False
    aliases: tuple[str, ...] = ()
    max_length: int | None = None

    @property
    def header(self) -> str:
        """The bilingual header written in templates and exports."""
        return f"{self.lt} / {self.en}"

    def names(self) -> set[str]:
        return {normalise_header(n) for n in (self.key, self.lt, self.en, self.header, f"{self.en} / {self.lt}",
                                              *self.aliases)}


COLUMNS: tuple[Column, ...] = (
    Column("title", "Pavadinimas", "Title", True, ("pirkimo pavadinimas", "item"), 250),
    Column("category", "Paslaugų kategorija", "Service category", True, ("kategorija", "category")),
    Column("main_cpv", "Pagrindinis BVPŽ kodas", "Main CPV code", True,
           ("pagrindinis bvpž", "bvpž", "bvpž kodas", "main cpv", "cpv", "cpv code")),
    Column("additional_cpv", "Papildomi BVPŽ kodai", "Additional CPV codes", False,
           ("papildomi bvpž", "additional cpv", "kiti bvpž kodai", "other cpv codes")),
    Column("priority_area", "Prioritetinė sritis", "Priority area", False, ("sritis", "area")),
    Column("target_groups", "Tikslinės grupės", "Target groups", False, ("tikslinė grupė", "target group"), 300),
    Column("estimated_value", "Numatoma vertė (EUR)", "Estimated value (EUR)", True,
           ("numatoma vertė", "vertė", "vertė (eur)", "estimated value", "value", "value (eur)")),
    Column("quantity", "Kiekis", "Quantity"),
    Column("unit", "Mato vienetas", "Unit", False, ("matavimo vienetas", "vienetas"), 80),
    Column("launch_month", "Pirkimo pradžios mėnuo", "Launch month", True,
           ("pradžios mėnuo", "mėnuo", "planned launch month", "month")),
    Column("duration_months", "Sutarties trukmė (mėn.)", "Duration (months)", True,
           ("sutarties trukmė", "trukmė", "trukmė (mėn.)", "duration", "contract duration",
            "contract duration (months)")),
    Column("procedure", "Pirkimo būdas", "Procedure", True, ("būdas", "procurement procedure")),
    Column("reservation", "Rezervavimas", "Reservation", False,
           ("rezervavimo pagrindas", "reservation basis", "rezervuota", "reserved")),
    Column("intended_lots", "Pirkimo dalių skaičius", "Intended lots", False,
           ("pirkimo dalys", "dalių skaičius", "lots", "number of lots")),
    Column("funding", "Finansavimo šaltinis", "Funding", False,
           ("finansavimas", "funding source", "funding measure", "finansavimo priemonė")),
    Column("is_bundle", "Paslaugų paketas", "Bundle", False, ("paketas", "bundle")),
    Column("notes_for_seos", "Pastabos SEO", "Notes for SEOs", False,
           ("pastabos", "notes", "pastabos socialinės ekonomikos organizacijoms")),
)

COLUMN_BY_KEY = {c.key: c for c in COLUMNS}
#: ItemInput fields reported by check_item → column keys
FIELD_TO_COLUMN = {"category_id": "category", "funding_measure_id": "funding"}

COLUMN_HELP = {
    "title": _l("Required. Up to 250 characters."),
    "category": _l("Required. The key of a service category (see the list), e.g. DEM_DAY."),
    "main_cpv": _l("Required. One CPV code with its check digit, e.g. 85312100-0."),
    "additional_cpv": _l("Optional. CPV codes separated by ; or ,"),
    "priority_area": _l("Optional; the category's area when empty. One of the area keys in the list."),
    "target_groups": _l("Optional; the category's target group when empty."),
    "estimated_value": _l("Required. Euros, options and extensions included: 1234.50, 1234,50 or 1 234,50."),
    "quantity": _l("Optional. A number greater than zero."),
    "unit": _l("Optional. E.g. visit, trip, place-day."),
    "launch_month": _l("Required. YYYY-MM (e.g. 2027-03), inside the plan period; a date cell also works."),
    "duration_months": _l("Required. Whole months, 1 to 120 (at most 36 for an Art. 77 reservation)."),
    "procedure": _l("Required. simplified, open, light_regime or call_off."),
    "reservation": _l("Optional; none when empty. One of the reservation codes in the list."),
    "intended_lots": _l("Optional; 1 when empty. A whole number."),
    "funding": _l("Optional. The code of a funding source (see the list)."),
    "is_bundle": _l("Optional. yes / no (taip / ne, 1 / 0, true / false)."),
    "notes_for_seos": _l("Optional. Shown to social economy organisations on the public pipeline."),
}

TRUE_WORDS = {"yes", "y", "taip", "t", "true", "1", "x", "jā"}
FALSE_WORDS = {"no", "n", "ne", "false", "0", "nē", ""}


def normalise_header(text: Any) -> str:
    """Case- and space-insensitive form of a header (also ignores ``_`` and a trailing ``*``)."""
    s = unicodedata.normalize("NFC", str(text or "")).casefold().strip().rstrip("*")
    return re.sub(r"[\s_]+", "", s)


_HEADER_INDEX: dict[str, str] = {}


def column_for_header(text: Any) -> str | None:
    if not _HEADER_INDEX:
        for col in COLUMNS:
            for name in col.names():
                _HEADER_INDEX[name] = col.key
    return _HEADER_INDEX.get(normalise_header(text))


# --- errors ------------------------------------------------------------------------------------

@dataclass
class RowError:
    """One problem: ``row`` as numbered in the file (None for the whole file), ``column`` the
    header as written in the file (None when not about one column)."""

    row: int | None
    column: str | None
    message: str
    title: str | None = None  # the row's title, to recognise it


class ImportRefused(DomainError):
    """The file was refused; ``errors`` lists every problem. Nothing was imported."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(errors[0].message if errors else _("The file was refused."), field="file")
        self.errors = errors


def refuse(message: str) -> ImportRefused:
    return ImportRefused([RowError(None, None, message)])


# --- reading the upload ------------------------------------------------------------------------

@dataclass
class Sheet:
    """The cells of the uploaded table: (row number as the user sees it, cell values)."""

    name: str | None
    rows: Generator[tuple[int, list[Any]], None, None]
    kind: str  # csv | xlsx
    #: XLSX cells holding formulas or error values: row → {column index: formula}
    formulas: dict[int, dict[int, str]] = field(default_factory=dict)


def read_limited(stream: Any, limit: int = MAX_UPLOAD_BYTES) -> bytes:
    """Read at most ``limit`` bytes; refuse a larger upload without reading it all."""
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise refuse(_("The file is larger than %(mb)s MB. Split it into smaller files. Nothing was imported.",
                        mb=limit // (1024 * 1024)))
    return data


def open_upload(filename: str, data: bytes, recognise: Callable[[Any], Any] | None = None) -> Sheet:
    """Check the content matches the file's extension and open it as a table. A CSV file is read
    with the delimiter under which ``recognise`` (by default this import's ``column_for_header``)
    recognises the most headers: the other imports pass their own."""
    ext = (filename or "").rsplit(".", 1)[-1].lower() if "." in (filename or "") else ""
    if not data.strip():
        raise refuse(_("The file is empty."))
    if ext == "xlsx":
        return _open_xlsx(data)
    if ext in ("csv", "txt"):
        if data[:4] == b"PK\x03\x04" or data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
            raise refuse(_("This file is not a CSV text file. Save it as CSV (UTF-8) or upload it as .xlsx."))
        return _open_csv(data, recognise or column_for_header)
    if ext == "xls":
        raise refuse(_("The old Excel format (.xls) is not supported. Save the workbook as .xlsx."))
    if ext in ("xlsm", "xltm", "xlsb"):
        raise refuse(_macros_message())
    raise refuse(_("Upload a .csv or .xlsx file."))


def _open_csv(data: bytes, recognise: Callable[[Any], Any]) -> Sheet:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise refuse(_("The CSV file is not in UTF-8. Save it as \"CSV UTF-8\" and upload it again.")) from None
    if "\x00" in text:
        raise refuse(_("This file is not a CSV text file."))
    delimiter = _sniff_delimiter(text, recognise)

    def rows() -> Generator[tuple[int, list[Any]], None, None]:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        n = 0
        try:
            for n, record in enumerate(reader, start=1):
                yield n, [_unescape(v) for v in record]
        except csv.Error as err:
            raise ImportRefused([RowError(n + 1, None, _("The CSV file cannot be read here: %(error)s",
                                                         error=str(err)))]) from None

    return Sheet(None, rows(), "csv")


def _unescape(value: str) -> str:
    """Undo the export's formula-injection guard: ``'=x`` → ``=x``."""
    if len(value) > 1 and value[0] == "'" and re.match(r"'+[=+\-@\t\r]", value):
        return value[1:]
    return value


def _sniff_delimiter(text: str, recognise: Callable[[Any], Any]) -> str:
    """The delimiter (``,``, ``;`` or tab) under which the most headers are recognised."""
    # newline="": lines end at \r\n, \n or a lone \r (old Mac files), as in the reader below
    lines = [ln for ln in itertools.islice(io.StringIO(text, newline=""), HEADER_SEARCH_ROWS) if ln.strip()]
    best, best_score = ",", -1
    for delim in (",", ";", "\t"):
        score = 0
        try:
            for record in csv.reader(lines, delimiter=delim):
                score = max(score, sum(1 for v in record if recognise(v)))
        except csv.Error:  # the reader below reports what is wrong with the file
            pass
        if score > best_score:
            best, best_score = delim, score
    if best_score == 0:  # no headers at all: the most frequent separator of the first line
        first = lines[0] if lines else ""
        best = max((",", ";", "\t"), key=first.count)
    return best


def check_xlsx_package(data: bytes) -> None:
    """Refuse what is not an XLSX package, zip bombs, external links and XML entity declarations."""
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise refuse(_("This workbook is password-protected or in the old .xls format. Save it as .xlsx "
                        "without a password."))
    if data[:4] != b"PK\x03\x04":
        raise refuse(_("This file is not a real .xlsx workbook. Save it from your spreadsheet program as "
                        "\"Excel Workbook (.xlsx)\" or as CSV."))
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError):
        raise refuse(_("This file is not a real .xlsx workbook (the package is damaged).")) from None
    with zf:
        names = {i.filename for i in infos}
        if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
            raise refuse(_("This file is not a real .xlsx workbook. Save it from your spreadsheet program as "
                            "\"Excel Workbook (.xlsx)\" or as CSV."))
        if len(infos) > MAX_ZIP_MEMBERS or sum(i.file_size for i in infos) > MAX_UNCOMPRESSED_BYTES:
            raise refuse(_("The workbook unpacks to more than %(mb)s MB; it was refused before reading.",
                            mb=MAX_UNCOMPRESSED_BYTES // (1024 * 1024)))
        if any(i.flag_bits & 0x1 for i in infos):
            raise refuse(_("The workbook is encrypted. Save it without a password."))
        # spreadsheet programs store or deflate the parts; anything else is refused before reading
        if any(i.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) for i in infos):
            raise refuse(_("This file is not a real .xlsx workbook (the package is damaged)."))
        if any(i.file_size > RATIO_FLOOR_BYTES and i.file_size > MAX_COMPRESSION_RATIO * max(i.compress_size, 1)
               for i in infos):
            raise refuse(_("The workbook is compressed far more than a spreadsheet can be (a \"zip bomb\"); it "
                            "was refused before reading. Save it again from your spreadsheet program."))
        if any(_is_macro_part(n) for n in names):
            raise refuse(_macros_message())
        if any(n.startswith("xl/externalLinks/") for n in names):
            raise refuse(_external_links_message())
        try:
            problems = {_scan_part(zf, info) for info in infos if info.filename.endswith((".xml", ".rels", ".vml"))}
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError):
            raise refuse(_("This file is not a real .xlsx workbook (the package is damaged).")) from None
        if "declarations" in problems:
            raise refuse(_("The workbook contains XML declarations that are not allowed."))
        if "macros" in problems:
            raise refuse(_macros_message())
        if "external" in problems:
            raise refuse(_external_links_message())


def _macros_message() -> str:
    return _("The workbook contains macros (.xlsm). Save it as \"Excel Workbook (.xlsx)\", without macros, and "
             "upload it again.")


def _external_links_message() -> str:
    return _("The workbook links to other files (external links). Copy the values into the workbook, remove the "
             "links and upload it again.")


def _is_macro_part(name: str) -> bool:
    base = name.rsplit("/", 1)[-1].lower()
    return base.startswith("vbaproject") or base.startswith("vbadata") or name.lower().startswith("xl/macrosheets/")


#: what a content type or relationship part says about macros and external links
_MACRO_MARK = re.compile(rb"macroEnabled|vbaProject|/vbaData|macrosheet", re.IGNORECASE)
_EXTERNAL_MARK = re.compile(rb"externalLink|TargetMode=\"External\"", re.IGNORECASE)
#: a formula (or defined name) referring to another workbook: [1]Sheet!A1, '[1]My sheet'!A1, [1]!Name,
#: 'C:\\dir\\[book.xlsx]Sheet'!A1 (the text of <f>, <c:f> and <definedName> elements)
_FORMULA = re.compile(rb"<(?:\w+:)?(?:f|definedName)\b[^>]*>([^<]*)<")
_EXTERNAL_REF = re.compile(rb"\[(?:\d+|[^\]<>]*\.xl\w*)\][^<>\[\]!]*!", re.IGNORECASE)


def _scan_part(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> str | None:
    """What is wrong with one XML part, read in chunks (sizes are bounded by the zip-bomb check):
    "declarations" for DOCTYPE / ENTITY anywhere (in XML text a literal ``<!`` is always markup)
    or a UTF-16 part that a byte scan could not see into; "macros" and "external" for content
    types and relationships of macros and links to other files; "external" for formulas that
    refer to other workbooks."""
    name = info.filename
    package_part = name == "[Content_Types].xml" or name == "xl/_rels/workbook.xml.rels"
    formulas = name == "xl/workbook.xml" or name.startswith(("xl/worksheets/", "xl/charts/"))
    tail = b""
    pending = b""  # the unfinished element at the end of the previous chunk (formula scan)
    with zf.open(info) as fh:
        first = True
        while chunk := fh.read(1 << 16):
            if first and chunk[:2] in (b"\xff\xfe", b"\xfe\xff"):
                return "declarations"
            first = False
            window = tail + chunk
            if b"<!DOCTYPE" in window or b"<!ENTITY" in window:
                return "declarations"
            if package_part and _MACRO_MARK.search(window):
                return "macros"
            if package_part and _EXTERNAL_MARK.search(window):  # the workbook's own links (not a sheet's hyperlinks)
                return "external"
            if name.endswith(".rels") and re.search(rb"/externalLink\b", window):
                return "external"
            tail = window[-64:]
            if formulas:
                buf, end = pending + chunk, 0
                for m in _FORMULA.finditer(buf):
                    if _EXTERNAL_REF.search(m.group(1)):
                        return "external"
                    end = m.end() - 1
                start = buf.rfind(b"<", end)
                pending = buf[start:] if start != -1 else b""
                pending = pending if len(pending) <= 1 << 20 else pending[-(1 << 16):]
    return None


def _open_xlsx(data: bytes) -> Sheet:
    check_xlsx_package(data)
    import openpyxl

    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False, keep_links=False)
    except Exception:  # openpyxl raises many kinds of errors on broken packages
        raise refuse(_("The workbook cannot be read. Save it again as .xlsx and upload it again.")) from None
    names = wb.sheetnames
    if not names:
        wb.close()
        raise refuse(_("The workbook has no sheets."))
    name = next((n for n in names if normalise_header(n).startswith("plan")), names[0])
    ws = wb[name]
    if not hasattr(ws, "iter_rows"):  # a chart sheet
        wb.close()
        raise refuse(_("The sheet \"%(sheet)s\" holds no table. Put the items on a sheet named \"Planas\".",
                        sheet=name))
    ws.reset_dimensions()  # never trust the declared size of the sheet
    sheet = Sheet(name, (r for r in ()), "xlsx")

    def rows() -> Generator[tuple[int, list[Any]], None, None]:
        n = 0
        try:
            for n, cells in enumerate(ws.iter_rows(), start=1):
                values = []
                for idx, cell in enumerate(cells):
                    value = getattr(cell, "value", None)
                    kind = getattr(cell, "data_type", None)
                    if kind in ("f", "e"):
                        text = getattr(value, "text", value)  # ArrayFormula
                        sheet.formulas.setdefault(n, {})[idx] = str(text)
                        value = None
                    values.append(value)
                yield n, values
        except ImportRefused:
            raise
        except Exception:  # a damaged sheet shows up while reading it (read-only mode is lazy)
            raise ImportRefused([RowError(n + 1, None, _(
                "The workbook cannot be read from this row on. Save it again as .xlsx and upload it again."))]) from None
        finally:
            wb.close()

    sheet.rows = rows()
    return sheet


# --- parsing cells -----------------------------------------------------------------------------

class CellError(ValueError):
    pass


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime):
        value = value.date()
    return unicodedata.normalize("NFC", str(value)).strip()


_SPACES = re.compile(r"[\s\u00a0\u202f\u2009\u2007']+")


def parse_decimal(value: Any) -> Decimal | None:
    """1234.50, 1234,50, 1 234,50, 1.234,50, 1,234.50 (also with non-breaking spaces) and number cells."""
    if value is None or isinstance(value, bool):
        if isinstance(value, bool):
            raise CellError(_("Write a number, e.g. 1234.50 or 1 234,50."))
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, Decimal):
        return value
    text = _SPACES.sub("", _text(value)).replace("€", "")
    if text.lower().endswith("eur"):
        text = text[:-3]
    if not text:
        return None
    thousands = None
    if "," in text and "." in text:
        thousands = "." if text.rfind(",") > text.rfind(".") else ","
    elif text.count(",") > 1:
        thousands = ","
    elif text.count(".") > 1:
        thousands = "."
    if thousands:
        decimal_sep = "," if thousands == "." else "."
        if not re.fullmatch(rf"[+-]?\d{{1,3}}(\{thousands}\d{{3}})*(\{decimal_sep}\d+)?", text):
            raise CellError(_("Write a number, e.g. 1234.50 or 1 234,50."))
        text = text.replace(thousands, "")
    text = text.replace(",", ".")
    if not re.fullmatch(r"[+-]?\d+(\.\d+)?", text):
        raise CellError(_("Write a number, e.g. 1234.50 or 1 234,50."))
    try:
        return Decimal(text)
    except InvalidOperation:
        raise CellError(_("Write a number, e.g. 1234.50 or 1 234,50.")) from None


def parse_amount(value: Any) -> Decimal | None:
    number = parse_decimal(value)
    if number is None:
        return None
    if abs(number) > MAX_AMOUNT:  # first: quantizing 1E+300 would raise InvalidOperation
        raise CellError(_("The number is too large."))
    if number != number.quantize(Decimal("0.01")):
        raise CellError(_("Use at most two decimals."))
    return number


def parse_int(value: Any) -> int | None:
    number = parse_decimal(value)
    if number is None:
        return None
    if number != number.to_integral_value():
        raise CellError(_("Write a whole number."))
    if abs(number) > MAX_INT:
        raise CellError(_("The number is too large."))
    return int(number)


_MONTH = re.compile(r"(\d{4})\s*[-./]\s*(\d{1,2})(?:\s*[-./]\s*(\d{1,2}))?(?:[T ]\d{1,2}:\d{2}(:\d{2})?)?")


def parse_month(value: Any) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date().replace(day=1)
    if isinstance(value, dt.date):
        return value.replace(day=1)
    text = _text(value)
    if not text:
        return None
    m = _MONTH.fullmatch(text)
    if m and 1 <= int(m.group(2)) <= 12 and 1900 <= int(m.group(1)) <= 2200:
        return dt.date(int(m.group(1)), int(m.group(2)), 1)
    raise CellError(_("Write the month as YYYY-MM, e.g. 2027-03."))


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    word = _text(value).casefold()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise CellError(_("Write yes or no (taip or ne)."))


def _code(value: Any) -> str:
    return re.sub(r"[\s\-_]+", "_", _text(value).casefold())


def _labels(enum_cls: Any) -> dict[str, Any]:
    """Codes and the Lithuanian and English labels of an enum → member."""
    out: dict[str, Any] = {}
    for member in enum_cls:
        out[_code(member.value)] = member
        out[_code(member.name)] = member
        for lang in ("lt", "en"):
            with force_locale(lang):
                out[_code(member.label)] = member
    return out


_CPV_TOKEN = re.compile(r"^(\d{8})(?:-(\d))?$")


class RowParser:
    """Turns rows of cells into ``ItemInput``s with reference data loaded once."""

    def __init__(self, lookups: services.Lookups) -> None:
        self.lookups = lookups
        self.categories: dict[str, int] = {}
        for cat in lookups.categories.values():
            for name in (cat.key, cat.name_lt, cat.name_en):
                if name:
                    self.categories[_code(name)] = cat.id
        self.funding: dict[str, int] = {}
        for fm in db.session.scalars(select(FundingMeasure)):
            for name in (fm.code, fm.name_lt, fm.name_en):
                if name:
                    self.funding.setdefault(_code(name), fm.id)
        self.cpv_by_digits = {code[:8]: code for code in lookups.cpv}
        self.areas = _labels(PriorityArea)
        self.procedures = _labels(Procedure)
        self.reservations = _labels(ReservationBasis)
        for word in ("ne", "no", "nerezervuota", "not reserved", "-"):
            self.reservations.setdefault(_code(word), ReservationBasis.NONE)

    # every parser returns a value or raises CellError
    def cpv(self, token: str) -> str:
        token = re.sub(r"\s+", "", token)
        m = _CPV_TOKEN.match(token)
        if m and not m.group(2):
            return self.cpv_by_digits.get(m.group(1), token)
        return token

    def cpv_list(self, value: Any) -> list[str]:
        text = _text(value)
        return [self.cpv(t) for t in re.split(r"[;,\n\r\t]+|\s{2,}|\s(?=\d{8})", text) if t.strip()]

    @staticmethod
    def choice(table: dict[str, Any], value: Any, message: Callable[[], str]) -> Any:
        text = _text(value)
        if not text:
            return None
        try:
            return table[_code(text)]
        except KeyError:
            raise CellError(message()) from None

    def parse(self, cells: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        """Parsed ItemInput arguments and the problems, both by column key."""
        values: dict[str, Any] = {}
        problems: dict[str, str] = {}

        def take(key: str, fn, *args) -> None:
            raw = cells.get(key)
            try:
                value = fn(raw, *args)
            except CellError as err:
                problems[key] = str(err)
                return
            col = COLUMN_BY_KEY[key]
            if col.required and (value is None or value == "" or value == []):
                problems[key] = _("This column must be filled in.")
                return
            if col.max_length and isinstance(value, str) and len(value) > col.max_length:
                problems[key] = _("At most %(n)s characters (this cell has %(m)s).", n=col.max_length,
                                  m=len(value))
                return
            values[key] = value

        take("title", _text)
        take("category", lambda v: self.choice(self.categories, v, lambda: _(
            "Unknown service category. Use a category key from the list, e.g. DEM_DAY.")))

        def main_cpv(v: Any) -> str:
            codes = self.cpv_list(v)
            if len(codes) > 1:
                raise CellError(_("Give one main CPV code; put the others under the additional CPV codes."))
            return codes[0] if codes else ""

        take("main_cpv", main_cpv)
        take("additional_cpv", self.cpv_list)
        take("priority_area", lambda v: self.choice(self.areas, v, lambda: _(
            "Unknown priority area. Use one of: %(codes)s.", codes=", ".join(a.value for a in PriorityArea))))
        take("target_groups", _text)
        take("estimated_value", parse_amount)
        take("quantity", parse_amount)
        take("unit", _text)
        take("launch_month", parse_month)
        take("duration_months", parse_int)
        take("procedure", lambda v: self.choice(self.procedures, v, lambda: _(
            "Unknown procedure. Use one of: %(codes)s.", codes=", ".join(p.value for p in Procedure))))
        take("reservation", lambda v: self.choice(self.reservations, v, lambda: _(
            "Unknown reservation basis. Use one of: %(codes)s.", codes=", ".join(r.value for r in ReservationBasis))))
        take("intended_lots", parse_int)
        take("funding", lambda v: self.choice(self.funding, v, lambda: _(
            "Unknown funding source. Use a funding code from the list, e.g. MUNICIPAL.")))
        take("is_bundle", parse_bool)
        take("notes_for_seos", _text)
        return values, problems

    @staticmethod
    def item_input(values: dict[str, Any]) -> services.ItemInput:
        return services.ItemInput(
            title=values.get("title") or "",
            category_id=values.get("category"),  # type: ignore[arg-type]
            main_cpv=values.get("main_cpv") or "",
            additional_cpv=values.get("additional_cpv") or [],
            priority_area=values.get("priority_area"),
            target_groups=values.get("target_groups") or None,
            estimated_value=values.get("estimated_value"),  # type: ignore[arg-type]
            quantity=values.get("quantity"),
            unit=values.get("unit") or None,
            launch_month=values.get("launch_month"),  # type: ignore[arg-type]
            duration_months=values.get("duration_months"),  # type: ignore[arg-type]
            procedure=values.get("procedure"),  # type: ignore[arg-type]
            reservation=values.get("reservation") or ReservationBasis.NONE,
            intended_lots=1 if values.get("intended_lots") is None else values["intended_lots"],
            funding_measure_id=values.get("funding"),
            is_bundle=bool(values.get("is_bundle")),
            notes_for_seos=values.get("notes_for_seos") or None,
        )


# --- the whole file ----------------------------------------------------------------------------

@dataclass
class ParsedRow:
    row: int
    inp: services.ItemInput


@dataclass
class Parsed:
    rows: list[ParsedRow]
    errors: list[RowError]
    sheet: str | None


def _is_empty(values: list[Any]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


def _column_label(header: Any, idx: int) -> str:
    text = _text(header)
    letter = get_column_letter(idx + 1)
    return f"{text} ({letter})" if text else letter


def find_header(rows: Iterator[tuple[int, list[Any]]], recognise: Callable[[Any], str | None],
                missing: Callable[[], str]) -> tuple[int, list[Any]]:
    """The first row (within ``HEADER_SEARCH_ROWS`` non-empty rows) with at least two cells ``recognise``
    knows as column headers: (row number, values); otherwise refused with ``missing()`` (every upload)."""
    seen = 0
    for n, values in rows:
        if _is_empty(values):
            continue
        seen += 1
        if sum(1 for v in values if recognise(v)) >= 2:
            return n, values
        if seen >= HEADER_SEARCH_ROWS:
            break
    raise refuse(missing())


def _missing_header(sheet: Sheet) -> str:
    example = COLUMNS[0].header
    if sheet.kind == "xlsx":
        return _("The sheet \"%(sheet)s\" has no header row the import recognises. Put the items on a sheet "
                 "named \"Planas\" whose first row holds the template's column headers (e.g. \"%(example)s\"). "
                 "Download the template to see them.", sheet=sheet.name, example=example)
    return _("The file has no header row the import recognises. Its first row must hold the template's "
             "column headers (e.g. \"%(example)s\"). Download the template to see them.", example=example)


def map_header(header: list[Any], header_row: int, recognise: Callable[[Any], str | None],
               required: list[tuple[str, str]], unknown_hint: str | None = None
               ) -> tuple[dict[str, int], dict[str, str], list[int]]:
    """The columns of a header row: (column key → index, key → "header (letter)", unnamed indexes).
    Refuses unknown, repeated and missing required columns (``required``: (key, header to name))."""
    index: dict[str, int] = {}
    labels: dict[str, str] = {}
    unknown, duplicates, unnamed = [], [], []
    for idx, cell in enumerate(header):
        if _text(cell) == "":
            unnamed.append(idx)
            continue
        key = recognise(cell)
        if key is None:
            unknown.append(_column_label(cell, idx))
        elif key in index:
            duplicates.append(_column_label(cell, idx))
        else:
            index[key] = idx
            labels[key] = _column_label(cell, idx)
    file_errors = []
    if unknown:
        file_errors.append(RowError(header_row, None, _("Unknown columns: %(columns)s.", columns="; ".join(unknown))
                                    + " " + (unknown_hint or _("Use the column headers of the template (in "
                                                               "Lithuanian, English or both)."))))
    if duplicates:
        file_errors.append(RowError(header_row, None, _("Columns given twice: %(columns)s.",
                                                          columns="; ".join(duplicates))))
    missing = [name for key, name in required if key not in index]
    if missing:
        file_errors.append(RowError(header_row, None, _("Required columns are missing: %(columns)s.",
                                                          columns="; ".join(missing))))
    if file_errors:
        raise ImportRefused(file_errors)
    return index, labels, unnamed


def parse_sheet(sheet: Sheet, plan: Any, lookups: services.Lookups) -> Parsed:
    """Parse and check every row; collects all problems (nothing is written)."""
    rows = sheet.rows
    header_row, header = find_header(rows, column_for_header, lambda: _missing_header(sheet))

    index, labels, unnamed = map_header(header, header_row, column_for_header,
                                        [(c.key, c.header) for c in COLUMNS if c.required])

    parser = RowParser(lookups)
    parsed: list[ParsedRow] = []
    errors: list[RowError] = []
    order = {c.key: i for i, c in enumerate(COLUMNS)}
    key_of = {idx: key for key, idx in index.items()}
    marker = normalise_header(EXAMPLE_MARKER)
    title_idx = index["title"]
    count = 0
    for n, values in rows:
        formulas = sheet.formulas.get(n, {})
        if _is_empty(values) and not formulas:
            continue
        count += 1
        if count > MAX_ROWS:
            raise refuse(_("The file has more than %(n)s rows. Split it into smaller files.", n=MAX_ROWS))
        if title_idx < len(values) and normalise_header(values[title_idx]) == marker:
            continue  # the template's explanation row
        title = _text(values[title_idx]) if title_idx < len(values) else ""
        row_errors: list[RowError] = []
        problems: dict[str, str] = {}
        for idx, formula in formulas.items():
            if formula.startswith("="):
                message = _("The cell contains a formula (%(formula)s). Replace formulas by their values (copy, "
                            "then paste values only) and upload again.", formula=formula[:60])
            else:
                message = _("The cell contains an error value (%(value)s).", value=formula[:30])
            if idx in key_of:
                problems[key_of[idx]] = message
            else:
                row_errors.append(RowError(n, get_column_letter(idx + 1), message, title))
        for idx in [*unnamed, *range(len(header), len(values))]:
            if idx < len(values) and idx not in formulas and not _is_empty([values[idx]]):
                row_errors.append(RowError(n, get_column_letter(idx + 1), _(
                    "This column has no header but the cell holds data. Give the column a template header or "
                    "clear it."), title))
        cells = {key: (values[idx] if idx < len(values) else None) for key, idx in index.items()}
        vals, cell_problems = parser.parse(cells)
        for key, message in cell_problems.items():
            problems.setdefault(key, message)
        inp = parser.item_input(vals)
        for problem in services.check_item(inp, plan, lookups):
            key = FIELD_TO_COLUMN.get(problem.field, problem.field)
            if key not in COLUMN_BY_KEY or key in cell_problems or key in formulas_keys(formulas, key_of):
                continue
            problems[key] = f"{problems[key]} {problem.message}" if key in problems else problem.message
        for key in sorted(problems, key=order.__getitem__):
            label = labels.get(key) or COLUMN_BY_KEY[key].header
            row_errors.append(RowError(n, label, problems[key], title))
        if row_errors:
            errors.extend(row_errors)
        else:
            parsed.append(ParsedRow(n, inp))
    if not parsed and not errors:
        raise refuse(_("The file has no items: every row under the headers is empty."))
    return Parsed(parsed, errors, sheet.name)


def formulas_keys(formulas: dict[int, str], key_of: dict[int, str]) -> set[str]:
    return {key_of[idx] for idx in formulas if idx in key_of}


# --- the service -------------------------------------------------------------------------------

def require_draft(version: PlanVersion) -> None:
    if version.state != PlanState.DRAFT:
        raise DomainError(_("Version %(n)s is %(state)s: items can only be imported into a draft version. "
                            "Start a new version of the plan, then import.", n=version.number,
                            state=version.state.label))


def import_file(actor: User, version: PlanVersion, filename: str, stream: Any,
                max_bytes: int = MAX_UPLOAD_BYTES) -> int:
    """Check the whole file, then add every row to the draft ``version``; returns the number of
    items added. Raises ``ImportRefused`` (nothing added) when any row is wrong. Flushes, never
    commits: the caller commits once, or rolls back."""
    require(actor, "plan.edit", version.plan.municipality)
    require_draft(version)
    data = read_limited(stream, max_bytes)
    sheet = open_upload(filename, data)
    lookups = services.Lookups.load()  # every CPV code once: thousands of rows, one query
    try:
        parsed = parse_sheet(sheet, version.plan, lookups)
    finally:
        sheet.rows.close()  # closes the workbook
    if parsed.errors:
        raise ImportRefused(parsed.errors)
    services.add_items(actor, version, [row.inp for row in parsed.rows], lookups)
    return len(parsed.rows)
