"""Demo payments (issue 7) from ``srpp/demo/data/payments.yaml``, made through the services.

Every contract of the demo region (the awards, the call-offs, the earlier contract, and a running
service contract per municipality entered directly) gets payment terms and a milestone schedule from
its municipality's procurement officer; the finance officers record the invoices of the milestones
that fell due in the last 18 months and their payments, following each municipality's payment profile
(Biržai pays late); one invoice is disputed and resolved, one is still disputed, and one late-paid
Biržai contract had a work stoppage. Everything is relative to the loading day and drawn from
``random.Random(2026)``, so the demo is the same every time it is loaded on the same day, and nothing
is dated after that day. Runs last among the demo steps (it needs their contracts)."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from dateutil.relativedelta import relativedelta
from flask import current_app
from sqlalchemy import select

from srpp.auth.models import User
from srpp.contracts import services as contracts
from srpp.contracts.models import Contract, DayType, MilestoneTrigger, PaymentMilestone
from srpp.core.workdays import roll_forward
from srpp.demo.loader import read
from srpp.extensions import db
from srpp.orgs.models import Municipality, ServiceCategory, Supplier
from srpp.payments import calc
from srpp.payments import services as payments
from srpp.payments.models import Invoice, InvoiceState

SEED = 2026
MONTHS_LT = ("sausio", "vasario", "kovo", "balandžio", "gegužės", "birželio", "liepos", "rugpjūčio", "rugsėjo",
             "spalio", "lapkričio", "gruodžio")
QUARTERS = ("I", "II", "III", "IV")
#: a milestone in working days is paid this many working days after its event (about the 30-day term)
WORKING_OFFSET = 22
_USERS = "payments_demo_users"


@dataclass
class PlannedInvoice:
    contract: Contract
    milestone: PaymentMilestone
    received_on: dt.date
    accepted_on: dt.date | None = None
    payments: list[tuple[dt.date, Decimal]] = field(default_factory=list)
    dispute: dict[str, Any] | None = None


def load(today: dt.date | None = None) -> None:
    today = today or dt.date.today()
    data = read("payments.yaml")
    rng = random.Random(SEED)
    db.session.info[_USERS] = {}
    try:
        with current_app.test_request_context():  # the daily scan's notifications carry links
            _load(data, rng, today)
    finally:
        db.session.info.pop(_USERS, None)


def _load(data: dict[str, Any], rng: random.Random, today: dt.date) -> None:
    """Terms and schedules first (the officers), then the invoices in the order they arrived (the
    finance officers), the stoppage, and the daily scan as of ``today``."""
    _enter_direct_contracts(data, today)
    ordered = sorted(db.session.scalars(select(Contract)).unique(), key=_order)
    refs: dict[str, int] = {}
    for contract in ordered:
        _set_terms(contract, data, refs)
        _set_schedule(contract, data)
    planned = [inv for contract in ordered for inv in plan_contract(contract, data, rng, today)]
    _record(planned, data, today)
    _report_stoppage(data["stoppage"], today)
    payments.daily_scan(today)


# --- contracts, terms and schedules ----------------------------------------------------------------------

def _user(prefix: str, municipality_code: str) -> User:
    """officer.<code>@… or finance.<code>@… (looked up once per load)."""
    email = f"{prefix}.{municipality_code.lower()}@demo.srpp.lt"
    cache = db.session.info.setdefault(_USERS, {})
    if email not in cache:
        cache[email] = db.session.scalar(select(User).where(User.email == email))
    return cache[email]


def _order(contract: Contract) -> tuple:
    return (contract.municipality.code, contract.awarded_on, contract.start_date, contract.supplier.company_code,
            contract.title)


def source(contract: Contract) -> str:
    """Where a demo contract came from: a lot's award, a call-off, entered directly here, or the
    earlier contract of the tender demo."""
    if contract.lot_id is not None:
        return "lot"
    if contract.call_off_id is not None:
        return "call_off"
    return "direct" if contract.created_by_id is not None else "previous"


def matches(contract: Contract, match: dict[str, Any]) -> bool:
    checks = {
        "municipality": lambda: contract.municipality.code,
        "supplier": lambda: contract.supplier.company_code,
        "source": lambda: source(contract),
        "lot": lambda: contract.lot.number if contract.lot is not None else None,
        "framework": lambda: contract.call_off.framework.code if contract.call_off is not None else None,
    }
    return all(checks[key]() == value for key, value in match.items())


def _spec(items: list[dict[str, Any]], contract: Contract) -> dict[str, Any]:
    """Every item whose ``match`` the contract matches, merged (later items win)."""
    out: dict[str, Any] = {}
    for item in items:
        if matches(contract, item["match"]):
            out.update({k: v for k, v in item.items() if k != "match"})
    return out


def _enter_direct_contracts(data: dict[str, Any], today: dt.date) -> None:
    munis = {m.code: m for m in db.session.scalars(select(Municipality))}
    suppliers = {s.company_code: s for s in db.session.scalars(select(Supplier))}
    cats = {c.key: c for c in db.session.scalars(select(ServiceCategory))}
    start = today.replace(day=1) - relativedelta(months=data["history_months"])
    for spec in data["direct_contracts"]:
        months = spec["months"]
        contracts.create_contract(_user("officer", spec["municipality"]), contracts.ContractInput(
            municipality_id=munis[spec["municipality"]].id, supplier_id=suppliers[spec["supplier"]].id,
            title=spec["title"], value=Decimal(spec["monthly"]) * months, start_date=start,
            end_date=start + relativedelta(months=months) - dt.timedelta(days=1),
            main_cpv=cats[spec["category"]].main_cpv, awarded_on=start - dt.timedelta(days=21),
        ), contracts.TermsInput())


def _set_terms(contract: Contract, data: dict[str, Any], refs: dict[str, int]) -> None:
    spec = _spec(data["terms"], contract)
    code = contract.municipality.code
    refs[code] = refs.get(code, 0) + 1
    contracts.update_terms(_user("officer", code), contract, contracts.TermsInput(
        payment_term_days=spec.get("payment_term_days", contracts.STANDARD_TERM),
        payment_term_justification=spec.get("payment_term_justification"),
        day_type=DayType(spec.get("day_type", "calendar")), acceptance_days=spec.get("acceptance_days"),
        acceptance_justification=spec.get("acceptance_justification"),
        advance_percent=Decimal(spec.get("advance_percent", "0")),
        reference=f"{code}-SUT-{contract.awarded_on.year}/{refs[code]:03d}"))


def _event_date(contract: Contract, m: dict[str, Any]) -> dt.date | None:
    if m.get("at") == "end":
        return contract.end_date
    if "at_days" in m:
        return contract.start_date + dt.timedelta(days=m["at_days"])
    if "at_months" in m:
        return contract.start_date + relativedelta(months=m["at_months"]) - dt.timedelta(days=1)
    return None


def period_title(start: dt.date, end: dt.date) -> str:
    """"2026 m. gegužės mėn. paslaugos", "2026 m. II ketv. paslaugos" or "Paslaugos <start>–<end>"."""
    whole = start.day == 1 and (end + dt.timedelta(days=1)).day == 1
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    if whole and months == 1:
        return f"{end.year} m. {MONTHS_LT[end.month - 1]} mėn. paslaugos"
    if whole and months == 3 and start.month % 3 == 1 and start.year == end.year:
        return f"{end.year} m. {QUARTERS[start.month // 3]} ketv. paslaugos"
    return f"Paslaugos {start.isoformat()}–{end.isoformat()}"


def _periods(contract: Contract, months: int) -> list[tuple[dt.date, dt.date]]:
    out = []
    start = contract.start_date
    while start <= contract.end_date:
        end = min(start + relativedelta(months=months) - dt.timedelta(days=1), contract.end_date)
        out.append((start, end))
        start = end + dt.timedelta(days=1)
    return out


def schedule_items(contract: Contract, spec: dict[str, Any]) -> list[contracts.MilestoneInput]:
    """The contract's milestones: a custom schedule, or one per month (``period_months``: per that many
    months) of service with the advance at signing, each paid a payment term after its period ends; in
    fixed amounts when the spec says ``fixed``."""
    if spec.get("milestones"):
        return [contracts.MilestoneInput(
            title=m["title"], trigger=MilestoneTrigger(m["trigger"]), share_percent=Decimal(m["share"]),
            trigger_description=m.get("trigger_description"),
            trigger_date=None if m["trigger"] == "signing" else _event_date(contract, m),
            offset_days=m["offset"]) for m in spec["milestones"]]
    months = spec.get("period_months", 1)
    if months == 1:
        items = contracts.monthly_schedule(contract)  # the officer's starting point, adjusted below
    else:
        periods = _periods(contract, months)
        each = (Decimal(100) / len(periods)).quantize(Decimal("0.0001"))
        items = [contracts.MilestoneInput("", MilestoneTrigger.PERIOD_END, trigger_date=end,
                                          share_percent=each if n < len(periods) else 100 - each * (n - 1))
                 for n, (_start, end) in enumerate(periods, start=1)]
    working = contract.day_type == DayType.WORKING
    period_start = contract.start_date
    for item in items:
        if item.trigger == MilestoneTrigger.SIGNING:
            item.title = "Avansas"
            continue
        item.title = period_title(period_start, item.trigger_date)
        item.offset_days = WORKING_OFFSET if working else contract.payment_term_days + (contract.acceptance_days or 0)
        item.day_type = contract.day_type
        period_start = item.trigger_date + dt.timedelta(days=1)
    if spec.get("fixed"):  # the advance as its share, the rest in equal amounts (the last one takes the cents)
        advance = [i for i in items if i.trigger == MilestoneTrigger.SIGNING]
        for item in advance:
            item.share_percent, item.fixed_amount = None, calc.cents(contract.value * item.share_percent / 100)
        rest = [i for i in items if i.trigger != MilestoneTrigger.SIGNING]
        left = contract.value - sum(i.fixed_amount for i in advance)
        each = calc.cents(left / len(rest))
        for n, item in enumerate(rest, start=1):
            item.share_percent, item.fixed_amount = None, each if n < len(rest) else left - each * (len(rest) - 1)
    return items


def _set_schedule(contract: Contract, data: dict[str, Any]) -> None:
    contracts.set_schedule(_user("officer", contract.municipality.code), contract,
                           schedule_items(contract, _spec(data["schedules"], contract)))


# --- invoices and payments -------------------------------------------------------------------------------

def profile(data: dict[str, Any], municipality_code: str) -> dict[str, Any]:
    return {**data["profiles"]["default"], **data["profiles"].get(municipality_code, {})}


def payment_plan(rng: random.Random, prof: dict[str, Any], clock_start: dt.date, amount: Decimal,
                 advance: bool = False) -> list[tuple[dt.date, Decimal]]:
    """When the invoice is paid (in one payment or two instalments), on working days."""
    late = rng.random() < prof["late_share"]
    days = rng.randint(*prof["late" if late else "on_time"])
    if advance:  # an advance is paid within days, before its milestone's planned date
        days = rng.randint(*prof["advance"])
    final = roll_forward(clock_start + dt.timedelta(days=days))
    if rng.random() >= prof["partial_share"]:
        return [(final, amount)]
    first = calc.cents(amount * Decimal(rng.choice(("0.4", "0.5", "0.6"))))
    early = roll_forward(clock_start + dt.timedelta(days=max(1, days - rng.randint(8, 20))))
    if early >= final:
        return [(final, amount)]
    return [(early, first), (final, amount - first)]


def plan_contract(contract: Contract, data: dict[str, Any], rng: random.Random,
                  today: dt.date) -> list[PlannedInvoice]:
    """The invoices of the milestones whose event has passed (received a few days after it, never
    after ``today``) with their acceptance and payments (those after ``today`` are left out)."""
    prof = profile(data, contract.municipality.code)
    lag = data["invoice_lag_days"]
    out = []
    for m in contract.milestones:
        event = contract.awarded_on if m.trigger == MilestoneTrigger.SIGNING else m.trigger_date
        if event is None:
            continue
        received = roll_forward(event + dt.timedelta(days=rng.randint(*lag)))
        if received > today:
            continue
        inv = PlannedInvoice(contract, m, received)
        clock = received
        if contract.acceptance_days is not None:
            accepted = roll_forward(received + dt.timedelta(days=rng.randint(1, contract.acceptance_days)))
            inv.accepted_on = accepted if accepted <= today else None
            clock = inv.accepted_on or received + dt.timedelta(days=contract.acceptance_days)
        inv.payments = payment_plan(rng, prof, clock, m.amount, advance=m.trigger == MilestoneTrigger.SIGNING)
        if (today - received).days < prof.get("unpaid_days", 0):
            inv.payments = []
        inv.payments = [(day, amount) for day, amount in inv.payments if day <= today]
        out.append(inv)
    for spec in data["disputes"]:
        if not matches(contract, spec["match"]):
            continue
        target = today - dt.timedelta(days=spec["received_days_ago"])
        candidates = [i for i in out if i.dispute is None and i.accepted_on is None
                      and i.received_on + dt.timedelta(days=spec["after_days"]) <= today]
        if candidates:
            chosen = min(candidates, key=lambda i: (abs((i.received_on - target).days), i.received_on))
            chosen.dispute, chosen.payments = spec, []
    return out


class _Numbers:
    """Invoice numbers per supplier and year (``JS-2026-0007``), e-invoice and payment references."""

    def __init__(self, series: dict[str, str]):
        self.series = series
        self.counters: dict[tuple[str, int], int] = {}
        self.refs = 0

    def invoice(self, supplier: Supplier, day: dt.date) -> str:
        key = (supplier.company_code, day.year)
        self.counters[key] = self.counters.get(key, 0) + 1
        series = self.series.get(supplier.company_code, f"S{supplier.company_code[-2:]}")
        return f"{series}-{day.year}-{self.counters[key]:04d}"

    def ref(self, prefix: str, day: dt.date) -> str:
        self.refs += 1
        return f"{prefix}-{day:%Y%m%d}-{self.refs:05d}"


def _record(planned: list[PlannedInvoice], data: dict[str, Any], today: dt.date) -> None:
    """The finance officers record the invoices in the order they arrived."""
    numbers = _Numbers(data["series"])
    finance: dict[str, User] = {}
    for p in sorted(planned, key=lambda p: (p.received_on, _order(p.contract), p.milestone.sequence)):
        contract = p.contract
        code = contract.municipality.code
        actor = finance.setdefault(code, _user("finance", code))
        inv = payments.record_invoice(actor, contract, payments.InvoiceInput(
            number=numbers.invoice(contract.supplier, p.received_on), amount=p.milestone.amount,
            received_on=p.received_on, e_invoice_ref=numbers.ref("ESAS", p.received_on), milestone_id=p.milestone.id))
        if p.accepted_on is not None:
            payments.accept(actor, inv, p.accepted_on)
        if p.dispute is not None:
            _dispute(actor, inv, p.dispute, numbers, today)
        for day, amount in p.payments:
            payments.record_payment(actor, inv, day, amount, reference=numbers.ref("MP", day))


def _dispute(actor: User, inv: Invoice, spec: dict[str, Any], numbers: _Numbers, today: dt.date) -> None:
    disputed_on = inv.received_on + dt.timedelta(days=spec["after_days"])
    payments.dispute(actor, inv, disputed_on, spec["reason"])
    if "resolved_after" not in spec:
        return
    resolved = disputed_on + dt.timedelta(days=spec["resolved_after"])
    if resolved > today:
        return
    payments.resolve_dispute(actor, inv, resolved)
    paid = roll_forward(resolved + dt.timedelta(days=spec["pay_after"]))
    if paid <= today:
        payments.record_payment(actor, inv, paid, inv.amount, reference=numbers.ref("MP", paid))


# --- the work stoppage -------------------------------------------------------------------------------------

def _report_stoppage(spec: dict[str, Any], today: dt.date) -> None:
    """On the matched contract's invoice paid latest past its due date (preferably one whose stoppage
    began in the last completed half-year, so the council's dashboard shows it)."""
    contract = next(c for c in db.session.scalars(select(Contract)).unique() if matches(c, spec["match"]))
    late = [inv for inv in payments.invoices_of(contract) if inv.days_late > spec["days_after_due"]]
    if not late:
        late = [inv for inv in payments.invoices_of(contract) if inv.days_late > 0]
    if not late:
        return
    last_half = calc.previous_half_years(today, 2)[0]

    def start(inv: Invoice) -> dt.date:
        return inv.due_date + dt.timedelta(days=min(spec["days_after_due"], inv.days_late - 1))

    in_last = [inv for inv in late if last_half[0] <= start(inv) <= last_half[1]]
    inv = max(in_last or late, key=lambda i: (i.days_late, i.received_on))
    ended = inv.paid_on + dt.timedelta(days=1) if inv.state == InvoiceState.PAID_LATE else None
    contracts.report_stoppage(_user("officer", contract.municipality.code), contract, start(inv), spec["cause"],
                              ended_on=ended if ended is not None and ended <= today else None)
