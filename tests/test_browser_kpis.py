"""Browser journey (issue #8): council@demo.srpp.lt opens the indicator dashboard, filters it by
municipality (Biržai), opens a red indicator (F1, average days to pay), follows it to the risk it monitors
(5.1), from there to the records behind the indicator (Biržai's late invoices), and generates the annual
impact report: the job finishes and the download link appears."""

from __future__ import annotations

import io
import re

import docx
import pytest

from tests.conftest import browser_login

pytestmark = pytest.mark.browser

COUNCIL = "council@demo.srpp.lt"


_login = browser_login


def test_council_follows_a_red_indicator_to_its_risk_and_records_and_generates_the_report(page, live_server):
    _login(page, COUNCIL)
    page.goto("/indicators/dashboard")
    assert page.get_by_role("heading", level=1).inner_text() == "Indicator dashboard"

    # filter by municipality
    page.select_option("#f-municipality", "BIR")
    with page.expect_navigation():
        page.locator("#kpi-filters").get_by_role("button", name="Show").click()
    assert "municipality=BIR" in page.url
    f1 = page.locator("#kpi-row-F1")
    assert f1.get_attribute("data-status") == "red"
    assert "Off track" in f1.inner_text()

    # open the red indicator
    with page.expect_navigation():
        f1.locator("a.kpi-link").click()
    assert re.search(r"/indicators/F1$", page.url)
    assert "Off track" in page.locator("#kpi-row-BIR").inner_text()

    # back on the dashboard, follow it to the risk it monitors
    page.go_back()
    with page.expect_navigation():
        page.locator("#kpi-row-F1").get_by_role("link", name="Risk 5.1").click()
    assert page.url.endswith("/risks/5.1")
    alert = page.locator("main").get_by_role("link", name=re.compile(r"^F1\b")).first
    assert "Biržai" in page.locator("main").inner_text()

    # from the risk to the indicator and the records behind Biržai's value
    with page.expect_navigation():
        alert.click()
    assert re.search(r"/indicators/F1$", page.url)
    value_link = page.locator("#kpi-row-BIR td a").last  # the latest half-year with a value
    with page.expect_navigation():
        value_link.click()
    assert re.search(r"/indicators/F1/\d{4}H[12]/BIR$", page.url)
    assert "Off track" in page.locator("#kpi-value-status").inner_text()
    invoices = page.locator('#kpi-records li[data-type="invoice"]')
    assert invoices.count() >= 1
    with page.expect_navigation():
        invoices.first.locator("a").first.click()
    assert "/invoices/" in page.url
    assert page.locator("h1").count() == 1

    # the annual impact report
    page.goto("/indicators/dashboard#h-report")
    page.select_option("#language", "en")
    with page.expect_navigation():
        page.locator("#kpi-generate-report").click()
    assert re.search(r"/documents/\d+$", page.url)
    page.locator('.job-state[data-state="done"]').wait_for(timeout=30000)
    link = page.locator("#download-docx")
    assert link.is_visible()
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert re.fullmatch(r"impact-report-[a-z0-9-]+-\d{4}-en\.docx", download.suggested_filename)
    document = docx.Document(io.BytesIO(open(download.path(), "rb").read()))
    assert len(document.inline_shapes) >= 1
    assert any(t.rows[0].cells[0].text == "Code" for t in document.tables)
