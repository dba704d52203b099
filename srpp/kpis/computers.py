"""The computed indicators: one function per ``Indicator.computer`` name.

Every computer takes ``(period_start, period_end, municipality_id)`` (``None`` = the whole region) and
returns a :class:`Computed` — ``(value, numerator, denominator, details)`` — or ``None`` when it cannot
compute anything for that scope (the indicator then gets no row). ``details["records"]`` lists the
records the value came from as ``{"type": "lot", "id": 12, …}`` (types: tender, lot, framework,
contract, invoice, supplier, plan_item, payment_report), at most :data:`MAX_RECORDS` of them
(``details["records_total"]`` says how many there were).

Conventions:

- percentages are percentage points (0–100) with two decimals; money in euro with two decimals;
- a half-year that has not ended yet is measured up to today (deadlines, due months and opt-outs
  that have not come yet are left out);
- "published lots" are the lots of tenders published in the period that were not cancelled;
  "P1 lots" are the lots of published (not cancelled) tenders whose bid deadline fell in the period and
  has passed (or whose tender is already in evaluation or awarded);
- SEO = the supplier kinds of :data:`srpp.payments.figures.SEO_KINDS`; SME = any other supplier with
  fewer than :data:`SME_STAFF` staff (the directory's ``staff_count``).

Indicators whose data other areas of issue #8 keep (social assets, the data protocol) are computed by
a hook in that area — ``srpp.assets.services.kpi_assets_allocated`` / ``kpi_asset_utilisation`` /
``kpi_asset_cost`` and ``srpp.reporting.services.kpi_complete_submissions``, each with this module's
signature and return value (a ``Computed`` or a plain 4-tuple, or ``None``). Until a hook exists (or
while it returns ``None``) the computer returns ``None`` and the indicator simply has no value.
"""

from __future__ import annotations

import datetime as dt
import importlib
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from srpp.extensions import db

MAX_RECORDS = 200
SME_STAFF = 250
HUNDRED = Decimal(100)
CENT = Decimal("0.01")


class Computed(NamedTuple):
    value: Decimal | None
    numerator: Decimal | None = None
    denominator: Decimal | None = None
    details: dict[str, Any] | None = None


Computer = Callable[[dt.date, dt.date, int | None], Computed | None]
COMPUTERS: dict[str, Computer] = {}

#: computers that read other indicators' values: the recompute runs them after all the others
RUN_LAST = ("variance",)


def computer(name: str) -> Callable[[Computer], Computer]:
    def register(fn: Computer) -> Computer:
        if name in COMPUTERS:
            raise ValueError(f"indicator computer {name} registered twice")
        COMPUTERS[name] = fn
        return fn

    return register


# --- helpers -------------------------------------------------------------------------------------

_memo: ContextVar[dict[Any, Any] | None] = ContextVar("kpi_memo", default=None)


@contextmanager
def memoised() -> Iterator[None]:
    """Share the loaded lots, bids … between the computers of one recompute (same period, scope)."""
    token = _memo.set({})
    try:
        yield
    finally:
        _memo.reset(token)


def _cached(key: tuple, load: Callable[[], Any]) -> Any:
    memo = _memo.get()
    if memo is None:
        return load()
    if key not in memo:
        memo[key] = load()
    return memo[key]


def _tz() -> ZoneInfo:
    """The region's time zone: days (publication, registration) are counted in local time."""
    return ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "Europe/Vilnius")


def local_date(moment: dt.datetime) -> dt.date:
    return moment.astimezone(_tz()).date() if moment.tzinfo else moment.date()


def today() -> dt.date:
    return dt.datetime.now(_tz()).date()


def as_of(period_end: dt.date) -> dt.date:
    """The last day measured: the period's end, or today while the period runs."""
    return min(period_end, today())


def day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=_tz())


def day_after(day: dt.date) -> dt.datetime:
    return day_start(day + dt.timedelta(days=1))


def dec(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def pct(part: Any, whole: Any) -> Decimal | None:
    if not whole:
        return None
    return (dec(part) * HUNDRED / dec(whole)).quantize(CENT)


def mean(total: Any, count: Any) -> Decimal | None:
    if not count:
        return None
    return (dec(total) / dec(count)).quantize(CENT)


def median(values: list[Any]) -> Decimal | None:
    return dec(statistics.median(values)).quantize(CENT) if values else None


def records(kind: str, ids: list[Any]) -> dict[str, Any]:
    """``{"records": [...], "records_total": n}`` for ids of one kind (duplicates dropped, order kept)."""
    seen = list(dict.fromkeys(ids))
    return {"records": [{"type": kind, "id": i} for i in seen[:MAX_RECORDS]], "records_total": len(seen)}


def _seo_kinds() -> tuple[Any, ...]:
    from srpp.payments.figures import SEO_KINDS

    return SEO_KINDS


def is_seo(kind: Any) -> bool:
    return kind in _seo_kinds()


def is_sme_or_seo(kind: Any, staff: int | None) -> bool:
    return is_seo(kind) or (staff is not None and staff < SME_STAFF)


def _live_states() -> tuple[Any, ...]:
    from srpp.tenders.models import TenderState

    return (TenderState.PUBLISHED, TenderState.EVALUATION, TenderState.AWARDED)


# --- lots and bids -----------------------------------------------------------------------------------

@dataclass
class LotRow:
    id: int
    municipality_id: int
    state: Any
    winner_id: int | None
    award_value: Decimal | None
    bids: list[BidRow] = field(default_factory=list)


@dataclass
class BidRow:
    id: int
    supplier_id: int
    kind: Any
    staff: int | None
    compliant: bool
    is_winner: bool


def deadline_lots(start: dt.date, end: dt.date, municipality_id: int | None) -> list[LotRow]:
    """The P1 lots with their bids: lots of published (not cancelled) tenders whose bid deadline
    fell in the period and has passed (or the tender is already in evaluation or awarded)."""

    def load() -> list[LotRow]:
        from srpp.orgs.models import Supplier
        from srpp.tenders.models import Bid, Lot, Tender, TenderState

        closed = or_(Tender.submission_deadline <= today(),
                     Tender.state.in_((TenderState.EVALUATION, TenderState.AWARDED)))
        stmt = (select(Lot.id, Lot.municipality_id, Lot.state, Lot.winner_id, Lot.award_value)
                .join(Tender, Lot.tender_id == Tender.id)
                .where(Tender.state.in_(_live_states()), Tender.submission_deadline >= start,
                       Tender.submission_deadline <= end, closed)
                .order_by(Lot.id))
        if municipality_id is not None:
            stmt = stmt.where(Lot.municipality_id == municipality_id)
        lots = {row.id: LotRow(*row) for row in db.session.execute(stmt)}
        if lots:
            bids = (select(Bid.lot_id, Bid.id, Bid.supplier_id, Supplier.kind, Supplier.staff_count, Bid.compliant,
                           Bid.is_winner)
                    .join(Supplier, Supplier.id == Bid.supplier_id)
                    .where(Bid.lot_id.in_(stmt.with_only_columns(Lot.id).order_by(None)))
                    .order_by(Bid.id))
            for lot_id, *rest in db.session.execute(bids):
                lots[lot_id].bids.append(BidRow(*rest))
        return list(lots.values())

    return _cached(("deadline_lots", start, end, municipality_id), load)


@dataclass
class PublishedLot:
    id: int
    tender_id: int
    municipality_id: int
    tender_municipality_id: int
    value: Decimal
    reserved: bool
    simplified: bool
    rural: bool


def published_lots(start: dt.date, end: dt.date, municipality_id: int | None,
                   by_tender_municipality: bool = False) -> list[PublishedLot]:
    """Lots of the tenders published in the period (not cancelled). A municipality's lots are the lots
    it buys (``Lot.municipality_id``), or with ``by_tender_municipality`` the lots of the tenders it
    runs (the contracting authority, as LT-RES-02 counts them)."""

    def load() -> list[PublishedLot]:
        from srpp.orgs.models import Municipality, MunicipalityType
        from srpp.rules.models import Procedure, ReservationBasis
        from srpp.tenders.models import Lot, Tender

        districts = set(db.session.scalars(select(Municipality.id).where(
            Municipality.type == MunicipalityType.DISTRICT)))
        stmt = (select(Lot.id, Lot.tender_id, Lot.municipality_id, Tender.municipality_id, Lot.estimated_value,
                       Lot.reservation, Tender.procedure, Lot.is_rural, Lot.place_municipality_id)
                .join(Tender, Lot.tender_id == Tender.id)
                .where(Tender.state.in_(_live_states()), Tender.published_at >= day_start(start),
                       Tender.published_at < day_after(end))
                .order_by(Lot.id))
        if municipality_id is not None:
            column = Tender.municipality_id if by_tender_municipality else Lot.municipality_id
            stmt = stmt.where(column == municipality_id)
        out = []
        for lot_id, tender_id, muni, tender_muni, value, reservation, procedure, rural, place in db.session.execute(stmt):
            out.append(PublishedLot(
                lot_id, tender_id, muni, tender_muni, dec(value), reservation != ReservationBasis.NONE,
                procedure == Procedure.SIMPLIFIED, bool(rural) or (place or muni) in districts))
        return out

    return _cached(("published_lots", start, end, municipality_id, by_tender_municipality), load)


# --- 3.1 governance ----------------------------------------------------------------------------------

@computer("g1_frameworks")
def g1_frameworks(start: dt.date, end: dt.date, municipality_id: int | None) -> Computed:
    """G1: frameworks in force at the end of the period with ≥ 2 participating municipalities on
    that day; ``signed_in_period``: those that started in the period."""
    from srpp.frameworks.models import FrameworkAgreement, FrameworkState, ParticipantState

    day = as_of(end)
    frameworks = db.session.scalars(
        select(FrameworkAgreement).options(selectinload(FrameworkAgreement.participants))
        .where(FrameworkAgreement.state.in_((FrameworkState.ACTIVE, FrameworkState.EXPIRED,
                                            FrameworkState.TERMINATED)),
               FrameworkAgreement.start_date <= day)
        .order_by(FrameworkAgreement.id)).all()

    def present(p: Any) -> bool:
        if p.state != ParticipantState.WITHDRAWN:
            return True
        return p.withdrawn_on is not None and p.withdrawn_on > day

    in_force, signed = [], []
    for fa in frameworks:
        members = {p.municipality_id for p in fa.participants if present(p)}
        everyone = {p.municipality_id for p in fa.participants}
        mine = municipality_id is None or municipality_id in everyone or fa.municipality_id == municipality_id
        if not mine or len(everyone) < 2:
            continue
        if start <= fa.start_date <= day:
            signed.append(fa.id)
        current = (fa.state in (FrameworkState.ACTIVE, FrameworkState.EXPIRED) and fa.end_date >= day
                   and len(members) >= 2)
        if current and (municipality_id is None or municipality_id in members or fa.municipality_id == municipality_id):
            in_force.append(fa.id)
    details = records("framework", in_force)
    details.update(signed_in_period=len(signed), signed=signed[:MAX_RECORDS], as_of=day.isoformat())
    return Computed(Decimal(len(in_force)), Decimal(len(in_force)), None, details)


@computer("g2_on_time")
def g2_on_time(start: dt.date, end: dt.date, municipality_id: int | None) -> Computed:
    """G2: items of published plans planned to launch in the period whose tender was published by
    the end of the planned month (items whose month is not over yet count only once published)."""
    from dateutil.relativedelta import relativedelta

    from srpp.plans.models import ItemState, PlanItem, PlanState, PlanVersion
    from srpp.tenders.models import Tender, TenderPlanItem

    stmt = (select(PlanItem.id, PlanItem.uid, PlanItem.launch_month, PlanItem.plan_version_id)
            .join(PlanVersion, PlanItem.plan_version_id == PlanVersion.id)
            .where(PlanVersion.state == PlanState.PUBLISHED, PlanItem.state != ItemState.CANCELLED,
                   PlanItem.launch_month >= start.replace(day=1), PlanItem.launch_month <= end)
            .order_by(PlanItem.launch_month, PlanItem.id))
    if municipality_id is not None:
        stmt = stmt.where(PlanItem.municipality_id == municipality_id)
    items: dict[str, Any] = {}
    for row in db.session.execute(stmt):
        items.setdefault(row.uid, row)
    published: dict[str, tuple[int, dt.datetime]] = {}
    if items:
        for uid, tender_id, at in db.session.execute(
                select(TenderPlanItem.item_uid, Tender.id, Tender.published_at)
                .join(Tender, TenderPlanItem.tender_id == Tender.id)
                .where(TenderPlanItem.item_uid.in_(list(items)), Tender.published_at.is_not(None))):
            published[uid] = (tender_id, at)
    due = on_time = 0
    recs = []
    now = today()
    for uid, item in items.items():
        month_end = item.launch_month + relativedelta(months=1) - dt.timedelta(days=1)
        tender = published.get(uid)
        if month_end >= now and tender is None:
            continue  # the planned month is not over and nothing is published yet
        due += 1
        ok = tender is not None and local_date(tender[1]) <= month_end
        on_time += ok
        rec = {"type": "plan_item", "id": item.id, "version": item.plan_version_id, "on_time": ok}
        if tender is not None:
            rec["tender"] = tender[0]
        recs.append(rec)
    details = {"records": recs[:MAX_RECORDS], "records_total": len(recs), "late": due - on_time}
    return Computed(pct(on_time, due), Decimal(on_time), Decimal(due), details)


# --- 3.2 finance ------------------------------------------------------------------------------------

def _paid_invoices(start: dt.date, end: dt.date, municipality_id: int | None):
    from srpp.payments.models import Invoice

    stmt = select(Invoice.id).where(Invoice.paid_on.is_not(None), Invoice.paid_on >= start, Invoice.paid_on <= end)
    if municipality_id is not None:
        stmt = stmt.where(Invoice.municipality_id == municipality_id)
    return stmt


@computer("f1_days_to_pay")
def f1_days_to_pay(start: dt.date, end: dt.date, municipality_id: int | None) -> Computed:
    """F1: the average days to pay of the invoices paid in the period (srpp.payments.figures)."""
    from srpp.payments import figures
    from srpp.payments.models import Invoice

    f = figures.compute(start, end, municipality_id)
    paid = _paid_invoices(start, end, municipality_id)
    total_days = db.session.scalar(select(func.coalesce(func.sum(Invoice.days_to_pay), 0))
                                   .where(Invoice.id.in_(paid))) or 0
    ids = list(db.session.scalars(paid.order_by(Invoice.paid_on, Invoice.id).limit(MAX_RECORDS)))
    details = {"records": [{"type": "invoice", "id": i} for i in ids], "records_total": f.paid_count,
               "median_days": f.median_days, "p90_days": f.p90_days, "within_30": f.within_30,
               "share_within_30": pct(f.within_30, f.paid_count), "late_count": f.late_count,
               "interest": f.interest, "compensation": f.compensation}
    return Computed(f.avg_days, dec(total_days) if f.paid_count else None, Decimal(f.paid_count), details)


@computer("f1_within_term")
def f1_within_term(start: dt.date, end: dt.date, municipality_id: int | None) -> Computed:
    """Of the invoices paid in the period, the share paid by their due date."""
    from srpp.payments.models import Invoice, InvoiceState

    paid = _paid_invoices(start, end, municipality_id)
    rows = db.session.execute(select(Invoice.id, Invoice.state).where(Invoice.id.in_(paid))
                              .order_by(Invoice.paid_on, Invoice.id)).all()
    on_time = [i for i, state in rows if state == InvoiceState.PAID]
    late = [i for i, state in rows if state != InvoiceState.PAID]
    details = records("invoice", late + on_time)
    details["late"] = len(late)
    return Computed(pct(len(on_time), len(rows)), Decimal(len(on_time)), Decimal(len(rows)), details)


@computer("burn_rate")
def burn_rate(start: dt.date, end: dt.date, municipality_id: int | None) -> Computed:
    """Contracts running in the period with a payment schedule: paid to date ÷ scheduled to date."""
    from srpp.contracts.models import Contract, MilestoneState, PaymentMilestone
    from srpp.payments.models import Invoice, Payment

    day = as_of(end)
    running = select(Contract.id).where(Contract.start_date <= end, Contract.end_date >= start)
    if municipality_id is not None:
        running = running.where(Contract.municipality_id == municipality_id)
    planned = dict(db.session.execute(
        select(PaymentMilestone.contract_id, func.sum(PaymentMilestone.amount))
        .where(PaymentMilestone.contract_id.in_(running), PaymentMilestone.planned_date.is_not(None),
               PaymentMilestone.planned_date <= day, PaymentMilestone.state != MilestoneState.CANCELLED)
        .group_by(PaymentMilestone.contract_id)).all())
    paid: dict[int, Any] = {}
    if planned:
        paid = dict(db.session.execute(
            select(Invoice.contract_id, func.sum(Payment.amount)).join(Payment, Payment.invoice_id == Invoice.id)
            .where(Invoice.contract_id.in_(list(planned)), Payment.paid_on <= day)
            .group_by(Invoice.contract_id)).all())
    plan_total = sum((dec(v) for v in planned.values()), Decimal(0))
    paid_total = sum((dec(v) for v in paid.values()), Decimal(0))
    details = records("contract", sorted(planned))
    details.update(as_of=day.isoformat(), planned=plan_total.quantize(CENT), paid=paid_total.quantize(CENT))
    return Computed(pct(paid_total, plan_total), paid_total.quantize(CENT), plan_total.quantize(CENT), details)


@computer("stoppages")
def stoppages(start: dt.date, end: dt.date, municipality_id: int | None) -> Computed:
    """Work stoppages that began in the period (as srpp.payments.figures counts them)."""
    from srpp.contracts.models import Contract, WorkStoppage

    stmt = (select(WorkStoppage.id, WorkStoppage.contract_id).join(Contract, WorkStoppage.contract_id == Contract.id)
            .where(WorkStoppage.started_on >= start, WorkStoppage.started_on <= end).order_by(WorkStoppage.started_on))
    if municipality_id is not None:
        stmt = stmt.where(Contract.municipality_id == municipality_id)
    rows = db.session.execute(stmt).all()
    details = records("contract", [contract for _, contract in rows])
    details["stoppages"] = [s for s, _ in rows][:MAX_RECORDS]
    return Computed(Decimal(len(rows)), Decimal(len(rows)), None, details)


# --- 3.4 procurement ---------------------------------------------------------------------------------

@computer("p1_bids_per_lot")
def p1_bids_per_lot(start: dt.date, end: dt.date, municipality_id: int | None) -> Computed:
    lots = deadline_lots(start, end, municipality_id)
    counts = [len(lot.bids) for lot in lots]
    details = records("lot", [lot.id for lot in lots])
    details.update(median=median(counts), zero_bid_lots=counts.count(0), share_zero_bid=pct(counts.count(0), len(lots)))
    return Computed(mean(sum(counts), len(lots)), Decimal(sum(counts)), Decimal(len(lots)), details)


@computer("p1_single_bid")
def p1_single_bid(start: dt.date, end: dt.date, municipality_id: int | None) -> Computed:
    lots = deadline_lots(start, end, municipality_id)
    single = [lot.id for lot in lots if len(lot.bids) == 1]
    return Computed(pct(len(single), len(lots)), Decimal(len(single)), Decimal(len(lots)), records("lot", single))


@computer("p2_sme_seo_share")
def p2_sme_seo_share(start: dt.date, end: dt.date, municipality_id: int | None) -> Computed:
    lots = deadline_lots(start, end, municipality_id)
    bids = [b for lot in lots for b in lot.bids]
    small = [b for b in bids if is_sme_or_seo(b.kind, b.staff)]
    seo_bids = [b for b in bids if is_seo(b.kind)]
    with_seo = [lot.id for lot in lots if any(is_seo(b.kind) for b in lot.bids)]
    details = records("lot", [lot.id for lot in lots])
    details.update(seo_bids=len(seo_bids), sme_bids=len(small) - len(seo_bids), lots_with_seo_bid=len(with_seo),
                   share_lots_with_seo_bid=pct(len(with_seo), len(lots)))
    return Computed(pct(len(small), len(bids)), Decimal(len(small)), Decimal(len(bids)), details)


@computer("p3_seo_win_rate")
def p3_seo_win_rate(start: dt.date, end: dt.date, municipality_id: int | None) -> Computed:
    """Decided P1 lots with an SEO bid: the share an SEO won; with the win-to-participation ratio."""
    from srpp.tenders.models import LotState

    decided = [lot for lot in deadline_lots(start, end, municipality_id) if lot.state != LotState.OPEN]
    contested = [lot for lot in decided if any(is_seo(b.kind) for b in lot.bids)]
    won = [lot for lot in contested if lot.state == LotState.AWARDED
           and any(b.is_winner and is_seo(b.kind) for b in lot.bids)]
    seo_bids = [b for lot in decided for b in lot.bids if is_seo(b.kind)]
    seo_wins = [b for b in seo_bids if b.is_winner]
    details = records("lot", [lot.id for lot in contested])
    details.update(won=[lot.id for lot in won][:MAX_RECORDS], seo_bids=len(seo_bids), seo_winning_bids=len(seo_wins),
                   win_to_participation=pct(len(seo_wins), len(seo_bids)))
    return Computed(pct(len(won), len(contested)), Decimal(len(won)), Decimal(len(contested)), details)


@computer("bidder_diversity")
def bidder_diversity(start: dt.date, end: dt.date, municipality_id: int | None) -> Computed:
    lots = deadline_lots(start, end, municipality_id)
    bidders = {b.supplier_id for lot in lots for b in lot.bids}
    awarded: dict[int, Decimal] = defaultdict(Decimal)
    for lot in lots:
        if lot.winner_id is not None and lot.award_value is not None:
            awarded[lot.winner_id] += dec(lot.award_value)
    total = sum(awarded.values(), Decimal(0))
    top3 = sum(sorted(awarded.values(), reverse=True)[:3], Decimal(0))
    details = records("supplier", sorted(bidders))
    details.update(lots=len(lots), top3_share=pct(top3, total),
                   mean_bidders_per_lot=mean(sum(len({b.supplier_id for b in lot.bids}) for lot in lots), len(lots)))
    return Computed(Decimal(len(bidders)), Decimal(len(bidders)), None, details)


@computer("bid_error_rate")
def bid_error_rate(start: dt.date, end: dt.date, municipality_id: int | None) -> Computed:
    lots = deadline_lots(start, end, municipality_id)
    bids = [(lot.id, b) for lot in lots for b in lot.bids]
    wrong = [lot_id for lot_id, b in bids if not b.compliant]
    return Computed(pct(len(wrong), len(bids)), Decimal(len(wrong)), Decimal(len(bids)), records("lot", wrong))


@computer("reserved_lots")
def reserved_lots(start: dt.date, end: dt.date, municipality_id: int | None) -> Computed:
    lots = [lot for lot in published_lots(start, end, municipality_id) if lot.reserved]
    details = records("lot", [lot.id for lot in lots])
    details["value"] = sum((lot.value for lot in lots), Decimal(0)).quantize(CENT)
    return Computed(Decimal(len(lots)), Decimal(len(lots)), None, details)


@computer("reserved_value")
def reserved_value(start: dt.date, end: dt.date, municipality_id: int | None) -> Computed:
    lots = [lot for lot in published_lots(start, end, municipality_id) if lot.reserved]
    total = sum((lot.value for lot in lots), Decimal(0)).quantize(CENT)
    details = records("lot", [lot.id for lot in lots])
    details["lots"] = len(lots)
    return Computed(total, total, None, details)


@computer("reserved_share")
def reserved_share(start: dt.date, end: dt.date, municipality_id: int | None) -> Computed:
    """LT-RES-02 in practice, per half-year: reserved lot value ÷ simplified-procedure lot value of the
    tenders published in the period (by contracting municipality), as srpp.region.services counts it."""
    from srpp.core import settings

    lots = published_lots(start, end, municipality_id, by_tender_municipality=True)
    reserved = sum((lot.value for lot in lots if lot.reserved), Decimal(0)).quantize(CENT)
    simplified = sum((lot.value for lot in lots if lot.simplified), Decimal(0)).quantize(CENT)
    details = records("lot", [lot.id for lot in lots if lot.reserved])
    details.update(minimum=(dec(settings.get("plans.reserved_min_share")) * HUNDRED).quantize(CENT),
                   tenders=sorted({lot.tender_id for lot in lots})[:MAX_RECORDS])
    return Computed(pct(reserved, simplified), reserved, simplified, details)


@computer("avg_lot_size")
def avg_lot_size(start: dt.date, end: dt.date, municipality_id: int | None) -> Computed:
    lots = published_lots(start, end, municipality_id)
    total = sum((lot.value for lot in lots), Decimal(0))
    details = records("lot", [lot.id for lot in lots])
    details["median"] = median([lot.value for lot in lots])
    return Computed(mean(total, len(lots)), total.quantize(CENT), Decimal(len(lots)), details)


@computer("rural_share")
def rural_share(start: dt.date, end: dt.date, municipality_id: int | None) -> Computed:
    lots = published_lots(start, end, municipality_id)
    rural = [lot for lot in lots if lot.rural]
    part = sum((lot.value for lot in rural), Decimal(0)).quantize(CENT)
    whole = sum((lot.value for lot in lots), Decimal(0)).quantize(CENT)
    details = records("lot", [lot.id for lot in rural])
    details["lots"] = len(lots)
    return Computed(pct(part, whole), part, whole, details)


@computer("optouts_on_time")
def optouts_on_time(start: dt.date, end: dt.date, municipality_id: int | None) -> Computed:
    """Opt-outs due to take effect in the period (up to today): carried out on or before that day."""
    from srpp.frameworks.models import FrameworkParticipant, ParticipantState

    stmt = (select(FrameworkParticipant.framework_id, FrameworkParticipant.opt_out_effective_on,
                   FrameworkParticipant.withdrawn_on)
            .where(FrameworkParticipant.state != ParticipantState.ACTIVE,
                   FrameworkParticipant.opt_out_effective_on >= start,
                   FrameworkParticipant.opt_out_effective_on <= as_of(end))
            .order_by(FrameworkParticipant.opt_out_effective_on, FrameworkParticipant.id))
    if municipality_id is not None:
        stmt = stmt.where(FrameworkParticipant.municipality_id == municipality_id)
    rows = db.session.execute(stmt).all()
    on_time = [r for r in rows if r.withdrawn_on is not None and r.withdrawn_on <= r.opt_out_effective_on]
    details = records("framework", [r.framework_id for r in rows])
    details["late"] = len(rows) - len(on_time)
    return Computed(pct(len(on_time), len(rows)), Decimal(len(on_time)), Decimal(len(rows)), details)


# --- contracts and suppliers ------------------------------------------------------------------------

@computer("x3_srpp_value")
def x3_srpp_value(start: dt.date, end: dt.date, municipality_id: int | None) -> Computed:
    """Value at signature of the contracts signed in the period that come from a lot of an SRPP
    tender or from a framework call-off."""
    from srpp.contracts.models import Contract
    from srpp.tenders.models import Lot, Tender

    srpp_lots = select(Lot.id).join(Tender, Lot.tender_id == Tender.id).where(Tender.is_srpp.is_(True))
    stmt = (select(Contract.id, func.coalesce(Contract.initial_value, Contract.value))
            .where(Contract.awarded_on >= start, Contract.awarded_on <= end,
                   or_(Contract.call_off_id.is_not(None), Contract.lot_id.in_(srpp_lots)))
            .order_by(Contract.awarded_on, Contract.id))
    if municipality_id is not None:
        stmt = stmt.where(Contract.municipality_id == municipality_id)
    rows = db.session.execute(stmt).all()
    total = sum((dec(v) for _, v in rows), Decimal(0)).quantize(CENT)
    details = records("contract", [i for i, _ in rows])
    details["contracts"] = len(rows)
    return Computed(total, total, None, details)


@computer("activation_days")
def activation_days(start: dt.date, end: dt.date, municipality_id: int | None) -> Computed:
    from srpp.contracts.models import Contract

    stmt = (select(Contract.id, Contract.awarded_on, Contract.start_date)
            .where(Contract.awarded_on >= start, Contract.awarded_on <= end).order_by(Contract.awarded_on, Contract.id))
    if municipality_id is not None:
        stmt = stmt.where(Contract.municipality_id == municipality_id)
    rows = db.session.execute(stmt).all()
    days = [max(0, (s - a).days) for _, a, s in rows]
    details = records("contract", [i for i, _, _ in rows])
    details["median"] = median(days)
    return Computed(mean(sum(days), len(days)), Decimal(sum(days)), Decimal(len(days)), details)


RENEWAL_BEFORE_DAYS = 180
RENEWAL_AFTER_DAYS = 90


@computer("renewed")
def renewed(start: dt.date, end: dt.date, municipality_id: int | None) -> Computed:
    """Contracts ending in the period (not terminated) followed by a new contract of the same
    municipality, supplier and CPV class (5 digits) signed 180 days before to 90 days after the end."""
    from srpp.contracts.models import Contract, ContractState

    stmt = (select(Contract.id, Contract.municipality_id, Contract.supplier_id, Contract.main_cpv, Contract.start_date,
                   Contract.end_date)
            .where(Contract.end_date >= start, Contract.end_date <= as_of(end),
                   Contract.state != ContractState.TERMINATED)
            .order_by(Contract.end_date, Contract.id))
    if municipality_id is not None:
        stmt = stmt.where(Contract.municipality_id == municipality_id)
    ending = db.session.execute(stmt).all()
    successors: dict[tuple[int, int], list[Any]] = defaultdict(list)
    if ending:
        pairs = {(c.municipality_id, c.supplier_id) for c in ending}
        for row in db.session.execute(
                select(Contract.id, Contract.municipality_id, Contract.supplier_id, Contract.main_cpv,
                       Contract.awarded_on, Contract.start_date)
                .where(Contract.supplier_id.in_({s for _, s in pairs}))):
            if (row.municipality_id, row.supplier_id) in pairs:
                successors[(row.municipality_id, row.supplier_id)].append(row)
    renewals: dict[int, int] = {}
    for c in ending:
        lo = c.end_date - dt.timedelta(days=RENEWAL_BEFORE_DAYS)
        hi = c.end_date + dt.timedelta(days=RENEWAL_AFTER_DAYS)
        for s in successors[(c.municipality_id, c.supplier_id)]:
            if (s.id != c.id and s.main_cpv[:5] == c.main_cpv[:5] and lo <= s.awarded_on <= hi
                    and s.start_date > c.start_date):
                renewals[c.id] = s.id
                break
    details = records("contract", [c.id for c in ending])
    details["renewed_by"] = {str(k): v for k, v in list(renewals.items())[:MAX_RECORDS]}
    return Computed(pct(len(renewals), len(ending)), Decimal(len(renewals)), Decimal(len(ending)), details)


@computer("x1_seos")
def x1_seos(start: dt.date, end: dt.date, municipality_id: int | None) -> Computed:
    """SEO-kind organisations known at the end of the period: registered in the directory by then,
    or holding a verified status (verified or since expired) valid from a day by then; for a
    municipality, those that work there. ``new_in_period``: known from a day in the period."""
    from srpp.orgs.models import Municipality, Supplier
    from srpp.suppliers.models import StatusState, SupplierStatus

    stmt = select(Supplier.id, Supplier.created_at).where(Supplier.kind.in_(_seo_kinds())).order_by(Supplier.id)
    if municipality_id is not None:
        stmt = stmt.where(Supplier.municipalities.any(Municipality.id == municipality_id))
    rows = db.session.execute(stmt).all()
    status_from = dict(db.session.execute(
        select(SupplierStatus.supplier_id, func.min(SupplierStatus.valid_from))
        .where(SupplierStatus.state.in_((StatusState.VERIFIED, StatusState.EXPIRED)),
               SupplierStatus.supplier_id.in_(stmt.with_only_columns(Supplier.id).order_by(None)))
        .group_by(SupplierStatus.supplier_id)).all())
    known = []
    new = 0
    for supplier_id, created in rows:
        since = min(d for d in (local_date(created) if created else None, status_from.get(supplier_id))
                    if d is not None)
        if since <= end:
            known.append(supplier_id)
            new += since >= start
    details = records("supplier", known)
    details["new_in_period"] = new
    return Computed(Decimal(len(known)), Decimal(len(known)), None, details)


@computer("new_seo")
def new_seo(start: dt.date, end: dt.date, municipality_id: int | None) -> Computed:
    """SEO-kind organisations whose first bid ever (dated by the tender's bid deadline, else by when
    the bid was recorded) falls in the period; a municipality counts those whose first bid was on its lot."""
    from srpp.orgs.models import Supplier
    from srpp.tenders.models import Bid, Lot, Tender

    def load() -> dict[int, tuple[dt.date, set[int]]]:
        first: dict[int, tuple[dt.date, set[int]]] = {}
        rows = db.session.execute(
            select(Bid.supplier_id, Lot.municipality_id, Tender.submission_deadline, Bid.created_at)
            .join(Lot, Bid.lot_id == Lot.id).join(Tender, Lot.tender_id == Tender.id)
            .join(Supplier, Supplier.id == Bid.supplier_id).where(Supplier.kind.in_(_seo_kinds())))
        for supplier_id, muni, deadline, created in rows:
            day = deadline or local_date(created)
            known = first.get(supplier_id)
            if known is None or day < known[0]:
                first[supplier_id] = (day, {muni})
            elif day == known[0]:
                known[1].add(muni)
        return first

    first = _cached(("seo_first_bids",), load)
    new = sorted(s for s, (day, munis) in first.items()
                 if start <= day <= end and (municipality_id is None or municipality_id in munis))
    return Computed(Decimal(len(new)), Decimal(len(new)), None, records("supplier", new))


@computer("report_timeliness")
def report_timeliness(start: dt.date, end: dt.date, municipality_id: int | None) -> Computed:
    """Days from the end of the half-year to the publication of its payment compliance report."""
    from srpp.payments.models import PaymentReport

    stmt = select(PaymentReport.id, PaymentReport.period_end, PaymentReport.published_at).where(
        PaymentReport.period_start == start).order_by(PaymentReport.id)
    if municipality_id is not None:
        stmt = stmt.where(PaymentReport.municipality_id == municipality_id)
    rows = db.session.execute(stmt).all()
    published = [(i, max(0, (local_date(at) - pend).days)) for i, pend, at in rows if at is not None]
    days = [d for _, d in published]
    details = records("payment_report", [i for i, _ in published])
    details["unpublished"] = len(rows) - len(published)
    return Computed(mean(sum(days), len(days)), Decimal(sum(days)), Decimal(len(days)), details)


@computer("variance")
def variance(start: dt.date, end: dt.date, municipality_id: int | None) -> Computed | None:
    """Region only: the mean coefficient of variation (population standard deviation ÷ |mean| × 100)
    of the computed indicators' municipality values for the period (run after them)."""
    if municipality_id is not None:
        return None
    from srpp.kpis.models import Indicator, IndicatorSource, IndicatorValue

    rows = db.session.execute(
        select(Indicator.code, IndicatorValue.value).join(Indicator, IndicatorValue.indicator_id == Indicator.id)
        .where(IndicatorValue.period_start == start, IndicatorValue.scope_key != "region",
               IndicatorValue.value.is_not(None), Indicator.source == IndicatorSource.COMPUTED,
               Indicator.computer.not_in(RUN_LAST))).all()
    by_code: dict[str, list[Decimal]] = defaultdict(list)
    for code, value in rows:
        by_code[code].append(dec(value))
    cvs: dict[str, Decimal] = {}
    for code, values in sorted(by_code.items()):
        avg = sum(values, Decimal(0)) / len(values)
        if len(values) >= 2 and avg != 0:
            cvs[code] = (dec(statistics.pstdev(values)) / abs(avg) * HUNDRED).quantize(CENT)
    value = mean(sum(cvs.values(), Decimal(0)), len(cvs))
    return Computed(value, None, Decimal(len(cvs)), {"records": [], "records_total": 0, "by_indicator": cvs})


# --- hooks into the other areas of issue #8 ------------------------------------------------------------

def delegate(module: str, name: str, start: dt.date, end: dt.date, municipality_id: int | None) -> Computed | None:
    """Call ``module.name(start, end, municipality_id)`` when that area provides it; ``None`` otherwise."""
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as err:
        if err.name != module:
            raise
        return None
    fn = getattr(mod, name, None)
    if fn is None:
        return None
    out = fn(start, end, municipality_id)
    return None if out is None else Computed(*out)


@computer("assets_allocated")
def assets_allocated(start: dt.date, end: dt.date, municipality_id: int | None) -> Computed | None:
    """Panauda agreements signed (cumulative): srpp.assets.services.kpi_assets_allocated."""
    return delegate("srpp.assets.services", "kpi_assets_allocated", start, end, municipality_id)


@computer("asset_utilisation")
def asset_utilisation(start: dt.date, end: dt.date, municipality_id: int | None) -> Computed | None:
    """Hours (days) used ÷ available: srpp.assets.services.kpi_asset_utilisation."""
    return delegate("srpp.assets.services", "kpi_asset_utilisation", start, end, municipality_id)


@computer("asset_cost")
def asset_cost(start: dt.date, end: dt.date, municipality_id: int | None) -> Computed | None:
    """Running cost ÷ unique beneficiaries: srpp.assets.services.kpi_asset_cost."""
    return delegate("srpp.assets.services", "kpi_asset_cost", start, end, municipality_id)


@computer("complete_submissions")
def complete_submissions(start: dt.date, end: dt.date, municipality_id: int | None) -> Computed | None:
    """Complete data-protocol submissions ÷ due: srpp.reporting.services.kpi_complete_submissions."""
    return delegate("srpp.reporting.services", "kpi_complete_submissions", start, end, municipality_id)

