"""Main journeys of the foundation in headless Chromium."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def _login(page, email, password="demo12345"):
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").last.click()
    page.wait_for_load_state("load")  # static/js/app.js has attached the language autosubmit


def _switch_language(page, code):
    with page.expect_navigation():
        page.select_option("#lang-select", code)  # submits by itself (static/js/app.js)


def test_officer_logs_in_switches_to_lithuanian_and_sees_rokiskis(page):
    _login(page, "officer.rok@demo.srpp.lt")
    _switch_language(page, "en")
    assert page.locator("h1").inner_text() == "Rokiškis District Municipality"
    assert page.locator("html").get_attribute("lang") == "en"
    _switch_language(page, "lt")
    assert page.locator("html").get_attribute("lang") == "lt"
    assert page.locator("h1").inner_text() == "Rokiškio rajono savivaldybė"
    page.goto("/municipalities/BIR/edit")
    assert page.locator(".error-code").inner_text() == "403"


def test_five_wrong_passwords_lock_the_account(page):
    for _ in range(5):
        _login(page, "officer.pas@demo.srpp.lt", "wrong-password")
        assert page.locator(".flash-error").count() == 1
    _login(page, "officer.pas@demo.srpp.lt")
    message = page.locator(".flash-error").inner_text()
    assert "locked" in message
    assert page.url.endswith("/login")


def test_keyboard_user_can_skip_to_content(page):
    page.goto("/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert "Skip to content" in focused
