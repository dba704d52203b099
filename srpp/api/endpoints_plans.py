"""Plans, plan versions and plan items (``/api/v1``).

Published and superseded versions are public, as on the web; draft versions (and a plan that has
nothing but a draft) only for those with ``plan.view`` on the plan's municipality: its staff and the
regional readers. ``/plan-items`` lists the items of the published versions (the plans' current
content); ``version=<id>`` lists one version's items instead, a draft's included for those who may
see it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from flask_babel import gettext as _
from pydantic import BaseModel, Field
from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import contains_eager, joinedload, lazyload, selectinload

from srpp.api.endpoints import (
    CPV_PREFIX,
    MONTH,
    MUNICIPALITY_CODE,
    category_id,
    cpv_filter,
    hidden,
    month_start,
    municipality_id,
    paginate_all,
    permitted_municipality_ids,
    reservation_filter,
    values_of,
)
from srpp.api.spec import MAX_ID, ApiError, Page, PageQuery, not_found, operation
from srpp.api.views import bp
from srpp.auth.models import User
from srpp.extensions import db
from srpp.orgs.models import PriorityArea, ServiceCategory
from srpp.plans.models import ItemState, PlanItem, PlanState, PlanVersion, ProcurementPlan, plan_item_cpv
from srpp.rules.models import Procedure, ReservationBasis

# --- response models ---------------------------------------------------------------------------


class PlanVersionOut(BaseModel):
    id: int
    plan_id: int
    number: int
    state: values_of(PlanState) = Field(description="draft versions are shown only to those who may see them")
    published_at: dt.datetime | None
    superseded_at: dt.datetime | None
    review_due: dt.date | None = Field(description="when the published plan is to be reviewed")
    change_note: str | None
    item_count: int

    @classmethod
    def of(cls, v: PlanVersion, counts: dict[int, int]) -> PlanVersionOut:
        return cls(id=v.id, plan_id=v.plan_id, number=v.number, state=v.state.value, published_at=v.published_at,
                   superseded_at=v.superseded_at, review_due=v.review_due, change_note=v.change_note,
                   item_count=counts.get(v.id, 0))


class PlanOut(BaseModel):
    id: int
    municipality: str = Field(description="municipality code")
    title: str
    period_start: dt.date
    period_end: dt.date
    published_version_id: int | None = Field(description="the version that is the plan's current content")
    draft_version_id: int | None = Field(description="the draft being prepared (null for those who may not see it)")
    versions: list[PlanVersionOut] = Field(description="the versions the caller may see, oldest first")


class PlanVersionDetail(PlanVersionOut):
    municipality: str
    plan_title: str
    period_start: dt.date
    period_end: dt.date


class PlanItemOut(BaseModel):
    uid: str = Field(description="stable across the plan's versions")
    id: int = Field(description="the item's row in this version")
    plan_id: int
    version_id: int
    version_state: values_of(PlanState)
    municipality: str = Field(description="municipality code")
    position: int
    title: str
    category: str = Field(description="service category key")
    priority_area: values_of(PriorityArea)
    main_cpv: str
    cpv_codes: list[str] = Field(description="the main CPV code first, then the additional ones")
    target_groups: str | None
    estimated_value: Decimal = Field(description="euro, options and extensions included")
    quantity: Decimal | None
    unit: str | None
    launch_month: dt.date = Field(description="first day of the planned launch month")
    quarter: str = Field(description="e.g. 2027-Q1")
    duration_months: int
    procedure: values_of(Procedure)
    reservation: values_of(ReservationBasis) = Field(description="legal basis of the reservation (`none`: open)")
    reserved: bool
    intended_lots: int
    funding_measure: str | None = Field(description="funding measure code")
    is_bundle: bool
    framework_id: int | None = Field(description="a call-off planned under this framework agreement")
    notes_for_seos: str | None
    state: values_of(ItemState)
    content_changed_at: dt.datetime

    @classmethod
    def of(cls, i: PlanItem) -> PlanItemOut:
        v = i.plan_version
        return cls(
            uid=i.uid, id=i.id, plan_id=v.plan_id, version_id=v.id, version_state=v.state.value,
            municipality=i.municipality.code, position=i.position, title=i.title, category=i.category.key,
            priority_area=i.priority_area.value, main_cpv=i.main_cpv, cpv_codes=i.cpv_codes,
            target_groups=i.target_groups, estimated_value=i.estimated_value, quantity=i.quantity, unit=i.unit,
            launch_month=i.launch_month, quarter=i.quarter, duration_months=i.duration_months,
            procedure=i.procedure.value, reservation=i.reservation.value, reserved=i.is_reserved,
            intended_lots=i.intended_lots, funding_measure=i.funding_measure.code if i.funding_measure else None,
            is_bundle=i.is_bundle, framework_id=i.framework_id, notes_for_seos=i.notes_for_seos,
            state=i.state.value, content_changed_at=i.content_changed_at,
        )


# --- visibility ----------------------------------------------------------------------------------

def _drafts_visible(user: User | None) -> set[int]:
    """The municipalities whose draft plan versions the caller may see ("plan.view")."""
    return permitted_municipality_ids(user, "plan.view")


def _version_visible(v: PlanVersion, drafts: set[int]) -> bool:
    return v.state != PlanState.DRAFT or v.municipality_id in drafts


def _item_counts(version_ids: Sequence[int]) -> dict[int, int]:
    return dict(db.session.execute(
        select(PlanItem.plan_version_id, func.count()).where(PlanItem.plan_version_id.in_(list(version_ids) or [-1]))
        .group_by(PlanItem.plan_version_id)).all())


def _readable_version(user: User | None, version_id: int) -> PlanVersion:
    """The version, if the caller may read it (mirrors ``plans.services.require_readable``)."""
    v = db.session.get(PlanVersion, version_id)
    if v is None:
        raise not_found(_("Plan version"))
    if not _version_visible(v, _drafts_visible(user)):
        raise hidden(user, _("Plan version"), "plan.view")
    return v


# --- plans --------------------------------------------------------------------------------------

class PlanQuery(PageQuery):
    municipality: str | None = Field(None, pattern=MUNICIPALITY_CODE, description="municipality code, e.g. ROK")
    year: int | None = Field(None, ge=2000, le=2100, description="plans whose 12-month period overlaps this year")


def _plans_page(plans: Sequence[ProcurementPlan], drafts: set[int]) -> list[PlanOut]:
    counts = _item_counts([v.id for p in plans for v in p.versions])
    out = []
    for p in plans:
        visible = [v for v in p.versions if _version_visible(v, drafts)]
        out.append(PlanOut(
            id=p.id, municipality=p.municipality.code, title=p.title, period_start=p.period_start,
            period_end=p.period_end,
            published_version_id=next((v.id for v in visible if v.state == PlanState.PUBLISHED), None),
            draft_version_id=next((v.id for v in visible if v.state == PlanState.DRAFT), None),
            versions=[PlanVersionOut.of(v, counts) for v in visible]))
    return out


@operation(bp, "/plans", summary="12-month procurement plans", tag="plans", query=PlanQuery,
           response=Page[PlanOut])
def plans(user, query: PlanQuery, body):
    """The plans of the region, newest period first. A plan that has only a draft version is listed
    only for those who may see its municipality's drafts (its staff and the regional readers)."""
    drafts = _drafts_visible(user)
    published = exists().where(PlanVersion.plan_id == ProcurementPlan.id, PlanVersion.state != PlanState.DRAFT)
    stmt = (select(ProcurementPlan)
            .where(or_(published, ProcurementPlan.municipality_id.in_(drafts or [-1])))
            .options(selectinload(ProcurementPlan.versions))
            .order_by(ProcurementPlan.period_start.desc(), ProcurementPlan.municipality_id, ProcurementPlan.id))
    if query.municipality:
        stmt = stmt.where(ProcurementPlan.municipality_id == municipality_id(query.municipality))
    if query.year:
        stmt = stmt.where(ProcurementPlan.period_start <= dt.date(query.year, 12, 31),
                          ProcurementPlan.period_end >= dt.date(query.year, 1, 1))
    return paginate_all(stmt, query, lambda rows: _plans_page(rows, drafts))


@operation(bp, "/plans/<int:plan_id>", summary="One plan with its versions", tag="plans", response=PlanOut)
def plan(user, query, body, plan_id: int):
    p = db.session.get(ProcurementPlan, plan_id)
    if p is None:
        raise not_found(_("Plan"))
    drafts = _drafts_visible(user)
    if not any(_version_visible(v, drafts) for v in p.versions):
        raise not_found(_("Plan"))  # as on the web: a plan with nothing but a draft is not there for others
    return _plans_page([p], drafts)[0]


@operation(bp, "/plan-versions/<int:version_id>", summary="One plan version", tag="plans",
           response=PlanVersionDetail)
def plan_version(user, query, body, version_id: int):
    """A published or superseded version (public), or a draft (its municipality's staff and the
    regional readers). Its items: ``/api/v1/plan-items?version=<id>``."""
    v = _readable_version(user, version_id)
    base = PlanVersionOut.of(v, _item_counts([v.id]))
    return PlanVersionDetail(**base.model_dump(), municipality=v.plan.municipality.code, plan_title=v.plan.title,
                             period_start=v.plan.period_start, period_end=v.plan.period_end)


# --- plan items -----------------------------------------------------------------------------------

class PlanItemQuery(PageQuery):
    municipality: str | None = Field(None, pattern=MUNICIPALITY_CODE, description="municipality code, e.g. ROK")
    version: int | None = Field(None, ge=1, le=MAX_ID, description=(
        "the items of this plan version (a draft only for those who may see it: an unknown version, or a draft "
        "asked for anonymously, is a 400; a draft of another municipality a 403); default: the published versions"))
    cpv: str | None = Field(None, pattern=CPV_PREFIX, description="CPV code prefix (main or additional code)")
    category: str | None = Field(None, max_length=40, description="service category key")
    area: values_of(PriorityArea) | None = Field(None, description="priority area")
    reserved: bool | None = Field(None, description="true: reserved items only; false: open items only")
    basis: values_of(ReservationBasis) | None = Field(None, description="reservation basis")
    procedure: values_of(Procedure) | None = None
    launch_from: str | None = Field(None, pattern=MONTH, description="planned launch from this month (YYYY-MM)")
    launch_to: str | None = Field(None, pattern=MONTH, description="planned launch up to this month (YYYY-MM)")
    state: values_of(ItemState) | None = None
    q: str | None = Field(None, min_length=1, max_length=200, description="words of the title")


def _items_stmt():
    return (select(PlanItem)
            .join(PlanVersion, PlanItem.plan_version_id == PlanVersion.id)
            .options(contains_eager(PlanItem.plan_version).lazyload(PlanVersion.plan),
                     joinedload(PlanItem.category).lazyload(ServiceCategory.cpv_codes),
                     lazyload(PlanItem.main_cpv_code), selectinload(PlanItem.additional_cpv)))


@operation(bp, "/plan-items", summary="Plan items", tag="plans", query=PlanItemQuery, response=Page[PlanItemOut])
def plan_items(user, query: PlanItemQuery, body):
    """The items of the published plan versions (cancelled items included: filter with ``state``),
    by launch month; or, with ``version``, the items of one version in their order."""
    stmt = _items_stmt()
    if query.version is not None:
        try:
            v = _readable_version(user, query.version)
        except ApiError as exc:  # an unknown (or hidden) version is a bad filter value here
            raise ApiError(400, "invalid_parameter", exc.message, parameter="version") from None
        stmt = stmt.where(PlanItem.plan_version_id == v.id).order_by(PlanItem.position, PlanItem.id)
    else:
        stmt = stmt.where(PlanVersion.state == PlanState.PUBLISHED).order_by(
            PlanItem.launch_month, PlanItem.municipality_id, PlanItem.position, PlanItem.id)
    if query.municipality:
        stmt = stmt.where(PlanItem.municipality_id == municipality_id(query.municipality))
    if query.cpv:
        stmt = stmt.where(cpv_filter(PlanItem.main_cpv, plan_item_cpv, plan_item_cpv.c.item_id, PlanItem.id,
                                     query.cpv))
    if query.category:
        stmt = stmt.where(PlanItem.category_id == category_id(query.category))
    if query.area:
        stmt = stmt.where(PlanItem.priority_area == PriorityArea(query.area))
    stmt = stmt.where(*reservation_filter(PlanItem.reservation, query.reserved, query.basis))
    if query.procedure:
        stmt = stmt.where(PlanItem.procedure == Procedure(query.procedure))
    if query.launch_from:
        stmt = stmt.where(PlanItem.launch_month >= month_start(query.launch_from))
    if query.launch_to:
        stmt = stmt.where(PlanItem.launch_month <= month_start(query.launch_to))
    if query.state:
        stmt = stmt.where(PlanItem.state == ItemState(query.state))
    for word in (query.q or "").split()[:10]:
        stmt = stmt.where(PlanItem.title.ilike("%" + word.replace("\\", "\\\\").replace("%", "\\%")
                                               .replace("_", "\\_") + "%", escape="\\"))
    return paginate_all(stmt, query, lambda rows: [PlanItemOut.of(i) for i in rows])


@operation(bp, "/plan-items/<uid>", summary="One plan item by its stable uid", tag="plans", response=PlanItemOut)
def plan_item(user, query, body, uid: str):
    """The item in its plan's published version; an item that is only in a draft so far, for those
    who may see that draft."""
    rows = db.session.scalars(_items_stmt().where(PlanItem.uid == uid, PlanVersion.state != PlanState.SUPERSEDED)
                              .order_by(PlanVersion.state.desc())).all()  # published before draft
    published = next((i for i in rows if i.plan_version.state == PlanState.PUBLISHED), None)
    if published is not None:
        return PlanItemOut.of(published)
    drafts = _drafts_visible(user)
    draft = next((i for i in rows if i.municipality_id in drafts), None)
    if draft is None:
        raise not_found(_("Plan item"))
    return PlanItemOut.of(draft)
