"""Invoices and payments under contracts, the ECB reference rates for statutory interest, and the
half-yearly payment compliance reports.

Each invoice stores its computed figures (due date, paid amount, date fully paid, days to pay, days
late, interest and compensation as of the last update) so that the council's dashboard is a set of SQL
aggregates, never a loop over invoices. The services keep them current on every change, and the
daily scan for open invoices."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from srpp.core.db import Base, TimestampMixin, VersionedMixin, enum_type
from srpp.core.enums import LabelledEnum


class InvoiceState(LabelledEnum):
    RECEIVED = "received"  # not yet due
    DISPUTED = "disputed"  # the clock stands still
    DUE = "due"  # due within the warning window
    LATE = "late"  # past due, not fully paid
    PAID = "paid"  # fully paid on time
    PAID_LATE = "paid_late"

    @classmethod
    def labels(cls) -> dict[str, object]:
        return {"received": _l("received"), "disputed": _l("disputed"), "due": _l("due soon"), "late": _l("late"),
                "paid": _l("paid"), "paid_late": _l("paid late")}

    @property
    def open(self) -> bool:
        return self in (InvoiceState.RECEIVED, InvoiceState.DISPUTED, InvoiceState.DUE, InvoiceState.LATE)


class Invoice(TimestampMixin, VersionedMixin, Base):
    __tablename__ = "invoices"
    __audited__ = True
    __audit_exclude__ = ("version",)

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    # copies of the contract's, for the unique key and the aggregates
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"), index=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id"))
    milestone_id: Mapped[int | None] = mapped_column(ForeignKey("payment_milestones.id", ondelete="SET NULL"))
    number: Mapped[str] = mapped_column(String(60))
    amount: Mapped[Decimal]
    received_on: Mapped[dt.date]
    e_invoice_ref: Mapped[str | None] = mapped_column(String(120))
    accepted_on: Mapped[dt.date | None]
    disputed_on: Mapped[dt.date | None]
    dispute_reason: Mapped[str | None] = mapped_column(Text)
    dispute_resolved_on: Mapped[dt.date | None]
    # computed by the services
    due_date: Mapped[dt.date | None]
    state: Mapped[InvoiceState] = mapped_column(enum_type(InvoiceState, 10), default=InvoiceState.RECEIVED)
    paid_amount: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    paid_on: Mapped[dt.date | None]  # the day the last payment completed it
    days_to_pay: Mapped[int | None]
    days_late: Mapped[int] = mapped_column(default=0)
    interest: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    compensation: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    figures_as_of: Mapped[dt.date | None]
    source: Mapped[str] = mapped_column(String(20), default="manual")  # manual | import
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    contract = relationship("Contract", lazy="joined")
    supplier = relationship("Supplier")
    milestone = relationship("PaymentMilestone")
    payments: Mapped[list[Payment]] = relationship(back_populates="invoice", order_by="Payment.paid_on",
                                                   cascade="all, delete-orphan")

    __table_args__ = (
        UniqueConstraint("supplier_id", "number", name="uq_invoices_supplier_number"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("paid_amount >= 0 AND paid_amount <= amount", name="paid_within_amount"),
        CheckConstraint("accepted_on IS NULL OR accepted_on >= received_on", name="accepted_after_receipt"),
        CheckConstraint("disputed_on IS NULL OR dispute_reason IS NOT NULL", name="dispute_has_reason"),
        CheckConstraint("dispute_resolved_on IS NULL OR (disputed_on IS NOT NULL AND dispute_resolved_on >= disputed_on)",
                        name="dispute_resolved_after"),
        CheckConstraint("interest >= 0 AND compensation >= 0", name="liability_not_negative"),
        Index("ix_invoices_municipality_due", "municipality_id", "due_date"),
        Index("ix_invoices_municipality_paid", "municipality_id", "paid_on"),
        # the region-wide half-year figures (bench/bench_payments.py: 850 → 262 ms over 1M invoices)
        Index("ix_invoices_due_date", "due_date"),
        Index("ix_invoices_paid_on", "paid_on"),
    )

    @property
    def outstanding(self) -> Decimal:
        return self.amount - self.paid_amount

    @property
    def audit_label(self) -> str:
        return self.number


class Payment(TimestampMixin, Base):
    __tablename__ = "payments"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"), index=True)
    paid_on: Mapped[dt.date]
    amount: Mapped[Decimal]
    reference: Mapped[str | None] = mapped_column(String(120))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(String(20), default="manual")

    invoice: Mapped[Invoice] = relationship(back_populates="payments")

    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        # an import names each payment by its reference: the same line twice is one payment
        UniqueConstraint("invoice_id", "reference", name="uq_payments_invoice_reference"),
    )


class ReferenceRate(TimestampMixin, Base):
    """The ECB main refinancing rate in force on 1 January or 1 July (PAY-06): statutory interest
    for a day is this rate of the day's half-year plus the margin (8 percentage points)."""

    __tablename__ = "reference_rates"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    valid_from: Mapped[dt.date] = mapped_column(unique=True)
    rate: Mapped[Decimal] = mapped_column(Numeric(6, 3))
    source: Mapped[str | None] = mapped_column(String(300))

    __table_args__ = (
        CheckConstraint("rate >= -5 AND rate <= 30", name="rate_range"),
    )


class ReportState(LabelledEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    PUBLISHED = "published"

    @classmethod
    def labels(cls) -> dict[str, object]:
        return {"draft": _l("draft"), "approved": _l("approved"), "published": _l("published")}


class PaymentReport(TimestampMixin, VersionedMixin, Base):
    """A municipality's payment compliance report for a half-year (modelled on the UK payment
    compliance notice): the figures frozen when it is prepared, approved by a named finance
    officer, then published."""

    __tablename__ = "payment_reports"
    __audited__ = True
    __audit_exclude__ = ("version", "figures")

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id"), index=True)
    period_start: Mapped[dt.date]
    period_end: Mapped[dt.date]
    figures: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[ReportState] = mapped_column(enum_type(ReportState, 10), default=ReportState.DRAFT)
    prepared_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    approver_name: Mapped[str | None] = mapped_column(String(200))
    approver_role: Mapped[str | None] = mapped_column(String(200))
    approved_on: Mapped[dt.date | None]
    published_at: Mapped[dt.datetime | None]
    document_id: Mapped[int | None] = mapped_column(ForeignKey("generated_documents.id", ondelete="SET NULL"))

    municipality = relationship("Municipality", lazy="joined")
    document = relationship("GeneratedDocument")

    __table_args__ = (
        UniqueConstraint("municipality_id", "period_start", name="uq_payment_reports_period"),
        CheckConstraint("state = 'draft' OR (approver_name IS NOT NULL AND approver_role IS NOT NULL "
                        "AND approved_on IS NOT NULL)", name="approval_named"),
        CheckConstraint("state <> 'published' OR published_at IS NOT NULL", name="published_has_time"),
    )

    @property
    def audit_label(self) -> str:
        return f"{self.period_start.isoformat()} – {self.period_end.isoformat()}"

