"""Open lots in the public pipeline: listed while their tender is published, with the plan
filters, merged with plan items at a constant number of queries; the public lot page; feeds and
saved-search digests with lots.

Tenders are made here from fresh plan items through ``srpp.tenders.services`` (so the tests do
not depend on the demo tenders)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import feedparser
import pytest
from icalendar import Calendar
from sqlalchemy import select

from tests.test_public import SCRIPT, _add_item, _count_statements, _filtered, _total, _uids, _user


@pytest.fixture(autouse=True)
def _no_framework_opportunities(conn):
    """These tests are about plan items and lots: the demo framework open to new suppliers (the
    third kind of opportunity, tested in tests/test_calloff_views.py) is closed for them, inside
    the test's rolled-back transaction."""
    from sqlalchemy import text

    conn.execute(text("UPDATE framework_agreements SET admits_new_suppliers = false"))


DEADLINE = dt.date(2027, 2, 15)


def _category(session, key):
    from srpp.orgs.models import ServiceCategory

    return session.scalar(select(ServiceCategory).where(ServiceCategory.key == key))


def _criteria():
    from srpp.tenders.models import CriterionKind
    from srpp.tenders.services import CriterionInput

    return [CriterionInput("Kaina", CriterionKind.PRICE, Decimal("60")),
            CriterionInput("Paslaugų tęstinumas", CriterionKind.SOCIAL, Decimal("40"),
                           "Tie patys darbuotojai lanko tuos pačius gavėjus")]


def make_tender(session, code="ROK", lots=None, *, title="Bandomasis pirkimas", deadline=DEADLINE,
                publish=True, category="DEM_DAY"):
    """A tender of ``code`` made from fresh plan items (one per lot spec: title, reservation,
    value, description), with criteria and a deadline; published unless ``publish`` is False."""
    from srpp.rules.models import ReservationBasis
    from srpp.tenders import services
    from srpp.tenders.models import TenderState

    lots = lots or [{"title": "Pirmoji dalis"}, {"title": "Antroji dalis"}]
    cat = _category(session, category)
    officer = _user(session, f"officer.{code.lower()}@demo.srpp.lt")
    items = [_add_item(session, code, spec["title"], category_id=cat.id, main_cpv=cat.main_cpv,
                       priority_area=cat.priority_area, duration_months=24,
                       reservation=spec.get("reservation", ReservationBasis.NONE),
                       estimated_value=Decimal(spec.get("value", "20000")),
                       notes_for_seos=spec.get("description")) for spec in lots]
    tender = services.create_from_plan(officer, items, title=title)
    services.update_tender(officer, tender, {"submission_deadline": deadline,
                                             "no_division_reasons": "Viena paslauga, vienas gavėjų ratas."},
                           tender.version)
    for lot in tender.lots:
        services.set_criteria(officer, lot, _criteria())
    services.transition(officer, tender, TenderState.READY)
    if publish:
        services.transition(officer, tender, TenderState.PUBLISHED)
    return tender


def _lot_keys(opportunities):
    return {o.key for o in opportunities if o.kind == "lot"}


def _item_keys(opportunities):
    return {o.key for o in opportunities if o.kind == "plan_item"}


def _officer(session, code="ROK"):
    return _user(session, f"officer.{code.lower()}@demo.srpp.lt")


# --- listed with the tender's state ---------------------------------------------------------------

def test_published_lots_replace_their_plan_items(ctx):
    from srpp.plans.models import ItemState
    from srpp.tenders import services
    from srpp.tenders.models import TenderState

    tender = make_tender(ctx, publish=False)
    uids = [link.item_uid for link in tender.plan_links]
    listed = _filtered({"municipality": "ROK"})[1]
    assert set(uids) <= _item_keys(listed)  # in preparation: still upcoming as plan items
    assert not _lot_keys(listed)

    services.transition(_officer(ctx), tender, TenderState.PUBLISHED)
    listed = _filtered({"municipality": "ROK"})[1]
    assert _lot_keys(listed) == {str(lot.id) for lot in tender.lots}
    assert not set(uids) & _item_keys(listed)
    lot = next(o for o in listed if o.kind == "lot" and o.key == str(tender.lots[0].id))
    assert lot.title == "Pirmoji dalis" and lot.tender_title == "Bandomasis pirkimas"
    assert lot.deadline == DEADLINE and lot.quarter == "2027-Q1" and lot.month == dt.date(2027, 2, 1)
    assert lot.url == f"/opportunities/lots/{tender.lots[0].id}"

    # even an item whose state was (wrongly) left planned is replaced by its lots
    from srpp.plans.models import PlanItem

    for item in ctx.scalars(select(PlanItem).where(PlanItem.uid.in_(uids))):
        assert item.state == ItemState.LAUNCHED
        item.state = ItemState.PLANNED
    ctx.flush()
    assert not set(uids) & _item_keys(_filtered({"municipality": "ROK"})[1])


@pytest.mark.parametrize("outcome", ["ready", "evaluation", "awarded", "cancelled", "unsuccessful"])
def test_lots_leave_the_pipeline_with_their_tender(ctx, client, outcome):
    from srpp.tenders import services
    from srpp.tenders.models import TenderState

    officer = _officer(ctx)
    tender = make_tender(ctx, publish=outcome != "ready")
    lot_ids = {str(lot.id) for lot in tender.lots}
    if outcome == "evaluation":
        services.transition(officer, tender, TenderState.EVALUATION)
    elif outcome == "awarded":
        services.transition(officer, tender, TenderState.EVALUATION)
        for lot in tender.lots:
            services.close_unsuccessful(officer, lot, "Nėra tinkamų pasiūlymų")
        services.transition(officer, tender, TenderState.AWARDED)
    elif outcome == "cancelled":
        services.transition(officer, tender, TenderState.CANCELLED, reason="Biudžetas atšauktas")
    elif outcome == "unsuccessful":
        services.close_unsuccessful(officer, tender.lots[0], "Nėra pasiūlymų")
        lot_ids = {str(tender.lots[1].id)}  # the other lot stays open
    listed = _lot_keys(_filtered({})[1])
    if outcome == "unsuccessful":
        assert listed & {str(lot.id) for lot in tender.lots} == lot_ids
    else:
        assert not listed & lot_ids
    # the public page: 404 before publication; afterwards it stays, saying the lot is not open
    resp = client.get(f"/opportunities/lots/{tender.lots[0].id}")
    if outcome == "ready":
        assert resp.status_code == 404
    else:
        assert resp.status_code == 200
        html = resp.get_data(as_text=True)
        assert ("The tender was cancelled" if outcome == "cancelled" else "This lot is no longer open") in html


def test_lot_of_a_tender_cancelled_before_publication_has_no_page(client, ctx):
    from srpp.tenders import services
    from srpp.tenders.models import TenderState

    tender = make_tender(ctx, publish=False)
    services.transition(_officer(ctx), tender, TenderState.CANCELLED, reason="Nebereikia")
    assert client.get(f"/opportunities/lots/{tender.lots[0].id}").status_code == 404
    assert client.get("/opportunities/lots/999999999").status_code == 404


# --- filters and sorting --------------------------------------------------------------------------

@pytest.fixture()
def kup_tender(ctx):
    """KUP: three lots of different value and reservation, one with a distinctive description."""
    from srpp.rules.models import ReservationBasis

    return make_tender(ctx, "KUP", [
        {"title": "Dienos priežiūra Subačiuje", "value": "15000", "reservation": ReservationBasis.EU_ART20},
        {"title": "Dienos priežiūra Alizavoje", "value": "45000", "description": "Pavėžėjimas iš Šimonių"},
        {"title": "Dienos priežiūra Kupiškyje", "value": "90000", "reservation": ReservationBasis.LT_23_1_5},
    ], title="Demencijos dienos priežiūra Kupiškio rajone", deadline=dt.date(2027, 5, 20))


@pytest.mark.parametrize("args, expected", [
    ({}, {0, 1, 2}),
    ({"municipality": "KUP"}, {0, 1, 2}),
    ({"municipality": "ROK"}, set()),
    ({"category": "DEM_DAY"}, {0, 1, 2}),
    ({"category": "DRT"}, set()),
    ({"area": "LTC"}, {0, 1, 2}),
    ({"area": "MOBILITY"}, set()),
    ({"reserved": "1"}, {0, 2}),
    ({"quarter": "2027-Q2"}, {0, 1, 2}),
    ({"quarter": "2027-Q1"}, set()),
    ({"min_value": "40000"}, {1, 2}),
    ({"max_value": "45 000,00"}, {0, 1}),
    ({"min_value": "20000", "max_value": "50000"}, {1}),
    ({"q": "subačiuje"}, {0}),
    ({"q": "Šimonių"}, {1}),  # in the description
    ({"q": "Kupiškio rajone"}, set()),  # the tender's title is not the lot's
    ({"municipality": "KUP", "reserved": "1", "quarter": "2027-Q2", "max_value": "20000"}, {0}),
])
def test_filters_apply_to_lots(ctx, kup_tender, args, expected):
    filters, items = _filtered(args)
    assert not filters.errors
    lots = {str(lot.id): n for n, lot in enumerate(kup_tender.lots)}
    assert {lots[k] for k in _lot_keys(items) if k in lots} == expected


def test_quarter_of_a_lot_without_deadline_is_its_publication_month(ctx):
    from srpp.core.db import utcnow

    tender = make_tender(ctx, deadline=None)
    today = utcnow().date()
    quarter = f"{today.year}-Q{(today.month - 1) // 3 + 1}"
    assert str(tender.lots[0].id) in _lot_keys(_filtered({"quarter": quarter})[1])
    lot = next(o for o in _filtered({"quarter": quarter})[1] if o.key == str(tender.lots[0].id))
    assert lot.deadline is None and lot.published_on == today and lot.day == today


@pytest.mark.parametrize("sort, key, reverse", [
    ("month", lambda o: o.day, False),
    ("value_desc", lambda o: o.value, True),
    ("value_asc", lambda o: o.value, False),
    ("newest", lambda o: o.updated, True),
])
def test_items_and_lots_sorted_together(ctx, kup_tender, sort, key, reverse):
    filters, rows = _filtered({"sort": sort})
    assert {o.kind for o in rows} == {"plan_item", "lot"}
    values = [key(o) for o in rows]
    assert values == sorted(values, reverse=reverse)
    if sort == "newest":  # just published
        assert rows[0].kind == "lot"


def test_pages_hold_both_kinds_without_repeats(client, ctx, kup_tender):
    total = _total(client.get("/opportunities?sort=value_desc").get_data(as_text=True))
    seen = []
    for n in range(1, (total + 19) // 20 + 1):
        seen += _uids(client.get(f"/opportunities?sort=value_desc&page={n}").get_data(as_text=True))
    assert len(seen) == len(set(seen)) == total
    assert {f"lots/{lot.id}" for lot in kup_tender.lots} <= set(seen)


def test_constant_number_of_queries_with_items_and_lots(app, client, ctx):
    """A page with 3 items + 2 lots and one with 20 rows of 40 items + 12 lots of several
    municipalities and tenders cost the same number of queries (so do the feeds)."""
    codes = ["ROK", "PAN-D", "BIR", "KUP", "PAS", "PAN-C"]
    for n in range(3):
        _add_item(ctx, codes[n], f"Kvoruminis punktas {n}")
    make_tender(ctx, "ROK", [{"title": "Kvoruminis lotas A"}, {"title": "Kvoruminis lotas B"}])
    few, few_html = _count_statements(app, client, "/opportunities?q=Kvoruminis&sort=value_desc")
    assert len(_uids(few_html)) == 5 and "/opportunities/lots/" in few_html
    for n in range(3, 40):
        _add_item(ctx, codes[n % 6], f"Kvoruminis punktas {n}", estimated_value=Decimal(20000 + n))
    for n, code in enumerate(["BIR", "KUP", "PAS", "PAN-C", "PAN-D"]):
        make_tender(ctx, code, [{"title": f"Kvoruminis lotas {code} {k}", "value": str(20010 + n * 3 + k)}
                                for k in range(2)], title=f"Kvoruminis pirkimas {code}")
    many, many_html = _count_statements(app, client, "/opportunities?q=Kvoruminis&sort=value_desc")
    assert _total(many_html) == 52 and len(_uids(many_html)) == 20
    assert "/opportunities/lots/" in many_html and "review overdue" in many_html
    assert len(few) == len(many), "\n\n".join(many)
    assert len(many) <= 6
    for feed in ("atom", "ics"):
        few_feed, _ = _count_statements(app, client, f"/opportunities.{feed}?q=Kvoruminis&max_value=1")
        many_feed, _ = _count_statements(app, client, f"/opportunities.{feed}?q=Kvoruminis")
        assert len(few_feed) == len(many_feed), feed


def test_listing_shows_lots_with_their_tender(client, ctx, kup_tender):
    html = client.get("/opportunities?municipality=KUP&reserved=1").get_data(as_text=True)
    lot = kup_tender.lots[0]
    assert f'href="/opportunities/lots/{lot.id}"' in html
    assert "Open lot" in html and "Lot 1 of the tender “Demencijos dienos priežiūra Kupiškio rajone”" in html
    assert "Submission deadline" in html and "May 20, 2027" in html
    assert "reserved for sheltered workshops and work-integration enterprises" in html
    assert f'href="/opportunities/lots/{kup_tender.lots[1].id}"' not in html  # not reserved


# --- the lot page -----------------------------------------------------------------------------------

def test_lot_page(client, ctx, kup_tender):
    lot = kup_tender.lots[0]
    resp = client.get(f"/opportunities/lots/{lot.id}")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    m = lot.municipality
    for text in (lot.title, kup_tender.title, m.name_en, m.contact_email, "Dementia day care", "€15,000.00",
                 "24 months", "May 20, 2027", lot.main_cpv,
                 "reserved for sheltered workshops and work-integration enterprises",
                 "EU Art. 20: sheltered workshops and integration enterprises",
                 lot.notice_text_en, "Article 20 of Directive 2014/24/EU",
                 "Kaina", "Paslaugų tęstinumas", "Tie patys darbuotojai lanko tuos pačius gavėjus",
                 "0 organisations are interested", "All lots of this tender", "Dienos priežiūra Alizavoje"):
        assert text and text in html, text
    assert re.search(r"60(\.00)? %", html) and re.search(r"40(\.00)? %", html)
    assert lot.notice_text_lt not in html
    assert "Log in" in html  # anonymous visitors are invited to log in to register interest


def test_lot_page_in_lithuanian_cites_the_article_in_lithuanian(client, ctx, kup_tender):
    lot = kup_tender.lots[2]
    html = client.get(f"/opportunities/lots/{lot.id}", headers={"Accept-Language": "lt"}).get_data(as_text=True)
    assert lot.notice_text_lt in html and "23 straipsnio 1 dalies 5 punkt" in html
    assert lot.notice_text_en not in html


def test_lot_page_counts_interested_organisations_but_never_names_them(client, as_user, ctx, kup_tender):
    from srpp.engagement import services as engagement
    from srpp.orgs.models import Supplier
    from srpp.suppliers.models import MarketInterest

    lot = kup_tender.lots[0]
    jautri = ctx.scalar(select(Supplier).where(Supplier.company_code == "990000001"))
    geris = ctx.scalar(select(Supplier).where(Supplier.company_code == "990000002"))
    seo = _user(ctx, "seo@demo.srpp.lt")
    engagement.register_interest(seo, jautri, lot=lot, seeks_partners=True, note="Ieškome partnerio Subačiuje")
    ctx.add(MarketInterest(supplier_id=geris.id, lot_id=lot.id, note="Slapta pastaba"))
    ctx.flush()
    for who in (None, "officer.kup@demo.srpp.lt", "finance.rok@demo.srpp.lt"):
        if who:
            as_user(who)
        html = client.get(f"/opportunities/lots/{lot.id}").get_data(as_text=True)
        assert "2 organisations are interested" in html, who
        for secret in ("Jautri", "Gėris", "Ieškome partnerio", "Slapta pastaba", "990000001"):
            assert secret not in html, (who, secret)
    # the municipality's officer gets a link to the list, others do not
    as_user("officer.kup@demo.srpp.lt")
    assert f'href="/interests/lots/{lot.id}"' in client.get(f"/opportunities/lots/{lot.id}").get_data(as_text=True)
    as_user("finance.rok@demo.srpp.lt")
    assert "/interests/lots/" not in client.get(f"/opportunities/lots/{lot.id}").get_data(as_text=True)


def test_script_in_a_lot_is_text_everywhere(client, as_user, ctx):
    from srpp.engagement import services as engagement
    from srpp.orgs.models import Supplier

    tender = make_tender(ctx, "ROK", [{"title": SCRIPT, "description": SCRIPT}, {"title": "Kita dalis"}],
                         title=SCRIPT)
    lot = tender.lots[0]
    jautri = ctx.scalar(select(Supplier).where(Supplier.company_code == "990000001"))
    engagement.register_interest(_user(ctx, "seo@demo.srpp.lt"), jautri, lot=lot, note=SCRIPT)
    item_uid = tender.plan_links[0].item_uid
    pages = ["/opportunities?municipality=ROK", f"/opportunities/lots/{lot.id}", f"/opportunities/{item_uid}",
             f"/opportunities/lots/{tender.lots[1].id}"]
    for url in pages:
        html = client.get(url).get_data(as_text=True)
        assert "&lt;script&gt;alert(" in html, url
        assert "<script>alert(" not in html, url
    raw = client.get("/opportunities.atom?municipality=ROK").data
    assert b"<script>" not in raw and b"&lt;script&gt;" in raw
    entry = next(e for e in feedparser.parse(raw).entries if e.id == f"urn:srpp:lot:{lot.id}")
    assert entry.title == SCRIPT and entry.title_detail.type == "text/plain"
    events = Calendar.from_ical(client.get("/opportunities.ics?municipality=ROK").data).walk("VEVENT")
    assert str(next(e for e in events if str(e["UID"]) == f"lot-{lot.id}@srpp")["SUMMARY"]) == SCRIPT
    as_user("officer.rok@demo.srpp.lt")
    for url in (f"/interests/lots/{lot.id}", f"/opportunities/lots/{lot.id}"):
        html = client.get(url).get_data(as_text=True)
        assert "&lt;script&gt;alert(" in html and "<script>alert(" not in html, url
    as_user("seo@demo.srpp.lt")
    html = client.get("/interests").get_data(as_text=True)
    assert "&lt;script&gt;alert(" in html and "<script>alert(" not in html


def test_launched_item_page_links_its_lots(client, ctx, kup_tender):
    uid = kup_tender.lots[1].plan_item_uid
    html = client.get(f"/opportunities/{uid}").get_data(as_text=True)
    assert "no longer upcoming" in html
    assert f'href="/opportunities/lots/{kup_tender.lots[1].id}"' in html
    assert "Interest can no longer be registered here" in html


# --- feeds ------------------------------------------------------------------------------------------

def test_atom_feed_has_lots_with_stable_ids(client, ctx, kup_tender):
    ids = {lot.id for lot in kup_tender.lots}
    feeds = [feedparser.parse(client.get("/opportunities.atom?municipality=KUP").data) for _ in range(2)]
    for feed in feeds:
        assert not feed.bozo, feed.get("bozo_exception")
        entries = {e.id: e for e in feed.entries if e.id.startswith("urn:srpp:lot:")}
        assert set(entries) == {f"urn:srpp:lot:{i}" for i in ids}
    assert [e.id for e in feeds[0].entries] == [e.id for e in feeds[1].entries]
    lot = kup_tender.lots[0]
    entry = next(e for e in feeds[0].entries if e.id == f"urn:srpp:lot:{lot.id}")
    assert entry.title == lot.title
    assert entry.link == f"http://localhost/opportunities/lots/{lot.id}"
    assert "Demencijos dienos priežiūra Kupiškio rajone" in entry.summary
    assert "submission deadline May 20, 2027" in entry.summary
    assert "reserved for sheltered workshops" in entry.summary
    published = kup_tender.published_at.replace(microsecond=0)
    assert dt.datetime(*entry.updated_parsed[:6], tzinfo=dt.UTC) == published
    assert feeds[0].entries[0].id.startswith("urn:srpp:lot:")  # newest first: just published


def test_icalendar_event_on_the_deadline_or_the_publication_day(client, ctx, kup_tender):
    from srpp.core.db import utcnow

    other = make_tender(ctx, "ROK", deadline=None, title="Be termino")
    cal = Calendar.from_ical(client.get("/opportunities.ics").data)
    events = {str(e["UID"]): e for e in cal.walk("VEVENT")}
    for lot in kup_tender.lots:
        event = events[f"lot-{lot.id}@srpp"]
        assert event.decoded("DTSTART") == dt.date(2027, 5, 20)
        assert event.decoded("DTEND") == dt.date(2027, 5, 21)
        assert str(event["SUMMARY"]) == lot.title
        assert str(event["URL"]) == f"http://localhost/opportunities/lots/{lot.id}"
        assert "Submission deadline" in str(event["DESCRIPTION"])
    event = events[f"lot-{other.lots[0].id}@srpp"]
    assert event.decoded("DTSTART") == utcnow().date()
    # plan items keep their ids
    assert any(uid.endswith("@srpp") and not uid.startswith("lot-") for uid in events)


# --- digests ---------------------------------------------------------------------------------------

def test_digest_includes_new_lots_once(ctx):
    from srpp.core.notify import outbox
    from srpp.plans.models import SavedSearch, SavedSearchHit
    from srpp.public import services
    from srpp.rules.models import ReservationBasis

    seo = _user(ctx, "seo@demo.srpp.lt")
    seo.locale = "en"
    search = SavedSearch(user_id=seo.id, name="KUP reserved", query="municipality=KUP&reserved=1",
                         created_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    ctx.add(search)
    ctx.flush()
    now = dt.datetime(2026, 11, 26, 7, 0, tzinfo=dt.UTC)
    services.send_digests(now)  # the KUP reserved plan items of the demo, if any
    tender = make_tender(ctx, "KUP", [
        {"title": "Rezervuota dalis Subačiuje", "reservation": ReservationBasis.EU_ART20},
        {"title": "Nerezervuota dalis Alizavoje"},
    ], title="Kupiškio dienos priežiūra")
    reserved = tender.lots[0]
    mails = len(outbox())
    later = now + dt.timedelta(days=1)
    assert services.send_digests(later) == 1
    sent = [m for m in outbox()[mails:] if m["To"] == "seo@demo.srpp.lt"]
    assert len(sent) == 1
    body = sent[0].get_content()
    assert "Rezervuota dalis Subačiuje" in body and "Nerezervuota" not in body
    assert f"/opportunities/lots/{reserved.id}" in body
    assert "Kupiškio dienos priežiūra" in body and "submission deadline" in body
    hits = {h.item_uid for h in ctx.scalars(select(SavedSearchHit).where(SavedSearchHit.saved_search_id == search.id))}
    assert f"lot-{reserved.id}" in hits and f"lot-{tender.lots[1].id}" not in hits
    # nothing new: nothing sent, on the same day or later
    assert services.send_digests(later) == 0
    assert services.send_digests(later + dt.timedelta(days=1)) == 0
    # a lot published later goes out once, alone
    second = make_tender(ctx, "KUP", [{"title": "Dar viena rezervuota dalis",
                                       "reservation": ReservationBasis.EU_ART20}], title="Antrasis pirkimas")
    mails = len(outbox())
    assert services.send_digests(later + dt.timedelta(days=2)) == 1
    body = [m for m in outbox()[mails:] if m["To"] == "seo@demo.srpp.lt"][0].get_content()
    assert "Dar viena rezervuota dalis" in body and "Rezervuota dalis Subačiuje" not in body
    assert f"lot-{second.lots[0].id}" in {h.item_uid for h in ctx.scalars(
        select(SavedSearchHit).where(SavedSearchHit.saved_search_id == search.id))}
    assert services.send_digests(later + dt.timedelta(days=3)) == 0
