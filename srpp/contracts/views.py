"""Contract pages: list, contract (terms, milestones with history, invoices, stoppages), invoice
(acceptance, dispute, payments). Thin: load or 404, call the services, commit, flash, redirect."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from srpp.contracts import services
from srpp.contracts.forms import (
    AcceptForm,
    ContractFilterForm,
    ContractForm,
    DisputeForm,
    InvoiceForm,
    PaymentForm,
    ResolveForm,
    ScheduleForm,
    StoppageForm,
    TermsForm,
    ValueForm,
)
from srpp.contracts.models import (
    Contract,
    ContractState,
    DayType,
    MilestoneChange,
    MilestoneTrigger,
    PaymentMilestone,
)
from srpp.core import exports, settings
from srpp.core.errors import ConcurrentEdit, DomainError
from srpp.core.forms import apply_domain_error
from srpp.core.i18n import date as format_day
from srpp.core.i18n import money
from srpp.core.permissions import PermissionDenied, can, require
from srpp.core.web import page_arg, paginate
from srpp.extensions import db
from srpp.orgs import services as org_services
from srpp.payments import calc
from srpp.payments import services as payments
from srpp.payments.models import Invoice, InvoiceState
from srpp.plans.forms import parse_amount

bp = Blueprint("contracts", __name__)

PER_PAGE = 25


# --- helpers ---------------------------------------------------------------------------------------

def _contract_or_404(contract_id: int) -> Contract:
    contract = services.get_contract(current_user, contract_id)  # 403 when the user may not see it
    if contract is None:
        abort(404)
    return contract


def _invoice_or_404(invoice_id: int) -> Invoice:
    inv = payments.get_invoice(current_user, invoice_id)  # 403 when the user may not see its contract
    if inv is None:
        abort(404)
    return inv


def _editable_municipalities() -> list:
    return [m for m in org_services.municipalities() if can(current_user, "contract.edit", m)]


def _version(form) -> str:
    """The version a form started from; never None, because the services skip the optimistic-locking
    check only for None (the importer and the demo), and a form without its version must not slip by."""
    return form.version.data or ""


def _form_messages(form) -> list[str]:
    """A form's own errors (outside the rows of a schedule), with the field's label."""
    out = []
    for name, messages in form.errors.items():
        if name == "rows":
            continue
        if name in form._fields:
            out += [f"{form[name].label.text}: {m}" for m in messages]
        else:  # the form's own errors
            out += list(messages)
    return out


def _flash_form_errors(form) -> None:
    for message in _form_messages(form):
        flash(message, "error")


def _to_contract(contract: Contract, anchor: str = ""):
    return redirect(url_for("contracts.contract", contract_id=contract.id) + anchor)


def _to_invoice(inv: Invoice, anchor: str = ""):
    return redirect(url_for("contracts.invoice", invoice_id=inv.id) + anchor)


CHANGE_LABELS = {
    "title": lambda: _("Title"), "share_percent": lambda: _("Share"), "fixed_amount": lambda: _("Fixed amount"),
    "amount": lambda: _("Amount"), "trigger": lambda: _("Trigger event"),
    "trigger_description": lambda: _("Trigger description"), "trigger_date": lambda: _("Trigger date"),
    "offset_days": lambda: _("Offset, days"), "day_type": lambda: _("Day type"),
}


def _change_value(field: str, value: Any) -> str:
    """A value of a milestone's history (stored as plain JSON) as people read it."""
    if value is None or value == "":
        return "—"
    try:
        if field == "trigger":
            return MilestoneTrigger(value).label
        if field == "day_type":
            return DayType(value).label
        if field in ("amount", "fixed_amount"):
            return money(Decimal(str(value)))
        if field == "share_percent":
            return f"{Decimal(str(value)).normalize():f} %"
        if field == "trigger_date":
            return format_day(dt.date.fromisoformat(value))
    except (ValueError, ArithmeticError):
        pass
    return str(value)


def describe_change(change: MilestoneChange) -> list[tuple[str, str, str]]:
    """(field label, old, new) for each field one amendment changed."""
    out = []
    for field, pair in (change.changes or {}).items():
        old, new = (list(pair) + [None, None])[:2] if isinstance(pair, (list, tuple)) else (None, pair)
        label = CHANGE_LABELS.get(field)
        out.append((label() if label else field, _change_value(field, old), _change_value(field, new)))
    return out


# --- the list -------------------------------------------------------------------------------------------

def _list_filter() -> tuple[ContractFilterForm, Any, ContractState | None, Any]:
    """The list's filters from the query string and the statement of the contracts the user may see
    (the page and its exports)."""
    filters = ContractFilterForm(request.args)
    municipalities = org_services.municipalities()
    filters.municipality.choices = [("", _("All municipalities"))] + [(m.code, m.name) for m in municipalities]
    filters.state.choices = [("", _("All states"))] + ContractState.choices()
    municipality = next((m for m in municipalities if m.code == (filters.municipality.data or "").upper()), None)
    state = ContractState(filters.state.data) if filters.state.data in {s.value for s in ContractState} else None
    stmt = services.contracts_for(current_user, municipality_id=municipality.id if municipality else None,
                                  state=state)
    return filters, municipality, state, stmt


def _list_counts(ids: list[int]) -> tuple[dict[int, int], dict[int, tuple[int, int]]]:
    """Milestones per contract, and (open, late) invoices per contract, of these contracts."""
    ids = ids or [-1]
    milestones = dict(db.session.execute(
        select(PaymentMilestone.contract_id, func.count()).where(PaymentMilestone.contract_id.in_(ids))
        .group_by(PaymentMilestone.contract_id)).all())
    open_states = [s for s in InvoiceState if s.open]
    counts = {row[0]: (row[1], row[2]) for row in db.session.execute(
        select(Invoice.contract_id, func.count().filter(Invoice.state.in_(open_states)),
               func.count().filter(Invoice.state == InvoiceState.LATE))
        .where(Invoice.contract_id.in_(ids)).group_by(Invoice.contract_id))}
    return milestones, counts


@bp.route("/contracts/")
@login_required
def index():
    filters, municipality, state, stmt = _list_filter()
    page = paginate(stmt, page_arg(), PER_PAGE)
    milestones, counts = _list_counts([c.id for c in page.items])
    return render_template("contracts/index.html", page=page, filters=filters, municipality=municipality,
                           state=state, milestones=milestones, counts=counts,
                           can_create=bool(_editable_municipalities()))


@bp.route("/contracts/export.<any(csv, xlsx):fmt>")
@login_required
def export(fmt: str):
    """Every contract the list shows the user with these filters (all pages)."""
    _filters, municipality, state, stmt = _list_filter()

    def rows():  # the counts of each chunk of contracts in one query each, as the page does per page
        for chunk in exports.batched(exports.stream(stmt), 500):
            milestones, counts = _list_counts([c.id for c in chunk])
            for c in chunk:
                yield c, milestones.get(c.id, 0), counts.get(c.id, (0, 0))

    columns = [
        exports.Column(_("Contract"), lambda r: r[0].title, width=48),
        exports.Column(_("Contract reference"), lambda r: r[0].reference, width=16),
        exports.Column(_("State"), lambda r: r[0].state.label),
        exports.Column(_("Municipality"), lambda r: r[0].municipality.name),
        exports.Column(_("Supplier"), lambda r: r[0].supplier.legal_name, width=36),
        exports.Column(_("Value"), lambda r: r[0].value, exports.DECIMAL),
        exports.Column(_("Start"), lambda r: r[0].start_date, exports.DATE),
        exports.Column(_("End"), lambda r: r[0].end_date, exports.DATE),
        exports.Column(_("Payment term, days"), lambda r: r[0].payment_term_days, exports.INT),
        exports.Column(_("Milestones"), lambda r: r[1], exports.INT),
        exports.Column(_("Open invoices"), lambda r: r[2][0], exports.INT),
        exports.Column(_("Late invoices"), lambda r: r[2][1], exports.INT),
    ]
    name = exports.filename("contracts", municipality.code if municipality else None, state.value if state else None,
                            ext=fmt)
    return exports.response(fmt, columns, rows(), name, sheet=_("Contracts"))


# --- a contract entered directly ----------------------------------------------------------------------------

@bp.route("/contracts/new", methods=["GET", "POST"])
@login_required
def new():
    municipalities = _editable_municipalities()
    if not municipalities:
        raise PermissionDenied("contract.edit")
    form = ContractForm()
    form.municipality_id.choices = [(m.id, m.name) for m in municipalities]
    form.supplier_id.choices = [("", "—")] + [(s.id, f"{s.legal_name} ({s.company_code})")
                                              for s in org_services.suppliers()]
    if request.method == "GET":
        code = (request.args.get("municipality") or "").upper()
        form.municipality_id.data = next((m.id for m in municipalities if m.code == code), municipalities[0].id)
        form.payment_term_days.data = settings.get("payments.default_term_days")
        form.start_date.data = dt.date.today()
    elif form.validate_on_submit():
        try:
            contract = services.create_contract(current_user, form.to_input(), form.to_terms())
            db.session.commit()
        except DomainError as err:
            db.session.rollback()
            apply_domain_error(form, err)
        else:
            flash(_("The contract “%(title)s” was recorded. Add its payment milestones next.",
                    title=contract.title), "success")
            return redirect(url_for("contracts.milestones", contract_id=contract.id))
    return render_template("contracts/new.html", form=form)


# --- the contract page ----------------------------------------------------------------------------------------

def _render_contract(contract: Contract, *, terms_form: TermsForm | None = None,
                     invoice_form: InvoiceForm | None = None, stoppage_form: StoppageForm | None = None):
    editor = can(current_user, "contract.edit", contract.municipality)
    recorder = can(current_user, "invoice.record", contract.municipality)
    reporter = can(current_user, "stoppage.report", contract)
    value_form = None
    if editor:
        if terms_form is None:
            terms_form = TermsForm(formdata=None)
            terms_form.load(contract)
        value_form = ValueForm(formdata=None)
        value_form.value.data = format(contract.value, "f")
        value_form.version.data = contract.version
    else:
        terms_form = None
    if recorder:
        if invoice_form is None:
            invoice_form = InvoiceForm(formdata=None)
            invoice_form.received_on.data = dt.date.today()
        invoice_form.fill_choices(contract)
    else:
        invoice_form = None
    if reporter:
        stoppage_form = stoppage_form or StoppageForm(formdata=None)
    else:
        stoppage_form = None
    invoices = payments.invoices_of(contract)
    totals = {
        "amount": sum((i.amount for i in invoices), Decimal(0)),
        "paid": sum((i.paid_amount for i in invoices), Decimal(0)),
        "interest": sum((i.interest for i in invoices), Decimal(0)),
        "compensation": sum((i.compensation for i in invoices), Decimal(0)),
    }
    return render_template(
        "contracts/contract.html", contract=contract, invoices=invoices, totals=totals,
        milestone_total=sum((m.amount for m in contract.milestones), Decimal(0)),
        warning=services.amendment_warning(contract), editor=editor, recorder=recorder, reporter=reporter,
        terms_form=terms_form, value_form=value_form, invoice_form=invoice_form, stoppage_form=stoppage_form,
        describe_change=describe_change, can_see_tenders=can(current_user, "region.view"),
        can_see_frameworks=can(current_user, "framework.view"), can_see_documents=can(current_user, "clause.view"),
    )


@bp.route("/contracts/<int:contract_id>")
@login_required
def contract(contract_id: int):
    return _render_contract(_contract_or_404(contract_id))


@bp.route("/contracts/<int:contract_id>/terms", methods=["POST"])
@login_required
def terms(contract_id: int):
    contract = _contract_or_404(contract_id)
    require(current_user, "contract.edit", contract.municipality)
    form = TermsForm()
    if form.validate_on_submit():
        try:
            services.update_terms(current_user, contract, form.to_terms(), _version(form))
            db.session.commit()
        except ConcurrentEdit as err:
            db.session.rollback()
            apply_domain_error(form, err)
            form.version.data = contract.version  # the input stays; saving again applies it
        except DomainError as err:
            db.session.rollback()
            apply_domain_error(form, err)
        else:
            flash(_("The payment terms were saved; planned dates and invoice due dates were recomputed."), "success")
            return _to_contract(contract, "#terms")
    return _render_contract(contract, terms_form=form)


@bp.route("/contracts/<int:contract_id>/value", methods=["POST"])
@login_required
def value(contract_id: int):
    contract = _contract_or_404(contract_id)
    require(current_user, "contract.edit", contract.municipality)
    form = ValueForm()
    if not form.validate_on_submit():
        _flash_form_errors(form)
        return _to_contract(contract, "#amend-value")
    try:
        warning = services.amend_value(current_user, contract, parse_amount(form.value.data), form.reason.data,
                                       _version(form))
        db.session.commit()
    except DomainError as err:
        db.session.rollback()
        flash(err.message, "error")
        return _to_contract(contract, "#amend-value")
    flash(_("The contract value is now %(value)s; the milestones given as shares follow it.",
            value=money(contract.value)), "success")
    if warning:
        flash(warning, "warning")
    return _to_contract(contract, "#amend-value")


# --- the milestone schedule ----------------------------------------------------------------------------------

@bp.route("/contracts/<int:contract_id>/milestones", methods=["GET", "POST"])
@login_required
def milestones(contract_id: int):
    contract = _contract_or_404(contract_id)
    require(current_user, "contract.edit", contract.municipality)
    form = ScheduleForm()
    problems: list[str] = []
    monthly = False
    if request.method == "GET":
        monthly = request.args.get("start") == "monthly"
        form.load(services.monthly_schedule(contract) if monthly else contract.milestones, contract.version)
    elif not form.validate_on_submit():
        problems = form.row_errors() + _form_messages(form) or [
            _("The form could not be read; reload the page and try again.")]
    else:
        items = form.to_inputs()
        try:
            services.set_schedule(current_user, contract, items, form.reason.data, _version(form))
            db.session.commit()
        except ConcurrentEdit as err:
            db.session.rollback()
            problems = [err.message]
            form.version.data = contract.version  # the input stays; saving again applies it
        except DomainError as err:
            db.session.rollback()
            problems = services.check_schedule(contract, items) or [err.message]
        else:
            flash(ngettext("The payment schedule was saved with %(num)d milestone.",
                           "The payment schedule was saved with %(num)d milestones.", len(items)), "success")
            return _to_contract(contract, "#milestones")
    return render_template("contracts/milestones.html", contract=contract, form=form, problems=problems,
                           monthly=monthly, triggers=MilestoneTrigger)


# --- invoices ------------------------------------------------------------------------------------------------

@bp.route("/contracts/<int:contract_id>/invoices", methods=["POST"])
@login_required
def invoice_new(contract_id: int):
    contract = _contract_or_404(contract_id)
    require(current_user, "invoice.record", contract.municipality)
    form = InvoiceForm()
    form.fill_choices(contract)
    if form.validate_on_submit():
        inp = form.to_input()
        try:
            inv = payments.record_invoice(current_user, contract, inp)
            db.session.commit()
        except DomainError as err:
            db.session.rollback()
            for field, message in payments.check_invoice(contract, inp) or [(err.field, err.message)]:
                apply_domain_error(form, DomainError(message, field))
        else:
            flash(_("Invoice %(number)s of %(amount)s was recorded; it falls due on %(day)s.", number=inv.number,
                    amount=money(inv.amount), day=format_day(inv.due_date)), "success")
            return _to_invoice(inv)
    return _render_contract(contract, invoice_form=form)


@dataclass
class DueSteps:
    """How the due date of an invoice was computed (PAY-01, the dispute pause, the working-day roll)."""

    received_on: dt.date
    acceptance_days: int | None
    accepted_on: dt.date | None
    clock_start: dt.date
    term_days: int
    paused_days: int
    disputed_open: bool
    unrolled: dt.date
    due: dt.date
    rolled: bool

    @property
    def from_acceptance(self) -> bool:
        return self.clock_start != self.received_on

    @property
    def after_term(self) -> dt.date:
        return self.clock_start + dt.timedelta(days=self.term_days)


def due_steps(inv: Invoice) -> DueSteps:
    contract = inv.contract
    start = calc.clock_start(inv.received_on, contract.acceptance_days, inv.accepted_on)
    paused = (inv.dispute_resolved_on - inv.disputed_on).days \
        if inv.disputed_on is not None and inv.dispute_resolved_on is not None else 0
    unrolled = start + dt.timedelta(days=contract.payment_term_days + paused)
    due = inv.due_date or calc.due_date(inv.received_on, contract.payment_term_days,
                                        acceptance_days=contract.acceptance_days, accepted_on=inv.accepted_on,
                                        paused_days=paused, country=contract.country)
    return DueSteps(inv.received_on, contract.acceptance_days, inv.accepted_on, start, contract.payment_term_days,
                    paused, inv.disputed_on is not None and inv.dispute_resolved_on is None, unrolled, due,
                    due != unrolled)


@dataclass
class RateRow:
    label: str
    reference: Decimal | None
    statutory: Decimal | None


def late_rates(inv: Invoice) -> list[RateRow]:
    """The statutory rate of each half-year the invoice was late in (PAY-06)."""
    if not inv.days_late or inv.due_date is None:
        return []
    first = inv.due_date + dt.timedelta(days=1)
    last = inv.paid_on or inv.figures_as_of or dt.date.today()
    table = payments.rates()
    rows = []
    start = calc.half_year(first)[0]
    while start <= last and len(rows) < 40:
        try:
            rows.append(RateRow(calc.half_year_label(start), table.reference(start), table.statutory(start)))
        except LookupError:
            rows.append(RateRow(calc.half_year_label(start), None, None))
        start = calc.half_year(start)[1] + dt.timedelta(days=1)
    return rows


def _render_invoice(inv: Invoice, **forms: Any):
    recorder = can(current_user, "invoice.record", inv.contract.municipality)
    disputed_open = inv.disputed_on is not None and inv.dispute_resolved_on is None
    shown: dict[str, Any] = {}
    if recorder:
        today = dt.date.today()
        if inv.accepted_on is None and inv.paid_on is None:
            shown["accept"] = AcceptForm(formdata=None, accepted_on=today, version=inv.version)
        if inv.disputed_on is None and inv.paid_on is None:
            shown["dispute"] = DisputeForm(formdata=None, disputed_on=today, version=inv.version)
        if disputed_open:
            shown["resolve"] = ResolveForm(formdata=None, resolved_on=today, version=inv.version)
        if inv.outstanding > 0:
            shown["payment"] = PaymentForm(formdata=None, paid_on=today, amount=format(inv.outstanding, "f"))
        shown.update(forms)  # a refused form stays on the page with its input
    return render_template(
        "contracts/invoice.html", inv=inv, contract=inv.contract, steps=due_steps(inv), rates=late_rates(inv),
        margin=settings.get("payments.interest_margin"), recorder=recorder, forms=shown,
        disputed_open=disputed_open, warn_days=settings.get("payments.due_warning_days"),
    )


@bp.route("/invoices/<int:invoice_id>")
@login_required
def invoice(invoice_id: int):
    return _render_invoice(_invoice_or_404(invoice_id))


def _invoice_action(inv: Invoice, key: str, form, action, success) -> Any:
    """Run one of the invoice's services from its form; a refusal keeps the form with its input."""
    if form.validate_on_submit():
        try:
            action()
            db.session.commit()
        except ConcurrentEdit as err:
            db.session.rollback()
            apply_domain_error(form, err)
            form.version.data = inv.version
        except DomainError as err:
            db.session.rollback()
            apply_domain_error(form, err)
        else:
            flash(success(), "success")
            return _to_invoice(inv)
    return _render_invoice(inv, **{key: form})


def _recording_invoice(invoice_id: int) -> Invoice:
    inv = _invoice_or_404(invoice_id)
    require(current_user, "invoice.record", inv.contract.municipality)
    return inv


@bp.route("/invoices/<int:invoice_id>/accept", methods=["POST"])
@login_required
def invoice_accept(invoice_id: int):
    inv = _recording_invoice(invoice_id)
    form = AcceptForm()
    return _invoice_action(
        inv, "accept", form, lambda: payments.accept(current_user, inv, form.accepted_on.data, _version(form)),
        lambda: _("Invoice %(number)s was accepted on %(day)s; it falls due on %(due)s.", number=inv.number,
                  day=format_day(inv.accepted_on), due=format_day(inv.due_date)))


@bp.route("/invoices/<int:invoice_id>/dispute", methods=["POST"])
@login_required
def invoice_dispute(invoice_id: int):
    inv = _recording_invoice(invoice_id)
    form = DisputeForm()
    return _invoice_action(
        inv, "dispute", form,
        lambda: payments.dispute(current_user, inv, form.disputed_on.data, form.reason.data, _version(form)),
        lambda: _("Invoice %(number)s is disputed: the payment clock stands still until the dispute is resolved.",
                  number=inv.number))


@bp.route("/invoices/<int:invoice_id>/resolve", methods=["POST"])
@login_required
def invoice_resolve(invoice_id: int):
    inv = _recording_invoice(invoice_id)
    form = ResolveForm()
    return _invoice_action(
        inv, "resolve", form,
        lambda: payments.resolve_dispute(current_user, inv, form.resolved_on.data, _version(form)),
        lambda: _("The dispute was resolved; invoice %(number)s now falls due on %(due)s.", number=inv.number,
                  due=format_day(inv.due_date)))


@bp.route("/invoices/<int:invoice_id>/payments", methods=["POST"])
@login_required
def payment_new(invoice_id: int):
    inv = _recording_invoice(invoice_id)
    form = PaymentForm()
    if form.validate_on_submit():
        paid_on, amount = form.paid_on.data, parse_amount(form.amount.data)
        try:
            payments.record_payment(current_user, inv, paid_on, amount, form.reference.data)
            db.session.commit()
        except IntegrityError:  # the same reference twice (a form sent twice)
            db.session.rollback()
            apply_domain_error(form, DomainError(_("A payment with this reference is already recorded for the "
                                                   "invoice."), "reference"))
        except DomainError as err:
            db.session.rollback()
            for field, message in payments.check_payment(inv, paid_on, amount) or [(err.field, err.message)]:
                apply_domain_error(form, DomainError(message, field))
        else:
            if inv.paid_on is not None:
                message = ngettext("The payment of %(amount)s was recorded; invoice %(number)s is paid, %(num)d day "
                                   "after its receipt.", "The payment of %(amount)s was recorded; invoice %(number)s "
                                   "is paid, %(num)d days after its receipt.", inv.days_to_pay,
                                   amount=money(amount), number=inv.number)
            else:
                message = _("The payment of %(amount)s was recorded; %(left)s is still outstanding.",
                            amount=money(amount), left=money(inv.outstanding))
            flash(message, "success")
            if inv.days_late:
                flash(ngettext("The invoice is %(num)d day late: statutory interest of %(interest)s and the "
                               "compensation of %(compensation)s are owed to the supplier.",
                               "The invoice is %(num)d days late: statutory interest of %(interest)s and the "
                               "compensation of %(compensation)s are owed to the supplier.", inv.days_late,
                               interest=money(inv.interest), compensation=money(inv.compensation)), "warning")
            return _to_invoice(inv, "#payments")
    return _render_invoice(inv, payment=form)


# --- work stoppages ----------------------------------------------------------------------------------------------

@bp.route("/contracts/<int:contract_id>/stoppages", methods=["POST"])
@login_required
def stoppage_new(contract_id: int):
    contract = _contract_or_404(contract_id)
    require(current_user, "stoppage.report", contract)
    form = StoppageForm()
    if form.validate_on_submit():
        try:
            services.report_stoppage(current_user, contract, form.started_on.data, form.cause.data,
                                     form.ended_on.data)
            db.session.commit()
        except DomainError as err:
            db.session.rollback()
            apply_domain_error(form, err)
        else:
            flash(_("The work stoppage was recorded."), "success")
            return _to_contract(contract, "#stoppages")
    return _render_contract(contract, stoppage_form=form)
