"""The consolidated regional plan and the council's overviews: every municipality's current plan
items with filters and totals (aggregated in SQL), the reserved share per municipality (LT-RES-02)
and a one-municipality summary for home pages.

The aggregates read the current (published) items only, so they are cached with the public pipeline
(``srpp.core.cache.memo``, namespace ``pipeline``: a publication, or a tender taking items over, bumps
it) and per day (the timeline's window and the review statuses move with the date)."""

from __future__ import annotations

import datetime as dt
import enum
import json
import re
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from babel import Locale
from babel.numbers import format_currency, format_percent
from dateutil.relativedelta import relativedelta
from flask_babel import get_locale
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import lazyload

from srpp.auth.models import User
from srpp.core import cache, settings
from srpp.core.permissions import require
from srpp.extensions import db
from srpp.orgs.models import Municipality, PriorityArea, ServiceCategory
from srpp.plans import services as plans
from srpp.plans.models import ItemState, PlanItem, PlanVersion
from srpp.rules.models import Procedure, ReservationBasis

TIMELINE_MONTHS = 12
MAX_WORDS = 8
CACHE_NS = "pipeline"
CACHE_TTL = 3600  # seconds; a publication bumps the generation at once


def percent(value: Decimal | None, digits: int = 1) -> str:
    """A ratio as a locale-formatted percentage: 0.0234 → ``2,3 %`` (lt), ``2.3%`` (en)."""
    if value is None:
        return "—"
    quantum = Decimal(1).scaleb(-(digits + 2))
    return format_percent(Decimal(value).quantize(quantum), locale=get_locale() or "lt",
                          decimal_quantization=False)


def whole_money(value: Decimal | int | None, currency: str = "EUR") -> str:
    """Money rounded to whole units in the locale's pattern (chart axes): ``125 000 €``, ``€125,000``."""
    if value is None:
        return "—"
    locale = get_locale() or Locale.parse("lt")
    pattern = locale.currency_formats["standard"].pattern.replace(".00", "")
    return format_currency(Decimal(value), currency, format=pattern, locale=locale, currency_digits=False)


# --- filters ---------------------------------------------------------------------------------

_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")


def parse_quarter(text: str | None) -> tuple[dt.date, dt.date] | None:
    """``2027-Q1`` → (2027-01-01, 2027-03-01): the first and last launch month of the quarter."""
    m = _QUARTER.match((text or "").strip().upper())
    if not m:
        return None
    year, q = int(m.group(1)), int(m.group(2))
    start = dt.date(year, 3 * (q - 1) + 1, 1)
    return start, start + relativedelta(months=2)


def quarter_of(month: dt.date) -> str:
    return f"{month.year}-Q{(month.month - 1) // 3 + 1}"


SORTS = ("month", "-month", "-value", "value")


@dataclass
class PlanFilter:
    """The regional plan's filters, as parsed from the query string."""

    municipality: str | None = None  # Municipality.code
    category: str | None = None  # ServiceCategory.key
    area: PriorityArea | None = None
    reserved: bool = False
    procedure: Procedure | None = None
    quarter: str | None = None  # "2027-Q1"
    q: str | None = None
    sort: str = "month"

    @property
    def words(self) -> list[str]:
        return (self.q or "").split()[:MAX_WORDS]


def _like(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def apply_filter(stmt: Select, f: PlanFilter) -> Select:
    """Add the filter's conditions to a statement over ``PlanItem``."""
    if f.municipality:
        stmt = stmt.where(PlanItem.municipality_id == select(Municipality.id)
                          .where(Municipality.code == f.municipality.upper()).scalar_subquery())
    if f.category:
        stmt = stmt.where(PlanItem.category_id == select(ServiceCategory.id)
                          .where(ServiceCategory.key == f.category).scalar_subquery())
    if f.area:
        stmt = stmt.where(PlanItem.priority_area == f.area)
    if f.reserved:
        stmt = stmt.where(PlanItem.reservation != ReservationBasis.NONE)
    if f.procedure:
        stmt = stmt.where(PlanItem.procedure == f.procedure)
    months = parse_quarter(f.quarter)
    if months:
        stmt = stmt.where(PlanItem.launch_month >= months[0], PlanItem.launch_month <= months[1])
    for word in f.words:
        pattern = _like(word)
        stmt = stmt.where(or_(PlanItem.title.ilike(pattern, escape="\\"),
                              PlanItem.notes_for_seos.ilike(pattern, escape="\\"),
                              PlanItem.target_groups.ilike(pattern, escape="\\")))
    return stmt


def items_stmt(f: PlanFilter) -> Select:
    """The current items of every municipality matching ``f``, sorted as asked."""
    stmt = apply_filter(plans.current_items_stmt(), f)
    orders = {
        "month": (PlanItem.launch_month, PlanItem.estimated_value.desc(), PlanItem.id),
        "-month": (PlanItem.launch_month.desc(), PlanItem.estimated_value.desc(), PlanItem.id),
        "-value": (PlanItem.estimated_value.desc(), PlanItem.launch_month, PlanItem.id),
        "value": (PlanItem.estimated_value, PlanItem.launch_month, PlanItem.id),
    }
    return stmt.order_by(*orders.get(f.sort, orders["month"]))


def launch_quarters() -> list[str]:
    """The quarters in which current items are planned to launch (choices for the filter)."""
    sub = plans.current_items_stmt().order_by(None).subquery()
    months = _cached_rows("quarters", None, select(sub.c.launch_month).distinct().order_by(sub.c.launch_month))
    out: list[str] = []
    for (month,) in months:
        q = quarter_of(dt.date.fromisoformat(month))
        if q not in out:
            out.append(q)
    return out


# --- the cache of the aggregates ---------------------------------------------------------------

def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value


def _cached_rows(kind: str, f: PlanFilter | None, stmt: Select, today: dt.date | None = None) -> list[list[Any]]:
    """The rows of an aggregate over the current items as JSON values (decimals and dates as text,
    enums as their values), cached per pipeline generation, filter and day."""
    def run() -> list[list[Any]]:
        return [[_plain(v) for v in row] for row in db.session.execute(stmt)]

    key = json.dumps([kind, asdict(f) if f else None, str(today or dt.date.today())], default=_plain, sort_keys=True)
    return cache.memo(CACHE_NS, f"region|{key}", run, ttl=CACHE_TTL)


def _amount(value: str | None) -> Decimal:
    return _money(Decimal(value) if value is not None else None)



# --- totals ----------------------------------------------------------------------------------

@dataclass
class AreaTotal:
    area: PriorityArea
    value: Decimal
    count: int


@dataclass
class MonthTotal:
    month: dt.date
    value: Decimal
    count: int


@dataclass
class MunicipalityTotal:
    municipality: Municipality
    version: PlanVersion | None
    review: plans.ReviewStatus
    value: Decimal
    count: int


@dataclass
class Timeline:
    months: list[dt.date]
    #: (municipality, value per month) for municipalities with launches in the window
    series: list[tuple[Municipality, list[Decimal]]]

    @property
    def total(self) -> Decimal:
        return sum((v for _, values in self.series for v in values), Decimal(0))


@dataclass
class RegionalOverview:
    filter: PlanFilter
    total_value: Decimal
    item_count: int
    by_area: list[AreaTotal]
    by_month: list[MonthTotal]
    by_municipality: list[MunicipalityTotal]
    timeline: Timeline


def _money(value: Decimal | int | None) -> Decimal:
    return Decimal(value or 0).quantize(Decimal("0.01"))


def _filtered_subquery(f: PlanFilter):
    return apply_filter(plans.current_items_stmt(), f).order_by(None).subquery()


def totals_by_area(f: PlanFilter) -> list[AreaTotal]:
    sub = _filtered_subquery(f)
    rows = _cached_rows("area", f, select(sub.c.priority_area, func.sum(sub.c.estimated_value), func.count())
                        .group_by(sub.c.priority_area))
    order = list(PriorityArea)
    out = [AreaTotal(PriorityArea(area), _amount(value), count) for area, value, count in rows]
    return sorted(out, key=lambda t: order.index(t.area))


def totals_by_month(f: PlanFilter) -> list[MonthTotal]:
    sub = _filtered_subquery(f)
    rows = _cached_rows("month", f, select(sub.c.launch_month, func.sum(sub.c.estimated_value), func.count())
                        .group_by(sub.c.launch_month).order_by(sub.c.launch_month))
    return [MonthTotal(dt.date.fromisoformat(month), _amount(value), count) for month, value, count in rows]


def totals_by_municipality(f: PlanFilter, today: dt.date | None = None) -> list[MunicipalityTotal]:
    """One row per municipality (only the chosen one when the filter names one), with the
    review status of its current published plan."""
    sub = _filtered_subquery(f)
    sums = {mid: (_amount(value), count) for mid, value, count in _cached_rows(
        "municipality", f, select(sub.c.municipality_id, func.sum(sub.c.estimated_value), func.count())
        .group_by(sub.c.municipality_id))}
    out = []
    for municipality, version, review in plans.review_overview(today):
        if f.municipality and municipality.code != f.municipality.upper():
            continue
        value, count = sums.get(municipality.id, (Decimal("0.00"), 0))
        out.append(MunicipalityTotal(municipality, version, review, value, count))
    return out


def timeline(f: PlanFilter, today: dt.date | None = None, months: int = TIMELINE_MONTHS) -> Timeline:
    """Planned launch value per month for the next ``months`` months (from the current month),
    per municipality."""
    start = plans.first_of_month(today or dt.date.today())
    window = [start + relativedelta(months=i) for i in range(months)]
    sub = _filtered_subquery(f)
    rows = _cached_rows("timeline", f, select(sub.c.municipality_id, sub.c.launch_month, func.sum(sub.c.estimated_value))
                        .where(sub.c.launch_month >= window[0], sub.c.launch_month <= window[-1])
                        .group_by(sub.c.municipality_id, sub.c.launch_month), start)
    grid: dict[int, dict[dt.date, Decimal]] = {}
    for mid, month, value in rows:
        grid.setdefault(mid, {})[dt.date.fromisoformat(month)] = _amount(value)
    series = []
    if grid:
        for m in db.session.scalars(select(Municipality).where(Municipality.id.in_(grid))
                                    .order_by(Municipality.sort_order, Municipality.code)):
            series.append((m, [grid[m.id].get(month, Decimal("0.00")) for month in window]))
    return Timeline(window, series)


def overview(actor: User, f: PlanFilter, today: dt.date | None = None) -> RegionalOverview:
    """Everything the regional plan page shows except the page of items."""
    require(actor, "region.view")
    by_area = totals_by_area(f)
    return RegionalOverview(
        filter=f,
        total_value=sum((t.value for t in by_area), Decimal("0.00")),
        item_count=sum(t.count for t in by_area),
        by_area=by_area,
        by_month=totals_by_month(f),
        by_municipality=totals_by_municipality(f, today),
        timeline=timeline(f, today),
    )


# --- reserved share (LT-RES-02) ---------------------------------------------------------------

def _version_items(version: PlanVersion) -> list[PlanItem]:
    """A version's items with only their own columns (no joined lookups)."""
    return list(db.session.scalars(
        select(PlanItem).where(PlanItem.plan_version_id == version.id).options(lazyload("*"))))


@dataclass
class ReservedShareRow:
    municipality: Municipality
    version: PlanVersion | None
    share: plans.ReservedShare | None

    @property
    def status(self) -> str:
        """``no_plan`` | ``no_simplified`` (the ratio is undefined) | ``below`` | ``ok``."""
        if self.share is None:
            return "no_plan"
        if self.share.ratio is None:
            return "no_simplified"
        return "below" if self.share.below_minimum else "ok"

    @property
    def warning(self) -> bool:
        return self.status == "below"


def reserved_share_for(version: PlanVersion | None) -> plans.ReservedShare | None:
    return plans.reserved_share(_version_items(version)) if version is not None else None


def reserved_share_by_municipality(today: dt.date | None = None) -> list[ReservedShareRow]:
    """For every municipality's current published plan: planned reserved value (any basis)
    against planned simplified-procurement value, and the minimum share in force."""
    rows = []
    for m in db.session.scalars(select(Municipality).order_by(Municipality.sort_order, Municipality.code)):
        version = plans.current_published(m, today)
        rows.append(ReservedShareRow(m, version, reserved_share_for(version)))
    return rows


def minimum_share() -> Decimal:
    return settings.get("plans.reserved_min_share")


# --- one municipality -------------------------------------------------------------------------

@dataclass
class MunicipalitySummary:
    municipality: Municipality
    version: PlanVersion | None
    review: plans.ReviewStatus
    item_count: int
    total_value: Decimal
    share: plans.ReservedShare | None

    @property
    def stale(self) -> bool:
        return self.review.stale

    @property
    def share_row(self) -> ReservedShareRow:
        return ReservedShareRow(self.municipality, self.version, self.share)


def municipality_summary(municipality: Municipality, today: dt.date | None = None) -> MunicipalitySummary:
    """The municipality's current published plan version, its review status, the number and
    value of its (not cancelled) items and its reserved share."""
    version = plans.current_published(municipality, today)
    review = plans.review_status(version, today)
    if version is None:
        return MunicipalitySummary(municipality, None, review, 0, Decimal("0.00"), None)
    items = _version_items(version)
    active = [i for i in items if i.state != ItemState.CANCELLED]
    return MunicipalitySummary(
        municipality, version, review, len(active),
        sum((i.estimated_value for i in active), Decimal("0.00")), plans.reserved_share(items))


# --- planned against actually tendered ----------------------------------------------------------

@dataclass
class TenderedShareRow:
    municipality: Municipality
    year: int
    planned: plans.ReservedShare | None
    tendered_reserved: Decimal
    tendered_simplified: Decimal
    tendered_total: Decimal

    @property
    def tendered_ratio(self) -> Decimal | None:
        if not self.tendered_simplified:
            return None
        return (self.tendered_reserved / self.tendered_simplified).quantize(Decimal("0.0001"))


def tendered_share_by_municipality(year: int, today: dt.date | None = None) -> list[TenderedShareRow]:
    """LT-RES-02 in practice: the value of lots of tenders published in ``year`` (not cancelled),
    reserved (any basis) and of simplified procedures, next to what each plan intended. One
    aggregate query for all municipalities."""
    from sqlalchemy import case, extract

    from srpp.rules.models import Procedure, ReservationBasis
    from srpp.tenders.models import Lot, Tender, TenderState

    live = (TenderState.PUBLISHED, TenderState.EVALUATION, TenderState.AWARDED)
    reserved = case((Lot.reservation != ReservationBasis.NONE, Lot.estimated_value), else_=0)
    simplified = case((Tender.procedure == Procedure.SIMPLIFIED, Lot.estimated_value), else_=0)
    sums = {
        row.municipality_id: row
        for row in db.session.execute(
            select(Tender.municipality_id, func.sum(reserved).label("reserved"),
                   func.sum(simplified).label("simplified"), func.sum(Lot.estimated_value).label("total"))
            .join(Lot, Lot.tender_id == Tender.id)
            .where(Tender.state.in_(live), extract("year", Tender.published_at) == year)
            .group_by(Tender.municipality_id)
        )
    }
    rows = []
    for m in db.session.scalars(select(Municipality).order_by(Municipality.sort_order, Municipality.code)):
        version = plans.current_published(m, today)
        s = sums.get(m.id)
        rows.append(TenderedShareRow(
            m, year, reserved_share_for(version),
            _money(s.reserved if s else 0), _money(s.simplified if s else 0), _money(s.total if s else 0)))
    return rows
