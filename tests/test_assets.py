"""Social assets ("panauda", srpp/assets): the public list (public assets only, no personal data),
one active assignment per asset (service and database), utilisation report validation, the three
indicators of risk 12.1 against a hand-made set, permissions, the annual review, and the demo.
Everything a test makes is made inside its rolled-back transaction."""

from __future__ import annotations

import datetime as dt
import html
import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from srpp.assets import services
from srpp.assets.models import (
    AssetAssignment,
    AssetAudit,
    AssetCondition,
    AssetKind,
    AssetState,
    AssetUtilisationReport,
    ReportingFrequency,
    ReportSubmitter,
    SocialAsset,
)
from srpp.core.errors import DomainError
from srpp.core.permissions import PermissionDenied, can

TODAY = dt.date.today()
Y = TODAY.year - 2  # a year that is over, with room for an assignment starting the year before
ADMIN = "admin@demo.srpp.lt"
COUNCIL = "council@demo.srpp.lt"
SEO = "seo@demo.srpp.lt"
OFFICER_ROK = "officer.rok@demo.srpp.lt"
OFFICER_BIR = "officer.bir@demo.srpp.lt"
FINANCE_ROK = "finance.rok@demo.srpp.lt"
SEO_CODE = "990000001"  # VšĮ "Jautri širdis"; seo@demo.srpp.lt is a member
OTHER_SEO_CODE = "990000002"  # VšĮ "Gėris rankose"
COMPANY_CODE = "990000012"  # a for-profit company


def _text(resp) -> str:
    body = resp.get_data(as_text=True)
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body)))


def _user(ctx, email):
    from srpp.auth.models import User

    return ctx.scalar(select(User).where(User.email == email))


def _supplier(ctx, code):
    from srpp.orgs.models import Supplier

    return ctx.scalar(select(Supplier).where(Supplier.company_code == code))


def _muni(code):
    from srpp.orgs.services import municipality_by_code

    return municipality_by_code(code)


def _asset_input(municipality, **overrides) -> services.AssetInput:
    values = dict(municipality_id=municipality.id, name="Testo mokyklos patalpos", address="Mokyklos g. 1",
                  settlement="Obeliai", kind=AssetKind.PREMISES, condition=AssetCondition.GOOD,
                  eligibility_criteria="NVO, dirbančios su jaunimu", impact_criteria="100 užsiėmimų per metus",
                  maintenance_duties="Valymas ir smulkus remontas", yearly_running_cost=Decimal("2000"),
                  area_m2=Decimal("80"), suitable_uses=["YOUTH"], hours_available_per_year=1000)
    values.update(overrides)
    return services.AssetInput(**values)


def _make_asset(ctx, muni_code="ROK", actor_email=None, **overrides) -> SocialAsset:
    municipality = _muni(muni_code)
    actor = _user(ctx, actor_email or f"officer.{muni_code.lower()}@demo.srpp.lt")
    asset = services.create_asset(actor, _asset_input(municipality, **overrides))
    ctx.flush()
    return asset


def _assign(ctx, asset, supplier_code=SEO_CODE, start=None, years=3, actor=None,
            frequency=ReportingFrequency.ANNUAL) -> AssetAssignment:
    actor = actor or _user(ctx, f"officer.{asset.municipality.code.lower()}@demo.srpp.lt")
    start = start or dt.date(Y - 1, 1, 1)
    a = services.assign(actor, asset, services.AssignmentInput(
        supplier_id=_supplier(ctx, supplier_code).id, start_date=start,
        end_date=start.replace(year=start.year + years) - dt.timedelta(days=1), obligations="Naudoti pagal paskirtį",
        reporting_frequency=frequency, agreement_ref="TEST-1"))
    ctx.flush()
    return a


def _report(ctx, assignment, year, used, available, beneficiaries, costs="0", part=0, actor=None):
    actor = actor or _user(ctx, f"officer.{assignment.asset.municipality.code.lower()}@demo.srpp.lt")
    report, _replaced = services.submit_report(actor, assignment, services.ReportInput(
        year=year, part=part, hours_used=Decimal(used), hours_available=Decimal(available),
        unique_beneficiaries=beneficiaries, costs_borne=Decimal(costs)))
    ctx.flush()
    return report


def _reports_count(ctx) -> int:
    return ctx.scalar(select(func.count()).select_from(AssetUtilisationReport))


# --- the public list -----------------------------------------------------------------------------------

def test_public_list_shows_public_assets_without_personal_data(client, ctx):
    hidden = _make_asset(ctx, name="Slaptos testo patalpos", public=False)
    shown = _make_asset(ctx, name="Viešos testo patalpos")
    _report(ctx, _assign(ctx, shown), Y, "300", "1000", 12, actor=_user(ctx, SEO))
    ctx.commit()  # the savepoint: the client's requests see the rows (the test's transaction is rolled back)

    resp = client.get("/assets/")
    assert resp.status_code == 200
    page = _text(resp)
    public_names = ctx.scalars(select(SocialAsset.name).where(SocialAsset.public.is_(True))).all()
    assert len(public_names) >= 15
    for name in public_names:
        assert name in page
    assert "Slaptos testo patalpos" not in page
    assert "Nemunėlio Radviliškio buvusio felčerinio punkto patalpos" not in page  # the demo's non-public asset
    # criteria and duties are published; the assigned organisation too (an organisation, not a person)
    assert "NVO, dirbančios su jaunimu" in page and "100 užsiėmimų per metus" in page
    assert "Valymas ir smulkus remontas" in page
    assert 'VšĮ "Jautri širdis"' in page
    # no personal data: no people's names, e-mails or phone numbers
    for personal in ("Demo Rasa Jautrienė", "@", "+370", 'Demo "Jautri širdis" vadovė', "Demo pirkimų specialistas"):
        assert personal not in page, personal

    # the asset page: the public part only, with the yearly use but not who submitted it
    resp = client.get(f"/assets/{shown.id}")
    page = _text(resp)
    assert resp.status_code == 200 and "Viešos testo patalpos" in page
    assert "Use of the asset" in page and f'{Y} VšĮ "Jautri širdis" 300 1,000 30% 12' in page  # 300 of 1000 hours
    assert "Assignments (panauda agreements)" not in page and "Submit a utilisation report" not in page
    for personal in ('Demo "Jautri širdis" vadovė', "@", "+370", "TEST-1"):
        assert personal not in page, personal
    # a non-public asset does not exist for the public; its municipality's staff see it
    assert client.get(f"/assets/{hidden.id}").status_code == 404
    assert client.get("/assets/999999999").status_code == 404


def test_public_list_filters(client, ctx):
    def names(query: str) -> set[str]:
        resp = client.get("/assets/" + query)
        assert resp.status_code == 200
        return set(re.findall(r'<h3><a href="/assets/\d+">([^<]+)</a></h3>', resp.get_data(as_text=True)))

    everything = names("")
    rok = {html.unescape(n) for n in names("?municipality=ROK")}
    assert rok == set(ctx.scalars(select(SocialAsset.name).where(
        SocialAsset.municipality_id == _muni("ROK").id, SocialAsset.public.is_(True))).all())
    assert names("?kind=equipment") and all("Ford Transit" in n or "VW Caddy" in n for n in names("?kind=equipment"))
    assigned = {html.unescape(n) for n in names("?state=assigned")}
    assert assigned == set(ctx.scalars(select(SocialAsset.name).where(
        SocialAsset.state == AssetState.ASSIGNED, SocialAsset.public.is_(True))).all())
    youth = {html.unescape(n) for n in names("?use=YOUTH")}
    assert "Buvusios Juodupės mokyklos pastato I aukštas" in youth
    assert "Kamajų senosios klebonijos patalpos" not in youth
    assert names("?kind=castle") == set() and names("?municipality=XXX") == set()
    assert len(everything) > len(youth) > 0


# --- one active assignment ------------------------------------------------------------------------------

def test_one_active_assignment_is_refused_by_the_service(ctx):
    asset = _make_asset(ctx)
    first = _assign(ctx, asset)
    assert asset.state == AssetState.ASSIGNED
    officer = _user(ctx, OFFICER_ROK)
    with pytest.raises(DomainError, match="already assigned"):
        services.assign(officer, asset, services.AssignmentInput(
            supplier_id=_supplier(ctx, OTHER_SEO_CODE).id, start_date=dt.date(Y, 6, 1),
            end_date=dt.date(Y + 2, 5, 31), obligations="x"))
    assert ctx.scalar(select(func.count()).select_from(AssetAssignment)
                      .where(AssetAssignment.asset_id == asset.id)) == 1
    # after the return a new assignment works, but it cannot start before the return
    services.return_asset(officer, first, dt.date(Y, 6, 30), "grąžinta")
    assert asset.state == AssetState.RETURNED
    with pytest.raises(services.Refused) as err:
        services.assign(officer, asset, services.AssignmentInput(
            supplier_id=_supplier(ctx, OTHER_SEO_CODE).id, start_date=dt.date(Y, 6, 1),
            end_date=dt.date(Y + 2, 5, 31), obligations="x"))
    assert err.value.problems[0].field == "start_date"
    second = _assign(ctx, asset, OTHER_SEO_CODE, start=dt.date(Y, 7, 1))
    assert asset.state == AssetState.ASSIGNED and asset.active_assignment.id == second.id
    # a for-profit company and a withdrawn asset are refused
    other = _make_asset(ctx, name="Kitos patalpos")
    with pytest.raises(services.Refused, match="for-profit"):
        _assign(ctx, other, COMPANY_CODE)
    services.set_state(officer, other, AssetState.WITHDRAWN)
    with pytest.raises(DomainError, match="withdrawn"):
        _assign(ctx, other)


def test_one_active_assignment_is_enforced_by_the_database(ctx):
    asset = _make_asset(ctx)
    first = _assign(ctx, asset)
    rogue = AssetAssignment(asset_id=asset.id, municipality_id=asset.municipality_id,
                            supplier_id=_supplier(ctx, OTHER_SEO_CODE).id, start_date=dt.date(Y, 1, 1),
                            end_date=dt.date(Y + 1, 1, 1), obligations="bypassing the service")
    # PostgreSQL names the index, SQLite the column
    with pytest.raises(IntegrityError, match="uq_asset_assignments_active|UNIQUE constraint failed: asset_assignments"):
        with ctx.begin_nested():
            ctx.add(rogue)
            ctx.flush()
    # returned assignments do not count: once the first is returned, another active one is accepted
    first.returned_on = dt.date(Y - 1, 12, 31)
    ctx.flush()
    ctx.add(AssetAssignment(asset_id=asset.id, municipality_id=asset.municipality_id,
                            supplier_id=_supplier(ctx, OTHER_SEO_CODE).id, start_date=dt.date(Y, 1, 1),
                            end_date=dt.date(Y + 1, 1, 1), obligations="after the return"))
    ctx.flush()
    assert ctx.scalar(select(func.count()).select_from(AssetAssignment).where(
        AssetAssignment.asset_id == asset.id, AssetAssignment.returned_on.is_(None))) == 1


def test_assigning_twice_over_http_shows_the_refusal(as_user, ctx):
    asset = _make_asset(ctx)
    _assign(ctx, asset)
    ctx.commit()
    client = as_user(OFFICER_ROK)
    resp = client.post(f"/assets/{asset.id}/assign", data={
        "supplier_id": _supplier(ctx, OTHER_SEO_CODE).id, "start_date": f"{Y}-06-01",
        "end_date": f"{Y + 1}-05-31", "obligations": "x", "reporting_frequency": "annual"})
    assert resp.status_code == 200
    assert "already assigned" in _text(resp)
    assert ctx.scalar(select(func.count()).select_from(AssetAssignment)
                      .where(AssetAssignment.asset_id == asset.id)) == 1


# --- utilisation reports ------------------------------------------------------------------------------

@pytest.mark.parametrize(("used", "available", "beneficiaries", "costs", "field"), [
    ("1200", "1000", 10, "0", "hours_used"),     # more hours used than available
    ("-5", "1000", 10, "0", "hours_used"),       # negative hours
    ("10", "-1", 10, "0", "hours_available"),
    ("10", "0", 10, "0", "hours_available"),
    ("10", "9000", 10, "0", "hours_available"),  # more than the hours in a year
    ("10", "100", -3, "0", "unique_beneficiaries"),
    ("10", "100", 3, "-1", "costs_borne"),
])
def test_utilisation_report_validation_refuses_and_saves_nothing(ctx, used, available, beneficiaries, costs, field):
    assignment = _assign(ctx, _make_asset(ctx))
    before = _reports_count(ctx)
    with pytest.raises(services.Refused) as err:
        _report(ctx, assignment, Y, used, available, beneficiaries, costs)
    assert field in [p.field for p in err.value.problems]
    assert _reports_count(ctx) == before


def test_utilisation_report_years_and_periods(ctx):
    assignment = _assign(ctx, _make_asset(ctx), start=dt.date(Y - 1, 3, 1), years=2)  # until Y + 1, Feb
    for year in (Y - 2, TODAY.year + 1, 1999):
        with pytest.raises(services.Refused) as err:
            _report(ctx, assignment, year, "10", "100", 1)
        assert err.value.problems[0].field == "year"
    with pytest.raises(services.Refused, match="once a year"):
        _report(ctx, assignment, Y, "10", "100", 1, part=1)
    # a correction replaces the report of the same period
    first = _report(ctx, assignment, Y, "10", "100", 1)
    again = _report(ctx, assignment, Y, "20", "100", 2)
    assert first.id == again.id and again.hours_used == Decimal("20.00")
    assert _reports_count(ctx) >= 1
    semi = _assign(ctx, _make_asset(ctx, name="Pusmečio patalpos"), frequency=ReportingFrequency.SEMIANNUAL)
    with pytest.raises(services.Refused, match="half-year"):
        _report(ctx, semi, Y, "10", "100", 1, part=0)
    h2 = _report(ctx, semi, Y, "100", "4000", 4, part=2)
    assert (h2.period_start, h2.period_end) == (dt.date(Y, 7, 1), dt.date(Y, 12, 31))


def test_utilisation_report_check_constraints_back_the_service(ctx):
    assignment = _assign(ctx, _make_asset(ctx))
    bad = AssetUtilisationReport(assignment_id=assignment.id, municipality_id=assignment.municipality_id,
                                 year=Y, part=0, hours_used=Decimal(200), hours_available=Decimal(100),
                                 unique_beneficiaries=1, costs_borne=Decimal(0),
                                 submitted_as=ReportSubmitter.MUNICIPALITY)
    with pytest.raises(IntegrityError, match="hours_used_within_available"):
        with ctx.begin_nested():
            ctx.add(bad)
            ctx.flush()


def test_report_form_refusal_over_http_saves_nothing(as_user, ctx):
    assignment = _assign(ctx, _make_asset(ctx))
    ctx.commit()
    before = _reports_count(ctx)
    client = as_user(SEO)
    resp = client.post(f"/assets/assignments/{assignment.id}/report", data={
        "year": Y, "part": 0, "hours_used": "1500", "hours_available": "1000", "unique_beneficiaries": "5",
        "costs_borne": "0"})
    assert resp.status_code == 200
    assert "cannot exceed the hours available" in _text(resp)
    resp = client.post(f"/assets/assignments/{assignment.id}/report", data={
        "year": Y, "part": 0, "hours_used": "abc", "hours_available": "1000", "unique_beneficiaries": "x"})
    assert resp.status_code == 200 and "Write an amount like" in _text(resp)
    assert _reports_count(ctx) == before


# --- indicators ---------------------------------------------------------------------------------------

@pytest.fixture()
def test_municipality(ctx):
    """A municipality of its own, so the hand-made set is the whole of its data."""
    from srpp.orgs.models import Municipality, MunicipalityType

    rok = _muni("ROK")
    m = Municipality(region_id=rok.region_id, code="TST", name_lt="Testo savivaldybė", name_en="Test Municipality",
                     short_name_lt="Testas", short_name_en="Test", type=MunicipalityType.DISTRICT, sort_order=99)
    ctx.add(m)
    ctx.flush()
    return m


def _hand_made_set(ctx, m):
    """A (running cost 2 000 €): assigned from 1 Jan Y-1, yearly reports for Y-1 and Y.
    B (running cost 1 000 €): assigned from 1 Mar Y, half-yearly reports for Y.
    C: assigned from 1 Feb Y-1, returned 31 Aug Y-1, no report. D: never assigned."""
    admin = _user(ctx, ADMIN)
    a = services.create_asset(admin, _asset_input(m, name="A", yearly_running_cost=Decimal("2000")))
    b = services.create_asset(admin, _asset_input(m, name="B", yearly_running_cost=Decimal("1000")))
    c = services.create_asset(admin, _asset_input(m, name="C"))
    services.create_asset(admin, _asset_input(m, name="D"))
    ctx.flush()
    aa = _assign(ctx, a, start=dt.date(Y - 1, 1, 1), actor=admin)
    ba = _assign(ctx, b, OTHER_SEO_CODE, start=dt.date(Y, 3, 1), actor=admin,
                 frequency=ReportingFrequency.SEMIANNUAL)
    ca = _assign(ctx, c, start=dt.date(Y - 1, 2, 1), actor=admin)
    services.return_asset(admin, ca, dt.date(Y - 1, 8, 31), None)
    _report(ctx, aa, Y - 1, "100", "1000", 5, "50", actor=admin)
    _report(ctx, aa, Y, "600", "1000", 20, "400", actor=admin)
    _report(ctx, ba, Y, "300", "500", 10, "100", part=1, actor=admin)
    _report(ctx, ba, Y, "100", "500", 10, "0", part=2, actor=admin)
    return a, b, c


def test_indicators_against_a_hand_made_set(ctx, test_municipality):
    m = test_municipality
    h1, h2 = (dt.date(Y, 1, 1), dt.date(Y, 6, 30)), (dt.date(Y, 7, 1), dt.date(Y, 12, 31))
    # nothing yet: no data
    for fn in (services.assets_allocated, services.utilisation_rate, services.cost_per_beneficiary):
        assert fn(*h1, m.id) is None
    a, b, c = _hand_made_set(ctx, m)

    # assets allocated: agreements started by the period's end, returned ones included (cumulative)
    value, num, den, details = services.assets_allocated(dt.date(Y - 1, 1, 1), dt.date(Y - 1, 6, 30), m.id)
    assert (value, num, den) == (Decimal(2), Decimal(2), None)
    assert details["records"] == [{"type": "asset", "id": a.id}, {"type": "asset", "id": c.id}]
    assert details["signed_in_period"] == 2
    value, _n, _d, details = services.assets_allocated(*h1, m.id)
    assert value == Decimal(3) and details["signed_in_period"] == 1
    assert {r["id"] for r in details["records"]} == {a.id, b.id, c.id}

    # utilisation: H1 Y = A's year Y + B's H1 = 900 / 1500; H2 Y = A's year Y + B's H2 = 700 / 1500
    value, num, den, details = services.utilisation_rate(*h1, m.id)
    assert (value, num, den) == (Decimal("60.00"), Decimal("900"), Decimal("1500"))
    assert details["records"] == [{"type": "asset", "id": a.id}, {"type": "asset", "id": b.id}]
    value, num, den, _details = services.utilisation_rate(*h2, m.id)
    assert (value, num, den) == (Decimal("46.67"), Decimal("700"), Decimal("1500"))
    value, num, den, details = services.utilisation_rate(dt.date(Y - 1, 7, 1), dt.date(Y - 1, 12, 31), m.id)
    assert (value, num, den) == (Decimal("10.00"), Decimal("100"), Decimal("1000"))
    assert details["records"] == [{"type": "asset", "id": a.id}]

    # cost per beneficiary: (running cost for the reported periods + costs borne) ÷ beneficiaries
    # H1 Y: A 2000 + 400, B half of 1000 + 100 → 3000 / 30; H2 Y: 2400 + 500 + 0 → 2900 / 30
    value, num, den, _details = services.cost_per_beneficiary(*h1, m.id)
    assert (value, num, den) == (Decimal("100.00"), Decimal("3000.00"), Decimal(30))
    value, num, den, _details = services.cost_per_beneficiary(*h2, m.id)
    assert (value, num, den) == (Decimal("96.67"), Decimal("2900.00"), Decimal(30))
    # a later half-year without reports: no data
    assert services.utilisation_rate(dt.date(Y + 5, 1, 1), dt.date(Y + 5, 6, 30), m.id) is None
    assert services.cost_per_beneficiary(dt.date(Y + 5, 1, 1), dt.date(Y + 5, 6, 30), m.id) is None

    # the region is the sum of its municipalities
    from srpp.orgs.services import municipalities

    for fn in (services.assets_allocated, services.utilisation_rate, services.cost_per_beneficiary):
        region = fn(*h1, None)
        ids = {x.id for x in municipalities()} | {m.id}
        parts = [r for r in (fn(*h1, i) for i in ids) if r is not None]
        assert region[1] == sum(p[1] for p in parts)
        if region[2] is not None:
            assert region[2] == sum(p[2] for p in parts)
    assert set(services.INDICATORS) == {"assets_allocated", "utilisation_rate", "cost_per_beneficiary"}
    # the hooks the indicator registry calls (srpp/kpis/computers.py) are these functions
    assert (services.kpi_assets_allocated, services.kpi_asset_utilisation, services.kpi_asset_cost) == (
        services.assets_allocated, services.utilisation_rate, services.cost_per_beneficiary)


def test_annual_review_and_audits(ctx, test_municipality):
    m = test_municipality
    a, b, c = _hand_made_set(ctx, m)
    admin = _user(ctx, ADMIN)
    # the audit's rate is computed from the year's reports when not given
    audit = services.record_audit(admin, a, services.AuditInput(
        year=Y, audited_on=dt.date(Y + 1, 2, 1), findings="Naudojama pagal paskirtį", auditor="Turto skyrius"))
    assert audit.utilisation_rate == Decimal("60.00")
    with pytest.raises(services.Refused, match="already recorded"):
        services.record_audit(admin, a, services.AuditInput(year=Y, audited_on=dt.date(Y + 1, 2, 2),
                                                            findings="x", auditor="y"))
    with pytest.raises(services.Refused) as err:
        services.record_audit(admin, b, services.AuditInput(year=Y, audited_on=TODAY + dt.timedelta(days=3),
                                                            findings="x", auditor="y", utilisation_rate=Decimal(120)))
    assert {p.field for p in err.value.problems} == {"audited_on", "utilisation_rate"}

    rows = {r.asset.name: r for r in services.annual_review([m.id], Y, today=dt.date(Y + 1, 3, 1))}
    assert rows["A"].audit_status == "done" and rows["A"].rate == Decimal("60.00")
    assert rows["A"].cost_per_beneficiary == Decimal("120.00")  # (2000 + 400) / 20
    assert rows["B"].audit_status == "due" and rows["B"].rate == Decimal("40.00")  # 400 / 1000
    assert rows["B"].cost_per_beneficiary == Decimal("55.00")  # (1000 + 100) / 20
    assert rows["C"].audit_status == "none" and rows["D"].audit_status == "none"
    late = {r.asset.name: r for r in services.annual_review([m.id], Y, today=dt.date(Y + 1, 4, 1))}
    assert late["B"].audit_status == "overdue"
    # C was held in Y - 1 without reporting it
    previous = {r.asset.name: r for r in services.annual_review([m.id], Y - 1, today=dt.date(Y + 1, 4, 1))}
    assert previous["C"].missing_reports == 1 and previous["A"].missing_reports == 0
    assert previous["C"].audit_status == "overdue"


# --- permissions ----------------------------------------------------------------------------------------

def test_officer_of_another_municipality_is_refused(as_user, ctx):
    asset = _make_asset(ctx)
    bir = _user(ctx, OFFICER_BIR)
    with pytest.raises(PermissionDenied):
        services.update_asset(bir, asset, _asset_input(asset.municipality, name="x"), asset.version)
    with pytest.raises(PermissionDenied):
        services.create_asset(bir, _asset_input(asset.municipality))
    ctx.commit()
    client = as_user(OFFICER_BIR)
    assert client.get(f"/assets/{asset.id}/edit").status_code == 403
    resp = client.post(f"/assets/{asset.id}/assign", data={
        "supplier_id": _supplier(ctx, SEO_CODE).id, "start_date": f"{Y}-01-01", "end_date": f"{Y + 1}-01-01",
        "obligations": "x", "reporting_frequency": "annual"})
    assert resp.status_code == 403
    assert client.post(f"/assets/{asset.id}/audits", data={}).status_code == 403
    assert client.post(f"/assets/{asset.id}/state", data={"target": "withdrawn"}).status_code == 403
    assert client.get("/assets/review?municipality=ROK").status_code == 403
    assert client.get("/assets/review?municipality=BIR").status_code == 200
    ctx.expire_all()
    assert asset.active_assignment is None and asset.state == AssetState.AVAILABLE
    # the finance officer of the same municipality reviews but does not manage
    finance = _user(ctx, FINANCE_ROK)
    assert can(finance, "asset.review", asset.municipality) and not can(finance, "asset.manage", asset.municipality)


def test_the_assigned_organisation_reports_and_another_is_refused(as_user, ctx):
    from srpp.auth import services as auth
    from srpp.auth.models import Role

    assignment = _assign(ctx, _make_asset(ctx))
    other = auth.create_user(None, email="other.seo@example.org", full_name="Other SEO member",
                             password="demo12345", locale="en")
    auth.add_membership(None, other, Role.SEO_MEMBER, supplier_id=_supplier(ctx, OTHER_SEO_CODE).id)
    with pytest.raises(PermissionDenied):
        _report(ctx, assignment, Y, "10", "100", 1, actor=other)
    ctx.commit()
    data = {"year": Y, "part": 0, "hours_used": "750", "hours_available": "1000", "unique_beneficiaries": "31",
            "costs_borne": "1 200,50", "activities": "Užsiėmimai"}
    client = as_user("other.seo@example.org")
    assert client.post(f"/assets/assignments/{assignment.id}/report", data=data).status_code == 403
    assert _reports_count(ctx) == ctx.scalar(select(func.count()).select_from(AssetUtilisationReport))
    assert not assignment.reports
    client = as_user(SEO)
    page = _text(client.get(f"/assets/{assignment.asset_id}"))
    assert "Submit a utilisation report" in page and "Record an annual audit" not in page
    resp = client.post(f"/assets/assignments/{assignment.id}/report", data=data)
    assert resp.status_code == 302
    ctx.expire_all()
    report = ctx.scalar(select(AssetUtilisationReport).where(AssetUtilisationReport.assignment_id == assignment.id))
    assert (report.hours_used, report.unique_beneficiaries, report.costs_borne) == (
        Decimal("750.00"), 31, Decimal("1200.50"))
    assert report.submitted_as == ReportSubmitter.ORGANISATION
    # the municipality's officer may report too
    officer_report = _report(ctx, assignment, Y - 1, "10", "100", 1)
    assert officer_report.submitted_as == ReportSubmitter.MUNICIPALITY


def test_anonymous_reads_the_list_but_cannot_edit(client, ctx):
    asset = _make_asset(ctx)
    ctx.commit()
    assert client.get("/assets/").status_code == 200
    assert client.get(f"/assets/{asset.id}").status_code == 200
    for method, url in (("GET", "/assets/new"), ("POST", "/assets/new"), ("GET", f"/assets/{asset.id}/edit"),
                        ("POST", f"/assets/{asset.id}/edit"), ("POST", f"/assets/{asset.id}/assign"),
                        ("POST", f"/assets/{asset.id}/return"), ("POST", f"/assets/{asset.id}/audits"),
                        ("POST", f"/assets/{asset.id}/state"), ("GET", "/assets/review")):
        resp = client.open(url, method=method, data={"name": "hacked", "target": "withdrawn"})
        assert resp.status_code == 302 and "/login" in resp.headers["Location"], (method, url)
    ctx.expire_all()
    assert asset.name == "Testo mokyklos patalpos" and asset.state == AssetState.AVAILABLE


def test_review_page_scopes(as_user, ctx):
    client = as_user(OFFICER_ROK)
    resp = client.get(f"/assets/review?year={TODAY.year - 1}")
    page = _text(resp)
    assert resp.status_code == 200
    assert "Kamajų senosios klebonijos patalpos" in page and "Buvusios Vabalninko mokyklos pastato I aukštas" not in page
    assert "audited" in page  # the demo audit of Kamajai
    client = as_user(COUNCIL)
    page = _text(client.get(f"/assets/review?year={TODAY.year - 1}"))
    assert "Kamajų senosios klebonijos patalpos" in page and "Buvusios Vabalninko mokyklos pastato I aukštas" in page
    assert "Nemunėlio Radviliškio buvusio felčerinio punkto patalpos" in page  # not public, but listed for review
    assert as_user(SEO).get("/assets/review").status_code == 403


# --- forms over HTTP ----------------------------------------------------------------------------------------

def test_officer_adds_edits_assigns_returns_and_audits(as_user, ctx):
    from srpp.core.models import AuditEvent

    client = as_user(OFFICER_ROK)
    form = {"municipality_id": _muni("ROK").id, "name": "Obelių bibliotekos salė", "kind": "premises",
            "address": "Stoties g. 2", "settlement": "Obeliai", "area_m2": "75,5", "condition": "good",
            "suitable_uses": ["YOUTH", "CROSS_CUTTING"], "eligibility_criteria": "NVO",
            "impact_criteria": "50 renginių", "maintenance_duties": "Valymas", "yearly_running_cost": "1 500",
            "hours_available_per_year": "1200", "public": "y"}
    resp = client.post("/assets/new", data={**form, "impact_criteria": "", "suitable_uses": []})
    assert resp.status_code == 200
    assert ctx.scalar(select(SocialAsset).where(SocialAsset.name == "Obelių bibliotekos salė")) is None
    resp = client.post("/assets/new", data={**form, "suitable_uses": []})
    assert resp.status_code == 200 and "Choose at least one suitable use" in _text(resp)
    resp = client.post("/assets/new", data=form)
    assert resp.status_code == 302
    asset = ctx.scalar(select(SocialAsset).where(SocialAsset.name == "Obelių bibliotekos salė"))
    assert asset.area_m2 == Decimal("75.50") and [u.value for u in asset.suitable_uses] == ["CROSS_CUTTING", "YOUTH"]
    # a stale version is refused, the current one saves
    resp = client.post(f"/assets/{asset.id}/edit", data={**form, "name": "Nauja", "version": asset.version - 1})
    assert resp.status_code == 200 and "changed by someone else" in _text(resp)
    resp = client.post(f"/assets/{asset.id}/edit", data={**form, "suitable_uses": ["YOUTH"], "public": "",
                                                         "version": asset.version})
    assert resp.status_code == 302
    ctx.expire_all()
    assert [u.value for u in asset.suitable_uses] == ["YOUTH"] and asset.public is False
    resp = client.post(f"/assets/{asset.id}/assign", data={
        "supplier_id": _supplier(ctx, "990000010").id, "start_date": f"{Y}-01-01", "end_date": f"{Y + 3}-12-31",
        "obligations": "Atvira jaunimo erdvė", "reporting_frequency": "annual", "agreement_ref": "ROK-PA-T"})
    assert resp.status_code == 302
    ctx.expire_all()
    assignment = asset.active_assignment
    assert asset.state == AssetState.ASSIGNED and assignment.agreement_ref == "ROK-PA-T"
    resp = client.post(f"/assets/{asset.id}/return", data={"returned_on": (TODAY + dt.timedelta(days=5)).isoformat(),
                                                           "version": assignment.version})
    assert resp.status_code == 200 and "in the future" in _text(resp)
    resp = client.post(f"/assets/{asset.id}/return", data={"returned_on": f"{Y + 1}-01-31",
                                                           "return_note": "Tvarkinga", "version": assignment.version})
    assert resp.status_code == 302
    resp = client.post(f"/assets/{asset.id}/audits", data={"year": Y, "audited_on": f"{Y + 1}-02-15",
                                                           "findings": "Nepakankamai naudojama", "utilisation_rate": "35",
                                                           "corrective_actions": "Skelbti iš naujo", "auditor": "Turto skyrius"})
    assert resp.status_code == 302
    resp = client.post(f"/assets/{asset.id}/state", data={"target": "withdrawn"})
    assert resp.status_code == 302
    ctx.expire_all()
    assert asset.state == AssetState.WITHDRAWN and assignment.returned_on == dt.date(Y + 1, 1, 31)
    assert ctx.scalar(select(AssetAudit.utilisation_rate).where(AssetAudit.asset_id == asset.id)) == Decimal("35.00")
    # every change is in the audit log
    kinds = set(ctx.scalars(select(AuditEvent.entity_type).where(AuditEvent.municipality_id == asset.municipality_id,
                                                                 AuditEvent.actor_label == OFFICER_ROK)))
    assert {"SocialAsset", "AssetAssignment", "AssetAudit"} <= kinds
    uses = ctx.scalars(select(AuditEvent).where(AuditEvent.entity_type == "SocialAssetUse",
                                                AuditEvent.entity_id.like(f"{asset.id},%"))).all()
    assert sorted((e.action.value, e.entity_id) for e in uses) == [
        ("create", f"{asset.id},CROSS_CUTTING"), ("create", f"{asset.id},YOUTH"), ("delete", f"{asset.id},CROSS_CUTTING")]
    edits = ctx.scalars(select(AuditEvent).where(AuditEvent.entity_type == "SocialAsset",
                                                 AuditEvent.entity_id == str(asset.id))).all()
    assert any(e.changes.get("state") == ["assigned", "returned"] for e in edits)
    assert any(e.changes.get("public") == [True, False] for e in edits)


# --- the demo ------------------------------------------------------------------------------------------------

def test_the_demo_loads_and_the_counts_match(ctx):
    from srpp.demo.loader import DEMO_STEPS, read

    assert "srpp.assets.demo:load" in DEMO_STEPS
    data = read("assets.yaml")["assets"]
    assets = ctx.scalars(select(SocialAsset)).all()
    assert len(assets) == len(data) == 15
    assert {a.municipality.code for a in assets} == {"PAN-C", "PAN-D", "BIR", "KUP", "PAS", "ROK"}
    by_state = {s: sum(1 for a in assets if a.state == s) for s in AssetState}
    assert by_state == {AssetState.ASSIGNED: 7, AssetState.RETURNED: 1, AssetState.WITHDRAWN: 1,
                        AssetState.AVAILABLE: 6}
    assert sum(1 for a in assets if not a.public) == 1
    assignments = ctx.scalars(select(AssetAssignment)).all()
    assert len(assignments) == sum(1 for d in data if d.get("assignment")) == 8
    assert sum(1 for a in assignments if a.returned_on is None) == 7
    codes = {s["code"] for s in read("suppliers.yaml")["suppliers"]}
    assert {a.supplier.company_code for a in assignments} <= codes
    assert all(a.start_date <= TODAY < a.end_date for a in assignments if a.returned_on is None)
    reports = ctx.scalars(select(AssetUtilisationReport)).all()
    assert len(reports) == sum(len(d.get("assignment", {}).get("reports", [])) for d in data) == 8
    assert sum(1 for r in reports if r.year == TODAY.year - 1) == 7
    seo = _supplier(ctx, SEO_CODE)
    assert {r.submitted_as for r in reports if r.assignment.supplier_id == seo.id} == {ReportSubmitter.ORGANISATION}
    audits = ctx.scalars(select(AssetAudit)).all()
    assert [(a.asset.name, a.year) for a in audits] == [("Kamajų senosios klebonijos patalpos", TODAY.year - 1)]
    assert audits[0].utilisation_rate == Decimal("71.88")  # 1150 / 1600
    # the indicators have data for last year's second half-year
    last_h2 = (dt.date(TODAY.year - 1, 7, 1), dt.date(TODAY.year - 1, 12, 31))
    assert services.assets_allocated(*last_h2)[0] >= 7
    assert services.utilisation_rate(*last_h2) is not None and services.cost_per_beneficiary(*last_h2) is not None


@pytest.mark.parametrize("day", [dt.date(2027, 1, 3), dt.date(2026, 6, 30), dt.date(2028, 12, 31)])
def test_the_demo_plan_is_sound_on_any_loading_day(ctx, day):
    from srpp.assets import demo

    before = ctx.scalar(select(func.count()).select_from(SocialAsset))
    demo.load(today=day)  # refused input would raise
    assert ctx.scalar(select(func.count()).select_from(SocialAsset)) == before + 15
