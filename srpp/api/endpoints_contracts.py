"""Contracts, payment milestones and invoices (``/api/v1``): a login or an API token is needed (401
otherwise), as for the web pages. Who sees what follows ``contract.view``: a contract, its milestones
and its invoices are seen by the staff of its municipality (procurement and finance officers, service
coordinators), the regional readers (council, admins) and the members of the supplier. Lists are
filtered to those; a single contract or invoice outside them answers 403."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask_babel import gettext as _
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import joinedload, lazyload, selectinload

from srpp.api.endpoints import (
    MUNICIPALITY_CODE,
    SupplierRef,
    municipality_id,
    paginate_all,
    supplier_joined,
    values_of,
)
from srpp.api.spec import MAX_ID, Page, PageQuery, not_found, operation
from srpp.api.views import bp
from srpp.auth.models import User
from srpp.contracts import services as contracts
from srpp.contracts.models import (
    Contract,
    ContractState,
    DayType,
    MilestoneState,
    MilestoneTrigger,
    PaymentMilestone,
)
from srpp.payments import services as payments
from srpp.payments.models import Invoice, InvoiceState
from srpp.rules.models import ReservationBasis

#: a contract's supplier and municipality are joined; the supplier's own collections are not shown here
_CONTRACT_OPTIONS = (supplier_joined(Contract.supplier), lazyload(Contract.lot), lazyload(Contract.call_off))


def _visible_contract_ids(user: User):
    """SQL: the ids of the contracts the user may see (``contracts.services.contracts_for``)."""
    return contracts.contracts_for(user).with_only_columns(Contract.id).order_by(None)


def _get_contract(user: User, contract_id: int) -> Contract:
    found = contracts.get_contract(user, contract_id)  # PermissionDenied (403) when the user may not see it
    if found is None:
        raise not_found(_("Contract"))
    return found


# --- contracts -----------------------------------------------------------------------------------------

class ContractOut(BaseModel):
    id: int
    municipality: str = Field(description="the contracting municipality's code")
    supplier: SupplierRef
    lot_id: int | None = Field(description="the awarded lot it came from")
    call_off_id: int | None = Field(description="the call-off it came from")
    title: str
    reference: str | None
    value: Decimal
    initial_value: Decimal | None = Field(description="the value at signature")
    amendment_share: Decimal | None = Field(description="cumulative change of the value against the initial value")
    awarded_on: dt.date
    start_date: dt.date
    end_date: dt.date
    main_cpv: str
    reservation: values_of(ReservationBasis)
    state: values_of(ContractState)
    payment_term_days: int
    payment_term_justification: str | None
    day_type: values_of(DayType)
    acceptance_days: int | None
    acceptance_justification: str | None
    advance_percent: Decimal

    @classmethod
    def of(cls, c: Contract) -> ContractOut:
        return cls(
            id=c.id, municipality=c.municipality.code, supplier=SupplierRef.of(c.supplier), lot_id=c.lot_id,
            call_off_id=c.call_off_id, title=c.title, reference=c.reference, value=c.value,
            initial_value=c.initial_value, amendment_share=c.amendment_share, awarded_on=c.awarded_on,
            start_date=c.start_date, end_date=c.end_date, main_cpv=c.main_cpv, reservation=c.reservation.value,
            state=c.state.value, payment_term_days=c.payment_term_days,
            payment_term_justification=c.payment_term_justification, day_type=c.day_type.value,
            acceptance_days=c.acceptance_days, acceptance_justification=c.acceptance_justification,
            advance_percent=c.advance_percent,
        )


class ContractQuery(PageQuery):
    municipality: str | None = Field(None, pattern=MUNICIPALITY_CODE, description="municipality code")
    supplier: int | None = Field(None, ge=1, le=MAX_ID, description="supplier id")
    status: values_of(ContractState) | None = Field(None, description="the contract's state")


@operation(bp, "/contracts", summary="Contracts", tag="contracts", query=ContractQuery,
           response=Page[ContractOut], auth="login")
def contract_list(user, query: ContractQuery, body):
    """The contracts the caller may see (newest start first): all for the regional readers, their
    municipality's for its staff, their organisation's for supplier members."""
    stmt = contracts.contracts_for(user, municipality_id=municipality_id(query.municipality),
                                   supplier_id=query.supplier,
                                   state=ContractState(query.status) if query.status else None)
    return paginate_all(stmt.options(*_CONTRACT_OPTIONS), query, lambda rows: [ContractOut.of(c) for c in rows])


@operation(bp, "/contracts/<int:contract_id>", summary="One contract", tag="contracts", response=ContractOut,
           auth="login")
def contract_detail(user, query, body, contract_id: int):
    return ContractOut.of(_get_contract(user, contract_id))


# --- payment milestones -----------------------------------------------------------------------------------

class MilestoneOut(BaseModel):
    id: int
    contract_id: int
    sequence: int
    title: str
    share_percent: Decimal | None = Field(description="share of the price (or null with a fixed amount)")
    fixed_amount: Decimal | None
    amount: Decimal = Field(description="euro")
    trigger: values_of(MilestoneTrigger)
    trigger_description: str | None
    trigger_date: dt.date | None
    offset_days: int
    day_type: values_of(DayType)
    planned_date: dt.date | None
    state: values_of(MilestoneState)
    met_on: dt.date | None

    @classmethod
    def of(cls, m: PaymentMilestone) -> MilestoneOut:
        return cls(id=m.id, contract_id=m.contract_id, sequence=m.sequence, title=m.title,
                   share_percent=m.share_percent, fixed_amount=m.fixed_amount, amount=m.amount,
                   trigger=m.trigger.value, trigger_description=m.trigger_description, trigger_date=m.trigger_date,
                   offset_days=m.offset_days, day_type=m.day_type.value, planned_date=m.planned_date,
                   state=m.state.value, met_on=m.met_on)


class MilestoneQuery(PageQuery):
    contract: int | None = Field(None, ge=1, le=MAX_ID, description="contract id")
    municipality: str | None = Field(None, pattern=MUNICIPALITY_CODE, description="the contract's municipality")
    state: values_of(MilestoneState) | None = None
    planned_from: dt.date | None = Field(None, description="planned on or after this day")
    planned_to: dt.date | None = Field(None, description="planned on or before this day")


class ContractMilestoneQuery(PageQuery):
    state: values_of(MilestoneState) | None = None


def _milestones_stmt():
    return select(PaymentMilestone).options(lazyload(PaymentMilestone.contract))


@operation(bp, "/milestones", summary="Payment milestones", tag="contracts", query=MilestoneQuery,
           response=Page[MilestoneOut], auth="login")
def milestones(user, query: MilestoneQuery, body):
    """The milestones of the contracts the caller may see, by planned date."""
    stmt = (_milestones_stmt().where(PaymentMilestone.contract_id.in_(_visible_contract_ids(user)))
            .order_by(PaymentMilestone.planned_date.asc().nulls_last(), PaymentMilestone.contract_id,
                      PaymentMilestone.sequence))
    if query.contract:
        stmt = stmt.where(PaymentMilestone.contract_id == query.contract)
    if query.municipality:
        mid = municipality_id(query.municipality)
        stmt = stmt.where(PaymentMilestone.contract_id.in_(select(Contract.id).where(Contract.municipality_id == mid)))
    if query.state:
        stmt = stmt.where(PaymentMilestone.state == MilestoneState(query.state))
    if query.planned_from:
        stmt = stmt.where(PaymentMilestone.planned_date >= query.planned_from)
    if query.planned_to:
        stmt = stmt.where(PaymentMilestone.planned_date <= query.planned_to)
    return paginate_all(stmt, query, lambda rows: [MilestoneOut.of(m) for m in rows])


@operation(bp, "/contracts/<int:contract_id>/milestones", summary="The payment milestones of a contract",
           tag="contracts", query=ContractMilestoneQuery, response=Page[MilestoneOut], auth="login")
def contract_milestones(user, query: ContractMilestoneQuery, body, contract_id: int):
    contract = _get_contract(user, contract_id)
    stmt = _milestones_stmt().where(PaymentMilestone.contract_id == contract.id).order_by(PaymentMilestone.sequence)
    if query.state:
        stmt = stmt.where(PaymentMilestone.state == MilestoneState(query.state))
    return paginate_all(stmt, query, lambda rows: [MilestoneOut.of(m) for m in rows])


# --- invoices ---------------------------------------------------------------------------------------------

class PaymentOut(BaseModel):
    paid_on: dt.date
    amount: Decimal
    reference: str | None


class InvoiceOut(BaseModel):
    id: int
    contract_id: int
    municipality: str = Field(description="the contract's municipality")
    supplier: SupplierRef
    milestone_id: int | None
    number: str
    amount: Decimal
    received_on: dt.date
    e_invoice_ref: str | None
    accepted_on: dt.date | None
    disputed_on: dt.date | None
    dispute_reason: str | None
    dispute_resolved_on: dt.date | None
    due_date: dt.date | None
    state: values_of(InvoiceState)
    paid_amount: Decimal
    outstanding: Decimal
    paid_on: dt.date | None = Field(description="the day the last payment completed it")
    days_to_pay: int | None
    days_late: int
    interest: Decimal = Field(description="statutory interest owed as of figures_as_of")
    compensation: Decimal = Field(description="the fixed compensation for recovery costs owed")
    figures_as_of: dt.date | None
    source: str = Field(description="manual | import")
    payments: list[PaymentOut]

    @classmethod
    def of(cls, i: Invoice) -> InvoiceOut:
        return cls(
            id=i.id, contract_id=i.contract_id, municipality=i.contract.municipality.code,
            supplier=SupplierRef.of(i.contract.supplier), milestone_id=i.milestone_id, number=i.number,
            amount=i.amount, received_on=i.received_on, e_invoice_ref=i.e_invoice_ref, accepted_on=i.accepted_on,
            disputed_on=i.disputed_on, dispute_reason=i.dispute_reason, dispute_resolved_on=i.dispute_resolved_on,
            due_date=i.due_date, state=i.state.value, paid_amount=i.paid_amount, outstanding=i.outstanding,
            paid_on=i.paid_on, days_to_pay=i.days_to_pay, days_late=i.days_late, interest=i.interest,
            compensation=i.compensation, figures_as_of=i.figures_as_of, source=i.source,
            payments=[PaymentOut(paid_on=p.paid_on, amount=p.amount, reference=p.reference) for p in i.payments],
        )


def _invoices_stmt():
    return select(Invoice).options(
        joinedload(Invoice.contract).options(*_CONTRACT_OPTIONS), lazyload(Invoice.supplier),
        lazyload(Invoice.milestone), selectinload(Invoice.payments).lazyload("*"))


class InvoiceQuery(PageQuery):
    municipality: str | None = Field(None, pattern=MUNICIPALITY_CODE, description="municipality code")
    contract: int | None = Field(None, ge=1, le=MAX_ID, description="contract id")
    supplier: int | None = Field(None, ge=1, le=MAX_ID, description="supplier id")
    status: values_of(InvoiceState) | None = Field(None, description="the invoice's state")
    late: bool | None = Field(None, description="true: late or paid late (days_late > 0); false: never late")
    received_from: dt.date | None = None
    received_to: dt.date | None = None


@operation(bp, "/invoices", summary="Invoices", tag="payments", query=InvoiceQuery, response=Page[InvoiceOut],
           auth="login")
def invoices(user, query: InvoiceQuery, body):
    """The invoices of the contracts the caller may see (see ``/contracts``), newest first: a logged-in
    user or token without any such contract gets an empty list, not 403."""
    stmt = (_invoices_stmt().where(Invoice.contract_id.in_(_visible_contract_ids(user)))
            .order_by(Invoice.received_on.desc(), Invoice.id.desc()))
    if query.municipality:
        stmt = stmt.where(Invoice.municipality_id == municipality_id(query.municipality))
    if query.contract:
        stmt = stmt.where(Invoice.contract_id == query.contract)
    if query.supplier:
        stmt = stmt.where(Invoice.supplier_id == query.supplier)
    if query.status:
        stmt = stmt.where(Invoice.state == InvoiceState(query.status))
    if query.late is not None:
        stmt = stmt.where((Invoice.days_late > 0) if query.late else (Invoice.days_late == 0))
    if query.received_from:
        stmt = stmt.where(Invoice.received_on >= query.received_from)
    if query.received_to:
        stmt = stmt.where(Invoice.received_on <= query.received_to)
    return paginate_all(stmt, query, lambda rows: [InvoiceOut.of(i) for i in rows])


@operation(bp, "/invoices/<int:invoice_id>", summary="One invoice with its payments", tag="payments",
           response=InvoiceOut, auth="login")
def invoice(user, query, body, invoice_id: int):
    found = payments.get_invoice(user, invoice_id)  # PermissionDenied (403) when the user may not see it
    if found is None:
        raise not_found(_("Invoice"))
    return InvoiceOut.of(found)
