"""Inter-municipal framework agreements: service coordinators per specialised service area,
frameworks with participants (yearly caps, opt-outs), supplier parties and prices, a versioned
shared specification with acknowledgements, market-engagement events, and call-offs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from srpp.core.db import Base, TimestampMixin, VersionedMixin, enum_type, utcnow
from srpp.core.enums import LabelledEnum


class CoordinatorAssignment(TimestampMixin, Base):
    """The municipality the council named coordinator of a specialised service area (category)."""

    __tablename__ = "coordinator_assignments"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("service_categories.id"), index=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id"), index=True)
    valid_from: Mapped[dt.date]
    valid_to: Mapped[dt.date | None]
    decision_ref: Mapped[str] = mapped_column(String(200))
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    category = relationship("ServiceCategory", lazy="joined")
    municipality = relationship("Municipality", lazy="joined")

    __table_args__ = (
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="period_ordered"),
        Index("uq_coordinator_assignments_current", "category_id", unique=True,
              postgresql_where=text("valid_to IS NULL"), sqlite_where=text("valid_to IS NULL")),
    )


class CallOffMethod(LabelledEnum):
    DIRECT = "direct"
    MINI_COMPETITION = "mini_competition"
    HYBRID = "hybrid"

    @classmethod
    def labels(cls) -> dict[str, object]:
        return {"direct": _l("Direct, on the framework's terms"),
                "mini_competition": _l("Mini-competition (reopening competition)"),
                "hybrid": _l("Hybrid: partly direct, partly mini-competition (objective criteria)")}

    @property
    def eforms_code(self) -> str:
        """BT-765 (shared/data/framework-agreement.csv)."""
        return {"direct": "fa-wo-rc", "mini_competition": "fa-w-rc", "hybrid": "fa-mix"}[self.value]


class FrameworkState(LabelledEnum):
    PLANNED = "planned"
    ACTIVE = "active"
    EXPIRED = "expired"
    TERMINATED = "terminated"

    @classmethod
    def labels(cls) -> dict[str, object]:
        return {"planned": _l("planned"), "active": _l("active"), "expired": _l("expired"),
                "terminated": _l("terminated")}


class FrameworkAgreement(TimestampMixin, VersionedMixin, Base):
    __tablename__ = "framework_agreements"
    __audited__ = True
    __audit_exclude__ = ("version",)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(250))
    category_id: Mapped[int] = mapped_column(ForeignKey("service_categories.id"), index=True)
    #: the coordinator municipality (also the audit log's municipality)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id"), index=True)
    tender_id: Mapped[int | None] = mapped_column(ForeignKey("tenders.id"))
    start_date: Mapped[dt.date]
    end_date: Mapped[dt.date]
    term_justification: Mapped[str | None] = mapped_column(Text)
    estimated_value: Mapped[Decimal]
    max_value: Mapped[Decimal]
    call_off_method: Mapped[CallOffMethod] = mapped_column(enum_type(CallOffMethod, 20))
    objective_criteria: Mapped[str | None] = mapped_column(Text)
    state: Mapped[FrameworkState] = mapped_column(enum_type(FrameworkState, 12), default=FrameworkState.PLANNED)
    #: new suppliers may still join (listed as an opportunity)
    admits_new_suppliers: Mapped[bool] = mapped_column(default=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    category = relationship("ServiceCategory", lazy="joined")
    coordinator = relationship("Municipality", lazy="joined")
    participants: Mapped[list[FrameworkParticipant]] = relationship(
        back_populates="framework", cascade="all, delete-orphan", order_by="FrameworkParticipant.id")
    parties: Mapped[list[FrameworkSupplier]] = relationship(back_populates="framework", cascade="all, delete-orphan",
                                                            order_by="FrameworkSupplier.id")
    prices: Mapped[list[PriceLine]] = relationship(back_populates="framework", cascade="all, delete-orphan",
                                                   order_by="PriceLine.id")
    spec_versions: Mapped[list[SpecificationVersion]] = relationship(
        back_populates="framework", cascade="all, delete-orphan", order_by="SpecificationVersion.number")
    events: Mapped[list[EngagementEvent]] = relationship(back_populates="framework", cascade="all, delete-orphan",
                                                         order_by="EngagementEvent.held_on")
    call_offs: Mapped[list[CallOff]] = relationship(back_populates="framework", order_by="CallOff.id")

    __table_args__ = (
        CheckConstraint("end_date > start_date", name="period_ordered"),
        CheckConstraint("estimated_value > 0 AND max_value > 0", name="values_positive"),
        CheckConstraint("max_value >= estimated_value", name="max_at_least_estimate"),
        CheckConstraint("call_off_method <> 'hybrid' OR objective_criteria IS NOT NULL", name="hybrid_has_criteria"),
    )

    @property
    def audit_label(self) -> str:
        return self.code


class ParticipantState(LabelledEnum):
    ACTIVE = "active"
    OPT_OUT_REQUESTED = "opt_out_requested"
    WITHDRAWN = "withdrawn"

    @classmethod
    def labels(cls) -> dict[str, object]:
        return {"active": _l("active"), "opt_out_requested": _l("opt-out requested"), "withdrawn": _l("withdrawn")}


class FrameworkParticipant(TimestampMixin, VersionedMixin, Base):
    __tablename__ = "framework_participants"
    __audited__ = True
    __audit_exclude__ = ("version",)

    id: Mapped[int] = mapped_column(primary_key=True)
    framework_id: Mapped[int] = mapped_column(ForeignKey("framework_agreements.id", ondelete="CASCADE"), index=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id"), index=True)
    opt_out_notice_days: Mapped[int] = mapped_column(default=90)
    state: Mapped[ParticipantState] = mapped_column(enum_type(ParticipantState, 20), default=ParticipantState.ACTIVE)
    opt_out_requested_on: Mapped[dt.date | None]
    opt_out_effective_on: Mapped[dt.date | None]
    #: when the opt-out was actually carried out (KPI: opt-outs executed on time)
    withdrawn_on: Mapped[dt.date | None]

    framework: Mapped[FrameworkAgreement] = relationship(back_populates="participants")
    municipality = relationship("Municipality", lazy="joined")
    caps: Mapped[list[ParticipantCap]] = relationship(back_populates="participant", cascade="all, delete-orphan",
                                                      order_by="ParticipantCap.year")

    __table_args__ = (
        UniqueConstraint("framework_id", "municipality_id", name="uq_framework_participants_framework_municipality"),
        CheckConstraint("opt_out_notice_days >= 0 AND opt_out_notice_days <= 730", name="notice_days_range"),
        CheckConstraint("state = 'active' OR (opt_out_requested_on IS NOT NULL AND opt_out_effective_on IS NOT NULL)",
                        name="opt_out_dated"),
    )

    def cap_for(self, year: int) -> Decimal | None:
        return next((c.cap for c in self.caps if c.year == year), None)


class ParticipantCap(Base):
    __tablename__ = "participant_caps"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("framework_participants.id", ondelete="CASCADE"),
                                                index=True)
    year: Mapped[int]
    cap: Mapped[Decimal]

    participant: Mapped[FrameworkParticipant] = relationship(back_populates="caps")

    __table_args__ = (
        UniqueConstraint("participant_id", "year", name="uq_participant_caps_participant_year"),
        CheckConstraint("cap >= 0", name="cap_nonnegative"),
        CheckConstraint("year BETWEEN 2000 AND 2100", name="year_range"),
    )


class FrameworkSupplier(Base):
    """A supplier that is party to the framework."""

    __tablename__ = "framework_suppliers"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    framework_id: Mapped[int] = mapped_column(ForeignKey("framework_agreements.id", ondelete="CASCADE"), index=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"), index=True)
    joined_on: Mapped[dt.date]

    framework: Mapped[FrameworkAgreement] = relationship(back_populates="parties")
    supplier = relationship("Supplier", lazy="joined")

    __table_args__ = (UniqueConstraint("framework_id", "supplier_id", name="uq_framework_suppliers_pair"),)


class PriceLine(Base):
    """A unit price of one supplier on the framework (EU-FA-03: call-offs keep to these)."""

    __tablename__ = "framework_prices"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    framework_id: Mapped[int] = mapped_column(ForeignKey("framework_agreements.id", ondelete="CASCADE"), index=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"), index=True)
    item: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(80))
    unit_price: Mapped[Decimal]

    framework: Mapped[FrameworkAgreement] = relationship(back_populates="prices")
    supplier = relationship("Supplier", lazy="joined")

    __table_args__ = (
        UniqueConstraint("framework_id", "supplier_id", "unit", name="uq_framework_prices_supplier_unit"),
        CheckConstraint("unit_price > 0", name="price_positive"),
    )


class SpecificationVersion(Base):
    """A numbered, frozen version of the shared specification and quality standard."""

    __tablename__ = "specification_versions"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    framework_id: Mapped[int] = mapped_column(ForeignKey("framework_agreements.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    specification: Mapped[str] = mapped_column(Text)
    quality_standard: Mapped[str] = mapped_column(Text)
    change_note: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    framework: Mapped[FrameworkAgreement] = relationship(back_populates="spec_versions")
    acknowledgements: Mapped[list[SpecAcknowledgement]] = relationship(back_populates="version",
                                                                       cascade="all, delete-orphan")

    __table_args__ = (
        UniqueConstraint("framework_id", "number", name="uq_specification_versions_framework_number"),
        CheckConstraint("number >= 1", name="number_positive"),
    )


class SpecAcknowledgement(Base):
    __tablename__ = "spec_acknowledgements"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("specification_versions.id", ondelete="CASCADE"), index=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id"))
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    acknowledged_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    version: Mapped[SpecificationVersion] = relationship(back_populates="acknowledgements")
    municipality = relationship("Municipality", lazy="joined")

    __table_args__ = (UniqueConstraint("version_id", "municipality_id", name="uq_spec_acknowledgements_pair"),)


class EngagementEvent(Base):
    """A market-engagement event of the framework (who came, what was said, what changed)."""

    __tablename__ = "framework_events"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    framework_id: Mapped[int] = mapped_column(ForeignKey("framework_agreements.id", ondelete="CASCADE"), index=True)
    held_on: Mapped[dt.date]
    attendees: Mapped[str] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    resulting_changes: Mapped[str | None] = mapped_column(Text)

    framework: Mapped[FrameworkAgreement] = relationship(back_populates="events")


class CallOff(TimestampMixin, Base):
    """An order a participant places under the framework; it creates a contract."""

    __tablename__ = "call_offs"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    framework_id: Mapped[int] = mapped_column(ForeignKey("framework_agreements.id"), index=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id"), index=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"), index=True)
    awarded_on: Mapped[dt.date]
    start_date: Mapped[dt.date]
    end_date: Mapped[dt.date]
    quantity: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    unit: Mapped[str] = mapped_column(String(80))
    unit_price: Mapped[Decimal]
    value: Mapped[Decimal]
    budget_line: Mapped[str] = mapped_column(String(120))
    price_deviation_note: Mapped[str | None] = mapped_column(Text)
    placed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    contract = relationship("Contract", uselist=False, viewonly=True)
    framework: Mapped[FrameworkAgreement] = relationship(back_populates="call_offs")
    municipality = relationship("Municipality", lazy="joined")
    supplier = relationship("Supplier", lazy="joined")

    __table_args__ = (
        CheckConstraint("end_date >= start_date", name="period_ordered"),
        CheckConstraint("quantity > 0 AND unit_price > 0 AND value > 0", name="amounts_positive"),
        Index("ix_call_offs_framework_municipality_awarded", "framework_id", "municipality_id", "awarded_on"),
    )

    @property
    def audit_label(self) -> str:
        return f"{self.framework_id}/{self.id}"
