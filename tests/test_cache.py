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


# --- generations bumped by watched models; cached payment figures and regional totals ---------------

@pytest.fixture()
def caching(service_app, conn):
    """The page cache on for services called directly (``ctx``)."""
    from srpp.core import cache

    cache.clear_local()
    service_app.config["PAGE_CACHE"] = True
    yield
    service_app.config["PAGE_CACHE"] = False
    cache.clear_local()


def _invoice_and_contract(ctx):
    from srpp.contracts.models import Contract
    from srpp.payments.models import Invoice

    inv = ctx.scalars(select(Invoice).order_by(Invoice.id)).first()
    return inv, ctx.get(Contract, inv.contract_id)


def test_changes_to_watched_rows_bump_their_generation(ctx):
    """Invoices, payments and work stoppages bump the payment figures whatever changes them; a contract
    or a supplier only where the figures depend on it (their municipality, supplier, kind)."""
    from srpp.core import cache
    from srpp.orgs.models import Supplier, SupplierKind
    from srpp.payments.figures import CACHE_NS

    inv, contract = _invoice_and_contract(ctx)

    def bumped(change) -> bool:
        before = cache.generation(CACHE_NS)
        change()
        ctx.flush()
        assert cache.generation(CACHE_NS) == before  # not before the commit
        ctx.commit()
        return cache.generation(CACHE_NS) > before

    assert bumped(lambda: setattr(inv, "interest", inv.interest + 1))
    assert not bumped(lambda: setattr(contract, "title", contract.title + " (renamed)"))
    other = ctx.scalars(select(Supplier).where(Supplier.id != contract.supplier_id)).first()
    assert bumped(lambda: setattr(contract, "supplier_id", other.id))
    supplier = ctx.get(Supplier, contract.supplier_id)
    assert not bumped(lambda: setattr(supplier, "legal_name", supplier.legal_name + " "))
    assert bumped(lambda: setattr(supplier, "kind", SupplierKind.COMPANY if supplier.kind != SupplierKind.COMPANY
                                  else SupplierKind.SEO))
    from sqlalchemy import update

    from srpp.payments.models import Invoice

    assert bumped(lambda: ctx.execute(update(Invoice).where(Invoice.id == inv.id).values(interest=0)))


@pytest.mark.postgres
def test_the_generation_row_is_locked_only_when_committing(app, ctx):
    """Two transactions changing invoices must not deadlock on the generation's row: it is locked at
    commit, after every data row, not at the first flush (another connection can still update it)."""
    from sqlalchemy import text

    from srpp.payments.figures import CACHE_NS

    inv, _contract = _invoice_and_contract(ctx)
    inv.interest = inv.interest + 1
    ctx.flush()
    with app.extensions["srpp_engine"].connect() as other:
        other.execute(text("SET lock_timeout = '2s'"))
        other.execute(text("UPDATE cache_generations SET value = value WHERE namespace = :ns"), {"ns": CACHE_NS})
        other.rollback()
    ctx.rollback()


def test_payment_figures_are_computed_once_and_a_payment_shows_at_once(app, ctx, caching):
    """The dashboard's figures of a half-year come from the cache until an invoice changes; the change
    is seen by the next request, not after the cache's TTL."""
    from sqlalchemy import event

    from srpp.payments import figures, services
    from srpp.payments.models import Invoice, InvoiceState

    inv = ctx.scalars(select(Invoice).where(Invoice.state.in_([InvoiceState.RECEIVED, InvoiceState.LATE]),
                                            Invoice.paid_on.is_(None)).order_by(Invoice.id)).first()
    assert inv is not None, "the demo region has an open invoice"
    day = inv.received_on + dt.timedelta(days=3)
    start, end = (dt.date(day.year, 1, 1), dt.date(day.year, 6, 30)) if day.month <= 6 else (
        dt.date(day.year, 7, 1), dt.date(day.year, 12, 31))
    first = figures.compute(start, end, inv.municipality_id)
    ctx.commit()
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    engine = app.extensions["srpp_engine"]
    event.listen(engine, "before_cursor_execute", count)
    try:
        again = figures.compute(start, end, inv.municipality_id)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert again == first
    assert not any("invoices" in s for s in statements), statements  # from the cache

    finance = ctx.scalar(select(User).join(User.memberships).where(User.email.like("finance.%")).where(
        User.memberships.any(municipality_id=inv.municipality_id)))
    services.record_payment(finance, inv, day, inv.amount - inv.paid_amount, "CACHE-TEST-1")
    ctx.commit()
    after = figures.compute(start, end, inv.municipality_id)
    assert after.paid_count == first.paid_count + 1


def test_a_transaction_that_changed_cached_data_neither_reads_nor_fills_the_cache(ctx, caching):
    """What it would store might be rolled back, and a later bump would reuse the same generation."""
    from srpp.core import cache

    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    assert cache.memo("test-ns", "x", compute) == 1
    assert cache.memo("test-ns", "x", compute) == 1  # cached
    cache.bump("test-ns")
    assert cache.memo("test-ns", "x", compute) == 2
    assert cache.memo("test-ns", "x", compute) == 3  # not stored while the bump is uncommitted
    ctx.rollback()
    assert cache.memo("test-ns", "x", compute) == 1  # the old generation's value: the bump never happened


def test_regional_totals_are_cached_until_a_publication(ctx, caching):
    from srpp.orgs.models import ServiceCategory
    from srpp.orgs.services import municipality_by_code
    from srpp.plans import services as plans
    from srpp.region import services
    from srpp.rules.models import Procedure

    admin = ctx.scalar(select(User).where(User.email == "admin@demo.srpp.lt"))
    f = services.PlanFilter(municipality="KUP")
    before = services.overview(admin, f)
    ctx.commit()
    assert services.overview(admin, f).total_value == before.total_value
    officer = ctx.scalar(select(User).where(User.email == "officer.kup@demo.srpp.lt"))
    draft = plans.start_new_version(officer, plans.current_published(municipality_by_code("KUP")).plan)
    cat = ctx.scalar(select(ServiceCategory).where(ServiceCategory.key == "RESPITE"))
    plans.add_item(officer, draft, plans.ItemInput(
        title="Cache test item", category_id=cat.id, main_cpv=cat.main_cpv, estimated_value=Decimal("12345"),
        launch_month=dt.date.today().replace(day=1), duration_months=12, procedure=Procedure.SIMPLIFIED))
    plans.publish(officer, draft)
    ctx.commit()
    after = services.overview(admin, f)
    assert after.total_value == before.total_value + Decimal("12345")
    assert after.item_count == before.item_count + 1
    assert after.timeline.total == before.timeline.total + Decimal("12345")  # launches this month


def test_alerting_risks_are_cached_until_an_indicator_value_changes(ctx, caching):
    """The dashboards' set of alerting risks is cached per generation of the indicators: a value turning
    red is seen by the next page."""
    from srpp.core import cache
    from srpp.kpis import dashboards, overview
    from srpp.risks import services as risks

    before = dashboards._alert_risk_ids()
    ctx.commit()
    generation = cache.generation(overview.CACHE_NS)
    assert dashboards._alert_risk_ids() == before and cache.generation(overview.CACHE_NS) == generation
    for risk in risks.all_risks():
        if risk.id in before:
            continue
        row = next((r for r in risks.monitoring([risk])[risk.id] if r.indicator is not None and r.values), None)
        red = next((Decimal(v) for v in ("-1000000", "0", "1000000")
                    if row is not None and row.indicator.status(Decimal(v)) == "red"), None)
        if red is None:
            continue
        row.values[0].value = red
        ctx.commit()
        assert cache.generation(overview.CACHE_NS) > generation
        assert risk.id in dashboards._alert_risk_ids()
        return
    pytest.fail("no quiet risk of the demo region could be made to alert")
