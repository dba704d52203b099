"""12-month procurement plans: a plan per municipality and period, numbered versions
(draft → published → superseded) and their items."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, String, Table, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from srpp.core.db import Base, TimestampMixin, VersionedMixin, enum_type, utcnow
from srpp.core.enums import LabelledEnum
from srpp.orgs.models import PriorityArea
from srpp.rules.models import Procedure, ReservationBasis


class PlanState(LabelledEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    SUPERSEDED = "superseded"

    @classmethod
    def labels(cls) -> dict[str, object]:
        return {"draft": _l("draft"), "published": _l("published"), "superseded": _l("superseded")}


class ItemState(LabelledEnum):
    PLANNED = "planned"
    IN_PREPARATION = "in_preparation"
    LAUNCHED = "launched"
    CANCELLED = "cancelled"

    @classmethod
    def labels(cls) -> dict[str, object]:
        return {"planned": _l("planned"), "in_preparation": _l("in preparation"), "launched": _l("launched"),
                "cancelled": _l("cancelled")}


class ProcurementPlan(TimestampMixin, Base):
    """The 12-month plan of one municipality; its content lives in numbered versions."""

    __tablename__ = "procurement_plans"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id"), index=True)
    period_start: Mapped[dt.date]
    period_end: Mapped[dt.date]
    title: Mapped[str] = mapped_column(String(200))

    municipality = relationship("Municipality", lazy="joined")
    versions: Mapped[list[PlanVersion]] = relationship(back_populates="plan", order_by="PlanVersion.number",
                                                       cascade="all, delete-orphan")

    __table_args__ = (
        CheckConstraint("period_end > period_start", name="period_ordered"),
        UniqueConstraint("municipality_id", "period_start", name="uq_procurement_plans_municipality_start"),
    )

    @property
    def audit_label(self) -> str:
        return self.title

    def covers(self, month: dt.date) -> bool:
        return self.period_start <= month <= self.period_end


class PlanVersion(TimestampMixin, VersionedMixin, Base):
    __tablename__ = "plan_versions"
    __audited__ = True
    __audit_exclude__ = ("version",)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("procurement_plans.id", ondelete="CASCADE"), index=True)
    #: denormalised for filters and the audit log's municipality column
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id"), index=True)
    number: Mapped[int]
    state: Mapped[PlanState] = mapped_column(enum_type(PlanState, 12), default=PlanState.DRAFT)
    change_note: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[dt.datetime | None]
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    review_due: Mapped[dt.date | None]
    superseded_at: Mapped[dt.datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    plan: Mapped[ProcurementPlan] = relationship(back_populates="versions", lazy="joined")
    items: Mapped[list[PlanItem]] = relationship(back_populates="plan_version", order_by="PlanItem.position",
                                                 cascade="all, delete-orphan")
    published_by = relationship("User", foreign_keys=[published_by_id])

    __table_args__ = (
        UniqueConstraint("plan_id", "number", name="uq_plan_versions_plan_number"),
        CheckConstraint("number >= 1", name="number_positive"),
        CheckConstraint("state = 'draft' OR published_at IS NOT NULL", name="published_has_date"),
        # at most one draft and one published version per plan
        Index("uq_plan_versions_one_draft", "plan_id", unique=True,
              postgresql_where=text("state = 'draft'"), sqlite_where=text("state = 'draft'")),
        Index("uq_plan_versions_one_published", "plan_id", unique=True,
              postgresql_where=text("state = 'published'"), sqlite_where=text("state = 'published'")),
    )

    @property
    def audit_label(self) -> str:
        return f"{self.plan.title} v{self.number}"

    @property
    def is_draft(self) -> bool:
        return self.state == PlanState.DRAFT

    def is_stale(self, today: dt.date) -> bool:
        return self.state == PlanState.PUBLISHED and self.review_due is not None and today > self.review_due


plan_item_cpv = Table(
    "plan_item_cpv",
    Base.metadata,
    Column("item_id", ForeignKey("plan_items.id", ondelete="CASCADE"), primary_key=True),
    Column("cpv_code", ForeignKey("cpv_codes.code"), primary_key=True),
)


def new_uid() -> str:
    return uuid.uuid4().hex


class PlanItem(TimestampMixin, Base):
    """One planned procurement. ``uid`` stays the same across plan versions (diffs, feed ids)."""

    __tablename__ = "plan_items"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_version_id: Mapped[int] = mapped_column(ForeignKey("plan_versions.id", ondelete="CASCADE"), index=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id"), index=True)
    uid: Mapped[str] = mapped_column(String(32), default=new_uid, index=True)
    position: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(String(250))
    category_id: Mapped[int] = mapped_column(ForeignKey("service_categories.id"), index=True)
    main_cpv: Mapped[str] = mapped_column(ForeignKey("cpv_codes.code"))
    priority_area: Mapped[PriorityArea] = mapped_column(enum_type(PriorityArea))
    target_groups: Mapped[str | None] = mapped_column(String(300))
    estimated_value: Mapped[Decimal]
    quantity: Mapped[Decimal | None]
    unit: Mapped[str | None] = mapped_column(String(80))
    launch_month: Mapped[dt.date] = mapped_column(index=True)
    duration_months: Mapped[int]
    procedure: Mapped[Procedure] = mapped_column(enum_type(Procedure, 20))
    reservation: Mapped[ReservationBasis] = mapped_column(enum_type(ReservationBasis, 20), default=ReservationBasis.NONE)
    intended_lots: Mapped[int] = mapped_column(default=1)
    funding_measure_id: Mapped[int | None] = mapped_column(ForeignKey("funding_measures.id"))
    is_bundle: Mapped[bool] = mapped_column(default=False)
    #: a call-off planned under this framework agreement
    framework_id: Mapped[int | None] = mapped_column(ForeignKey("framework_agreements.id"))
    notes_for_seos: Mapped[str | None] = mapped_column(Text)
    state: Mapped[ItemState] = mapped_column(enum_type(ItemState, 20), default=ItemState.PLANNED)
    #: when the item's content last changed in a published version (Atom <updated>)
    content_changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    plan_version: Mapped[PlanVersion] = relationship(back_populates="items")
    municipality = relationship("Municipality", lazy="joined")
    category = relationship("ServiceCategory", lazy="joined")
    funding_measure = relationship("FundingMeasure", lazy="joined")
    main_cpv_code = relationship("CpvCode", lazy="joined")
    additional_cpv = relationship("CpvCode", secondary=plan_item_cpv, lazy="selectin", order_by="CpvCode.code")

    __table_args__ = (
        CheckConstraint("estimated_value > 0", name="value_positive"),
        CheckConstraint("duration_months BETWEEN 1 AND 120", name="duration_1_120"),
        CheckConstraint("intended_lots >= 1", name="lots_positive"),
        CheckConstraint("quantity IS NULL OR quantity > 0", name="quantity_positive"),
        CheckConstraint("reservation <> 'res-pub-ser' OR duration_months <= 36", name="art77_max_36_months"),
        UniqueConstraint("plan_version_id", "uid", name="uq_plan_items_version_uid"),
        Index("ix_plan_items_public", "state", "launch_month"),
    )

    @property
    def audit_label(self) -> str:
        return self.title

    @property
    def cpv_codes(self) -> list[str]:
        return [self.main_cpv, *[c.code for c in self.additional_cpv if c.code != self.main_cpv]]

    @property
    def is_reserved(self) -> bool:
        return self.reservation != ReservationBasis.NONE

    @property
    def quarter(self) -> str:
        return f"{self.launch_month.year}-Q{(self.launch_month.month - 1) // 3 + 1}"


class SavedSearch(TimestampMixin, Base):
    """An SEO member's saved pipeline search; new matching items are sent as a digest."""

    __tablename__ = "saved_searches"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    query: Mapped[str] = mapped_column(String(1000))  # the /opportunities query string
    last_digest_at: Mapped[dt.datetime | None]

    user = relationship("User")


class SavedSearchHit(Base):
    """Items already sent to a saved search (keeps digests idempotent)."""

    __tablename__ = "saved_search_hits"

    saved_search_id: Mapped[int] = mapped_column(ForeignKey("saved_searches.id", ondelete="CASCADE"),
                                                 primary_key=True)
    item_uid: Mapped[str] = mapped_column(String(32), primary_key=True)
    content_changed_at: Mapped[dt.datetime]
    sent_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
