"""Invoices and payments: recording them within the rules, keeping each invoice's figures current
(due date, days to pay, lateness, statutory interest and the EUR 40 compensation), the daily scan, the
reference-rate table, and what a supplier sees of its own payments."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from srpp.auth.models import Membership, Role, User
from srpp.contracts.models import Contract, MilestoneState, PaymentMilestone
from srpp.core import settings
from srpp.core.audit import bind_actor
from srpp.core.errors import DomainError
from srpp.core.permissions import officer_of, regional_reader, require, rule
from srpp.core.services import check_version
from srpp.extensions import db
from srpp.payments import calc
from srpp.payments.models import Invoice, InvoiceState, Payment, ReferenceRate

settings.declare("payments.interest_margin", Decimal, Decimal(8),
                 _l("Statutory interest: percentage points above the ECB reference rate (PAY-06)"),
                 Decimal(8), Decimal(20))
settings.declare("payments.fixed_compensation", Decimal, Decimal(40),
                 _l("Fixed compensation for recovery costs per late payment, in euro (PAY-07)"), Decimal(40),
                 Decimal(1000))
settings.declare("payments.due_warning_days", int, 5,
                 _l("Finance officers are told of invoices falling due within this many days"), 1, 30)


# --- permissions ----------------------------------------------------------------------------------------

@rule("invoice.record")
def _invoice_record(user: User, municipality: Any) -> bool:
    """Record invoices, acceptance, disputes and payments: the municipality's finance officers, admins."""
    if user.is_admin:
        return True
    return municipality is not None and officer_of(user, municipality.id, Role.FINANCE_OFFICER)


@rule("payments.dashboard")
def _payments_dashboard(user: User, obj: Any) -> bool:
    """The regional payment dashboard: the council, admins and the municipalities' finance officers."""
    return regional_reader(user) or user.has_role(Role.FINANCE_OFFICER)


@rule("rates.manage")
def _rates_manage(user: User, obj: Any) -> bool:
    return user.is_admin


# --- reference rates ---------------------------------------------------------------------------------------

def rates() -> calc.Rates:
    rows = db.session.execute(select(ReferenceRate.valid_from, ReferenceRate.rate)).all()
    return calc.Rates({d: Decimal(r) for d, r in rows}, settings.get("payments.interest_margin"))


def set_rate(actor: User, valid_from: dt.date, rate: Decimal, source: str | None = None) -> ReferenceRate:
    require(actor, "rates.manage")
    if valid_from.day != 1 or valid_from.month not in (1, 7):
        raise DomainError(_("A reference rate applies from 1 January or 1 July."), field="valid_from")
    if rate is None or not (Decimal(-5) <= rate <= Decimal(30)):
        raise DomainError(_("Give the rate in percent, e.g. 2.15."), field="rate")
    bind_actor(db.session(), actor)
    row = db.session.scalar(select(ReferenceRate).where(ReferenceRate.valid_from == valid_from))
    if row is None:
        row = ReferenceRate(valid_from=valid_from)
        db.session.add(row)
    row.rate = Decimal(rate).quantize(Decimal("0.001"))
    row.source = (source or "").strip() or None
    db.session.flush()
    # the interest of every invoice that was late on some day of this half-year (or later) changes
    table = rates()
    for inv in db.session.scalars(select(Invoice).where(
            Invoice.days_late > 0, (Invoice.paid_on.is_(None)) | (Invoice.paid_on >= valid_from))
            .options(selectinload(Invoice.payments))):
        recompute(inv, inv.figures_as_of, table)
    db.session.flush()
    return row


def load_reference_rates() -> int:
    """Seed the rate table from ``srpp/payments/data/reference_rates.yaml``: adds the half-years that
    are missing, never overwrites a rate an admin maintained. Idempotent."""
    from pathlib import Path

    import yaml

    data = yaml.safe_load((Path(__file__).parent / "data" / "reference_rates.yaml").read_text(encoding="utf-8"))
    have = set(db.session.scalars(select(ReferenceRate.valid_from)))
    added = 0
    for row in data:
        day = row["valid_from"] if isinstance(row["valid_from"], dt.date) else dt.date.fromisoformat(row["valid_from"])
        if day not in have:
            db.session.add(ReferenceRate(valid_from=day, rate=Decimal(str(row["rate"])), source=row.get("source")))
            added += 1
    db.session.flush()
    return added


def rate_table() -> list[ReferenceRate]:
    return list(db.session.scalars(select(ReferenceRate).order_by(ReferenceRate.valid_from.desc())))


# --- invoice figures ------------------------------------------------------------------------------------------

def _paused_days(inv: Invoice) -> int:
    if inv.disputed_on is None or inv.dispute_resolved_on is None:
        return 0
    return (inv.dispute_resolved_on - inv.disputed_on).days


def recompute(inv: Invoice, as_of: dt.date | None = None, rate_table_: calc.Rates | None = None) -> Invoice:
    """Bring the invoice's stored figures up to date as of ``as_of`` (today by default)."""
    as_of = as_of or dt.date.today()
    contract = inv.contract
    paid = sum((p.amount for p in inv.payments), Decimal(0))
    inv.paid_amount = calc.cents(paid)
    inv.paid_on = max((p.paid_on for p in inv.payments), default=None) if paid >= inv.amount else None
    inv.days_to_pay = (inv.paid_on - inv.received_on).days if inv.paid_on else None
    disputed = inv.disputed_on is not None and inv.dispute_resolved_on is None
    inv.due_date = calc.due_date(inv.received_on, contract.payment_term_days, acceptance_days=contract.acceptance_days,
                                 accepted_on=inv.accepted_on, paused_days=_paused_days(inv), country=contract.country)
    if disputed:
        inv.state = InvoiceState.DISPUTED
        inv.days_late = 0
    else:
        inv.days_late = calc.days_late(inv.due_date, inv.paid_on, as_of)
        if inv.paid_on is not None:
            inv.state = InvoiceState.PAID_LATE if inv.days_late else InvoiceState.PAID
        elif inv.days_late:
            inv.state = InvoiceState.LATE
        elif (inv.due_date - as_of).days <= settings.get("payments.due_warning_days"):
            inv.state = InvoiceState.DUE
        else:
            inv.state = InvoiceState.RECEIVED
    if inv.days_late and not disputed:
        table = rate_table_ or rates()
        try:
            inv.interest = calc.interest(inv.amount, inv.due_date, [(p.paid_on, p.amount) for p in inv.payments],
                                         inv.paid_on or as_of, table)
        except LookupError:
            inv.interest = Decimal("0.00")
        inv.compensation = calc.cents(settings.get("payments.fixed_compensation"))
    else:
        inv.interest = Decimal("0.00")
        inv.compensation = Decimal("0.00")
    inv.figures_as_of = as_of
    if inv.milestone is not None and inv.paid_on is not None:
        inv.milestone.state = MilestoneState.MET
        inv.milestone.met_on = inv.paid_on
    return inv


def recompute_contract(contract: Contract, as_of: dt.date | None = None) -> None:
    table = rates()
    for inv in db.session.scalars(select(Invoice).where(Invoice.contract_id == contract.id)):
        recompute(inv, as_of, table)


# --- recording ---------------------------------------------------------------------------------------------------

@dataclass
class InvoiceInput:
    number: str
    amount: Decimal
    received_on: dt.date
    e_invoice_ref: str | None = None
    milestone_id: int | None = None


def check_invoice(contract: Contract, inp: InvoiceInput, today: dt.date | None = None,
                  exclude_id: int | None = None) -> list[tuple[str | None, str]]:
    """(field, message) for every problem (the form, the import and the API all ask this)."""
    today = today or dt.date.today()
    problems: list[tuple[str | None, str]] = []
    number = (inp.number or "").strip()
    if not number:
        problems.append(("number", _("Give the invoice number.")))
    elif len(number) > 60:
        problems.append(("number", _("The invoice number is at most 60 characters.")))
    else:
        dup = db.session.scalar(select(Invoice.id).where(Invoice.supplier_id == contract.supplier_id,
                                                         Invoice.number == number))
        if dup is not None and dup != exclude_id:
            problems.append(("number", _("This supplier already has an invoice numbered %(number)s.", number=number)))
    if inp.amount is None or inp.amount <= 0:
        problems.append(("amount", _("The amount must be more than zero.")))
    elif inp.amount != calc.cents(inp.amount):
        problems.append(("amount", _("Give the amount in euro and cents (two decimals at most).")))
    if inp.received_on is None:
        problems.append(("received_on", _("Give the day the invoice was received.")))
    elif inp.received_on > today:
        problems.append(("received_on", _("The invoice cannot be received in the future.")))
    if contract.country == "LT" and not (inp.e_invoice_ref or "").strip():
        problems.append(("e_invoice_ref", _("Invoices under public contracts are electronic: give the e-invoice "
                                            "reference (VPĮ Art. 22(3)).")))
    if inp.milestone_id is not None and not any(m.id == inp.milestone_id for m in contract.milestones):
        problems.append(("milestone_id", _("The milestone belongs to another contract.")))
    return problems


def _refuse(problems: list[tuple[str | None, str]]) -> None:
    if problems:
        field, message = problems[0]
        raise DomainError(" ".join(m for _f, m in problems), field=field)


def record_invoice(actor: User, contract: Contract, inp: InvoiceInput, source: str = "manual") -> Invoice:
    require(actor, "invoice.record", contract.municipality)
    _refuse(check_invoice(contract, inp))
    bind_actor(db.session(), actor)
    inv = Invoice(contract=contract, supplier_id=contract.supplier_id, municipality_id=contract.municipality_id,
                  milestone_id=inp.milestone_id, number=inp.number.strip(), amount=calc.cents(inp.amount),
                  received_on=inp.received_on, e_invoice_ref=(inp.e_invoice_ref or "").strip() or None,
                  recorded_by_id=actor.id, source=source)
    db.session.add(inv)
    db.session.flush()
    recompute(inv)
    db.session.flush()
    return inv


def accept(actor: User, inv: Invoice, accepted_on: dt.date, version: int | None = None) -> Invoice:
    require(actor, "invoice.record", inv.contract.municipality)
    if version is not None:  # a form's version (the importer and the demo pass none)
        check_version(inv, version)
    if accepted_on < inv.received_on:
        raise DomainError(_("Acceptance cannot come before the invoice was received."), field="accepted_on")
    if accepted_on > dt.date.today():
        raise DomainError(_("Acceptance cannot be in the future."), field="accepted_on")
    bind_actor(db.session(), actor)
    inv.accepted_on = accepted_on
    recompute(inv)
    db.session.flush()
    return inv


def dispute(actor: User, inv: Invoice, disputed_on: dt.date, reason: str, version: int | None = None) -> Invoice:
    """A disputed invoice stops the clock until the dispute is resolved."""
    require(actor, "invoice.record", inv.contract.municipality)
    if version is not None:  # a form's version (the importer and the demo pass none)
        check_version(inv, version)
    if not (reason or "").strip():
        raise DomainError(_("Give the reason for the dispute."), field="reason")
    if inv.paid_on is not None:
        raise DomainError(_("A paid invoice cannot be disputed."))
    if inv.disputed_on is not None and inv.dispute_resolved_on is None:
        raise DomainError(_("The invoice is already disputed."))
    if inv.disputed_on is not None:
        raise DomainError(_("The invoice was disputed once already; record a new invoice for a new dispute."))
    if disputed_on < inv.received_on or disputed_on > dt.date.today():
        raise DomainError(_("The dispute date must be between the receipt and today."), field="disputed_on")
    if inv.due_date is not None and disputed_on > inv.due_date:
        # a dispute stops the clock; raised after the due date it would erase lateness already incurred
        raise DomainError(_("An invoice can be disputed only until its due date (%(day)s); after that it is late "
                            "and the undisputed amount must be paid.", day=inv.due_date.isoformat()),
                          field="disputed_on")
    bind_actor(db.session(), actor)
    inv.disputed_on, inv.dispute_reason = disputed_on, reason.strip()
    recompute(inv)
    db.session.flush()
    return inv


def resolve_dispute(actor: User, inv: Invoice, resolved_on: dt.date, version: int | None = None) -> Invoice:
    require(actor, "invoice.record", inv.contract.municipality)
    if version is not None:  # a form's version (the importer and the demo pass none)
        check_version(inv, version)
    if inv.disputed_on is None or inv.dispute_resolved_on is not None:
        raise DomainError(_("The invoice is not disputed."))
    if resolved_on < inv.disputed_on or resolved_on > dt.date.today():
        raise DomainError(_("The resolution date must be between the dispute and today."), field="resolved_on")
    bind_actor(db.session(), actor)
    inv.dispute_resolved_on = resolved_on
    recompute(inv)
    db.session.flush()
    return inv


def check_payment(inv: Invoice, paid_on: dt.date | None, amount: Decimal | None,
                  today: dt.date | None = None) -> list[tuple[str | None, str]]:
    today = today or dt.date.today()
    problems: list[tuple[str | None, str]] = []
    if paid_on is None:
        problems.append(("paid_on", _("Give the payment date.")))
    elif paid_on < inv.received_on:
        problems.append(("paid_on", _("A payment cannot be made before its invoice was received (%(day)s).",
                                      day=inv.received_on.isoformat())))
    elif paid_on > today:
        problems.append(("paid_on", _("A payment cannot be in the future.")))
    if amount is None or amount <= 0:
        problems.append(("amount", _("The amount must be more than zero.")))
    elif amount != calc.cents(amount):
        problems.append(("amount", _("Give the amount in euro and cents (two decimals at most).")))
    elif amount > inv.amount - inv.paid_amount:
        problems.append(("amount", _("The payment is larger than the amount outstanding (%(left)s).",
                                     left=str(inv.amount - inv.paid_amount))))
    if inv.disputed_on is not None and inv.dispute_resolved_on is None and paid_on is not None:
        pass  # paying the undisputed part is allowed (and encouraged)
    return problems


def record_payment(actor: User, inv: Invoice, paid_on: dt.date, amount: Decimal, reference: str | None = None,
                   source: str = "manual") -> Payment:
    require(actor, "invoice.record", inv.contract.municipality)
    _refuse(check_payment(inv, paid_on, amount))
    reference = (reference or "").strip() or None
    if reference is not None and any(p.reference == reference for p in inv.payments):
        raise DomainError(_("This invoice already has a payment with the reference %(ref)s.", ref=reference),
                          field="reference")
    bind_actor(db.session(), actor)
    payment = Payment(paid_on=paid_on, amount=calc.cents(amount), reference=reference,
                      recorded_by_id=actor.id, source=source)
    inv.payments.append(payment)
    db.session.flush()
    recompute(inv)
    db.session.flush()
    return payment


# --- the daily scan --------------------------------------------------------------------------------------------

def _finance_officers(municipality_id: int) -> list[User]:
    return list(db.session.scalars(select(User).join(Membership).where(
        Membership.municipality_id == municipality_id, Membership.role == Role.FINANCE_OFFICER,
        User.active.is_(True))))


def daily_scan(today: dt.date | None = None) -> dict[str, int]:
    """Refresh every open invoice and milestone; tell the finance officers of invoices due within the
    warning window and of each late one (once per invoice and kind: idempotent)."""
    from srpp.core.i18n import money
    from srpp.core.notify import notify

    today = today or dt.date.today()
    table = rates()
    counts = {"refreshed": 0, "due": 0, "late": 0, "notified": 0, "milestones": 0}
    open_states = [s for s in InvoiceState if s.open]
    invoices = db.session.scalars(select(Invoice).where(Invoice.state.in_(open_states))
                                  .options(selectinload(Invoice.payments))).all()
    officers: dict[int, list[User]] = {}
    for inv in invoices:
        recompute(inv, today, table)
        counts["refreshed"] += 1
        if inv.state not in (InvoiceState.DUE, InvoiceState.LATE):
            continue
        counts["due" if inv.state == InvoiceState.DUE else "late"] += 1
        for user in officers.setdefault(inv.municipality_id, _finance_officers(inv.municipality_id)):
            if inv.state == InvoiceState.DUE:
                key = f"invoice-due-{inv.id}"
                subject = _("Invoice %(number)s falls due on %(day)s", number=inv.number, day=inv.due_date.isoformat())
            else:
                key = f"invoice-late-{inv.id}"
                subject = _("Invoice %(number)s is late (due %(day)s)", number=inv.number,
                            day=inv.due_date.isoformat())
            body = _("%(supplier)s, %(amount)s outstanding under “%(contract)s”.", supplier=inv.contract.supplier.legal_name,
                     amount=money(inv.outstanding), contract=inv.contract.title)
            if notify(user, kind="payment", subject=subject, body=body, dedupe_key=key,
                      link=url_for("contracts.invoice", invoice_id=inv.id, _external=True)):
                counts["notified"] += 1
    warn = settings.get("payments.due_warning_days")
    for m in db.session.scalars(select(PaymentMilestone).where(
            # LATE too: a milestone whose planned date was moved later is no longer late
            PaymentMilestone.state.in_([MilestoneState.PLANNED, MilestoneState.DUE, MilestoneState.LATE]),
            PaymentMilestone.planned_date.is_not(None))):
        new = MilestoneState.LATE if m.planned_date < today else (
            MilestoneState.DUE if (m.planned_date - today).days <= warn else MilestoneState.PLANNED)
        if new != m.state:
            m.state = new
            counts["milestones"] += 1
    db.session.flush()
    return counts


# --- reading ------------------------------------------------------------------------------------------------------

def invoices_of(contract: Contract) -> list[Invoice]:
    return list(db.session.scalars(select(Invoice).where(Invoice.contract_id == contract.id)
                                   .options(selectinload(Invoice.payments)).order_by(Invoice.received_on)))


def get_invoice(actor: User, invoice_id: int) -> Invoice | None:
    inv = db.session.get(Invoice, invoice_id)
    if inv is not None:
        require(actor, "contract.view", inv.contract)
    return inv


@dataclass
class CashflowRow:
    day: dt.date
    contract: Contract
    label: str
    amount: Decimal
    kind: str  # "milestone" | "invoice"
    state: str


def supplier_cashflow(actor: User, supplier_id: int, today: dt.date | None = None) -> list[CashflowRow]:
    """What the supplier can expect: open invoices by due date and planned milestones not yet
    invoiced, by planned date."""
    from srpp.orgs.models import Supplier

    supplier = db.session.get(Supplier, supplier_id)
    if supplier is None or not (actor.is_admin or supplier_id in actor.supplier_ids() or regional_reader(actor)):
        require(actor, "supplier.edit", supplier)
    rows: list[CashflowRow] = []
    open_states = [s for s in InvoiceState if s.open]
    invoiced_milestones = set()
    for inv in db.session.scalars(select(Invoice).where(Invoice.supplier_id == supplier_id)):
        if inv.milestone_id:
            invoiced_milestones.add(inv.milestone_id)
        if inv.state in open_states and inv.due_date:
            rows.append(CashflowRow(inv.due_date, inv.contract, inv.number, inv.outstanding, "invoice", inv.state.value))
    for m in db.session.scalars(select(PaymentMilestone).join(Contract).where(
            Contract.supplier_id == supplier_id, PaymentMilestone.planned_date.is_not(None),
            PaymentMilestone.state.in_([MilestoneState.PLANNED, MilestoneState.DUE, MilestoneState.LATE]))):
        if m.id not in invoiced_milestones:
            rows.append(CashflowRow(m.planned_date, m.contract, m.title, m.amount, "milestone", m.state.value))
    rows.sort(key=lambda r: (r.day, r.contract.id))
    return rows


def supplier_invoices(actor: User, supplier_id: int) -> list[Invoice]:
    from srpp.orgs.models import Supplier

    supplier = db.session.get(Supplier, supplier_id)
    if not (actor.is_admin or regional_reader(actor) or supplier_id in actor.supplier_ids()):
        require(actor, "supplier.edit", supplier)
    return list(db.session.scalars(select(Invoice).where(Invoice.supplier_id == supplier_id)
                                   .order_by(Invoice.received_on.desc()).limit(500)))


def owed_to_supplier(supplier_id: int) -> tuple[Decimal, Decimal]:
    """Interest and compensation owed to the supplier across its invoices (as of their last update)."""
    row = db.session.execute(select(func.coalesce(func.sum(Invoice.interest), 0),
                                    func.coalesce(func.sum(Invoice.compensation), 0))
                             .where(Invoice.supplier_id == supplier_id)).one()
    return Decimal(row[0]), Decimal(row[1])
