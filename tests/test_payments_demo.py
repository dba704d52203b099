"""The payment demo (srpp/payments/demo.py, srpp/demo/data/payments.yaml) as loaded into the test
database: contracts with terms and exact milestone schedules, invoices over the last 18 months, late
payments with the interest and compensation the services computed, disputes, a work stoppage, and
Biržai visibly worse than the other municipalities; and the plan is sound on any loading day."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from sqlalchemy import func, select

from srpp.auth.models import User
from srpp.contracts.models import Contract, DayType, MilestoneTrigger, PaymentMilestone, WorkStoppage
from srpp.core.models import Notification
from srpp.core.workdays import roll_forward
from srpp.demo.loader import read
from srpp.orgs.models import Municipality, Supplier
from srpp.payments import calc, figures
from srpp.payments import demo as payments_demo
from srpp.payments.models import Invoice, InvoiceState, Payment, ReferenceRate


def _today() -> dt.date:
    return dt.date.today()


def _codes(ctx) -> dict[int, str]:
    return {m.id: m.code for m in ctx.scalars(select(Municipality))}


def test_every_contract_has_terms_and_an_exact_milestone_schedule(ctx):
    contracts = list(ctx.scalars(select(Contract)).unique())
    assert len(contracts) >= 30
    for c in contracts:
        assert c.milestones, c.title
        assert sum(m.amount for m in c.milestones) == c.value, c.title
        assert [m.sequence for m in c.milestones] == list(range(1, len(c.milestones) + 1))
        assert all(m.planned_date is not None for m in c.milestones), c.title
        assert c.reference and c.reference.startswith(c.municipality.code)
    terms = [(c.payment_term_days, c.acceptance_days, c.advance_percent) for c in contracts]
    assert sum(1 for t in terms if t == (30, None, Decimal("0.00"))) >= len(contracts) - 3
    long_term = [c for c in contracts if c.payment_term_days == 45]
    assert len(long_term) == 1 and "objektyviai pagrįstas" in long_term[0].payment_term_justification
    assert [c.acceptance_days for c in contracts if c.acceptance_days is not None] == [10]
    advance = [c for c in contracts if c.advance_percent]
    assert [c.advance_percent for c in advance] == [Decimal("10.00")]
    first = advance[0].milestones[0]
    assert first.trigger == MilestoneTrigger.SIGNING and first.amount == advance[0].value / 10
    assert first.planned_date == roll_forward(advance[0].awarded_on + dt.timedelta(days=14))
    # custom schedules, fixed amounts and working days
    triggers = {m.trigger for c in contracts for m in c.milestones}
    assert {MilestoneTrigger.SIGNING, MilestoneTrigger.DELIVERY, MilestoneTrigger.PERIOD_END,
            MilestoneTrigger.ACCEPTANCE, MilestoneTrigger.OTHER} <= triggers
    assert any(all(m.fixed_amount is not None for m in c.milestones) for c in contracts)
    working = [c for c in contracts if c.day_type == DayType.WORKING]
    assert len(working) == 1 and all(m.day_type == DayType.WORKING for m in working[0].milestones)


def test_contracts_entered_by_officers_and_invoices_recorded_by_finance_officers(ctx):
    codes = _codes(ctx)
    direct = list(ctx.scalars(select(Contract).where(Contract.created_by_id.is_not(None))).unique())
    assert {codes[c.municipality_id] for c in direct} == set(codes.values())
    users = {u.id: u.email for u in ctx.scalars(select(User))}
    for c in direct:
        assert users[c.created_by_id] == f"officer.{codes[c.municipality_id].lower()}@demo.srpp.lt"
    for inv in ctx.scalars(select(Invoice)):
        expected = f"finance.{codes[inv.municipality_id].lower()}@demo.srpp.lt"
        assert users[inv.recorded_by_id] == expected
        assert all(users[p.recorded_by_id] == expected for p in inv.payments)


def test_invoices_cover_the_last_eighteen_months_and_every_recent_half_year(ctx):
    today = _today()
    counts = {code: n for code, n in ctx.execute(
        select(Municipality.code, func.count(Invoice.id)).join(Invoice, Invoice.municipality_id == Municipality.id)
        .group_by(Municipality.code))}
    assert set(counts) == {"PAN-C", "PAN-D", "BIR", "KUP", "PAS", "ROK"}
    assert 100 <= sum(counts.values()) <= 400
    *completed, current = calc.previous_half_years(today, 4)
    for n, (start, end) in enumerate(completed):
        received = ctx.scalar(select(func.count()).select_from(Invoice).where(Invoice.received_on.between(start, end)))
        assert received >= (2 if n == 0 else 10), (start, received)
    if (today - current[0]).days >= 10:
        assert ctx.scalar(select(func.count()).select_from(Invoice).where(Invoice.received_on >= current[0]))
    # the history reaches back about 18 months
    assert ctx.scalar(select(func.count()).select_from(Invoice).where(
        Invoice.received_on.between(today - relativedelta(months=18), today - relativedelta(months=16))))


def test_nothing_is_dated_after_today(ctx):
    today = _today()
    for column in (Invoice.received_on, Invoice.accepted_on, Invoice.disputed_on, Invoice.dispute_resolved_on,
                   Invoice.paid_on, Payment.paid_on, WorkStoppage.started_on, WorkStoppage.ended_on):
        latest = ctx.scalar(select(func.max(column)))
        assert latest is None or latest <= today, column
    assert ctx.scalar(select(func.count()).select_from(Payment).join(Invoice)
                      .where(Payment.paid_on < Invoice.received_on)) == 0


def test_lithuanian_invoices_have_an_e_invoice_reference(ctx):
    invoices = list(ctx.scalars(select(Invoice)))
    assert invoices and all(inv.contract.country == "LT" for inv in invoices)
    assert all((inv.e_invoice_ref or "").strip() for inv in invoices)
    assert len({inv.e_invoice_ref for inv in invoices}) == len(invoices)


def test_most_invoices_are_paid_on_time_and_some_late_with_interest_and_compensation(ctx):
    paid = list(ctx.scalars(select(Invoice).where(Invoice.paid_on.is_not(None))))
    on_time = [i for i in paid if i.state == InvoiceState.PAID]
    late = [i for i in paid if i.state == InvoiceState.PAID_LATE]
    assert len(on_time) > 3 * len(late) and late
    assert all(i.interest > 0 and i.compensation == Decimal("40.00") and i.days_late > 0 for i in late)
    assert all(i.interest == 0 and i.compensation == 0 for i in on_time)
    typical = sorted(i.days_to_pay for i in on_time)
    assert 10 <= typical[len(typical) // 2] <= 28


def test_late_interest_matches_a_hand_computation(ctx):
    """Simple daily interest at the reference rate of the half-year + 8 points on the whole amount,
    for late invoices paid in one payment within the half-year their lateness began."""
    table = {r.valid_from: r.rate for r in ctx.scalars(select(ReferenceRate))}

    def reference(half_start: dt.date) -> Decimal:
        return table[max(d for d in table if d <= half_start)]  # the latest known rate (the table's rule)

    checked = 0
    for inv in ctx.scalars(select(Invoice).where(Invoice.state == InvoiceState.PAID_LATE)):
        first_late = inv.due_date + dt.timedelta(days=1)
        if len(inv.payments) != 1 or calc.half_year(first_late) != calc.half_year(inv.paid_on):
            continue
        rate = reference(calc.half_year(first_late)[0]) + 8
        days = (inv.paid_on - inv.due_date).days
        assert inv.days_late == days
        assert inv.interest == (inv.amount * rate / 100 / 365 * days).quantize(Decimal("0.01")), inv.number
        checked += 1
    assert checked >= 3


def test_partial_payments_and_open_invoices(ctx):
    split = ctx.scalar(select(func.count()).select_from(
        select(Payment.invoice_id).group_by(Payment.invoice_id).having(func.count() > 1).subquery()))
    assert split >= 3
    open_states = {i.state for i in ctx.scalars(select(Invoice).where(Invoice.paid_on.is_(None)))}
    assert InvoiceState.LATE in open_states  # overdue now
    assert open_states & {InvoiceState.RECEIVED, InvoiceState.DUE}  # not yet due
    overdue = list(ctx.scalars(select(Invoice).where(Invoice.state == InvoiceState.LATE)))
    assert all(i.interest > 0 and i.compensation == Decimal("40.00") for i in overdue)
    assert all(i.figures_as_of == _today() for i in overdue)  # the daily scan ran


def test_disputes_stop_the_clock(ctx):
    disputed = list(ctx.scalars(select(Invoice).where(Invoice.disputed_on.is_not(None))))
    resolved = [i for i in disputed if i.dispute_resolved_on is not None]
    still_open = [i for i in disputed if i.dispute_resolved_on is None]
    assert resolved and still_open
    for inv in resolved:
        paused = (inv.dispute_resolved_on - inv.disputed_on).days
        assert paused > 0 and inv.due_date >= inv.received_on + dt.timedelta(days=30 + paused)
        assert inv.state == InvoiceState.PAID and inv.days_to_pay > 30  # on time only thanks to the pause
    for inv in still_open:
        assert inv.state == InvoiceState.DISPUTED and inv.paid_amount == 0 and inv.dispute_reason


def test_one_work_stoppage_on_a_late_paid_birzai_contract(ctx):
    stoppages = list(ctx.scalars(select(WorkStoppage)))
    assert len(stoppages) == 1
    s = stoppages[0]
    assert s.contract.municipality.code == "BIR" and "pavėluotai" in s.cause
    invoices = ctx.scalars(select(Invoice).where(Invoice.contract_id == s.contract_id))
    late = [i for i in invoices
            if i.days_late and i.due_date < s.started_on and (i.paid_on is None or i.paid_on >= s.started_on)]
    assert late, "the stoppage began while an invoice was overdue"
    assert s.ended_on is None or s.ended_on > s.started_on
    assert s.reported_by.email == "officer.bir@demo.srpp.lt"


def test_birzai_pays_clearly_worse_than_every_other_municipality(ctx):
    codes = _codes(ctx)
    start, end = calc.previous_half_years(_today(), 2)[0]  # the last completed half-year
    by_code = {codes[f.municipality_id]: f for f in figures.compute(start, end, by_municipality=True)}
    assert set(by_code) == set(codes.values())
    bir = by_code.pop("BIR")
    assert bir.paid_count >= 6 and Decimal(40) <= bir.avg_days <= Decimal(65)
    for code, f in by_code.items():
        assert f.paid_count >= 3, code
        assert f.avg_days <= 30 and f.avg_days + 15 <= bir.avg_days, code
        assert f.late_count < bir.late_count, code
    assert bir.interest > 0 and bir.compensation == 40 * bir.late_count  # of the late ones due in the period


def test_the_daily_scan_told_the_finance_officers(ctx):
    bir = ctx.scalar(select(User).where(User.email == "finance.bir@demo.srpp.lt"))
    late = ctx.scalar(select(func.count()).select_from(Invoice).join(Municipality).where(
        Municipality.code == "BIR", Invoice.state == InvoiceState.LATE))
    notes = ctx.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == bir.id, Notification.dedupe_key.like("invoice-late-%")))
    assert late and notes == late


# --- the plan on other days (no database writes) ---------------------------------------------------------

@pytest.mark.parametrize("today", [dt.date(2026, 1, 1), dt.date(2026, 7, 3), dt.date(2027, 2, 28),
                                   dt.date(2029, 12, 31)])
def test_the_plan_is_sound_on_any_day(ctx, today):
    data = read("payments.yaml")
    start = today.replace(day=1) - relativedelta(months=data["history_months"])

    def contract(code: str) -> Contract:
        c = Contract(municipality=Municipality(code=code), supplier=Supplier(company_code="990000002"),
                     title="t", value=Decimal("69600.00"), awarded_on=start - dt.timedelta(days=21),
                     start_date=start, end_date=start + relativedelta(months=24) - dt.timedelta(days=1),
                     main_cpv="85312400-3", payment_term_days=30, day_type=DayType.CALENDAR,
                     advance_percent=Decimal(0), created_by_id=1)
        items = payments_demo.schedule_items(c, {})
        amounts = calc.allocate(c.value, [i.share_percent for i in items], [i.fixed_amount for i in items])
        c.milestones = [PaymentMilestone(sequence=n, title=i.title, share_percent=i.share_percent, amount=a,
                                         trigger=i.trigger, trigger_date=i.trigger_date, offset_days=i.offset_days)
                        for n, (i, a) in enumerate(zip(items, amounts, strict=True), start=1)]
        return c

    def plan(code: str):
        return payments_demo.plan_contract(contract(code), data, random.Random(2026), today)

    for code in ("BIR", "ROK"):
        planned = plan(code)
        assert [(p.received_on, p.payments) for p in planned] == [(p.received_on, p.payments) for p in plan(code)]
        for p in planned:
            assert p.received_on <= today
            assert all(p.received_on <= day <= today for day, _amount in p.payments)
            assert sum(amount for _day, amount in p.payments) <= p.milestone.amount
        for half_start, half_end in calc.previous_half_years(today, 4)[:-1]:
            assert any(half_start <= p.received_on <= half_end for p in planned), (code, half_start)
        days = [(p.payments[-1][0] - p.received_on).days for p in planned
                if p.payments and sum(a for _d, a in p.payments) == p.milestone.amount]
        mean = sum(days) / len(days)
        assert (40 <= mean <= 65) if code == "BIR" else (mean <= 25), (code, mean)
