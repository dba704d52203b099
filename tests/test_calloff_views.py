"""Call-offs, opt-outs, the framework dashboards and framework opportunities in the pipeline
(srpp/frameworks/calloff_views.py, srpp/public): the pages show what the services decide."""

from __future__ import annotations

import datetime as dt
import html
import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from srpp.core.i18n import money

ROK_OFFICER = "officer.rok@demo.srpp.lt"
TODAY = dt.date.today()


def _fa(ctx, code="FA-MOB-DRT-2026"):
    from srpp.frameworks.models import FrameworkAgreement

    return ctx.scalar(select(FrameworkAgreement).where(FrameworkAgreement.code == code))


def _supplier(ctx, company_code):
    from srpp.orgs.models import Supplier

    return ctx.scalar(select(Supplier).where(Supplier.company_code == company_code))


def _participant(fa, code):
    return next(p for p in fa.participants if p.municipality.code == code)


def _text(resp) -> str:
    """The page as plain text (tags dropped, entities decoded, whitespace collapsed)."""
    body = re.sub(r"<[^>]+>", " ", resp.get_data(as_text=True))
    return re.sub(r"\s+", " ", html.unescape(body))


def _call_off(ctx, fa, **changes):
    rok = _participant(fa, "ROK")
    data = {"municipality_id": rok.municipality_id, "supplier_id": _supplier(ctx, "990000008").id,
            "awarded_on": TODAY.isoformat(), "start_date": TODAY.isoformat(),
            "end_date": dt.date(TODAY.year, 12, 31).isoformat(), "quantity": "100", "unit": "trip",
            "unit_price": "9.80", "budget_line": "08.01.01 Transportas", "price_deviation_note": ""}
    data.update(changes)
    return data


@pytest.fixture()
def mob(ctx):
    return _fa(ctx)


# --- placing a call-off ------------------------------------------------------------------------

def test_form_shows_cap_committed_and_remaining_and_prefills_the_price(client, as_user, ctx, mob):
    from srpp.frameworks import services

    as_user(ROK_OFFICER)
    resp = client.get(f"/frameworks/{mob.id}/call-offs/new")
    assert resp.status_code == 200
    rok = _participant(mob, "ROK")
    cap = rok.cap_for(TODAY.year)
    used = services.committed_by(mob, rok.municipality_id, TODAY.year)
    text = _text(resp)
    assert f"Rokiškis District Municipality {money(cap)} {money(used)} {money(cap - used)}" in text
    page = resp.get_data(as_text=True)
    assert 'name="unit" required type="text" value="trip"' in page
    assert 'name="unit_price" required type="text" value="9.80"' in page


def test_a_call_off_is_placed_and_listed_on_the_dashboard(client, as_user, ctx, mob):
    from srpp.contracts.models import Contract
    from srpp.frameworks.models import CallOff

    as_user(ROK_OFFICER)
    resp = client.post(f"/frameworks/{mob.id}/call-offs/new", data=_call_off(ctx, mob, quantity="150"))
    assert resp.status_code == 302 and f"/frameworks/{mob.id}/dashboard" in resp.headers["Location"]
    call_off = ctx.scalar(select(CallOff).where(CallOff.framework_id == mob.id).order_by(CallOff.id.desc()))
    assert call_off.value == Decimal("1470.00") and call_off.municipality.code == "ROK"
    assert ctx.scalar(select(Contract).where(Contract.call_off_id == call_off.id)) is not None
    page = client.get(resp.headers["Location"])
    assert "The call-off of €1,470.00 for Rokiškis District Municipality was placed" in _text(page)
    assert "€1,470.00" in _text(page)


def test_over_the_cap_names_cap_committed_and_left_and_keeps_the_input(client, as_user, ctx, mob):
    from srpp.frameworks import services
    from srpp.frameworks.models import CallOff

    rok = _participant(mob, "ROK")
    cap = rok.cap_for(TODAY.year)
    used = services.committed_by(mob, rok.municipality_id, TODAY.year)
    quantity = ((cap - used) / Decimal("9.80")).to_integral_value() + 100
    before = ctx.scalar(select(CallOff.id).order_by(CallOff.id.desc()).limit(1))
    as_user(ROK_OFFICER)
    resp = client.post(f"/frameworks/{mob.id}/call-offs/new",
                       data=_call_off(ctx, mob, quantity=str(quantity), budget_line="Mano eilutė"))
    assert resp.status_code == 200
    text = _text(resp)
    assert "The call-off was refused:" in text
    assert (f"the cap is {money(cap)}, {money(used)} is already committed, {money(cap - used)} is left"
            in text)
    page = resp.get_data(as_text=True)
    assert f'value="{quantity}"' in page and 'value="Mano eilutė"' in page
    assert ctx.scalar(select(CallOff.id).order_by(CallOff.id.desc()).limit(1)) == before


@pytest.mark.parametrize("code, email", [
    ("FA-HOUS-TEN-2026", ROK_OFFICER),                 # ROK does not take part in housing
    ("FA-MOB-DRT-2026", "officer.pan-c@demo.srpp.lt"),  # PAN-C does not take part in mobility
    ("FA-MOB-DRT-2026", "finance.rok@demo.srpp.lt"),    # a finance officer places no call-offs
])
def test_a_non_participant_does_not_see_the_form(client, as_user, ctx, code, email):
    fa = _fa(ctx, code)
    as_user(email)
    assert client.get(f"/frameworks/{fa.id}/call-offs/new").status_code == 403
    assert client.post(f"/frameworks/{fa.id}/call-offs/new", data={}).status_code == 403


def test_a_supplier_not_party_is_refused(client, as_user, ctx, mob):
    as_user(ROK_OFFICER)
    outsider = _supplier(ctx, "990000001")  # party to the dementia framework, not to mobility
    resp = client.post(f"/frameworks/{mob.id}/call-offs/new", data=_call_off(ctx, mob, supplier_id=outsider.id))
    assert resp.status_code == 200
    assert "The supplier is not party to this framework (EU-FA-02)." in _text(resp)


def test_a_price_deviation_is_refused(client, as_user, ctx, mob):
    as_user(ROK_OFFICER)
    resp = client.post(f"/frameworks/{mob.id}/call-offs/new", data=_call_off(ctx, mob, unit_price="12.00"))
    assert resp.status_code == 200
    text = _text(resp)
    assert "The unit price €12.00 deviates 22.4 % from the framework's €9.80 for trip" in text


def test_an_admin_chooses_the_municipality(client, as_user, ctx, mob):
    as_user("admin@demo.srpp.lt")
    page = client.get(f"/frameworks/{mob.id}/call-offs/new").get_data(as_text=True)
    assert '<select id="municipality_id"' in page
    assert "Kupiškis District Municipality" in page and "Pasvalys District Municipality" in page


# --- opt-outs ----------------------------------------------------------------------------------

def test_an_opt_out_says_its_effective_date(client, as_user, ctx, mob):
    from srpp.core.i18n import date as format_date

    rok = _participant(mob, "ROK")
    effective = TODAY + dt.timedelta(days=rok.opt_out_notice_days)
    as_user(ROK_OFFICER)
    resp = client.post(f"/frameworks/participants/{rok.id}/opt-out", follow_redirects=True)
    assert resp.status_code == 200
    text = _text(resp)
    assert f"With a notice period of {rok.opt_out_notice_days} days it takes effect on {format_date(effective)}" \
        in text
    ctx.expire_all()
    rok = _participant(_fa(ctx), "ROK")
    assert rok.state.value == "opt_out_requested" and rok.opt_out_effective_on == effective
    # listed among the upcoming opt-outs; a second request is refused with the date
    assert f"Rokiškis District Municipality: requested {format_date(TODAY)}" in text
    again = client.post(f"/frameworks/participants/{rok.id}/opt-out", follow_redirects=True)
    assert f"An opt-out was already requested (effective {effective.isoformat()})." in _text(again)


def test_another_municipality_cannot_opt_out_for_rok(client, as_user, ctx, mob):
    as_user("officer.bir@demo.srpp.lt")
    assert client.post(f"/frameworks/participants/{_participant(mob, 'ROK').id}/opt-out").status_code == 403


# --- dashboards --------------------------------------------------------------------------------

def test_dashboard_figures_match_the_services(client, as_user, ctx, mob):
    from srpp.frameworks import services
    from srpp.region.services import percent

    as_user("council@demo.srpp.lt")
    resp = client.get(f"/frameworks/{mob.id}/dashboard?year={TODAY.year}")
    assert resp.status_code == 200
    text = _text(resp)
    committed = services.committed_total(mob)
    assert f"Committed by call-offs {money(committed)}" in text
    assert f"Share of the maximum consumed {percent(committed / mob.max_value)}" in text
    for f in services.participant_figures(mob, TODAY.year):
        m = f.participant.municipality
        assert f"{m.name} {f.participant.state.label} {money(f.cap)} {money(f.committed)} {money(f.remaining)}" \
            in text
    # the consumption chart's table holds each municipality's cumulative value of the last month
    by_month = services.consumption_by_month(mob)
    last = by_month[max(by_month)]
    chart = text[text.index("Cumulative committed value per municipality Month"):]
    for value in last.values():
        assert money(value) in chart
    for m in services.pending_acknowledgements(mob):
        assert m.name in text
    pas = _participant(mob, "PAS")
    assert "Pasvalys District Municipality: requested" in text and pas.opt_out_effective_on is not None
    # another year
    other = client.get(f"/frameworks/{mob.id}/dashboard?year={TODAY.year + 1}")
    assert f"Participants in {TODAY.year + 1}" in _text(other)


def test_overview_counts_frameworks_per_area_against_the_target(client, as_user, ctx):
    from srpp.frameworks import services
    from srpp.frameworks.models import FrameworkState

    as_user("council@demo.srpp.lt")
    text = _text(client.get("/frameworks/overview"))
    by_area = services.frameworks_by_area()
    assert f"Long-term care {by_area['LTC']} Met" in text
    assert f"Mobility on demand {by_area['MOBILITY']} Met" in text
    assert "3 of 3 areas have at least one signed framework." in text
    for code in ("FA-LTC-DEM-2026", "FA-MOB-DRT-2026", "FA-HOUS-TEN-2026"):
        assert code in text
    # terminating the only housing framework turns its badge red
    housing = _fa(ctx, "FA-HOUS-TEN-2026")
    housing.state = FrameworkState.TERMINATED
    ctx.flush()
    text = _text(client.get("/frameworks/overview"))
    assert "Social housing 0 ⚠ Not met" in text and "2 of 3 areas" in text


def test_overview_kpi_of_opt_outs_executed_on_time(client, as_user, ctx):
    from srpp.frameworks import services

    services.execute_opt_outs(dt.date(2027, 12, 31))  # every current demo opt-out, after its effective date
    ctx.flush()
    as_user("council@demo.srpp.lt")
    text = _text(client.get("/frameworks/overview"))
    # the three current ones carried out late; the historical framework's four on time: 4 of 7
    assert "Opt-outs executed on time 57.1%" in text


def test_overview_is_in_the_navigation(client, as_user):
    as_user("council@demo.srpp.lt")
    assert 'href="/frameworks/overview"' in client.get("/").get_data(as_text=True)
    as_user("seo@demo.srpp.lt")
    assert 'href="/frameworks/overview"' not in client.get("/").get_data(as_text=True)


# --- the pipeline ------------------------------------------------------------------------------

def test_a_framework_open_to_new_suppliers_is_an_opportunity(client, ctx):
    dem, mob = _fa(ctx, "FA-LTC-DEM-2026"), _fa(ctx)
    assert dem.admits_new_suppliers and not mob.admits_new_suppliers
    page = client.get("/opportunities?area=LTC").get_data(as_text=True)
    assert f'href="/opportunities/frameworks/{dem.id}"' in page and "Framework open to new suppliers" in page
    assert f'href="/opportunities/frameworks/{mob.id}"' not in client.get("/opportunities?area=MOBILITY").get_data(
        as_text=True)
    # the filters: a participant or the coordinator, the category, words, the maximum value
    assert f"/opportunities/frameworks/{dem.id}" in client.get("/opportunities?municipality=ROK").get_data(
        as_text=True)
    assert f"/opportunities/frameworks/{dem.id}" in client.get("/opportunities?municipality=PAN-C").get_data(
        as_text=True)
    assert f"/opportunities/frameworks/{dem.id}" not in client.get("/opportunities?municipality=PAS").get_data(
        as_text=True)
    assert f"/opportunities/frameworks/{dem.id}" in client.get("/opportunities?q=Demencijos").get_data(as_text=True)
    assert f"/opportunities/frameworks/{dem.id}" not in client.get(
        "/opportunities?area=LTC&max_value=1000000").get_data(as_text=True)
    assert f"/opportunities/frameworks/{dem.id}" not in client.get("/opportunities?area=LTC&reserved=1").get_data(
        as_text=True)
    # the public page: facts, the coordinator's office contact, how to join
    text = _text(client.get(f"/opportunities/frameworks/{dem.id}"))
    assert dem.title in text and "How to join" in text and dem.coordinator.contact_email in text
    assert "Rokiškis District Municipality" in text
    # admitting new suppliers to the mobility framework lists it too (and closing it removes it)
    from srpp.core import cache

    mob.admits_new_suppliers = True
    dem.admits_new_suppliers = False
    ctx.flush()
    cache.bump("pipeline")
    assert f"/opportunities/frameworks/{mob.id}" in client.get("/opportunities?area=MOBILITY").get_data(as_text=True)
    assert f"/opportunities/frameworks/{dem.id}" not in client.get("/opportunities?area=LTC").get_data(as_text=True)


def test_framework_opportunities_in_the_feeds(client, ctx):
    dem = _fa(ctx, "FA-LTC-DEM-2026")
    atom = client.get("/opportunities.atom?area=LTC").get_data(as_text=True)
    assert f"urn:srpp:framework:{dem.id}" in atom
    ics = client.get("/opportunities.ics?area=LTC").get_data(as_text=True)
    assert f"framework-{dem.id}@srpp" in ics


def test_a_planned_framework_has_no_public_page(client, ctx):
    from srpp.frameworks.models import FrameworkState

    mob = _fa(ctx)
    mob.state = FrameworkState.PLANNED
    ctx.flush()
    assert client.get(f"/opportunities/frameworks/{mob.id}").status_code == 404
    assert client.get("/opportunities/frameworks/999999").status_code == 404


# --- the daily task ----------------------------------------------------------------------------

def test_daily_task_is_registered_scheduled_and_runs_the_services(app, ctx):
    from workers.schedule import BEAT_SCHEDULE
    from workers.tasks.frameworks import daily

    assert "srpp.frameworks.daily" in app.extensions["celery"].tasks
    assert any(e["task"] == "srpp.frameworks.daily" for e in BEAT_SCHEDULE.values())
    result = daily.run()
    assert set(result) == {"expired", "withdrawn"}
    assert daily.run() == {"expired": 0, "withdrawn": 0}
