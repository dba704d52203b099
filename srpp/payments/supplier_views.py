"""What a supplier sees of its payments (its contracts, a cash-flow calendar, each invoice's state,
lateness and the statutory interest owed), and the finance officers' import of invoices and payments
from the municipal finance system. Thin: load or 404, check, call the services, render."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select
from werkzeug.routing import BuildError
from wtforms import SelectField

from srpp.auth.models import User
from srpp.contracts.models import Contract, MilestoneState
from srpp.contracts.services import contracts_for
from srpp.core import charts, settings
from srpp.core.errors import DomainError
from srpp.core.i18n import money
from srpp.core.permissions import PermissionDenied, permission_required, regional_reader, require, rule
from srpp.extensions import db
from srpp.orgs.models import Supplier
from srpp.payments import imports, services
from srpp.payments.models import InvoiceState
from srpp.plans.exports import CSV_MIME, XLSX_MIME
from srpp.region.services import whole_money

bp = Blueprint("payments_io", __name__, url_prefix="/payments")

#: errors listed on the import page (all are counted)
SHOWN_ERRORS = 1000
#: months shown in the cash-flow chart (from the current one)
CHART_MONTHS = 12


# --- permission ------------------------------------------------------------------------------------

@rule("supplier.payments")
def _supplier_payments(user: User, supplier: Any) -> bool:
    """A supplier's payments: its own members, and the regional readers (admins, the council).
    Without a supplier: whether the user is a member of any organisation (the "Our payments" menu)."""
    if supplier is None:
        return bool(user.supplier_ids())
    return regional_reader(user) or supplier.id in user.supplier_ids()


# --- helpers -----------------------------------------------------------------------------------------

def _url(endpoint: str, fallback: str | None, **values: Any) -> str | None:
    """The page of another area, by endpoint; its planned address while that area has none."""
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return fallback


def contract_url(contract_id: int) -> str:
    return _url("contracts.contract", f"/contracts/{contract_id}", contract_id=contract_id)  # type: ignore[return-value]


def invoice_url(invoice_id: int) -> str | None:
    return _url("contracts.invoice", None, invoice_id=invoice_id)


def _download(data: bytes, name: str, mimetype: str) -> Response:
    resp = Response(data, mimetype=mimetype)
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


@dataclass
class CashflowMonth:
    month: dt.date
    rows: list[Any] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((r.amount for r in self.rows), Decimal("0.00"))


def cashflow_months(rows: list[services.CashflowRow]) -> list[CashflowMonth]:
    """The expected payments grouped by calendar month (months without any are left out)."""
    months: dict[dt.date, CashflowMonth] = {}
    for r in rows:
        key = r.day.replace(day=1)
        months.setdefault(key, CashflowMonth(key)).rows.append(r)
    return [months[k] for k in sorted(months)]


def month_label(month: dt.date) -> str:
    return format_date(month, "LLLL yyyy")


def _next_month(day: dt.date) -> dt.date:
    return dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)


def cashflow_chart(months: list[CashflowMonth], today: dt.date) -> charts.Chart:
    """Expected amounts per month from the current month on (every month up to the last one with a
    payment, at most CHART_MONTHS), after one column for what fell due in past months and is still
    unpaid (in the warning colour, and said in the description)."""
    current = today.replace(day=1)
    totals = {m.month: m.total for m in months}
    overdue = sum((t for d, t in totals.items() if d < current), Decimal(0))
    data: list[charts.Datum] = []
    if overdue:
        data.append(charts.Datum(_("Overdue"), overdue, warn=True))
    last = months[-1].month if months else current
    shown_to = None
    day = current
    while day <= last and len(data) < CHART_MONTHS + (1 if overdue else 0):
        data.append(charts.Datum(format_date(day, "LLL") + "\n" + str(day.year), totals.get(day, Decimal(0))))
        shown_to, day = day, _next_month(day)
    desc = _("Expected payments per month: open invoices by their due date and planned milestones not yet "
             "invoiced by their planned date. Total: %(total)s.", total=money(sum(totals.values(), Decimal(0))))
    if overdue:
        desc += " " + _("The first column, in red, is what fell due in past months and is still unpaid: %(amount)s.",
                        amount=money(overdue))
    if shown_to is not None and shown_to < last:
        desc += " " + _("The chart ends with %(month)s; the table lists every expected payment.",
                        month=month_label(shown_to))
    return charts.column_chart(data, title=_("Expected payments per month"), desc=desc, fmt=money,
                               axis_fmt=whole_money, key="cashflow", label_header=_("Month"),
                               value_header=_("Expected amount"))


def _state_label(row: services.CashflowRow) -> str:
    enum = InvoiceState if row.kind == "invoice" else MilestoneState
    try:
        return str(enum(row.state).label)
    except ValueError:
        return row.state


def _choices(user: User) -> list[Supplier]:
    """The organisations the user may pick: their own; for regional readers also every supplier
    that has a contract."""
    ids = set(user.supplier_ids())
    if regional_reader(user):
        ids |= set(db.session.scalars(select(Contract.supplier_id).distinct()))
    if not ids:
        return []
    return list(db.session.scalars(select(Supplier).where(Supplier.id.in_(ids)).order_by(Supplier.legal_name)))


def _render_supplier(supplier: Supplier | None, choices: list[Supplier]):
    today = dt.date.today()
    ctx: dict[str, Any] = {"supplier": supplier, "choices": choices, "today": today}
    if supplier is not None:
        require(current_user, "supplier.payments", supplier)
        contracts = list(db.session.scalars(contracts_for(current_user, supplier_id=supplier.id)))
        rows = services.supplier_cashflow(current_user, supplier.id, today)
        months = cashflow_months(rows)
        invoices = services.supplier_invoices(current_user, supplier.id)
        interest, compensation = services.owed_to_supplier(supplier.id)
        try:
            statutory = services.rates().statutory(today)
        except LookupError:
            statutory = None
        ctx.update(
            contracts=contracts, months=months, cashflow=cashflow_chart(months, today),
            expected_total=sum((m.total for m in months), Decimal("0.00")),
            state_label=_state_label, invoices=invoices, interest=interest, compensation=compensation,
            owed=interest + compensation, late_invoices=sum(1 for i in invoices if i.days_late),
            figures_as_of=max((i.figures_as_of for i in invoices if i.figures_as_of), default=None),
            margin=settings.get("payments.interest_margin"),
            fixed_compensation=settings.get("payments.fixed_compensation"), statutory=statutory,
            contract_url=contract_url, invoice_url=invoice_url, this_month=today.replace(day=1),
            open_until=_next_month(_next_month(_next_month(today.replace(day=1)))), month_label=month_label,
        )
    return render_template("payments_io/supplier.html", **ctx)


# --- the supplier's payments ------------------------------------------------------------------------

@bp.route("/mine")
@login_required
def mine():
    """The user's organisation (the first, when they belong to several; the others can be picked);
    regional readers pick an organisation."""
    picked = request.args.get("supplier", type=int)
    if picked:
        return redirect(url_for("payments_io.supplier", supplier_id=picked))
    own = sorted((db.session.get(Supplier, i) for i in current_user.supplier_ids()), key=lambda s: s.legal_name)
    if own:
        return _render_supplier(own[0], _choices(current_user))
    if regional_reader(current_user):
        return _render_supplier(None, _choices(current_user))
    raise PermissionDenied("supplier.payments")


@bp.route("/suppliers/<int:supplier_id>")
@login_required
def supplier(supplier_id: int):
    s = db.get_or_404(Supplier, supplier_id)
    require(current_user, "supplier.payments", s)
    return _render_supplier(s, _choices(current_user))


# --- import -----------------------------------------------------------------------------------------------

class ImportForm(FlaskForm):
    municipality = SelectField(_l("Municipality"), coerce=int)
    file = FileField(_l("File (CSV or XLSX)"), validators=[FileRequired(_l("Choose a CSV or XLSX file."))])


@bp.route("/import-template.<any(xlsx, csv):fmt>")
def template(fmt: str):
    if fmt == "xlsx":
        return _download(imports.template_xlsx(), "invoice-import-template.xlsx", XLSX_MIME)
    return _download(imports.template_csv(), "invoice-import-template.csv", CSV_MIME)


@bp.route("/import", methods=["GET", "POST"])
@permission_required("invoice.import")
def import_payments():
    municipalities = imports.importable_municipalities(current_user)
    if not municipalities:
        raise PermissionDenied("invoice.record")
    form = ImportForm()
    form.municipality.choices = [(m.id, m.name) for m in municipalities]
    if request.method == "POST" and len(municipalities) == 1 and not request.form.get("municipality"):
        form.municipality.data = municipalities[0].id  # a finance officer of one municipality needs not say
    if request.method == "GET":
        wanted = request.args.get("municipality", "")
        form.municipality.data = next((m.id for m in municipalities if wanted.upper() in (m.code, str(m.id))),
                                      municipalities[0].id)
    limit = current_app.config.get("PAYMENT_IMPORT_MAX_BYTES", imports.MAX_UPLOAD_BYTES)
    errors: list[imports.RowError] = []
    refusal = summary = None
    if form.validate_on_submit():
        municipality = next(m for m in municipalities if m.id == form.municipality.data)
        upload = form.file.data
        try:
            summary = imports.import_file(current_user, municipality, upload.filename or "", upload.stream, limit)
            db.session.commit()
        except imports.ImportRefused as err:
            db.session.rollback()
            errors = err.errors
        except DomainError as err:
            db.session.rollback()
            refusal = err.message
        except Exception:
            db.session.rollback()
            raise
    return render_template(
        "payments_io/import.html", form=form, municipalities=municipalities, summary=summary, refusal=refusal,
        errors=errors[:SHOWN_ERRORS], error_count=len(errors), error_rows=len({e.row for e in errors}),
        columns=imports.COLUMNS, column_help=imports.COLUMN_HELP, max_mb=limit // (1024 * 1024),
    )
