"""Import of invoices and payments exported from a municipal finance system (CSV or XLSX).

The upload goes through the same gates as the plan import (``srpp.plans.imports``: size limit,
content matching the extension, XLSX package checks against zip bombs, external links and XML
declarations, formulas refused); its helpers are reused here, not copied.

Rows are matched by supplier company code + invoice number: an invoice not yet recorded is added
(``services.record_invoice``, source "import"), a recorded one is matched (its amount must agree).
A payment is identified by its invoice and reference (without a reference column: the invoice,
the day and the amount), so a payment already recorded is never added twice: importing the same
file again changes nothing.

All or nothing: every row is checked first, with the services' own rules (``check_invoice``,
``check_payment``) on the state the file would build row by row; one wrong row refuses the file
and every problem is listed (row, column, message). Only then is everything written, inside one
savepoint that is rolled back on any failure. The municipality is the importing finance officer's.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from srpp.auth.models import Role, User
from srpp.contracts.models import Contract
from srpp.core.errors import DomainError
from srpp.core.i18n import money
from srpp.core.permissions import can, require, rule
from srpp.extensions import db
from srpp.orgs.models import Municipality, Supplier
from srpp.payments import calc, services
from srpp.payments.models import Invoice
from srpp.plans.exports import neutralise
from srpp.plans.imports import (
    EXAMPLE_MARKER,
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
    parse_amount,
    parse_int,
    read_limited,
    refuse,
)

__all__ = ["COLUMNS", "COLUMN_HELP", "ImportRefused", "ImportSummary", "RowError", "import_file", "template_csv",
           "template_xlsx"]

#: rows per file: each new invoice and payment goes through the services (about 20 ms a row), and the
#: import runs in the web request
MAX_ROWS = 5000
#: the data sheet of the XLSX template (any first sheet is read)
DATA_SHEET = "Sąskaitos"
HELP_SHEET = "Paaiškinimai – Help"


# --- permission ------------------------------------------------------------------------------------

@rule("invoice.import")
def _invoice_import(user: User, municipality: Any) -> bool:
    """Import invoices and payments: without a municipality, whether the user is a finance officer
    somewhere (or an admin), for the import page and the menu; with one, as ``invoice.record``."""
    if municipality is None:
        return user.is_admin or user.has_role(Role.FINANCE_OFFICER)
    return can(user, "invoice.record", municipality)


def importable_municipalities(user: User) -> list[Municipality]:
    """The municipalities whose invoices the user may import (a finance officer's, every one for admins)."""
    stmt = select(Municipality).order_by(Municipality.sort_order, Municipality.code)
    if not user.is_admin:
        stmt = stmt.where(Municipality.id.in_(user.municipality_ids(Role.FINANCE_OFFICER) or [-1]))
    return [m for m in db.session.scalars(stmt) if can(user, "invoice.record", m)]


# --- columns ---------------------------------------------------------------------------------------

COLUMNS: tuple[Column, ...] = (
    Column("supplier_code", "Tiekėjo įmonės kodas", "Supplier company code", True,
           ("supplier code", "tiekėjo kodas", "įmonės kodas", "company code"), 20),
    Column("invoice_number", "Sąskaitos numeris", "Invoice number", True,
           ("sąskaitos nr", "sąskaitos nr.", "invoice no", "invoice no.", "invoice"), 60),
    Column("contract_reference", "Sutarties numeris", "Contract reference", False,
           ("sutarties nr", "sutarties nr.", "contract number", "contract no", "contract ref"), 60),
    Column("contract_id", "Sutarties ID (SRPP)", "Contract ID (SRPP)", False, ("sutarties id", "contract id")),
    Column("amount", "Sąskaitos suma (EUR)", "Invoice amount (EUR)", True,
           ("suma", "sąskaitos suma", "invoice amount", "amount (eur)")),
    Column("received_on", "Gauta", "Received on", True,
           ("gavimo data", "gauta (data)", "received", "receipt date", "date received")),
    Column("e_invoice_ref", "E. sąskaitos nuoroda", "E-invoice reference", False,
           ("e. sąskaitos nr", "e. sąskaita", "e-invoice ref", "e-invoice", "einvoice ref"), 120),
    Column("accepted_on", "Priimta", "Accepted on", False, ("priėmimo data", "accepted", "acceptance date")),
    Column("paid_on", "Apmokėta", "Paid on", False, ("mokėjimo data", "payment date", "paid")),
    Column("paid_amount", "Sumokėta suma (EUR)", "Paid amount (EUR)", False,
           ("sumokėta", "sumokėta suma", "mokėjimo suma", "paid amount", "payment amount")),
    Column("payment_reference", "Mokėjimo nuoroda", "Payment reference", False,
           ("mokėjimo nr", "mokėjimo nr.", "payment ref", "payment no", "payment number"), 120),
    Column("milestone", "Mokėjimo etapas (eilės nr.)", "Milestone (sequence)", False,
           ("etapas", "mokėjimo etapas", "milestone sequence", "milestone no")),
)

COLUMN_BY_KEY = {c.key: c for c in COLUMNS}
#: InvoiceInput / check_payment fields → column keys
INVOICE_FIELDS = {"number": "invoice_number", "amount": "amount", "received_on": "received_on",
                  "e_invoice_ref": "e_invoice_ref", "milestone_id": "milestone"}
PAYMENT_FIELDS = {"paid_on": "paid_on", "amount": "paid_amount"}

COLUMN_HELP = {
    "supplier_code": _l("Required. The supplier's company code (juridinio asmens kodas), e.g. 990000001."),
    "invoice_number": _l("Required. The invoice number as the supplier wrote it; with the supplier code it "
                         "identifies the invoice."),
    "contract_reference": _l("The contract's reference (its number in your register). Give it or the contract "
                             "ID; either may be left out when the supplier has only one contract with the "
                             "municipality."),
    "contract_id": _l("The contract's ID in this system (the number in the address of the contract page)."),
    "amount": _l("Required. The invoice total in euro, at most two decimals: 1234.50, 1234,50 or 1 234,50. "
                 "For an invoice already recorded it must be the same."),
    "received_on": _l("Required. The day the invoice was received: YYYY-MM-DD (2026-03-31), DD.MM.YYYY or a "
                      "date cell."),
    "e_invoice_ref": _l("Required for new invoices under Lithuanian contracts (invoices are electronic, VPĮ "
                        "Art. 22(3)): the e-invoice reference."),
    "accepted_on": _l("Optional. The day the invoice was accepted, when the contract has an acceptance "
                      "procedure."),
    "paid_on": _l("Optional. The day of the payment; give it together with the paid amount."),
    "paid_amount": _l("Optional. The amount paid on that day (a partial payment is allowed; several rows may "
                      "pay the same invoice)."),
    "payment_reference": _l("Optional. The payment's reference in the finance system. Without it a payment is "
                            "identified by the invoice, the day and the amount."),
    "milestone": _l("Optional. The sequence number of the contract's payment milestone (1, 2, …) the invoice "
                    "is for."),
}

_HEADER_INDEX: dict[str, str] = {}


def column_for_header(text: Any) -> str | None:
    if not _HEADER_INDEX:
        for col in COLUMNS:
            for name in col.names():
                if _HEADER_INDEX.setdefault(name, col.key) != col.key:  # pragma: no cover - a coding error
                    raise RuntimeError(f"header {name!r} names two columns")
    return _HEADER_INDEX.get(normalise_header(text))


# --- reading the upload (the plan import's gates, this import's headers) ------------------------

def open_file(filename: str, data: bytes) -> Sheet:
    """The plan import's checks (extension, content, XLSX package); a CSV file is read with the
    delimiter under which this import's headers are recognised."""
    return open_upload(filename, data, column_for_header)


# --- parsing cells ---------------------------------------------------------------------------------

_ISO = re.compile(r"(\d{4})\s*[-./]\s*(\d{1,2})\s*[-./]\s*(\d{1,2})(?:[T ]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?")
_EUROPEAN = re.compile(r"(\d{1,2})\s*[./]\s*(\d{1,2})\s*[./]\s*(\d{4})(?: \d{1,2}:\d{2}(:\d{2})?)?")


def parse_date(value: Any) -> dt.date | None:
    """A date cell, ``YYYY-MM-DD`` (also with ``.`` or ``/``) or ``DD.MM.YYYY``."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _text(value)
    if not text:
        return None
    m = _ISO.fullmatch(text)
    parts = (m.group(1), m.group(2), m.group(3)) if m else None
    if parts is None and (m := _EUROPEAN.fullmatch(text)):
        parts = (m.group(3), m.group(2), m.group(1))
    if parts is not None:
        try:
            day = dt.date(int(parts[0]), int(parts[1]), int(parts[2]))
        except ValueError:
            raise CellError(_("There is no such day.")) from None
        if 1990 <= day.year <= 2200:
            return day
    raise CellError(_("Write the date as YYYY-MM-DD, e.g. 2026-03-31."))


def _code(value: Any) -> str:
    return re.sub(r"\s+", "", _text(value))


PARSERS = {
    "supplier_code": _code,
    "invoice_number": _text,
    "contract_reference": _text,
    "contract_id": parse_int,
    "amount": parse_amount,
    "received_on": parse_date,
    "e_invoice_ref": _text,
    "accepted_on": parse_date,
    "paid_on": parse_date,
    "paid_amount": parse_amount,
    "payment_reference": _text,
    "milestone": parse_int,
}


def parse_cells(cells: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Values and problems by column key."""
    values: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for key, parse in PARSERS.items():
        col = COLUMN_BY_KEY[key]
        try:
            value = parse(cells.get(key))
        except CellError as err:
            problems[key] = str(err)
            continue
        if value == "":
            value = None
        if col.required and value is None:
            problems[key] = _("This column must be filled in.")
        elif col.max_length and isinstance(value, str) and len(value) > col.max_length:
            problems[key] = _("At most %(n)s characters (this cell has %(m)s).", n=col.max_length, m=len(value))
        elif key in ("amount", "paid_amount") and value is not None and value <= 0:
            problems[key] = _("The amount must be more than zero.")
        else:
            values[key] = value
    return values, problems


# --- the file: header and rows ----------------------------------------------------------------------

@dataclass
class FileRow:
    row: int
    values: dict[str, Any]
    problems: dict[str, str]  # column key → message
    extra: list[RowError]  # problems outside the known columns (formulas, cells without header)

    @property
    def title(self) -> str:
        return " · ".join(str(self.values[k]) for k in ("supplier_code", "invoice_number") if self.values.get(k))


def _missing_header(sheet: Sheet) -> str:
    example = COLUMNS[0].header
    if sheet.kind == "xlsx":
        return _("The sheet \"%(sheet)s\" has no header row the import recognises. Put the invoices on the "
                 "first sheet, under a row with the template's column headers (e.g. \"%(example)s\"). "
                 "Download the template to see them.", sheet=sheet.name, example=example)
    return _("The file has no header row the import recognises. Its first row must hold the template's "
             "column headers (e.g. \"%(example)s\"). Download the template to see them.", example=example)


def read_sheet(sheet: Sheet) -> tuple[list[FileRow], dict[str, str]]:
    """Every non-empty row under the header, parsed cell by cell (nothing looked up yet), and the
    column labels as written in the file (key → "header (letter)")."""
    rows = sheet.rows
    header_row, header = find_header(rows, column_for_header, lambda: _missing_header(sheet))
    index, labels, unnamed = map_header(header, header_row, column_for_header,
                                        [(c.key, c.header) for c in COLUMNS if c.required])

    key_of = {idx: key for key, idx in index.items()}
    marker = normalise_header(EXAMPLE_MARKER)
    first_idx = index["supplier_code"]
    out: list[FileRow] = []
    for n, values in rows:
        formulas = sheet.formulas.get(n, {})
        if _is_empty(values) and not formulas:
            continue
        if len(out) >= MAX_ROWS:
            raise refuse(_("The file has more than %(n)s rows. Split it into smaller files.", n=MAX_ROWS))
        if first_idx < len(values) and normalise_header(values[first_idx]) == marker:
            continue  # the template's explanation row
        cells = {key: (values[idx] if idx < len(values) else None) for key, idx in index.items()}
        parsed, problems = parse_cells(cells)
        extra: list[RowError] = []
        for idx, formula in formulas.items():
            if formula.startswith("="):
                message = _("The cell contains a formula (%(formula)s). Replace formulas by their values (copy, "
                            "then paste values only) and upload again.", formula=formula[:60])
            else:
                message = _("The cell contains an error value (%(value)s).", value=formula[:30])
            if idx in key_of:
                problems[key_of[idx]] = message
                parsed.pop(key_of[idx], None)
            else:
                extra.append(RowError(n, get_column_letter(idx + 1), message))
        for idx in [*unnamed, *range(len(header), len(values))]:
            if idx < len(values) and idx not in formulas and not _is_empty([values[idx]]):
                extra.append(RowError(n, get_column_letter(idx + 1), _(
                    "This column has no header but the cell holds data. Give the column a template header or "
                    "clear it.")))
        out.append(FileRow(n, parsed, problems, extra))
    if not out:
        raise refuse(_("The file has no invoices: every row under the headers is empty."))
    return out, labels


# --- checking every row against the database ------------------------------------------------------

@dataclass
class _InvoiceState:
    """What an invoice would be after the rows above: the recorded one, or one the file adds."""

    supplier: Supplier
    number: str
    contract: Contract
    amount: Decimal
    received_on: dt.date
    row: int  # the first row naming it
    invoice: Invoice | None = None  # None: added by this file
    accepted_on: dt.date | None = None
    disputed_on: dt.date | None = None
    dispute_resolved_on: dt.date | None = None
    milestone_id: int | None = None
    paid_amount: Decimal = Decimal("0.00")
    #: reference → (paid_on, amount) for the payments recorded or added above
    payments: dict[str, tuple[dt.date, Decimal]] = field(default_factory=dict)
    #: (paid_on, amount) of the payments recorded or added above
    paid: set[tuple[dt.date, Decimal]] = field(default_factory=set)
    #: (paid_on, amount) of the recorded payments without a reference (entered by hand)
    unreferenced: set[tuple[dt.date, Decimal]] = field(default_factory=set)

    def shadow(self) -> Any:
        """Duck-typed invoice for ``services.check_payment``."""
        return SimpleNamespace(received_on=self.received_on, amount=self.amount, paid_amount=self.paid_amount,
                               disputed_on=self.disputed_on, dispute_resolved_on=self.dispute_resolved_on)


@dataclass
class _Step:
    """What one checked row writes."""

    row: int
    state: _InvoiceState
    new_invoice: services.InvoiceInput | None = None
    accept_on: dt.date | None = None
    payment: tuple[dt.date, Decimal, str] | None = None
    existing_payment: int = 0  # 1: the row's payment is recorded already


@dataclass
class ImportSummary:
    municipality: Municipality
    rows: int = 0
    invoices_added: int = 0
    invoices_matched: int = 0
    acceptances: int = 0
    payments_added: int = 0
    payments_existing: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.invoices_added or self.acceptances or self.payments_added)


class Checker:
    """Checks the rows in file order against the database and what the rows above would write."""

    def __init__(self, municipality: Municipality, rows: list[FileRow], labels: dict[str, str],
                 today: dt.date) -> None:
        self.municipality = municipality
        self.labels = labels
        self.today = today
        codes = {r.values["supplier_code"] for r in rows if r.values.get("supplier_code")}
        self.suppliers = {s.company_code: s for s in db.session.scalars(
            select(Supplier).where(Supplier.company_code.in_(codes)))} if codes else {}
        ids = [s.id for s in self.suppliers.values()]
        self.contracts: dict[int, Contract] = {c.id: c for c in db.session.scalars(
            select(Contract).where(Contract.municipality_id == municipality.id, Contract.supplier_id.in_(ids or [-1]))
            .options(selectinload(Contract.milestones)))}
        self.by_supplier: dict[int, list[Contract]] = {}
        for c in self.contracts.values():
            self.by_supplier.setdefault(c.supplier_id, []).append(c)
        numbers = {r.values["invoice_number"] for r in rows if r.values.get("invoice_number")}
        self.recorded: dict[tuple[int, str], Invoice] = {}
        if ids and numbers:
            for inv in db.session.scalars(select(Invoice).where(Invoice.supplier_id.in_(ids),
                                                                Invoice.number.in_(numbers))
                                          .options(selectinload(Invoice.payments))):
                self.recorded[(inv.supplier_id, inv.number)] = inv
        self.states: dict[tuple[int, str], _InvoiceState] = {}
        self.summary = ImportSummary(municipality)
        self.steps: list[_Step] = []

    def label(self, key: str) -> str:
        return self.labels.get(key) or COLUMN_BY_KEY[key].header

    # -- one row --------------------------------------------------------------------------------
    def check(self, r: FileRow) -> list[RowError]:
        """The row's problems (none: its step is recorded and the state updated for the next rows)."""
        problems = dict(r.problems)
        errors = list(r.extra)
        v = r.values

        def fail() -> list[RowError]:
            order = {c.key: i for i, c in enumerate(COLUMNS)}
            for e in errors:
                e.title = e.title or r.title
            return errors + [RowError(r.row, self.label(k), problems[k], r.title)
                             for k in sorted(problems, key=order.__getitem__)]

        def add(col: str, message: str) -> None:
            if col not in problems:
                problems[col] = message

        supplier = None
        if v.get("supplier_code"):
            supplier = self.suppliers.get(v["supplier_code"])
            if supplier is None:
                problems["supplier_code"] = _("Unknown supplier code %(code)s: no organisation with this company "
                                              "code is registered.", code=v["supplier_code"])
        number = v.get("invoice_number")
        if supplier is None or not number or problems.keys() & {"contract_reference", "contract_id"}:
            return fail()
        key = (supplier.id, number)
        state = self.states.get(key)
        recorded = self.recorded.get(key)
        if state is None and recorded is not None and recorded.municipality_id != self.municipality.id:
            problems["invoice_number"] = _("Invoice %(number)s of %(supplier)s is recorded under another "
                                           "municipality's contract.", number=number, supplier=supplier.legal_name)
            return fail()
        contract = self._contract(v, supplier, state or recorded, problems)
        if contract is None:
            return fail()
        milestone = self._milestone(v, contract, problems)

        new_invoice = None
        if state is None and recorded is None:  # an invoice this file adds
            new_invoice = services.InvoiceInput(number=number, amount=v.get("amount"),
                                                received_on=v.get("received_on"),
                                                e_invoice_ref=v.get("e_invoice_ref"), milestone_id=milestone)
            for fld, message in services.check_invoice(contract, new_invoice, today=self.today):
                add(INVOICE_FIELDS.get(fld or "", "invoice_number"), message)
            state = _InvoiceState(supplier, number, contract, new_invoice.amount, new_invoice.received_on, r.row,
                                  milestone_id=milestone)
        else:  # recorded already, or named by a row above
            if state is None:
                state = self._state_of(recorded)  # type: ignore[arg-type]
            in_file = state.invoice is None  # named by a row above, not recorded yet
            if contract.id != state.contract.id:
                col = "contract_id" if v.get("contract_id") is not None else "contract_reference"
                name = state.contract.reference or state.contract.title
                add(col, _("Invoice %(number)s is under another contract (%(contract)s) in row %(row)s.",
                           number=number, contract=name, row=state.row) if in_file else
                    _("Invoice %(number)s is recorded under another contract (%(contract)s).", number=number,
                      contract=name))
            if v.get("amount") is not None and v["amount"] != state.amount:
                add("amount", _("Invoice %(number)s has the amount %(recorded)s in row %(row)s; this row says "
                                "%(amount)s.", number=number, recorded=money(state.amount), row=state.row,
                                amount=money(v["amount"])) if in_file else
                    _("Invoice %(number)s is recorded with the amount %(recorded)s; this row says %(amount)s.",
                      number=number, recorded=money(state.amount), amount=money(v["amount"])))
            if in_file and v.get("received_on") is not None and v["received_on"] != state.received_on:
                add("received_on", _("Invoice %(number)s was received on %(day)s in row %(row)s.", number=number,
                                      day=state.received_on.isoformat(), row=state.row))
            if v.get("milestone") is not None and "milestone" not in problems and milestone != state.milestone_id:
                add("milestone", _("Invoice %(number)s is for another milestone; an import does not change "
                                   "it.", number=number))
        step = _Step(r.row, state, new_invoice)
        self._acceptance(v, state, step, problems)
        self._payment(v, state, step, problems)
        if problems or errors:
            return fail()
        # a good row: what it writes is the state the next rows are checked against
        if key not in self.states:
            self.states[key] = state
            if new_invoice is not None:
                self.summary.invoices_added += 1
            else:
                self.summary.invoices_matched += 1
        if step.accept_on is not None:
            state.accepted_on = step.accept_on
            self.summary.acceptances += 1
        if step.payment is not None:
            paid_on, amount, reference = step.payment
            state.payments[reference] = (paid_on, amount)
            state.paid.add((paid_on, amount))
            state.paid_amount += amount
            self.summary.payments_added += 1
        self.summary.payments_existing += step.existing_payment
        if step.new_invoice is not None or step.accept_on is not None or step.payment is not None:
            self.steps.append(step)
        return []

    def _state_of(self, inv: Invoice) -> _InvoiceState:
        state = _InvoiceState(inv.supplier or db.session.get(Supplier, inv.supplier_id), inv.number, inv.contract,
                              inv.amount, inv.received_on, 0, invoice=inv, accepted_on=inv.accepted_on,
                              disputed_on=inv.disputed_on, dispute_resolved_on=inv.dispute_resolved_on,
                              milestone_id=inv.milestone_id, paid_amount=inv.paid_amount)
        for p in inv.payments:
            if p.reference:
                state.payments[p.reference] = (p.paid_on, p.amount)
            else:
                state.unreferenced.add((p.paid_on, p.amount))
            state.paid.add((p.paid_on, p.amount))
        return state

    def _contract(self, v: dict[str, Any], supplier: Supplier, known: Any,
                  problems: dict[str, str]) -> Contract | None:
        mine = self.by_supplier.get(supplier.id, [])
        where = {"supplier": supplier.legal_name, "municipality": self.municipality.name}
        by_id = by_ref = None
        if v.get("contract_id") is not None:
            by_id = self.contracts.get(v["contract_id"])
            if by_id is None or by_id.supplier_id != supplier.id:
                problems["contract_id"] = _("There is no contract of %(supplier)s with %(municipality)s with the "
                                            "ID %(id)s.", id=v["contract_id"], **where)
                return None
        if v.get("contract_reference"):
            ref = v["contract_reference"].casefold()
            matches = [c for c in mine if (c.reference or "").strip().casefold() == ref]
            if not matches:
                problems["contract_reference"] = _("There is no contract of %(supplier)s with %(municipality)s with "
                                                   "the reference %(ref)s.", ref=v["contract_reference"], **where)
                return None
            if len(matches) > 1 and by_id is None:
                problems["contract_reference"] = _("Several contracts of %(supplier)s with %(municipality)s have the "
                                                   "reference %(ref)s: give the contract ID instead.",
                                                   ref=v["contract_reference"], **where)
                return None
            by_ref = matches[0] if by_id is None else (by_id if by_id in matches else matches[0])
            if by_id is not None and by_ref.id != by_id.id:
                problems["contract_id"] = _("The contract ID and the contract reference name different contracts.")
                return None
        contract = by_id or by_ref
        if contract is not None:
            return contract
        if known is not None:
            return known.contract
        if not mine:
            problems["supplier_code"] = _("There is no contract of %(supplier)s with %(municipality)s.", **where)
            return None
        if len(mine) > 1:
            problems["contract_reference"] = _("%(supplier)s has several contracts with %(municipality)s: give the "
                                               "contract reference or the contract ID.", **where)
            return None
        return mine[0]

    @staticmethod
    def _milestone(v: dict[str, Any], contract: Contract, problems: dict[str, str]) -> int | None:
        seq = v.get("milestone")
        if seq is None:
            return None
        m = next((m for m in contract.milestones if m.sequence == seq), None)
        if m is None:
            problems["milestone"] = _("The contract has no payment milestone %(n)s.", n=seq)
            return None
        return m.id

    def _acceptance(self, v: dict[str, Any], state: _InvoiceState, step: _Step, problems: dict[str, str]) -> None:
        day = v.get("accepted_on")
        if day is None or "accepted_on" in problems:
            return
        if state.accepted_on is not None:
            if state.accepted_on != day:
                problems["accepted_on"] = _("Invoice %(number)s is recorded as accepted on %(day)s.",
                                            number=state.number, day=state.accepted_on.isoformat())
            return
        if state.received_on is not None and day < state.received_on:
            problems["accepted_on"] = _("Acceptance cannot come before the invoice was received.")
        elif day > self.today:
            problems["accepted_on"] = _("Acceptance cannot be in the future.")
        else:
            step.accept_on = day

    def _payment(self, v: dict[str, Any], state: _InvoiceState, step: _Step, problems: dict[str, str]) -> None:
        paid_on, amount, reference = v.get("paid_on"), v.get("paid_amount"), v.get("payment_reference")
        if problems.keys() & {"paid_on", "paid_amount", "payment_reference"}:
            return
        if paid_on is None and amount is None:
            if reference:
                problems["payment_reference"] = _("A payment reference needs the payment date and the paid amount.")
            return
        if paid_on is None:
            problems["paid_on"] = _("Give the payment date with the paid amount.")
            return
        if amount is None:
            problems["paid_amount"] = _("Give the paid amount with the payment date.")
            return
        amount = calc.cents(amount)
        if reference:
            known = state.payments.get(reference)
            if known is not None and known != (paid_on, amount):
                problems["payment_reference"] = _(
                    "Payment %(ref)s of invoice %(number)s is recorded as %(amount)s on %(day)s.", ref=reference,
                    number=state.number, amount=money(known[1]), day=known[0].isoformat())
                return
            # the same payment, or one entered by hand (without a reference) on that day for that amount
            if known is not None or (paid_on, amount) in state.unreferenced:
                step.existing_payment = 1
                return
        else:
            # without a reference a payment is its invoice, day and amount
            if (paid_on, amount) in state.paid:
                step.existing_payment = 1
                return
            reference = f"{state.number}/{paid_on.isoformat()}/{format(amount, 'f')}"
        if state.received_on is None or state.amount is None:
            return  # the invoice's own cells are wrong: reported there
        for fld, message in services.check_payment(state.shadow(), paid_on, amount, today=self.today):
            col = PAYMENT_FIELDS.get(fld or "", "paid_amount")
            problems[col] = f"{problems[col]} {message}" if col in problems else message
        step.payment = (paid_on, amount, reference)


def check_rows(municipality: Municipality, rows: list[FileRow], labels: dict[str, str],
               today: dt.date | None = None) -> Checker:
    checker = Checker(municipality, rows, labels, today or dt.date.today())
    errors: list[RowError] = []
    for r in rows:
        errors.extend(checker.check(r))
    checker.summary.rows = len(rows)
    if errors:
        raise ImportRefused(errors)
    return checker


# --- the service -------------------------------------------------------------------------------------

def import_file(actor: User, municipality: Municipality, filename: str, stream: Any,
                max_bytes: int = MAX_UPLOAD_BYTES, today: dt.date | None = None) -> ImportSummary:
    """Check the whole file, then record its invoices, acceptances and payments for ``municipality``.
    Raises ``ImportRefused`` (nothing written) when any row is wrong. Flushes inside a savepoint that
    is rolled back on any failure; the caller commits."""
    require(actor, "invoice.record", municipality)
    data = read_limited(stream, max_bytes)
    sheet = open_file(filename, data)
    try:
        rows, labels = read_sheet(sheet)
    finally:
        sheet.rows.close()  # closes the workbook
    return import_rows(actor, municipality, rows, labels, today)


def import_rows(actor: User, municipality: Municipality, rows: list[FileRow], labels: dict[str, str],
                today: dt.date | None = None) -> ImportSummary:
    """Check parsed rows (a file's, or the JSON API's list) and record them, all or nothing."""
    require(actor, "invoice.record", municipality)
    checker = check_rows(municipality, rows, labels, today)
    step_row = 0
    try:
        with db.session.begin_nested():
            for step in checker.steps:
                step_row = step.row
                apply_step(actor, step)
    except DomainError as err:  # a rule the check missed: nothing of the file stays
        if isinstance(err, ImportRefused):
            raise
        raise ImportRefused([RowError(step_row, None, err.message)]) from err
    return checker.summary


def apply_step(actor: User, step: _Step) -> None:
    state = step.state
    if state.invoice is None:
        state.invoice = services.record_invoice(actor, state.contract, step.new_invoice, source="import")
    if step.accept_on is not None:
        services.accept(actor, state.invoice, step.accept_on)
    if step.payment is not None:
        paid_on, amount, reference = step.payment
        services.record_payment(actor, state.invoice, paid_on, amount, reference, source="import")


# --- the template -------------------------------------------------------------------------------------

def headers() -> list[str]:
    return [c.header for c in COLUMNS]


def explanation_row() -> list[str]:
    """The template's second row: what each column takes (skipped by the import)."""
    return [EXAMPLE_MARKER, "SF-2026-0042", "SUT-2026/15", "123", "1 210,00 | 1210.00", "YYYY-MM-DD (2026-03-31)",
            "EINV-2026-000123", "YYYY-MM-DD", "YYYY-MM-DD", "605,00", "MP-2026-0815", "1"]


def template_csv() -> bytes:
    """UTF-8 with a byte-order mark, ``,``: the bilingual headers and the explanation row."""
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(headers())
    writer.writerow([neutralise(v) for v in explanation_row()])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


_HEAD_FONT = Font(bold=True)
_HEAD_FILL = PatternFill("solid", fgColor="DDE7F0")
_TEXT_COLUMNS = {"supplier_code", "invoice_number", "contract_reference", "e_invoice_ref", "payment_reference"}


def _text_cell(ws: Any, row: int, col: int, value: str) -> None:
    cell = ws.cell(row=row, column=col)
    cell.value = value
    cell.data_type = "s"  # never a formula, whatever the text starts with


def template_xlsx() -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = DATA_SHEET
    for c, col in enumerate(COLUMNS, start=1):
        _text_cell(ws, 1, c, col.header)
        cell = ws.cell(row=1, column=c)
        cell.font = _HEAD_FONT
        cell.fill = _HEAD_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        letter = get_column_letter(c)
        ws.column_dimensions[letter].width = 24
        if col.key in _TEXT_COLUMNS:  # codes keep their leading zeros
            for r in range(2, 1002):
                ws.cell(row=r, column=c).number_format = "@"
    for c, value in enumerate(explanation_row(), start=1):
        _text_cell(ws, 2, c, value)
    ws.freeze_panes = "A2"

    help_ws = wb.create_sheet(HELP_SHEET)
    help_ws.column_dimensions["A"].width = 40
    help_ws.column_dimensions["B"].width = 70
    help_ws.column_dimensions["C"].width = 70
    _text_cell(help_ws, 1, 1, "Sąskaitų ir mokėjimų importas / Import of invoices and payments")
    help_ws.cell(row=1, column=1).font = Font(bold=True, size=14)
    _text_cell(help_ws, 2, 1, "Viena eilutė – viena sąskaita ir (nebūtinai) vienas jos mokėjimas; formulės "
                              "neleidžiamos. Ištrinkite pavyzdžio eilutę. / One row per invoice and (optionally) "
                              "one of its payments; no formulas. Delete the example row.")
    for c, text in enumerate(("Stulpelis / Column", "Reikšmės", "Values"), start=1):
        _text_cell(help_ws, 4, c, text)
        help_ws.cell(row=4, column=c).font = _HEAD_FONT
    for r, col in enumerate(COLUMNS, start=5):
        with force_locale("lt"):
            help_lt = str(COLUMN_HELP[col.key])
        with force_locale("en"):
            help_en = str(COLUMN_HELP[col.key])
        _text_cell(help_ws, r, 1, col.header)
        _text_cell(help_ws, r, 2, help_lt)
        _text_cell(help_ws, r, 3, help_en)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()

