"""The public pipeline in headless Chromium, as an anonymous visitor."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from icalendar import Calendar

pytestmark = pytest.mark.browser


def test_visitor_filters_reserved_rokiskis_items_opens_one_and_copies_the_calendar_link(page):
    page.goto("/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Opportunities").click()
    page.wait_for_url("**/opportunities")
    assert page.locator("h1").inner_text() == "Upcoming procurement opportunities"

    page.get_by_label("Municipality").select_option("ROK")
    page.get_by_label("Reserved opportunities only").check()
    page.get_by_label("Planned launch quarter").fill("2027-Q1")
    page.get_by_role("button", name="Show opportunities").click()
    page.wait_for_url("**/opportunities?*")
    args = parse_qs(urlsplit(page.url).query)
    assert args["municipality"] == ["ROK"] and args["reserved"] == ["1"] and args["quarter"] == ["2027-Q1"]

    results = page.locator(".opps .opp")
    assert page.locator("#results-heading").inner_text() == "4 opportunities"
    assert results.count() == 4
    for i in range(4):
        text = results.nth(i).inner_text()
        assert "Rokiškis District Municipality" in text
        assert "(2027-Q1)" in text
        assert "Reserved" in text

    # the calendar link keeps the filters, ready to copy
    ics_link = page.get_by_role("link", name="Open iCalendar feed")
    href = ics_link.get_attribute("href")
    assert ".ics?" in href
    assert parse_qs(urlsplit(href).query) == {"municipality": ["ROK"], "reserved": ["1"], "quarter": ["2027-Q1"]}
    assert page.get_by_label("iCalendar (one all-day event on the first day of each planned launch month, and on the "
                             "submission deadline of each open lot)") \
        .input_value() == href

    # open one item
    first = results.first.locator("h3 a")
    title = first.inner_text()
    first.click()
    page.wait_for_url("**/opportunities/*")
    assert page.locator("h1").inner_text() == title
    assert "Ask the municipality" in page.content()
    item_ics = page.get_by_role("link", name="Open iCalendar feed").get_attribute("href")
    assert ".ics" in item_ics and "municipality=ROK" in item_ics

    # the copied link is a calendar with the four items
    resp = page.request.get(href)
    assert resp.ok and resp.headers["content-type"].startswith("text/calendar")
    events = Calendar.from_ical(resp.body()).walk("VEVENT")
    assert len(events) == 4
    assert title in {str(e["SUMMARY"]) for e in events}


def test_bad_filter_is_explained_on_the_page(page):
    page.goto("/opportunities?quarter=soon&min_value=lots")
    alert = page.get_by_role("alert")
    assert "could not be used" in alert.inner_text()
    assert page.get_by_label("Planned launch quarter").get_attribute("aria-invalid") == "true"
