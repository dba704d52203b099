"""The officers' tender and lot pages: thin views over srpp.tenders.services. Tenders are made with
the services (like tests/test_tenders.py), then driven through the pages."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from srpp.auth.models import User
from srpp.orgs.models import Supplier
from srpp.orgs.services import municipality_by_code
from srpp.plans import services as plans
from srpp.rules.models import ReservationBasis
from srpp.suppliers.models import StatusBasis, StatusState, SupplierStatus
from srpp.tenders import services
from srpp.tenders.models import CriterionKind, Lot, LotState, Tender, TenderState

S = TenderState
OFFICER = "officer.rok@demo.srpp.lt"
OTHER_OFFICER = "officer.bir@demo.srpp.lt"
ITEM_A = "Demencijos dienos priežiūra Juodupėje"
ITEM_B = "Pagalba į namus Kamajų ir Pandėlio seniūnijose"


def _user(ctx, email):
    return ctx.scalar(select(User).where(User.email == email))


def _supplier(ctx, code):
    return ctx.scalar(select(Supplier).where(Supplier.company_code == code))


def _rok_items(*titles):
    items = plans.current_published(municipality_by_code("ROK")).items
    return [next(i for i in items if i.title.startswith(t)) for t in titles]


def _criteria():
    return [services.CriterionInput("Kaina", CriterionKind.PRICE, Decimal("60")),
            services.CriterionInput("Paslaugų tęstinumas", CriterionKind.SOCIAL, Decimal("40"),
                                    "Tie patys darbuotojai lanko tuos pačius gavėjus")]


@pytest.fixture()
def officer(ctx):
    return _user(ctx, OFFICER)


@pytest.fixture()
def tender(ctx, officer):
    t = services.create_from_plan(officer, _rok_items(ITEM_A, ITEM_B), title="Pagalba senjorams Rokiškio rajone")
    ctx.commit()
    return t


def _to(ctx, officer, tender, *states):
    for state in states:
        if state == S.READY:
            for lot in tender.lots:
                services.set_criteria(officer, lot, _criteria())
        services.transition(officer, tender, state)
    ctx.commit()


def _verify(ctx, supplier, basis, art77=True):
    from srpp.core.db import utcnow

    ctx.add(SupplierStatus(supplier_id=supplier.id, basis=basis, valid_from=dt.date(2024, 1, 1),
                           state=StatusState.VERIFIED, decided_at=utcnow(), art77_mission=art77,
                           art77_reinvests=art77, art77_participatory=art77))
    ctx.commit()


def _version(html: str) -> str:
    return re.search(r'name="version"[^>]*value="(\d+)"|value="(\d+)"[^>]*name="version"', html).group(1)


def _lot_data(lot: Lot, **changes) -> dict:
    data = {
        "title": lot.title, "description": lot.description or "", "category_id": str(lot.category_id),
        "main_cpv": lot.main_cpv, "additional_cpv": ", ".join(c.code for c in lot.additional_cpv),
        "estimated_value": format(lot.estimated_value, "f"), "duration_months": str(lot.duration_months),
        "quantity": "", "unit": lot.unit or "", "reservation": lot.reservation.value,
        "place_municipality_id": str(lot.place_municipality_id or ""), "settlement": lot.settlement or "",
        "consortium_allowed": "y", "social_conditions": "", "version": str(lot.version),
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


# --- list and navigation -------------------------------------------------------------------------

def test_officer_sees_own_tenders_in_the_list(as_user, tender):
    page = as_user(OFFICER).get("/tenders/").get_data(as_text=True)
    assert tender.title in page and ">Tenders<" in page  # the navigation entry
    assert "reserved lots" in page  # lot 1 keeps the plan's Art. 77 reservation
    assert tender.title not in as_user(OFFICER).get("/tenders/?state=published").get_data(as_text=True)
    assert tender.title in as_user(OFFICER).get("/tenders/?state=draft&municipality=ROK").get_data(as_text=True)
    assert tender.title not in as_user(OTHER_OFFICER).get("/tenders/").get_data(as_text=True)
    assert tender.title in as_user("council@demo.srpp.lt").get("/tenders/").get_data(as_text=True)


def test_mandating_municipality_sees_a_joint_tender(ctx, as_user, officer):
    t = services.create_from_plan(officer, _rok_items(ITEM_A), title="Bendras pirkimas",
                                  mandates=[municipality_by_code("BIR")])
    ctx.commit()
    client = as_user(OTHER_OFFICER)
    assert "Bendras pirkimas" in client.get("/tenders/").get_data(as_text=True)
    assert client.get(f"/tenders/{t.id}").status_code == 200  # a draft, but BIR mandated it
    assert client.post(f"/tenders/{t.id}/transition", data={"target": "cancelled", "reason": "x"}).status_code == 403


# --- tender from plan -----------------------------------------------------------------------------

def test_new_tender_form_lists_tenderable_items_and_creates_a_joint_tender(ctx, as_user):
    client = as_user(OFFICER)
    page = client.get("/tenders/new").get_data(as_text=True)
    assert ITEM_A in page and ITEM_B in page and "Biržai" in page
    a, b = _rok_items(ITEM_A, ITEM_B)
    bir = municipality_by_code("BIR")
    resp = client.post("/tenders/new", data={"items": [str(a.id), str(b.id)], "title": "Senjorų paslaugos",
                                             "mandates": [str(bir.id)], "municipality": "ROK"})
    assert resp.status_code == 302
    tender = ctx.scalar(select(Tender).where(Tender.title == "Senjorų paslaugos"))
    assert [lot.title for lot in tender.lots] == [ITEM_A, ITEM_B]
    assert [m.code for m in tender.mandates] == ["BIR"]
    assert resp.headers["Location"].endswith(f"/tenders/{tender.id}")
    assert ITEM_A not in client.get("/tenders/new").get_data(as_text=True)  # no longer tenderable


def test_items_of_different_cpv_groups_are_refused_and_nothing_is_created(ctx, as_user):
    client = as_user(OFFICER)
    before = ctx.scalar(select(func.count()).select_from(Tender))
    items = _rok_items("Transportas pagal poreikį", "Socialinės dirbtuvės")
    resp = client.post("/tenders/new", data={"items": [str(i.id) for i in items], "municipality": "ROK"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "first four digits" in page and "not created" in page
    assert page.count('checked') >= 2  # the user's choice is kept
    assert ctx.scalar(select(func.count()).select_from(Tender)) == before


def test_refusal_is_escaped(ctx, as_user, officer):
    item = _rok_items(ITEM_A)[0]
    item.title = '<script>alert("x")</script> dienos priežiūra'
    ctx.flush()
    services.create_from_plan(officer, [item])
    ctx.commit()
    resp = as_user(OFFICER, lang="lt").post("/tenders/new", data={"items": [str(item.id)], "municipality": "ROK"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert '<html lang="lt">' in page  # the refusal is rendered in the user's language (catalogue permitting)
    assert "&lt;script&gt;" in page and '<script>alert' not in page


def test_choosing_nothing_is_refused(as_user):
    resp = as_user(OFFICER).post("/tenders/new", data={"municipality": "ROK"})
    assert resp.status_code == 200 and "Choose at least one plan item" in resp.get_data(as_text=True)


def test_only_officers_start_tenders(as_user):
    assert as_user("finance.rok@demo.srpp.lt").get("/tenders/new").status_code == 403
    assert as_user("seo@demo.srpp.lt").get("/tenders/new").status_code == 403
    assert as_user("admin@demo.srpp.lt").get("/tenders/new?municipality=BIR").status_code == 200


# --- the tender page ------------------------------------------------------------------------------

def test_tender_page_shows_readiness_and_the_way_to_fix_it(as_user, tender):
    page = as_user(OFFICER).get(f"/tenders/{tender.id}").get_data(as_text=True)
    assert "Lot 1 has no award criteria" in page
    assert "Set the award criteria of lot 1" in page
    assert "Mark ready to publish" in page and "Cancel the tender" in page
    for lot in tender.lots:
        assert lot.title in page
    assert "Tender details" in page


def test_draft_visibility(client, as_user, ctx, officer, tender):
    url = f"/tenders/{tender.id}"
    lot_url = f"/tenders/lots/{tender.lots[0].id}"
    assert client.get(url).status_code == 404
    assert client.get(lot_url).status_code == 404
    assert as_user("seo@demo.srpp.lt").get(url).status_code == 403
    assert as_user(OTHER_OFFICER).get(lot_url).status_code == 403
    assert as_user("council@demo.srpp.lt").get(url).status_code == 200
    assert as_user("finance.rok@demo.srpp.lt").get(url).status_code == 200
    _to(ctx, officer, tender, S.READY, S.PUBLISHED)
    seo = as_user("seo@demo.srpp.lt")
    page = seo.get(url).get_data(as_text=True)
    assert "Mark ready" not in page and "Checks before publishing" not in page
    assert seo.get(lot_url).status_code == 200
    assert "Record a bid" not in seo.get(lot_url).get_data(as_text=True)
    client.post("/logout")
    resp = client.get(url)
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_update_tender_fields_and_stale_save(ctx, as_user, tender):
    client = as_user(OFFICER)
    stale = tender.version
    data = {"title": "Nauja antraštė", "procedure": "simplified", "submission_deadline": "2027-03-15",
            "is_srpp": "y", "max_lots_per_tenderer": "1", "allocation_rule": "", "no_division_reasons": "",
            "version": str(stale)}
    assert client.post(f"/tenders/{tender.id}/edit", data=data).status_code == 302
    ctx.expire_all()
    assert tender.title == "Nauja antraštė" and tender.submission_deadline == dt.date(2027, 3, 15)
    page = client.get(f"/tenders/{tender.id}").get_data(as_text=True)
    assert "objective rule" in page  # max lots without an allocation rule
    resp = client.post(f"/tenders/{tender.id}/edit", data={**data, "title": "Mano pakeitimas"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "changed by someone else" in page
    assert 'value="Mano pakeitimas"' in page  # the user's input is kept
    ctx.expire_all()
    assert tender.title == "Nauja antraštė"
    # saving again applies it (the form now carries the current version)
    resp = client.post(f"/tenders/{tender.id}/edit", data={**data, "title": "Mano pakeitimas",
                                                           "version": _version(page)})
    assert resp.status_code == 302


def test_workflow_buttons_refusal_then_publish(ctx, as_user, officer, tender):
    client = as_user(OFFICER)
    resp = client.post(f"/tenders/{tender.id}/transition", data={"target": "ready", "version": tender.version},
                       follow_redirects=True)
    page = resp.get_data(as_text=True)
    assert "cannot become ready to publish yet" in page and "Lot 2 has no award criteria" in page
    for lot in tender.lots:
        services.set_criteria(officer, lot, _criteria())
    ctx.commit()
    ctx.refresh(tender)
    resp = client.post(f"/tenders/{tender.id}/transition", data={"target": "ready", "version": tender.version},
                       follow_redirects=True)
    assert "The tender is now ready to publish" in resp.get_data(as_text=True)
    ctx.expire_all()
    page = client.post(f"/tenders/{tender.id}/transition", data={"target": "published", "version": tender.version},
                       follow_redirects=True).get_data(as_text=True)
    assert "The tender is now published" in page and "Start the evaluation" in page
    ctx.expire_all()
    assert tender.state == S.PUBLISHED
    # an illegal move is refused with a message
    page = client.post(f"/tenders/{tender.id}/transition", data={"target": "draft", "version": tender.version},
                       follow_redirects=True).get_data(as_text=True)
    assert "cannot become draft" in page


def test_stale_transition_is_refused(ctx, as_user, tender):
    resp = as_user(OFFICER).post(f"/tenders/{tender.id}/transition",
                                 data={"target": "cancelled", "reason": "x", "version": tender.version - 1 or 99},
                                 follow_redirects=True)
    assert "changed by someone else" in resp.get_data(as_text=True)
    ctx.expire_all()
    assert tender.state == S.DRAFT


def test_cancel_needs_a_reason(ctx, as_user, tender):
    client = as_user(OFFICER)
    page = client.post(f"/tenders/{tender.id}/transition", data={"target": "cancelled", "reason": " ",
                                                                 "version": tender.version},
                       follow_redirects=True).get_data(as_text=True)
    assert "Give the reason for cancelling" in page
    client.post(f"/tenders/{tender.id}/transition", data={"target": "cancelled", "reason": "Biudžetas atšauktas",
                                                          "version": tender.version})
    ctx.expire_all()
    assert tender.state == S.CANCELLED and tender.cancelled_reason == "Biudžetas atšauktas"


# --- lots -----------------------------------------------------------------------------------------

def test_add_a_lot(ctx, as_user, tender):
    client = as_user(OFFICER)
    page = client.get(f"/tenders/{tender.id}/lots/new").get_data(as_text=True)
    assert 'data-cpv-picker="/cpv/search.json"' in page
    lot = tender.lots[1]
    data = _lot_data(lot, title="Pagalba į namus Obeliuose", reservation="none", estimated_value="30 000,00",
                     settlement="Obeliai", is_rural="y")
    resp = client.post(f"/tenders/{tender.id}/lots/new", data=data)
    assert resp.status_code == 302
    ctx.expire_all()
    new = tender.lots[2]
    assert (new.number, new.title, new.estimated_value, new.settlement, new.is_rural) == \
        (3, "Pagalba į namus Obeliuose", Decimal("30000.00"), "Obeliai", True)


def test_art77_refusal_is_shown_at_the_field_and_input_kept(ctx, as_user, tender):
    client = as_user(OFFICER)
    lot = tender.lots[1]
    data = _lot_data(lot, reservation="res-pub-ser", additional_cpv="85311100-3, 60140000-1", title="Mano lotas")
    resp = client.post(f"/tenders/lots/{lot.id}/edit", data=data)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    error = re.search(r'<ul class="errors" id="reservation-error">(.*?)</ul>', page, re.S).group(1)
    assert "Art. 77" in error and "60140000-1" in error
    assert 'value="Mano lotas"' in page
    ctx.expire_all()
    assert lot.title != "Mano lotas"
    resp = client.post(f"/tenders/lots/{lot.id}/edit", data={**data, "additional_cpv": "85311100-3"})
    assert resp.status_code == 302
    ctx.expire_all()
    assert lot.reservation == ReservationBasis.EU_ART77 and lot.title == "Mano lotas"
    assert "Article 77" in lot.notice_text_en


def test_two_officers_editing_the_same_lot(ctx, app, as_user, tender):
    from tests.conftest import login

    lot = tender.lots[0]
    first = as_user(OFFICER)
    second = app.test_client()
    second.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(second, "admin@demo.srpp.lt")
    second.post("/language", data={"locale": "en"})
    v1 = _version(first.get(f"/tenders/lots/{lot.id}/edit").get_data(as_text=True))
    v2 = _version(second.get(f"/tenders/lots/{lot.id}/edit").get_data(as_text=True))
    assert v1 == v2
    assert first.post(f"/tenders/lots/{lot.id}/edit",
                      data=_lot_data(lot, title="Pirmojo pakeitimas", version=v1)).status_code == 302
    resp = second.post(f"/tenders/lots/{lot.id}/edit", data=_lot_data(lot, title="Antrojo pakeitimas", version=v2))
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "changed by someone else" in page
    assert 'value="Antrojo pakeitimas"' in page  # nothing the second person typed is lost
    assert "Pirmojo pakeitimas" in page  # and the saved values are shown next to it
    ctx.expire_all()
    assert lot.title == "Pirmojo pakeitimas"
    resp = second.post(f"/tenders/lots/{lot.id}/edit",
                       data=_lot_data(lot, title="Antrojo pakeitimas", version=_version(page)))
    assert resp.status_code == 302
    ctx.expire_all()
    assert lot.title == "Antrojo pakeitimas"


def test_delete_a_lot_renumbers(ctx, as_user, tender):
    first, second = tender.lots
    assert as_user(OFFICER).post(f"/tenders/lots/{first.id}/delete").status_code == 302
    ctx.expire_all()
    assert [(lot.id, lot.number) for lot in tender.lots] == [(second.id, 1)]


def test_lots_cannot_change_after_publication(ctx, as_user, officer, tender):
    _to(ctx, officer, tender, S.READY, S.PUBLISHED)
    client = as_user(OFFICER)
    lot = tender.lots[0]
    resp = client.get(f"/tenders/lots/{lot.id}/edit", follow_redirects=True)
    assert "can no longer be changed" in resp.get_data(as_text=True)
    resp = client.post(f"/tenders/{tender.id}/lots/new", data=_lot_data(lot), follow_redirects=True)
    assert "can no longer be changed" in resp.get_data(as_text=True)
    assert len(tender.lots) == 2


# --- lot page -------------------------------------------------------------------------------------

def test_lot_page_shows_notice_guidance_and_eligible_organisations(ctx, as_user, tender):
    jautri = _supplier(ctx, "990000001")
    _verify(ctx, jautri, StatusBasis.EU_ART77)
    lot = tender.lots[0]  # reserved under Art. 77 by the plan
    page = as_user(OFFICER).get(f"/tenders/lots/{lot.id}").get_data(as_text=True)
    assert 'lang="lt"' in page and "77 straipsn" in page and "Article 77" in page
    assert "Lot size guidance" in page and "Average lot value in this category" in page
    assert "Organisations eligible for this reserved lot" in page
    assert "Jautri" in page
    # a lot larger than every eligible organisation's declared capacity is flagged
    lot.estimated_value = Decimal("900000")
    ctx.commit()
    page = as_user(OFFICER).get(f"/tenders/lots/{lot.id}").get_data(as_text=True)
    assert "larger than the capacity declared by every eligible organisation" in page


def test_criteria_editor_rows_and_sum(ctx, as_user, tender):
    client = as_user(OFFICER)
    lot = tender.lots[0]
    page = client.get(f"/tenders/lots/{lot.id}").get_data(as_text=True)
    assert all(f'name="rows-{i}-name"' in page for i in range(4))  # at least four slots
    data = {"rows-0-name": "Kaina", "rows-0-kind": "price", "rows-0-weight": "60",
            "rows-1-name": "Tęstinumas", "rows-1-kind": "social", "rows-1-weight": "30",
            "rows-1-subject_link": "Tie patys darbuotojai", "rows-2-kind": "social", "rows-3-kind": "quality"}
    resp = client.post(f"/tenders/lots/{lot.id}/criteria", data=data)
    assert resp.status_code == 302
    ctx.expire_all()
    assert [(c.name, c.weight) for c in lot.criteria] == [("Kaina", Decimal("60")), ("Tęstinumas", Decimal("30"))]
    page = client.get(f"/tenders/lots/{lot.id}").get_data(as_text=True)
    assert "Sum of weights: 90 %" in page and "must be 100 %" in page
    assert f'name="rows-{len(lot.criteria) + 1}-name"' in page  # empty slots after the saved rows
    assert "sum to 90" in client.get(f"/tenders/{tender.id}").get_data(as_text=True)


def test_criteria_refusal_is_shown_and_nothing_saved(ctx, as_user, tender):
    lot = tender.lots[0]
    resp = as_user(OFFICER).post(f"/tenders/lots/{lot.id}/criteria",
                                 data={"rows-0-name": "Kaina", "rows-0-kind": "price", "rows-0-weight": "0",
                                       "rows-1-name": "", "rows-1-kind": "social", "rows-1-weight": "40"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "Criterion 1: the weight must be between 0 and 100 %" in page
    assert "Criterion 2 needs a name" in page
    ctx.expire_all()
    assert lot.criteria == []


# --- bids and award -------------------------------------------------------------------------------

def test_bids_award_refusal_and_award(ctx, as_user, officer, tender):
    _to(ctx, officer, tender, S.READY, S.PUBLISHED)
    client = as_user(OFFICER)
    lot = tender.lots[0]  # Art. 77
    page = client.get(f"/tenders/lots/{lot.id}").get_data(as_text=True)
    assert "Record a bid" in page and "Close as unsuccessful" in page
    slauga, jautri, geris = (_supplier(ctx, c) for c in ("990000012", "990000001", "990000002"))
    resp = client.post(f"/tenders/lots/{lot.id}/bids", data={"supplier_id": slauga.id, "price": "45 000,00",
                                                              "score": "88", "compliant": "y"})
    assert resp.status_code == 302
    resp = client.post(f"/tenders/lots/{lot.id}/bids", data={"supplier_id": jautri.id, "price": "49000",
                                                              "score": "91", "compliant": "y",
                                                              "members": [str(geris.id)]})
    assert resp.status_code == 302
    # the same organisation twice is refused at the field
    resp = client.post(f"/tenders/lots/{lot.id}/bids", data={"supplier_id": jautri.id, "price": "1"})
    assert resp.status_code == 200 and "already has a bid" in resp.get_data(as_text=True)
    services.transition(officer, tender, S.EVALUATION)
    ctx.commit()
    ctx.expire_all()
    bid_slauga, bid_jautri = lot.bids
    page = client.get(f"/tenders/lots/{lot.id}").get_data(as_text=True)
    assert "consortium with" in page and "Award to" in page
    # a company without an Art. 77 status is refused with the reason
    resp = client.post(f"/tenders/lots/{lot.id}/award", data={"bid_id": bid_slauga.id, "award_date": "2027-01-15",
                                                               "version": lot.version})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "not awarded" in page and "is not eligible" in page
    assert "has no" in page and "status" in page
    # the consortium's member is only declared, not verified
    _verify(ctx, jautri, StatusBasis.EU_ART77)
    page = client.post(f"/tenders/lots/{lot.id}/award", data={"bid_id": bid_jautri.id, "award_date": "2027-01-15",
                                                               "version": lot.version}).get_data(as_text=True)
    assert "is not eligible" in page and "Gėris" in page
    bid_jautri.members = []
    ctx.commit()
    resp = client.post(f"/tenders/lots/{lot.id}/award", data={"bid_id": bid_jautri.id, "award_date": "2027-01-15",
                                                               "value": "48 500", "version": lot.version})
    assert resp.status_code == 302
    ctx.expire_all()
    assert lot.state == LotState.AWARDED and lot.winner_id == jautri.id and lot.award_value == Decimal("48500.00")
    page = client.get(f"/tenders/{tender.id}").get_data(as_text=True)
    assert "Jautri" in page


def test_art77_lookback_refusal_names_the_blocking_award(ctx, as_user, officer, tender):
    from srpp.contracts.models import Contract

    jautri = _supplier(ctx, "990000001")
    _verify(ctx, jautri, StatusBasis.EU_ART77)
    rok = municipality_by_code("ROK")
    ctx.add(Contract(municipality_id=rok.id, supplier_id=jautri.id, title="Ankstesnė <b>dienos</b> priežiūra",
                     value=Decimal("30000"), awarded_on=dt.date(2026, 3, 1), start_date=dt.date(2026, 3, 1),
                     end_date=dt.date(2027, 2, 28), main_cpv="85311100-3", reservation=ReservationBasis.EU_ART77))
    ctx.commit()
    _to(ctx, officer, tender, S.READY, S.PUBLISHED, S.EVALUATION)
    lot = tender.lots[0]
    bid = services.record_bid(officer, lot, jautri, Decimal("49000"))
    ctx.commit()
    blocking = services.art77_blocking_award(lot, jautri, dt.date(2027, 1, 15))
    resp = as_user(OFFICER).post(f"/tenders/lots/{lot.id}/award",
                                 data={"bid_id": bid.id, "award_date": "2027-01-15", "version": lot.version})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "Art. 77(2)(d)" in page
    assert blocking.awarded_on.isoformat() in page
    if "<b>" in blocking.title:
        assert "&lt;b&gt;dienos&lt;/b&gt;" in page and "<b>dienos" not in page
    ctx.expire_all()
    assert lot.state == LotState.OPEN


def test_stale_award_is_refused(ctx, as_user, officer, tender):
    _to(ctx, officer, tender, S.READY, S.PUBLISHED, S.EVALUATION)
    lot = tender.lots[1]
    bid = services.record_bid(officer, lot, _supplier(ctx, "990000012"), Decimal("60000"))
    ctx.commit()
    page = as_user(OFFICER).post(f"/tenders/lots/{lot.id}/award",
                                 data={"bid_id": bid.id, "award_date": "2027-01-15", "version": lot.version + 5}
                                 ).get_data(as_text=True)
    assert "changed by someone else" in page


def test_unsuccessful_and_replan(ctx, as_user, officer, tender):
    from srpp.plans.models import ItemState

    _to(ctx, officer, tender, S.READY, S.PUBLISHED)
    client = as_user(OFFICER)
    lot = tender.lots[1]
    page = client.post(f"/tenders/lots/{lot.id}/unsuccessful", data={"reason": " "},
                       follow_redirects=True).get_data(as_text=True)
    assert "Give the reason" in page
    page = client.post(f"/tenders/lots/{lot.id}/unsuccessful", data={"reason": "Nebuvo tinkamų pasiūlymų"},
                       follow_redirects=True).get_data(as_text=True)
    assert "closed as unsuccessful" in page and "Re-plan the lot" in page
    page = client.post(f"/tenders/lots/{lot.id}/replan", follow_redirects=True).get_data(as_text=True)
    assert "went back to the plan" in page
    ctx.expire_all()
    assert lot.state == LotState.REPLANNED
    assert _rok_items(ITEM_B)[0].state == ItemState.PLANNED


def test_other_municipality_gets_403_on_every_action(ctx, as_user, officer, tender):
    lot = tender.lots[0]
    client = as_user(OTHER_OFFICER)
    posts = [f"/tenders/{tender.id}/edit", f"/tenders/{tender.id}/transition", f"/tenders/{tender.id}/lots/new",
             f"/tenders/lots/{lot.id}/edit", f"/tenders/lots/{lot.id}/delete", f"/tenders/lots/{lot.id}/criteria"]
    for url in posts:
        assert client.post(url, data={"target": "cancelled", "reason": "x"}).status_code == 403, url
    assert client.get(f"/tenders/lots/{lot.id}/edit").status_code == 403
    _to(ctx, officer, tender, S.READY, S.PUBLISHED)
    bid = services.record_bid(officer, lot, _supplier(ctx, "990000012"), Decimal("60000"))
    ctx.commit()
    assert client.get(f"/tenders/lots/{lot.id}").status_code == 200  # published: readable
    for url, data in [(f"/tenders/lots/{lot.id}/bids", {"supplier_id": bid.supplier_id, "price": "1"}),
                      (f"/tenders/lots/{lot.id}/award", {"bid_id": bid.id, "award_date": "2027-01-15"}),
                      (f"/tenders/lots/{lot.id}/unsuccessful", {"reason": "x"}),
                      (f"/tenders/lots/{lot.id}/replan", {})]:
        assert client.post(url, data=data).status_code == 403, url
    ctx.expire_all()
    assert lot.state == LotState.OPEN and len(lot.bids) == 1
