"""Browser journey: an officer imports plan items from a CSV, mends a bad row, publishes a new
version and reads the difference on the history page."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

HEADER = ("Pavadinimas / Title,Paslaugų kategorija / Service category,Pagrindinis BVPŽ kodas / Main CPV code,"
          "Numatoma vertė (EUR) / Estimated value (EUR),Pirkimo pradžios mėnuo / Launch month,"
          "Sutarties trukmė (mėn.) / Duration (months),Pirkimo būdas / Procedure,Rezervavimas / Reservation")
GOOD_ROW = "Mobilus darbas su jaunimu Pabiržėje,YOUTH_OPEN,85312300-2,\"18 500,00\",2027-05,12,simplified,res-ws"
BAD_ROW = "Savanorystės programa senjorams,SENIOR_DC,85312100-0,\"24 000\",2031-02,12,simplified,none"
FIXED_ROW = "Savanorystės programa senjorams,SENIOR_DC,85312100-0,\"24 000\",2027-02,12,simplified,none"


def _csv(*rows: str) -> dict:
    return {"name": "planas.csv", "mimeType": "text/csv", "buffer": "\n".join([HEADER, *rows]).encode("utf-8")}


def test_officer_imports_fixes_publishes_and_sees_the_difference(page):
    page.goto("/login")
    page.get_by_label("E-mail").fill("officer.bir@demo.srpp.lt")
    page.get_by_label("Password").fill("demo12345")
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").last.click()
    with page.expect_navigation():
        page.select_option("#lang-select", "en")

    page.get_by_role("link", name="Plans and versions").first.click()
    page.locator("table a").first.click()  # the plan → its published version
    page.get_by_role("button", name="Edit: start a new version").click()
    assert "Publish version 3" in page.content()

    page.get_by_role("link", name="Import items from CSV or XLSX").click()
    page.get_by_label("File (CSV or XLSX)").set_input_files(_csv(GOOD_ROW, BAD_ROW))
    page.get_by_role("button", name="Check and import").click()
    errors = page.locator(".import-errors table tbody tr")
    assert errors.count() == 1
    row_text = errors.first.inner_text()
    assert "3" in row_text and "Launch month" in row_text and "inside the plan period" in row_text

    page.get_by_label("File (CSV or XLSX)").set_input_files(_csv(GOOD_ROW, FIXED_ROW))
    page.get_by_role("button", name="Check and import").click()
    assert "2" in page.locator(".flash-success").inner_text()
    assert page.get_by_text("Savanorystės programa senjorams").count() >= 1

    page.get_by_label("What changed (shown in the version history)").fill("Imported two youth and senior items")
    page.get_by_role("button", name="Publish version 3").click()
    assert "Version 3 is published" in page.locator(".flash-success").inner_text()

    page.get_by_role("link", name="Version history and differences").click()
    added = page.locator(".diff-added li")
    titles = " ".join(added.all_inner_texts())
    assert "Mobilus darbas su jaunimu Pabiržėje" in titles and "Savanorystės programa senjorams" in titles
    assert "From v2 to v3" in page.content()
