"""Contracts and their payment milestones: payment terms within the late-payment rules, milestone
schedules that add up exactly, planned dates from trigger events with working days, amendments with
their history and the de minimis warning (EU-MOD-01), and work-stoppage reports."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from dateutil.relativedelta import relativedelta
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from srpp.auth.models import Role, User
from srpp.contracts.models import (
    Contract,
    ContractState,
    DayType,
    MilestoneChange,
    MilestoneState,
    MilestoneTrigger,
    PaymentMilestone,
    WorkStoppage,
)
from srpp.core import settings
from srpp.core.audit import bind_actor
from srpp.core.errors import DomainError
from srpp.core.permissions import officer_of, regional_reader, require, rule
from srpp.core.services import check_version
from srpp.core.workdays import add_days
from srpp.extensions import db
from srpp.payments.calc import allocate, cents
from srpp.rules.models import ReservationBasis

settings.declare("payments.default_term_days", int, 30,
                 _l("Payment term of a new contract, in days (PAY-01: at most 30 for public authorities)"), 1, 30)
settings.declare("payments.de_minimis_share", Decimal, Decimal("0.10"),
                 _l("Share of the initial value above which cumulative amendments are flagged (EU-MOD-01)"),
                 Decimal(0), Decimal(1))

MAX_TERM = 60
STANDARD_TERM = 30
MAX_ACCEPTANCE = 30
CONTRACT_ROLES = (Role.PROCUREMENT_OFFICER, Role.FINANCE_OFFICER)


# --- permissions ------------------------------------------------------------------------------------

@rule("contract.edit")
def _contract_edit(user: User, municipality: Any) -> bool:
    """Enter contracts, set payment terms and milestones: the municipality's procurement and
    finance officers, and admins."""
    if user.is_admin:
        return True
    return municipality is not None and officer_of(user, municipality.id, *CONTRACT_ROLES)


@rule("contract.view")
def _contract_view(user: User, contract: Any) -> bool:
    """A contract: its municipality's staff, the regional readers, and the supplier's members."""
    if regional_reader(user) or contract is None:
        return regional_reader(user)
    if contract.municipality_id in user.municipality_ids():
        return True
    return contract.supplier_id in user.supplier_ids()


@rule("stoppage.report")
def _stoppage_report(user: User, contract: Any) -> bool:
    """Report a work stoppage: the municipality's officers, the supplier's members, admins."""
    if user.is_admin or contract is None:
        return user.is_admin
    return officer_of(user, contract.municipality_id, *CONTRACT_ROLES) or contract.supplier_id in user.supplier_ids()


# --- terms ----------------------------------------------------------------------------------------------

@dataclass
class TermsInput:
    payment_term_days: int = STANDARD_TERM
    payment_term_justification: str | None = None
    day_type: DayType = DayType.CALENDAR
    acceptance_days: int | None = None
    acceptance_justification: str | None = None
    advance_percent: Decimal = Decimal(0)
    reference: str | None = None


def check_terms(inp: TermsInput) -> None:
    """PAY-01, PAY-03, PAY-04: refuses with the rule's reason."""
    if inp.payment_term_days is None or inp.payment_term_days < 1:
        raise DomainError(_("Give the payment term in days."), field="payment_term_days")
    if inp.payment_term_days > MAX_TERM:
        raise DomainError(_("A payment term may never exceed 60 days (Directive 2011/7/EU, Art. 4(6))."),
                          field="payment_term_days")
    if inp.payment_term_days > STANDARD_TERM and not (inp.payment_term_justification or "").strip():
        raise DomainError(_("A payment term over 30 days needs a written objective justification "
                            "(Directive 2011/7/EU, Art. 4(6))."), field="payment_term_justification")
    if inp.acceptance_days is not None:
        if inp.acceptance_days < 0:
            raise DomainError(_("The acceptance period cannot be negative."), field="acceptance_days")
        if inp.acceptance_days > MAX_ACCEPTANCE and not (inp.acceptance_justification or "").strip():
            raise DomainError(_("Acceptance may take at most 30 days unless the contract records a justification "
                                "(Directive 2011/7/EU, Art. 4(5))."), field="acceptance_justification")
    if inp.advance_percent is None or not (0 <= inp.advance_percent <= 100):
        raise DomainError(_("The advance payment is a percentage between 0 and 100."), field="advance_percent")


def _apply_terms(contract: Contract, inp: TermsInput) -> None:
    contract.payment_term_days = inp.payment_term_days
    contract.payment_term_justification = (inp.payment_term_justification or "").strip() or None
    contract.day_type = inp.day_type
    contract.acceptance_days = inp.acceptance_days
    contract.acceptance_justification = (inp.acceptance_justification or "").strip() or None
    contract.advance_percent = Decimal(inp.advance_percent).quantize(Decimal("0.01"))
    contract.reference = (inp.reference or "").strip() or None


def update_terms(actor: User, contract: Contract, inp: TermsInput, version: int | None = None) -> Contract:
    require(actor, "contract.edit", contract.municipality)
    if version is not None:  # a form's version (the importer and the demo pass none)
        check_version(contract, version)
    check_terms(inp)
    bind_actor(db.session(), actor)
    _apply_terms(contract, inp)
    recompute_planned_dates(contract)
    db.session.flush()
    from srpp.payments import services as payments

    payments.recompute_contract(contract)
    return contract


@dataclass
class ContractInput:
    municipality_id: int
    supplier_id: int
    title: str
    value: Decimal
    start_date: dt.date
    end_date: dt.date
    main_cpv: str
    awarded_on: dt.date | None = None
    reservation: ReservationBasis = ReservationBasis.NONE


def create_contract(actor: User, inp: ContractInput, terms: TermsInput) -> Contract:
    """A contract entered directly (one not awarded through a tender or a call-off here)."""
    from srpp.cpv.services import get as get_code
    from srpp.orgs.models import Municipality, Supplier

    municipality = db.session.get(Municipality, inp.municipality_id)
    require(actor, "contract.edit", municipality)
    if db.session.get(Supplier, inp.supplier_id) is None:
        raise DomainError(_("Choose the supplier."), field="supplier_id")
    if not (inp.title or "").strip():
        raise DomainError(_("Give the contract a title."), field="title")
    if inp.value is None or inp.value <= 0:
        raise DomainError(_("The contract value must be more than zero."), field="value")
    if inp.end_date < inp.start_date:
        raise DomainError(_("The contract cannot end before it starts."), field="end_date")
    if get_code(inp.main_cpv) is None:
        raise DomainError(_("Unknown CPV code."), field="main_cpv")
    check_terms(terms)
    bind_actor(db.session(), actor)
    contract = Contract(municipality_id=municipality.id, supplier_id=inp.supplier_id, title=inp.title.strip(),
                        value=cents(inp.value), awarded_on=inp.awarded_on or inp.start_date,
                        start_date=inp.start_date, end_date=inp.end_date, main_cpv=inp.main_cpv,
                        reservation=inp.reservation, created_by_id=actor.id)
    _apply_terms(contract, terms)
    db.session.add(contract)
    db.session.flush()
    return contract


# --- milestones ----------------------------------------------------------------------------------------

@dataclass
class MilestoneInput:
    title: str
    trigger: MilestoneTrigger
    share_percent: Decimal | None = None
    fixed_amount: Decimal | None = None
    trigger_description: str | None = None
    trigger_date: dt.date | None = None
    offset_days: int = 0
    day_type: DayType = DayType.CALENDAR


def _trigger_date(contract: Contract, inp_or_m: Any) -> dt.date | None:
    if inp_or_m.trigger == MilestoneTrigger.SIGNING:
        return contract.awarded_on
    return inp_or_m.trigger_date


def planned_date(contract: Contract, m: PaymentMilestone) -> dt.date | None:
    start = _trigger_date(contract, m)
    if start is None:
        return None
    return add_days(start, m.offset_days, m.day_type.value, contract.country)


def recompute_planned_dates(contract: Contract) -> None:
    for m in contract.milestones:
        m.planned_date = planned_date(contract, m)


def check_schedule(contract: Contract, items: list[MilestoneInput]) -> list[str]:
    """Shares sum to exactly 100 % (of what the fixed amounts leave), amounts to the contract value."""
    problems = []
    if not items:
        return [_("Add at least one milestone.")]
    for n, m in enumerate(items, start=1):
        if not (m.title or "").strip():
            problems.append(_("Milestone %(n)d needs a title.", n=n))
        if (m.share_percent is None) == (m.fixed_amount is None):
            problems.append(_("Milestone %(n)d: give either a share in %% or a fixed amount.", n=n))
        if m.share_percent is not None and not (0 < m.share_percent <= 100):
            problems.append(_("Milestone %(n)d: a share is more than 0 and at most 100.", n=n))
        if m.fixed_amount is not None and m.fixed_amount <= 0:
            problems.append(_("Milestone %(n)d: the amount must be more than zero.", n=n))
        if m.trigger == MilestoneTrigger.OTHER and not (m.trigger_description or "").strip():
            problems.append(_("Milestone %(n)d: describe the trigger event.", n=n))
        if m.offset_days is None or not (0 <= m.offset_days <= 366):
            problems.append(_("Milestone %(n)d: the offset is between 0 and 366 days.", n=n))
    if problems:
        return problems
    shares = [m.share_percent for m in items if m.share_percent is not None]
    fixed = sum((cents(m.fixed_amount) for m in items if m.fixed_amount is not None), Decimal(0))
    if not shares:
        if fixed != contract.value:
            problems.append(_("The amounts add up to %(sum)s; they must add up to the contract value %(value)s.",
                              sum=_money(fixed), value=_money(contract.value)))
    else:
        if fixed >= contract.value:
            problems.append(_("The fixed amounts leave nothing for the shares."))
        expected = Decimal(100) if not fixed else ((contract.value - fixed) / contract.value * 100)
        total = sum(shares, Decimal(0))
        if fixed and abs(total - expected) > Decimal("0.0001"):
            problems.append(_("The shares add up to %(total)s %%; with the fixed amounts they must add up to "
                              "%(expected)s %%.", total=_number(total),
                              expected=_number(expected.quantize(Decimal("0.0001")))))
        elif not fixed and total != 100:
            problems.append(_("The shares add up to %(total)s %%; they must add up to exactly 100 %%.",
                              total=_number(total)))
    return problems


def _money(value: Decimal) -> str:
    from srpp.core.i18n import money

    return money(value)


def _number(value: Decimal) -> str:
    """All the decimals a share has (the default format shows three: 99.9999 would read "100")."""
    from srpp.core.i18n import number

    value = value.normalize()
    return number(value, digits=max(0, -value.as_tuple().exponent))


def set_schedule(actor: User, contract: Contract, items: list[MilestoneInput], reason: str | None = None,
                 version: int | None = None) -> list[PaymentMilestone]:
    """Replace the contract's milestone schedule (milestones with payments keep their rows: a met
    milestone cannot be removed). Each changed milestone records its old and new values."""
    require(actor, "contract.edit", contract.municipality)
    if version is not None:  # a form's version (the importer and the demo pass none)
        check_version(contract, version)
    problems = check_schedule(contract, items)
    if problems:
        raise DomainError(" ".join(problems))
    bind_actor(db.session(), actor)
    amounts = allocate(contract.value, [m.share_percent for m in items], [m.fixed_amount for m in items])
    existing = {m.sequence: m for m in contract.milestones}
    for seq in sorted(set(existing) - set(range(1, len(items) + 1))):
        old = existing[seq]
        if old.state == MilestoneState.MET:
            raise DomainError(_("Milestone %(n)d is already met and cannot be removed.", n=seq))
        contract.milestones.remove(old)
    db.session.flush()
    out = []
    for seq, (inp, amount) in enumerate(zip(items, amounts, strict=True), start=1):
        m = existing.get(seq)
        new = {"title": inp.title.strip(), "share_percent": inp.share_percent,
               "fixed_amount": cents(inp.fixed_amount) if inp.fixed_amount is not None else None, "amount": amount,
               "trigger": inp.trigger, "trigger_description": (inp.trigger_description or "").strip() or None,
               "trigger_date": inp.trigger_date, "offset_days": inp.offset_days, "day_type": inp.day_type}
        if m is None:
            m = PaymentMilestone(sequence=seq, **new)
            contract.milestones.append(m)
        else:
            changed = {k: [_plain(getattr(m, k)), _plain(v)] for k, v in new.items() if getattr(m, k) != v}
            if changed:
                m.changes.append(MilestoneChange(changes=changed, changed_by_id=actor.id,
                                                 reason=(reason or "").strip() or None))
                for k, v in new.items():
                    setattr(m, k, v)
        m.planned_date = planned_date(contract, m)
        out.append(m)
    db.session.flush()
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return getattr(value, "value", value)


def monthly_schedule(contract: Contract) -> list[MilestoneInput]:
    """One milestone per month of service, due the payment term (plus any acceptance period) after
    the month ends, and the advance (if any) 14 days after signing: a starting point the officer can
    edit. Fixed amounts in cents, the last month taking the remainder, so the schedule adds up exactly."""
    months = []
    start = contract.start_date
    while start <= contract.end_date and len(months) < 120:
        end = min(start + relativedelta(months=1) - dt.timedelta(days=1), contract.end_date)
        months.append((start, end))
        start = end + dt.timedelta(days=1)
    items: list[MilestoneInput] = []
    advance = cents(contract.value * Decimal(contract.advance_percent or 0) / 100)
    if advance:
        items.append(MilestoneInput(_("Advance payment"), MilestoneTrigger.SIGNING, fixed_amount=advance,
                                    offset_days=14))
    rest = contract.value - advance
    each = cents(rest / len(months))
    offset = contract.payment_term_days + (contract.acceptance_days or 0)
    for n, (_s, end) in enumerate(months, start=1):
        amount = each if n < len(months) else rest - each * (len(months) - 1)
        items.append(MilestoneInput(_("Services of %(month)s", month=end.strftime("%Y-%m")),
                                    MilestoneTrigger.PERIOD_END, fixed_amount=amount, trigger_date=end,
                                    offset_days=offset))
    return items


def amendment_warning(contract: Contract) -> str | None:
    """EU-MOD-01: cumulative changes above 10 % of the initial value (services) need a new procedure."""
    share = contract.amendment_share
    limit = settings.get("payments.de_minimis_share")
    if share is not None and abs(share) > limit:
        return _("The value changed by %(share)s since signature, above the de minimis limit of %(limit)s "
                 "(Directive 2014/24/EU, Art. 72(2)): such a change needs a new procedure.",
                 share=f"{share * 100:.1f} %", limit=f"{limit * 100:.0f} %")
    return None


def amend_value(actor: User, contract: Contract, new_value: Decimal, reason: str,
                version: int | None = None) -> str | None:
    """Change the contract value (the share-based milestones follow); returns the de minimis
    warning when the cumulative change is above the limit."""
    require(actor, "contract.edit", contract.municipality)
    if version is not None:  # a form's version (the importer and the demo pass none)
        check_version(contract, version)
    if new_value is None or new_value <= 0:
        raise DomainError(_("The contract value must be more than zero."), field="value")
    if not (reason or "").strip():
        raise DomainError(_("Give the reason for the amendment."), field="reason")
    bind_actor(db.session(), actor)
    contract.value = cents(new_value)
    if contract.milestones:
        items = [MilestoneInput(m.title, m.trigger, m.share_percent, m.fixed_amount, m.trigger_description,
                                m.trigger_date, m.offset_days, m.day_type) for m in contract.milestones]
        if all(m.share_percent is not None for m in items) or check_schedule(contract, items) == []:
            set_schedule(actor, contract, items, reason=reason)
    db.session.flush()
    return amendment_warning(contract)


# --- work stoppages ----------------------------------------------------------------------------------

def report_stoppage(actor: User, contract: Contract, started_on: dt.date, cause: str,
                    ended_on: dt.date | None = None) -> WorkStoppage:
    require(actor, "stoppage.report", contract)
    if not (cause or "").strip():
        raise DomainError(_("Describe the cause of the stoppage."), field="cause")
    if ended_on is not None and ended_on < started_on:
        raise DomainError(_("The stoppage cannot end before it starts."), field="ended_on")
    bind_actor(db.session(), actor)
    stoppage = WorkStoppage(started_on=started_on, ended_on=ended_on, cause=cause.strip(), reported_by_id=actor.id,
                            reported_by_supplier=contract.supplier_id in actor.supplier_ids())
    contract.stoppages.append(stoppage)
    db.session.flush()
    return stoppage


# --- reading ----------------------------------------------------------------------------------------------

def contracts_for(actor: User, municipality_id: int | None = None, supplier_id: int | None = None,
                  state: ContractState | None = None):
    """A select of the contracts the actor may see (municipality staff: their municipality's;
    suppliers' members: theirs; regional readers: all)."""
    stmt = select(Contract).order_by(Contract.start_date.desc(), Contract.id.desc())
    if not regional_reader(actor):
        munis = actor.municipality_ids()
        sups = actor.supplier_ids()
        stmt = stmt.where(Contract.municipality_id.in_(munis or [-1]) | Contract.supplier_id.in_(sups or [-1]))
    if municipality_id:
        stmt = stmt.where(Contract.municipality_id == municipality_id)
    if supplier_id:
        stmt = stmt.where(Contract.supplier_id == supplier_id)
    if state:
        stmt = stmt.where(Contract.state == state)
    return stmt


def get_contract(actor: User, contract_id: int) -> Contract | None:
    contract = db.session.get(Contract, contract_id)
    if contract is not None:
        require(actor, "contract.view", contract)
    return contract
