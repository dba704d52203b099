"""Browser journey (issue #5): officer.kup, the mobility coordinator, publishes a new specification
version of FA-MOB-DRT-2026; officer.rok acknowledges it, places a call-off over ROK's cap, reads the
refusal naming the cap, the amount committed and the amount left, places a smaller one and finds it
on the dashboard's consumption chart."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

pytestmark = pytest.mark.browser

CODE = "FA-MOB-DRT-2026"
PRICE = Decimal("9.80")


def _login(page, email, password="demo12345"):
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").last.click()
    page.wait_for_load_state("load")  # app.js (the language autosubmit) has run
    if page.locator("html").get_attribute("lang") != "en":
        with page.expect_navigation():
            page.select_option("#lang-select", "en")


def _logout(page):
    page.get_by_role("button", name="Log out").click()
    page.wait_for_load_state("load")


def _flash(page) -> str:
    return " ".join(page.locator(".flash").all_inner_texts())


def _amount(text: str) -> Decimal:
    """€29,400.00 → Decimal("29400.00")."""
    return Decimal(re.sub(r"[^0-9.]", "", text))


def _framework_id(page) -> int:
    page.goto("/frameworks/overview")
    page.get_by_role("link", name=CODE, exact=True).click()
    page.wait_for_load_state("load")
    return int(re.search(r"/frameworks/(\d+)/dashboard", page.url).group(1))


def _rok_cumulative(page, fa_id: int) -> Decimal:
    """ROK's value in the last row of the consumption chart's data table."""
    page.goto(f"/frameworks/{fa_id}/dashboard")
    table = page.locator("#h-consumption").locator("xpath=..").locator("table").first
    # the table sits in a closed <details>: read its text content, not the rendered text
    headers = [h.strip() for h in table.locator("thead th").all_text_contents()]
    column = headers.index("Rokiškis")
    last = table.locator("tbody tr").last
    cells = [c.strip() for c in last.locator("th, td").all_text_contents()]
    return _amount(cells[column])


def test_coordinator_publishes_participant_acknowledges_and_places_call_offs(page):
    # 1. the coordinator publishes a new specification version
    _login(page, "officer.kup@demo.srpp.lt")
    fa_id = _framework_id(page)
    page.goto(f"/frameworks/{fa_id}/specification/new")
    spec = page.get_by_label("Specification", exact=True)
    spec.fill(spec.input_value() + "\nKelionės sekmadieniais 9–13 val.")
    page.get_by_label("Quality standard").fill(page.get_by_label("Quality standard").input_value()
                                               + "\nSkundai išnagrinėjami per 5 darbo dienas.")
    page.get_by_label("What changed").fill("Pridėtos sekmadienio kelionės ir skundų nagrinėjimo terminas.")
    page.get_by_role("button", name=re.compile(r"^Publish the (new )?version")).click()
    page.wait_for_load_state("load")
    version = int(re.search(r"Specification, version (\d+)", page.content()).group(1))
    assert version >= 3
    _logout(page)

    # 2. ROK acknowledges it
    _login(page, "officer.rok@demo.srpp.lt")
    page.goto(f"/frameworks/{fa_id}")
    page.get_by_role("button", name=f"Acknowledge version {version}").click()
    page.wait_for_load_state("load")
    assert page.get_by_role("button", name=f"Acknowledge version {version}").count() == 0
    before = _rok_cumulative(page, fa_id)

    # 3. a call-off over ROK's cap is refused, naming the cap, the amount committed and the amount left
    page.goto(f"/frameworks/{fa_id}/call-offs/new")
    row = page.locator("#budget-ROK td")
    cap, committed, left = (_amount(t) for t in row.all_inner_texts())
    assert cap - committed == left
    too_many = int(left / PRICE) + 50
    page.get_by_label("Supplier (party to the framework)").select_option(label="Demo Kupiškio mobilumo kooperatyvas")
    page.get_by_label("Quantity").fill(str(too_many))
    page.get_by_label("Unit", exact=True).fill("trip")
    page.get_by_label("Unit price, EUR").fill("9.80")
    page.get_by_label("Budget line").fill("08.01.01 Transportas")
    page.get_by_role("button", name="Place the call-off").click()
    page.wait_for_load_state("load")
    refusal = page.locator("#calloff-refusal").inner_text()
    assert "would exceed the" in refusal and "cap of Rokiškis District Municipality" in refusal
    assert f"the cap is €{cap:,.2f}, €{committed:,.2f} is already committed, €{left:,.2f} is left" in refusal
    assert page.get_by_label("Quantity").input_value() == str(too_many)  # the input is kept

    # 4. a smaller one goes through and shows on the consumption chart
    page.get_by_label("Quantity").fill("100")
    page.get_by_role("button", name="Place the call-off").click()
    page.wait_for_load_state("load")
    assert "The call-off of €980.00 for Rokiškis District Municipality was placed" in _flash(page)
    assert "/dashboard" in page.url
    expected = before + Decimal("980.00")
    chart_table = page.locator("#h-consumption").locator("xpath=..").locator("table").first
    assert f"€{expected:,.2f}" in chart_table.text_content()
    assert _rok_cumulative(page, fa_id) == expected
