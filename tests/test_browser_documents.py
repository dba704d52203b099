"""Browser journey (issue #6): officer.pas opens the documents of Pasvalys's reserved tender,
previews the tender specification in Lithuanian, sees the missing value marked, fills it in,
generates the document, watches the job finish and downloads the .docx."""

from __future__ import annotations

import io

import pytest

from tests.conftest import browser_login, unlock_user

pytestmark = pytest.mark.browser

OFFICER = "officer.pas@demo.srpp.lt"
UNIT = "Pasvalio socialinių paslaugų centras & partneriai"


_login = browser_login


def test_officer_previews_fills_generates_and_downloads_the_specification(page, live_database_url):
    unlock_user(live_database_url, OFFICER)  # another browser test locks officer.pas out on purpose
    _login(page, OFFICER)

    page.goto("/tenders/")
    page.get_by_role("link", name="Pagalbos į namus ir mobilumo paketas").first.click()
    page.wait_for_load_state("load")
    page.locator("#tender-documents").click()
    page.wait_for_load_state("load")
    with page.expect_navigation():
        page.get_by_role("link", name="Tender specification", exact=True).click()

    # Lithuanian document: the preview follows the chosen language
    page.get_by_label("Language of the document").select_option("lt")
    with page.expect_navigation():
        page.get_by_role("button", name="Update preview").click()
    preview = page.locator(".document-preview")
    assert preview.get_attribute("lang") == "lt"
    assert "Tiekėjas" in preview.inner_text()
    assert "rezervuota" in preview.inner_text()
    # the one value without a default is listed and marked in the text
    problems = page.locator("#document-problems")
    assert "missing" in problems.inner_text()
    assert preview.locator("mark.missing-value", has_text="social_services_unit").count() == 1
    field = page.locator("#v_social_services_unit")
    assert field.get_attribute("aria-invalid") == "true"

    # generating with the value still missing is refused and names it
    with page.expect_navigation():
        page.get_by_role("button", name="Generate .docx").click()
    assert "social_services_unit" in page.locator(".flash-error").inner_text()

    page.locator("#v_social_services_unit").fill(UNIT)
    with page.expect_navigation():
        page.get_by_role("button", name="Update preview").click()
    assert page.locator("#document-ready").is_visible()
    assert UNIT in page.locator(".document-preview").inner_text()
    with page.expect_navigation():
        page.get_by_role("button", name="Generate .docx").click()

    # the job page follows the worker until the document is ready
    assert "/documents/" in page.url
    page.locator('.job-state[data-state="done"]').wait_for(timeout=30000)
    assert "The document is ready." in page.locator(".job-status").inner_text()
    with page.expect_download() as info:
        page.locator("#download-docx").click()
    download = info.value
    assert download.suggested_filename.endswith("-lt.docx")
    assert download.suggested_filename.startswith("tender-specification-t-")

    import docx

    document = docx.Document(io.BytesIO(open(download.path(), "rb").read()))
    text = "\n".join(p.text for p in document.paragraphs)
    assert UNIT in text
    assert "Tiekėjas" in text
    assert "⟦" not in text
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert headings[0].startswith("1. ") and len(headings) >= 6
    assert len(document.tables) >= 3  # facts, lots, criteria and payment tables

    # the document is in "My documents"
    page.goto("/documents/")
    assert download.suggested_filename in page.locator(".documents-table").inner_text()
