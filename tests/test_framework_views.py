"""The framework pages: the list, coordinators, the framework form (with optimistic locking), the
framework page's coordinator forms (success, refusal, 403 for a participant that is not the
coordinator), the specification versions and their comparison, and acknowledgements."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from srpp.auth.models import User
from srpp.frameworks import services
from srpp.frameworks.models import CallOffMethod, FrameworkAgreement, FrameworkState
from srpp.orgs.models import ServiceCategory, Supplier
from srpp.orgs.services import municipality_by_code

KUP = "officer.kup@demo.srpp.lt"  # the coordinator of FA-MOB-DRT-2026
ROK = "officer.rok@demo.srpp.lt"  # a participant of it, not a coordinator


def _user(ctx, email) -> User:
    return ctx.scalar(select(User).where(User.email == email))


def _fa(ctx, code="FA-MOB-DRT-2026") -> FrameworkAgreement:
    return ctx.scalar(select(FrameworkAgreement).where(FrameworkAgreement.code == code))


def _supplier(ctx, code) -> Supplier:
    return ctx.scalar(select(Supplier).where(Supplier.company_code == code))


def _category(ctx, key) -> ServiceCategory:
    return ctx.scalar(select(ServiceCategory).where(ServiceCategory.key == key))


def _text(resp) -> str:
    return resp.get_data(as_text=True)


# --- pages ---------------------------------------------------------------------------------------

def test_list_and_framework_page_for_a_participant(ctx, as_user):
    fa = _fa(ctx)
    client = as_user(ROK)
    listing = _text(client.get("/frameworks/"))
    assert "FA-MOB-DRT-2026" in listing and "FA-LTC-DEM-2026" in listing
    assert "Kupiškis District Municipality" in listing  # a coordinator
    assert 'href="/frameworks/"' in _text(client.get("/"))  # the navigation entry
    page = _text(client.get(f"/frameworks/{fa.id}"))
    assert "fa-wo-rc" in page  # the eForms code of the direct method
    assert "Rokiškis District Municipality" in page
    assert "Demo Kupiškio mobilumo kooperatyvas" in page and "9.80" in page
    assert "Acknowledge version 2" in page  # ROK has not acknowledged the revision
    # no coordinator forms for a participant
    for form in ("Add a participant", "Add a supplier", "Set a unit price", "Record an engagement event",
                 "Publish a new version", "Edit the framework"):
        assert form not in page
    assert client.get(f"/frameworks/{fa.id}/edit").status_code == 403
    assert client.get(f"/frameworks/{fa.id}/specification/new").status_code == 403
    assert client.get("/frameworks/new").status_code == 403


def test_framework_page_for_the_coordinator(ctx, as_user):
    fa = _fa(ctx)
    page = _text(as_user(KUP).get(f"/frameworks/{fa.id}"))
    for form in ("Add a participant", "Add a supplier", "Set a unit price", "Record an engagement event",
                 "Publish a new version", "Edit the framework", "Terminate"):
        assert form in page
    assert "Acknowledge version" not in page  # KUP acknowledged version 2 in the demo data


def test_seo_member_and_anonymous_cannot_see_frameworks(ctx, client, as_user):
    fa = _fa(ctx)
    assert "/login" in client.get(f"/frameworks/{fa.id}").headers["Location"]
    assert as_user("seo@demo.srpp.lt").get(f"/frameworks/{fa.id}").status_code == 403


# --- coordinators --------------------------------------------------------------------------------

def test_council_assigns_a_coordinator_with_history(ctx, as_user):
    pall = _category(ctx, "PALL")
    drt = _category(ctx, "DRT")
    client = as_user("council@demo.srpp.lt")
    page = _text(client.get("/frameworks/coordinators"))
    assert "PRPT sprendimas Nr. 51/6-13" in page and "Name a coordinator" in page
    resp = client.post("/frameworks/coordinators", data={
        "category_id": pall.id, "municipality_id": municipality_by_code("ROK").id, "valid_from": "2026-12-01",
        "decision_ref": "PRPT sprendimas Nr. 60/1"}, follow_redirects=True)
    assert "is now the coordinator" in _text(resp)
    ctx.expire_all()
    assert services.current_coordinator(pall).municipality.code == "ROK"
    # refused: a new assignment must start after the current one
    resp = client.post("/frameworks/coordinators", data={
        "category_id": drt.id, "municipality_id": municipality_by_code("ROK").id, "valid_from": "2025-01-01",
        "decision_ref": "x"})
    assert resp.status_code == 200 and "must start after the current one" in _text(resp)
    ctx.expire_all()
    assert services.current_coordinator(drt).municipality.code == "KUP"


def test_officer_cannot_assign_coordinators(ctx, as_user):
    client = as_user(ROK)
    page = _text(client.get("/frameworks/coordinators"))
    assert "Name a coordinator" not in page
    resp = client.post("/frameworks/coordinators", data={
        "category_id": _category(ctx, "PALL").id, "municipality_id": municipality_by_code("ROK").id,
        "valid_from": "2026-12-01", "decision_ref": "x"})
    assert resp.status_code == 403


# --- the framework form --------------------------------------------------------------------------

def _form(ctx, **kw) -> dict:
    data = {"code": "FA-MOB-TEST", "title": "Test mobility framework", "category_id": _category(ctx, "DRT").id,
            "tender_id": "", "start_date": "2027-01-01", "end_date": "2028-12-31", "estimated_value": "100 000",
            "max_value": "120000,50", "call_off_method": "direct", "objective_criteria": "",
            "term_justification": ""}
    data.update(kw)
    return data


def test_coordinator_creates_a_framework(ctx, as_user):
    client = as_user(KUP)
    resp = client.post("/frameworks/new", data=_form(ctx), follow_redirects=True)
    assert "was created as planned" in _text(resp)
    ctx.expire_all()
    fa = _fa(ctx, "FA-MOB-TEST")
    assert fa.coordinator.code == "KUP" and fa.max_value == Decimal("120000.50")
    assert fa.state == FrameworkState.PLANNED


@pytest.mark.parametrize("changes, message", [
    ({"max_value": "50000"}, "cannot be below the estimated value"),
    ({"call_off_method": "hybrid"}, "needs the objective criteria"),
    ({"end_date": "2031-12-31"}, "unless the exceptional case is justified"),
    ({"estimated_value": "abc"}, "Write an amount"),
])
def test_framework_form_refusals_at_their_fields(ctx, as_user, changes, message):
    resp = as_user(KUP).post("/frameworks/new", data=_form(ctx, **changes))
    assert resp.status_code == 200
    page = _text(resp)
    assert message in page and 'aria-invalid="true"' in page
    ctx.expire_all()
    assert _fa(ctx, "FA-MOB-TEST") is None


def test_a_justified_long_term_is_a_warning(ctx, as_user):
    resp = as_user(KUP).post("/frameworks/new", data=_form(
        ctx, end_date="2031-12-31", term_justification="Vehicles are bought for a six-year depreciation."),
        follow_redirects=True)
    page = _text(resp)
    assert "flash-warning" in page and "justified in" in page
    ctx.expire_all()
    assert _fa(ctx, "FA-MOB-TEST") is not None


def test_new_framework_only_in_the_coordinators_areas(ctx, as_user):
    # KUP coordinates DRT only; a DEM_DAY framework is not offered (the choice is refused)
    resp = as_user(KUP).post("/frameworks/new", data=_form(ctx, category_id=_category(ctx, "DEM_DAY").id))
    assert resp.status_code == 200 and "Not a valid choice" in _text(resp)
    assert as_user(ROK).post("/frameworks/new", data=_form(ctx)).status_code == 403


def test_edit_with_optimistic_locking(ctx, as_user):
    fa = _fa(ctx)
    client = as_user(KUP)
    page = _text(client.get(f"/frameworks/{fa.id}/edit"))
    assert f'name="version" type="hidden" value="{fa.version}"' in page or f'value="{fa.version}"' in page
    stale = fa.version
    data = {"code": fa.code, "title": "Renamed by KUP", "category_id": fa.category_id, "tender_id": "",
            "start_date": fa.start_date.isoformat(), "end_date": fa.end_date.isoformat(),
            "estimated_value": "600000", "max_value": "750000", "call_off_method": "direct",
            "objective_criteria": "", "term_justification": "", "version": stale}
    # someone else saves first
    services.update_framework(_user(ctx, KUP), fa, services.FrameworkInput(
        code=fa.code, title="Saved by someone else", category_id=fa.category_id, start_date=fa.start_date,
        end_date=fa.end_date, estimated_value=fa.estimated_value, max_value=fa.max_value,
        call_off_method=CallOffMethod.DIRECT), stale)
    ctx.commit()
    resp = client.post(f"/frameworks/{fa.id}/edit", data=data)
    assert resp.status_code == 200 and "changed by someone else" in _text(resp)
    ctx.expire_all()
    assert _fa(ctx).title == "Saved by someone else"
    # saving again (the form now carries the current version) applies the user's input
    data["version"] = _fa(ctx).version
    resp = client.post(f"/frameworks/{fa.id}/edit", data=data, follow_redirects=True)
    assert "was saved" in _text(resp)
    ctx.expire_all()
    assert _fa(ctx).title == "Renamed by KUP"


def test_edit_refuses_a_maximum_below_committed(ctx, as_user):
    fa = _fa(ctx)
    data = {"code": fa.code, "title": fa.title, "category_id": fa.category_id, "tender_id": "",
            "start_date": fa.start_date.isoformat(), "end_date": fa.end_date.isoformat(),
            "estimated_value": "1000", "max_value": "1000", "call_off_method": "direct", "version": fa.version}
    resp = as_user(KUP).post(f"/frameworks/{fa.id}/edit", data=data)
    assert resp.status_code == 200 and "already committed" in _text(resp)
    assert as_user(ROK).post(f"/frameworks/{fa.id}/edit", data=data).status_code == 403


def test_state_buttons(ctx, as_user):
    kup = _user(ctx, KUP)
    fresh = services.create_framework(kup, services.FrameworkInput(
        code="FA-MOB-EMPTY", title="No suppliers yet", category_id=_category(ctx, "DRT").id,
        start_date=dt.date(2027, 1, 1), end_date=dt.date(2028, 1, 1), estimated_value=Decimal(1000),
        max_value=Decimal(2000), call_off_method=CallOffMethod.DIRECT))
    ctx.commit()
    client = as_user(KUP)
    resp = client.post(f"/frameworks/{fresh.id}/state", data={"target": "active"}, follow_redirects=True)
    assert "at least one supplier" in _text(resp)
    assert as_user(ROK).post(f"/frameworks/{fresh.id}/state", data={"target": "terminated"}).status_code == 403
    resp = as_user(KUP).post(f"/frameworks/{fresh.id}/state", data={"target": "terminated"}, follow_redirects=True)
    assert "now terminated" in _text(resp)
    ctx.expire_all()
    assert _fa(ctx, "FA-MOB-EMPTY").state == FrameworkState.TERMINATED


# --- coordinator forms on the framework page -----------------------------------------------------

def _rok_participant(fa):
    return next(p for p in fa.participants if p.municipality.code == "ROK")


def test_add_participant(ctx, as_user):
    fa = _fa(ctx)
    url = f"/frameworks/{fa.id}/participants"
    pan_c = municipality_by_code("PAN-C")
    data = {"municipality_id": pan_c.id, "opt_out_notice_days": "60", "caps": "2026: 10 000; 2027: 12000,50"}
    assert as_user(ROK).post(url, data=data).status_code == 403
    resp = as_user(KUP).post(url, data=data, follow_redirects=True)
    assert "now participates" in _text(resp)
    ctx.expire_all()
    participant = next(p for p in _fa(ctx).participants if p.municipality_id == pan_c.id)
    assert participant.cap_for(2027) == Decimal("12000.50")
    resp = as_user(KUP).post(url, data={**data, "municipality_id": municipality_by_code("ROK").id},
                             follow_redirects=True)
    assert "already participates" in _text(resp)
    resp = as_user(KUP).post(url, data={**data, "caps": "next year: lots"}, follow_redirects=True)
    assert "YEAR: AMOUNT" in _text(resp)


def test_set_cap(ctx, as_user):
    fa = _fa(ctx)
    participant = _rok_participant(fa)
    url = f"/frameworks/participants/{participant.id}/cap"
    assert as_user(ROK).post(url, data={"year": "2026", "cap": "70000"}).status_code == 403
    resp = as_user(KUP).post(url, data={"year": "2026", "cap": "70 000"}, follow_redirects=True)
    assert "cap of" in _text(resp) and "was set" in _text(resp)
    ctx.expire_all()
    assert _rok_participant(_fa(ctx)).cap_for(2026) == Decimal("70000")
    resp = as_user(KUP).post(url, data={"year": "2026", "cap": "100"}, follow_redirects=True)
    assert "cannot be below what is already committed" in _text(resp)
    ctx.expire_all()
    assert _rok_participant(_fa(ctx)).cap_for(2026) == Decimal("70000")


def test_add_party_and_set_price(ctx, as_user):
    fa = _fa(ctx)
    seo = _supplier(ctx, "990000001")
    coop = _supplier(ctx, "990000008")
    parties, prices = f"/frameworks/{fa.id}/parties", f"/frameworks/{fa.id}/prices"
    price = {"supplier_id": seo.id, "item": "Kelionė", "unit": "trip", "unit_price": "10,10"}
    assert as_user(ROK).post(parties, data={"supplier_id": seo.id, "joined_on": "2026-12-01"}).status_code == 403
    assert as_user(ROK).post(prices, data=price).status_code == 403
    client = as_user(KUP)
    resp = client.post(prices, data=price, follow_redirects=True)
    assert "Only suppliers party to the framework have prices" in _text(resp)
    resp = client.post(parties, data={"supplier_id": seo.id, "joined_on": "2026-12-01"}, follow_redirects=True)
    assert "is now party to the framework" in _text(resp)
    resp = client.post(parties, data={"supplier_id": coop.id, "joined_on": "2026-12-01"}, follow_redirects=True)
    assert "already party" in _text(resp)
    resp = client.post(prices, data=price, follow_redirects=True)
    assert "unit price of" in _text(resp) and "10.10" in _text(resp)
    resp = client.post(prices, data={**price, "unit_price": "0"}, follow_redirects=True)
    assert "must be greater than zero" in _text(resp)
    ctx.expire_all()
    line = next(p for p in _fa(ctx).prices if p.supplier_id == seo.id)
    assert line.unit_price == Decimal("10.10")


def test_record_event(ctx, as_user):
    fa = _fa(ctx)
    url = f"/frameworks/{fa.id}/events"
    data = {"held_on": "2026-11-20", "attendees": "KUP, ROK; Demo kooperatyvas", "notes": "Winter timetable",
            "resulting_changes": ""}
    assert as_user(ROK).post(url, data=data).status_code == 403
    resp = as_user(KUP).post(url, data=data, follow_redirects=True)
    assert "was recorded" in _text(resp) and "Winter timetable" in _text(resp)
    resp = as_user(KUP).post(url, data={**data, "attendees": " "}, follow_redirects=True)
    assert "Attendees:" in _text(resp)
    ctx.expire_all()
    assert len(_fa(ctx).events) == 2


# --- the specification ---------------------------------------------------------------------------

def test_publish_a_specification_version(ctx, as_user):
    fa = _fa(ctx)
    url = f"/frameworks/{fa.id}/specification/new"
    latest = fa.spec_versions[-1]
    client = as_user(KUP)
    page = _text(client.get(url))
    assert "šeštadieniais 8–14 val." in page  # prefilled with the latest text
    data = {"specification": latest.specification + "\nSekmadieniais 9–13 val.",
            "quality_standard": latest.quality_standard, "change_note": ""}
    resp = client.post(url, data=data)
    assert resp.status_code == 200 and "Say what changed" in _text(resp)
    resp = client.post(url, data={**data, "specification": latest.specification, "change_note": "x"})
    assert "Nothing changed since version 2" in _text(resp)
    assert as_user(ROK).post(url, data={**data, "change_note": "Sundays"}).status_code == 403
    resp = as_user(KUP).post(url, data={**data, "change_note": "Sundays"}, follow_redirects=True)
    assert "Specification version 3 was published" in _text(resp)
    ctx.expire_all()
    assert _fa(ctx).spec_versions[-1].number == 3


def test_compare_versions(ctx, as_user):
    fa = _fa(ctx)
    client = as_user(ROK)
    page = _text(client.get(f"/frameworks/{fa.id}/specification?a=1&b=2"))
    assert "<ins>Paslauga darbo dienomis 7–19 val. ir šeštadieniais 8–14 val.</ins>" in page
    assert "<del>Paslauga darbo dienomis 7–19 val.</del>" in page
    assert "<ins>El. bilietų platformos (PAN-C) naudojimas.</ins>" in page
    assert page.count('class="diff-add"') == 2 and page.count('class="diff-del"') == 1
    assert client.get(f"/frameworks/{fa.id}/specification").status_code == 200  # defaults: previous vs latest
    assert client.get(f"/frameworks/{fa.id}/specification?a=1&b=9").status_code == 404


def test_specification_text_is_escaped(ctx, as_user):
    fa = _fa(ctx)
    latest = fa.spec_versions[-1]
    client = as_user(KUP)
    client.post(f"/frameworks/{fa.id}/specification/new", data={
        "specification": latest.specification + "\n<script>alert(1)</script>",
        "quality_standard": latest.quality_standard, "change_note": "<b>bold</b>"})
    for url in (f"/frameworks/{fa.id}", f"/frameworks/{fa.id}/specification?a=2&b=3"):
        page = _text(client.get(url))
        assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert "<b>bold</b>" not in page


# --- acknowledgements ----------------------------------------------------------------------------

def test_participant_acknowledges(ctx, as_user):
    fa = _fa(ctx)
    assert "ROK" in {m.code for m in services.pending_acknowledgements(fa)}
    client = as_user(ROK)
    resp = client.post(f"/frameworks/{fa.id}/acknowledge", data={
        "version_id": fa.spec_versions[-1].id, "municipality_id": municipality_by_code("ROK").id},
        follow_redirects=True)
    page = _text(resp)
    assert "acknowledged specification version 2" in page and "Acknowledge version 2" not in page
    ctx.expire_all()
    assert "ROK" not in {m.code for m in services.pending_acknowledgements(_fa(ctx))}
    # finance staff and the council do not acknowledge
    assert as_user("finance.rok@demo.srpp.lt").post(f"/frameworks/{fa.id}/acknowledge").status_code == 403
    assert as_user("council@demo.srpp.lt").post(f"/frameworks/{fa.id}/acknowledge").status_code == 403


def test_non_participant_cannot_acknowledge(ctx, as_user):
    kup = _user(ctx, KUP)
    fa = services.create_framework(kup, services.FrameworkInput(
        code="FA-MOB-NOBIR", title="Without Biržai", category_id=_category(ctx, "DRT").id,
        start_date=dt.date(2027, 1, 1), end_date=dt.date(2028, 1, 1), estimated_value=Decimal(1000),
        max_value=Decimal(2000), call_off_method=CallOffMethod.DIRECT))
    services.add_participant(kup, fa, municipality_by_code("ROK"), 30, {2027: Decimal(500)})
    services.publish_specification(kup, fa, "Trips.", "On time.", None)
    ctx.commit()
    client = as_user("officer.bir@demo.srpp.lt")
    page = _text(client.get(f"/frameworks/{fa.id}"))
    assert "Acknowledge version" not in page
    resp = client.post(f"/frameworks/{fa.id}/acknowledge", follow_redirects=True)
    assert "does not participate in this framework" in _text(resp)
    # naming another municipality is a permission matter
    resp = client.post(f"/frameworks/{fa.id}/acknowledge",
                       data={"municipality_id": municipality_by_code("ROK").id})
    assert resp.status_code == 403
    ctx.expire_all()
    assert not _fa(ctx, "FA-MOB-NOBIR").spec_versions[0].acknowledgements
