"""Plan rules and workflow. Every way in (forms, imports, the API) goes through ``check_item``
and the functions below; they take the acting user explicitly and flush, never commit."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any

from dateutil.relativedelta import relativedelta
from flask_babel import gettext as _
from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from srpp.auth.models import User
from srpp.core import cache, settings
from srpp.core.audit import bind_actor
from srpp.core.db import is_postgres, utcnow
from srpp.core.errors import DomainError
from srpp.core.i18n import money
from srpp.core.permissions import require
from srpp.cpv.models import CpvCode
from srpp.extensions import db
from srpp.orgs.models import FundingMeasure, Municipality, PriorityArea, ServiceCategory
from srpp.plans.models import ItemState, PlanItem, PlanState, PlanVersion, ProcurementPlan
from srpp.rules import services as rules
from srpp.rules.models import Procedure, ReservationBasis

PLAN_MONTHS = 12


def first_of_month(day: dt.date) -> dt.date:
    return day.replace(day=1)


def period_for(start_month: dt.date) -> tuple[dt.date, dt.date]:
    start = first_of_month(start_month)
    end = start + relativedelta(months=PLAN_MONTHS) - dt.timedelta(days=1)
    return start, end


# --- item rules ------------------------------------------------------------------------------

@dataclass
class ItemInput:
    """A plan item as parsed values (from a form, an import row or the API)."""

    title: str
    category_id: int
    main_cpv: str
    estimated_value: Decimal
    launch_month: dt.date
    duration_months: int
    procedure: Procedure
    additional_cpv: list[str] = field(default_factory=list)
    priority_area: PriorityArea | None = None
    target_groups: str | None = None
    quantity: Decimal | None = None
    unit: str | None = None
    reservation: ReservationBasis = ReservationBasis.NONE
    intended_lots: int = 1
    funding_measure_id: int | None = None
    is_bundle: bool = False
    notes_for_seos: str | None = None
    framework_id: int | None = None

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    @property
    def cpv_codes(self) -> list[str]:
        seen: list[str] = []
        for c in [self.main_cpv, *self.additional_cpv]:
            if c and c not in seen:
                seen.append(c)
        return seen


@dataclass
class Problem:
    field: str
    message: str


class ItemRefused(DomainError):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(problems[0].message, field=problems[0].field)
        self.problems = problems


@dataclass
class Lookups:
    """Reference data loaded once per check (imports check thousands of rows)."""

    cpv: set[str]
    categories: dict[int, ServiceCategory]
    funding: set[int]
    thresholds: dict[dt.date, Any] = field(default_factory=dict)

    def threshold(self, launch: dt.date) -> Any:
        if launch not in self.thresholds:
            self.thresholds[launch] = rules.threshold_row(launch)
        return self.thresholds[launch]

    @classmethod
    def load(cls, cpv_codes: list[str] | None = None) -> Lookups:
        stmt = select(CpvCode.code)
        if cpv_codes is not None:
            stmt = stmt.where(CpvCode.code.in_(cpv_codes))
        return cls(
            cpv=set(db.session.scalars(stmt)),
            categories={c.id: c for c in db.session.scalars(select(ServiceCategory))},
            funding=set(db.session.scalars(select(FundingMeasure.id))),
        )


def check_item(inp: ItemInput, plan: ProcurementPlan, lookups: Lookups | None = None) -> list[Problem]:
    """Every rule of a plan item; returns all problems (empty when the item is valid)."""
    lookups = lookups or Lookups.load(inp.cpv_codes)
    problems: list[Problem] = []

    def add(name: str, message: str) -> None:
        problems.append(Problem(name, message))

    if not (inp.title or "").strip():
        add("title", _("Give the item a title."))
    if inp.category_id not in lookups.categories:
        add("category_id", _("Choose a service category."))
    unknown = [c for c in inp.cpv_codes if c not in lookups.cpv]
    if not inp.main_cpv:
        add("main_cpv", _("Give the main CPV code."))
    elif inp.main_cpv in unknown:
        add("main_cpv", _("%(codes)s: not in the CPV 2008 vocabulary (check the code and its check digit).",
                          codes=inp.main_cpv))
    extra_unknown = [c for c in unknown if c != inp.main_cpv]
    if extra_unknown:
        add("additional_cpv", _("%(codes)s: not in the CPV 2008 vocabulary (check the code and its check digit).",
                                codes=", ".join(extra_unknown)))
    if inp.estimated_value is None or inp.estimated_value <= 0:
        add("estimated_value", _("The estimated value must be greater than zero."))
    if inp.quantity is not None and inp.quantity <= 0:
        add("quantity", _("The quantity must be greater than zero."))
    if inp.launch_month is None or not plan.covers(first_of_month(inp.launch_month)):
        add("launch_month", _("The launch month must be inside the plan period (%(start)s – %(end)s).",
                              start=plan.period_start.strftime("%Y-%m"), end=plan.period_end.strftime("%Y-%m")))
    if inp.duration_months is None or not 1 <= inp.duration_months <= 120:
        add("duration_months", _("The contract duration must be between 1 and 120 months."))
    if inp.intended_lots is None or inp.intended_lots < 1:
        add("intended_lots", _("Plan at least one lot."))
    if inp.funding_measure_id is not None and inp.funding_measure_id not in lookups.funding:
        add("funding_measure_id", _("Choose a funding source from the list."))
    if inp.framework_id is not None:
        problems.extend(Problem("framework_id", m) for m in _framework_problems(inp, plan))
    if not unknown and inp.main_cpv:
        for message in rules.reservation_problems(inp.reservation, inp.cpv_codes, inp.duration_months):
            add("reservation", message)
        if inp.estimated_value and inp.estimated_value > 0 and inp.launch_month:
            launch = first_of_month(inp.launch_month)
            for message in rules.procedure_problems(inp.procedure, inp.estimated_value, inp.cpv_codes, launch, money,
                                                    lookups.threshold(launch)):
                add("procedure", message)
    return problems


def _framework_problems(inp: ItemInput, plan: ProcurementPlan) -> list[str]:
    """A planned call-off must point to a framework the municipality takes part in."""
    from srpp.frameworks.models import FrameworkAgreement, FrameworkParticipant, ParticipantState

    if inp.procedure != Procedure.CALL_OFF:
        return [_("Only a call-off under a framework agreement points to a framework.")]
    joined = db.session.scalar(select(FrameworkParticipant.id).join(FrameworkAgreement).where(
        FrameworkAgreement.id == inp.framework_id, FrameworkParticipant.municipality_id == plan.municipality_id,
        FrameworkParticipant.state != ParticipantState.WITHDRAWN))
    if joined is None:
        return [_("The municipality does not take part in this framework agreement.")]
    return []


def _apply(item: PlanItem, inp: ItemInput, lookups: Lookups) -> None:
    category = lookups.categories[inp.category_id]
    item.title = inp.title.strip()
    item.category_id = inp.category_id
    item.main_cpv = inp.main_cpv
    item.priority_area = inp.priority_area or category.priority_area
    item.target_groups = (inp.target_groups or "").strip() or category.target_group_en
    item.estimated_value = Decimal(inp.estimated_value).quantize(Decimal("0.01"))
    item.quantity = inp.quantity
    item.unit = (inp.unit or "").strip() or None
    item.launch_month = first_of_month(inp.launch_month)
    item.duration_months = inp.duration_months
    item.procedure = inp.procedure
    item.reservation = inp.reservation
    item.intended_lots = inp.intended_lots
    item.funding_measure_id = inp.funding_measure_id
    item.is_bundle = inp.is_bundle
    item.notes_for_seos = (inp.notes_for_seos or "").strip() or None
    item.framework_id = inp.framework_id
    extra = [c for c in inp.cpv_codes if c != inp.main_cpv]
    item.additional_cpv = list(db.session.scalars(select(CpvCode).where(CpvCode.code.in_(extra)))) if extra else []


# --- plans and versions -----------------------------------------------------------------------

def plans_for(municipality: Municipality) -> list[ProcurementPlan]:
    return list(db.session.scalars(
        select(ProcurementPlan).where(ProcurementPlan.municipality_id == municipality.id)
        .order_by(ProcurementPlan.period_start.desc())
    ))


def create_plan(actor: User, municipality: Municipality, start_month: dt.date, title: str | None = None) -> PlanVersion:
    require(actor, "plan.edit", municipality)
    bind_actor(db.session(), actor)
    start, end = period_for(start_month)
    exists = db.session.scalar(select(ProcurementPlan.id).where(
        ProcurementPlan.municipality_id == municipality.id, ProcurementPlan.period_start == start))
    if exists:
        raise DomainError(_("A plan starting in %(month)s already exists.", month=start.strftime("%Y-%m")),
                          field="start_month")
    plan = ProcurementPlan(municipality_id=municipality.id, period_start=start, period_end=end,
                           title=(title or "").strip() or _("Procurement plan %(start)s – %(end)s",
                                                                start=start.strftime("%Y-%m"),
                                                                end=end.strftime("%Y-%m")))
    version = PlanVersion(plan=plan, municipality_id=municipality.id, number=1, state=PlanState.DRAFT,
                          created_by_id=actor.id)
    db.session.add_all([plan, version])
    db.session.flush()
    return version


def draft_of(plan: ProcurementPlan) -> PlanVersion | None:
    return next((v for v in plan.versions if v.state == PlanState.DRAFT), None)


def published_of(plan: ProcurementPlan) -> PlanVersion | None:
    return next((v for v in plan.versions if v.state == PlanState.PUBLISHED), None)


def start_new_version(actor: User, plan: ProcurementPlan) -> PlanVersion:
    """Editing after publication: a new draft with a copy of the published items (same uids)."""
    require(actor, "plan.edit", plan.municipality)
    bind_actor(db.session(), actor)
    existing = draft_of(plan)
    if existing is not None:
        return existing
    source = published_of(plan) or plan.versions[-1]
    draft = PlanVersion(plan=plan, municipality_id=plan.municipality_id, number=plan.versions[-1].number + 1,
                        state=PlanState.DRAFT, created_by_id=actor.id)
    db.session.add(draft)
    for item in source.items:
        draft.items.append(_copy_item(item))
    db.session.flush()
    return draft


_COPIED = ("municipality_id", "uid", "position", "title", "category_id", "main_cpv", "priority_area",
           "target_groups", "estimated_value", "quantity", "unit", "launch_month", "duration_months", "procedure",
           "reservation", "intended_lots", "funding_measure_id", "is_bundle", "notes_for_seos", "state",
           "content_changed_at", "framework_id")


def _copy_item(item: PlanItem) -> PlanItem:
    copy = PlanItem(**{name: getattr(item, name) for name in _COPIED})
    copy.additional_cpv = list(item.additional_cpv)
    return copy


def require_readable(actor: User | None, version: PlanVersion) -> PlanVersion:
    """Published and superseded versions are public; drafts only for the municipality's staff and
    the region ("plan.view"). An anonymous visitor is not told that a draft exists (404)."""
    from werkzeug.exceptions import NotFound

    if version.state == PlanState.DRAFT:
        if actor is None or not actor.is_authenticated:
            raise NotFound()
        require(actor, "plan.view", version.plan.municipality)
    return version


def _require_draft(version: PlanVersion) -> None:
    if version.state != PlanState.DRAFT:
        raise DomainError(_("Published versions cannot be changed; start a new version to edit the plan."))


def add_item(actor: User, version: PlanVersion, inp: ItemInput, lookups: Lookups | None = None) -> PlanItem:
    require(actor, "plan.edit", version.plan.municipality)
    _require_draft(version)
    lookups = lookups or Lookups.load(inp.cpv_codes)
    problems = check_item(inp, version.plan, lookups)
    if problems:
        raise ItemRefused(problems)
    bind_actor(db.session(), actor)
    item = PlanItem(municipality_id=version.municipality_id,
                    position=max((i.position for i in version.items), default=0) + 1)
    _apply(item, inp, lookups)
    version.items.append(item)
    db.session.flush()
    return item


class ItemsRefused(DomainError):
    """Some of several items break a rule: ``problems`` maps the input's index to its problems."""

    def __init__(self, problems: dict[int, list[Problem]]) -> None:
        first = problems[min(problems)][0]
        super().__init__(first.message, field=first.field)
        self.problems = problems


def add_items(actor: User, version: PlanVersion, inputs: list[ItemInput], lookups: Lookups,
              batch: int = 1000) -> list[PlanItem]:
    """Add many items at once (imports): all are checked first and none is added if any is
    wrong; then positions are computed once and rows flushed in batches (no per-item scan)."""
    require(actor, "plan.edit", version.plan.municipality)
    _require_draft(version)
    problems = {n: found for n, inp in enumerate(inputs) if (found := check_item(inp, version.plan, lookups))}
    if problems:
        raise ItemsRefused(problems)
    bind_actor(db.session(), actor)
    position = max((i.position for i in version.items), default=0)
    added = []
    with db.session.no_autoflush:
        for n, inp in enumerate(inputs, start=1):
            item = PlanItem(municipality_id=version.municipality_id, position=position + n)
            _apply(item, inp, lookups)
            version.items.append(item)
            added.append(item)
            if n % batch == 0:
                db.session.flush()
    db.session.flush()
    return added


def update_item(actor: User, item: PlanItem, inp: ItemInput) -> PlanItem:
    version = item.plan_version
    require(actor, "plan.edit", version.plan.municipality)
    _require_draft(version)
    lookups = Lookups.load(inp.cpv_codes)
    problems = check_item(inp, version.plan, lookups)
    if problems:
        raise ItemRefused(problems)
    bind_actor(db.session(), actor)
    _apply(item, inp, lookups)
    db.session.flush()
    return item


def delete_item(actor: User, item: PlanItem) -> None:
    version = item.plan_version
    require(actor, "plan.edit", version.plan.municipality)
    _require_draft(version)
    if item.state != ItemState.PLANNED:
        raise DomainError(_("This item is already being tendered and cannot be removed from the plan."))
    bind_actor(db.session(), actor)
    version.items.remove(item)
    db.session.delete(item)
    db.session.flush()


def publish(actor: User, version: PlanVersion, change_note: str | None = None) -> PlanVersion:
    plan = version.plan
    require(actor, "plan.edit", plan.municipality)
    _require_draft(version)
    if not version.items:
        raise DomainError(_("Add at least one item before publishing the plan."))
    bind_actor(db.session(), actor)
    # serialise publications of one municipality (PostgreSQL row lock)
    if is_postgres():
        db.session.execute(select(Municipality.id).where(Municipality.id == plan.municipality_id).with_for_update())
    overlapping = db.session.scalar(
        select(ProcurementPlan).join(PlanVersion, PlanVersion.plan_id == ProcurementPlan.id).where(
            ProcurementPlan.municipality_id == plan.municipality_id,
            ProcurementPlan.id != plan.id,
            PlanVersion.state == PlanState.PUBLISHED,
            ProcurementPlan.period_start <= plan.period_end,
            ProcurementPlan.period_end >= plan.period_start,
        ).limit(1)
    )
    if overlapping is not None:
        raise DomainError(_("%(title)s is already published for part of this period: a municipality can have "
                            "only one published plan for any month.", title=overlapping.title))
    now = utcnow()
    previous = published_of(plan)
    if previous is not None:
        previous.state = PlanState.SUPERSEDED
        previous.superseded_at = now
        db.session.flush()  # free the one-published-version index before publishing the new one
        before = {i.uid: i for i in previous.items}
    else:
        before = {}
    for item in version.items:
        old = before.get(item.uid)
        if old is None or item_changes(old, item):
            item.content_changed_at = now
    version.state = PlanState.PUBLISHED
    version.published_at = now
    version.published_by_id = actor.id
    version.change_note = (change_note or "").strip() or None
    version.review_due = now.date() + relativedelta(months=settings.get("plans.review_months"))
    cache.bump("pipeline")
    db.session.flush()
    return version


# --- reading -----------------------------------------------------------------------------------

DIFF_FIELDS = ("title", "category_id", "main_cpv", "cpv_codes", "priority_area", "target_groups",
               "estimated_value", "quantity", "unit", "launch_month", "duration_months", "procedure",
               "reservation", "intended_lots", "funding_measure_id", "is_bundle", "notes_for_seos", "state")


def _display(item: PlanItem, name: str) -> Any:
    if name == "category_id":
        return item.category.name if item.category else None
    if name == "funding_measure_id":
        return item.funding_measure.name if item.funding_measure else None
    value = getattr(item, name)
    if name == "launch_month" and value:
        return value.strftime("%Y-%m")
    if name == "estimated_value":
        return money(value)
    if hasattr(value, "label"):
        return value.label
    if isinstance(value, list):
        return ", ".join(value)
    return value


def item_changes(old: PlanItem, new: PlanItem) -> dict[str, tuple[Any, Any]]:
    out = {}
    for name in DIFF_FIELDS:
        a, b = getattr(old, name), getattr(new, name)
        if a != b:
            out[name] = (_display(old, name), _display(new, name))
    return out


@dataclass
class VersionDiff:
    added: list[PlanItem]
    removed: list[PlanItem]
    changed: list[tuple[PlanItem, dict[str, tuple[Any, Any]]]]

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


def diff(older: PlanVersion, newer: PlanVersion) -> VersionDiff:
    a = {i.uid: i for i in older.items}
    b = {i.uid: i for i in newer.items}
    changed = []
    for uid in b.keys() & a.keys():
        changes = item_changes(a[uid], b[uid])
        if changes:
            changed.append((b[uid], changes))
    return VersionDiff(
        added=[b[u] for u in b.keys() - a.keys()],
        removed=[a[u] for u in a.keys() - b.keys()],
        changed=sorted(changed, key=lambda pair: pair[0].position),
    )


@dataclass
class ReviewStatus:
    state: str  # ok | due_soon | overdue | none
    due: dt.date | None
    published_at: dt.datetime | None

    @property
    def stale(self) -> bool:
        return self.state == "overdue"


def review_status(version: PlanVersion | None, today: dt.date | None = None,
                  warning_days: int | None = None) -> ReviewStatus:
    """``warning_days``: the setting ``plans.review_warning_days`` when the caller has read it already."""
    today = today or dt.date.today()
    if version is None or version.state != PlanState.PUBLISHED or version.review_due is None:
        return ReviewStatus("none", None, None)
    if today > version.review_due:
        state = "overdue"
    elif today >= version.review_due - dt.timedelta(
            days=settings.get("plans.review_warning_days") if warning_days is None else warning_days):
        state = "due_soon"
    else:
        state = "ok"
    return ReviewStatus(state, version.review_due, version.published_at)


@dataclass
class ReservedShare:
    reserved_value: Decimal
    simplified_value: Decimal
    minimum: Decimal

    @property
    def ratio(self) -> Decimal | None:
        if not self.simplified_value:
            return None
        return (self.reserved_value / self.simplified_value).quantize(Decimal("0.0001"))

    @property
    def below_minimum(self) -> bool:
        return self.ratio is not None and self.ratio < self.minimum


def reserved_share(items: list[PlanItem]) -> ReservedShare:
    """LT-RES-02: planned reserved value (any basis) against planned simplified-procurement value."""
    active = [i for i in items if i.state != ItemState.CANCELLED]
    return ReservedShare(
        reserved_value=sum((i.estimated_value for i in active if i.is_reserved), Decimal(0)),
        simplified_value=sum((i.estimated_value for i in active if i.procedure == Procedure.SIMPLIFIED), Decimal(0)),
        minimum=settings.get("plans.reserved_min_share"),
    )


def current_versions_stmt() -> Select:
    """The published version of every plan (the plans' current content)."""
    return select(PlanVersion).where(PlanVersion.state == PlanState.PUBLISHED)


def current_published(municipality: Municipality, today: dt.date | None = None) -> PlanVersion | None:
    today = today or dt.date.today()
    month = first_of_month(today)
    return db.session.scalar(
        select(PlanVersion).join(ProcurementPlan).where(
            PlanVersion.state == PlanState.PUBLISHED, ProcurementPlan.municipality_id == municipality.id,
            ProcurementPlan.period_start <= month, ProcurementPlan.period_end >= month,
        )
    ) or db.session.scalar(
        select(PlanVersion).join(ProcurementPlan).where(
            PlanVersion.state == PlanState.PUBLISHED, ProcurementPlan.municipality_id == municipality.id)
        .order_by(ProcurementPlan.period_start.desc()).limit(1)
    )


def current_items_stmt() -> Select:
    return (
        select(PlanItem)
        .join(PlanVersion, PlanItem.plan_version_id == PlanVersion.id)
        .where(PlanVersion.state == PlanState.PUBLISHED, PlanItem.state != ItemState.CANCELLED)
        .options(selectinload(PlanItem.additional_cpv))
    )


def review_overview(today: dt.date | None = None) -> list[tuple[Municipality, PlanVersion | None, ReviewStatus]]:
    """Every municipality with its ``current_published`` version and that version's review status,
    in three statements whatever the number of municipalities."""
    today = today or dt.date.today()
    month = first_of_month(today)
    current: dict[int, tuple[bool, dt.date, PlanVersion]] = {}
    for version, municipality_id, start, end in db.session.execute(
            select(PlanVersion, ProcurementPlan.municipality_id, ProcurementPlan.period_start,
                   ProcurementPlan.period_end).join(ProcurementPlan)
            .where(PlanVersion.state == PlanState.PUBLISHED).order_by(PlanVersion.id)):
        key = (start <= month <= end, start, version)  # a plan covering this month first, else the latest
        if municipality_id not in current or key[:2] > current[municipality_id][:2]:
            current[municipality_id] = key
    warning_days = settings.get("plans.review_warning_days")
    out = []
    for m in db.session.scalars(select(Municipality).order_by(Municipality.sort_order)):
        version = current[m.id][2] if m.id in current else None
        out.append((m, version, review_status(version, today, warning_days)))
    return out


def totals(items: list[PlanItem]) -> dict[str, Any]:
    by_area: dict[str, Decimal] = {}
    by_month: dict[str, Decimal] = {}
    by_muni: dict[str, Decimal] = {}
    for i in items:
        by_area[i.priority_area.label] = by_area.get(i.priority_area.label, Decimal(0)) + i.estimated_value
        key = i.launch_month.strftime("%Y-%m")
        by_month[key] = by_month.get(key, Decimal(0)) + i.estimated_value
        by_muni[i.municipality.code] = by_muni.get(i.municipality.code, Decimal(0)) + i.estimated_value
    return {"area": dict(sorted(by_area.items())), "month": dict(sorted(by_month.items())),
            "municipality": by_muni, "total": sum(by_area.values(), Decimal(0))}


def count_items(stmt: Select) -> int:
    return db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0



def review_scan(today: dt.date | None = None) -> int:
    """Daily: remind the procurement officers of municipalities whose plan review is due within
    the warning period or overdue. Idempotent: one notification per version and state."""
    from flask import url_for
    from flask_babel import force_locale

    from srpp.auth.models import Membership, Role
    from srpp.core.notify import notify

    today = today or dt.date.today()
    sent = 0
    for muni, version, status in review_overview(today):
        if version is None or status.state not in ("due_soon", "overdue"):
            continue
        officers = db.session.scalars(
            select(User).join(Membership).where(Membership.municipality_id == muni.id,
                                                Membership.role == Role.PROCUREMENT_OFFICER, User.active.is_(True))
        ).all()
        for officer in officers:
            with force_locale(officer.locale):
                if status.state == "overdue":
                    subject = _("The procurement plan of %(municipality)s is overdue for review (due %(due)s)",
                                municipality=muni.name, due=status.due.isoformat())
                else:
                    subject = _("The procurement plan of %(municipality)s is due for review on %(due)s",
                                municipality=muni.name, due=status.due.isoformat())
                body = _("Plans are reviewed at least every six months so suppliers can rely on them. "
                         "Start a new version, update the items and publish it.")
            link = url_for("plans.version", version_id=version.id)
            if notify(officer, kind="plan.review", subject=subject, body=body, link=link,
                      dedupe_key=f"plan-review:{version.id}:{status.state}"):
                sent += 1
    return sent
