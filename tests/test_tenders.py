"""Tender services: from plan items, the workflow as a table, the lot and reservation rules,
eligibility at award and the Art. 77 three-year look-back."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from srpp.auth.models import User
from srpp.core.errors import DomainError
from srpp.orgs.models import ServiceCategory, Supplier
from srpp.orgs.services import municipality_by_code
from srpp.plans import services as plans
from srpp.rules.models import ReservationBasis
from srpp.suppliers.models import StatusBasis, StatusState, SupplierStatus
from srpp.tenders import services, workflow
from srpp.tenders.models import CriterionKind, LotState, TenderState

S = TenderState


def _user(ctx, email):
    return ctx.scalar(select(User).where(User.email == email))


def _supplier(ctx, code):
    return ctx.scalar(select(Supplier).where(Supplier.company_code == code))


def _rok_items(ctx, *titles):
    items = plans.current_published(municipality_by_code("ROK")).items
    return [next(i for i in items if i.title.startswith(t)) for t in titles]


@pytest.fixture()
def officer(ctx):
    return _user(ctx, "officer.rok@demo.srpp.lt")


@pytest.fixture()
def tender(ctx, officer):
    # two home-care-like items of ROK with CPV group 8531
    items = _rok_items(ctx, "Demencijos dienos priežiūra", "Pagalba į namus")
    return services.create_from_plan(officer, items, title="Pagalba senjorams Rokiškio rajone")


def _criteria(social=True):
    rows = [services.CriterionInput("Kaina", CriterionKind.PRICE, Decimal("60"))]
    if social:
        rows.append(services.CriterionInput("Paslaugų tęstinumas", CriterionKind.SOCIAL, Decimal("40"),
                                            "Tie patys darbuotojai lanko tuos pačius gavėjus"))
    else:
        rows.append(services.CriterionInput("Kokybė", CriterionKind.QUALITY, Decimal("40")))
    return rows


def _make_ready(officer, tender):
    for lot in tender.lots:
        services.set_criteria(officer, lot, _criteria())
    return services.transition(officer, tender, S.READY)


TRANSITION_TABLE = [(a, b, (a, b) in workflow.TRANSITIONS) for a in S for b in S]


@pytest.mark.parametrize(("current", "target", "allowed"), TRANSITION_TABLE)
def test_workflow_table(current, target, allowed):
    assert workflow.allowed(current, target) is allowed
    if current in (S.AWARDED, S.CANCELLED):
        assert not allowed  # final states
    if target == S.CANCELLED and current not in (S.AWARDED, S.CANCELLED):
        assert allowed  # cancellable from any state before awarded


def test_create_from_plan_marks_items_and_copies_values(ctx, tender):
    assert [lot.number for lot in tender.lots] == [1, 2]
    assert tender.estimated_value == sum(i.estimated_value for i in _rok_items(
        ctx, "Demencijos dienos priežiūra", "Pagalba į namus"))
    for item in _rok_items(ctx, "Demencijos dienos priežiūra", "Pagalba į namus"):
        assert item.state.value == "in_preparation"
    assert tender.lots[0].notice_text_en and "Article 77" in tender.lots[0].notice_text_en


def test_items_of_different_cpv_groups_cannot_be_tendered_together(ctx, officer):
    items = _rok_items(ctx, "Transportas pagal poreikį", "Socialinės dirbtuvės")
    with pytest.raises(services.Refused, match="first four digits"):
        services.create_from_plan(officer, items)


def test_item_cannot_be_tendered_twice(ctx, officer, tender):
    with pytest.raises(services.Refused, match="already being tendered"):
        services.create_from_plan(officer, _rok_items(ctx, "Demencijos dienos priežiūra"))


def test_other_municipality_is_refused(ctx, tender):
    from srpp.core.permissions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.set_criteria(_user(ctx, "officer.bir@demo.srpp.lt"), tender.lots[0], _criteria())


def _lot_input(ctx, **kw):
    cat = ctx.scalar(select(ServiceCategory).where(ServiceCategory.key == kw.pop("category", "HOME_CARE")))
    base = dict(title="Pagalba į namus Obeliuose", category_id=cat.id, main_cpv=cat.main_cpv,
                estimated_value=Decimal("30000"), duration_months=24)
    base.update(kw)
    return services.LotInput(**base)


LOT_RULES = [
    ({}, None),
    ({"reservation": ReservationBasis.EU_ART77}, None),
    ({"reservation": ReservationBasis.EU_ART77, "duration_months": 36}, None),
    ({"reservation": ReservationBasis.EU_ART77, "duration_months": 37}, "reservation"),
    ({"reservation": ReservationBasis.EU_ART77, "additional_cpv": ["60140000-1"]}, "reservation"),
    ({"reservation": ReservationBasis.EU_ART77, "category": "DRT"}, "reservation"),
    ({"reservation": ReservationBasis.EU_ART20, "category": "DRT"}, None),
    ({"reservation": ReservationBasis.LT_23_1_5, "duration_months": 60}, None),
    ({"estimated_value": Decimal("0")}, "estimated_value"),
    ({"duration_months": 121}, "duration_months"),
    ({"main_cpv": "85312400-4"}, "main_cpv"),
]


@pytest.mark.parametrize(("overrides", "refused_field"), LOT_RULES)
def test_lot_rules(ctx, overrides, refused_field):
    fields = [p.field for p in services.check_lot(_lot_input(ctx, **overrides))]
    assert (fields == []) if refused_field is None else (refused_field in fields)


def test_readiness_rules(ctx, officer, tender):
    problems = " ".join(p.message for p in services.readiness(tender))
    assert "no award criteria" in problems
    services.set_criteria(officer, tender.lots[0], _criteria(social=False))
    services.set_criteria(officer, tender.lots[1], [services.CriterionInput("Kaina", CriterionKind.PRICE,
                                                                            Decimal("90"))])
    problems = " ".join(p.message for p in services.readiness(tender))
    assert "social award criterion" in problems and "sum to 90 %" in problems
    with pytest.raises(services.Refused):
        services.transition(officer, tender, S.READY)
    _make_ready(officer, tender)
    assert tender.state == S.READY
    # a single lot must explain why the tender is not divided
    services.delete_lot(officer, tender.lots[1])
    assert tender.state == S.DRAFT
    assert any(p.field == "no_division_reasons" for p in services.readiness(tender))
    tender.max_lots_per_tenderer = 1
    assert any(p.field == "allocation_rule" for p in services.readiness(tender))


def test_weights_rule_can_be_a_warning(ctx, officer, tender):
    from srpp.core import settings

    services.set_criteria(officer, tender.lots[0], [services.CriterionInput("Kaina", CriterionKind.PRICE,
                                                                            Decimal("50")),
                                                    *_criteria()[1:]])
    services.set_criteria(officer, tender.lots[1], _criteria())
    with pytest.raises(services.Refused):
        services.transition(officer, tender, S.READY)
    settings.set_value(_user(ctx, "admin@demo.srpp.lt"), "tenders.weights_rule", "warning")
    services.transition(officer, tender, S.READY)
    assert any(not p.blocking for p in services.readiness(tender))


def test_reserved_lot_without_citation_cannot_be_published(ctx, officer, tender):
    _make_ready(officer, tender)
    tender.lots[0].notice_text_en = "Reserved."
    with pytest.raises(services.Refused, match="cite the legal article"):
        services.transition(officer, tender, S.PUBLISHED)


def _verify(ctx, supplier, basis, share=None, art77=False, valid_from=dt.date(2025, 1, 1), valid_to=None):
    from srpp.core.db import utcnow

    status = SupplierStatus(supplier_id=supplier.id, basis=basis, declared_share=share, valid_from=valid_from,
                            valid_to=valid_to, state=StatusState.VERIFIED, decided_at=utcnow(),
                            art77_mission=art77, art77_reinvests=art77, art77_participatory=art77)
    ctx.add(status)
    ctx.flush()
    return status


def _to_evaluation(officer, tender):
    _make_ready(officer, tender)
    services.transition(officer, tender, S.PUBLISHED)
    services.transition(officer, tender, S.EVALUATION)


def test_award_needs_eligibility_and_creates_a_contract(ctx, officer, tender):
    from srpp.plans.models import ItemState

    _to_evaluation(officer, tender)
    lot = tender.lots[0]  # reserved under Art. 77
    pasvalio, geris = _supplier(ctx, "990000009"), _supplier(ctx, "990000002")  # no verified Art. 77 status
    bid_a = services.record_bid(officer, lot, pasvalio, Decimal("49000"), Decimal("91"))
    bid_b = services.record_bid(officer, lot, geris, Decimal("47000"), Decimal("80"))
    with pytest.raises(services.Refused, match="no .* status"):
        services.award(officer, lot, bid_a, dt.date(2027, 1, 15))
    status = _verify(ctx, pasvalio, StatusBasis.EU_ART77, art77=False)
    with pytest.raises(services.Refused, match="conditions"):
        services.award(officer, lot, bid_a, dt.date(2027, 1, 15))
    status.art77_mission = status.art77_reinvests = status.art77_participatory = True
    contract = services.award(officer, lot, bid_a, dt.date(2027, 1, 15))
    assert lot.state == LotState.AWARDED and lot.winner_id == pasvalio.id and bid_a.is_winner
    assert contract.value == Decimal("49000.00") and contract.end_date == dt.date(2029, 1, 14)
    with pytest.raises(DomainError):
        services.award(officer, lot, bid_b, dt.date(2027, 1, 15))
    assert _rok_items(ctx, "Demencijos dienos priežiūra")[0].state == ItemState.LAUNCHED


def test_art77_repeat_award_within_three_years_is_refused(ctx, officer, tender):
    from srpp.contracts.models import Contract

    jautri = _supplier(ctx, "990000001")
    _verify(ctx, jautri, StatusBasis.EU_ART77, art77=True)
    rok = municipality_by_code("ROK")
    ctx.add(Contract(municipality_id=rok.id, supplier_id=jautri.id, title="Ankstesnė dienos priežiūra",
                     value=Decimal("30000"), awarded_on=dt.date(2024, 3, 1), start_date=dt.date(2024, 3, 1),
                     end_date=dt.date(2025, 2, 28), main_cpv="85311100-3", reservation=ReservationBasis.EU_ART77))
    ctx.flush()
    _to_evaluation(officer, tender)
    lot = tender.lots[0]
    bid = services.record_bid(officer, lot, jautri, Decimal("49000"))
    with pytest.raises(services.Refused, match="2024-03-01"):
        services.award(officer, lot, bid, dt.date(2027, 1, 15))
    # four years later the look-back no longer blocks
    services.award(officer, lot, bid, dt.date(2027, 3, 2))


def test_unsuccessful_lot_is_replanned(ctx, officer, tender):
    from srpp.plans.models import ItemState

    _to_evaluation(officer, tender)
    lot = tender.lots[1]
    services.close_unsuccessful(officer, lot, "No compliant bids")
    services.replan(officer, lot)
    assert lot.state == LotState.REPLANNED
    item = _rok_items(ctx, "Pagalba į namus")[0]
    assert item.state == ItemState.PLANNED
    assert item in services.tenderable_items(municipality_by_code("ROK"))


def test_cancel_needs_a_reason_and_frees_the_items(ctx, officer, tender):
    with pytest.raises(DomainError):
        services.transition(officer, tender, S.CANCELLED, reason=" ")
    services.transition(officer, tender, S.CANCELLED, reason="Budget withdrawn")
    assert all(i.state.value == "planned" for i in _rok_items(ctx, "Demencijos dienos priežiūra", "Pagalba į namus"))


def test_lot_size_guidance(ctx, officer, tender):
    lot = tender.lots[1]  # home care, not reserved in the plan? use the guidance as it stands
    guidance = services.lot_size_guidance(lot, dt.date(2027, 1, 1))
    assert guidance.average_value is not None
    lot.reservation = ReservationBasis.NONE
    lot.estimated_value = Decimal("1000000")
    assert services.lot_size_guidance(lot, dt.date(2027, 1, 1)).too_large
    lot.estimated_value = Decimal("10000")
    assert not services.lot_size_guidance(lot, dt.date(2027, 1, 1)).too_large


def test_stale_lot_edit_is_refused(ctx, officer, tender):
    from srpp.core.errors import ConcurrentEdit

    lot = tender.lots[0]
    stale = lot.version
    services.update_lot(officer, lot, services.lot_input(lot), stale)
    ctx.flush()
    with pytest.raises(ConcurrentEdit):
        services.update_lot(officer, lot, services.lot_input(lot), stale)


def test_eligibility_share_rules(ctx):
    from srpp.suppliers.services import eligibility

    s = _supplier(ctx, "990000009")  # no demo status
    _verify(ctx, s, StatusBasis.EU_ART20, share=Decimal("0.29"))
    assert not eligibility(s, ReservationBasis.EU_ART20, dt.date(2027, 1, 1)).ok
    _verify(ctx, s, StatusBasis.EU_ART20, share=Decimal("0.30"))
    assert eligibility(s, ReservationBasis.EU_ART20, dt.date(2027, 1, 1)).ok
    _verify(ctx, s, StatusBasis.LT_23_1_3, share=Decimal("0.50"))
    assert not eligibility(s, ReservationBasis.LT_23_1_3, dt.date(2027, 1, 1)).ok  # more than 50 %
    _verify(ctx, s, StatusBasis.LT_23_1_5, share=Decimal("0.50"), valid_to=dt.date(2026, 12, 31))
    assert not eligibility(s, ReservationBasis.LT_23_1_5, dt.date(2027, 1, 1)).ok  # expired by date


def test_tendered_reserved_share_per_year(ctx, officer, tender):
    from srpp.region.services import tendered_share_by_municipality

    _make_ready(officer, tender)
    services.transition(officer, tender, S.PUBLISHED)
    year = tender.published_at.year
    rows = {r.municipality.code: r for r in tendered_share_by_municipality(year)}
    rok = rows["ROK"]
    reserved = sum(lot.estimated_value for lot in tender.lots if lot.is_reserved)
    assert rok.tendered_reserved == reserved and rok.tendered_total == tender.estimated_value
    assert rok.tendered_simplified == (tender.estimated_value if tender.procedure.value == "simplified" else 0)
    assert tendered_share_by_municipality(year - 5)[0].tendered_total == 0


def test_cancel_with_links_not_yet_loaded(ctx, officer, tender):
    """The reason is stored before the state changes (a lazy load must not flush a bare cancel)."""
    tender_id = tender.id
    ctx.commit()
    ctx.expire_all()
    from srpp.tenders.models import Tender

    fresh = ctx.get(Tender, tender_id)
    services.transition(officer, fresh, S.CANCELLED, reason="Budget withdrawn")
    ctx.flush()
    assert fresh.state == S.CANCELLED and fresh.cancelled_reason == "Budget withdrawn"
