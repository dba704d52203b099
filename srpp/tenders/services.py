"""Tenders and lots: made from plan items, checked against the reservation and lot rules,
moved through the workflow, bids recorded, lots awarded to eligible suppliers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from dateutil.relativedelta import relativedelta
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from srpp.auth.models import User
from srpp.contracts.models import Contract
from srpp.core import cache, settings
from srpp.core.audit import bind_actor
from srpp.core.db import utcnow
from srpp.core.errors import DomainError
from srpp.core.permissions import require
from srpp.core.services import check_version
from srpp.cpv.models import CpvCode
from srpp.extensions import db
from srpp.orgs.models import Municipality, ServiceCategory, Supplier
from srpp.plans.models import ItemState, PlanItem, PlanState, PlanVersion
from srpp.rules import services as rules
from srpp.rules.models import Procedure, ReservationBasis
from srpp.suppliers import services as eligibility
from srpp.tenders import workflow
from srpp.tenders.models import (
    AwardCriterion,
    Bid,
    CriterionKind,
    Lot,
    LotState,
    Tender,
    TenderPlanItem,
    TenderState,
)

settings.declare("tenders.weights_rule", str, "error",
                 _l("Award criteria weights must sum to 100 %: 'error' blocks, 'warning' only warns"),
                 choices=("error", "warning"))
settings.declare("tenders.social_criterion_rule", str, "error",
                 _l("Reserved or SRPP lots need a social award criterion: 'error' or 'warning'"),
                 choices=("error", "warning"))
settings.declare("tenders.art77_lookback_years", int, 3,
                 _l("Art. 77: years in which the same municipality may not award the same organisation "
                    "the same services again"), 1, 10)

#: the sentence every reserved lot's notice must carry (EU-RES20-03, EU-RES77-04, LT-RES-04)
NOTICE_TEXT: dict[ReservationBasis, tuple[str, str]] = {
    ReservationBasis.EU_ART20: (
        "Dalyvavimas šioje pirkimo dalyje rezervuotas pagal Direktyvos 2014/24/ES 20 straipsnį ir VPĮ 23 straipsnį "
        "socialinėms įmonėms ir ekonominės veiklos vykdytojams, kurių pagrindinis tikslas – socialinė ir profesinė "
        "neįgaliųjų ar palankių sąlygų neturinčių asmenų integracija.",
        "Participation in this lot is reserved under Article 20 of Directive 2014/24/EU (VPĮ Article 23) to sheltered "
        "workshops and economic operators whose main aim is the social and professional integration of disabled or "
        "disadvantaged persons."),
    ReservationBasis.EU_ART77: (
        "Dalyvavimas šioje pirkimo dalyje rezervuotas pagal Direktyvos 2014/24/ES 77 straipsnį organizacijoms, "
        "vykdančioms viešųjų paslaugų misiją ir atitinkančioms 77 straipsnio 2 dalies sąlygas.",
        "Participation in this lot is reserved under Article 77 of Directive 2014/24/EU to organisations pursuing a "
        "public service mission that meet the conditions of Article 77(2)."),
    ReservationBasis.LT_23_1_3: (
        "Teisė dalyvauti šioje pirkimo dalyje rezervuota pagal VPĮ 23 straipsnio 1 dalies 3 punktą; tiekėjas turi "
        "pateikti tai patvirtinančius dokumentus.",
        "Participation in this lot is reserved under Article 23(1)(3) of the Lithuanian Law on Public Procurement "
        "(VPĮ); the supplier must prove that it meets the requirement."),
    ReservationBasis.LT_23_1_4: (
        "Teisė dalyvauti šioje pirkimo dalyje rezervuota pagal VPĮ 23 straipsnio 1 dalies 4 punktą; tiekėjas turi "
        "pateikti tai patvirtinančius dokumentus.",
        "Participation in this lot is reserved under Article 23(1)(4) of the Lithuanian Law on Public Procurement "
        "(VPĮ); the supplier must prove that it meets the requirement."),
    ReservationBasis.LT_23_1_5: (
        "Teisė dalyvauti šioje pirkimo dalyje rezervuota pagal VPĮ 23 straipsnio 1 dalies 5 punktą; tiekėjas turi "
        "pateikti tai patvirtinančius dokumentus.",
        "Participation in this lot is reserved under Article 23(1)(5) of the Lithuanian Law on Public Procurement "
        "(VPĮ); the supplier must prove that it meets the requirement."),
}
#: the article each notice must cite (checked on publication)
CITATION: dict[ReservationBasis, tuple[str, str]] = {
    ReservationBasis.EU_ART20: ("20 straipsn", "Article 20"),
    ReservationBasis.EU_ART77: ("77 straipsn", "Article 77"),
    ReservationBasis.LT_23_1_3: ("23 straipsnio 1 dalies 3 punkt", "Article 23(1)(3)"),
    ReservationBasis.LT_23_1_4: ("23 straipsnio 1 dalies 4 punkt", "Article 23(1)(4)"),
    ReservationBasis.LT_23_1_5: ("23 straipsnio 1 dalies 5 punkt", "Article 23(1)(5)"),
}


@dataclass
class Problem:
    message: str
    field: str | None = None
    lot: int | None = None  # lot number
    blocking: bool = True


class Refused(DomainError):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(" ".join(p.message for p in problems), field=problems[0].field)
        self.problems = problems


def _refuse_if(problems: list[Problem]) -> None:
    blocking = [p for p in problems if p.blocking]
    if blocking:
        raise Refused(blocking)


# --- from the plan -----------------------------------------------------------------------------

def tenderable_items(municipality: Municipality) -> list[PlanItem]:
    """Items of the municipality's published plan versions that no tender has taken yet."""
    taken = select(TenderPlanItem.item_uid)
    return list(db.session.scalars(
        select(PlanItem).join(PlanVersion).where(
            PlanVersion.state == PlanState.PUBLISHED, PlanItem.municipality_id == municipality.id,
            PlanItem.state == ItemState.PLANNED, PlanItem.uid.not_in(taken))
        .order_by(PlanItem.launch_month, PlanItem.position)
    ))


def _set_item_state(uids: list[str], state: ItemState) -> None:
    """The state of an item lives on its row in every open version (published and draft)."""
    for item in db.session.scalars(
            select(PlanItem).join(PlanVersion).where(PlanItem.uid.in_(uids),
                                                     PlanVersion.state.in_((PlanState.PUBLISHED, PlanState.DRAFT)))):
        item.state = state


def create_from_plan(actor: User, items: list[PlanItem], title: str | None = None,
                     mandates: list[Municipality] | None = None) -> Tender:
    if not items:
        raise DomainError(_("Choose at least one plan item."), field="items")
    municipality = items[0].municipality
    require(actor, "tender.edit", municipality)
    problems = []
    for item in items:
        if item.municipality_id != municipality.id:
            problems.append(Problem(_("“%(title)s” belongs to another municipality.", title=item.title)))
        if item.plan_version.state != PlanState.PUBLISHED:
            problems.append(Problem(_("“%(title)s” is not in a published plan version.", title=item.title)))
    taken = set(db.session.scalars(select(TenderPlanItem.item_uid).where(
        TenderPlanItem.item_uid.in_([i.uid for i in items]))))
    problems += [Problem(_("“%(title)s” is already being tendered.", title=i.title)) for i in items
                 if i.uid in taken or i.state != ItemState.PLANNED]
    groups = {i.main_cpv[:4] for i in items}
    if len(groups) > 1:
        problems.append(Problem(_("The items' main CPV codes must share their first four digits to be tendered "
                                  "together (here: %(groups)s). Make separate tenders.",
                                  groups=", ".join(sorted(groups)))))
    _refuse_if(problems)
    bind_actor(db.session(), actor)
    procedures = {i.procedure for i in items}
    procedure = next((p for p in (Procedure.OPEN, Procedure.LIGHT_REGIME, Procedure.SIMPLIFIED, Procedure.CALL_OFF)
                      if p in procedures), Procedure.OPEN)
    tender = Tender(municipality_id=municipality.id, title=(title or "").strip() or items[0].title,
                    procedure=procedure, state=TenderState.DRAFT, created_by_id=actor.id,
                    is_srpp=True)
    tender.mandates = [m for m in (mandates or []) if m.id != municipality.id]
    for n, item in enumerate(items, start=1):
        lot = Lot(number=n, plan_item_uid=item.uid, municipality_id=municipality.id, title=item.title,
                  description=item.notes_for_seos, category_id=item.category_id, main_cpv=item.main_cpv,
                  estimated_value=item.estimated_value, duration_months=item.duration_months,
                  quantity=item.quantity, unit=item.unit, place_municipality_id=municipality.id,
                  reservation=item.reservation)
        lot.additional_cpv = list(item.additional_cpv)
        _set_notice(lot)
        tender.lots.append(lot)
        tender.plan_links.append(TenderPlanItem(item_uid=item.uid, municipality_id=municipality.id, title=item.title))
    db.session.add(tender)
    _set_item_state([i.uid for i in items], ItemState.IN_PREPARATION)
    cache.bump("pipeline")
    db.session.flush()
    return tender


# --- lots ----------------------------------------------------------------------------------------

@dataclass
class LotInput:
    title: str
    category_id: int
    main_cpv: str
    estimated_value: Decimal
    duration_months: int
    additional_cpv: list[str] = field(default_factory=list)
    description: str | None = None
    quantity: Decimal | None = None
    unit: str | None = None
    place_municipality_id: int | None = None
    settlement: str | None = None
    is_rural: bool = False
    consortium_allowed: bool = True
    social_conditions: str | None = None
    reservation: ReservationBasis = ReservationBasis.NONE

    @property
    def cpv_codes(self) -> list[str]:
        out: list[str] = []
        for c in [self.main_cpv, *self.additional_cpv]:
            if c and c not in out:
                out.append(c)
        return out


def check_lot(inp: LotInput) -> list[Problem]:
    problems: list[Problem] = []
    if not (inp.title or "").strip():
        problems.append(Problem(_("Give the lot a title."), "title"))
    if db.session.get(ServiceCategory, inp.category_id) is None:
        problems.append(Problem(_("Choose a service category."), "category_id"))
    known = set(db.session.scalars(select(CpvCode.code).where(CpvCode.code.in_(inp.cpv_codes))))
    unknown = [c for c in inp.cpv_codes if c not in known]
    if unknown:
        problems.append(Problem(_("%(codes)s: not in the CPV 2008 vocabulary (check the code and its check digit).",
                                  codes=", ".join(unknown)), "main_cpv" if inp.main_cpv in unknown else "additional_cpv"))
    if inp.estimated_value is None or inp.estimated_value <= 0:
        problems.append(Problem(_("The estimated value must be greater than zero."), "estimated_value"))
    if inp.duration_months is None or not 1 <= inp.duration_months <= 120:
        problems.append(Problem(_("The contract duration must be between 1 and 120 months."), "duration_months"))
    if not unknown:
        for message in rules.reservation_problems(inp.reservation, inp.cpv_codes, inp.duration_months):
            problems.append(Problem(message, "reservation"))
    return problems


def _set_notice(lot: Lot) -> None:
    texts = NOTICE_TEXT.get(lot.reservation)
    lot.notice_text_lt, lot.notice_text_en = texts if texts else (None, None)


def _editable(tender: Tender) -> None:
    if tender.state not in workflow.EDITABLE:
        raise DomainError(_("The tender is %(state)s: its lots can no longer be changed.", state=tender.state.label))


def _apply_lot(lot: Lot, inp: LotInput) -> None:
    lot.title = inp.title.strip()
    lot.description = (inp.description or "").strip() or None
    lot.category_id = inp.category_id
    lot.main_cpv = inp.main_cpv
    extra = [c for c in inp.cpv_codes if c != inp.main_cpv]
    lot.additional_cpv = list(db.session.scalars(select(CpvCode).where(CpvCode.code.in_(extra)))) if extra else []
    lot.estimated_value = Decimal(inp.estimated_value).quantize(Decimal("0.01"))
    lot.duration_months = inp.duration_months
    lot.quantity = inp.quantity
    lot.unit = (inp.unit or "").strip() or None
    lot.place_municipality_id = inp.place_municipality_id
    lot.settlement = (inp.settlement or "").strip() or None
    lot.is_rural = inp.is_rural
    lot.consortium_allowed = inp.consortium_allowed
    lot.social_conditions = (inp.social_conditions or "").strip() or None
    lot.reservation = inp.reservation
    _set_notice(lot)


def _back_to_draft(tender: Tender) -> None:
    if tender.state == TenderState.READY:  # a change after the checks: check again
        tender.state = TenderState.DRAFT


def add_lot(actor: User, tender: Tender, inp: LotInput) -> Lot:
    require(actor, "tender.edit", tender.municipality)
    _editable(tender)
    _refuse_if(check_lot(inp))
    bind_actor(db.session(), actor)
    lot = Lot(number=max((lot.number for lot in tender.lots), default=0) + 1, municipality_id=tender.municipality_id)
    _apply_lot(lot, inp)
    tender.lots.append(lot)
    _back_to_draft(tender)
    db.session.flush()
    return lot


def update_lot(actor: User, lot: Lot, inp: LotInput, version: int | str | None) -> Lot:
    tender = lot.tender
    require(actor, "tender.edit", tender.municipality)
    _editable(tender)
    check_version(lot, version)
    _refuse_if(check_lot(inp))
    bind_actor(db.session(), actor)
    _apply_lot(lot, inp)
    _back_to_draft(tender)
    db.session.flush()
    return lot


def delete_lot(actor: User, lot: Lot) -> None:
    tender = lot.tender
    require(actor, "tender.edit", tender.municipality)
    _editable(tender)
    bind_actor(db.session(), actor)
    tender.lots.remove(lot)  # delete-orphan
    db.session.flush()
    for n, other in enumerate(sorted(tender.lots, key=lambda x: x.number), start=1):
        other.number = n
    _back_to_draft(tender)
    db.session.flush()


@dataclass
class CriterionInput:
    name: str
    kind: CriterionKind
    weight: Decimal
    subject_link: str | None = None


def set_criteria(actor: User, lot: Lot, rows: list[CriterionInput]) -> None:
    require(actor, "tender.edit", lot.tender.municipality)
    _editable(lot.tender)
    problems = []
    for n, row in enumerate(rows, start=1):
        if not row.name.strip():
            problems.append(Problem(_("Criterion %(n)s needs a name.", n=n), "criteria"))
        if row.weight is None or not Decimal(0) < row.weight <= Decimal(100):
            problems.append(Problem(_("Criterion %(n)s: the weight must be between 0 and 100 %%.", n=n), "criteria"))
    _refuse_if(problems)
    bind_actor(db.session(), actor)
    lot.criteria.clear()
    db.session.flush()
    for n, row in enumerate(rows, start=1):
        lot.criteria.append(AwardCriterion(position=n, name=row.name.strip(), kind=row.kind, weight=row.weight,
                                           subject_link=(row.subject_link or "").strip() or None))
    _back_to_draft(lot.tender)
    db.session.flush()


def update_tender(actor: User, tender: Tender, data: dict[str, Any], version: int | str | None) -> None:
    require(actor, "tender.edit", tender.municipality)
    _editable(tender)
    check_version(tender, version)
    bind_actor(db.session(), actor)
    for name in ("title", "description", "no_division_reasons", "allocation_rule"):
        if name in data:
            value = data[name]
            setattr(tender, name, (value or "").strip() or None if name != "title" else (value or "").strip())
    if not tender.title:
        raise DomainError(_("Give the tender a title."), field="title")
    for name in ("max_lots_per_tenderer", "submission_deadline", "is_srpp", "procedure"):
        if name in data:
            setattr(tender, name, data[name])
    _back_to_draft(tender)
    db.session.flush()


# --- checks and workflow ------------------------------------------------------------------------

def lot_problems(lot: Lot, is_srpp: bool) -> list[Problem]:
    problems = [Problem(p.message, p.field, lot.number) for p in check_lot(lot_input(lot))]
    weights_blocking = settings.get("tenders.weights_rule") == "error"
    social_blocking = settings.get("tenders.social_criterion_rule") == "error"
    if not lot.criteria:
        problems.append(Problem(_("Lot %(n)s has no award criteria.", n=lot.number), "criteria", lot.number))
    else:
        total = sum((c.weight for c in lot.criteria), Decimal(0))
        if total != Decimal(100):
            problems.append(Problem(_("Lot %(n)s: the award criteria weights sum to %(total)s %%, not 100 %%.",
                                      n=lot.number, total=f"{total:g}"), "criteria", lot.number, weights_blocking))
    if lot.is_reserved or is_srpp:
        social = [c for c in lot.criteria if c.kind == CriterionKind.SOCIAL]
        if not social:
            problems.append(Problem(_("Lot %(n)s is reserved or socially responsible: add at least one social award "
                                      "criterion (inclusion, continuity of service, accessibility …).", n=lot.number),
                                    "criteria", lot.number, social_blocking))
        elif not all((c.subject_link or "").strip() for c in social):
            problems.append(Problem(_("Lot %(n)s: say how each social criterion is linked to the subject matter.",
                                      n=lot.number), "criteria", lot.number, social_blocking))
    if lot.is_reserved:
        lt_cite, en_cite = CITATION[lot.reservation]
        if lt_cite not in (lot.notice_text_lt or "") or en_cite not in (lot.notice_text_en or ""):
            problems.append(Problem(_("Lot %(n)s is reserved: its notice text must cite the legal article.",
                                      n=lot.number), "notice", lot.number))
    return problems


def readiness(tender: Tender) -> list[Problem]:
    """Everything that must hold before a tender can be marked ready or published."""
    problems: list[Problem] = []
    if not tender.lots:
        problems.append(Problem(_("Add at least one lot.")))
    if len(tender.lots) == 1 and not (tender.no_division_reasons or "").strip():
        problems.append(Problem(_("The tender is not divided into lots: give the main reasons for not dividing it "
                                  "(divide or explain)."), "no_division_reasons"))
    if tender.max_lots_per_tenderer and not (tender.allocation_rule or "").strip():
        problems.append(Problem(_("A maximum number of lots per tenderer needs the objective rule that decides which "
                                  "lots a tenderer gets when it would win more."), "allocation_rule"))
    for lot in tender.lots:
        problems += lot_problems(lot, tender.is_srpp)
    return problems


def transition(actor: User, tender: Tender, target: TenderState, reason: str | None = None,
               version: int | str | None = None) -> Tender:
    require(actor, "tender.edit", tender.municipality)
    if version is not None:
        check_version(tender, version)
    if not workflow.allowed(tender.state, target):
        raise DomainError(_("A tender that is %(current)s cannot become %(target)s.", current=tender.state.label,
                            target=target.label))
    guard = workflow.TRANSITIONS[(tender.state, target)]
    if guard == "ready":
        _refuse_if(readiness(tender))
    elif guard == "reason" and not (reason or "").strip():
        raise DomainError(_("Give the reason for cancelling."), field="reason")
    elif guard == "all_lots_decided":
        open_lots = [lot.number for lot in tender.lots if lot.state == LotState.OPEN]
        if open_lots:
            raise DomainError(_("Award or close every lot first (still open: %(lots)s).",
                                lots=", ".join(map(str, open_lots))))
    bind_actor(db.session(), actor)
    uids = [link.item_uid for link in tender.plan_links]  # (load before the state changes: autoflush)
    if target == TenderState.CANCELLED:
        tender.cancelled_reason = reason.strip()
    tender.state = target
    if target == TenderState.PUBLISHED:
        tender.published_at = utcnow()
        _set_item_state(uids, ItemState.LAUNCHED)
    elif target == TenderState.CANCELLED:
        _set_item_state(uids, ItemState.PLANNED)
        for link in list(tender.plan_links):
            tender.plan_links.remove(link)
    cache.bump("pipeline")
    db.session.flush()
    return tender


# --- guidance -------------------------------------------------------------------------------------

@dataclass
class LotSizeGuidance:
    average_value: Decimal | None
    eligible_count: int
    largest_capacity: Decimal | None
    too_large: bool


def lot_size_guidance(lot: Lot, on: dt.date | None = None) -> LotSizeGuidance:
    """Risk 1.3: the average lot value in the region, and whether this lot is larger than the
    capacity declared by every eligible organisation of its category."""
    on = on or dt.date.today()
    average = db.session.scalar(select(func.avg(Lot.estimated_value)).where(Lot.category_id == lot.category_id))
    eligible = eligibility.eligible_suppliers(lot.reservation, lot.category_id, on)
    capacities = [s.max_contract_value for s in eligible if s.max_contract_value is not None]
    largest = max(capacities) if capacities else None
    return LotSizeGuidance(
        average_value=Decimal(average).quantize(Decimal("0.01")) if average is not None else None,
        eligible_count=len(eligible), largest_capacity=largest,
        too_large=largest is not None and lot.estimated_value > largest,
    )


def lot_input(lot: Lot) -> LotInput:
    return LotInput(title=lot.title, category_id=lot.category_id, main_cpv=lot.main_cpv,
                    additional_cpv=[c.code for c in lot.additional_cpv], estimated_value=lot.estimated_value,
                    duration_months=lot.duration_months, description=lot.description, quantity=lot.quantity,
                    unit=lot.unit, place_municipality_id=lot.place_municipality_id, settlement=lot.settlement,
                    is_rural=lot.is_rural, consortium_allowed=lot.consortium_allowed,
                    social_conditions=lot.social_conditions, reservation=lot.reservation)


# --- bids and awards -------------------------------------------------------------------------------

def record_bid(actor: User, lot: Lot, supplier: Supplier, price: Decimal, score: Decimal | None = None,
               compliant: bool = True, members: list[Supplier] | None = None, note: str | None = None) -> Bid:
    require(actor, "tender.edit", lot.tender.municipality)
    if lot.tender.state not in (TenderState.PUBLISHED, TenderState.EVALUATION):
        raise DomainError(_("Bids are recorded once the tender is published."))
    if lot.state != LotState.OPEN:
        raise DomainError(_("Lot %(n)s is already decided.", n=lot.number))
    if price is None or price <= 0:
        raise DomainError(_("The price must be greater than zero."), field="price")
    if score is not None and not Decimal(0) <= score <= Decimal(100):
        raise DomainError(_("The score must be between 0 and 100."), field="score")
    if members and not lot.consortium_allowed:
        raise DomainError(_("This lot does not allow consortium bids."), field="members")
    if any(b.supplier_id == supplier.id for b in lot.bids):
        raise DomainError(_("%(supplier)s already has a bid on this lot.", supplier=supplier.legal_name),
                          field="supplier_id")
    bind_actor(db.session(), actor)
    bid = Bid(supplier_id=supplier.id, price=price.quantize(Decimal("0.01")), score=score, compliant=compliant,
              note=(note or "").strip() or None)
    bid.members = [m for m in (members or []) if m.id != supplier.id]
    lot.bids.append(bid)
    db.session.flush()
    return bid


def art77_blocking_award(lot: Lot, supplier: Supplier, on: dt.date) -> Contract | None:
    """EU-RES77-02(d): an Art. 77 contract for the same services (same CPV group: the first three
    digits) from the same municipality to the same organisation in the look-back period. Lots of
    the same tender are one procedure and do not block each other."""
    same_tender = select(Lot.id).where(Lot.tender_id == lot.tender_id)
    since = on - relativedelta(years=settings.get("tenders.art77_lookback_years"))
    group = lot.main_cpv[:3]
    return db.session.scalar(
        select(Contract).where(
            Contract.municipality_id == lot.municipality_id, Contract.supplier_id == supplier.id,
            Contract.reservation == ReservationBasis.EU_ART77, Contract.awarded_on >= since,
            Contract.awarded_on <= on, func.substr(Contract.main_cpv, 1, 3) == group,
            or_(Contract.lot_id.is_(None), Contract.lot_id.not_in(same_tender)),
        ).order_by(Contract.awarded_on.desc()).limit(1)
    )


def award_problems(lot: Lot, bid: Bid, on: dt.date) -> list[Problem]:
    problems: list[Problem] = []
    bidders = [bid.supplier, *bid.members]
    for supplier in bidders:
        verdict = eligibility.eligibility(supplier, lot.reservation, on)
        if not verdict.ok:
            problems.append(Problem(_("%(supplier)s is not eligible for a lot reserved under %(basis)s on %(day)s: "
                                      "%(reason)s", supplier=supplier.legal_name, basis=lot.reservation.label,
                                      day=on.isoformat(), reason=verdict.reason), "bid_id"))
    if lot.reservation == ReservationBasis.EU_ART77:
        blocking = art77_blocking_award(lot, bid.supplier, on)
        if blocking is not None:
            problems.append(Problem(_(
                "Art. 77(2)(d): %(municipality)s awarded %(supplier)s an Art. 77 contract for the same services "
                "on %(day)s (“%(title)s”, CPV %(cpv)s); the same organisation cannot get another one within "
                "%(years)s years.", municipality=lot.municipality.name, supplier=bid.supplier.legal_name,
                day=blocking.awarded_on.isoformat(), title=blocking.title, cpv=blocking.main_cpv,
                years=settings.get("tenders.art77_lookback_years")), "bid_id"))
    return problems


def award(actor: User, lot: Lot, bid: Bid, on: dt.date, value: Decimal | None = None,
          version: int | str | None = None) -> Contract:
    tender = lot.tender
    require(actor, "tender.edit", tender.municipality)
    if version is not None:
        check_version(lot, version)
    if tender.state != TenderState.EVALUATION:
        raise DomainError(_("Lots are awarded during evaluation (the tender is %(state)s).", state=tender.state.label))
    if lot.state != LotState.OPEN:
        raise DomainError(_("Lot %(n)s is already decided.", n=lot.number))
    if bid.lot_id != lot.id:
        raise DomainError(_("This bid belongs to another lot."), field="bid_id")
    if not bid.compliant:
        raise DomainError(_("A non-compliant bid cannot win."), field="bid_id")
    _refuse_if(award_problems(lot, bid, on))
    bind_actor(db.session(), actor)
    value = (value or bid.price).quantize(Decimal("0.01"))
    bid.is_winner = True
    lot.state = LotState.AWARDED
    lot.winner_id = bid.supplier_id
    lot.award_date = on
    lot.award_value = value
    contract = Contract(municipality_id=lot.municipality_id, supplier_id=bid.supplier_id, lot_id=lot.id,
                        title=f"{tender.title} — {lot.number}. {lot.title}", value=value, awarded_on=on,
                        start_date=on, end_date=on + relativedelta(months=lot.duration_months) - dt.timedelta(days=1),
                        main_cpv=lot.main_cpv, reservation=lot.reservation)
    db.session.add(contract)
    cache.bump("pipeline")  # the lot leaves the public pipeline
    db.session.flush()
    return contract


def close_unsuccessful(actor: User, lot: Lot, reason: str) -> None:
    require(actor, "tender.edit", lot.tender.municipality)
    if lot.tender.state not in (TenderState.PUBLISHED, TenderState.EVALUATION):
        raise DomainError(_("Only lots of a published tender can be closed as unsuccessful."))
    if lot.state != LotState.OPEN:
        raise DomainError(_("Lot %(n)s is already decided.", n=lot.number))
    if not (reason or "").strip():
        raise DomainError(_("Give the reason (e.g. no compliant bids)."), field="reason")
    bind_actor(db.session(), actor)
    lot.state = LotState.UNSUCCESSFUL
    lot.description = "\n".join(filter(None, [lot.description, _("Unsuccessful: %(reason)s", reason=reason.strip())]))
    cache.bump("pipeline")  # the lot leaves the public pipeline
    db.session.flush()


def replan(actor: User, lot: Lot) -> None:
    """An unsuccessful lot goes back to the plan: its plan item is planned again and can be tendered anew."""
    require(actor, "tender.edit", lot.tender.municipality)
    if lot.state != LotState.UNSUCCESSFUL:
        raise DomainError(_("Only unsuccessful lots can be re-planned."))
    bind_actor(db.session(), actor)
    lot.state = LotState.REPLANNED
    if lot.plan_item_uid:
        _set_item_state([lot.plan_item_uid], ItemState.PLANNED)
        link = next((link for link in lot.tender.plan_links if link.item_uid == lot.plan_item_uid), None)
        if link is not None:
            lot.tender.plan_links.remove(link)
    cache.bump("pipeline")
    db.session.flush()

