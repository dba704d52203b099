"""Browser journey (issue #7): finance.bir records an invoice received two months ago and its late
payment, sees the statutory interest and the EUR 40 compensation; the council then sees Biržai's
figures for the running half-year change on the payment dashboard."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest

from tests.conftest import browser_login

pytestmark = pytest.mark.browser

FINANCE = "finance.bir@demo.srpp.lt"
COUNCIL = "council@demo.srpp.lt"


_login = browser_login


def _logout(page):
    page.get_by_role("button", name="Log out").click()
    page.wait_for_load_state("load")


def _bir_contract(live_database_url: str) -> int:
    from sqlalchemy import select

    from srpp import create_app
    from srpp.contracts.models import Contract, ContractState
    from srpp.extensions import db
    from srpp.orgs.services import municipality_by_code
    from tests.conftest import TEST_CONFIG

    app = create_app({**TEST_CONFIG, "DATABASE_URL": live_database_url})
    with app.app_context():
        bir = municipality_by_code("BIR")
        return db.session.scalar(select(Contract.id).where(Contract.municipality_id == bir.id,
                                                           Contract.state == ContractState.ACTIVE)
                                 .order_by(Contract.id).limit(1))


def _biržai(page, period: str) -> dict[str, str]:
    page.goto(f"/payments/dashboard?period={period}")
    row = page.locator("#muni-BIR")
    return {cell.get_attribute("data-figure"): cell.inner_text().strip()
            for cell in row.locator("td[data-figure]").all()}


def _period(today: dt.date) -> str:
    return f"{today.year}H{1 if today.month <= 6 else 2}"


def test_finance_officer_records_a_late_payment_and_the_council_sees_it(page, live_database_url):
    today = dt.date.today()
    period = _period(today)
    contract_id = _bir_contract(live_database_url)
    assert contract_id, "the demo has an active Biržai contract"

    _login(page, COUNCIL)
    before = _biržai(page, period)
    _logout(page)

    # received 60 days ago: due 30 days later (or the next working day), paid today: about 30 days late
    received = today - dt.timedelta(days=60)
    number = f"BIR-{uuid.uuid4().hex[:8].upper()}"
    _login(page, FINANCE)
    page.goto(f"/contracts/{contract_id}")
    page.locator("#record-invoice summary").click()
    form = page.locator("#record-invoice form")
    form.get_by_label("Invoice number").fill(number)
    form.get_by_label("Amount, EUR").fill("2400.00")
    form.get_by_label("Received on").fill(received.isoformat())
    form.get_by_label("E-invoice reference").fill(f"ES-{number}")
    with page.expect_navigation():
        form.get_by_role("button", name="Record the invoice").click()
    assert page.locator(".flash-error").count() == 0, page.locator(".flash-error").all_inner_texts()
    # recorded: the invoice's own page, with its due date
    assert re.search(r"/invoices/\d+$", page.url)
    assert number in page.locator(".flash-success").inner_text()

    payment = page.locator("form.payment-form")
    payment.get_by_label("Paid on").fill(today.isoformat())
    payment.get_by_label("Amount, EUR").fill("2400.00")
    payment.get_by_label("Payment reference").fill(f"MP-{number}")
    with page.expect_navigation():
        payment.get_by_role("button", name="Record the payment").click()

    days_late = int(page.locator("#days-late").inner_text())
    assert 25 <= days_late <= 31
    assert page.locator("#days-to-pay").inner_text().strip() == "60"
    interest = page.locator("#interest").inner_text()
    assert interest != "€0.00" and re.search(r"€\d+\.\d\d", interest)
    assert page.locator("#compensation").inner_text().strip() == "€40.00"
    _logout(page)

    _login(page, COUNCIL)
    after = _biržai(page, period)
    assert int(after["paid_count"]) == int(before["paid_count"]) + 1
    assert after["interest"] != before["interest"]
    # the municipality's own page lists the late invoice
    page.goto(f"/payments/dashboard/BIR?period={period}")
    assert number in page.content()
