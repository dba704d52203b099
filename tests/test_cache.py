"""Anonymous pipeline pages are cached per generation: a publication shows at once."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from srpp.auth.models import User


@pytest.fixture()
def cached_client(app, conn):
    from srpp.core import cache

    cache.clear_local()
    app.config["PAGE_CACHE"] = True
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    yield client
    app.config["PAGE_CACHE"] = False
    cache.clear_local()


def test_second_anonymous_request_is_a_hit_and_publication_invalidates(cached_client, ctx):
    from srpp.orgs.models import ServiceCategory
    from srpp.orgs.services import municipality_by_code
    from srpp.plans import services
    from srpp.rules.models import Procedure

    url = "/opportunities?municipality=KUP"
    first = cached_client.get(url)
    second = cached_client.get(url)
    assert first.headers["X-Cache"] == "miss" and second.headers["X-Cache"] == "hit"
    assert second.get_data() == first.get_data()
    assert "text/html" in second.content_type

    officer = ctx.scalar(select(User).where(User.email == "officer.kup@demo.srpp.lt"))
    plan = services.current_published(municipality_by_code("KUP")).plan
    draft = services.start_new_version(officer, plan)
    cat = ctx.scalar(select(ServiceCategory).where(ServiceCategory.key == "RESPITE"))
    services.add_item(officer, draft, services.ItemInput(
        title="Nauja atokvėpio paslauga", category_id=cat.id, main_cpv=cat.main_cpv,
        estimated_value=Decimal("15000"), launch_month=dt.date(2027, 5, 1), duration_months=12,
        procedure=Procedure.SIMPLIFIED))
    services.publish(officer, draft)
    ctx.commit()
    third = cached_client.get(url)
    assert third.headers["X-Cache"] == "miss"
    assert "Nauja atokvėpio paslauga" in third.get_data(as_text=True)


def test_logged_in_users_and_languages_are_not_mixed(cached_client):
    en = cached_client.get("/opportunities")
    cached_client.get("/language/lt?next=/opportunities")
    lt = cached_client.get("/opportunities")
    assert lt.headers["X-Cache"] == "miss" and 'lang="lt"' in lt.get_data(as_text=True)
    assert 'lang="en"' in en.get_data(as_text=True)
    cached_client.post("/login", data={"email": "seo@demo.srpp.lt", "password": "demo12345"})
    page = cached_client.get("/opportunities")
    assert "X-Cache" not in page.headers


def test_feeds_are_cached_with_their_content_type(cached_client):
    a = cached_client.get("/opportunities.atom")
    b = cached_client.get("/opportunities.atom")
    assert b.headers["X-Cache"] == "hit" and b.content_type == a.content_type and b.data == a.data


def test_cached_anonymous_pages_carry_no_csrf_token(cached_client):
    page = cached_client.get("/opportunities").get_data(as_text=True)
    assert "csrf_token" not in page


def test_logged_in_pages_reuse_the_cached_count_and_keys(app, cached_client, ctx):
    from sqlalchemy import event

    cached_client.post("/login", data={"email": "seo@demo.srpp.lt", "password": "demo12345"})
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    engine = app.extensions["srpp_engine"]
    cached_client.get("/opportunities?municipality=PAN-C")
    event.listen(engine, "before_cursor_execute", count)
    try:
        resp = cached_client.get("/opportunities?municipality=PAN-C")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert "X-Cache" not in resp.headers  # the HTML itself is rendered for the member
    assert statements, "the rows themselves are still loaded"
    assert not any("count(" in s.lower() for s in statements)  # the total came from the cache
