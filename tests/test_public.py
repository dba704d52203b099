"""The public pipeline: /opportunities (filters, sorting, paging, stale plans, query count),
item pages, saved searches and their digests."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from sqlalchemy import event, func, select


@pytest.fixture(autouse=True)
def _no_framework_opportunities(conn):
    """These tests are about plan items and lots: the demo framework open to new suppliers (the
    third kind of opportunity, tested in tests/test_calloff_views.py) is closed for them, inside
    the test's rolled-back transaction."""
    from sqlalchemy import text

    conn.execute(text("UPDATE framework_agreements SET admits_new_suppliers = false"))


SCRIPT = "<script>alert('x')</script>"


# --- helpers -----------------------------------------------------------------------------------

def _published_version(session, code):
    from srpp.orgs.models import Municipality
    from srpp.plans.models import PlanState, PlanVersion

    return session.scalar(
        select(PlanVersion).join(Municipality, Municipality.id == PlanVersion.municipality_id)
        .where(Municipality.code == code, PlanVersion.state == PlanState.PUBLISHED))


def _add_item(session, code, title, **changes):
    """Put an item straight into a published version (the services refuse that on purpose)."""
    from srpp.core.db import utcnow
    from srpp.plans.models import PlanItem
    from srpp.rules.models import ReservationBasis

    version = _published_version(session, code)
    model = version.items[0]
    values = dict(
        plan_version_id=version.id, municipality_id=version.municipality_id, title=title,
        category_id=model.category_id, main_cpv=model.main_cpv, priority_area=model.priority_area,
        estimated_value=Decimal("12345.00"), launch_month=model.launch_month, duration_months=12,
        procedure=model.procedure, reservation=ReservationBasis.NONE, position=100, content_changed_at=utcnow(),
    )
    values.update(changes)
    item = PlanItem(**values)
    session.add(item)
    session.flush()
    return item


def _filtered(args):
    from srpp.public import services

    lookups = services.FilterLookups.load()
    filters = services.parse_filters(args, lookups)
    page = services.opportunities_page(filters, per_page=10_000)
    return filters, page.items


def _total(html: str) -> int:
    m = re.search(r'id="results-heading"[^>]*>(\d+) opportunit', html)
    assert m, "result count heading not found"
    return int(m.group(1))


def _uids(html: str) -> list[str]:
    """The rows of a listing: plan item uids and ``lots/<id>`` of open lots."""
    return re.findall(r'<h3 id="opp-(?:lot-)?[0-9a-f]+"><a href="/opportunities/((?:lots/)?[0-9a-f]+)"', html)


def _user(session, email):
    from srpp.auth.models import User

    return session.scalar(select(User).where(User.email == email))


# --- the listing -------------------------------------------------------------------------------

def test_lists_every_open_item_of_published_versions_only(ctx):
    from srpp.plans.models import ItemState, PlanItem, PlanState, PlanVersion

    expected = ctx.scalar(
        select(func.count()).select_from(PlanItem).join(PlanVersion, PlanVersion.id == PlanItem.plan_version_id)
        .where(PlanVersion.state == PlanState.PUBLISHED,
               PlanItem.state.in_([ItemState.PLANNED, ItemState.IN_PREPARATION])))
    filters, rows = _filtered({})
    assert not filters.errors
    items = [o for o in rows if o.kind == "plan_item"]  # (open lots of published tenders come too)
    assert len(items) == expected > 30
    assert {o.source.plan_version.state for o in items} == {PlanState.PUBLISHED}
    assert {o.kind for o in rows} <= {"plan_item", "lot"}


def test_launched_and_cancelled_items_are_not_opportunities(ctx):
    from srpp.plans.models import ItemState

    launched = _add_item(ctx, "KUP", "Jau paskelbtas pirkimas", state=ItemState.LAUNCHED)
    cancelled = _add_item(ctx, "KUP", "Atšauktas pirkimas", state=ItemState.CANCELLED)
    prep = _add_item(ctx, "KUP", "Rengiamas pirkimas", state=ItemState.IN_PREPARATION)
    keys = {o.key for o in _filtered({"municipality": "KUP"})[1]}
    assert prep.uid in keys
    assert launched.uid not in keys and cancelled.uid not in keys


def test_page_shows_the_public_fields(client):
    html = client.get("/opportunities?municipality=ROK&q=Juodup").get_data(as_text=True)
    assert _total(html) == 1
    for text in ("Demencijos dienos priežiūra Juodupėje", "Rokiškis District Municipality", "€50,000.00",
                 "February 2027", "24 months", "Simplified procurement",
                 "reserved for public-service-mission organisations"):
        assert text in html, text


@pytest.mark.parametrize("args, check", [
    ({"municipality": "ROK"}, lambda o: o.municipality.code == "ROK"),
    ({"municipality": "rok"}, lambda o: o.municipality.code == "ROK"),
    ({"category": "DEM_DAY"}, lambda o: o.category.key == "DEM_DAY"),
    ({"area": "MOBILITY"}, lambda o: o.priority_area.value == "MOBILITY"),
    ({"reserved": "1"}, lambda o: o.is_reserved),
    ({"quarter": "2027-Q1"}, lambda o: dt.date(2027, 1, 1) <= o.month < dt.date(2027, 4, 1)),
    ({"quarter": "2027-q2"}, lambda o: dt.date(2027, 4, 1) <= o.month < dt.date(2027, 7, 1)),
    ({"min_value": "60000"}, lambda o: o.value >= 60000),
    ({"min_value": "64 000,00"}, lambda o: o.value >= 64000),
    ({"max_value": "30000.50"}, lambda o: o.value <= Decimal("30000.50")),
    ({"max_value": "1\u00a0234,50"}, lambda o: o.value <= Decimal("1234.50")),
    ({"q": "JAUNIMO"}, lambda o: "jaunimo" in o.title.lower() or "jaunimo" in (o.notes or "").lower()),
    ({"q": "dienos centras"}, lambda o: all(w in f"{o.title} {o.notes or ''}".lower() for w in ("dienos", "centras"))),
])
def test_each_filter_narrows_correctly(ctx, args, check):
    _, everything = _filtered({})
    filters, items = _filtered(args)
    assert not filters.errors
    matching = [o for o in everything if check(o)]
    assert {o.key for o in items} == {o.key for o in matching}
    assert len(items) < len(everything)


def test_words_search_notes_too_and_takes_wildcards_literally(ctx):
    item = _add_item(ctx, "PAS", "Dienos centras", notes_for_seos="Netoli Tulpiniškių stotelės")
    keys = {o.key for o in _filtered({"q": "Tulpiniškių"})[1]}
    assert keys == {item.uid}  # only in the notes
    assert _filtered({"q": "%"})[1] == []
    assert _filtered({"q": "_"})[1] == []


def test_filters_combine(ctx):
    filters, items = _filtered({"municipality": "ROK", "reserved": "1", "quarter": "2027-Q1"})
    assert not filters.errors
    assert len(items) == 4
    assert all(o.municipality.code == "ROK" and o.is_reserved and o.quarter == "2027-Q1" for o in items)
    assert filters.query_string() == "municipality=ROK&reserved=1&quarter=2027-Q1"


def test_filters_on_the_page(client, ctx):
    base = _total(client.get("/opportunities").get_data(as_text=True))
    html = client.get("/opportunities?municipality=ROK&reserved=1&quarter=2027-Q1").get_data(as_text=True)
    assert _total(html) == 4 < base
    assert 'option selected value="ROK"' in html
    assert re.search(r'<input[^>]*checked[^>]*name="reserved"', html)
    assert 'value="2027-Q1"' in html


@pytest.mark.parametrize("sort, key, reverse", [
    ("", lambda o: o.month, False),
    ("month", lambda o: o.month, False),
    ("value_desc", lambda o: o.value, True),
    ("value_asc", lambda o: o.value, False),
    ("newest", lambda o: o.updated, True),
])
def test_sorting(ctx, sort, key, reverse):
    _add_item(ctx, "BIR", "Naujausias", content_changed_at=dt.datetime.now(dt.UTC), estimated_value=Decimal("1.00"))
    filters, items = _filtered({"sort": sort})
    assert not filters.errors
    values = [key(o) for o in items]
    assert values == sorted(values, reverse=reverse)
    if sort == "newest":
        assert items[0].title == "Naujausias"


def test_pagination_20_per_page(client, ctx):
    first = client.get("/opportunities").get_data(as_text=True)
    total = _total(first)
    assert len(_uids(first)) == 20
    pages = [_uids(client.get(f"/opportunities?page={n}").get_data(as_text=True)) for n in (1, 2, 3)]
    seen = [u for p in pages for u in p]
    assert len(seen) == len(set(seen)) == min(total, 60)
    assert 'rel="next"' in first and "Page 1 of" in first
    assert _uids(client.get("/opportunities?page=999").get_data(as_text=True)) == []


@pytest.mark.parametrize("query, field", [
    ("municipality=XYZ", "municipality"),
    ("category=NOPE", "category"),
    ("area=SPACE", "area"),
    ("reserved=maybe", "reserved"),
    ("quarter=2027-Q5", "quarter"),
    ("quarter=Q1", "quarter"),
    ("min_value=abc", "min_value"),
    ("min_value=-5", "min_value"),
    ("min_value=1e400", "min_value"),
    ("max_value=10%2C5.5%2C5", "max_value"),
    ("max_value=99999999999999999", "max_value"),
    ("min_value=5000&max_value=100", "max_value"),
    ("sort=price", "sort"),
    ("page=abc", "page"),
    ("page=0", "page"),
    ("page=99999999999999999999999", "page"),
    ("q=" + "a" * 300, "q"),
])
def test_bad_filter_values_give_a_message_not_an_error(client, query, field):
    resp = client.get(f"/opportunities?{query}")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "Some filters could not be used and were ignored" in html
    if field != "page":
        assert f'id="{field}-error"' in html
    assert _total(html) > 0


def test_good_amounts_are_accepted_in_both_writings(ctx):
    for raw in ("1234.50", "1 234,50", "1\u202f234,50", "1.234,50", "1,234.50", "€ 1 234,50"):
        filters, _ = _filtered({"min_value": raw})
        assert filters.errors == {} and filters.min_value == Decimal("1234.50"), raw


def test_superseded_versions_never_appear(client, ctx):
    from srpp.plans.models import PlanState, PlanVersion

    bir = _published_version(ctx, "BIR")
    assert bir.number == 2
    old = ctx.scalar(select(PlanVersion).where(PlanVersion.plan_id == bir.plan_id,
                                               PlanVersion.state == PlanState.SUPERSEDED))
    old_only = {i.uid for i in old.items} - {i.uid for i in bir.items}
    assert old_only  # the inclusive-education item was dropped in version 2
    shown = {o.key for o in _filtered({})[1]}
    assert not old_only & shown
    assert {o.source.plan_version_id for o in _filtered({"municipality": "BIR"})[1]} == {bir.id}
    html = client.get("/opportunities?municipality=BIR&q=jaunimo").get_data(as_text=True)
    assert _total(html) == 1
    assert "€32,000.00" in html and "€30,000.00" not in html  # the value of version 2, not 1
    assert client.get(f"/opportunities/{old_only.pop()}").status_code == 404


def test_stale_warning_for_an_overdue_plan(client, ctx):
    from srpp.plans.services import review_status

    assert review_status(_published_version(ctx, "PAN-D")).stale
    html = client.get("/opportunities?municipality=PAN-D").get_data(as_text=True)
    # every plan item carries the warning; open lots (of real tenders) do not
    items = [u for u in _uids(html) if not u.startswith("lots/")]
    assert html.count("review overdue") == len(items) > 0
    assert _total(html) == len(_uids(html))
    assert "Last updated Mar 20, 2026, review overdue" in html
    if not review_status(_published_version(ctx, "ROK")).stale:
        assert "review overdue" not in client.get("/opportunities?municipality=ROK").get_data(as_text=True)


def _count_statements(app, client, url):
    engine = app.extensions["srpp_engine"]
    statements: list[str] = []

    def _before(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", _before)
    try:
        resp = client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", _before)
    assert resp.status_code == 200
    return statements, resp.get_data(as_text=True)


def test_constant_number_of_queries(app, client, ctx):
    """Page 1 with 5 rows and with 20 rows (from 45 items of six municipalities, stale and fresh
    plans, several categories, and the open lots of published tenders) costs the same number of
    SQL queries (see also tests/test_public_lots.py)."""
    from tests.test_public_lots import make_tender

    codes = ["ROK", "PAN-D", "BIR", "KUP", "PAS", "PAN-C"]
    for n in range(4):
        _add_item(ctx, codes[n], f"Kvoruminis bandymas {n}")
    make_tender(ctx, "KUP", [{"title": "Kvoruminis lotas"}], title="Kvoruminis pirkimas")
    few, few_html = _count_statements(app, client, "/opportunities?q=Kvoruminis")
    assert len(_uids(few_html)) == 5 and "/opportunities/lots/" in few_html
    for n in range(4, 41):
        _add_item(ctx, codes[n % 6], f"Kvoruminis bandymas {n}", estimated_value=Decimal(1000 + n))
    make_tender(ctx, "ROK", [{"title": f"Kvoruminis lotas {k}", "value": "1010"} for k in range(3)],
                title="Kvoruminis pirkimas 2")
    many, many_html = _count_statements(app, client, "/opportunities?q=Kvoruminis")
    assert _total(many_html) == 45 and len(_uids(many_html)) == 20
    assert "review overdue" in many_html
    assert len(few) == len(many), "\n\n".join(many)
    assert len(many) <= 6
    # the feeds do not grow with the number of rows either
    few_feed, _ = _count_statements(app, client, "/opportunities.atom?q=Kvoruminis&max_value=1004")
    many_feed, _ = _count_statements(app, client, "/opportunities.atom?q=Kvoruminis")
    assert len(few_feed) == len(many_feed)


def test_script_in_a_title_is_shown_as_text(client, ctx):
    item = _add_item(ctx, "ROK", SCRIPT, notes_for_seos=SCRIPT)
    for url in ("/opportunities?municipality=ROK", f"/opportunities/{item.uid}"):
        html = client.get(url).get_data(as_text=True)
        assert "&lt;script&gt;alert(" in html, url
        assert "<script>alert(" not in html, url


def test_page_links_both_feeds_with_the_current_filters(client):
    html = client.get("/opportunities?municipality=ROK&reserved=1&quarter=2027-Q1&page=2").get_data(as_text=True)
    for ext in ("atom", "ics"):
        assert (f'href="http://localhost/opportunities.{ext}?municipality=ROK&amp;reserved=1&amp;quarter=2027-Q1"'
                in html), ext
    assert "Atom news feed" in html and "iCalendar" in html


# --- the item page -----------------------------------------------------------------------------

def test_item_page(client, ctx):
    version = _published_version(ctx, "ROK")
    item = next(i for i in version.items if i.title.startswith("Demencijos dienos priežiūra Juodupėje"))
    resp = client.get(f"/opportunities/{item.uid}")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    m = item.municipality
    for text in (item.title, m.name_en, m.contact_email, m.contact_phone, version.plan.title,
                 item.main_cpv, item.main_cpv_code.label_en, "€50,000.00", "February 2027",
                 "reserved for public-service-mission organisations", "EU Art. 77"):
        assert text and text in html, text
    assert re.search(r"<dt>Version</dt><dd>1</dd>", html)
    assert "Published</dt><dd>Oct 20, 2026" in html
    assert f'href="http://localhost/opportunities.ics?municipality={m.code}"' in html
    assert f'href="http://localhost/opportunities.atom?municipality={m.code}"' in html


def test_item_page_404_for_unknown_uid(client):
    assert client.get("/opportunities/0123456789abcdef0123456789abcdef").status_code == 404
    assert client.get("/opportunities/nope").status_code == 404


def test_item_page_of_an_item_that_was_launched(client, ctx):
    from srpp.plans.models import ItemState

    item = _add_item(ctx, "KUP", "Jau paskelbtas", state=ItemState.LAUNCHED)
    html = client.get(f"/opportunities/{item.uid}").get_data(as_text=True)
    assert "no longer upcoming" in html


def test_navigation_links(client, as_user):
    assert 'href="/opportunities"' in client.get("/").get_data(as_text=True)
    as_user("seo@demo.srpp.lt")
    html = client.get("/").get_data(as_text=True)
    assert 'href="/opportunities"' in html and 'href="/saved-searches"' in html


# --- saved searches ----------------------------------------------------------------------------

def test_save_a_search_and_list_it(client, as_user, ctx):
    from srpp.plans.models import SavedSearch

    as_user("seo@demo.srpp.lt")
    html = client.get("/opportunities?municipality=ROK&reserved=1").get_data(as_text=True)
    assert "Save this search" in html
    assert 'name="query" type="hidden" value="municipality=ROK&amp;reserved=1"' in html
    resp = client.post("/saved-searches", data={"name": "Rokiškis reserved", "query": "municipality=ROK&reserved=1"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/saved-searches")
    search = ctx.scalar(select(SavedSearch).where(SavedSearch.name == "Rokiškis reserved"))
    assert search.query == "municipality=ROK&reserved=1"
    assert search.user.email == "seo@demo.srpp.lt"
    html = client.get("/saved-searches").get_data(as_text=True)
    assert "Rokiškis reserved" in html and "Rokiškis District Municipality" in html
    assert 'href="/opportunities?municipality=ROK&amp;reserved=1"' in html


def test_saving_refuses_bad_filters_and_empty_names(client, as_user, ctx):
    from srpp.plans.models import SavedSearch

    as_user("seo@demo.srpp.lt")
    before = ctx.scalar(select(func.count()).select_from(SavedSearch))
    resp = client.post("/saved-searches", data={"name": "Bad", "query": "municipality=XYZ"}, follow_redirects=True)
    assert resp.status_code == 200 and "Correct the filters before saving" in resp.get_data(as_text=True)
    resp = client.post("/saved-searches", data={"name": "", "query": "reserved=1"}, follow_redirects=True)
    assert resp.status_code == 200 and "The search was not saved" in resp.get_data(as_text=True)
    assert ctx.scalar(select(func.count()).select_from(SavedSearch)) == before


def test_saved_searches_need_a_login(client):
    resp = client.get("/saved-searches")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    assert client.post("/saved-searches", data={"name": "x", "query": ""}).status_code == 302
    assert "Save this search" not in client.get("/opportunities").get_data(as_text=True)


def test_only_the_owner_deletes_a_saved_search(client, as_user, ctx):
    from srpp.plans.models import SavedSearch

    seo = _user(ctx, "seo@demo.srpp.lt")
    search = SavedSearch(user_id=seo.id, name="Mine", query="reserved=1")
    ctx.add(search)
    ctx.flush()
    search_id = search.id
    as_user("officer.rok@demo.srpp.lt")
    assert client.post(f"/saved-searches/{search_id}/delete").status_code == 403
    assert "Mine" not in client.get("/saved-searches").get_data(as_text=True)
    as_user("seo@demo.srpp.lt")
    resp = client.post(f"/saved-searches/{search_id}/delete")
    assert resp.status_code == 302
    ctx.expunge_all()
    assert ctx.get(SavedSearch, search_id) is None
    assert client.post(f"/saved-searches/{search_id}/delete").status_code == 404


def test_delete_service_refuses_other_users(ctx):
    from srpp.core.permissions import PermissionDenied
    from srpp.plans.models import SavedSearch
    from srpp.public import services

    seo = _user(ctx, "seo@demo.srpp.lt")
    officer = _user(ctx, "officer.bir@demo.srpp.lt")
    search = services.save_search(seo, "Care", "category=DEM_DAY")
    with pytest.raises(PermissionDenied):
        services.delete_search(officer, search)
    services.delete_search(seo, search)
    assert ctx.get(SavedSearch, search.id) is None


# --- digests -----------------------------------------------------------------------------------

def _notifications(session, user, kind="saved_search_digest"):
    from srpp.core.models import Notification

    return list(session.scalars(select(Notification).where(Notification.user_id == user.id,
                                                            Notification.kind == kind)))


def test_digest_is_sent_once(ctx):
    from srpp.core.notify import outbox
    from srpp.plans.models import SavedSearch, SavedSearchHit
    from srpp.public import services

    seo = _user(ctx, "seo@demo.srpp.lt")
    search = SavedSearch(user_id=seo.id, name="ROK reserved", query="municipality=ROK&reserved=1",
                         created_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    ctx.add(search)
    ctx.flush()
    mails = len(outbox())
    now = dt.datetime(2026, 11, 26, 7, 0, tzinfo=dt.UTC)

    assert services.send_digests(now) >= 1
    notes = _notifications(ctx, seo)
    assert len(notes) == 1
    assert notes[0].dedupe_key == f"digest:{search.id}:2026-11-26"
    assert notes[0].link == "/opportunities?municipality=ROK&reserved=1"
    sent = [m for m in outbox()[mails:] if m["To"] == "seo@demo.srpp.lt"]
    assert len(sent) == 1
    body = sent[0].get_content()
    assert "Demencijos dienos priežiūra Juodupėje" in body  # the SEO reads Lithuanian
    assert "Transportas pagal poreikį" not in body  # not reserved
    hits = ctx.scalars(select(SavedSearchHit).where(SavedSearchHit.saved_search_id == search.id)).all()
    assert len(hits) == len(_filtered({"municipality": "ROK", "reserved": "1"})[1]) >= 4

    # the same run again (or the next day): nothing new, nothing sent
    assert services.send_digests(now) == 0
    assert services.send_digests(now + dt.timedelta(days=1)) == 0
    assert len(_notifications(ctx, seo)) == 1
    assert len([m for m in outbox()[mails:] if m["To"] == "seo@demo.srpp.lt"]) == 1

    # a new matching item and a changed one are sent the next day, nothing else
    new = _add_item(ctx, "ROK", "Nauja rezervuota paslauga", reservation=search_reservation())
    changed = next(i for i in _published_version(ctx, "ROK").items if i.title.startswith("Socialinės dirbtuvės"))
    changed.content_changed_at = dt.datetime.now(dt.UTC)
    _add_item(ctx, "ROK", "Nauja nerezervuota paslauga")
    ctx.flush()
    later = now + dt.timedelta(days=1)
    assert services.send_digests(later) == 1
    notes = _notifications(ctx, seo)
    assert len(notes) == 2
    latest = max(notes, key=lambda n: n.id)
    assert new.title in latest.body and changed.title in latest.body
    assert "Nauja nerezervuota" not in latest.body and "Juodupėje" not in latest.body
    assert services.send_digests(later) == 0


def search_reservation():
    from srpp.rules.models import ReservationBasis

    return ReservationBasis.EU_ART20


def test_a_new_search_starts_from_what_is_published_now(ctx):
    from srpp.public import services

    seo = _user(ctx, "seo@demo.srpp.lt")
    services.save_search(seo, "Everything", "")
    assert services.send_digests(dt.datetime.now(dt.UTC)) == 0
    assert _notifications(ctx, seo) == []


def test_digest_task_is_registered_and_scheduled(app):
    from workers.schedule import BEAT_SCHEDULE

    celery = app.extensions["celery"]
    assert "srpp.public.send_digests" in celery.tasks
    assert any(entry["task"] == "srpp.public.send_digests" for entry in BEAT_SCHEDULE.values())


def test_digest_task_runs_the_service(ctx):
    from srpp.plans.models import SavedSearch
    from workers.tasks.public import send_digests

    seo = _user(ctx, "seo@demo.srpp.lt")
    ctx.add(SavedSearch(user_id=seo.id, name="KUP", query="municipality=KUP",
                        created_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)))
    ctx.flush()
    assert send_digests.run() == 1
    assert send_digests.run() == 0
    assert len(_notifications(ctx, seo)) == 1
