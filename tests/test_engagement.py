"""Market engagement: SEO members register interest in upcoming plan items and open lots;
officers see who is interested; the public sees the count only."""

from __future__ import annotations

import re

import pytest
from markupsafe import escape
from sqlalchemy import func, select

from srpp.core.errors import DomainError
from srpp.core.permissions import PermissionDenied
from tests.test_public import _add_item, _published_version, _user
from tests.test_public_lots import make_tender

OTHER_SEO = "seo.geris@test.srpp.lt"


def _supplier(session, code):
    from srpp.orgs.models import Supplier

    return session.scalar(select(Supplier).where(Supplier.company_code == code))


@pytest.fixture()
def jautri(ctx):
    return _supplier(ctx, "990000001")


@pytest.fixture()
def geris(ctx):
    return _supplier(ctx, "990000002")


@pytest.fixture()
def seo(ctx):
    return _user(ctx, "seo@demo.srpp.lt")


@pytest.fixture()
def other_seo(ctx, geris):
    """A member of another organisation ("Gėris rankose"), password demo12345."""
    from srpp.auth import services as auth
    from srpp.auth.models import Role

    user = auth.create_user(None, email=OTHER_SEO, full_name="Test Gėris", password="demo12345", locale="en")
    auth.add_membership(None, user, Role.SEO_MEMBER, supplier_id=geris.id)
    ctx.flush()
    return user


@pytest.fixture()
def item(ctx):
    """An upcoming (planned) ROK item."""
    return _add_item(ctx, "ROK", "Pagalba šeimoms Obeliuose")


@pytest.fixture()
def tender(ctx):
    return make_tender(ctx, "ROK", title="Pagalba senjorams Juodupėje")


def _interests(session):
    from srpp.suppliers.models import MarketInterest

    return session.scalar(select(func.count(MarketInterest.id)))


# --- the rules -------------------------------------------------------------------------------------

def test_register_for_an_item_and_again_updates(ctx, seo, jautri, item):
    from srpp.engagement import services

    before = _interests(ctx)
    first = services.register_interest(seo, jautri, plan_item_uid=item.uid, note="  Galime nuo kovo  ")
    assert first.supplier_id == jautri.id and first.plan_item_uid == item.uid and first.lot_id is None
    assert first.note == "Galime nuo kovo" and not first.seeks_partners and first.created_by_id == seo.id
    assert services.interested_count(plan_item_uid=item.uid) == 1
    again = services.register_interest(seo, jautri, plan_item_uid=item.uid, seeks_partners=True, note="")
    assert again.id == first.id and again.seeks_partners and again.note is None
    assert services.interested_count(plan_item_uid=item.uid) == 1
    assert _interests(ctx) == before + 1


def test_register_for_an_open_lot(ctx, seo, jautri, tender):
    from srpp.engagement import services

    lot = tender.lots[1]
    services.register_interest(seo, jautri, lot=lot, seeks_partners=True)
    services.register_interest(seo, jautri, lot=lot, seeks_partners=False, note="Be partnerių")
    assert services.interested_count(lot=lot) == 1 == services.interested_count(lot=lot.id)
    assert services.interested_count(lot=tender.lots[0]) == 0
    assert services.own_interest(seo, lot=lot).note == "Be partnerių"


def test_not_for_launched_cancelled_or_unknown_items(ctx, seo, jautri, tender):
    from srpp.engagement import services
    from srpp.plans.models import ItemState

    launched = tender.plan_links[0].item_uid
    with pytest.raises(DomainError, match="no longer upcoming"):
        services.register_interest(seo, jautri, plan_item_uid=launched)
    cancelled = _add_item(ctx, "ROK", "Atšaukta paslauga", state=ItemState.CANCELLED)
    with pytest.raises(DomainError, match="no longer upcoming"):
        services.register_interest(seo, jautri, plan_item_uid=cancelled.uid)
    with pytest.raises(DomainError, match="no published plan item"):
        services.register_interest(seo, jautri, plan_item_uid="0123456789abcdef0123456789abcdef")
    with pytest.raises(DomainError, match="either a plan item or a lot"):
        services.register_interest(seo, jautri)
    with pytest.raises(DomainError, match="either a plan item or a lot"):
        services.register_interest(seo, jautri, plan_item_uid=launched, lot=tender.lots[0])


def test_an_item_in_preparation_is_still_upcoming(ctx, seo, jautri):
    from srpp.engagement import services

    draft_tender = make_tender(ctx, "ROK", publish=False)
    uid = draft_tender.plan_links[0].item_uid
    assert services.register_interest(seo, jautri, plan_item_uid=uid).plan_item_uid == uid
    with pytest.raises(DomainError, match="not open for interest"):  # its lots are not published yet
        services.register_interest(seo, jautri, lot=draft_tender.lots[0])


@pytest.mark.parametrize("outcome", ["evaluation", "cancelled", "unsuccessful"])
def test_not_for_lots_that_are_not_open(ctx, seo, jautri, tender, outcome):
    from srpp.engagement import services
    from srpp.tenders import services as tenders
    from srpp.tenders.models import TenderState

    officer = _user(ctx, "officer.rok@demo.srpp.lt")
    if outcome == "evaluation":
        tenders.transition(officer, tender, TenderState.EVALUATION)
    elif outcome == "cancelled":
        tenders.transition(officer, tender, TenderState.CANCELLED, reason="Nebereikia")
    else:
        tenders.close_unsuccessful(officer, tender.lots[0], "Nėra pasiūlymų")
    with pytest.raises(DomainError, match="not open for interest"):
        services.register_interest(seo, jautri, lot=tender.lots[0])


def test_only_members_register_for_their_own_organisation(ctx, seo, jautri, geris, item):
    from srpp.engagement import services

    with pytest.raises(PermissionDenied):
        services.register_interest(seo, geris, plan_item_uid=item.uid)
    for email in ("admin@demo.srpp.lt", "officer.rok@demo.srpp.lt", "council@demo.srpp.lt"):
        with pytest.raises(PermissionDenied):
            services.register_interest(_user(ctx, email), jautri, plan_item_uid=item.uid)
    assert services.interested_count(plan_item_uid=item.uid) == 0


def test_withdraw_only_your_own(ctx, seo, other_seo, jautri, geris, item):
    from srpp.engagement import services

    mine = services.register_interest(seo, jautri, plan_item_uid=item.uid)
    theirs = services.register_interest(other_seo, geris, plan_item_uid=item.uid)
    assert services.interested_count(plan_item_uid=item.uid) == 2
    with pytest.raises(PermissionDenied):
        services.withdraw_interest(seo, theirs)
    with pytest.raises(PermissionDenied):
        services.withdraw_interest(_user(ctx, "officer.rok@demo.srpp.lt"), mine)
    services.withdraw_interest(seo, mine)
    assert services.interested_count(plan_item_uid=item.uid) == 1
    assert [r.interest.id for r in services.interests_of(other_seo)] == [theirs.id]
    assert services.interests_of(seo) == []
    with pytest.raises(PermissionDenied):
        services.interests_of(seo, geris)


def test_officers_see_who_is_interested_other_municipalities_do_not(ctx, seo, other_seo, jautri, geris, tender):
    from srpp.engagement import services

    lot = tender.lots[0]
    services.register_interest(seo, jautri, lot=lot, note="Turime patirties")
    services.register_interest(other_seo, geris, lot=lot, seeks_partners=True)
    for email in ("officer.rok@demo.srpp.lt", "finance.rok@demo.srpp.lt", "council@demo.srpp.lt",
                  "admin@demo.srpp.lt"):
        rows = services.interests_for_lot(_user(ctx, email), lot)
        assert [(r.supplier.legal_name, r.seeks_partners, r.note) for r in rows] == [
            (geris.legal_name, True, None), (jautri.legal_name, False, "Turime patirties")], email
    for email in ("officer.bir@demo.srpp.lt", "seo@demo.srpp.lt", OTHER_SEO):
        with pytest.raises(PermissionDenied):
            services.interests_for_lot(_user(ctx, email), lot)


def test_interest_changes_invalidate_the_cached_pipeline(ctx, seo, jautri, item):
    from srpp.core import cache
    from srpp.engagement import services

    before = cache.generation("pipeline")
    interest = services.register_interest(seo, jautri, plan_item_uid=item.uid)
    assert cache.generation("pipeline") > before
    before = cache.generation("pipeline")
    services.withdraw_interest(seo, interest)
    assert cache.generation("pipeline") > before


def test_the_note_is_limited(ctx, seo, jautri, item):
    from srpp.engagement import services

    with pytest.raises(DomainError, match="at most 1000"):
        services.register_interest(seo, jautri, plan_item_uid=item.uid, note="x" * 1001)


# --- the pages -------------------------------------------------------------------------------------

def test_item_page_form_registers_and_shows_the_count(client, as_user, ctx, item, jautri):
    from srpp.suppliers.models import MarketInterest

    html = client.get(f"/opportunities/{item.uid}").get_data(as_text=True)
    assert "0 organisations are interested" in html and "Register our interest" not in html
    as_user("seo@demo.srpp.lt")
    html = client.get(f"/opportunities/{item.uid}").get_data(as_text=True)
    assert "Register our interest" in html and "We look for consortium partners" in html
    assert f'action="/opportunities/{item.uid}/interest"' in html
    resp = client.post(f"/opportunities/{item.uid}/interest",
                       data={"supplier_id": jautri.id, "seeks_partners": "y", "note": "Turime 3 slaugytojas"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/opportunities/{item.uid}#interest")
    row = ctx.scalar(select(MarketInterest).where(MarketInterest.plan_item_uid == item.uid))
    assert row.supplier_id == jautri.id and row.seeks_partners and row.note == "Turime 3 slaugytojas"
    html = client.get(f"/opportunities/{item.uid}").get_data(as_text=True)
    assert "1 organisation is interested" in html and "Update our interest" in html
    assert "Turime 3 slaugytojas" in html  # the member sees its own note in the form
    client.post("/logout")
    html = client.get(f"/opportunities/{item.uid}").get_data(as_text=True)
    assert "1 organisation is interested" in html
    assert "Turime 3 slaugytojas" not in html and "Jautri širdis" not in html


def test_lot_form_and_the_officers_list(client, as_user, ctx, tender, jautri):
    lot = tender.lots[0]
    as_user("seo@demo.srpp.lt")
    assert "Register our interest" in client.get(f"/opportunities/lots/{lot.id}").get_data(as_text=True)
    resp = client.post(f"/opportunities/lots/{lot.id}/interest",
                       data={"supplier_id": jautri.id, "seeks_partners": "y", "note": "Ieškome partnerių"})
    assert resp.status_code == 302
    html = client.get(f"/opportunities/lots/{lot.id}", follow_redirects=True).get_data(as_text=True)
    assert "1 organisation is interested" in html
    assert "/interests/lots/" not in html  # not for SEO members
    assert client.get(f"/interests/lots/{lot.id}").status_code == 403

    as_user("officer.rok@demo.srpp.lt")
    resp = client.get(f"/interests/lots/{lot.id}")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    for text in (escape(jautri.legal_name), jautri.company_code, "Ieškome partnerių", "1 looks for consortium partners",
                 lot.title, tender.title):
        assert text in html, text
    as_user("officer.bir@demo.srpp.lt")
    assert client.get(f"/interests/lots/{lot.id}").status_code == 403
    assert client.get("/interests/lots/999999999").status_code == 404


def test_item_officers_list(client, as_user, ctx, seo, jautri, item):
    from srpp.engagement import services

    services.register_interest(seo, jautri, plan_item_uid=item.uid, seeks_partners=True, note="Nuo kovo")
    as_user("officer.rok@demo.srpp.lt")
    html = client.get(f"/opportunities/{item.uid}").get_data(as_text=True)
    assert f'href="/interests/items/{item.uid}"' in html
    html = client.get(f"/interests/items/{item.uid}").get_data(as_text=True)
    assert escape(jautri.legal_name) in html and "Nuo kovo" in html
    for email, status in (("officer.bir@demo.srpp.lt", 403), ("seo@demo.srpp.lt", 403), ("council@demo.srpp.lt", 200)):
        as_user(email)
        assert client.get(f"/interests/items/{item.uid}").status_code == status, email
    assert client.get("/interests/items/0123456789abcdef0123456789abcdef").status_code == 404


def test_my_interests_and_withdrawal_through_the_pages(client, as_user, ctx, seo, other_seo, jautri, geris,
                                                       item, tender):
    from srpp.engagement import services
    from srpp.suppliers.models import MarketInterest

    mine = services.register_interest(seo, jautri, lot=tender.lots[1], seeks_partners=True, note="Mūsų pastaba")
    services.register_interest(seo, jautri, plan_item_uid=item.uid)
    theirs = services.register_interest(other_seo, geris, plan_item_uid=item.uid, note="Jų pastaba")
    mine_id, theirs_id = mine.id, theirs.id

    as_user("seo@demo.srpp.lt")
    html = client.get("/").get_data(as_text=True)
    assert 'href="/interests"' in html  # in the navigation
    html = client.get("/interests").get_data(as_text=True)
    assert tender.lots[1].title in html and item.title in html and "Mūsų pastaba" in html
    assert "Jų pastaba" not in html and "Gėris rankose" not in html
    assert f"/interests/{theirs_id}/withdraw" not in html
    # another organisation's interest can be neither withdrawn nor listed
    assert client.post(f"/interests/{theirs_id}/withdraw").status_code == 403
    assert ctx.get(MarketInterest, theirs_id) is not None
    resp = client.post(f"/interests/{mine_id}/withdraw", data={"next": "/interests"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/interests")
    ctx.expire_all()
    assert ctx.get(MarketInterest, mine_id) is None
    assert client.post(f"/interests/{mine_id}/withdraw").status_code == 404
    # an unsafe "next" is not followed
    again = services.register_interest(_user(ctx, "seo@demo.srpp.lt"), jautri, lot=tender.lots[1])
    resp = client.post(f"/interests/{again.id}/withdraw", data={"next": "https://evil.example/"})
    assert resp.headers["Location"].endswith("/interests")

    as_user(OTHER_SEO)
    html = client.get("/interests").get_data(as_text=True)
    assert "Jų pastaba" in html and "Mūsų pastaba" not in html
    for email in ("officer.rok@demo.srpp.lt", "admin@demo.srpp.lt"):
        as_user(email)
        assert client.get("/interests").status_code == 403
        assert 'href="/interests"' not in client.get("/").get_data(as_text=True)


def test_pages_refuse_other_organisations_and_closed_targets(client, as_user, ctx, geris, tender, item):
    from srpp.suppliers.models import MarketInterest

    as_user("seo@demo.srpp.lt")
    before = _interests(ctx)
    # a member of Jautri širdis cannot register for Gėris rankose
    resp = client.post(f"/opportunities/{item.uid}/interest", data={"supplier_id": geris.id})
    assert resp.status_code == 302
    assert "Not a valid choice" in client.get(resp.headers["Location"]).get_data(as_text=True)
    # a launched item: refused with the reason
    launched = tender.plan_links[0].item_uid
    resp = client.post(f"/opportunities/{launched}/interest", data={}, follow_redirects=True)
    assert "no longer upcoming" in resp.get_data(as_text=True)
    assert _interests(ctx) == before
    assert ctx.scalar(select(func.count(MarketInterest.id)).where(MarketInterest.supplier_id == geris.id)) == 0
    # nothing for staff who are not SEO members; unknown targets are 404
    as_user("officer.rok@demo.srpp.lt")
    assert client.post(f"/opportunities/{item.uid}/interest", data={}).status_code == 403
    assert client.post(f"/opportunities/lots/{tender.lots[0].id}/interest", data={}).status_code == 403
    as_user("seo@demo.srpp.lt")
    assert client.post("/opportunities/0123456789abcdef0123456789abcdef/interest").status_code == 404
    assert client.post("/opportunities/lots/999999999/interest").status_code == 404
    client.post("/logout")
    resp = client.post(f"/opportunities/{item.uid}/interest")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_the_forms_need_a_csrf_token(app_config, conn, ctx, item, seo, jautri):
    from srpp import create_app
    from srpp.engagement import services

    strict = create_app({**app_config, "WTF_CSRF_ENABLED": True})
    client = strict.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login_page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
    assert client.post("/login", data={"email": "seo@demo.srpp.lt", "password": "demo12345",
                                       "csrf_token": token}).status_code == 302
    interest = services.register_interest(seo, jautri, plan_item_uid=item.uid)
    html = client.get(f"/opportunities/{item.uid}").get_data(as_text=True)
    assert 'name="csrf_token"' in html
    assert client.post(f"/opportunities/{item.uid}/interest", data={"supplier_id": jautri.id}).status_code == 400
    assert client.post(f"/interests/{interest.id}/withdraw").status_code == 400
    assert services.interested_count(plan_item_uid=item.uid) == 1


def test_demo_items_show_the_count(client, ctx):
    version = _published_version(ctx, "ROK")
    item = next(i for i in version.items if i.state.value == "planned")
    assert "organisations are interested" in client.get(f"/opportunities/{item.uid}").get_data(as_text=True)
