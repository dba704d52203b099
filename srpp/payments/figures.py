"""The council's payment figures for a half-year, computed by the database (SQL aggregates over the
invoices' stored figures, never a loop over invoices), modelled on the UK payment compliance notice:

- average, median and 90th percentile of the days to pay (day 1 = the day after receipt) of the
  invoices paid in the period;
- the share of those paid in 1–30, 31–60 and 61+ days;
- the share of the sums that fell due in the period but were not paid in it (an invoice in dispute
  has not fallen due: its clock stands still);
- the statutory interest and the fixed compensation owed on invoices due in the period;
- the work stoppages that began in the period.

The figures are cached per generation of ``CACHE_NS`` (``srpp.core.cache.memo``), which any change to
an invoice, payment, contract, work stoppage or supplier bumps (``srpp/models.py``): a past half-year is
computed once, not on every dashboard view."""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, and_, case, func, or_, select

from srpp.contracts.models import Contract, WorkStoppage
from srpp.core import cache
from srpp.core.db import is_postgres
from srpp.extensions import db
from srpp.orgs.models import Supplier, SupplierKind
from srpp.payments.models import Invoice, InvoiceState

#: "social economy organisations" for the supplier-type filter; the rest is "other"
SEO_KINDS = (SupplierKind.SEO, SupplierKind.NGO, SupplierKind.WISE, SupplierKind.COOPERATIVE)
SUPPLIER_TYPES = ("all", "seo", "other")
CACHE_NS = "payments"
CACHE_TTL = 3600  # seconds; a change bumps the generation at once, this only bounds the cache's size


@dataclass
class Figures:
    period_start: dt.date
    period_end: dt.date
    municipality_id: int | None = None
    paid_count: int = 0
    avg_days: Decimal | None = None
    median_days: Decimal | None = None
    p90_days: Decimal | None = None
    within_30: int = 0
    within_60: int = 0
    over_60: int = 0
    due_sum: Decimal = Decimal("0.00")
    unpaid_due_sum: Decimal = Decimal("0.00")
    interest: Decimal = Decimal("0.00")
    compensation: Decimal = Decimal("0.00")
    late_count: int = 0
    stoppages: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def share(self, part: int) -> Decimal | None:
        return (Decimal(part) / self.paid_count).quantize(Decimal("0.0001")) if self.paid_count else None

    @property
    def share_30(self) -> Decimal | None:
        return self.share(self.within_30)

    @property
    def share_60(self) -> Decimal | None:
        return self.share(self.within_60)

    @property
    def share_over_60(self) -> Decimal | None:
        return self.share(self.over_60)

    @property
    def unpaid_share(self) -> Decimal | None:
        if not self.due_sum:
            return None
        return (self.unpaid_due_sum / self.due_sum).quantize(Decimal("0.0001"))

    @property
    def liability(self) -> Decimal:
        return self.interest + self.compensation

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        for key, value in list(out.items()):
            if isinstance(value, Decimal):
                out[key] = str(value)
            elif isinstance(value, dt.date):
                out[key] = value.isoformat()
        out.update(share_30=_s(self.share_30), share_60=_s(self.share_60), share_over_60=_s(self.share_over_60),
                   unpaid_share=_s(self.unpaid_share))
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Figures:
        """The inverse of ``as_json`` (the cached form)."""
        def dec(value: str | None) -> Decimal | None:
            return None if value is None else Decimal(value)

        return cls(
            period_start=dt.date.fromisoformat(data["period_start"]), period_end=dt.date.fromisoformat(data["period_end"]),
            municipality_id=data["municipality_id"], paid_count=data["paid_count"], avg_days=dec(data["avg_days"]),
            median_days=dec(data["median_days"]), p90_days=dec(data["p90_days"]), within_30=data["within_30"],
            within_60=data["within_60"], over_60=data["over_60"], due_sum=Decimal(data["due_sum"]),
            unpaid_due_sum=Decimal(data["unpaid_due_sum"]), interest=Decimal(data["interest"]),
            compensation=Decimal(data["compensation"]), late_count=data["late_count"], stoppages=data["stoppages"],
            extra=data["extra"])


def _s(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _filtered(stmt: Select, municipality_id: int | None, supplier_type: str) -> Select:
    if municipality_id is not None:
        stmt = stmt.where(Invoice.municipality_id == municipality_id)
    if supplier_type in ("seo", "other"):
        stmt = stmt.join(Supplier, Supplier.id == Invoice.supplier_id)
        kinds = [k.value for k in SEO_KINDS]
        stmt = stmt.where(Supplier.kind.in_(kinds) if supplier_type == "seo" else Supplier.kind.not_in(kinds))
    return stmt


def _dec(value: Any, places: str = "0.1") -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal(places))


def compute(period_start: dt.date, period_end: dt.date, municipality_id: int | None = None,
            supplier_type: str = "all", by_municipality: bool = False) -> list[Figures] | Figures:
    """The figures of one half-year for the region (or one municipality); with ``by_municipality``,
    one ``Figures`` per municipality (grouped in the same statements). Cached (see the module)."""
    parts = f"{period_start}|{period_end}|{municipality_id}|{supplier_type}|{by_municipality}"
    found = cache.memo(CACHE_NS, parts, lambda: _as_json(_compute(
        period_start, period_end, municipality_id, supplier_type, by_municipality)), ttl=CACHE_TTL)
    if by_municipality:
        return [Figures.from_json(f) for f in found]
    return Figures.from_json(found)


def _as_json(figures: list[Figures] | Figures) -> list[dict[str, Any]] | dict[str, Any]:
    return [f.as_json() for f in figures] if isinstance(figures, list) else figures.as_json()


def _compute(period_start: dt.date, period_end: dt.date, municipality_id: int | None,
             supplier_type: str, by_municipality: bool) -> list[Figures] | Figures:
    group = [Invoice.municipality_id] if by_municipality else []
    paid = and_(Invoice.paid_on.is_not(None), Invoice.paid_on >= period_start, Invoice.paid_on <= period_end)
    # a disputed invoice's clock stands still: it has not fallen due while the dispute lasts
    due = and_(Invoice.due_date >= period_start, Invoice.due_date <= period_end,
               Invoice.state != InvoiceState.DISPUTED)
    days = Invoice.days_to_pay
    cols = [
        func.count().filter(paid).label("paid_count") if is_postgres() else func.sum(case((paid, 1), else_=0)),
        func.avg(case((paid, days))),
        func.sum(case((and_(paid, days <= 30), 1), else_=0)),
        func.sum(case((and_(paid, days > 30, days <= 60), 1), else_=0)),
        func.sum(case((and_(paid, days > 60), 1), else_=0)),
        func.coalesce(func.sum(case((due, Invoice.amount), else_=0)), 0),
        func.coalesce(func.sum(case((and_(due, or_(Invoice.paid_on.is_(None), Invoice.paid_on > period_end)),
                                     Invoice.amount - case((Invoice.paid_on.is_(None), Invoice.paid_amount),
                                                           else_=0)), else_=0)), 0),
        func.coalesce(func.sum(case((due, Invoice.interest), else_=0)), 0),
        func.coalesce(func.sum(case((due, Invoice.compensation), else_=0)), 0),
        func.sum(case((and_(due, Invoice.days_late > 0), 1), else_=0)),
    ]
    if is_postgres():
        cols += [func.percentile_cont(0.5).within_group(days).filter(paid),
                 func.percentile_cont(0.9).within_group(days).filter(paid)]
    stmt = _filtered(select(*group, *cols).where(or_(paid, due)), municipality_id, supplier_type)
    if group:
        stmt = stmt.group_by(*group)
    results: dict[int | None, Figures] = {}
    for row in db.session.execute(stmt):
        key = row[0] if group else None
        v = row[1:] if group else row
        f = Figures(period_start, period_end, key if group else municipality_id, paid_count=int(v[0] or 0),
                    avg_days=_dec(v[1]), within_30=int(v[2] or 0), within_60=int(v[3] or 0), over_60=int(v[4] or 0),
                    due_sum=Decimal(v[5]).quantize(Decimal("0.01")),
                    unpaid_due_sum=Decimal(v[6]).quantize(Decimal("0.01")),
                    interest=Decimal(v[7]).quantize(Decimal("0.01")),
                    compensation=Decimal(v[8]).quantize(Decimal("0.01")), late_count=int(v[9] or 0))
        if is_postgres():
            f.median_days, f.p90_days = _dec(v[10]), _dec(v[11])
        results[key] = f
    if not is_postgres():
        _percentiles_in_python(results, period_start, period_end, municipality_id, supplier_type, by_municipality)
    _stoppages(results, period_start, period_end, municipality_id, supplier_type, by_municipality)
    if by_municipality:
        return list(results.values())
    return results.get(None) or Figures(period_start, period_end, municipality_id)


def _percentiles_in_python(results, start, end, municipality_id, supplier_type, by_municipality) -> None:
    """SQLite has no percentile aggregate (the embedded default only; PostgreSQL computes them)."""
    stmt = _filtered(select(Invoice.municipality_id, Invoice.days_to_pay).where(
        Invoice.paid_on.is_not(None), Invoice.paid_on >= start, Invoice.paid_on <= end), municipality_id, supplier_type)
    values: dict[int | None, list[int]] = {}
    for muni, days in db.session.execute(stmt):
        values.setdefault(muni if by_municipality else None, []).append(days)
    for key, days in values.items():
        if key in results and days:
            results[key].median_days = _dec(statistics.median(days))
            results[key].p90_days = _dec(_percentile(sorted(days), 0.9))


def _percentile(ordered: list[int], q: float) -> float:
    """Linear interpolation, as PostgreSQL's percentile_cont."""
    if len(ordered) == 1:
        return float(ordered[0])
    pos = (len(ordered) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def _stoppages(results, start, end, municipality_id, supplier_type, by_municipality) -> None:
    stmt = select(Contract.municipality_id, func.count()).join(WorkStoppage.contract).where(
        WorkStoppage.started_on >= start, WorkStoppage.started_on <= end)
    if municipality_id is not None:
        stmt = stmt.where(Contract.municipality_id == municipality_id)
    if supplier_type in ("seo", "other"):
        kinds = [k.value for k in SEO_KINDS]
        stmt = stmt.join(Supplier, Supplier.id == Contract.supplier_id).where(
            Supplier.kind.in_(kinds) if supplier_type == "seo" else Supplier.kind.not_in(kinds))
    stmt = stmt.group_by(Contract.municipality_id)
    for muni, n in db.session.execute(stmt):
        key = muni if by_municipality else None
        if key not in results:
            results[key] = Figures(start, end, muni if by_municipality else municipality_id)
        results[key].stoppages += n


def trend(periods: list[tuple[dt.date, dt.date]], municipality_id: int | None = None,
          supplier_type: str = "all") -> list[Figures]:
    return [compute(s, e, municipality_id, supplier_type) for s, e in periods]
