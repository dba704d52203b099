"""The indicator registry, the computed indicators and the indicator pages.

The hand-checked data set (``world``), all in Rokiškis (ROK) in 2023 H1, where the demo has no records:

- four new organisations: A (SEO, 12 staff, registered 1 Mar 2023, works in ROK), B (WISE, registered
  May 2022), C (company, 40 staff = SME), D (company, 900 staff);
- tender T1 (simplified, SRPP) published 1 Feb 2023, bid deadline 10 Mar 2023, three lots:
  L1 reserved 10 000 (ROK, a district) — bids A (winner), B;
  L2 20 000 rural — bids C (winner), A (not compliant);
  L3 30 000 in Panevėžys city — bid D (winner);
  tender T2 published 5 Apr 2023 without lots;
- a published 2023 plan: I1 (Feb, T1: on time), I2 (Mar, T2 in April: late), I3 (Apr, no tender: late),
  I4 (May, cancelled: left out) → G2 = 1/3;
- contracts: K1 from L1 (A, 9 500, signed 1 Apr, starts 1 May: 30 days), K2 from L2 (C, 19 000, signed 11 Apr,
  starts 21 Apr: 10 days), K3 direct (B, 5 000, signed and starting 1 Jun: 0 days); OLD1 (C, ended 31 Mar,
  renewed by K2) and OLD2 (D, ended 31 May, not renewed);
- on OLD1: invoices received 6 Feb 2023 paid after 10, 45 and 21 days (30-day term: one late), 10 000 of
  milestones planned by 31 Mar (4 000 paid: burn rate 40 %), a work stoppage on 1 Mar;
- ROK's payment report for 2023 H1 published 29 Aug 2023 (60 days after the half-year);
- frameworks (coordinated by ROK): FA1 active from 1 Jan 2023 with ROK, BIR and KUP (KUP's opt-out due
  1 May, carried out 10 May: late); FA3 active since 2022 with ROK, BIR (opt-out due and done 1 Mar: on time)
  and PAS (opt-out due 15 Jul); FA2 with ROK alone; FA4 only planned → G1 = 2 (FA1, FA3), 1 signed.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
import types
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from srpp.auth.models import User

H1 = (dt.date(2023, 1, 1), dt.date(2023, 6, 30))
COUNCIL = "council@demo.srpp.lt"
ADMIN = "admin@demo.srpp.lt"
OFFICER = "officer.rok@demo.srpp.lt"
FINANCE = "finance.rok@demo.srpp.lt"
SEO = "seo@demo.srpp.lt"
CPV = "85312100-0"

#: every indicator of domain.md §3.1–3.9 (the §3.9 rows that say "= C1" etc. reuse that code)
SECTION_3_CODES = [
    "G1", "G2", "F1", "F2", "F3", "C1", "C2", "C3", "P1", "P2", "P3", "S1", "S2", "S3", "S4", "S5",
    "O1", "O2", "O3", "O4", "K1", "K2", "K3", "X1", "X2", "X3", "X4", "X5", "X6", "X7", "X8", "X9",
    "R-RESERVED-LOTS", "R-AVG-LOT-SIZE", "R-BIDDER-DIVERSITY", "R-BID-ERROR-RATE", "R-LEADER-PILOTS",
    "R-EVENT-PARTICIPATION", "R-TRUST", "R-UPTAKE", "R-OPTOUTS-ON-TIME", "R-RURAL-SHARE", "R-USER-ACCESS",
    "R-BURN-RATE", "R-STOPPAGES", "R-NEW-SEO", "R-RENEWED", "R-ACTIVATION-DAYS", "R-CERTIFICATES",
    "R-CONTINUITY", "R-COMPLETE-SUBMISSIONS", "R-REPORT-TIMELINESS", "R-VARIANCE", "R-DPIA", "R-AUDIT-PASS",
    "R-INCIDENTS", "R-OUTREACH", "R-QA-FINDINGS", "R-RENEWAL-DECISIONS", "R-MULTI-SERVICE", "R-EQUITY-KPIS",
    "R-EQUITY-ACTIONS", "R-ASSETS-ALLOCATED", "R-ASSET-UTILISATION", "R-ASSET-COST", "R-SCHEDULE-DELAY",
    "R-RESERVED-SHARE",
]
#: companion measures the brief asks for, with codes of their own
COMPANIONS = ["F1-WITHIN-TERM", "P1-SINGLE-BID", "R-RESERVED-VALUE"]


def _user(ctx, email: str) -> User:
    return ctx.scalar(select(User).where(User.email == email))


def _muni(code: str):
    from srpp.orgs.services import municipality_by_code

    return municipality_by_code(code)


def _at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(10, 0), tzinfo=dt.UTC)


# --- the registry ------------------------------------------------------------------------------------

def test_the_registry_file_has_every_indicator_of_section_3(ctx):
    from srpp.kpis.services import read_registry

    rows = read_registry()
    codes = [r["code"] for r in rows]
    assert sorted(codes) == sorted(SECTION_3_CODES + COMPANIONS)
    for r in rows:
        for key in ("name_lt", "name_en", "definition_lt", "definition_en"):
            assert len(r[key]) > 5, f"{r['code']}: {key} is empty"
        assert r["name_lt"] != r["name_en"], f"{r['code']} has no Lithuanian name"
        if r["source"] == "reported":
            assert r["reported_by"] in ("municipality", "contract", "both") and r["minimum"] is not None
    computed = [r["code"] for r in rows if r["source"] == "computed"]
    assert len(computed) == 29 and len(rows) - len(computed) == 41


def test_the_thresholds_in_the_file(ctx):
    from srpp.kpis.services import read_registry

    rows = {r["code"]: r for r in read_registry()}
    assert (rows["F1"]["target"], rows["F1"]["amber"], rows["F1"]["red"]) == (30, 30, 45)
    assert rows["F1"]["direction"] == "lower"
    assert rows["G1"]["target"] == 3 and rows["G1"]["direction"] == "higher"
    # the reserved share's target comes from the setting (2 %), red is anything below it
    assert (rows["R-RESERVED-SHARE"]["target"], rows["R-RESERVED-SHARE"]["red"]) == (Decimal("2.00"), Decimal("1.99"))


def test_the_demo_database_holds_the_registry(ctx):
    from srpp.kpis.models import Indicator
    from srpp.kpis.services import read_registry

    assert ctx.scalar(select(func.count()).select_from(Indicator)) == len(read_registry())
    g1 = ctx.scalar(select(Indicator).where(Indicator.code == "G1"))
    assert g1.name_lt.startswith("Tarpsavivaldybinių") and g1.computer == "g1_frameworks"


def test_loading_again_changes_nothing_and_keeps_the_councils_thresholds(ctx, tmp_path):
    from srpp.kpis import services
    from srpp.kpis.models import Indicator

    assert services.load_registry() == 0
    f1 = ctx.scalar(select(Indicator).where(Indicator.code == "F1"))
    version = f1.version
    services.set_thresholds(_user(ctx, COUNCIL), f1, services.Thresholds(Decimal(25), Decimal(30), Decimal(50)),
                            version)
    data = yaml.safe_load(services.REGISTRY.read_text(encoding="utf-8"))
    entry = next(i for i in data["indicators"] if i["code"] == "F1")
    entry["name_en"] = "Payment term in days (renamed)"
    data["indicators"].append({**entry, "code": "F1-TEST", "name_en": "A new one"})
    path = tmp_path / "indicators.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert services.load_registry(path) == 2
    ctx.refresh(f1)
    assert f1.name_en == "Payment term in days (renamed)"
    assert (f1.target, f1.amber, f1.red) == (Decimal(25), Decimal(30), Decimal(50))  # the council's
    new = ctx.scalar(select(Indicator).where(Indicator.code == "F1-TEST"))
    assert (new.target, new.amber, new.red) == (Decimal(30), Decimal(30), Decimal(45))  # the file's, on insert


def test_an_invalid_registry_file_names_every_problem(ctx, tmp_path):
    from srpp.kpis.services import RegistryError, read_registry

    bad = {"indicators": [
        {"code": "Z1", "group": "governance", "name_lt": "a", "name_en": "b", "definition_lt": "c",
         "definition_en": "d", "unit": "furlongs", "direction": "higher", "source": "reported",
         "reported_by": "municipality"},
        {"code": "Z1", "group": "nowhere", "name_lt": "a", "name_en": "b", "definition_lt": "c",
         "definition_en": "d", "unit": "count", "direction": "higher", "source": "computed", "computer": "nope"},
        {"code": "Z3", "group": "finance", "name_lt": "a", "name_en": "b", "definition_lt": "c", "definition_en": "d",
         "unit": "days", "direction": "lower", "source": "reported", "reported_by": "municipality",
         "amber": 45, "red": 30},
    ]}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(bad), encoding="utf-8")
    with pytest.raises(RegistryError) as err:
        read_registry(path)
    text = " | ".join(err.value.problems)
    for fragment in ("unit 'furlongs'", "used twice", "group 'nowhere'", "computer 'nope'",
                     "red threshold must be above the amber"):
        assert fragment in text


# --- thresholds and status ------------------------------------------------------------------------

@pytest.mark.parametrize(("direction", "amber", "red", "value", "status"), [
    ("lower", 30, 45, None, "none"),
    ("lower", 30, 45, "29.9", "green"),
    ("lower", 30, 45, "30", "amber"),
    ("lower", 30, 45, "44.9", "amber"),
    ("lower", 30, 45, "45", "red"),
    ("higher", 2, 1, "3", "green"),
    ("higher", 2, 1, "2", "amber"),
    ("higher", 2, 1, "0", "red"),
    ("higher", None, None, "5", "none"),
])
def test_thresholds_give_the_status(ctx, direction, amber, red, value, status):
    from srpp.kpis.models import Direction, Indicator

    ind = Indicator(code="T", direction=Direction(direction), amber=None if amber is None else Decimal(amber),
                    red=None if red is None else Decimal(red))
    assert ind.status(None if value is None else Decimal(value)) == status


@pytest.mark.parametrize(("code", "t", "field", "fragment"), [
    ("F1", ("30", "45", "40"), "red", "above the amber"),
    ("F1", ("50", "45", "60"), "target", "cannot be above the amber"),
    ("G1", ("3", "1", "2"), "red", "below the amber"),
    ("G2", ("120", None, None), "target", "cannot be above 100"),
    ("F1", ("-1", None, None), "target", "cannot be below 0"),
])
def test_bad_thresholds_are_refused_at_their_field(ctx, code, t, field, fragment):
    from srpp.kpis import services

    ind = services.get_indicator(code)
    with pytest.raises(services.ThresholdsRefused) as err:
        services.set_thresholds(_user(ctx, COUNCIL), ind, services.Thresholds(
            *[None if v is None else Decimal(v) for v in t]), ind.version)
    assert any(p.field == field and fragment in p.message for p in err.value.problems)


@pytest.mark.parametrize("email", [OFFICER, FINANCE, SEO])
def test_only_the_council_and_admins_edit_thresholds(ctx, email):
    from srpp.core.permissions import PermissionDenied
    from srpp.kpis import services

    ind = services.get_indicator("F1")
    with pytest.raises(PermissionDenied):
        services.set_thresholds(_user(ctx, email), ind, services.Thresholds(None, None, None), ind.version)
    for allowed in (COUNCIL, ADMIN):
        services.set_thresholds(_user(ctx, allowed), ind, services.Thresholds(Decimal(30), None, Decimal(60)),
                                ind.version)
    assert (ind.target, ind.amber, ind.red) == (Decimal(30), None, Decimal(60))


# --- the hand-checked data set -------------------------------------------------------------------------

def _supplier(ctx, code: str, kind: str, staff: int, created: dt.date, munis=()):
    from srpp.orgs.models import Supplier, SupplierKind

    s = Supplier(legal_name=f"Test {code}", company_code=code, legal_form="UAB", kind=SupplierKind(kind),
                 staff_count=staff, is_demo=True)
    s.municipalities = list(munis)
    ctx.add(s)
    ctx.flush()
    s.created_at = _at(created)
    return s


@pytest.fixture()
def world(ctx):
    from srpp.contracts import services as contracts
    from srpp.contracts.models import MilestoneTrigger, PaymentMilestone
    from srpp.frameworks.models import (
        CallOffMethod,
        FrameworkAgreement,
        FrameworkParticipant,
        FrameworkState,
        ParticipantState,
    )
    from srpp.orgs.models import ServiceCategory
    from srpp.payments import services as payments
    from srpp.payments.models import PaymentReport, ReportState
    from srpp.plans.models import ItemState, PlanItem, PlanState, PlanVersion, ProcurementPlan
    from srpp.rules.models import Procedure, ReservationBasis
    from srpp.tenders.models import Bid, Lot, LotState, Tender, TenderPlanItem, TenderState

    rok, bir, kup, pas, city = (_muni(c) for c in ("ROK", "BIR", "KUP", "PAS", "PAN-C"))
    admin, finance = _user(ctx, ADMIN), _user(ctx, FINANCE)
    cat = ctx.scalar(select(ServiceCategory).where(ServiceCategory.key == "DEM_DAY"))
    a = _supplier(ctx, "T8K00000A", "seo", 12, dt.date(2023, 3, 1), [rok])
    b = _supplier(ctx, "T8K00000B", "wise", 30, dt.date(2022, 5, 1))
    c = _supplier(ctx, "T8K00000C", "company", 40, dt.date(2023, 1, 1))
    d = _supplier(ctx, "T8K00000D", "company", 900, dt.date(2022, 1, 1))

    # plan and tenders
    plan = ProcurementPlan(municipality_id=rok.id, period_start=dt.date(2023, 1, 1), period_end=dt.date(2023, 12, 1),
                           title="Test plan 2023")
    version = PlanVersion(plan=plan, municipality_id=rok.id, number=1, state=PlanState.PUBLISHED,
                          published_at=_at(dt.date(2022, 12, 15)))
    ctx.add_all([plan, version])
    items = []
    for n, (month, state) in enumerate([(2, ItemState.LAUNCHED), (3, ItemState.LAUNCHED), (4, ItemState.PLANNED),
                                        (5, ItemState.CANCELLED)], start=1):
        item = PlanItem(plan_version=version, municipality_id=rok.id, title=f"Test item I{n}", category_id=cat.id,
                        main_cpv=CPV, priority_area=cat.priority_area, estimated_value=Decimal(10000),
                        launch_month=dt.date(2023, month, 1), duration_months=12, procedure=Procedure.SIMPLIFIED,
                        state=state, position=n)
        ctx.add(item)
        items.append(item)
    ctx.flush()
    t1 = Tender(municipality_id=rok.id, title="Test tender T1", procedure=Procedure.SIMPLIFIED,
                state=TenderState.AWARDED, is_srpp=True, submission_deadline=dt.date(2023, 3, 10),
                published_at=_at(dt.date(2023, 2, 1)))
    t2 = Tender(municipality_id=rok.id, title="Test tender T2", procedure=Procedure.OPEN, state=TenderState.PUBLISHED,
                is_srpp=True, published_at=_at(dt.date(2023, 4, 5)))
    ctx.add_all([t1, t2])
    ctx.flush()
    ctx.add_all([TenderPlanItem(tender_id=t1.id, item_uid=items[0].uid, municipality_id=rok.id, title="I1"),
                 TenderPlanItem(tender_id=t2.id, item_uid=items[1].uid, municipality_id=rok.id, title="I2")])

    def lot(n, value, winner, award, **kw):
        x = Lot(tender=t1, municipality_id=rok.id, number=n, title=f"Test lot L{n}", category_id=cat.id, main_cpv=CPV,
                estimated_value=Decimal(value), duration_months=24, state=LotState.AWARDED, winner_id=winner.id,
                award_date=dt.date(2023, 3, 20), award_value=Decimal(award), **kw)
        ctx.add(x)
        return x

    l1 = lot(1, 10000, a, 9500, reservation=ReservationBasis.EU_ART77)
    l2 = lot(2, 20000, c, 19000, is_rural=True)
    l3 = lot(3, 30000, d, 29000, place_municipality_id=city.id)
    ctx.flush()
    for x, s, ok, win in [(l1, a, True, True), (l1, b, True, False), (l2, c, True, True), (l2, a, False, False),
                          (l3, d, True, True)]:
        ctx.add(Bid(lot_id=x.id, supplier_id=s.id, price=Decimal(1000), compliant=ok, is_winner=win))

    # contracts
    def contract(supplier, value, awarded, start, end, lot_=None):
        k = contracts.create_contract(admin, contracts.ContractInput(
            municipality_id=rok.id, supplier_id=supplier.id, title=f"Test contract {supplier.company_code} {awarded}",
            value=Decimal(value), start_date=start, end_date=end, main_cpv=CPV, awarded_on=awarded),
            contracts.TermsInput())
        if lot_ is not None:
            k.lot_id = lot_.id
        return k

    k1 = contract(a, 9500, dt.date(2023, 4, 1), dt.date(2023, 5, 1), dt.date(2024, 4, 30), l1)
    k2 = contract(c, 19000, dt.date(2023, 4, 11), dt.date(2023, 4, 21), dt.date(2024, 4, 20), l2)
    k3 = contract(b, 5000, dt.date(2023, 6, 1), dt.date(2023, 6, 1), dt.date(2023, 12, 31))
    old1 = contract(c, 14000, dt.date(2022, 4, 1), dt.date(2022, 4, 1), dt.date(2023, 3, 31))
    old2 = contract(d, 8000, dt.date(2022, 6, 1), dt.date(2022, 6, 1), dt.date(2023, 5, 31))
    for seq, amount, day in [(1, 5000, dt.date(2023, 1, 31)), (2, 5000, dt.date(2023, 3, 31)),
                             (3, 4000, dt.date(2023, 9, 30))]:
        ctx.add(PaymentMilestone(contract_id=old1.id, sequence=seq, title=f"M{seq}", fixed_amount=Decimal(amount),
                                 amount=Decimal(amount), trigger=MilestoneTrigger.SIGNING, planned_date=day))
    invoices = []
    for number_, amount, paid in [("T8-10", "1000.00", dt.date(2023, 2, 16)), ("T8-45", "1000.00", dt.date(2023, 3, 23)),
                                  ("T8-21", "2000.00", dt.date(2023, 2, 27))]:
        inv = payments.record_invoice(finance, old1, payments.InvoiceInput(
            number=number_, amount=Decimal(amount), received_on=dt.date(2023, 2, 6), e_invoice_ref=f"E-{number_}"))
        payments.record_payment(finance, inv, paid, Decimal(amount), reference=f"P-{number_}")
        invoices.append(inv)
    contracts.report_stoppage(finance, old1, dt.date(2023, 3, 1), "Test: unpaid, work stopped")
    ctx.add(PaymentReport(municipality_id=rok.id, period_start=H1[0], period_end=H1[1], figures={},
                          state=ReportState.PUBLISHED, approver_name="Test", approver_role="Director",
                          approved_on=dt.date(2023, 8, 20), published_at=_at(dt.date(2023, 8, 29))))

    # frameworks
    def framework(code, state, start, members):
        fa = FrameworkAgreement(code=code, title=f"Test {code}", category_id=cat.id, municipality_id=rok.id,
                                start_date=start, end_date=dt.date(2026, 12, 31), estimated_value=Decimal(1000),
                                max_value=Decimal(2000), call_off_method=CallOffMethod.DIRECT, state=state)
        for m, kw in members:
            fa.participants.append(FrameworkParticipant(municipality_id=m.id, **kw))
        ctx.add(fa)
        return fa

    gone = ParticipantState.WITHDRAWN
    fa1 = framework("T8-FA1", FrameworkState.ACTIVE, dt.date(2023, 1, 1), [
        (rok, {}), (bir, {}),
        (kup, {"state": gone, "opt_out_requested_on": dt.date(2023, 2, 1), "opt_out_effective_on": dt.date(2023, 5, 1),
               "withdrawn_on": dt.date(2023, 5, 10)})])
    fa2 = framework("T8-FA2", FrameworkState.ACTIVE, dt.date(2022, 1, 1), [(rok, {})])
    fa3 = framework("T8-FA3", FrameworkState.ACTIVE, dt.date(2022, 1, 1), [
        (rok, {}),
        (bir, {"state": gone, "opt_out_requested_on": dt.date(2022, 12, 1), "opt_out_effective_on": dt.date(2023, 3, 1),
               "withdrawn_on": dt.date(2023, 3, 1)}),
        (pas, {"state": ParticipantState.OPT_OUT_REQUESTED, "opt_out_requested_on": dt.date(2023, 4, 15),
               "opt_out_effective_on": dt.date(2023, 7, 15)})])
    fa4 = framework("T8-FA4", FrameworkState.PLANNED, dt.date(2023, 2, 1), [(rok, {}), (bir, {})])
    ctx.flush()
    ctx.commit()
    return types.SimpleNamespace(**locals())


def _compute(name, municipality_id=None, period=H1):
    from srpp.kpis.computers import COMPUTERS

    return COMPUTERS[name](period[0], period[1], municipality_id)


def _ids(out, kind):
    return [r["id"] for r in out.details["records"] if r["type"] == kind]


def test_procurement_indicators_on_three_lots(ctx, world):
    w = world
    p1 = _compute("p1_bids_per_lot")
    assert (p1.value, p1.numerator, p1.denominator) == (Decimal("1.67"), 5, 3)
    assert sorted(_ids(p1, "lot")) == sorted([w.l1.id, w.l2.id, w.l3.id])
    single = _compute("p1_single_bid")
    assert (single.value, _ids(single, "lot")) == (Decimal("33.33"), [w.l3.id])
    p2 = _compute("p2_sme_seo_share")  # A, B, C, A of 5 bids (D has 900 staff)
    assert (p2.value, p2.numerator, p2.denominator, p2.details["seo_bids"]) == (Decimal("80.00"), 4, 5, 3)
    p3 = _compute("p3_seo_win_rate")  # L1 and L2 had an SEO bid; A won L1
    assert (p3.value, p3.numerator, p3.denominator) == (Decimal("50.00"), 1, 2)
    assert p3.details["win_to_participation"] == Decimal("33.33") and p3.details["won"] == [w.l1.id]
    diversity = _compute("bidder_diversity")
    assert diversity.value == 4 and diversity.details["top3_share"] == Decimal("100.00")
    errors = _compute("bid_error_rate")
    assert (errors.value, _ids(errors, "lot")) == (Decimal("20.00"), [w.l2.id])
    # per municipality: the lots are ROK's; Biržai had none
    assert _compute("p1_bids_per_lot", w.rok.id).value == Decimal("1.67")
    assert _compute("p1_bids_per_lot", w.bir.id).value is None


def test_a_lot_counts_once_its_deadline_passed_or_its_tender_is_evaluated(ctx):
    from srpp.kpis.computers import deadline_lots
    from srpp.orgs.models import ServiceCategory
    from srpp.payments.calc import half_year
    from srpp.rules.models import Procedure
    from srpp.tenders.models import Lot, Tender, TenderState

    rok = _muni("ROK")
    cat = ctx.scalar(select(ServiceCategory).where(ServiceCategory.key == "DEM_DAY"))
    today = dt.date.today()
    period = half_year(today)
    lots = {}
    for name, state, deadline in [("open", TenderState.PUBLISHED, today + dt.timedelta(days=1)),
                                  ("evaluated", TenderState.EVALUATION, today + dt.timedelta(days=1)),
                                  ("passed", TenderState.PUBLISHED, max(period[0], today - dt.timedelta(days=1)))]:
        t = Tender(municipality_id=rok.id, title=f"Test {name}", procedure=Procedure.SIMPLIFIED, state=state,
                   submission_deadline=min(deadline, period[1]), published_at=_at(period[0]))
        lots[name] = Lot(tender=t, municipality_id=rok.id, number=1, title=name, category_id=cat.id, main_cpv=CPV,
                         estimated_value=Decimal(1000), duration_months=12)
        ctx.add(t)
    ctx.flush()
    ids = {lot.id for lot in deadline_lots(*period, rok.id)}
    assert lots["evaluated"].id in ids and lots["passed"].id in ids
    assert (lots["open"].id in ids) == (lots["open"].tender.submission_deadline <= today)


def test_reserved_lots_sizes_and_shares(ctx, world):
    w = world
    lots = _compute("reserved_lots")
    assert (lots.value, _ids(lots, "lot"), lots.details["value"]) == (1, [w.l1.id], Decimal("10000.00"))
    assert _compute("reserved_value").value == Decimal("10000.00")
    assert _compute("avg_lot_size").value == Decimal("20000.00")
    share = _compute("reserved_share")  # 10 000 reserved of 60 000 simplified
    assert (share.value, share.numerator, share.denominator) == (Decimal("16.67"), 10000, 60000)
    assert share.details["minimum"] == Decimal("2.00")
    rural = _compute("rural_share")  # L1 (a district) and L2 (rural) of the three
    assert (rural.value, sorted(_ids(rural, "lot"))) == (Decimal("50.00"), sorted([w.l1.id, w.l2.id]))
    assert _compute("reserved_lots", w.bir.id).value == 0


def test_new_seos_and_the_directory(ctx, world):
    w = world
    new = _compute("new_seo")
    assert (new.value, sorted(_ids(new, "supplier"))) == (2, sorted([w.a.id, w.b.id]))
    assert _compute("new_seo", w.rok.id).value == 2 and _compute("new_seo", w.bir.id).value == 0
    x1 = _compute("x1_seos")  # A and B were registered by 30 June 2023 (the demo's organisations later)
    assert (x1.value, x1.details["new_in_period"]) == (2, 1)
    # an organisation registered today whose verified status is valid from May 2023 was known then
    from srpp.suppliers.models import StatusBasis, StatusState, SupplierStatus

    e = _supplier(ctx, "T8K00000E", "ngo", 5, dt.date.today())
    ctx.add(SupplierStatus(supplier_id=e.id, basis=StatusBasis.EU_ART77, valid_from=dt.date(2023, 5, 1),
                           state=StatusState.VERIFIED, decided_at=_at(dt.date.today())))
    rejected = _supplier(ctx, "T8K00000F", "seo", 5, dt.date.today())
    ctx.add(SupplierStatus(supplier_id=rejected.id, basis=StatusBasis.EU_ART77, valid_from=dt.date(2023, 5, 1),
                           state=StatusState.REJECTED, decided_at=_at(dt.date.today()), decision_reason="no"))
    ctx.flush()
    x1 = _compute("x1_seos")
    assert (x1.value, x1.details["new_in_period"]) == (3, 2) and e.id in _ids(x1, "supplier")
    assert _compute("x1_seos", w.rok.id).value == 1


def test_frameworks_and_opt_outs(ctx, world):
    w = world
    g1 = _compute("g1_frameworks")
    assert g1.value == 2 and sorted(_ids(g1, "framework")) == sorted([w.fa1.id, w.fa3.id])
    assert g1.details["signed_in_period"] == 1 and g1.details["signed"] == [w.fa1.id]
    assert _compute("g1_frameworks", w.bir.id).value == 1  # FA1 (BIR left FA3 on 1 March)
    assert _compute("g1_frameworks", w.pas.id).value == 1  # FA3 (PAS leaves in July)
    optouts = _compute("optouts_on_time")  # BIR on time, KUP nine days late; PAS falls in H2
    assert (optouts.value, optouts.numerator, optouts.denominator) == (Decimal("50.00"), 1, 2)
    assert _compute("optouts_on_time", w.bir.id).value == Decimal("100.00")
    assert _compute("optouts_on_time", w.kup.id).value == Decimal("0.00")


def test_plans_published_on_time(ctx, world):
    w = world
    g2 = _compute("g2_on_time")
    assert (g2.value, g2.numerator, g2.denominator) == (Decimal("33.33"), 1, 3)
    recs = {r["id"]: r for r in g2.details["records"]}
    assert set(recs) == {w.items[0].id, w.items[1].id, w.items[2].id}  # the cancelled I4 is left out
    assert recs[w.items[0].id]["on_time"] is True and recs[w.items[0].id]["tender"] == w.t1.id
    assert recs[w.items[1].id]["on_time"] is False and recs[w.items[1].id]["tender"] == w.t2.id
    assert _compute("g2_on_time", w.bir.id).value is None


def test_payments_contracts_and_reports(ctx, world):
    w = world
    assert [i.days_to_pay for i in w.invoices] == [10, 45, 21]
    f1 = _compute("f1_days_to_pay")
    assert (f1.value, f1.numerator, f1.denominator) == (Decimal("25.3"), 76, 3)
    assert f1.details["median_days"] == Decimal("21.0") and sorted(_ids(f1, "invoice")) == sorted(
        i.id for i in w.invoices)
    within = _compute("f1_within_term")
    assert (within.value, within.numerator, within.denominator) == (Decimal("66.67"), 2, 3)
    burn = _compute("burn_rate")  # 4 000 paid of the 10 000 planned by 31 March
    assert (burn.value, burn.numerator, burn.denominator) == (Decimal("40.00"), 4000, 10000)
    assert _ids(burn, "contract") == [w.old1.id]
    stops = _compute("stoppages")
    assert (stops.value, _ids(stops, "contract")) == (1, [w.old1.id])
    x3 = _compute("x3_srpp_value")  # K1 and K2 come from the SRPP tender's lots; K3 was entered directly
    assert (x3.value, sorted(_ids(x3, "contract"))) == (Decimal("28500.00"), sorted([w.k1.id, w.k2.id]))
    activation = _compute("activation_days")
    assert (activation.value, activation.denominator) == (Decimal("13.33"), 3)
    renewed = _compute("renewed")
    assert (renewed.value, renewed.numerator, renewed.denominator) == (Decimal("50.00"), 1, 2)
    assert renewed.details["renewed_by"] == {str(w.old1.id): w.k2.id}
    timely = _compute("report_timeliness")
    assert (timely.value, timely.details["unpublished"]) == (Decimal("60.00"), 0)
    assert _compute("f1_days_to_pay", w.bir.id).value is None


def test_the_hooks_of_the_other_areas(ctx, monkeypatch):
    from srpp.kpis import computers

    assert computers.delegate("srpp.kpis.no_such_area", "kpi_x", *H1, None) is None
    fake = types.ModuleType("srpp_test_fake_assets")
    monkeypatch.setitem(sys.modules, "srpp_test_fake_assets", fake)
    assert computers.delegate("srpp_test_fake_assets", "kpi_assets_allocated", *H1, None) is None
    fake.kpi_assets_allocated = lambda start, end, muni: (Decimal(4), Decimal(4), None, {"records": []})
    out = computers.delegate("srpp_test_fake_assets", "kpi_assets_allocated", *H1, None)
    assert out.value == 4 and out.details == {"records": []}


def test_recompute_twice_gives_the_same_rows_and_values(ctx, world):
    from srpp.kpis import services
    from srpp.kpis.models import Indicator, IndicatorValue

    def snapshot():
        rows = ctx.execute(select(Indicator.code, IndicatorValue.scope_key, IndicatorValue.value,
                                  IndicatorValue.numerator, IndicatorValue.denominator)
                           .join(Indicator, IndicatorValue.indicator_id == Indicator.id)
                           .where(IndicatorValue.period_start == H1[0])).all()
        return sorted(rows, key=lambda r: (r[0], r[1]))

    started = time.monotonic()
    first = services.recompute(*H1)
    ctx.commit()
    took = time.monotonic() - started
    before = snapshot()
    second = services.recompute(*H1)
    ctx.commit()
    assert snapshot() == before and first.rows == second.rows == len(before)
    assert took < 10, f"a half-year took {took:.1f} s"
    values = {(code, scope): value for code, scope, value, _n, _d in before}
    rok = f"m:{world.rok.id}"
    assert values[("P1", "region")] == Decimal("1.6700") and values[("P1", rok)] == Decimal("1.6700")
    assert values[("G2", "region")] == Decimal("33.3300") and values[("F1", rok)] == Decimal("25.3000")
    # computed for the region and each of the six municipalities; the hooks without data write nothing
    assert len({scope for _c, scope, *_ in before}) == 7
    # the variance across municipalities: reserved lots 1, 0, 0, 0, 0, 0 → CV 223.61 %
    variance = ctx.scalar(select(IndicatorValue).join(Indicator).where(
        Indicator.code == "R-VARIANCE", IndicatorValue.period_start == H1[0]))
    assert variance.scope_key == "region" and variance.details["by_indicator"]["R-RESERVED-LOTS"] == "223.61"


def test_status_follows_the_councils_thresholds(ctx, world):
    from srpp.kpis import services

    services.recompute(*H1, codes=["F1"])
    f1 = services.get_indicator("F1")
    value = services.get_value(f1, H1[0], _muni("ROK"))
    assert value.value == Decimal("25.3000") and value.status == "green"  # the file's: amber from 30
    services.set_thresholds(_user(ctx, COUNCIL), f1, services.Thresholds(Decimal(20), Decimal(25), Decimal(40)),
                            f1.version)
    assert value.status == "amber"
    services.set_thresholds(_user(ctx, COUNCIL), f1, services.Thresholds(Decimal(10), Decimal(15), Decimal(25)),
                            f1.version)
    assert value.status == "red"


def test_public_values_hold_no_records(ctx, world):
    from srpp.kpis import services

    services.recompute(*H1)
    rows = {v.code: v for v in services.public_values(H1)}
    assert rows["P1"].value == Decimal("1.6700") and rows["P1"].text == "1.67"
    assert "R-BID-ERROR-RATE" not in rows  # not public
    assert not hasattr(rows["P1"], "details")
    rok = next(v for m, v, _s in rows["P1"].by_municipality if m.code == "ROK")
    assert rok == Decimal("1.6700")
    assert services.public_values(dt.date(2023, 3, 1))[0].period_start == H1[0]


# --- pages -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("email", [COUNCIL, ADMIN, OFFICER, FINANCE])
def test_the_pages_render_for_staff_and_the_council(client, as_user, ctx, email):
    as_user(email)
    resp = client.get("/indicators/")
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert 'id="kpi-G1"' in page and 'id="kpi-R-RESERVED-SHARE"' in page and "Risk monitoring" in page
    assert ("Recompute now" in page) == (email in (COUNCIL, ADMIN))
    resp = client.get("/indicators/F1")
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert "Payment term (days)" in page and 'id="kpi-values"' in page and "<svg" in page
    assert ("Save the thresholds" in page) == (email in (COUNCIL, ADMIN))
    assert client.get("/indicators/F1/2023H1/ROK").status_code == 200
    assert client.get("/indicators/NOPE").status_code == 404
    assert client.get("/indicators/F1/2023H3/ROK").status_code == 404
    assert client.get("/indicators/F1/2023H1/XYZ").status_code == 404


def test_the_pages_in_lithuanian(client, as_user, ctx):
    as_user(COUNCIL, "lt")
    page = client.get("/indicators/G1").get_data(as_text=True)
    assert "Tarpsavivaldybinių preliminariųjų sutarčių skaičius" in page


def test_seo_members_get_403_and_visitors_log_in(client, as_user, ctx):
    for url in ("/indicators/", "/indicators/F1", "/indicators/F1/2023H1/region"):
        resp = client.get(url)
        assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    as_user(SEO)
    for url in ("/indicators/", "/indicators/F1", "/indicators/F1/2023H1/region"):
        assert client.get(url).status_code == 403
    assert client.post("/indicators/recompute").status_code == 403
    assert client.post("/indicators/F1/thresholds", data={"red": "50"}).status_code == 403


def test_the_council_edits_thresholds_with_optimistic_locking(client, as_user, ctx):
    from srpp.kpis.models import Indicator

    def f1():
        ctx.expire_all()
        return ctx.scalar(select(Indicator).where(Indicator.code == "F1"))

    as_user(OFFICER)
    assert client.post("/indicators/F1/thresholds", data={"version": f1().version, "red": "50"}).status_code == 403
    as_user(COUNCIL)
    version = f1().version
    resp = client.post("/indicators/F1/thresholds", data={"version": version, "target": "30", "amber": "35",
                                                          "red": "50,5"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/indicators/F1#thresholds")
    assert (f1().target, f1().amber, f1().red) == (Decimal(30), Decimal(35), Decimal("50.5"))
    stale = client.post("/indicators/F1/thresholds", data={"version": version, "red": "60"})
    assert stale.status_code == 200 and "changed by someone else" in stale.get_data(as_text=True)
    wrong = client.post("/indicators/F1/thresholds", data={"version": f1().version, "amber": "50", "red": "40"})
    assert wrong.status_code == 200 and "must be above the amber" in wrong.get_data(as_text=True)
    junk = client.post("/indicators/F1/thresholds", data={"version": f1().version, "red": "many"})
    assert junk.status_code == 200 and "Write a number" in junk.get_data(as_text=True)
    assert f1().red == Decimal("50.5")


def test_the_records_behind_the_values_are_linked(client, as_user, ctx, world):
    from srpp.kpis import services

    w = world
    services.recompute(*H1)
    ctx.commit()
    as_user(COUNCIL)
    page = client.get("/indicators/P1/2023H1/region").get_data(as_text=True)
    for lot in (w.l1, w.l2, w.l3):
        assert f'href="/tenders/lots/{lot.id}"' in page
    assert "1.67" in page and "Test tender T1 – lot 1: Test lot L1" in page
    assert "<dt>Share of lots without a bid</dt><dd>0%</dd>" in page  # a further figure of the value
    page = client.get("/indicators/F1/2023H1/ROK").get_data(as_text=True)
    for inv in w.invoices:
        assert f'href="/invoices/{inv.id}"' in page
    page = client.get("/indicators/G1/2023H1/region").get_data(as_text=True)
    assert f'href="/frameworks/{w.fa1.id}"' in page and f'href="/frameworks/{w.fa3.id}"' in page
    page = client.get("/indicators/G2/2023H1/region").get_data(as_text=True)
    assert f'href="/plans/versions/{w.version.id}"' in page and f'href="/tenders/{w.t1.id}"' in page
    assert "not published on time" in page
    page = client.get("/indicators/X3/2023H1/region").get_data(as_text=True)
    assert f'href="/contracts/{w.k1.id}"' in page and f'href="/contracts/{w.k2.id}"' in page
    page = client.get("/indicators/R-NEW-SEO/2023H1/ROK").get_data(as_text=True)
    assert f'href="/suppliers/{w.a.id}"' in page
    page = client.get("/indicators/R-REPORT-TIMELINESS/2023H1/region").get_data(as_text=True)
    assert "/payments/reports/" in page


def test_the_council_recomputes_on_demand_as_a_visible_job(client, as_user, ctx):
    from srpp.core.models import JobRun, JobState
    from srpp.kpis.models import IndicatorValue

    as_user(OFFICER)
    assert client.post("/indicators/recompute").status_code == 403
    as_user(COUNCIL)
    resp = client.post("/indicators/recompute")
    assert resp.status_code == 302
    ctx.expire_all()
    job = ctx.scalar(select(JobRun).where(JobRun.task == "srpp.kpis.recompute").order_by(JobRun.id.desc()))
    assert job.state == JobState.DONE and job.requested_by_id == _user(ctx, COUNCIL).id
    assert len(job.result["periods"]) == 2
    current = ctx.scalar(select(func.count()).select_from(IndicatorValue).where(
        IndicatorValue.period_start == dt.date.today().replace(month=1 if dt.date.today().month <= 6 else 7, day=1)))
    assert current > 0
    page = client.get("/indicators/").get_data(as_text=True)
    assert "were recomputed" in page


def test_the_beat_schedule_runs_the_recompute_daily():
    from workers.schedule import BEAT_SCHEDULE

    entry = next(e for e in BEAT_SCHEDULE.values() if e["task"] == "srpp.kpis.recompute")
    assert entry["schedule"].hour == {4} and entry["schedule"].minute == {30}


def test_the_registry_file_is_where_the_loader_reads_it():
    from srpp.kpis.services import REGISTRY

    assert REGISTRY == Path(__file__).resolve().parent.parent / "srpp" / "kpis" / "data" / "indicators.yaml"
