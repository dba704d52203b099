"""The public pipeline: what is coming up for tender in the region.

One filter model (``Filters``, parsed and validated by ``parse_filters``) and one pair of
statements (``plan_items_stmt`` and ``lots_stmt``) serve the /opportunities page, its Atom and
iCalendar feeds and the saved-search digests, so they always agree. Rows are turned into
``Opportunity`` view-models of two kinds:

* ``plan_item``: an open item (planned or in preparation) of a published plan version. An item
  whose tender is published is launched: it is no longer listed, its lots are;
* ``lot``: an open lot of a published tender. The filters map onto the lot: municipality = the
  lot's (contracting) municipality, category = its category, area = the category's priority area,
  reserved = the lot is reserved, quarter = the tender's submission deadline (or its publication
  date when it has none), values = the lot's estimated value, words = the lot's title or
  description;
* ``framework``: an active framework agreement that admits new suppliers. Municipality = the
  coordinator or any participant that has not withdrawn, category = the framework's, area = its
  category's priority area, reserved = never (a framework is not reserved), quarter = the
  framework runs during the quarter, values = its maximum value, words = its title or code. Its
  day is the framework's end (suppliers may join until then).

All kinds are listed together, with one sort order and one pagination, at a constant number of
SQL queries per page however many rows match:

1. the filter lookups (municipalities, categories);
2. one count: the kinds' counts added up in a single statement;
3. one *key* query: a ``UNION ALL`` of the kinds reduced to (kind, id, sort keys), sorted and
   cut to the page (each branch is first cut to ``offset + per_page`` rows by its own sort, so the
   plan-items index still feeds an incremental top-N sort on large plans); the few framework rows
   of the page are loaded by this same query (an outer join on the merged keys);
4. one query per kind of plan items and lots loading the page's rows by id with everything a
   listing shows eager-loaded (both always run, an empty id list included); they are put back in
   the key order in Python. When the keys come from the cache, one more query loads the page's
   frameworks (it always runs then, an empty id list included).

The feeds use steps 3 and 4 with the feed limit instead of a page. The digests run one query per
kind per saved search; ``SavedSearchHit`` remembers what was sent (``item_uid`` is the plan item's
uid, or ``lot-<id>`` for a lot), so a digest never repeats itself.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlencode

from babel.dates import format_skeleton
from flask import current_app, has_request_context, url_for
from flask_babel import force_locale, get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Date,
    Select,
    String,
    and_,
    cast,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import contains_eager, joinedload, lazyload, selectinload
from sqlalchemy.sql.functions import FunctionElement

from srpp.auth.models import User
from srpp.core import cache
from srpp.core.audit import bind_actor
from srpp.core.db import utcnow
from srpp.core.errors import DomainError
from srpp.core.i18n import date as format_date
from srpp.core.i18n import money
from srpp.core.notify import notify
from srpp.core.permissions import PermissionDenied, can, require
from srpp.core.web import Page
from srpp.cpv.models import CpvCode
from srpp.extensions import db
from srpp.frameworks.models import FrameworkAgreement, FrameworkParticipant, FrameworkState, ParticipantState
from srpp.orgs.models import Municipality, PriorityArea, ServiceCategory
from srpp.plans.models import (
    ItemState,
    PlanItem,
    PlanState,
    PlanVersion,
    ProcurementPlan,
    SavedSearch,
    SavedSearchHit,
)
from srpp.plans.services import ReviewStatus, review_status
from srpp.rules.models import Procedure, ReservationBasis
from srpp.tenders.models import Lot, LotState, Tender, TenderPlanItem, TenderState

log = logging.getLogger("srpp.public")

PER_PAGE = 20
MAX_PAGE = 100_000
#: feeds list at most this many items (a subscriber narrows with filters)
FEED_LIMIT = 500
#: a digest e-mail lists at most this many items (all of them are recorded as sent)
DIGEST_LIST_LIMIT = 50
MAX_AMOUNT = Decimal("999999999999.99")
MAX_QUERY_CHARS = 200
MAX_WORDS = 10
MAX_SAVED_SEARCHES = 50

#: plan items that are still opportunities (not launched, not cancelled)
OPEN_STATES = (ItemState.PLANNED, ItemState.IN_PREPARATION)
#: tenders whose plan items are launched (replaced in the pipeline by their lots)
LAUNCHED_TENDER_STATES = (TenderState.PUBLISHED, TenderState.EVALUATION, TenderState.AWARDED)
#: tenders whose lots have a public page
PUBLIC_TENDER_STATES = (TenderState.PUBLISHED, TenderState.EVALUATION, TenderState.AWARDED,
                        TenderState.CANCELLED)

SORTS: dict[str, Any] = {
    "month": _l("Launch month or deadline, soonest first"),
    "value_desc": _l("Estimated value, highest first"),
    "value_asc": _l("Estimated value, lowest first"),
    "newest": _l("Recently published or changed"),
}
DEFAULT_SORT = "month"

#: the query-string names, in the order they are written back (canonical query strings)
FILTER_NAMES = ("municipality", "category", "area", "reserved", "quarter", "min_value", "max_value", "q", "sort")

QUARTER_RE = re.compile(r"^\s*(\d{4})\s*-?\s*[Qq]\s*([1-4])\s*$")


# --- parsing -----------------------------------------------------------------------------------

def parse_amount(raw: str | None) -> Decimal | None:
    """``1234.50``, ``1234,50``, ``1 234,50``, ``1.234,50`` and ``1,234.50`` → Decimal.
    Returns None for empty input; raises ValueError for anything else that is not an amount."""
    text = (raw or "").strip()
    for ch in ("\u00a0", "\u202f", "\u2009", " ", "€", "EUR", "eur"):
        text = text.replace(ch, "")
    if not text:
        return None
    if "," in text and "." in text:
        if text.rfind(",") > text.rfind("."):
            text = text.replace(".", "").replace(",", ".")
        else:
            text = text.replace(",", "")
    elif "," in text:
        text = text.replace(",", ".")
    if not re.fullmatch(r"[+-]?\d+(\.\d+)?", text):
        raise ValueError(raw)
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(raw) from None
    return value


def quarter_range(quarter: str) -> tuple[dt.date, dt.date]:
    """``2027-Q1`` → (2027-01-01, 2027-04-01): first day of the quarter, first day after it."""
    year, n = int(quarter[:4]), int(quarter[-1])
    start = dt.date(year, 3 * (n - 1) + 1, 1)
    end = dt.date(year + 1, 1, 1) if n == 4 else dt.date(year, 3 * n + 1, 1)
    return start, end


def month_label(month: dt.date) -> str:
    """"January 2027", "2027 m. sausis": a launch month in the current language."""
    return format_skeleton("yMMMM", month, locale=get_locale() or "lt")


def quarter_of(month: dt.date) -> str:
    return f"{month.year}-Q{(month.month - 1) // 3 + 1}"


def _shorten(value: str, limit: int = 40) -> str:
    value = value.strip()
    return value if len(value) <= limit else value[: limit - 1] + "…"


@dataclass
class FilterLookups:
    """The reference data the filters are validated against (and the filter form offers)."""

    municipalities: list[Municipality]
    categories: list[ServiceCategory]

    @classmethod
    def load(cls) -> FilterLookups:
        return cls(
            municipalities=list(db.session.scalars(
                select(Municipality).order_by(Municipality.sort_order, Municipality.code))),
            categories=list(db.session.scalars(
                select(ServiceCategory).options(lazyload(ServiceCategory.cpv_codes))
                .order_by(ServiceCategory.sort_order, ServiceCategory.key))),
        )

    def municipality(self, code: str | None) -> Municipality | None:
        return next((m for m in self.municipalities if m.code == code), None)

    def category(self, key: str | None) -> ServiceCategory | None:
        return next((c for c in self.categories if c.key == key), None)


@dataclass
class Filters:
    """Validated filters of the pipeline. Invalid values are left out and explained in ``errors``
    (field name → message), so a page can show the rest and say what was ignored."""

    municipality: str | None = None
    category: str | None = None
    area: PriorityArea | None = None
    reserved: bool = False
    quarter: str | None = None
    min_value: Decimal | None = None
    max_value: Decimal | None = None
    q: str | None = None
    sort: str = DEFAULT_SORT
    page: int = 1
    errors: dict[str, str] = field(default_factory=dict)
    #: resolved by parse_filters (not part of the query string)
    municipality_id: int | None = field(default=None, repr=False)
    category_id: int | None = field(default=None, repr=False)

    @property
    def words(self) -> list[str]:
        return (self.q or "").split()[:MAX_WORDS]

    @property
    def active(self) -> bool:
        return any(v for k, v in self.query().items() if k != "sort")

    def query(self) -> dict[str, str]:
        """The canonical query arguments (without the page number)."""
        out: dict[str, str] = {}
        if self.municipality:
            out["municipality"] = self.municipality
        if self.category:
            out["category"] = self.category
        if self.area:
            out["area"] = self.area.value
        if self.reserved:
            out["reserved"] = "1"
        if self.quarter:
            out["quarter"] = self.quarter
        if self.min_value is not None:
            out["min_value"] = str(self.min_value)
        if self.max_value is not None:
            out["max_value"] = str(self.max_value)
        if self.q:
            out["q"] = self.q
        if self.sort != DEFAULT_SORT:
            out["sort"] = self.sort
        return out

    def query_string(self) -> str:
        return urlencode(self.query())


def parse_filters(args: Mapping[str, Any], lookups: FilterLookups) -> Filters:
    """Read the filters from query arguments (``request.args`` or a saved query string).
    Never raises on bad input: each bad value is dropped and explained in ``Filters.errors``."""
    f = Filters()

    def arg(name: str) -> str:
        value = args.get(name)
        return value.strip() if isinstance(value, str) else ""

    if raw := arg("municipality"):
        m = lookups.municipality(raw.upper())
        if m is None:
            f.errors["municipality"] = _("There is no municipality with the code “%(value)s”.", value=_shorten(raw))
        else:
            f.municipality, f.municipality_id = m.code, m.id
    if raw := arg("category"):
        c = lookups.category(raw) or lookups.category(raw.upper())
        if c is None:
            f.errors["category"] = _("There is no service category “%(value)s”.", value=_shorten(raw))
        else:
            f.category, f.category_id = c.key, c.id
    if raw := arg("area"):
        try:
            f.area = PriorityArea(raw.upper())
        except ValueError:
            f.errors["area"] = _("There is no priority area “%(value)s”.", value=_shorten(raw))
    if raw := arg("reserved"):
        if raw.lower() in ("1", "y", "yes", "true", "on"):
            f.reserved = True
        elif raw.lower() not in ("0", "n", "no", "false", "off"):
            f.errors["reserved"] = _("Use reserved=1 to show reserved opportunities only.")
    if raw := arg("quarter"):
        m = QUARTER_RE.match(raw)
        if m and 2000 <= int(m.group(1)) <= 2100:
            f.quarter = f"{m.group(1)}-Q{m.group(2)}"
        else:
            f.errors["quarter"] = _("Write the quarter as year and quarter number, e.g. 2027-Q1.")
    for name in ("min_value", "max_value"):
        raw = arg(name)
        if not raw:
            continue
        try:
            value = parse_amount(raw)
        except ValueError:
            f.errors[name] = _("“%(value)s” is not an amount in euros; write it like 1234.50 or 1 234,50.",
                               value=_shorten(raw))
            continue
        if value is None:
            continue
        if value < 0:
            f.errors[name] = _("The amount cannot be negative.")
        elif value > MAX_AMOUNT:
            f.errors[name] = _("The amount is too large.")
        else:
            setattr(f, name, value.quantize(Decimal("0.01")))
    if f.min_value is not None and f.max_value is not None and f.min_value > f.max_value:
        f.errors["max_value"] = _("The maximum value is smaller than the minimum value.")
        f.max_value = None
    if raw := arg("q"):
        if len(raw) > MAX_QUERY_CHARS:
            f.errors["q"] = _("Search words may be at most %(num)d characters long.", num=MAX_QUERY_CHARS)
        else:
            f.q = " ".join(raw.split()[:MAX_WORDS])
    if raw := arg("sort"):
        if raw in SORTS:
            f.sort = raw
        else:
            f.errors["sort"] = _("Unknown sort order “%(value)s”; sorted by launch month.", value=_shorten(raw))
    if raw := arg("page"):
        try:
            page = int(raw)
        except ValueError:
            page = 0
        if 1 <= page <= MAX_PAGE:
            f.page = page
        else:
            f.errors["page"] = _("There is no page “%(value)s”; showing the first page.", value=_shorten(raw))
    return f


def query_args(query: str) -> dict[str, str]:
    """A stored query string as arguments for ``parse_filters`` (first value of each name)."""
    out: dict[str, str] = {}
    for key, value in parse_qsl(query or "", keep_blank_values=False):
        out.setdefault(key, value)
    return out


def describe(filters: Filters, lookups: FilterLookups) -> list[tuple[str, str]]:
    """The filters in words: [(label, value)] for saved-search lists and digests."""
    out: list[tuple[str, str]] = []
    if filters.municipality and (m := lookups.municipality(filters.municipality)):
        out.append((_("Municipality"), m.name))
    if filters.category and (c := lookups.category(filters.category)):
        out.append((_("Service category"), c.name))
    if filters.area:
        out.append((_("Priority area"), filters.area.label))
    if filters.reserved:
        out.append((_("Reservation"), _("reserved opportunities only")))
    if filters.quarter:
        out.append((_("Planned launch"), filters.quarter))
    if filters.min_value is not None:
        out.append((_("Value at least"), money(filters.min_value)))
    if filters.max_value is not None:
        out.append((_("Value at most"), money(filters.max_value)))
    if filters.q:
        out.append((_("Words"), filters.q))
    return out


# --- the statements ----------------------------------------------------------------------------

def _like(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _launched_uids() -> Select:
    """Uids of plan items taken by a published (or later) tender: their lots replace them."""
    return (select(TenderPlanItem.item_uid).join(Tender, Tender.id == TenderPlanItem.tender_id)
            .where(Tender.state.in_(LAUNCHED_TENDER_STATES)))


def _place_and_category(filters: Filters, municipality_col: Any, category_col: Any) -> list[Any]:
    """The municipality and category filters on any kind (by id when ``parse_filters`` resolved it)."""
    conds: list[Any] = []
    if filters.municipality_id is not None:
        conds.append(municipality_col == filters.municipality_id)
    elif filters.municipality:
        conds.append(municipality_col.in_(
            select(Municipality.id).where(Municipality.code == filters.municipality).scalar_subquery()))
    if filters.category_id is not None:
        conds.append(category_col == filters.category_id)
    elif filters.category:
        conds.append(category_col.in_(
            select(ServiceCategory.id).where(ServiceCategory.key == filters.category).scalar_subquery()))
    return conds


def _conditions(filters: Filters) -> list[Any]:
    """The WHERE clauses of the filters, on plan_items and plan_versions only (municipality and
    category are matched by id, resolved by ``parse_filters``), so counting needs no other join."""
    conds: list[Any] = [PlanVersion.state == PlanState.PUBLISHED, PlanItem.state.in_(OPEN_STATES),
                        PlanItem.uid.not_in(_launched_uids())]
    conds += _place_and_category(filters, PlanItem.municipality_id, PlanItem.category_id)
    if filters.area:
        conds.append(PlanItem.priority_area == filters.area)
    if filters.reserved:
        conds.append(PlanItem.reservation != ReservationBasis.NONE)
    if filters.quarter:
        start, end = quarter_range(filters.quarter)
        conds.extend([PlanItem.launch_month >= start, PlanItem.launch_month < end])
    if filters.min_value is not None:
        conds.append(PlanItem.estimated_value >= filters.min_value)
    if filters.max_value is not None:
        conds.append(PlanItem.estimated_value <= filters.max_value)
    for word in filters.words:
        pattern = _like(word)
        conds.append(or_(PlanItem.title.ilike(pattern, escape="\\"),
                         PlanItem.notes_for_seos.ilike(pattern, escape="\\")))
    return conds


class utc_date(FunctionElement):
    """The UTC calendar day of a timestamp (the day ``published_at.date()`` gives in Python)."""

    type = Date()
    name = "utc_date"
    inherit_cache = True


@compiles(utc_date)
def _utc_date(element: utc_date, compiler: Any, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)})"  # SQLite keeps UTC


@compiles(utc_date, "postgresql")
def _utc_date_pg(element: utc_date, compiler: Any, **kw: Any) -> str:
    return f"CAST(({compiler.process(element.clauses, **kw)} AT TIME ZONE 'UTC') AS DATE)"


def lot_day() -> Any:
    """The day a lot is listed under: the submission deadline, or the publication date."""
    return func.coalesce(Tender.submission_deadline, utc_date(Tender.published_at), type_=Date())


def _lot_conditions(filters: Filters) -> list[Any]:
    """The WHERE clauses of the filters on lots (joined to their tender only)."""
    conds: list[Any] = [Tender.state == TenderState.PUBLISHED, Lot.state == LotState.OPEN]
    conds += _place_and_category(filters, Lot.municipality_id, Lot.category_id)
    if filters.area:
        conds.append(Lot.category_id.in_(
            select(ServiceCategory.id).where(ServiceCategory.priority_area == filters.area).scalar_subquery()))
    if filters.reserved:
        conds.append(Lot.reservation != ReservationBasis.NONE)
    if filters.quarter:
        start, end = quarter_range(filters.quarter)
        conds.extend([lot_day() >= start, lot_day() < end])
    if filters.min_value is not None:
        conds.append(Lot.estimated_value >= filters.min_value)
    if filters.max_value is not None:
        conds.append(Lot.estimated_value <= filters.max_value)
    for word in filters.words:
        pattern = _like(word)
        conds.append(or_(Lot.title.ilike(pattern, escape="\\"), Lot.description.ilike(pattern, escape="\\")))
    return conds


def _framework_conditions(filters: Filters) -> list[Any]:
    """The WHERE clauses of the filters on framework agreements (no join needed)."""
    fa = FrameworkAgreement
    conds: list[Any] = [fa.state == FrameworkState.ACTIVE, fa.admits_new_suppliers.is_(True)]
    municipality_id: Any = filters.municipality_id
    if municipality_id is None and filters.municipality:
        municipality_id = select(Municipality.id).where(Municipality.code == filters.municipality).scalar_subquery()
    if municipality_id is not None:
        conds.append(or_(fa.municipality_id == municipality_id, fa.id.in_(
            select(FrameworkParticipant.framework_id).where(
                FrameworkParticipant.municipality_id == municipality_id,
                FrameworkParticipant.state != ParticipantState.WITHDRAWN))))
    if filters.category_id is not None:
        conds.append(fa.category_id == filters.category_id)
    elif filters.category:
        conds.append(fa.category_id.in_(
            select(ServiceCategory.id).where(ServiceCategory.key == filters.category).scalar_subquery()))
    if filters.area:
        conds.append(fa.category_id.in_(
            select(ServiceCategory.id).where(ServiceCategory.priority_area == filters.area).scalar_subquery()))
    if filters.reserved:
        conds.append(false())
    if filters.quarter:
        start, end = quarter_range(filters.quarter)
        conds.extend([fa.start_date < end, fa.end_date >= start])
    if filters.min_value is not None:
        conds.append(fa.max_value >= filters.min_value)
    if filters.max_value is not None:
        conds.append(fa.max_value <= filters.max_value)
    for word in filters.words:
        pattern = _like(word)
        conds.append(or_(fa.title.ilike(pattern, escape="\\"), fa.code.ilike(pattern, escape="\\")))
    return conds


def _items_loading() -> Select:
    """Plan items with everything a listing shows loaded in the same query."""
    return (
        select(PlanItem)
        .join(PlanItem.plan_version)
        .join(PlanItem.municipality)
        .join(PlanItem.category)
        .options(
            contains_eager(PlanItem.plan_version).lazyload(PlanVersion.plan),
            contains_eager(PlanItem.municipality),
            contains_eager(PlanItem.category).lazyload(ServiceCategory.cpv_codes),
            lazyload(PlanItem.additional_cpv),
            lazyload(PlanItem.funding_measure),
            lazyload(PlanItem.main_cpv_code),
        )
    )


def _lots_loading() -> Select:
    """Lots with their tender, municipality and category loaded in the same query (and nothing
    a listing does not show)."""
    return (
        select(Lot)
        .join(Lot.tender)
        .options(
            contains_eager(Lot.tender).options(lazyload(Tender.municipality), lazyload(Tender.mandates),
                                               lazyload(Tender.lots), lazyload(Tender.plan_links)),
            joinedload(Lot.municipality),
            joinedload(Lot.category).lazyload(ServiceCategory.cpv_codes),
            lazyload(Lot.additional_cpv),
            lazyload(Lot.winner),
            lazyload(Lot.place),
            lazyload(Lot.criteria),
            lazyload(Lot.bids),
        )
    )


def plan_items_stmt(filters: Filters) -> Select:
    """Open items of published plan versions matching the filters, sorted, with everything a
    listing shows loaded in the same query (municipality, category, plan version)."""
    return _items_loading().where(*_conditions(filters)).order_by(*_order(filters.sort))


def lots_stmt(filters: Filters) -> Select:
    """Open lots of published tenders matching the filters, sorted, loaded for a listing."""
    return _lots_loading().where(*_lot_conditions(filters)).order_by(*_lot_order(filters.sort))


def count_stmt(filters: Filters) -> Select:
    """Matching plan items (the first kind only)."""
    return (select(func.count(PlanItem.id)).select_from(PlanItem)
            .join(PlanVersion, PlanVersion.id == PlanItem.plan_version_id)
            .where(*_conditions(filters)))


def lot_count_stmt(filters: Filters) -> Select:
    return (select(func.count(Lot.id)).select_from(Lot).join(Tender, Tender.id == Lot.tender_id)
            .where(*_lot_conditions(filters)))


def framework_count_stmt(filters: Filters) -> Select:
    return select(func.count(FrameworkAgreement.id)).where(*_framework_conditions(filters))


def total_stmt(filters: Filters) -> Select:
    """All kinds counted in one statement."""
    return select(count_stmt(filters).scalar_subquery() + lot_count_stmt(filters).scalar_subquery()
                  + framework_count_stmt(filters).scalar_subquery())


def _order(sort: str) -> list[Any]:
    # every key is a plan_items column: the launch-month index can feed an incremental sort
    if sort == "value_desc":
        return [PlanItem.estimated_value.desc(), PlanItem.launch_month, PlanItem.id]
    if sort == "value_asc":
        return [PlanItem.estimated_value, PlanItem.launch_month, PlanItem.id]
    if sort == "newest":
        return [PlanItem.content_changed_at.desc(), PlanItem.id.desc()]
    return [PlanItem.launch_month, PlanItem.municipality_id, PlanItem.position, PlanItem.id]


def _lot_order(sort: str) -> list[Any]:
    if sort == "value_desc":
        return [Lot.estimated_value.desc(), lot_day(), Lot.id]
    if sort == "value_asc":
        return [Lot.estimated_value, lot_day(), Lot.id]
    if sort == "newest":
        return [Tender.published_at.desc(), Lot.id.desc()]
    return [lot_day(), Lot.municipality_id, Lot.tender_id, Lot.number, Lot.id]


def _key_order(c: Any, sort: str, kind: bool = True) -> list[Any]:
    """The sort on the key columns (``c``: the columns of a key select); ``kind`` breaks ties
    between a plan item and a lot with the same id."""
    kinds = [c.kind] if kind else []
    if sort == "value_desc":
        return [c.k_value.desc(), c.k_day, *kinds, c.id]
    if sort == "value_asc":
        return [c.k_value, c.k_day, *kinds, c.id]
    if sort == "newest":
        return [c.k_updated.desc(), *kinds, c.id.desc()]
    return [c.k_day, c.k_municipality, *kinds, c.k_position, c.id]


def _item_keys(filters: Filters) -> Select:
    return (select(literal_column("'plan_item'").label("kind"), PlanItem.id.label("id"),
                   PlanItem.launch_month.label("k_day"), PlanItem.estimated_value.label("k_value"),
                   PlanItem.content_changed_at.label("k_updated"), PlanItem.municipality_id.label("k_municipality"),
                   PlanItem.position.label("k_position"))
            .select_from(PlanItem).join(PlanVersion, PlanVersion.id == PlanItem.plan_version_id)
            .where(*_conditions(filters)))


def _lot_keys(filters: Filters) -> Select:
    return (select(literal_column("'lot'").label("kind"), Lot.id.label("id"), lot_day().label("k_day"),
                   Lot.estimated_value.label("k_value"), Tender.published_at.label("k_updated"),
                   Lot.municipality_id.label("k_municipality"), Lot.number.label("k_position"))
            .select_from(Lot).join(Tender, Tender.id == Lot.tender_id)
            .where(*_lot_conditions(filters)))


def _framework_keys(filters: Filters) -> Select:
    fa = FrameworkAgreement
    return (select(literal_column("'framework'").label("kind"), fa.id.label("id"), fa.end_date.label("k_day"),
                   fa.max_value.label("k_value"), fa.updated_at.label("k_updated"),
                   fa.municipality_id.label("k_municipality"), literal(0).label("k_position"))
            .select_from(fa).where(*_framework_conditions(filters)))


#: frameworks load with their category and coordinator (and nothing a listing does not show)
_FRAMEWORK_OPTIONS = (joinedload(FrameworkAgreement.category).lazyload(ServiceCategory.cpv_codes),
                      joinedload(FrameworkAgreement.coordinator))


def _frameworks_loading() -> Select:
    return select(FrameworkAgreement).options(*_FRAMEWORK_OPTIONS)


def keys_stmt(filters: Filters, limit: int, offset: int = 0) -> Select:
    """(kind, id, framework) of all kinds in the filters' sort order, ``limit`` rows from
    ``offset``; ``framework`` is the loaded FrameworkAgreement of a framework row (else None).
    Each kind is cut to ``offset + limit`` rows by the same sort before they are merged."""
    branches = []
    for keys in (_item_keys(filters), _lot_keys(filters), _framework_keys(filters)):
        sub = keys.subquery()
        cut = select(sub).order_by(*_key_order(sub.c, filters.sort, kind=False)).limit(offset + limit)
        branches.append(select(cut.subquery()))
    merged = union_all(*branches).subquery("opportunity_keys")
    return (select(merged.c.kind, merged.c.id, FrameworkAgreement).select_from(merged)
            .outerjoin(FrameworkAgreement, and_(merged.c.kind == "framework", FrameworkAgreement.id == merged.c.id))
            .options(*_FRAMEWORK_OPTIONS)
            .order_by(*_key_order(merged.c, filters.sort)).limit(limit).offset(offset))


# --- view-models -------------------------------------------------------------------------------

def _path(endpoint: str, **values: Any) -> str:
    """A URL path, also outside a request (the digest task)."""
    if has_request_context():
        return url_for(endpoint, **values)
    return current_app.url_map.bind("localhost").build(endpoint, values)


def first_of_month(day: dt.date) -> dt.date:
    return day.replace(day=1)


@dataclass
class Opportunity:
    """One row of the pipeline: a plan item (``kind`` "plan_item", ``key`` its uid), an open
    lot of a published tender (``kind`` "lot", ``key`` the lot id) or a framework agreement that
    admits new suppliers (``kind`` "framework", ``key`` its id; ``municipality`` is the coordinator,
    ``value`` the maximum)."""

    kind: str
    key: str
    title: str
    municipality: Municipality
    category: ServiceCategory | None
    priority_area: PriorityArea | None
    value: Decimal
    month: dt.date
    duration_months: int | None
    procedure: Procedure | None
    reservation: ReservationBasis
    updated: dt.datetime
    url: str
    stale: ReviewStatus | None = None
    notes: str | None = None
    source: Any = None
    #: lots only: the tender's title, submission deadline and publication day
    tender_title: str | None = None
    deadline: dt.date | None = None
    published_on: dt.date | None = None
    #: frameworks only: new suppliers may join until this day (the framework's end)
    until: dt.date | None = None

    @property
    def kind_label(self) -> str:
        return str({"plan_item": _l("Planned procurement"), "lot": _l("Open lot"),
                    "framework": _l("Framework open to new suppliers")}.get(self.kind, self.kind))

    @property
    def is_lot(self) -> bool:
        return self.kind == "lot"

    @property
    def is_framework(self) -> bool:
        return self.kind == "framework"

    @property
    def is_reserved(self) -> bool:
        return self.reservation.reserved

    @property
    def day(self) -> dt.date:
        """The day the row is about: the launch month (plan items), the deadline or the
        publication day (lots)."""
        return self.deadline or self.until or self.published_on or self.month

    @property
    def quarter(self) -> str:
        return quarter_of(self.day)

    @property
    def month_label(self) -> str:
        return month_label(self.month)

    @property
    def when_label(self) -> str:
        """"planned launch January 2027" / "submission deadline 15 Jan 2027" in plain words."""
        if self.kind == "framework":
            return _("open to new suppliers until %(day)s", day=format_day(self.day))
        if self.kind != "lot":
            return _("planned launch %(month)s", month=self.month_label)
        if self.deadline is not None:
            return _("submission deadline %(day)s", day=format_day(self.deadline))
        return _("published %(day)s", day=format_day(self.day))

    @property
    def anchor(self) -> str:
        return f"opp-{self.key}" if self.kind == "plan_item" else f"opp-{self.kind}-{self.key}"

    @property
    def hit_key(self) -> str:
        """The ``SavedSearchHit.item_uid`` of the row."""
        return self.key if self.kind == "plan_item" else f"{self.kind}-{self.key}"

    @property
    def feed_id(self) -> str:
        return f"urn:srpp:plan-item:{self.key}" if self.kind == "plan_item" else f"urn:srpp:{self.kind}:{self.key}"

    @property
    def ical_uid(self) -> str:
        return f"{self.key}@srpp" if self.kind == "plan_item" else f"{self.kind}-{self.key}@srpp"

    def external_url(self) -> str:
        if self.kind == "lot":
            return url_for("public.lot", lot_id=int(self.key), _external=True)
        if self.kind == "framework":
            return url_for("public.framework", framework_id=int(self.key), _external=True)
        return url_for("public.item", uid=self.key, _external=True)

    @classmethod
    def from_plan_item(cls, item: PlanItem, stale: ReviewStatus | None = None) -> Opportunity:
        return cls(
            kind="plan_item", key=item.uid, title=item.title, municipality=item.municipality,
            category=item.category, priority_area=item.priority_area, value=item.estimated_value,
            month=item.launch_month, duration_months=item.duration_months, procedure=item.procedure,
            reservation=item.reservation, updated=item.content_changed_at,
            url=_path("public.item", uid=item.uid), stale=stale, notes=item.notes_for_seos, source=item,
        )

    @classmethod
    def from_lot(cls, lot: Lot) -> Opportunity:
        tender = lot.tender
        published = tender.published_at
        published_on = published.date() if published is not None else None
        day = tender.submission_deadline or published_on or dt.date.today()
        return cls(
            kind="lot", key=str(lot.id), title=lot.title, municipality=lot.municipality,
            category=lot.category, priority_area=lot.category.priority_area if lot.category else None,
            value=lot.estimated_value, month=first_of_month(day), duration_months=lot.duration_months,
            procedure=tender.procedure, reservation=lot.reservation, updated=published or lot.updated_at,
            url=_path("public.lot", lot_id=lot.id), notes=lot.description, source=lot,
            tender_title=tender.title, deadline=tender.submission_deadline, published_on=published_on,
        )


    @classmethod
    def from_framework(cls, fa: FrameworkAgreement) -> Opportunity:
        months = (fa.end_date.year - fa.start_date.year) * 12 + fa.end_date.month - fa.start_date.month + 1
        return cls(
            kind="framework", key=str(fa.id), title=fa.title, municipality=fa.coordinator, category=fa.category,
            priority_area=fa.category.priority_area if fa.category else None, value=fa.max_value,
            month=first_of_month(fa.end_date), duration_months=months, procedure=None,
            reservation=ReservationBasis.NONE, updated=fa.updated_at, url=_path("public.framework", framework_id=fa.id),
            source=fa, until=fa.end_date,
        )


def format_day(day: dt.date) -> str:
    return format_date(day)


def to_opportunities(rows: Iterable[PlanItem | Lot | FrameworkAgreement],
                     today: dt.date | None = None) -> list[Opportunity]:
    """Rows (plan items, lots and frameworks) → view-models, in the given order. The review status is worked
    out once per plan version; only an overdue version carries it (the stale warning), which
    needs no further query."""
    today = today or dt.date.today()
    statuses: dict[int, ReviewStatus | None] = {}
    out = []
    for row in rows:
        if isinstance(row, Lot):
            out.append(Opportunity.from_lot(row))
            continue
        if isinstance(row, FrameworkAgreement):
            out.append(Opportunity.from_framework(row))
            continue
        version = row.plan_version
        if version.id not in statuses:
            statuses[version.id] = review_status(version, today) if version.is_stale(today) else None
        out.append(Opportunity.from_plan_item(row, statuses[version.id]))
    return out


class OpportunityKey(NamedTuple):
    kind: str
    id: int


def _load(keys: list[Any], frameworks: dict[int, FrameworkAgreement] | None = None
          ) -> list[PlanItem | Lot | FrameworkAgreement]:
    """The rows of (kind, id) keys, loaded with one query per kind, in the keys' order. Both
    queries always run (an empty id list included), so the count never depends on the data.
    ``frameworks``: the frameworks already loaded by the key query; None (keys from the cache):
    one more query loads them (it always runs then, an empty id list included)."""
    item_ids = [k.id for k in keys if k.kind == "plan_item"]
    lot_ids = [k.id for k in keys if k.kind == "lot"]
    rows: dict[tuple[str, int], Any] = {}
    if frameworks is None:
        framework_ids = [k.id for k in keys if k.kind == "framework"]
        frameworks = {fa.id: fa for fa in db.session.scalars(
            _frameworks_loading().where(FrameworkAgreement.id.in_(framework_ids))).unique()}
    for fa in frameworks.values():
        rows[("framework", fa.id)] = fa
    for item in db.session.scalars(_items_loading().where(PlanItem.id.in_(item_ids))).unique():
        rows[("plan_item", item.id)] = item
    for lot in db.session.scalars(_lots_loading().where(Lot.id.in_(lot_ids))).unique():
        rows[("lot", lot.id)] = lot
    return [rows[(k.kind, k.id)] for k in keys if (k.kind, k.id) in rows]


def opportunities_page(filters: Filters, per_page: int = PER_PAGE) -> Page:
    """One page of opportunities: one count, one key query and one query per kind. The count and
    the page's keys (the expensive part over the whole region) are cached per pipeline generation."""
    offset = (filters.page - 1) * per_page
    loaded: list[dict[int, FrameworkAgreement]] = []

    def count_and_keys() -> dict[str, Any]:
        rows = db.session.execute(keys_stmt(filters, per_page, offset)).unique().all()
        loaded.append(_frameworks_of(rows))
        return {"total": db.session.scalar(total_stmt(filters)) or 0,
                "keys": [[row.kind, row.id] for row in rows]}

    found = cache.memo("pipeline", f"{filters.query_string()}|{filters.page}|{per_page}", count_and_keys)
    keys = [OpportunityKey(*k) for k in found["keys"]]
    return Page(items=to_opportunities(_load(keys, loaded[0] if loaded else None)), page=filters.page,
                per_page=per_page, total=found["total"])


def _frameworks_of(rows: Iterable[Any]) -> dict[int, FrameworkAgreement]:
    """The frameworks the key query loaded (its third column)."""
    return {row.FrameworkAgreement.id: row.FrameworkAgreement for row in rows if row.FrameworkAgreement is not None}


def feed_opportunities(filters: Filters, default_sort: str = DEFAULT_SORT,
                       limit: int = FEED_LIMIT) -> list[Opportunity]:
    """The rows of a feed: the page's filters; the page's sort if one was asked for."""
    if filters.sort == DEFAULT_SORT and default_sort != DEFAULT_SORT:
        filters = replace(filters, sort=default_sort)
    rows = db.session.execute(keys_stmt(filters, limit)).unique().all()
    return to_opportunities(_load(rows, _frameworks_of(rows)))


def all_opportunities(filters: Filters, chunk: int = 500) -> Iterator[Opportunity]:
    """Every opportunity matching the filters, in the page's order (all pages; the exports): the keys
    in one query, the rows loaded ``chunk`` at a time with one query per kind."""
    total = db.session.scalar(total_stmt(filters)) or 0
    if not total:
        return
    rows = db.session.execute(keys_stmt(filters, total)).unique().all()
    frameworks = _frameworks_of(rows)
    for start in range(0, len(rows), chunk):
        yield from to_opportunities(_load(rows[start:start + chunk], frameworks))


def published_item(uid: str) -> PlanItem | None:
    """The item with this uid in its plan's currently published version (any state)."""
    return db.session.scalars(
        select(PlanItem)
        .join(PlanItem.plan_version)
        .where(PlanItem.uid == uid, PlanVersion.state == PlanState.PUBLISHED)
        .options(contains_eager(PlanItem.plan_version).joinedload(PlanVersion.plan)
                 .lazyload(ProcurementPlan.municipality),
                 joinedload(PlanItem.municipality), joinedload(PlanItem.category),
                 joinedload(PlanItem.main_cpv_code), joinedload(PlanItem.funding_measure),
                 selectinload(PlanItem.additional_cpv))
        .limit(1)
    ).first()


def is_launched(uid: str) -> bool:
    """Has a published (or later) tender taken this plan item?"""
    return db.session.scalar(select(func.count()).select_from(_launched_uids().where(
        TenderPlanItem.item_uid == uid).subquery())) > 0


def item_is_open(item: PlanItem) -> bool:
    """An upcoming item: planned or in preparation in a published version, and not launched."""
    return (item.plan_version.state == PlanState.PUBLISHED and item.state in OPEN_STATES
            and not is_launched(item.uid))


def item_cpv_codes(item: PlanItem) -> list[Any]:
    """Main CPV code first, then the additional ones (CpvCode rows, with labels)."""
    codes = [item.main_cpv_code] if item.main_cpv_code is not None else []
    return codes + [c for c in item.additional_cpv if c.code != item.main_cpv]


def public_lot(lot_id: int) -> Lot | None:
    """A lot whose tender is published (or later; a tender cancelled after publication too),
    with what its public page shows."""
    return db.session.scalars(
        select(Lot).join(Lot.tender)
        .where(Lot.id == lot_id, Tender.state.in_(PUBLIC_TENDER_STATES), Tender.published_at.is_not(None))
        .options(contains_eager(Lot.tender).selectinload(Tender.lots).lazyload("*"),
                 joinedload(Lot.municipality), joinedload(Lot.category), joinedload(Lot.place),
                 selectinload(Lot.criteria), selectinload(Lot.additional_cpv), lazyload(Lot.bids))
    ).first()


def lots_of_item(uid: str) -> list[Lot]:
    """The public lots made from a plan item (its tender is published or later)."""
    return list(db.session.scalars(
        select(Lot).join(Lot.tender)
        .where(Lot.plan_item_uid == uid, Tender.state.in_(PUBLIC_TENDER_STATES), Tender.published_at.is_not(None))
        .options(contains_eager(Lot.tender).lazyload(Tender.mandates), lazyload(Lot.additional_cpv),
                 lazyload(Lot.winner))
        .order_by(Tender.published_at.desc(), Lot.number)))


def public_framework(framework_id: int) -> FrameworkAgreement | None:
    """A framework agreement with a public page: signed (active, expired or terminated), not planned."""
    return db.session.scalars(_frameworks_loading().where(
        FrameworkAgreement.id == framework_id, FrameworkAgreement.state != FrameworkState.PLANNED)).first()


def framework_is_open(fa: FrameworkAgreement) -> bool:
    """New suppliers may still join: the framework is active and admits them."""
    return fa.state == FrameworkState.ACTIVE and fa.admits_new_suppliers


def lot_is_open(lot: Lot) -> bool:
    """A lot in which interest can be registered: open, in a published tender."""
    return lot.state == LotState.OPEN and lot.tender.state == TenderState.PUBLISHED


def lot_notice(lot: Lot) -> str | None:
    """The notice sentence citing the legal article, in the current language."""
    lang = str(get_locale() or "lt")
    return (lot.notice_text_lt or lot.notice_text_en) if lang == "lt" else (lot.notice_text_en or lot.notice_text_lt)


def lot_cpv_codes(lot: Lot) -> list[Any]:
    """Main CPV code first (a CpvCode row, with its label), then the additional ones."""
    main = db.session.get(CpvCode, lot.main_cpv)
    return ([main] if main is not None else []) + [c for c in lot.additional_cpv if c.code != lot.main_cpv]


# --- saved searches ----------------------------------------------------------------------------

def searches_for(user: User) -> list[SavedSearch]:
    return list(db.session.scalars(
        select(SavedSearch).where(SavedSearch.user_id == user.id).order_by(SavedSearch.name, SavedSearch.id)))


def save_search(actor: User, name: str, query: str, lookups: FilterLookups | None = None) -> SavedSearch:
    """Save the filters of ``query`` under ``name``. Only items published or changed after this
    moment are sent in the digests (the user has just seen the current ones)."""
    require(actor, "search.save")
    name = (name or "").strip()
    if not name:
        raise DomainError(_("Give the search a name."), field="name")
    if len(name) > 120:
        raise DomainError(_("The name may be at most %(num)d characters long.", num=120), field="name")
    filters = parse_filters(query_args(query), lookups or FilterLookups.load())
    if filters.errors:
        raise DomainError(_("Correct the filters before saving the search: %(problems)s",
                            problems=" ".join(filters.errors.values())))
    count = len(searches_for(actor))
    if count >= MAX_SAVED_SEARCHES:
        raise DomainError(_("You can keep at most %(num)d saved searches; delete one first.",
                            num=MAX_SAVED_SEARCHES))
    bind_actor(db.session(), actor)
    search = SavedSearch(user_id=actor.id, name=name, query=filters.query_string()[:1000])
    db.session.add(search)
    db.session.flush()
    return search


def delete_search(actor: User, search: SavedSearch) -> None:
    """Only the owner deletes a saved search."""
    require(actor, "search.save")
    if search.user_id != actor.id:
        raise PermissionDenied("search.delete")
    bind_actor(db.session(), actor)
    db.session.delete(search)
    db.session.flush()


# --- digests -----------------------------------------------------------------------------------

def _new_items_stmt(search: SavedSearch, filters: Filters) -> Select:
    """Items matching the search that were published or changed after it was saved and were
    not sent yet (or changed since they were sent)."""
    return (
        plan_items_stmt(filters)
        .outerjoin(SavedSearchHit, and_(SavedSearchHit.saved_search_id == search.id,
                                        SavedSearchHit.item_uid == PlanItem.uid))
        .where(PlanItem.content_changed_at > search.created_at,
               or_(SavedSearchHit.item_uid.is_(None), PlanItem.content_changed_at > SavedSearchHit.content_changed_at))
    )


def lot_hit_key(lot_id: Any) -> Any:
    """``lot-<id>``: the ``SavedSearchHit.item_uid`` of a lot (a Python value or an SQL expression)."""
    if isinstance(lot_id, int):
        return f"lot-{lot_id}"
    return literal("lot-") + cast(lot_id, String)


def _new_lots_stmt(search: SavedSearch, filters: Filters) -> Select:
    """Open lots matching the search whose tender was published after the search was saved and
    that were not sent yet (a published lot no longer changes)."""
    return (
        lots_stmt(filters)
        .outerjoin(SavedSearchHit, and_(SavedSearchHit.saved_search_id == search.id,
                                        SavedSearchHit.item_uid == lot_hit_key(Lot.id)))
        .where(Tender.published_at > search.created_at, SavedSearchHit.item_uid.is_(None))
    )


def _digest_text(search: SavedSearch, opportunities: list[Opportunity], base_url: str) -> tuple[str, str]:
    n = len(opportunities)
    subject = ngettext("%(num)d new opportunity for “%(name)s”", "%(num)d new opportunities for “%(name)s”",
                       n, name=search.name)
    lines = [ngettext("One new or changed opportunity matches your saved search “%(name)s”:",
                      "%(num)d new or changed opportunities match your saved search “%(name)s”:",
                      n, name=search.name), ""]
    for o in opportunities[:DIGEST_LIST_LIMIT]:
        lines.append(f"• {o.title}" if not o.is_lot else f"• {o.title} ({o.kind_label}: {o.tender_title})")
        lines.append("  " + " · ".join([o.municipality.name, o.when_label, money(o.value),
                                        o.reservation.plain_words]))
        lines.append(f"  {base_url}{o.url}")
    if n > DIGEST_LIST_LIMIT:
        lines += ["", _("…and %(num)d more.", num=n - DIGEST_LIST_LIMIT)]
    lines += ["", _("All matching opportunities:")]
    return subject, "\n".join(lines)


def send_digests(now: dt.datetime | None = None) -> int:
    """Notify each saved search's owner once about new matching items and lots and record them as
    sent. Idempotent: a second run finds nothing new and sends nothing. Returns the digests sent."""
    now = now or utcnow()
    lookups = FilterLookups.load()
    base_url = current_app.config.get("BASE_URL", "").rstrip("/")
    sent = 0
    searches = db.session.scalars(
        select(SavedSearch).join(SavedSearch.user).where(User.active.is_(True))
        .options(contains_eager(SavedSearch.user)).order_by(SavedSearch.id)
    ).all()
    for search in searches:
        user = search.user
        if not can(user, "search.save"):
            continue
        filters = parse_filters(query_args(search.query), lookups)
        if filters.errors:
            log.warning("saved search %s has invalid filters: %s", search.id, filters.errors)
            continue
        items = list(db.session.scalars(_new_items_stmt(search, filters)).unique())
        lots = list(db.session.scalars(_new_lots_stmt(search, filters)).unique())
        if not items and not lots:
            continue
        link = _path("public.opportunities") + (f"?{search.query}" if search.query else "")
        with force_locale(user.locale or "lt"):
            opportunities = to_opportunities([*items, *lots], now.date())
            subject, body = _digest_text(search, opportunities, base_url)
        created = notify(user, kind="saved_search_digest", subject=subject, body=body,
                         dedupe_key=f"digest:{search.id}:{now.date().isoformat()}", link=link)
        if created is None:  # already sent today: these rows go out in the next digest
            continue
        hits = {h.item_uid: h for h in db.session.scalars(
            select(SavedSearchHit).where(SavedSearchHit.saved_search_id == search.id))}
        for o in opportunities:
            hit = hits.get(o.hit_key)
            if hit is None:
                db.session.add(SavedSearchHit(saved_search_id=search.id, item_uid=o.hit_key,
                                              content_changed_at=o.updated, sent_at=now))
            else:
                hit.content_changed_at = o.updated
                hit.sent_at = now
        search.last_digest_at = now
        sent += 1
        db.session.flush()
    return sent
