"""Tenders, lots, framework agreements and call-offs (``/api/v1``).

* Tenders and lots: a published tender (published, in evaluation, awarded, or cancelled after
  publication) is public with its lots, as in the public pipeline; drafts and tenders ready to
  publish only for ``tender.view_draft`` on the lead or a mandating municipality. Award results (the
  winner, date and value) are shown to logged-in callers, as on the web.
* Framework agreements: signed ones (not ``planned``) are public with the facts of their public page;
  planned ones and the internal figures (estimated and committed value, caps, opt-outs) only for
  ``framework.view`` (municipal staff and the regional readers).
* Call-offs: ``framework.view`` only (401 without a login, 403 for supplier members)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from flask_babel import gettext as _
from pydantic import BaseModel, Field
from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import joinedload, lazyload, selectinload

from srpp.api.endpoints import (
    CPV_PREFIX,
    MUNICIPALITY_CODE,
    SupplierRef,
    category_id,
    cpv_filter,
    hidden,
    municipality_id,
    paginate_all,
    permitted_municipality_ids,
    reservation_filter,
    supplier_joined,
    values_of,
)
from srpp.api.spec import MAX_ID, Page, PageQuery, not_found, operation
from srpp.api.views import bp
from srpp.auth.models import User
from srpp.contracts.models import Contract
from srpp.core.permissions import can, require
from srpp.extensions import db
from srpp.frameworks.models import (
    CallOff,
    CallOffMethod,
    FrameworkAgreement,
    FrameworkParticipant,
    FrameworkState,
    FrameworkSupplier,
    ParticipantState,
)
from srpp.orgs.models import Municipality, PriorityArea, ServiceCategory
from srpp.public.services import PUBLIC_TENDER_STATES
from srpp.rules.models import Procedure, ReservationBasis
from srpp.tenders.models import CriterionKind, Lot, LotState, Tender, TenderState, lot_cpv


def _category(rel):
    return joinedload(rel).lazyload(ServiceCategory.cpv_codes)


# --- tenders and lots ------------------------------------------------------------------------------

def _tender_visible(user: User | None):
    """SQL: the tenders the caller may see (published ones, and the drafts of their municipalities)."""
    public = and_(Tender.state.in_(PUBLIC_TENDER_STATES), Tender.published_at.is_not(None))
    staff = permitted_municipality_ids(user, "tender.view_draft")
    if not staff:
        return public
    return or_(public, Tender.municipality_id.in_(staff), Tender.mandates.any(Municipality.id.in_(staff)))


def _check_tender(user: User | None, tender: Tender) -> None:
    if tender.state in PUBLIC_TENDER_STATES and tender.published_at is not None:
        return
    if not any(can(user, "tender.view_draft", m) for m in [tender.municipality, *tender.mandates]):
        raise hidden(user, _("Tender"), "tender.view_draft")


class CriterionOut(BaseModel):
    name: str
    kind: values_of(CriterionKind)
    weight: Decimal = Field(description="percent")
    subject_link: str | None = Field(description="how a social criterion is linked to the subject matter")


class AwardOut(BaseModel):
    award_date: dt.date
    award_value: Decimal
    winner: SupplierRef


class LotOut(BaseModel):
    id: int
    tender_id: int
    number: int
    municipality: str = Field(description="the contracting municipality's code")
    plan_item_uid: str | None
    title: str
    description: str | None
    category: str = Field(description="service category key")
    priority_area: values_of(PriorityArea)
    main_cpv: str
    cpv_codes: list[str]
    estimated_value: Decimal
    duration_months: int
    quantity: Decimal | None
    unit: str | None
    place: str | None = Field(description="code of the municipality where the service is performed")
    settlement: str | None
    is_rural: bool
    consortium_allowed: bool
    social_conditions: str | None
    reservation: values_of(ReservationBasis)
    reserved: bool
    notice_text_lt: str | None = Field(description="the notice sentence citing the legal article (reserved lots)")
    notice_text_en: str | None
    state: values_of(LotState)
    criteria: list[CriterionOut]
    award: AwardOut | None = Field(description="the award (null until awarded, and for anonymous callers)")

    @classmethod
    def of(cls, lot: Lot, show_award: bool) -> LotOut:
        award = None
        if show_award and lot.state == LotState.AWARDED and lot.winner is not None:
            award = AwardOut(award_date=lot.award_date, award_value=lot.award_value, winner=SupplierRef.of(lot.winner))
        return cls(
            id=lot.id, tender_id=lot.tender_id, number=lot.number, municipality=lot.municipality.code,
            plan_item_uid=lot.plan_item_uid, title=lot.title, description=lot.description,
            category=lot.category.key, priority_area=lot.category.priority_area.value, main_cpv=lot.main_cpv,
            cpv_codes=lot.cpv_codes, estimated_value=lot.estimated_value, duration_months=lot.duration_months,
            quantity=lot.quantity, unit=lot.unit, place=lot.place.code if lot.place else None,
            settlement=lot.settlement, is_rural=lot.is_rural, consortium_allowed=lot.consortium_allowed,
            social_conditions=lot.social_conditions, reservation=lot.reservation.value, reserved=lot.is_reserved,
            notice_text_lt=lot.notice_text_lt, notice_text_en=lot.notice_text_en, state=lot.state.value,
            criteria=[CriterionOut(name=c.name, kind=c.kind.value, weight=c.weight, subject_link=c.subject_link)
                      for c in lot.criteria],
            award=award,
        )


class LotSummary(BaseModel):
    id: int
    number: int
    title: str
    estimated_value: Decimal
    reservation: values_of(ReservationBasis)
    state: values_of(LotState)


class TenderOut(BaseModel):
    id: int
    municipality: str = Field(description="the contracting (lead) municipality's code")
    mandates: list[str] = Field(description="codes of the municipalities on whose behalf it buys (joint tenders)")
    title: str
    description: str | None
    procedure: values_of(Procedure)
    state: values_of(TenderState)
    is_srpp: bool
    no_division_reasons: str | None
    max_lots_per_tenderer: int | None
    allocation_rule: str | None
    submission_deadline: dt.date | None
    published_at: dt.datetime | None
    cancelled_reason: str | None
    estimated_value: Decimal = Field(description="the lots' estimated values added up")
    reserved: bool = Field(description="at least one lot is reserved")
    plan_item_uids: list[str] = Field(description="the plan items the tender was made from")
    lots: list[LotSummary]

    @classmethod
    def of(cls, t: Tender) -> TenderOut:
        return cls(
            id=t.id, municipality=t.municipality.code, mandates=sorted(m.code for m in t.mandates), title=t.title,
            description=t.description, procedure=t.procedure.value, state=t.state.value, is_srpp=t.is_srpp,
            no_division_reasons=t.no_division_reasons, max_lots_per_tenderer=t.max_lots_per_tenderer,
            allocation_rule=t.allocation_rule, submission_deadline=t.submission_deadline,
            published_at=t.published_at, cancelled_reason=t.cancelled_reason, estimated_value=t.estimated_value,
            reserved=t.is_reserved, plan_item_uids=sorted(link.item_uid for link in t.plan_links),
            lots=[LotSummary(id=lot.id, number=lot.number, title=lot.title, estimated_value=lot.estimated_value,
                             reservation=lot.reservation.value, state=lot.state.value) for lot in t.lots],
        )


def _tenders_stmt():
    return select(Tender).options(
        selectinload(Tender.lots).lazyload("*"), selectinload(Tender.plan_links).lazyload("*"),
        selectinload(Tender.mandates))


class TenderQuery(PageQuery):
    municipality: str | None = Field(None, pattern=MUNICIPALITY_CODE,
                                     description="the lead or a mandating municipality (code)")
    state: values_of(TenderState) | None = None
    reserved: bool | None = Field(None, description="true: with at least one reserved lot; false: none reserved")
    procedure: values_of(Procedure) | None = None


@operation(bp, "/tenders", summary="Tenders", tag="tenders", query=TenderQuery, response=Page[TenderOut])
def tenders(user, query: TenderQuery, body):
    """Published tenders for everyone; drafts and tenders ready to publish for the staff of the lead or
    a mandating municipality and the regional readers. Newest first."""
    stmt = _tenders_stmt().where(_tender_visible(user)).order_by(Tender.created_at.desc(), Tender.id.desc())
    if query.municipality:
        mid = municipality_id(query.municipality)
        stmt = stmt.where(or_(Tender.municipality_id == mid, Tender.mandates.any(Municipality.id == mid)))
    if query.state:
        stmt = stmt.where(Tender.state == TenderState(query.state))
    if query.procedure:
        stmt = stmt.where(Tender.procedure == Procedure(query.procedure))
    if query.reserved is not None:
        any_reserved = exists().where(Lot.tender_id == Tender.id, Lot.reservation != ReservationBasis.NONE)
        stmt = stmt.where(any_reserved if query.reserved else ~any_reserved)
    return paginate_all(stmt, query, lambda rows: [TenderOut.of(t) for t in rows])


@operation(bp, "/tenders/<int:tender_id>", summary="One tender with its lots", tag="tenders", response=TenderOut)
def tender(user, query, body, tender_id: int):
    t = db.session.scalar(_tenders_stmt().where(Tender.id == tender_id))
    if t is None:
        raise not_found(_("Tender"))
    _check_tender(user, t)
    return TenderOut.of(t)


def _lots_stmt():
    return (select(Lot).join(Tender, Lot.tender_id == Tender.id)
            .options(lazyload(Lot.tender), _category(Lot.category), joinedload(Lot.place),
                     supplier_joined(Lot.winner), selectinload(Lot.criteria), selectinload(Lot.additional_cpv)))


class LotQuery(PageQuery):
    municipality: str | None = Field(None, pattern=MUNICIPALITY_CODE, description="the contracting municipality")
    tender: int | None = Field(None, ge=1, le=MAX_ID, description="tender id")
    state: values_of(LotState) | None = None
    reserved: bool | None = Field(None, description="true: reserved lots only; false: open lots only")
    basis: values_of(ReservationBasis) | None = Field(None, description="reservation basis")
    category: str | None = Field(None, max_length=40, description="service category key")
    cpv: str | None = Field(None, pattern=CPV_PREFIX, description="CPV code prefix (main or additional code)")


@operation(bp, "/lots", summary="Lots of tenders", tag="tenders", query=LotQuery, response=Page[LotOut])
def lots(user, query: LotQuery, body):
    """The lots of the tenders the caller may see (see ``/tenders``), newest tender first."""
    stmt = _lots_stmt().where(_tender_visible(user)).order_by(Tender.created_at.desc(), Tender.id.desc(), Lot.number)
    if query.municipality:
        stmt = stmt.where(Lot.municipality_id == municipality_id(query.municipality))
    if query.tender:
        stmt = stmt.where(Lot.tender_id == query.tender)
    if query.state:
        stmt = stmt.where(Lot.state == LotState(query.state))
    stmt = stmt.where(*reservation_filter(Lot.reservation, query.reserved, query.basis))
    if query.category:
        stmt = stmt.where(Lot.category_id == category_id(query.category))
    if query.cpv:
        stmt = stmt.where(cpv_filter(Lot.main_cpv, lot_cpv, lot_cpv.c.lot_id, Lot.id, query.cpv))
    show_award = user is not None
    return paginate_all(stmt, query, lambda rows: [LotOut.of(lot, show_award) for lot in rows])


@operation(bp, "/lots/<int:lot_id>", summary="One lot", tag="tenders", response=LotOut)
def lot(user, query, body, lot_id: int):
    found = db.session.scalar(_lots_stmt().where(Lot.id == lot_id))
    if found is None:
        raise not_found(_("Lot"))
    _check_tender(user, db.session.get(Tender, found.tender_id))
    return LotOut.of(found, user is not None)


# --- framework agreements ----------------------------------------------------------------------------

class CapOut(BaseModel):
    year: int
    cap: Decimal


class ParticipantOut(BaseModel):
    municipality: str
    state: values_of(ParticipantState) | None = Field(description="null for the public")
    opt_out_effective_on: dt.date | None
    caps: list[CapOut] | None = Field(description="yearly caps (null for the public)")


class FrameworkOut(BaseModel):
    id: int
    code: str
    title: str
    category: str = Field(description="service category key")
    priority_area: values_of(PriorityArea)
    coordinator: str = Field(description="the coordinator municipality's code")
    tender_id: int | None
    start_date: dt.date
    end_date: dt.date
    max_value: Decimal
    call_off_method: values_of(CallOffMethod)
    objective_criteria: str | None
    state: values_of(FrameworkState)
    admits_new_suppliers: bool
    participants: list[ParticipantOut] = Field(description="for the public: those that have not withdrawn")
    parties: list[SupplierRef] = Field(description="the suppliers party to the framework")
    estimated_value: Decimal | None = Field(description="null for the public")
    committed_value: Decimal | None = Field(description="the call-offs' values added up (null for the public)")
    term_justification: str | None = Field(description="null for the public")


def _frameworks_page(rows: Sequence[FrameworkAgreement], internal: bool) -> list[FrameworkOut]:
    committed: dict[int, Decimal] = {}
    if internal:
        committed = dict(db.session.execute(
            select(CallOff.framework_id, func.sum(CallOff.value))
            .where(CallOff.framework_id.in_([fa.id for fa in rows] or [-1])).group_by(CallOff.framework_id)).all())
    out = []
    for fa in rows:
        participants = [
            ParticipantOut(municipality=p.municipality.code, state=p.state.value if internal else None,
                           opt_out_effective_on=p.opt_out_effective_on if internal else None,
                           caps=[CapOut(year=c.year, cap=c.cap) for c in p.caps] if internal else None)
            for p in fa.participants if internal or p.state != ParticipantState.WITHDRAWN]
        out.append(FrameworkOut(
            id=fa.id, code=fa.code, title=fa.title, category=fa.category.key,
            priority_area=fa.category.priority_area.value, coordinator=fa.coordinator.code,
            tender_id=fa.tender_id if internal else None, start_date=fa.start_date, end_date=fa.end_date,
            max_value=fa.max_value, call_off_method=fa.call_off_method.value,
            objective_criteria=fa.objective_criteria, state=fa.state.value,
            admits_new_suppliers=fa.admits_new_suppliers, participants=participants,
            parties=[SupplierRef.of(p.supplier) for p in fa.parties],
            estimated_value=fa.estimated_value if internal else None,
            committed_value=Decimal(committed.get(fa.id) or 0) if internal else None,
            term_justification=fa.term_justification if internal else None))
    return out


def _frameworks_stmt():
    return select(FrameworkAgreement).options(
        _category(FrameworkAgreement.category),
        selectinload(FrameworkAgreement.participants).selectinload(FrameworkParticipant.caps),
        selectinload(FrameworkAgreement.parties).options(supplier_joined(FrameworkSupplier.supplier)))


class FrameworkQuery(PageQuery):
    municipality: str | None = Field(None, pattern=MUNICIPALITY_CODE,
                                     description="the coordinator or a participating municipality (code)")
    state: values_of(FrameworkState) | None = None
    category: str | None = Field(None, max_length=40, description="service category key")
    open: bool | None = Field(None, description="true: active frameworks that admit new suppliers")


@operation(bp, "/frameworks", summary="Framework agreements", tag="frameworks", query=FrameworkQuery,
           response=Page[FrameworkOut])
def frameworks(user, query: FrameworkQuery, body):
    """Signed framework agreements for everyone; planned ones, and the internal figures, for municipal
    staff and the regional readers (``framework.view``). By code."""
    internal = can(user, "framework.view")
    stmt = _frameworks_stmt().order_by(FrameworkAgreement.code, FrameworkAgreement.id)
    if not internal:
        stmt = stmt.where(FrameworkAgreement.state != FrameworkState.PLANNED)
    if query.municipality:
        mid = municipality_id(query.municipality)
        participant = exists().where(FrameworkParticipant.framework_id == FrameworkAgreement.id,
                                     FrameworkParticipant.municipality_id == mid)
        if not internal:
            participant = participant.where(FrameworkParticipant.state != ParticipantState.WITHDRAWN)
        stmt = stmt.where(or_(FrameworkAgreement.municipality_id == mid, participant))
    if query.state:
        stmt = stmt.where(FrameworkAgreement.state == FrameworkState(query.state))
    if query.category:
        stmt = stmt.where(FrameworkAgreement.category_id == category_id(query.category))
    if query.open is not None:
        is_open = and_(FrameworkAgreement.state == FrameworkState.ACTIVE,
                       FrameworkAgreement.admits_new_suppliers.is_(True))
        stmt = stmt.where(is_open if query.open else ~is_open)
    return paginate_all(stmt, query, lambda rows: _frameworks_page(rows, internal))


@operation(bp, "/frameworks/<int:framework_id>", summary="One framework agreement", tag="frameworks",
           response=FrameworkOut)
def framework(user, query, body, framework_id: int):
    fa = db.session.scalar(_frameworks_stmt().where(FrameworkAgreement.id == framework_id))
    if fa is None:
        raise not_found(_("Framework agreement"))
    internal = can(user, "framework.view")
    if fa.state == FrameworkState.PLANNED and not internal:
        raise hidden(user, _("Framework agreement"), "framework.view")
    return _frameworks_page([fa], internal)[0]


# --- call-offs --------------------------------------------------------------------------------------------

class CallOffOut(BaseModel):
    id: int
    framework_id: int
    framework_code: str
    municipality: str
    supplier: SupplierRef
    awarded_on: dt.date
    start_date: dt.date
    end_date: dt.date
    quantity: Decimal
    unit: str
    unit_price: Decimal
    value: Decimal
    budget_line: str
    price_deviation_note: str | None
    contract_id: int | None = Field(description="the contract the call-off created")


def _call_offs_page(rows: Sequence[CallOff]) -> list[CallOffOut]:
    ids = [c.id for c in rows]
    contracts = dict(db.session.execute(
        select(Contract.call_off_id, Contract.id).where(Contract.call_off_id.in_(ids or [-1]))).all())
    return [CallOffOut(
        id=c.id, framework_id=c.framework_id, framework_code=c.framework.code, municipality=c.municipality.code,
        supplier=SupplierRef.of(c.supplier), awarded_on=c.awarded_on, start_date=c.start_date, end_date=c.end_date,
        quantity=c.quantity, unit=c.unit, unit_price=c.unit_price, value=c.value, budget_line=c.budget_line,
        price_deviation_note=c.price_deviation_note, contract_id=contracts.get(c.id)) for c in rows]


def _call_offs_stmt():
    return select(CallOff).options(
        supplier_joined(CallOff.supplier),
        joinedload(CallOff.framework).options(lazyload(FrameworkAgreement.category),
                                              lazyload(FrameworkAgreement.coordinator)))


class CallOffQuery(PageQuery):
    framework: int | None = Field(None, ge=1, le=MAX_ID, description="framework agreement id")
    municipality: str | None = Field(None, pattern=MUNICIPALITY_CODE, description="the ordering municipality")
    supplier: int | None = Field(None, ge=1, le=MAX_ID, description="supplier id")
    awarded_from: dt.date | None = None
    awarded_to: dt.date | None = None


@operation(bp, "/call-offs", summary="Call-offs under framework agreements", tag="frameworks",
           query=CallOffQuery, response=Page[CallOffOut], auth="login")
def call_offs(user, query: CallOffQuery, body):
    """Municipal staff and the regional readers (``framework.view``), as the framework dashboards.
    Newest first."""
    require(user, "framework.view")
    stmt = _call_offs_stmt().order_by(CallOff.awarded_on.desc(), CallOff.id.desc())
    if query.framework:
        stmt = stmt.where(CallOff.framework_id == query.framework)
    if query.municipality:
        stmt = stmt.where(CallOff.municipality_id == municipality_id(query.municipality))
    if query.supplier:
        stmt = stmt.where(CallOff.supplier_id == query.supplier)
    if query.awarded_from:
        stmt = stmt.where(CallOff.awarded_on >= query.awarded_from)
    if query.awarded_to:
        stmt = stmt.where(CallOff.awarded_on <= query.awarded_to)
    return paginate_all(stmt, query, _call_offs_page)


@operation(bp, "/call-offs/<int:call_off_id>", summary="One call-off", tag="frameworks", response=CallOffOut,
           auth="login")
def call_off(user, query, body, call_off_id: int):
    require(user, "framework.view")
    found = db.session.scalar(_call_offs_stmt().where(CallOff.id == call_off_id))
    if found is None:
        raise not_found(_("Call-off"))
    return _call_offs_page([found])[0]
