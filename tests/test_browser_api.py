"""API tokens in headless Chromium: a user creates a token on the account page, a program uses it
(``page.request``), the token is never shown again, and revoking it in the UI stops it."""

from __future__ import annotations

import pytest

from tests.conftest import browser_login

pytestmark = pytest.mark.browser


_login = browser_login


def test_create_token_in_the_ui_and_call_the_api(page):
    _login(page, "officer.kup@demo.srpp.lt")
    page.goto("/account")
    with page.expect_navigation():
        page.get_by_role("link", name="Manage API tokens").click()
    assert page.locator("h1").inner_text() == "API tokens"

    page.get_by_label("Name").fill("Browser journey")
    page.get_by_label("Write access").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Create token").click()
    token = page.locator("#api-token-value").input_value()
    assert token.startswith("srpp_") and len(token) > 40
    assert "shown only this once" in page.locator("[role=alert]").inner_text()

    # a program uses the token: it is accepted for a write (which the plan rules then refuse: 422, nothing
    # written), while the browser session alone may not write
    item = {"municipality": "KUP", "title": "Browser journey", "category": "DEM_DAY", "main_cpv": "85312100-0",
            "estimated_value": "1000.00", "launch_month": "2027-03", "duration_months": 500,
            "procedure": "simplified"}
    auth = {"Authorization": f"Bearer {token}"}
    resp = page.request.post("/api/v1/plan-items", data=item, headers=auth)
    assert resp.status == 422, resp.text()
    assert resp.json()["error"]["parameter"] == "duration_months"
    assert page.request.post("/api/v1/plan-items", data=item).status == 401  # cookies do not write
    assert page.request.get("/api/v1/municipalities", headers=auth).status == 200

    # back on the list: the name and the first characters only, never the token
    with page.expect_navigation():
        page.get_by_role("link", name="Done: back to my tokens").click()
    row = page.locator("table.api-tokens tbody tr", has_text="Browser journey")
    assert token[:12] in row.inner_text()
    assert token not in page.content()

    with page.expect_navigation():
        row.get_by_role("button", name="Revoke").click()
    assert "revoked" in page.locator(".flash-success").inner_text()
    assert "revoked" in page.locator("table.api-tokens tbody tr", has_text="Browser journey").inner_text()
    resp = page.request.get("/api/v1/municipalities", headers=auth)
    assert resp.status == 401 and resp.json()["error"]["code"] == "unauthorized"


def test_api_documentation_page(page):
    page.goto("/api/v1/docs")
    assert page.locator("h1").inner_text() == "API documentation"
    page.get_by_role("link", name="Getting a token").click()
    assert page.locator("#tokens").is_visible()
    assert page.locator("#op-api_plan_item_create").count() == 1
    assert "curl -X POST" in page.locator("#op-api_plan_item_create pre").inner_text()
