"""Browser journey: a KUP tender with a reserved lot is published (through the services, on the
live database); the SEO member finds the lot on /opportunities with the reserved and municipality
filters, opens it, registers interest looking for consortium partners, and the public lot page
counts one more interested organisation (without naming it)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest

pytestmark = pytest.mark.browser

DEADLINE = dt.date(2027, 8, 20)


@pytest.fixture()
def published_lot(live_database_url):
    """Publish a fresh one-lot KUP tender (reserved under EU Art. 20) on the live database; returns
    (lot id, lot title, tender title)."""
    from sqlalchemy import select

    from srpp import create_app
    from srpp.auth.models import User
    from srpp.core.db import utcnow
    from srpp.extensions import db
    from srpp.orgs.models import ServiceCategory
    from srpp.orgs.services import municipality_by_code
    from srpp.plans.models import PlanItem
    from srpp.plans.services import current_published
    from srpp.rules.models import Procedure, ReservationBasis
    from srpp.tenders import services
    from srpp.tenders.models import CriterionKind, TenderState
    from tests.conftest import TEST_CONFIG

    token = uuid.uuid4().hex[:6]
    lot_title = f"Dienos priežiūra Alizavoje {token}"
    tender_title = f"Demencijos dienos priežiūra Alizavoje {token}"
    live = create_app({**TEST_CONFIG, "DATABASE_URL": live_database_url})
    with live.test_request_context("/"):
        kup = municipality_by_code("KUP")
        version = current_published(kup)
        category = db.session.scalar(select(ServiceCategory).where(ServiceCategory.key == "DEM_DAY"))
        officer = db.session.scalar(select(User).where(User.email == "officer.kup@demo.srpp.lt"))
        item = PlanItem(plan_version_id=version.id, municipality_id=kup.id, title=lot_title, category_id=category.id,
                        main_cpv=category.main_cpv, priority_area=category.priority_area,
                        estimated_value=Decimal("26000.00"), launch_month=dt.date(2027, 6, 1), duration_months=24,
                        procedure=Procedure.SIMPLIFIED, reservation=ReservationBasis.EU_ART20, position=900,
                        notes_for_seos="Dienos priežiūra 8 asmenims Alizavos seniūnijoje.",
                        content_changed_at=utcnow())
        db.session.add(item)
        db.session.flush()
        tender = services.create_from_plan(officer, [item], title=tender_title)
        services.update_tender(officer, tender, {"submission_deadline": DEADLINE,
                                                 "no_division_reasons": "Viena nedidelė paslauga vienoje vietoje."},
                               tender.version)
        services.set_criteria(officer, tender.lots[0], [
            services.CriterionInput("Kaina", CriterionKind.PRICE, Decimal("60")),
            services.CriterionInput("Paslaugų tęstinumas", CriterionKind.SOCIAL, Decimal("40"),
                                    "Tie patys darbuotojai lanko tuos pačius gavėjus")])
        services.transition(officer, tender, TenderState.READY)
        services.transition(officer, tender, TenderState.PUBLISHED)
        lot_id = tender.lots[0].id
        db.session.commit()
        db.session.remove()
    return lot_id, lot_title, tender_title


def _login(page, email, password="demo12345"):
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").last.click()
    page.wait_for_url(lambda url: "/login" not in url)


def test_seo_finds_a_reserved_lot_and_registers_interest(page, browser, live_server, published_lot):
    lot_id, lot_title, tender_title = published_lot

    # before: the public lot page counts nobody
    visitor = browser.new_context(base_url=live_server.url, locale="en-GB")
    public = visitor.new_page()
    public.goto(f"/opportunities/lots/{lot_id}")
    assert public.locator("#interest-count").inner_text() == "0 organisations are interested"

    _login(page, "seo@demo.srpp.lt")
    if page.locator("#lang-select").input_value() != "en":  # (the account may be in English already)
        with page.expect_navigation():
            page.select_option("#lang-select", "en")
    assert page.locator("html").get_attribute("lang") == "en"

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Opportunities").click()
    page.wait_for_url("**/opportunities")
    page.get_by_label("Municipality").select_option("KUP")
    page.get_by_label("Reserved opportunities only").check()
    page.get_by_role("button", name="Show opportunities").click()
    page.wait_for_url("**/opportunities?*")
    assert "municipality=KUP" in page.url and "reserved=1" in page.url

    row = page.locator(".opps .opp", has=page.get_by_role("link", name=lot_title))
    assert row.count() == 1
    text = row.inner_text()
    assert "open lot" in text.lower() and tender_title in text and "Aug 20, 2027" in text
    assert "reserved for sheltered workshops and work-integration enterprises" in text
    row.get_by_role("link", name=lot_title).click()
    page.wait_for_url(f"**/opportunities/lots/{lot_id}")

    assert page.locator("h1").inner_text() == lot_title
    assert "Article 20 of Directive 2014/24/EU" in page.locator("#notice-text").inner_text()
    assert page.locator("#interest-count").inner_text() == "0 organisations are interested"
    page.get_by_label("We look for consortium partners").check()
    page.get_by_label("Note for the municipality (optional)").fill("Turime patirties; ieškome partnerio transportui.")
    page.get_by_role("button", name="Register our interest").click()
    page.wait_for_url(f"**/opportunities/lots/{lot_id}*")
    assert "look for consortium partners" in " ".join(page.locator(".flash").all_inner_texts())
    assert page.locator("#interest-count").inner_text() == "1 organisation is interested"
    assert page.get_by_role("button", name="Update our interest").is_visible()
    assert page.get_by_label("We look for consortium partners").is_checked()

    # the organisation's list
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Our interests").click()
    assert lot_title in page.locator("table.interests").inner_text()

    # the public page counts one more, and never says who
    public.goto(f"/opportunities/lots/{lot_id}")
    assert public.locator("#interest-count").inner_text() == "1 organisation is interested"
    assert "Jautri" not in public.content() and "ieškome partnerio" not in public.content()
    visitor.close()
