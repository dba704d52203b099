"""Contract and invoice pages (srpp/contracts/views.py): the list, direct entry, the contract page with
its terms, milestones (history, refusals), invoices and stoppages, and the invoice page with acceptance,
disputes and payments. Everything a test needs is made through the services inside the test's
rolled-back transaction (the demo's own milestones and invoices may differ from day to day)."""

from __future__ import annotations

import datetime as dt
import html
import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from srpp.core.i18n import money

TODAY = dt.date.today()
ADMIN = "admin@demo.srpp.lt"
COUNCIL = "council@demo.srpp.lt"
SEO = "seo@demo.srpp.lt"
OFFICER_ROK = "officer.rok@demo.srpp.lt"
FINANCE_ROK = "finance.rok@demo.srpp.lt"
FINANCE_BIR = "finance.bir@demo.srpp.lt"
SEO_CODE = "990000001"  # VšĮ "Jautri širdis", seo@demo.srpp.lt is a member
OTHER_CODE = "990000008"


def _text(resp) -> str:
    """The page as plain text (tags dropped, entities decoded, whitespace collapsed)."""
    body = re.sub(r"<[^>]+>", " ", resp.get_data(as_text=True))
    return re.sub(r"\s+", " ", html.unescape(body))


def _user(ctx, email):
    from srpp.auth.models import User

    return ctx.scalar(select(User).where(User.email == email))


def _supplier(ctx, code):
    from srpp.orgs.models import Supplier

    return ctx.scalar(select(Supplier).where(Supplier.company_code == code))


def _make_contract(ctx, supplier_code=SEO_CODE, muni="ROK", title="Dienos centras (view test)",
                   value="12000.00", **terms):
    from srpp.contracts import services
    from srpp.orgs.services import municipality_by_code

    officer = _user(ctx, f"officer.{muni.lower()}@demo.srpp.lt")
    contract = services.create_contract(
        officer,
        services.ContractInput(municipality_id=municipality_by_code(muni).id,
                               supplier_id=_supplier(ctx, supplier_code).id, title=title, value=Decimal(value),
                               start_date=dt.date(2025, 1, 1), end_date=dt.date(2025, 12, 31),
                               main_cpv="85312100-0", awarded_on=dt.date(2024, 12, 20)),
        services.TermsInput(**terms))
    ctx.flush()
    return contract


def _schedule(ctx, contract, shares=("40", "60")):
    from srpp.contracts import services
    from srpp.contracts.models import MilestoneTrigger

    officer = _user(ctx, "officer.rok@demo.srpp.lt")
    items = [services.MilestoneInput(f"Etapas {n}", MilestoneTrigger.DELIVERY, share_percent=Decimal(s),
                                     trigger_date=dt.date(2025, 3 * n, 1), offset_days=10)
             for n, s in enumerate(shares, start=1)]
    services.set_schedule(officer, contract, items)
    ctx.flush()
    return contract.milestones


def _invoice(ctx, contract, number="VT-0001", amount="1000.00", received_on=dt.date(2025, 3, 3), milestone=None):
    from srpp.payments import services as payments

    finance = _user(ctx, FINANCE_ROK)
    inv = payments.record_invoice(finance, contract, payments.InvoiceInput(
        number=number, amount=Decimal(amount), received_on=received_on, e_invoice_ref="EINV-" + number,
        milestone_id=milestone.id if milestone else None))
    ctx.flush()
    return inv


def _invoice_row(ctx, number):
    from srpp.payments.models import Invoice

    ctx.expire_all()
    return ctx.scalar(select(Invoice).where(Invoice.number == number))


# --- who sees what -----------------------------------------------------------------------------------

@pytest.mark.parametrize("email, new_status", [(ADMIN, 200), (OFFICER_ROK, 200), (FINANCE_ROK, 200),
                                               (COUNCIL, 403), (SEO, 403)])
def test_pages_render_for_the_right_roles(client, as_user, ctx, email, new_status):
    contract = _make_contract(ctx)
    inv = _invoice(ctx, contract)
    as_user(email)
    listing = client.get("/contracts/?municipality=ROK")
    assert listing.status_code == 200
    assert f'href="/contracts/{contract.id}"' in listing.get_data(as_text=True)
    assert client.get("/contracts/new").status_code == new_status
    page = client.get(f"/contracts/{contract.id}")
    assert page.status_code == 200
    assert "Dienos centras (view test)" in _text(page)
    editor = email in (ADMIN, OFFICER_ROK, FINANCE_ROK)
    assert client.get(f"/contracts/{contract.id}/milestones").status_code == (200 if editor else 403)
    assert ("Edit the payment terms" in _text(page)) is editor
    recorder = email in (ADMIN, FINANCE_ROK)
    assert ("Record an invoice" in _text(page)) is recorder
    invoice_page = client.get(f"/invoices/{inv.id}")
    assert invoice_page.status_code == 200
    assert ("Record a payment" in _text(invoice_page)) is recorder


def test_anonymous_visitors_are_sent_to_the_login_page(client, ctx):
    contract = _make_contract(ctx)
    for url in ("/contracts/", "/contracts/new", f"/contracts/{contract.id}"):
        resp = client.get(url)
        assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_missing_contract_and_invoice_are_404(client, as_user, ctx):
    as_user(ADMIN)
    assert client.get("/contracts/999999999").status_code == 404
    assert client.get("/invoices/999999999").status_code == 404
    assert client.post("/invoices/999999999/payments", data={}).status_code == 404


def test_the_list_shows_counts_and_filters_by_municipality(client, as_user, ctx):
    from srpp.payments import services as payments

    contract = _make_contract(ctx)
    _schedule(ctx, contract)
    _invoice(ctx, contract, "VT-L1", received_on=TODAY - dt.timedelta(days=90))  # unpaid: late
    paid = _invoice(ctx, contract, "VT-L2", received_on=TODAY - dt.timedelta(days=10))
    payments.record_payment(_user(ctx, FINANCE_ROK), paid, TODAY, Decimal("1000.00"))
    _invoice(ctx, contract, "VT-L3", received_on=TODAY - dt.timedelta(days=2))  # open, not due yet
    ctx.flush()
    as_user(FINANCE_ROK)
    resp = client.get("/contracts/?municipality=ROK")
    row = re.search(rf'<tr id="contract-{contract.id}">.*?</tr>', resp.get_data(as_text=True), re.S).group(0)
    cells = [re.sub(r"<[^>]+>|\s+", " ", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
    # municipality, supplier, value, period, term, milestones, open, late
    assert cells[2] == money(Decimal("12000.00"))
    assert cells[4] == "30 days"
    assert cells[5:] == ["2", "2", "1"]
    other = client.get("/contracts/?municipality=BIR")
    assert f"contract-{contract.id}" not in other.get_data(as_text=True)


def test_a_supplier_member_sees_its_own_contract_only(client, as_user, ctx):
    own = _make_contract(ctx)
    other = _make_contract(ctx, supplier_code=OTHER_CODE, title="Transportas (view test)")
    as_user(SEO)
    resp = client.get(f"/contracts/{own.id}")
    assert resp.status_code == 200
    text = _text(resp)
    assert "Report a work stoppage" in text  # the supplier's members report stoppages
    assert "Record an invoice" not in text and "Edit the payment terms" not in text
    assert client.get(f"/contracts/{other.id}").status_code == 403
    listing = client.get("/contracts/?municipality=ROK").get_data(as_text=True)
    assert f"contract-{own.id}" in listing and f"contract-{other.id}" not in listing
    # the supplier reports a stoppage on its own contract, and cannot on another's
    resp = client.post(f"/contracts/{own.id}/stoppages", data={"started_on": (TODAY - dt.timedelta(days=3))
                                                                .isoformat(), "cause": "Neapmokėtos sąskaitos"})
    assert resp.status_code == 302
    ctx.expire_all()
    assert [(s.cause, s.reported_by_supplier) for s in own.stoppages] == [("Neapmokėtos sąskaitos", True)]
    assert client.post(f"/contracts/{other.id}/stoppages", data={"started_on": TODAY.isoformat(),
                                                                 "cause": "x"}).status_code == 403


def test_a_finance_officer_of_another_municipality_gets_403(client, as_user, ctx):
    contract = _make_contract(ctx)
    inv = _invoice(ctx, contract)
    as_user(FINANCE_BIR)
    assert client.get(f"/contracts/{contract.id}").status_code == 403
    assert client.get(f"/invoices/{inv.id}").status_code == 403
    data = {"number": "BIR-1", "amount": "10", "received_on": TODAY.isoformat(), "e_invoice_ref": "E"}
    assert client.post(f"/contracts/{contract.id}/invoices", data=data).status_code == 403
    day = TODAY.isoformat()
    for url, form in ((f"/invoices/{inv.id}/payments", {"paid_on": day, "amount": "10"}),
                      (f"/invoices/{inv.id}/accept", {"accepted_on": day, "version": inv.version}),
                      (f"/invoices/{inv.id}/dispute", {"disputed_on": day, "reason": "x", "version": inv.version}),
                      (f"/invoices/{inv.id}/resolve", {"resolved_on": day, "version": inv.version})):
        assert client.post(url, data=form).status_code == 403, url
    row = _invoice_row(ctx, "VT-0001")
    assert (row.paid_amount, row.accepted_on, row.disputed_on) == (Decimal("0.00"), None, None)
    from srpp.payments.models import Invoice

    assert ctx.scalar(select(func.count()).select_from(Invoice).where(Invoice.number == "BIR-1")) == 0


def test_an_officer_cannot_record_invoices(client, as_user, ctx):
    contract = _make_contract(ctx)
    as_user(OFFICER_ROK)
    data = {"number": "X-1", "amount": "10", "received_on": TODAY.isoformat(), "e_invoice_ref": "E"}
    assert client.post(f"/contracts/{contract.id}/invoices", data=data).status_code == 403


# --- direct entry and terms ----------------------------------------------------------------------------

def test_a_contract_is_entered_directly(client, as_user, ctx):
    from srpp.contracts.models import Contract
    from srpp.orgs.services import municipality_by_code

    as_user(OFFICER_ROK)
    form = client.get("/contracts/new")
    assert 'name="payment_term_days" required type="number" value="30"' in form.get_data(as_text=True)
    data = {"municipality_id": municipality_by_code("ROK").id, "supplier_id": _supplier(ctx, SEO_CODE).id,
            "title": "Socialinės dirbtuvės (tiesiogiai)", "value": "24 000,00", "start_date": "2026-01-01",
            "end_date": "2026-12-31", "awarded_on": "", "main_cpv": "85312100-0", "reservation": "none",
            "payment_term_days": "45", "payment_term_justification": "", "day_type": "working",
            "acceptance_days": "", "acceptance_justification": "", "advance_percent": "10", "reference": "R-1"}
    refused = client.post("/contracts/new", data=data)
    assert refused.status_code == 200
    assert "A payment term over 30 days needs a written objective justification" in _text(refused)
    assert ctx.scalar(select(func.count()).select_from(Contract)
                      .where(Contract.title == "Socialinės dirbtuvės (tiesiogiai)")) == 0
    data["payment_term_justification"] = "Finansuojama iš ES lėšų: išmokos gaunamos per 40 dienų."
    resp = client.post("/contracts/new", data=data)
    assert resp.status_code == 302
    contract = ctx.scalar(select(Contract).where(Contract.title == "Socialinės dirbtuvės (tiesiogiai)"))
    assert resp.headers["Location"].endswith(f"/contracts/{contract.id}/milestones")
    assert (contract.value, contract.payment_term_days, contract.day_type.value, contract.advance_percent,
            contract.awarded_on) == (Decimal("24000.00"), 45, "working", Decimal("10.00"), dt.date(2026, 1, 1))


def test_terms_above_60_days_are_refused_and_a_stale_form_is_not_applied(client, as_user, ctx):
    contract = _make_contract(ctx)
    version = contract.version
    as_user(OFFICER_ROK)
    data = {"payment_term_days": "61", "payment_term_justification": "Ilgas", "day_type": "calendar",
            "acceptance_days": "", "advance_percent": "0", "version": version}
    resp = client.post(f"/contracts/{contract.id}/terms", data=data)
    assert resp.status_code == 200
    assert "A payment term may never exceed 60 days" in _text(resp)
    assert 'value="61"' in resp.get_data(as_text=True)  # the input is kept
    data["payment_term_days"] = "20"
    assert client.post(f"/contracts/{contract.id}/terms", data=data).status_code == 302
    ctx.expire_all()
    assert contract.payment_term_days == 20
    data["payment_term_days"] = "25"  # the same (now stale) version again
    resp = client.post(f"/contracts/{contract.id}/terms", data=data)
    assert "changed by someone else" in _text(resp)
    ctx.expire_all()
    assert contract.payment_term_days == 20


def test_a_value_amendment_above_de_minimis_flashes_the_warning(client, as_user, ctx):
    contract = _make_contract(ctx)
    _schedule(ctx, contract)
    as_user(OFFICER_ROK)
    resp = client.post(f"/contracts/{contract.id}/value", data={"value": "14000", "reason": "Daugiau vietų",
                                                                "version": contract.version},
                       follow_redirects=True)
    text = _text(resp)
    assert "The value changed by 16.7 % since signature" in text
    assert "Amendment warning (EU-MOD-01)" in text  # and the page keeps showing it
    ctx.expire_all()
    assert contract.value == Decimal("14000.00")
    assert [m.amount for m in contract.milestones] == [Decimal("5600.00"), Decimal("8400.00")]
    # the milestones followed, and their history says why
    assert "Daugiau vietų" in text and money(Decimal("4800.00")) in text


# --- the milestone schedule ----------------------------------------------------------------------------

def _rows(*rows, reason="", version):
    data = {"reason": reason, "version": version}
    for n, row in enumerate(rows):
        base = {"title": "", "share_percent": "", "fixed_amount": "", "trigger": "delivery",
                "trigger_description": "", "trigger_date": "", "offset_days": "", "day_type": "calendar"}
        base.update(row)
        data.update({f"rows-{n}-{k}": v for k, v in base.items()})
    return data


def test_shares_not_summing_to_100_are_refused_and_nothing_is_saved(client, as_user, ctx):
    contract = _make_contract(ctx)
    as_user(OFFICER_ROK)
    data = _rows({"title": "Avansas", "share_percent": "50", "trigger": "signing", "offset_days": "14"},
                 {"title": "Galutinis", "share_percent": "40", "trigger_date": "2025-12-31", "offset_days": "30"},
                 {}, version=contract.version)
    resp = client.post(f"/contracts/{contract.id}/milestones", data=data)
    assert resp.status_code == 200
    text = _text(resp)
    assert "The payment schedule was not saved:" in text
    assert "The shares add up to 90 %; they must add up to exactly 100 %." in text
    page = resp.get_data(as_text=True)
    assert 'name="rows-1-share_percent" size="7" type="text" value="40"' in page  # the input is kept
    assert 'value="Galutinis"' in page
    ctx.expire_all()
    assert contract.milestones == []


def test_a_schedule_is_saved_then_amended_with_its_history(client, as_user, ctx):
    contract = _make_contract(ctx)
    as_user(OFFICER_ROK)
    data = _rows({"title": "Avansas", "share_percent": "30", "trigger": "signing", "offset_days": "14"},
                 {"title": "Galutinis", "share_percent": "70", "trigger_date": "2025-12-31", "offset_days": "10",
                  "day_type": "working"}, {}, {}, version=contract.version)
    resp = client.post(f"/contracts/{contract.id}/milestones", data=data)
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/contracts/{contract.id}#milestones")
    ctx.expire_all()
    assert [(m.title, m.amount, m.planned_date) for m in contract.milestones] == [
        ("Avansas", Decimal("3600.00"), dt.date(2025, 1, 3)),  # signed 20.12.2024 + 14 days
        ("Galutinis", Decimal("8400.00"), dt.date(2026, 1, 15)),  # 31.12.2025 + 10 LT working days
    ]
    form = client.get(f"/contracts/{contract.id}/milestones").get_data(as_text=True)
    assert 'value="Galutinis"' in form and 'name="rows-4-title"' in form  # two milestones and three empty rows
    data = _rows({"title": "Avansas", "share_percent": "20", "trigger": "signing", "offset_days": "14"},
                 {"title": "Galutinis", "share_percent": "80", "trigger_date": "2025-12-31", "offset_days": "10",
                  "day_type": "working"}, reason="Sumažintas avansas", version=contract.version)
    assert client.post(f"/contracts/{contract.id}/milestones", data=data).status_code == 302
    text = _text(client.get(f"/contracts/{contract.id}"))
    assert "History: 1 change" in text
    assert "Share: 30 % → 20 %" in text
    assert f"Amount: {money(Decimal('3600.00'))} → {money(Decimal('2400.00'))}" in text
    assert "Reason: Sumažintas avansas" in text


def test_the_monthly_schedule_prefills_the_rows(client, as_user, ctx):
    contract = _make_contract(ctx, advance_percent=Decimal("10"))
    as_user(FINANCE_ROK)
    resp = client.get(f"/contracts/{contract.id}/milestones?start=monthly")
    page = resp.get_data(as_text=True)
    titles = re.findall(r'name="rows-\d+-title"[^>]*value="([^"]*)"', page)
    assert titles[:2] == ["Advance payment", "Services of 2025-01"] and titles[12] == "Services of 2025-12"
    assert titles[13:] == ["", "", ""]  # and three empty rows
    # fixed amounts in cents: the 10 % advance, then 12 equal months that add up to the value exactly
    amounts = [Decimal(a) for a in re.findall(r'name="rows-\d+-fixed_amount"[^>]*value="([^"]+)"', page)]
    assert amounts[0] == Decimal("1200.00") and amounts[1:] == [Decimal("900.00")] * 12
    assert sum(amounts) == contract.value
    ctx.expire_all()
    assert contract.milestones == []  # nothing saved until the form is sent


# --- invoices and payments ---------------------------------------------------------------------------------

def test_finance_records_an_invoice_and_a_late_payment_and_sees_the_figures(client, as_user, ctx):
    from srpp.payments import services as payments
    from srpp.payments.calc import due_date

    payments.set_rate(_user(ctx, ADMIN), dt.date(2025, 1, 1), Decimal("3.15"))  # pinned for the hand computation
    contract = _make_contract(ctx)
    milestones = _schedule(ctx, contract)
    as_user(FINANCE_ROK)
    page = client.get(f"/contracts/{contract.id}").get_data(as_text=True)
    assert f'<option value="{milestones[0].id}">1. Etapas 1</option>' in page
    resp = client.post(f"/contracts/{contract.id}/invoices", data={
        "number": "VT-2025-17", "amount": "1 000,00", "received_on": "2025-03-03", "e_invoice_ref": "EINV-17",
        "milestone_id": milestones[0].id})
    inv = _invoice_row(ctx, "VT-2025-17")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/invoices/{inv.id}")
    # received Monday 3.3.2025 + 30 days = Wednesday 2.4.2025, a working day
    assert inv.due_date == due_date(dt.date(2025, 3, 3), 30) == dt.date(2025, 4, 2)
    text = _text(client.get(f"/invoices/{inv.id}"))
    assert "Due date: Apr 2, 2025" in text
    assert "The payment period runs from the receipt of the invoice: Mar 3, 2025." in text
    assert "Plus the payment term of 30 days: Apr 2, 2025." in text
    assert "Apr 2, 2025 is a working day" in text

    resp = client.post(f"/invoices/{inv.id}/payments", data={"paid_on": "2025-04-22", "amount": "1000.00",
                                                             "reference": "MP-881"}, follow_redirects=True)
    text = _text(resp)
    # 20 days late (3.4.–22.4.2025) at 3.15 % + 8 pp: 1000 × 11.15 % × 20 / 365 = 6.1096 → €6.11
    assert "The payment of €1,000.00 was recorded; invoice VT-2025-17 is paid, 50 days after its receipt." in text
    assert "The invoice is 20 days late: statutory interest of €6.11 and the compensation of €40.00" in text
    assert "Days to pay 50" in text and "Days late 20" in text
    assert "Statutory interest €6.11" in text and "Fixed compensation €40.00" in text
    assert "Owed for the late payment €46.11" in text
    assert "2025 H1 3.15 % 11.15 %" in text
    inv = _invoice_row(ctx, "VT-2025-17")
    assert (inv.state.value, inv.paid_amount, inv.interest, inv.compensation) == (
        "paid_late", Decimal("1000.00"), Decimal("6.11"), Decimal("40.00"))
    assert inv.milestone.state.value == "met" and inv.milestone.met_on == dt.date(2025, 4, 22)
    contract_text = _text(client.get(f"/contracts/{contract.id}"))
    assert f"VT-2025-17 1. Etapas 1 {money(Decimal('1000'))} {money(Decimal('1000'))} Mar 3, 2025 Apr 2, 2025 " \
           f"paid late 20 €6.11 €40.00" in contract_text


def test_invoice_refusals_are_shown_at_their_fields(client, as_user, ctx):
    contract = _make_contract(ctx)
    _invoice(ctx, contract, "VT-DUP")
    as_user(FINANCE_ROK)
    resp = client.post(f"/contracts/{contract.id}/invoices", data={
        "number": "VT-DUP", "amount": "250", "received_on": (TODAY + dt.timedelta(days=3)).isoformat(),
        "e_invoice_ref": ""})
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    for field, message in (("number", "This supplier already has an invoice numbered VT-DUP."),
                           ("received_on", "The invoice cannot be received in the future."),
                           ("e_invoice_ref", "Invoices under public contracts are electronic")):
        assert re.search(rf'<ul class="errors" id="{field}-error"><li>{re.escape(message)}', page), field
    assert 'value="250"' in page
    from srpp.payments.models import Invoice

    assert ctx.scalar(select(func.count()).select_from(Invoice).where(Invoice.contract_id == contract.id)) == 1


def test_a_payment_larger_than_outstanding_or_before_the_invoice_is_refused(client, as_user, ctx):
    from srpp.payments import services as payments

    contract = _make_contract(ctx)
    inv = _invoice(ctx, contract, "VT-PART", amount="800.00", received_on=TODAY - dt.timedelta(days=20))
    payments.record_payment(_user(ctx, FINANCE_ROK), inv, TODAY - dt.timedelta(days=5), Decimal("300.00"))
    ctx.flush()
    as_user(FINANCE_ROK)
    resp = client.post(f"/invoices/{inv.id}/payments", data={"paid_on": TODAY.isoformat(), "amount": "500.01"})
    assert resp.status_code == 200
    text = _text(resp)
    assert "The payment was not recorded:" in text
    assert "The payment is larger than the amount outstanding (500.00)." in text
    assert 'value="500.01"' in resp.get_data(as_text=True)
    before = (TODAY - dt.timedelta(days=21)).isoformat()
    resp = client.post(f"/invoices/{inv.id}/payments", data={"paid_on": before, "amount": "10"})
    assert "A payment cannot be made before its invoice was received" in _text(resp)
    row = _invoice_row(ctx, "VT-PART")
    assert (row.paid_amount, len(row.payments)) == (Decimal("300.00"), 1)
    # the rest is accepted, and the same reference twice is refused without an error page
    ok = client.post(f"/invoices/{inv.id}/payments", data={"paid_on": TODAY.isoformat(), "amount": "250",
                                                           "reference": "MP-1"})
    assert ok.status_code == 302
    again = client.post(f"/invoices/{inv.id}/payments", data={"paid_on": TODAY.isoformat(), "amount": "250",
                                                              "reference": "MP-1"})
    assert again.status_code == 200
    assert re.search(r'<ul class="errors" id="reference-error"><li>[^<]*MP-1', again.get_data(as_text=True))
    row = _invoice_row(ctx, "VT-PART")
    assert (row.paid_amount, row.state.value) == (Decimal("550.00"), "received")


def test_a_dispute_stops_the_clock_until_it_is_resolved(client, as_user, ctx):
    contract = _make_contract(ctx)
    received = TODAY - dt.timedelta(days=40)
    inv = _invoice(ctx, contract, "VT-DISP", received_on=received)
    due_before = inv.due_date
    as_user(FINANCE_ROK)
    refused = client.post(f"/invoices/{inv.id}/dispute", data={"disputed_on": (received - dt.timedelta(days=1))
                                                               .isoformat(), "reason": "Neteisinga suma",
                                                               "version": inv.version})
    assert "The dispute date must be between the receipt and today." in _text(refused)
    disputed_on = received + dt.timedelta(days=5)
    resp = client.post(f"/invoices/{inv.id}/dispute", data={"disputed_on": disputed_on.isoformat(),
                                                            "reason": "Neteisinga suma", "version": inv.version},
                       follow_redirects=True)
    text = _text(resp)
    assert "the clock stands still until the dispute is resolved" in text
    assert "Resolve the dispute" in text and "Dispute the invoice" not in text
    row = _invoice_row(ctx, "VT-DISP")
    assert (row.state.value, row.days_late) == ("disputed", 0)
    resolved_on = disputed_on + dt.timedelta(days=12)
    resp = client.post(f"/invoices/{inv.id}/resolve", data={"resolved_on": resolved_on.isoformat(),
                                                            "version": row.version}, follow_redirects=True)
    row = _invoice_row(ctx, "VT-DISP")
    from srpp.payments.calc import due_date

    assert row.due_date == due_date(received, 30, paused_days=12) > due_before
    assert "Plus 12 days in dispute" in _text(resp)


def test_acceptance_moves_the_clock_start(client, as_user, ctx):
    contract = _make_contract(ctx, acceptance_days=10)
    received = TODAY - dt.timedelta(days=20)
    inv = _invoice(ctx, contract, "VT-ACC", received_on=received)
    as_user(FINANCE_ROK)
    text = _text(client.get(f"/invoices/{inv.id}"))
    assert "the invoice is not accepted yet: the payment period runs from the last day allowed" in text
    accepted = received + dt.timedelta(days=4)
    resp = client.post(f"/invoices/{inv.id}/accept", data={"accepted_on": accepted.isoformat(),
                                                           "version": inv.version}, follow_redirects=True)
    assert "ended after the receipt, with the acceptance on" in _text(resp)
    from srpp.payments.calc import due_date

    assert _invoice_row(ctx, "VT-ACC").due_date == due_date(received, 30, acceptance_days=10, accepted_on=accepted)


def test_the_call_off_contract_links_to_its_documents(client, as_user, ctx):
    from srpp.contracts.models import Contract
    from srpp.orgs.services import municipality_by_code

    contract = ctx.scalar(select(Contract).where(Contract.call_off_id.is_not(None),
                                                 Contract.municipality_id == municipality_by_code("ROK").id)
                          .order_by(Contract.id).limit(1))
    assert contract is not None, "the demo has call-offs of Rokiškis"
    as_user(OFFICER_ROK)
    page = client.get(f"/contracts/{contract.id}").get_data(as_text=True)
    assert f'href="/documents/for/call_off/{contract.call_off_id}"' in page
    assert f'href="/frameworks/{contract.call_off.framework_id}"' in page


def test_the_pages_render_in_lithuanian(client, as_user, ctx):
    contract = _make_contract(ctx, acceptance_days=10)
    _schedule(ctx, contract)
    inv = _invoice(ctx, contract, "VT-LT", received_on=TODAY - dt.timedelta(days=50))
    as_user(FINANCE_ROK, lang="lt")
    for url in ("/contracts/", "/contracts/new", f"/contracts/{contract.id}", f"/contracts/{contract.id}/milestones",
                f"/contracts/{contract.id}/milestones?start=monthly", f"/invoices/{inv.id}"):
        resp = client.get(url)
        assert resp.status_code == 200, url
        assert '<html lang="lt">' in resp.get_data(as_text=True), url
    assert "12 000,00 €" in _text(client.get(f"/contracts/{contract.id}"))
