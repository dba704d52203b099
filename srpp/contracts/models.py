"""Contracts (from awarded lots, from call-offs, or entered directly), their payment terms and
payment milestones (with the history of every amendment), and work-stoppage reports."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, CheckConstraint, ForeignKey, Numeric, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from srpp.core.db import Base, TimestampMixin, VersionedMixin, enum_type, utcnow
from srpp.core.enums import LabelledEnum
from srpp.rules.models import ReservationBasis


class ContractState(LabelledEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    TERMINATED = "terminated"

    @classmethod
    def labels(cls) -> dict[str, object]:
        return {"active": _l("active"), "completed": _l("completed"), "terminated": _l("terminated")}


class DayType(LabelledEnum):
    CALENDAR = "calendar"
    WORKING = "working"

    @classmethod
    def labels(cls) -> dict[str, object]:
        return {"calendar": _l("calendar days"), "working": _l("working days")}


class Contract(TimestampMixin, VersionedMixin, Base):
    __tablename__ = "contracts"
    __audited__ = True
    __audit_exclude__ = ("version",)

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id"), index=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"), index=True)
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("lots.id"), unique=True)
    call_off_id: Mapped[int | None] = mapped_column(ForeignKey("call_offs.id"), unique=True)
    title: Mapped[str] = mapped_column(String(250))
    value: Mapped[Decimal]
    awarded_on: Mapped[dt.date]
    start_date: Mapped[dt.date]
    end_date: Mapped[dt.date]
    main_cpv: Mapped[str] = mapped_column(ForeignKey("cpv_codes.code"))
    reservation: Mapped[ReservationBasis] = mapped_column(enum_type(ReservationBasis, 20),
                                                          default=ReservationBasis.NONE)
    state: Mapped[ContractState] = mapped_column(enum_type(ContractState, 12), default=ContractState.ACTIVE)
    reference: Mapped[str | None] = mapped_column(String(60))
    #: the value at signature: amendments are measured against it (EU-MOD-01)
    initial_value: Mapped[Decimal | None]
    payment_term_days: Mapped[int] = mapped_column(default=30, server_default="30")
    payment_term_justification: Mapped[str | None] = mapped_column(Text)
    day_type: Mapped[DayType] = mapped_column(enum_type(DayType, 10), default=DayType.CALENDAR,
                                              server_default="calendar")
    #: days the authority has to accept or verify (None: no acceptance procedure)
    acceptance_days: Mapped[int | None]
    acceptance_justification: Mapped[str | None] = mapped_column(Text)
    advance_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal(0), server_default="0")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    municipality = relationship("Municipality", lazy="joined")
    supplier = relationship("Supplier", lazy="joined")
    lot = relationship("Lot")
    call_off = relationship("CallOff")
    milestones: Mapped[list[PaymentMilestone]] = relationship(
        back_populates="contract", order_by="PaymentMilestone.sequence", cascade="all, delete-orphan")
    stoppages: Mapped[list[WorkStoppage]] = relationship(back_populates="contract", order_by="WorkStoppage.started_on",
                                                         cascade="all, delete-orphan")

    __table_args__ = (
        CheckConstraint("value > 0", name="value_positive"),
        CheckConstraint("end_date >= start_date", name="period_ordered"),
        # PAY-01/PAY-03: 30 days; 31-60 only with a written justification; never above 60
        CheckConstraint("payment_term_days BETWEEN 1 AND 60", name="term_at_most_60"),
        CheckConstraint("payment_term_days <= 30 OR payment_term_justification IS NOT NULL",
                        name="long_term_justified"),
        # PAY-04: acceptance at most 30 days unless a justification is recorded
        CheckConstraint("acceptance_days IS NULL OR (acceptance_days >= 0 AND (acceptance_days <= 30 "
                        "OR acceptance_justification IS NOT NULL))", name="acceptance_justified"),
        CheckConstraint("advance_percent >= 0 AND advance_percent <= 100", name="advance_percent_range"),
    )

    @property
    def country(self) -> str:
        return self.municipality.region.country if self.municipality and self.municipality.region else "LT"

    @property
    def amendment_share(self) -> Decimal | None:
        """Cumulative change of the value against the value at signature."""
        if not self.initial_value:
            return None
        return ((self.value - self.initial_value) / self.initial_value).quantize(Decimal("0.0001"))

    @property
    def audit_label(self) -> str:
        return self.title


class MilestoneTrigger(LabelledEnum):
    SIGNING = "signing"
    DELIVERY = "delivery"
    PERIOD_END = "period_end"
    ACCEPTANCE = "acceptance"
    INVOICE = "invoice"
    OTHER = "other"

    @classmethod
    def labels(cls) -> dict[str, object]:
        return {"signing": _l("contract signing"), "delivery": _l("delivery"),
                "period_end": _l("end of the service period"), "acceptance": _l("acceptance"),
                "invoice": _l("invoice received"), "other": _l("other")}


class MilestoneState(LabelledEnum):
    PLANNED = "planned"
    DUE = "due"
    MET = "met"
    LATE = "late"
    CANCELLED = "cancelled"

    @classmethod
    def labels(cls) -> dict[str, object]:
        return {"planned": _l("planned"), "due": _l("due"), "met": _l("met"), "late": _l("late"),
                "cancelled": _l("cancelled")}


class PaymentMilestone(TimestampMixin, VersionedMixin, Base):
    """One payment step of a contract: a share of the price or a fixed amount, due a number of
    days after its trigger event."""

    __tablename__ = "payment_milestones"
    __audited__ = True
    __audit_exclude__ = ("version",)

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id", ondelete="CASCADE"), index=True)
    sequence: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    share_percent: Mapped[Decimal | None] = mapped_column(Numeric(7, 4))
    fixed_amount: Mapped[Decimal | None]
    #: the amount in euro (from the share, rounded to cents, the last milestone taking the remainder)
    amount: Mapped[Decimal]
    trigger: Mapped[MilestoneTrigger] = mapped_column(enum_type(MilestoneTrigger, 12))
    trigger_description: Mapped[str | None] = mapped_column(Text)
    trigger_date: Mapped[dt.date | None]
    offset_days: Mapped[int] = mapped_column(default=0)
    day_type: Mapped[DayType] = mapped_column(enum_type(DayType, 10, name="milestone_day_type"),
                                              default=DayType.CALENDAR)
    planned_date: Mapped[dt.date | None] = mapped_column(index=True)
    state: Mapped[MilestoneState] = mapped_column(enum_type(MilestoneState, 10), default=MilestoneState.PLANNED)
    met_on: Mapped[dt.date | None]

    contract: Mapped[Contract] = relationship(back_populates="milestones")
    changes: Mapped[list[MilestoneChange]] = relationship(back_populates="milestone", order_by="MilestoneChange.id",
                                                          cascade="all, delete-orphan")

    __table_args__ = (
        UniqueConstraint("contract_id", "sequence"),
        CheckConstraint("sequence >= 1", name="sequence_positive"),
        CheckConstraint("(share_percent IS NULL) <> (fixed_amount IS NULL)", name="share_or_amount"),
        CheckConstraint("share_percent IS NULL OR (share_percent > 0 AND share_percent <= 100)", name="share_range"),
        CheckConstraint("fixed_amount IS NULL OR fixed_amount > 0", name="fixed_amount_positive"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        CheckConstraint("offset_days >= 0 AND offset_days <= 366", name="offset_range"),
        CheckConstraint("trigger <> 'other' OR trigger_description IS NOT NULL", name="other_described"),
        CheckConstraint("state <> 'met' OR met_on IS NOT NULL", name="met_has_date"),
    )

    @property
    def audit_label(self) -> str:
        return f"{self.sequence}. {self.title}"


class MilestoneChange(Base):
    """The history of a milestone: each amendment with what changed (old → new)."""

    __tablename__ = "milestone_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    milestone_id: Mapped[int] = mapped_column(ForeignKey("payment_milestones.id", ondelete="CASCADE"), index=True)
    changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    changes: Mapped[dict[str, Any]] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(Text)

    milestone: Mapped[PaymentMilestone] = relationship(back_populates="changes")
    changed_by = relationship("User")


class WorkStoppage(TimestampMixin, Base):
    """A supplier stopped (or threatened to stop) work, e.g. because it was not paid (risk 5.2)."""

    __tablename__ = "work_stoppages"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id", ondelete="CASCADE"), index=True)
    started_on: Mapped[dt.date] = mapped_column(index=True)
    ended_on: Mapped[dt.date | None]
    cause: Mapped[str] = mapped_column(Text)
    reported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reported_by_supplier: Mapped[bool] = mapped_column(default=False)

    contract: Mapped[Contract] = relationship(back_populates="stoppages")
    reported_by = relationship("User")

    __table_args__ = (CheckConstraint("ended_on IS NULL OR ended_on >= started_on", name="period_ordered"),)


@event.listens_for(Contract, "before_insert")
def _remember_initial_value(mapper, connection, target: Contract) -> None:
    """The value at signature, which amendments are measured against (EU-MOD-01)."""
    if target.initial_value is None:
        target.initial_value = target.value
