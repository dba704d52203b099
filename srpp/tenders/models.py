"""Tenders made from plan items, divided into lots (reserved where the law allows), with award
criteria, recorded bids and awards."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from srpp.core.db import Base, TimestampMixin, VersionedMixin, enum_type
from srpp.core.enums import LabelledEnum
from srpp.rules.models import Procedure, ReservationBasis


class TenderState(LabelledEnum):
    DRAFT = "draft"
    READY = "ready"
    PUBLISHED = "published"
    EVALUATION = "evaluation"
    AWARDED = "awarded"
    CANCELLED = "cancelled"

    @classmethod
    def labels(cls) -> dict[str, object]:
        return {"draft": _l("draft"), "ready": _l("ready to publish"), "published": _l("published"),
                "evaluation": _l("evaluation"), "awarded": _l("awarded"), "cancelled": _l("cancelled")}


class LotState(LabelledEnum):
    OPEN = "open"
    AWARDED = "awarded"
    UNSUCCESSFUL = "unsuccessful"
    REPLANNED = "replanned"

    @classmethod
    def labels(cls) -> dict[str, object]:
        return {"open": _l("open"), "awarded": _l("awarded"), "unsuccessful": _l("unsuccessful"),
                "replanned": _l("re-planned")}


class CriterionKind(LabelledEnum):
    PRICE = "price"
    QUALITY = "quality"
    SOCIAL = "social"

    @classmethod
    def labels(cls) -> dict[str, object]:
        return {"price": _l("price or cost"), "quality": _l("quality"),
                "social": _l("social (inclusion, continuity, accessibility …)")}


tender_mandates = Table(
    "tender_mandates",
    Base.metadata,
    Column("tender_id", ForeignKey("tenders.id", ondelete="CASCADE"), primary_key=True),
    Column("municipality_id", ForeignKey("municipalities.id"), primary_key=True),
)


class Tender(TimestampMixin, VersionedMixin, Base):
    __tablename__ = "tenders"
    __audited__ = True
    __audit_exclude__ = ("version",)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the contracting (lead) municipality; joint tenders list the mandating ones in ``mandates``
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id"), index=True)
    title: Mapped[str] = mapped_column(String(250))
    description: Mapped[str | None] = mapped_column(Text)
    procedure: Mapped[Procedure] = mapped_column(enum_type(Procedure, 20))
    state: Mapped[TenderState] = mapped_column(enum_type(TenderState, 12), default=TenderState.DRAFT)
    is_srpp: Mapped[bool] = mapped_column(default=True)
    no_division_reasons: Mapped[str | None] = mapped_column(Text)
    max_lots_per_tenderer: Mapped[int | None]
    allocation_rule: Mapped[str | None] = mapped_column(Text)
    submission_deadline: Mapped[dt.date | None]
    published_at: Mapped[dt.datetime | None]
    cancelled_reason: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    municipality = relationship("Municipality", lazy="joined")
    mandates = relationship("Municipality", secondary=tender_mandates, lazy="selectin")
    lots: Mapped[list[Lot]] = relationship(back_populates="tender", order_by="Lot.number",
                                           cascade="all, delete-orphan")
    plan_links: Mapped[list[TenderPlanItem]] = relationship(back_populates="tender", cascade="all, delete-orphan")

    __table_args__ = (
        CheckConstraint("max_lots_per_tenderer IS NULL OR max_lots_per_tenderer >= 1", name="max_lots_positive"),
        CheckConstraint("state <> 'cancelled' OR cancelled_reason IS NOT NULL", name="cancel_has_reason"),
    )

    @property
    def estimated_value(self) -> Decimal:
        return sum((lot.estimated_value for lot in self.lots), Decimal(0))

    @property
    def is_reserved(self) -> bool:
        return any(lot.reservation != ReservationBasis.NONE for lot in self.lots)


class TenderPlanItem(Base):
    """The plan items (by their stable uid) a tender was made from."""

    __tablename__ = "tender_plan_items"

    tender_id: Mapped[int] = mapped_column(ForeignKey("tenders.id", ondelete="CASCADE"), primary_key=True)
    item_uid: Mapped[str] = mapped_column(String(32), primary_key=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id"))
    title: Mapped[str] = mapped_column(String(250))

    tender: Mapped[Tender] = relationship(back_populates="plan_links")

    __table_args__ = (UniqueConstraint("item_uid", name="uq_tender_plan_items_item_uid"),)


lot_cpv = Table(
    "lot_cpv",
    Base.metadata,
    Column("lot_id", ForeignKey("lots.id", ondelete="CASCADE"), primary_key=True),
    Column("cpv_code", ForeignKey("cpv_codes.code"), primary_key=True),
)


class Lot(TimestampMixin, VersionedMixin, Base):
    __tablename__ = "lots"
    __audited__ = True
    __audit_exclude__ = ("version",)

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tenders.id", ondelete="CASCADE"), index=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id"), index=True)
    number: Mapped[int]
    #: the plan item this lot was made from (re-planned when the lot is unsuccessful)
    plan_item_uid: Mapped[str | None] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(250))
    description: Mapped[str | None] = mapped_column(Text)
    category_id: Mapped[int] = mapped_column(ForeignKey("service_categories.id"), index=True)
    main_cpv: Mapped[str] = mapped_column(ForeignKey("cpv_codes.code"))
    estimated_value: Mapped[Decimal]
    duration_months: Mapped[int]
    quantity: Mapped[Decimal | None]
    unit: Mapped[str | None] = mapped_column(String(80))
    place_municipality_id: Mapped[int | None] = mapped_column(ForeignKey("municipalities.id"))
    settlement: Mapped[str | None] = mapped_column(String(120))
    is_rural: Mapped[bool] = mapped_column(default=False)
    consortium_allowed: Mapped[bool] = mapped_column(default=True)
    social_conditions: Mapped[str | None] = mapped_column(Text)
    reservation: Mapped[ReservationBasis] = mapped_column(enum_type(ReservationBasis, 20),
                                                          default=ReservationBasis.NONE)
    #: the sentence citing the legal article, inserted by the app for reserved lots
    notice_text_lt: Mapped[str | None] = mapped_column(Text)
    notice_text_en: Mapped[str | None] = mapped_column(Text)
    state: Mapped[LotState] = mapped_column(enum_type(LotState, 14), default=LotState.OPEN)
    award_date: Mapped[dt.date | None]
    award_value: Mapped[Decimal | None]
    winner_id: Mapped[int | None] = mapped_column(ForeignKey("suppliers.id"), index=True)

    tender: Mapped[Tender] = relationship(back_populates="lots")
    category = relationship("ServiceCategory", lazy="joined")
    municipality = relationship("Municipality", foreign_keys=[municipality_id], lazy="joined")
    place = relationship("Municipality", foreign_keys=[place_municipality_id])
    additional_cpv = relationship("CpvCode", secondary=lot_cpv, lazy="selectin", order_by="CpvCode.code")
    criteria: Mapped[list[AwardCriterion]] = relationship(back_populates="lot", order_by="AwardCriterion.position",
                                                          cascade="all, delete-orphan")
    bids: Mapped[list[Bid]] = relationship(back_populates="lot", cascade="all, delete-orphan",
                                           order_by="Bid.id")
    winner = relationship("Supplier", lazy="joined")
    contract = relationship("Contract", uselist=False, viewonly=True)

    __table_args__ = (
        UniqueConstraint("tender_id", "number", name="uq_lots_tender_number"),
        CheckConstraint("number >= 1", name="number_positive"),
        CheckConstraint("estimated_value > 0", name="value_positive"),
        CheckConstraint("duration_months BETWEEN 1 AND 120", name="duration_1_120"),
        CheckConstraint("reservation <> 'res-pub-ser' OR duration_months <= 36", name="art77_max_36_months"),
        CheckConstraint("state <> 'awarded' OR (winner_id IS NOT NULL AND award_date IS NOT NULL "
                        "AND award_value IS NOT NULL)", name="award_complete"),
    )

    @property
    def cpv_codes(self) -> list[str]:
        return [self.main_cpv, *[c.code for c in self.additional_cpv if c.code != self.main_cpv]]

    @property
    def is_reserved(self) -> bool:
        return self.reservation != ReservationBasis.NONE

    @property
    def audit_label(self) -> str:
        return f"{self.number}. {self.title}"


class AwardCriterion(Base):
    __tablename__ = "award_criteria"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=1)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[CriterionKind] = mapped_column(enum_type(CriterionKind, 10))
    weight: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    #: how a social criterion is linked to the subject matter (EU-AWD-01)
    subject_link: Mapped[str | None] = mapped_column(Text)

    lot: Mapped[Lot] = relationship(back_populates="criteria")

    __table_args__ = (CheckConstraint("weight > 0 AND weight <= 100", name="weight_0_100"),)


bid_members = Table(
    "bid_members",
    Base.metadata,
    Column("bid_id", ForeignKey("bids.id", ondelete="CASCADE"), primary_key=True),
    Column("supplier_id", ForeignKey("suppliers.id"), primary_key=True),
)


class Bid(TimestampMixin, Base):
    """A recorded bid: the bidder (the lead of a consortium), its members, price and scores."""

    __tablename__ = "bids"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id", ondelete="CASCADE"), index=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"), index=True)
    price: Mapped[Decimal]
    score: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    compliant: Mapped[bool] = mapped_column(default=True)
    is_winner: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str | None] = mapped_column(Text)

    lot: Mapped[Lot] = relationship(back_populates="bids")
    supplier = relationship("Supplier", lazy="joined")
    members = relationship("Supplier", secondary=bid_members, lazy="selectin")

    __table_args__ = (
        UniqueConstraint("lot_id", "supplier_id", name="uq_bids_lot_supplier"),
        CheckConstraint("price > 0", name="price_positive"),
        CheckConstraint("score IS NULL OR (score >= 0 AND score <= 100)", name="score_0_100"),
        CheckConstraint("NOT is_winner OR compliant", name="winner_compliant"),
        Index("uq_bids_one_winner", "lot_id", unique=True,
              postgresql_where=text("is_winner"), sqlite_where=text("is_winner")),
    )

    @property
    def is_consortium(self) -> bool:
        return bool(self.members)
