"""Browser journey: a procurement officer turns two plan items into a tender, adds a third lot, tries
to reserve lot 2 under Art. 77 with a CPV code that is not on the Art. 77 list, reads the refusal,
fixes it, sets the award criteria and publishes the tender."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

ITEM_A = "Demencijos dienos priežiūra Juodupėje"
ITEM_B = "Pagalba į namus Kamajų ir Pandėlio seniūnijose"
LOT_3 = "Pagalba į namus Obelių seniūnijoje"
TITLE = "Pagalba senjorams Juodupėje, Kamajuose ir Pandėlyje"


def _login(page, email, password="demo12345"):
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").last.click()
    page.wait_for_load_state("load")  # app.js (the language autosubmit) has run


def _flash(page) -> str:
    return " ".join(page.locator(".flash").all_inner_texts())


def _set_criteria(page):
    page.get_by_label("Criterion 1: name").fill("Price")
    page.get_by_label("Criterion 1: kind").select_option("price")
    page.get_by_label("Criterion 1: weight").fill("60")
    page.get_by_label("Criterion 2: name").fill("Continuity of care")
    page.get_by_label("Criterion 2: kind").select_option("social")
    page.get_by_label("Criterion 2: weight").fill("40")
    page.get_by_label("Criterion 2: link to the subject matter").fill(
        "The same carers visit the same people throughout the contract")
    page.get_by_role("button", name="Save the award criteria").click()
    assert "were saved" in _flash(page)
    assert "Sum of weights: 100 %" in page.locator(".weight-sum").inner_text()


def test_officer_makes_a_tender_with_three_lots_and_publishes_it(page):
    _login(page, "officer.rok@demo.srpp.lt")
    with page.expect_navigation():
        page.select_option("#lang-select", "en")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Tenders", exact=True).click()
    page.get_by_role("link", name="New tender from the plan").click()
    page.get_by_label(ITEM_A).check()
    page.get_by_label(ITEM_B).check()
    page.get_by_label("Tender title").fill(TITLE)
    page.get_by_role("button", name="Create the tender").click()
    assert "created as a draft with 2 lots" in _flash(page)
    assert TITLE in page.locator("h1").inner_text()
    tender_url = page.url

    # a third lot
    page.get_by_role("link", name="Add a lot").first.click()
    page.get_by_label("Title", exact=True).fill(LOT_3)
    page.get_by_label("Service category").select_option(label="Home care / mobile care team (HOME_CARE)")
    page.get_by_label("Main CPV code").fill("85312400-3")
    page.keyboard.press("Escape")
    page.get_by_label("Estimated value, EUR").fill("30 000")
    page.get_by_label("Contract duration (months)").fill("24")
    page.get_by_label("Settlement").fill("Obeliai")
    page.get_by_label("Rural area").check()
    page.get_by_role("button", name="Save the lot").click()
    assert "Lot 3 was added" in _flash(page)

    # lot 2 under Art. 77 with a transport code: refused at the reservation field
    page.goto(tender_url)
    page.get_by_role("link", name=ITEM_B).click()
    page.get_by_role("link", name="Edit the lot").click()
    extra = page.get_by_label("Additional CPV codes")
    original = extra.input_value().strip().rstrip(",")
    extra.fill(", ".join(filter(None, [original, "60140000-1"])))
    page.keyboard.press("Escape")
    page.get_by_label("Reservation", exact=True).select_option("res-pub-ser")
    page.get_by_role("button", name="Save the lot").click()
    refusal = page.locator("#reservation-error").inner_text()
    assert "Art. 77" in refusal and "60140000-1" in refusal
    assert page.get_by_label("Reservation", exact=True).input_value() == "res-pub-ser"  # the input is kept

    # fix it: drop the code that is not on the Art. 77 list
    page.get_by_label("Additional CPV codes").fill(original)
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Save the lot").click()
    assert "Lot 2 was saved" in _flash(page)
    assert "Article 77" in page.locator("blockquote[lang=en]").inner_text()

    # award criteria on every lot
    for title in (ITEM_A, ITEM_B, LOT_3):
        page.goto(tender_url)
        page.get_by_role("region", name="Lots").get_by_role("link", name=title, exact=True).click()
        _set_criteria(page)

    # ready, then published
    page.goto(tender_url)
    assert "All checks pass" in page.get_by_role("region", name="Checks before publishing").inner_text()
    page.get_by_role("button", name="Mark ready to publish").click()
    assert "now ready to publish" in _flash(page)
    page.get_by_role("button", name="Publish", exact=True).click()
    assert "now published" in _flash(page)
    assert page.locator("h1 .state-badge").inner_text() == "published"
    assert page.get_by_role("button", name="Start the evaluation").is_visible()

    # then the social economy organisation finds the reserved lot in the public pipeline
    page.get_by_role("button", name="Log out").click()
    _login(page, "seo@demo.srpp.lt")
    if page.locator("#lang-select").input_value() != "en":
        with page.expect_navigation():
            page.select_option("#lang-select", "en")
    page.goto("/opportunities?municipality=ROK&reserved=1")
    row = page.locator(".opps .opp", has=page.get_by_role("link", name=ITEM_B))
    assert row.count() == 1 and "open lot" in row.inner_text().lower()
    row.get_by_role("link", name=ITEM_B).click()
    assert "Article 77" in page.locator("#notice-text").inner_text()
    assert page.locator("#interest-count").inner_text() == "0 organisations are interested"
    page.get_by_label("We look for consortium partners").check()
    page.get_by_role("button", name="Register our interest").click()
    assert page.locator("#interest-count").inner_text() == "1 organisation is interested"
