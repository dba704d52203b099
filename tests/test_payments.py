"""Payment rules: due dates, statutory interest and compensation against worked examples computed
by hand from the rate table, contract terms and milestone schedules (refusals, exact allocation),
invoices and payments (refusals that change nothing, the disputed-invoice clock, partial payments),
the daily scan, the half-year figures against a hand-checked data set, the compliance reports, and
who may touch what.

Everything runs in a rolled-back transaction (``ctx``). The data set for the half-year figures lives
in Kupiškis in 2023 H1, far from the demo invoices (the last 18 months)."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from sqlalchemy import delete, func, select

from srpp.auth.models import Membership, Role, User
from srpp.contracts import services as cservices
from srpp.contracts.models import Contract, DayType, MilestoneChange, MilestoneState, MilestoneTrigger
from srpp.core.errors import DomainError
from srpp.core.models import Notification
from srpp.core.permissions import PermissionDenied
from srpp.extensions import db
from srpp.orgs.models import Supplier
from srpp.orgs.services import municipality_by_code
from srpp.payments import calc, figures, reports, services
from srpp.payments.models import Invoice, InvoiceState, Payment, PaymentReport, ReferenceRate, ReportState

D = dt.date
FIN_KUP = "finance.kup@demo.srpp.lt"
FIN_BIR = "finance.bir@demo.srpp.lt"
SEO_SUPPLIER = "990000001"  # VšĮ "Jautri širdis": kind seo; seo@demo.srpp.lt is a member
COMPANY = "990000013"  # Demo UAB Regiono transportas: kind company
CPV = "85312100-0"
_numbers = itertools.count(1)


# --- helpers ----------------------------------------------------------------------------------------

def _user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def _supplier(code: str) -> Supplier:
    return db.session.scalar(select(Supplier).where(Supplier.company_code == code))


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _contract(muni: str = "KUP", supplier: str = SEO_SUPPLIER, value: str = "12000.00", actor: str = FIN_KUP,
              start: dt.date = D(2023, 1, 1), end: dt.date = D(2026, 12, 31), awarded_on: dt.date | None = None,
              **terms) -> Contract:
    inp = cservices.ContractInput(municipality_id=municipality_by_code(muni).id, supplier_id=_supplier(supplier).id,
                                  title="Test-7 contract", value=Decimal(value), start_date=start, end_date=end,
                                  main_cpv=CPV, awarded_on=awarded_on)
    return cservices.create_contract(_user(actor), inp, cservices.TermsInput(**terms))


def _invoice(contract: Contract, amount: str, received_on: dt.date, number: str | None = None,
             actor: str = FIN_KUP, milestone_id: int | None = None) -> Invoice:
    number = number or f"T7-{next(_numbers)}"
    inp = services.InvoiceInput(number, Decimal(amount), received_on, e_invoice_ref=f"EINV-{number}",
                                milestone_id=milestone_id)
    return services.record_invoice(_user(actor), contract, inp)


def _pay(inv: Invoice, day: dt.date, amount: str, actor: str = FIN_KUP, reference: str | None = None) -> Payment:
    return services.record_payment(_user(actor), inv, day, Decimal(amount), reference)


def _simple(amount: str, rate_percent: str, days: int) -> Decimal:
    """Simple interest, unrounded: amount × rate % × days / 365."""
    return Decimal(amount) * Decimal(rate_percent) / Decimal(100) * Decimal(days) / Decimal(365)


def _ms(title: str, share: str | None = None, fixed: str | None = None, trigger=MilestoneTrigger.DELIVERY,
        trigger_date: dt.date | None = D(2026, 3, 2), offset: int = 0, day_type=DayType.CALENDAR):
    return cservices.MilestoneInput(title, trigger, share_percent=Decimal(share) if share else None,
                                    fixed_amount=Decimal(fixed) if fixed else None, trigger_date=trigger_date,
                                    offset_days=offset, day_type=day_type)


# The ECB reference rates of the seeded table (srpp/payments/data/reference_rates.yaml) used below.
RATES_2025 = calc.Rates({D(2025, 1, 1): Decimal("3.15"), D(2025, 7, 1): Decimal("2.15")})


# --- 2. due dates ---------------------------------------------------------------------------------------

CLOCK = [
    # received, acceptance_days, accepted_on, clock start
    (D(2026, 5, 4), None, None, D(2026, 5, 4)),  # no acceptance procedure: from receipt
    (D(2026, 5, 4), None, D(2026, 5, 20), D(2026, 5, 4)),  # an acceptance date alone changes nothing
    (D(2026, 5, 4), 20, None, D(2026, 5, 24)),  # not yet accepted: receipt + the days allowed
    (D(2026, 5, 4), 20, D(2026, 5, 10), D(2026, 5, 10)),  # accepted within the period: from acceptance
    (D(2026, 5, 4), 20, D(2026, 5, 4), D(2026, 5, 4)),  # accepted on receipt
    (D(2026, 5, 4), 20, D(2026, 6, 1), D(2026, 5, 24)),  # acceptance overran its 20 days (PAY-04): capped
    (D(2026, 5, 4), 0, None, D(2026, 5, 4)),
]


@pytest.mark.parametrize(("received", "acceptance_days", "accepted_on", "start"), CLOCK)
def test_clock_start(received, acceptance_days, accepted_on, start):
    assert calc.clock_start(received, acceptance_days, accepted_on) == start


DUE_DATES = [
    # received, term, keyword arguments, due date
    (D(2026, 3, 2), 30, {}, D(2026, 4, 1)),  # receipt + 30 calendar days
    (D(2026, 3, 5), 30, {}, D(2026, 4, 7)),  # 4 April Saturday, 6 April Easter Monday
    (D(2026, 5, 4), 30, {"acceptance_days": 20}, D(2026, 6, 23)),  # 24 May + 30
    (D(2026, 5, 4), 30, {"acceptance_days": 20, "country": "LV"}, D(2026, 6, 25)),  # 23-24 June off in LV
    (D(2026, 5, 4), 30, {"acceptance_days": 20, "accepted_on": D(2026, 5, 10)}, D(2026, 6, 9)),
    (D(2026, 3, 2), 30, {"paused_days": 10}, D(2026, 4, 13)),  # 11 April Saturday → Monday
    (D(2026, 3, 2), 30, {"paused_days": 36}, D(2026, 5, 7)),
    (D(2026, 3, 2), 45, {}, D(2026, 4, 16)),  # a justified 45-day term
    (D(2026, 3, 2), 60, {}, D(2026, 5, 4)),  # 1 May Friday (holiday), weekend → 4 May …
    (D(2026, 3, 2), 60, {"country": "LV"}, D(2026, 5, 5)),  # … which is a holiday in Latvia
]


@pytest.mark.parametrize(("received", "term", "kw", "due"), DUE_DATES)
def test_due_date(received, term, kw, due):
    assert calc.due_date(received, term, **kw) == due


def test_invoice_due_dates_follow_the_contract(ctx):
    plain = _contract()
    assert _invoice(plain, "100.00", D(2026, 3, 5)).due_date == D(2026, 4, 7)

    long_term = _contract(payment_term_days=45, payment_term_justification="Seasonal EU co-financing cycle")
    assert _invoice(long_term, "100.00", D(2026, 3, 2)).due_date == D(2026, 4, 16)

    acc = _contract(acceptance_days=20)
    inv = _invoice(acc, "100.00", D(2026, 5, 4))
    assert inv.due_date == D(2026, 6, 23)  # not yet accepted: 4 May + 20 + 30
    services.accept(_user(FIN_KUP), inv, D(2026, 5, 10))
    assert inv.due_date == D(2026, 6, 9)  # accepted on 10 May: + 30
    with pytest.raises(DomainError, match="before the invoice was received"):
        services.accept(_user(FIN_KUP), inv, D(2026, 5, 3))
    assert inv.accepted_on == D(2026, 5, 10)


# --- 3. interest and compensation ---------------------------------------------------------------------------

def test_rate_table_is_seeded_with_the_ecb_rates(ctx):
    table = services.rates()
    assert table.margin == Decimal(8)
    assert table.reference(D(2025, 6, 30)) == Decimal("3.15")
    assert table.reference(D(2025, 7, 1)) == Decimal("2.15")
    assert table.statutory(D(2024, 8, 1)) == Decimal("12.25")  # 4.25 + 8 (the Irish example of PAY-06)


INTEREST = [
    # (label, amount, due, payments, as_of, expected: the hand arithmetic, expected rounded to cents)
    ("paid after the half-year change", "10000.00", D(2025, 6, 20), [(D(2025, 7, 15), "10000.00")], D(2025, 7, 15),
     # 21–30 June: 10 days at 3.15 + 8 = 11.15 %; 1–15 July: 15 days at 2.15 + 8 = 10.15 %
     _simple("10000.00", "11.15", 10) + _simple("10000.00", "10.15", 15),  # (11 150 + 15 225) / 365 = 72.2603
     "72.26"),
    ("unpaid: accrues to as_of", "10000.00", D(2025, 6, 20), [], D(2025, 7, 15),
     _simple("10000.00", "11.15", 10) + _simple("10000.00", "10.15", 15), "72.26"),
    ("partial payments", "10000.00", D(2025, 6, 20),
     [(D(2025, 6, 25), "4000.00"), (D(2025, 7, 10), "6000.00")], D(2025, 7, 10),
     # 21–25 June on 10 000 (the payment day counts for the 4 000 it pays), 26–30 June on 6 000 at 11.15 %,
     # 1–10 July on 6 000 at 10.15 %: (5 575 + 3 345 + 6 090) / 365 = 41.1233
     _simple("10000.00", "11.15", 5) + _simple("6000.00", "11.15", 5) + _simple("6000.00", "10.15", 10),
     "41.12"),
    ("a payment on the due day reduces the overdue amount", "10000.00", D(2025, 6, 20),
     [(D(2025, 6, 20), "2000.00"), (D(2025, 6, 30), "8000.00")], D(2025, 6, 30),
     _simple("8000.00", "11.15", 10), "24.44"),  # 8 920 / 365 = 24.4384
    ("paid on the due day", "10000.00", D(2025, 6, 20), [(D(2025, 6, 20), "10000.00")], D(2025, 6, 20),
     Decimal(0), "0.00"),
    ("one day late", "10000.00", D(2025, 6, 20), [], D(2025, 6, 21), _simple("10000.00", "11.15", 1), "3.05"),
    ("rounded once at the end, not per day", "100.00", D(2025, 6, 20), [], D(2025, 6, 30),
     _simple("100.00", "11.15", 10), "0.31"),  # 0.30548; per-day rounding would give 10 × 0.03 = 0.30
]


@pytest.mark.parametrize(("label", "amount", "due", "payments", "as_of", "exact", "expected"), INTEREST,
                         ids=[row[0] for row in INTEREST])
def test_interest_worked_examples(label, amount, due, payments, as_of, exact, expected):
    assert calc.cents(exact) == Decimal(expected)
    pays = [(d, Decimal(v)) for d, v in payments]
    assert calc.interest(Decimal(amount), due, pays, as_of, RATES_2025) == Decimal(expected)


def test_interest_rounds_half_up():
    # 150.00 at 2.95 + 8 = 10.95 % for one day: 150 × 0.1095 / 365 = 0.045 exactly → 0.05 (half-even: 0.04)
    rates = calc.Rates({D(2025, 1, 1): Decimal("2.95")})
    assert _simple("150.00", "10.95", 1) == Decimal("0.045")
    assert calc.interest(Decimal("150.00"), D(2025, 3, 3), [], D(2025, 3, 4), rates) == Decimal("0.05")
    assert calc.cents(Decimal("0.045")) == Decimal("0.05") and calc.cents(Decimal("2.675")) == Decimal("2.68")


def test_half_year_without_a_rate_uses_the_latest_earlier_one():
    rates = calc.Rates({D(2025, 1, 1): Decimal("3.15")})  # no row for 2025 H2
    assert rates.reference(D(2025, 8, 1)) == Decimal("3.15")
    assert rates.reference(D(2027, 2, 1)) == Decimal("3.15")
    # 1 000.00 due 31 July 2025, paid 10 August: 10 days at 3.15 + 8 = 11.15 % → 11 150 / 36 500 = 0.3055 … × 10
    expected = _simple("1000.00", "11.15", 10)
    assert calc.cents(expected) == Decimal("3.05")
    assert calc.interest(Decimal("1000.00"), D(2025, 7, 31), [(D(2025, 8, 10), Decimal("1000.00"))], D(2025, 8, 10),
                         rates) == Decimal("3.05")


def test_no_rate_at_all_raises():
    rates = calc.Rates({D(2025, 1, 1): Decimal("3.15")})
    with pytest.raises(LookupError):
        rates.reference(D(2024, 12, 31))
    with pytest.raises(LookupError):
        calc.interest(Decimal("100.00"), D(2024, 12, 1), [], D(2024, 12, 5), rates)
    assert calc.interest(Decimal("100.00"), D(2024, 12, 1), [], D(2024, 12, 1), rates) == Decimal("0.00")


def test_service_interest_and_compensation(ctx):
    """The stored figures, with the seeded rate table: 10 000.00 received 21 May 2025, due 20 June."""
    c = _contract()
    late = _invoice(c, "10000.00", D(2025, 5, 21))
    assert late.due_date == D(2025, 6, 20)
    services.recompute(late, D(2025, 7, 15))  # unpaid on 15 July
    assert (late.state, late.days_late, late.interest, late.compensation) == (
        InvoiceState.LATE, 25, Decimal("72.26"), Decimal("40.00"))
    _pay(late, D(2025, 7, 15), "10000.00")
    assert (late.state, late.paid_on, late.days_to_pay, late.days_late) == (
        InvoiceState.PAID_LATE, D(2025, 7, 15), 55, 25)  # day 1 = 22 May
    assert (late.interest, late.compensation) == (Decimal("72.26"), Decimal("40.00"))

    partial = _invoice(c, "10000.00", D(2025, 5, 21))
    _pay(partial, D(2025, 6, 25), "4000.00")
    _pay(partial, D(2025, 7, 10), "6000.00")
    assert partial.interest == calc.cents(_simple("10000.00", "11.15", 5) + _simple("6000.00", "11.15", 5)
                                          + _simple("6000.00", "10.15", 10)) == Decimal("41.12")
    assert partial.compensation == Decimal("40.00")  # once per late invoice, not per late payment

    on_time = _invoice(c, "10000.00", D(2025, 5, 21))
    _pay(on_time, D(2025, 6, 1), "5000.00")
    _pay(on_time, D(2025, 6, 20), "5000.00")
    assert (on_time.state, on_time.days_late, on_time.interest, on_time.compensation) == (
        InvoiceState.PAID, 0, Decimal("0.00"), Decimal("0.00"))


def test_service_stores_zero_interest_without_any_rate(ctx):
    c = _contract()
    inv = _invoice(c, "10000.00", D(2025, 5, 21))
    db.session.execute(delete(ReferenceRate))
    services.recompute(inv, D(2025, 7, 15))
    assert (inv.state, inv.interest, inv.compensation) == (InvoiceState.LATE, Decimal("0.00"), Decimal("40.00"))


# --- 4. contract terms and milestone schedules ------------------------------------------------------------

TERMS = [
    ({}, None),
    ({"payment_term_days": 61, "payment_term_justification": "Agreed"}, "never exceed 60 days"),
    ({"payment_term_days": 31}, "over 30 days needs a written objective justification"),
    ({"payment_term_days": 60, "payment_term_justification": "   "}, "over 30 days needs"),
    ({"payment_term_days": 45, "payment_term_justification": "Public health-care entity"}, None),
    ({"payment_term_days": 60, "payment_term_justification": "Public health-care entity"}, None),
    ({"payment_term_days": 0}, "Give the payment term"),
    ({"acceptance_days": 30}, None),
    ({"acceptance_days": 31}, "at most 30 days unless the contract records a justification"),
    ({"acceptance_days": 45, "acceptance_justification": "Agreed in the tender documents"}, None),
    ({"acceptance_days": -1}, "cannot be negative"),
    ({"advance_percent": Decimal("100.01")}, "between 0 and 100"),
]


@pytest.mark.parametrize(("terms", "refusal"), TERMS)
def test_contract_terms(ctx, terms, refusal):
    before = _count(Contract)
    if refusal:
        with pytest.raises(DomainError, match=refusal):
            _contract(**terms)
        assert _count(Contract) == before
    else:
        c = _contract(**terms)
        assert _count(Contract) == before + 1
        assert c.payment_term_days == terms.get("payment_term_days", 30)
        assert c.acceptance_days == terms.get("acceptance_days")


def test_update_terms_refused_changes_nothing(ctx):
    c = _contract()
    with pytest.raises(DomainError, match="never exceed 60"):
        cservices.update_terms(_user(FIN_KUP), c, cservices.TermsInput(payment_term_days=90,
                                                                       payment_term_justification="x"))
    assert c.payment_term_days == 30
    inv = _invoice(c, "100.00", D(2026, 3, 2))
    cservices.update_terms(_user(FIN_KUP), c, cservices.TermsInput(payment_term_days=45,
                                                                   payment_term_justification="Seasonal"))
    assert inv.due_date == D(2026, 4, 16)  # the invoices follow the new term


SCHEDULES = [
    # milestones as (share, fixed) on a contract of 1 000.00; the refusal, or the allocated amounts
    ([("50", None), ("50", None)], None, ["500.00", "500.00"]),
    ([("50", None), ("40", None)], "The shares add up to 90 %", None),
    ([("33.3333", None), ("33.3333", None), ("33.3335", None)], "The shares add up to 100.0001 %", None),
    ([("33.3333", None), ("33.3333", None), ("33.3333", None)], "The shares add up to 99.9999 %", None),
    ([("33.3333", None), ("33.3333", None), ("33.3334", None)], None, ["333.33", "333.33", "333.34"]),
    ([("33.3333", None)] * 3 + [("0.0001", None)], None, ["333.33", "333.33", "333.33", "0.01"]),
    ([(None, "600.00"), (None, "300.00")], "must add up to the contract value", None),
    ([(None, "600.00"), (None, "400.00")], None, ["600.00", "400.00"]),
    ([(None, "250.00"), ("37.5", None), ("37.5", None)], None, ["250.00", "375.00", "375.00"]),
    ([(None, "250.00"), ("50", None), ("50", None)], "they must add up to 75 %", None),
    ([(None, "1000.00"), ("10", None)], "leave nothing for the shares", None),
    ([("50", "500.00"), ("50", None)], "either a share", None),
    ([("0", None), ("100", None)], "more than 0 and at most 100", None),
    ([], "at least one milestone", None),
]


@pytest.mark.parametrize(("items", "refusal", "amounts"), SCHEDULES)
def test_schedule_rules(ctx, items, refusal, amounts):
    c = _contract(value="1000.00")
    inputs = [_ms(f"M{n}", share, fixed) for n, (share, fixed) in enumerate(items, start=1)]
    if refusal:
        with pytest.raises(DomainError, match=refusal):
            cservices.set_schedule(_user(FIN_KUP), c, inputs)
        assert c.milestones == []
    else:
        ms = cservices.set_schedule(_user(FIN_KUP), c, inputs)
        assert [m.amount for m in ms] == [Decimal(a) for a in amounts]
        assert sum(m.amount for m in ms) == c.value


ALLOCATE = [
    # value, shares, fixed amounts, amounts (the last share-based one takes the remainder)
    ("1000.00", ["33.3333", "33.3333", "33.3334"], [None] * 3, ["333.33", "333.33", "333.34"]),
    ("100.00", ["33.3333", "33.3333", "33.3334"], [None] * 3, ["33.33", "33.33", "33.34"]),
    # 10 000.01 × 33.3333 % = 3 333.3299… → 3 333.33 twice; the last: 10 000.01 − 6 666.66
    ("10000.01", ["33.3333", "33.3333", "33.3334"], [None] * 3, ["3333.33", "3333.33", "3333.35"]),
    ("1000.00", ["33.3333"] * 3 + ["0.0001"], [None] * 4, ["333.33", "333.33", "333.33", "0.01"]),
    ("999.99", ["50", "50"], [None, None], ["500.00", "499.99"]),  # 499.995 rounds half up
    ("1000.01", [None, "37.5", "37.5"], ["250.00", None, None], ["250.00", "375.00", "375.01"]),
    ("1000.00", [None, None], ["600.00", "400.00"], ["600.00", "400.00"]),
]


@pytest.mark.parametrize(("value", "shares", "fixed", "expected"), ALLOCATE)
def test_allocate_adds_up_exactly(value, shares, fixed, expected):
    out = calc.allocate(Decimal(value), [Decimal(s) if s else None for s in shares],
                        [Decimal(f) if f else None for f in fixed])
    assert out == [Decimal(e) for e in expected]
    assert sum(out) == Decimal(value)


def test_amendments_keep_history_and_warn_above_de_minimis(ctx):
    c = _contract(value="10000.00")
    cservices.set_schedule(_user(FIN_KUP), c, [_ms("First", "50"), _ms("Second", "50")])
    m1, m2 = c.milestones

    assert cservices.amend_value(_user(FIN_KUP), c, Decimal("10500.00"), "More hours") is None  # +5 %
    assert (m1.amount, m2.amount) == (Decimal("5250.00"), Decimal("5250.00"))
    change = m1.changes[-1]
    assert [Decimal(v) for v in change.changes["amount"]] == [Decimal("5000.00"), Decimal("5250.00")]
    assert change.reason == "More hours" and set(change.changes) == {"amount"}

    warning = cservices.amend_value(_user(FIN_KUP), c, Decimal("11100.00"), "Even more hours")  # +11 % in all
    assert warning and "de minimis" in warning and "11.0 %" in warning

    c2 = _contract(value="10000.00")
    assert "de minimis" in cservices.amend_value(_user(FIN_KUP), c2, Decimal("11100.00"), "One step")
    assert cservices.amend_value(_user(FIN_KUP), c2, Decimal("10000.00"), "Back") is None
    assert cservices.amend_value(_user(FIN_KUP), c2, Decimal("8900.00"), "Cut") is not None  # −11 %

    # a milestone amendment records old → new
    before = _count(MilestoneChange)
    cservices.set_schedule(_user(FIN_KUP), c, [_ms("First", "40"), _ms("Second, renamed", "60")], reason="Re-plan")
    assert _count(MilestoneChange) == before + 2
    first = m1.changes[-1].changes
    assert [Decimal(v) for v in first["share_percent"]] == [Decimal(50), Decimal(40)]
    assert [Decimal(v) for v in first["amount"]] == [Decimal("5550.00"), Decimal("4440.00")]
    assert m2.changes[-1].changes["title"] == ["Second", "Second, renamed"]
    assert m2.amount == Decimal("6660.00") and m1.amount + m2.amount == c.value


def test_planned_dates_from_triggers_with_working_days(ctx):
    c = _contract(value="1000.00", awarded_on=D(2026, 12, 18), start=D(2026, 12, 18))  # a Friday
    items = [
        _ms("Advance", "20", trigger=MilestoneTrigger.SIGNING, trigger_date=None, offset=5,
            day_type=DayType.WORKING),  # 21, 22, 23, (24–27 off) 28, 29 December
        _ms("Signing + 6 calendar days", "20", trigger=MilestoneTrigger.SIGNING, trigger_date=None, offset=6),
        _ms("Delivery", "20", trigger_date=D(2026, 2, 13), offset=1, day_type=DayType.WORKING),
        _ms("Period end", "20", trigger=MilestoneTrigger.PERIOD_END, trigger_date=D(2026, 10, 31)),
        _ms("Acceptance", "20", trigger=MilestoneTrigger.ACCEPTANCE, trigger_date=None, offset=10),
    ]
    ms = cservices.set_schedule(_user(FIN_KUP), c, items)
    assert [m.planned_date for m in ms] == [D(2026, 12, 29), D(2026, 12, 28), D(2026, 2, 17), D(2026, 11, 3), None]


# --- 4. invoices and payments --------------------------------------------------------------------------------

def test_invoice_refusals(ctx):
    c = _contract()
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    before = _count(Invoice)
    cases = [
        (services.InvoiceInput("T7-R1", Decimal("100.00"), tomorrow, "E1"), "cannot be received in the future"),
        (services.InvoiceInput("T7-R2", Decimal("100.005"), D(2026, 3, 2), "E2"), "two decimals"),
        (services.InvoiceInput("T7-R3", Decimal("0"), D(2026, 3, 2), "E3"), "more than zero"),
        (services.InvoiceInput("T7-R4", Decimal("100.00"), D(2026, 3, 2), " "), "e-invoice reference"),
        (services.InvoiceInput(" ", Decimal("100.00"), D(2026, 3, 2), "E5"), "Give the invoice number"),
    ]
    for inp, refusal in cases:
        with pytest.raises(DomainError, match=refusal):
            services.record_invoice(_user(FIN_KUP), c, inp)
    assert _count(Invoice) == before


def test_duplicate_invoice_number_per_supplier(ctx):
    c1, c2 = _contract(), _contract()  # the same supplier
    other = _contract(supplier=COMPANY)
    _invoice(c1, "100.00", D(2026, 3, 2), number="T7-DUP-1")
    before = _count(Invoice)
    for contract, number in ((c1, "T7-DUP-1"), (c2, "T7-DUP-1"), (c2, "  T7-DUP-1 ")):
        with pytest.raises(DomainError, match="already has an invoice numbered T7-DUP-1"):
            _invoice(contract, "100.00", D(2026, 3, 3), number=number)
    assert _count(Invoice) == before
    assert _invoice(other, "100.00", D(2026, 3, 3), number="T7-DUP-1").id  # another supplier may
    assert _count(Invoice) == before + 1


PAYMENT_REFUSALS = [
    (D(2026, 8, 31), "100.00", r"before its invoice was received \(2026-09-01\)"),
    (D(2026, 9, 15), "700.01", r"larger than the amount outstanding \(700.00\)"),
    (dt.date.today() + dt.timedelta(days=1), "100.00", "cannot be in the future"),
    (D(2026, 9, 15), "100.001", "two decimals"),
    (D(2026, 9, 15), "0.00", "more than zero"),
    (D(2026, 9, 15), "-5.00", "more than zero"),
    (None, "100.00", "Give the payment date"),
]


@pytest.mark.parametrize(("paid_on", "amount", "refusal"), PAYMENT_REFUSALS)
def test_payment_refusals_change_nothing(ctx, paid_on, amount, refusal):
    inv = _invoice(_contract(), "1000.00", D(2026, 9, 1))
    _pay(inv, D(2026, 9, 10), "300.00")
    before = (_count(Payment), inv.paid_amount, inv.state, inv.paid_on, inv.version)
    with pytest.raises(DomainError, match=refusal):
        services.record_payment(_user(FIN_KUP), inv, paid_on, Decimal(amount))
    db.session.flush()
    assert (_count(Payment), inv.paid_amount, inv.state, inv.paid_on, inv.version) == before
    _pay(inv, D(2026, 9, 15), "700.00")  # the outstanding amount exactly
    assert (inv.state, inv.paid_amount, inv.paid_on) == (InvoiceState.PAID, Decimal("1000.00"), D(2026, 9, 15))


def test_duplicate_payment_reference_refused_clearly(ctx):
    inv = _invoice(_contract(), "1000.00", D(2026, 9, 1))
    _pay(inv, D(2026, 9, 10), "300.00", reference="PAY-1")
    before = _count(Payment)
    with pytest.raises(DomainError, match="PAY-1"):
        _pay(inv, D(2026, 9, 11), "300.00", reference="PAY-1")
    assert _count(Payment) == before and inv.paid_amount == Decimal("300.00")


def test_partial_payments_then_the_rest(ctx):
    c = _contract()
    cservices.set_schedule(_user(FIN_KUP), c, [_ms("Only", "100")])
    inv = _invoice(c, "1000.00", D(2026, 9, 1), milestone_id=c.milestones[0].id)  # due 1 October
    _pay(inv, D(2026, 9, 20), "400.00")
    assert (inv.paid_amount, inv.paid_on, inv.days_to_pay, inv.outstanding) == (
        Decimal("400.00"), None, None, Decimal("600.00"))
    assert c.milestones[0].state == MilestoneState.PLANNED
    _pay(inv, D(2026, 9, 25), "600.00")
    assert (inv.state, inv.paid_on, inv.days_to_pay, inv.days_late) == (InvoiceState.PAID, D(2026, 9, 25), 24, 0)
    assert (c.milestones[0].state, c.milestones[0].met_on) == (MilestoneState.MET, D(2026, 9, 25))

    late = _invoice(c, "1000.00", D(2026, 9, 1))
    _pay(late, D(2026, 9, 20), "400.00")
    _pay(late, D(2026, 10, 5), "600.00")
    assert (late.state, late.paid_on, late.days_to_pay, late.days_late) == (
        InvoiceState.PAID_LATE, D(2026, 10, 5), 34, 4)
    # 600.00 overdue 2–5 October at 2.15 + 8 = 10.15 %: 600 × 0.1015 × 4 / 365 = 0.6674
    assert late.interest == calc.cents(_simple("600.00", "10.15", 4)) == Decimal("0.67")
    assert late.compensation == Decimal("40.00")


def test_disputed_invoice_stops_the_clock(ctx):
    fin = _user(FIN_KUP)
    inv = _invoice(_contract(), "1000.00", D(2026, 9, 1))
    assert inv.due_date == D(2026, 10, 1)
    with pytest.raises(DomainError, match="reason"):
        services.dispute(fin, inv, D(2026, 9, 10), " ")
    services.dispute(fin, inv, D(2026, 9, 10), "Hours do not match the timesheets")
    services.recompute(inv, D(2026, 11, 20))  # well past the original due date
    assert (inv.state, inv.days_late, inv.interest, inv.compensation) == (
        InvoiceState.DISPUTED, 0, Decimal("0.00"), Decimal("0.00"))
    with pytest.raises(DomainError, match="already disputed"):
        services.dispute(fin, inv, D(2026, 9, 11), "Again")

    services.resolve_dispute(fin, inv, D(2026, 9, 30))  # 20 days in dispute
    assert inv.due_date == D(2026, 10, 21)  # 1 October + 20
    services.recompute(inv, D(2026, 10, 21))
    assert (inv.state, inv.days_late) == (InvoiceState.DUE, 0)
    services.recompute(inv, D(2026, 10, 23))
    assert (inv.state, inv.days_late, inv.compensation) == (InvoiceState.LATE, 2, Decimal("40.00"))
    _pay(inv, D(2026, 10, 21), "1000.00")
    assert (inv.state, inv.days_late, inv.interest, inv.compensation, inv.days_to_pay) == (
        InvoiceState.PAID, 0, Decimal("0.00"), Decimal("0.00"), 50)


# --- 5. the daily scan --------------------------------------------------------------------------------------

def _notes(invoice_ids: list[int]) -> list[tuple[int, str]]:
    keys = [f"invoice-{kind}-{i}" for i in invoice_ids for kind in ("due", "late")]
    return sorted((r.user_id, r.dedupe_key) for r in db.session.execute(
        select(Notification.user_id, Notification.dedupe_key).where(Notification.dedupe_key.in_(keys))))


def test_daily_scan(ctx):
    kup = municipality_by_code("KUP")
    second = User(email="finance2.kup@test.srpp.lt", password_hash="-", full_name="Second finance officer")
    second.memberships.append(Membership(role=Role.FINANCE_OFFICER, municipality_id=kup.id))
    db.session.add(second)
    c = _contract(value="3000.00")
    due_soon = _invoice(c, "100.00", D(2026, 10, 1))  # due 31 Oct (Sat) → 3 Nov (2 Nov is a holiday)
    late = _invoice(c, "200.00", D(2026, 9, 1))  # due 1 October
    later = _invoice(c, "300.00", D(2026, 10, 20))  # due 19 November
    paid = _invoice(c, "400.00", D(2026, 9, 1))
    _pay(paid, D(2026, 9, 30), "400.00")
    cservices.set_schedule(_user(FIN_KUP), c, [_ms("Late", "30", trigger_date=D(2026, 10, 20)),
                                              _ms("Due", "30", trigger_date=D(2026, 11, 3)),
                                              _ms("Planned", "40", trigger_date=D(2026, 12, 15))])
    ids = [due_soon.id, late.id, later.id, paid.id]
    assert _notes(ids) == []

    counts = services.daily_scan(D(2026, 10, 30))
    assert (due_soon.state, late.state, later.state, paid.state) == (
        InvoiceState.DUE, InvoiceState.LATE, InvoiceState.RECEIVED, InvoiceState.PAID)
    assert late.days_late == 29
    officers = sorted([_user(FIN_KUP).id, second.id])
    assert _notes(ids) == sorted([(u, f"invoice-due-{due_soon.id}") for u in officers]
                                 + [(u, f"invoice-late-{late.id}") for u in officers])
    assert counts["notified"] >= 4
    assert [m.state for m in c.milestones] == [MilestoneState.LATE, MilestoneState.DUE, MilestoneState.PLANNED]
    note = db.session.scalar(select(Notification).where(Notification.dedupe_key == f"invoice-late-{late.id}",
                                                        Notification.user_id == second.id))
    assert str(late.id) in note.link and late.number in note.subject

    before = _count(Notification)
    again = services.daily_scan(D(2026, 10, 30))  # idempotent
    assert again["notified"] == 0 and _count(Notification) == before

    # a milestone moved to a later date is no longer late
    cservices.set_schedule(_user(FIN_KUP), c, [_ms("Late", "30", trigger_date=D(2026, 12, 1)),
                                              _ms("Due", "30", trigger_date=D(2026, 11, 3)),
                                              _ms("Planned", "40", trigger_date=D(2026, 12, 15))])
    services.daily_scan(D(2026, 10, 30))
    assert c.milestones[0].state == MilestoneState.PLANNED
    assert _notes(ids) == sorted([(u, f"invoice-due-{due_soon.id}") for u in officers]
                                 + [(u, f"invoice-late-{late.id}") for u in officers])  # nobody else


# --- 6. the half-year figures ----------------------------------------------------------------------------------

RATE_2023H1 = "10.50"  # 2.50 + 8
RATE_2023H2 = "12.00"  # 4.00 + 8


def _half_year_data():
    """Kupiškis, 2023 H1, term 30 days. Invoices received 2 Jan 2023 (due 1 Feb) and paid after 5 … 90 days,
    one partly paid and open at the end of June (due 1 June), one due 14 June and paid in July, one
    disputed; work stoppages on 10 Feb, 1 Apr and 30 Jun (in) and 31 Dec 2022, 1 Jul 2023 (out)."""
    seo = _contract(supplier=SEO_SUPPLIER, value="100000.00")
    other = _contract(supplier=COMPANY, value="100000.00")
    received = D(2023, 1, 2)
    for days, contract, amount in [(5, seo, "1000.00"), (20, seo, "2000.00"), (30, other, "3000.00"),
                                   (31, seo, "3650.00"), (45, other, "3650.00"), (60, seo, "7300.00"),
                                   (61, other, "3650.00"), (90, seo, "1000.00")]:
        inv = _invoice(contract, amount, received)
        _pay(inv, received + dt.timedelta(days=days), amount)
        assert inv.days_to_pay == days
    open_one = _invoice(seo, "3650.00", D(2023, 5, 2))  # due 1 June
    _pay(open_one, D(2023, 6, 20), "1650.00")
    paid_july = _invoice(other, "5000.00", D(2023, 5, 15))  # due 14 June
    _pay(paid_july, D(2023, 7, 14), "5000.00")
    disputed = _invoice(seo, "2500.00", D(2023, 3, 1))
    services.dispute(_user(FIN_KUP), disputed, D(2023, 3, 10), "Services not delivered in full")
    services.recompute(open_one, D(2023, 6, 30))  # its figures as at the end of the half-year
    for contract, day in [(seo, D(2023, 2, 10)), (other, D(2023, 4, 1)), (seo, D(2023, 6, 30)),
                          (seo, D(2022, 12, 31)), (seo, D(2023, 7, 1))]:
        cservices.report_stoppage(_user(FIN_KUP), contract, day, "Unpaid invoices")
    db.session.flush()
    return open_one, paid_july, disputed


# Interest on the invoices due in 2023 H1 (the rate table: 2.50 % from 1 Jan 2023, 4.00 % from 1 Jul):
INTEREST_2023H1 = {
    "31 days": _simple("3650.00", RATE_2023H1, 1),  # 1.05
    "45 days": _simple("3650.00", RATE_2023H1, 15),  # 15.75
    "60 days": _simple("7300.00", RATE_2023H1, 30),  # 63.00
    "61 days": _simple("3650.00", RATE_2023H1, 31),  # 32.55
    "90 days": _simple("1000.00", RATE_2023H1, 60),  # 17.26
    # 2–20 June on 3 650, 21–30 June on 2 000
    "open": _simple("3650.00", RATE_2023H1, 19) + _simple("2000.00", RATE_2023H1, 10),  # 25.70
    # 15–30 June at 10.5 %, 1–14 July at 12 %
    "paid in July": _simple("5000.00", RATE_2023H1, 16) + _simple("5000.00", RATE_2023H2, 14),  # 46.03
}
SEO_INVOICES = ("31 days", "60 days", "90 days", "open")


def test_half_year_invoice_figures(ctx):
    open_one, paid_july, disputed = _half_year_data()
    assert open_one.interest == calc.cents(INTEREST_2023H1["open"]) == Decimal("25.70")
    assert paid_july.interest == calc.cents(INTEREST_2023H1["paid in July"]) == Decimal("46.03")
    assert [calc.cents(v) for v in INTEREST_2023H1.values()] == [Decimal(v) for v in (
        "1.05", "15.75", "63.00", "32.55", "17.26", "25.70", "46.03")]
    assert disputed.state == InvoiceState.DISPUTED and disputed.interest == Decimal("0.00")


def test_half_year_figures(ctx):
    _half_year_data()
    kup = municipality_by_code("KUP")
    f = figures.compute(D(2023, 1, 1), D(2023, 6, 30), municipality_id=kup.id)
    # paid in the period: 5, 20, 30, 31, 45, 60, 61, 90 days (the July payment is not in it)
    assert f.paid_count == 8
    assert f.avg_days == Decimal("42.8")  # 342 / 8 = 42.75
    assert f.median_days == Decimal("38.0")  # (31 + 45) / 2
    assert f.p90_days == Decimal("69.7")  # position 0.9 × 7 = 6.3: 61 + 0.3 × (90 − 61)
    assert (f.within_30, f.within_60, f.over_60) == (3, 3, 2)
    assert (f.share_30, f.share_60, f.share_over_60) == (Decimal("0.3750"), Decimal("0.3750"), Decimal("0.2500"))
    # due in the period: the eight (due 1 Feb), the open one (1 Jun), the one paid in July (14 Jun); the
    # disputed one has no due date while its clock stands still
    due = [1000, 2000, 3000, 3650, 3650, 7300, 3650, 1000, 3650, 5000]
    assert f.due_sum == Decimal(sum(due)) == Decimal("33900.00")
    assert f.unpaid_due_sum == Decimal(3650 - 1650 + 5000) == Decimal("7000.00")
    assert f.unpaid_share == (Decimal(7000) / Decimal(33900)).quantize(Decimal("0.0001")) == Decimal("0.2065")
    assert f.interest == sum(calc.cents(v) for v in INTEREST_2023H1.values()) == Decimal("201.34")
    assert f.late_count == 7 and f.compensation == Decimal("280.00")  # 7 × 40
    assert f.liability == Decimal("481.34")
    assert f.stoppages == 3

    assert figures.compute(D(2023, 7, 1), D(2023, 12, 31), municipality_id=kup.id).paid_count == 1  # July's

    by = {x.municipality_id: x for x in figures.compute(D(2023, 1, 1), D(2023, 6, 30), by_municipality=True)}
    assert by[kup.id].as_json() == f.as_json()


def test_half_year_figures_by_supplier_type(ctx):
    _half_year_data()
    kup = municipality_by_code("KUP").id
    seo = figures.compute(D(2023, 1, 1), D(2023, 6, 30), municipality_id=kup, supplier_type="seo")
    # SEO: paid after 5, 20, 31, 60, 90 days
    assert (seo.paid_count, seo.avg_days, seo.median_days) == (5, Decimal("41.2"), Decimal("31.0"))
    assert seo.p90_days == Decimal("78.0")  # position 0.9 × 4 = 3.6: 60 + 0.6 × 30
    assert (seo.within_30, seo.within_60, seo.over_60) == (2, 2, 1)
    assert (seo.due_sum, seo.unpaid_due_sum) == (Decimal("18600.00"), Decimal("2000.00"))
    assert seo.unpaid_share == Decimal("0.1075")  # 2 000 / 18 600 = 0.10753
    assert seo.interest == sum(calc.cents(INTEREST_2023H1[k]) for k in SEO_INVOICES) == Decimal("107.01")
    assert (seo.compensation, seo.stoppages) == (Decimal("160.00"), 2)

    other = figures.compute(D(2023, 1, 1), D(2023, 6, 30), municipality_id=kup, supplier_type="other")
    # other: 30, 45, 61 days
    assert (other.paid_count, other.avg_days, other.median_days) == (3, Decimal("45.3"), Decimal("45.0"))
    assert other.p90_days == Decimal("57.8")  # position 1.8: 45 + 0.8 × 16
    assert (other.within_30, other.within_60, other.over_60) == (1, 1, 1)
    assert (other.due_sum, other.unpaid_due_sum, other.unpaid_share) == (
        Decimal("15300.00"), Decimal("5000.00"), Decimal("0.3268"))
    assert other.interest == Decimal("94.33") and other.compensation == Decimal("120.00")
    assert other.stoppages == 1
    assert figures.SupplierKind.COMPANY not in figures.SEO_KINDS and figures.SupplierKind.SEO in figures.SEO_KINDS


# --- 7. reports ----------------------------------------------------------------------------------------------------

def test_report_workflow(ctx):
    _half_year_data()
    fin, kup = _user(FIN_KUP), municipality_by_code("KUP")
    current = calc.half_year(dt.date.today())[0]
    with pytest.raises(DomainError, match="has not ended"):
        reports.prepare(fin, kup, current)
    with pytest.raises(DomainError, match="1 January or 1 July"):
        reports.prepare(fin, kup, D(2023, 2, 1))

    report = reports.prepare(fin, kup, D(2023, 1, 1))
    assert report.state == ReportState.DRAFT and (report.period_start, report.period_end) == (
        D(2023, 1, 1), D(2023, 6, 30))
    assert (report.figures["paid_count"], report.figures["interest"], report.figures["unpaid_share"]) == (
        8, "201.34", "0.2065")
    with pytest.raises(DomainError, match="Only an approved report"):
        reports.publish(fin, report)
    with pytest.raises(DomainError, match="name of the approving officer"):
        reports.approve(fin, report, " ", "Head of Finance", D(2023, 7, 10))
    with pytest.raises(DomainError, match="role"):
        reports.approve(fin, report, "Ona Finansininkė", "", D(2023, 7, 10))
    with pytest.raises(DomainError, match="after the period"):
        reports.approve(fin, report, "Ona Finansininkė", "Head of Finance", D(2023, 6, 30))
    assert report.state == ReportState.DRAFT

    reports.approve(fin, report, "Ona Finansininkė", "Head of Finance", D(2023, 7, 10))
    assert (report.state, report.approver_name, report.approver_role) == (
        ReportState.APPROVED, "Ona Finansininkė", "Head of Finance")
    with pytest.raises(DomainError, match="already approved"):
        reports.prepare(fin, kup, D(2023, 1, 1))
    assert report not in reports.published()
    reports.publish(fin, report)
    assert report.state == ReportState.PUBLISHED and report in reports.published()
    with pytest.raises(PermissionDenied):
        reports.prepare(_user(FIN_BIR), kup, D(2023, 7, 1))
    assert _count(PaymentReport) >= 1


# --- 8. access --------------------------------------------------------------------------------------------------------

def test_finance_officer_cannot_touch_another_municipalitys_invoices(ctx):
    inv = _invoice(_contract(), "1000.00", D(2026, 9, 1))
    bir = _user(FIN_BIR)
    before = (_count(Invoice), _count(Payment))
    with pytest.raises(PermissionDenied):
        services.record_invoice(bir, inv.contract, services.InvoiceInput("T7-X", Decimal("1.00"), D(2026, 9, 1), "E"))
    with pytest.raises(PermissionDenied):
        services.record_payment(bir, inv, D(2026, 9, 10), Decimal("100.00"))
    with pytest.raises(PermissionDenied):
        services.accept(bir, inv, D(2026, 9, 2))
    with pytest.raises(PermissionDenied):
        services.dispute(bir, inv, D(2026, 9, 2), "Not ours")
    with pytest.raises(PermissionDenied):
        services.get_invoice(bir, inv.id)
    assert (_count(Invoice), _count(Payment)) == before
    assert services.get_invoice(_user(FIN_KUP), inv.id) is inv


def test_procurement_officer_cannot_record_invoices(ctx):
    rok = _contract(muni="ROK", actor="officer.rok@demo.srpp.lt")  # procurement officers enter contracts …
    with pytest.raises(PermissionDenied):  # … but only finance officers record invoices
        _invoice(rok, "100.00", D(2026, 9, 1), actor="officer.rok@demo.srpp.lt")
    assert _invoice(rok, "100.00", D(2026, 9, 1), actor="finance.rok@demo.srpp.lt").id


def test_seo_member_sees_only_its_own_invoices(ctx):
    seo_user = _user("seo@demo.srpp.lt")
    own = _invoice(_contract(supplier=SEO_SUPPLIER), "1000.00", D(2026, 11, 2))
    theirs = _invoice(_contract(supplier=COMPANY), "1000.00", D(2026, 11, 2))
    with pytest.raises(PermissionDenied):
        services.supplier_cashflow(seo_user, theirs.supplier_id)
    with pytest.raises(PermissionDenied):
        services.supplier_invoices(seo_user, theirs.supplier_id)
    with pytest.raises(PermissionDenied):
        services.get_invoice(seo_user, theirs.id)
    rows = services.supplier_cashflow(seo_user, own.supplier_id)
    assert own.number in [r.label for r in rows] and theirs.number not in [r.label for r in rows]
    assert own in services.supplier_invoices(seo_user, own.supplier_id)
    assert services.get_invoice(seo_user, own.id) is own
