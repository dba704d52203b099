"""Models of the half-yearly data protocol (issue #8, item 3).

A ``DataSubmission`` is what one municipality (``contract_id`` empty) or one supplier contract reports
for one half-year: the values of the reported indicators (``Indicator.source == "reported"``) that
apply to it, each a ``SubmissionValue``. When a submission is submitted its values are aggregated
into ``IndicatorValue`` rows (source "reported") of the municipality and of the region
(``srpp.reporting.services.aggregate``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from srpp.core.db import Base, TimestampMixin, VersionedMixin, enum_type
from srpp.core.enums import LabelledEnum


class SubmissionState(LabelledEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"

    @classmethod
    def labels(cls) -> dict[str, object]:
        return {"draft": _l("draft"), "submitted": _l("submitted")}


class DataSubmission(TimestampMixin, VersionedMixin, Base):
    """The report of one municipality, or of one supplier contract, for one half-year."""

    __tablename__ = "data_submissions"
    __audited__ = True
    __audit_exclude__ = ("version",)

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id"), index=True)
    #: a contract-level report (the supplier reports its contract's outputs); empty: the municipality's own
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contracts.id", ondelete="CASCADE"), index=True)
    period_start: Mapped[dt.date]
    period_end: Mapped[dt.date]
    due_on: Mapped[dt.date] = mapped_column(index=True)
    state: Mapped[SubmissionState] = mapped_column(enum_type(SubmissionState, 10), default=SubmissionState.DRAFT)
    #: when it was (last) submitted: timeliness is this day against ``due_on``
    submitted_at: Mapped[dt.datetime | None]
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    municipality = relationship("Municipality", lazy="joined")
    contract = relationship("Contract", lazy="joined")
    submitted_by = relationship("User")
    values: Mapped[list[SubmissionValue]] = relationship(back_populates="submission", cascade="all, delete-orphan",
                                                         order_by="SubmissionValue.id")

    __table_args__ = (
        CheckConstraint("period_end >= period_start", name="period_ordered"),
        CheckConstraint("due_on >= period_end", name="due_after_period"),
        CheckConstraint("state <> 'submitted' OR submitted_at IS NOT NULL", name="submitted_has_time"),
        Index("ix_data_submissions_period", "period_start", "municipality_id"),
    )

    @property
    def is_submitted(self) -> bool:
        return self.state == SubmissionState.SUBMITTED

    @property
    def on_time(self) -> bool | None:
        """Submitted by the due date (None while not submitted)."""
        if self.submitted_at is None or not self.is_submitted:
            return None
        from srpp.reporting.services import local_day

        return local_day(self.submitted_at) <= self.due_on

    def overdue(self, today: dt.date) -> bool:
        return not self.is_submitted and today > self.due_on

    @property
    def title(self) -> str:
        """The scope and half-year, e.g. Rokiškio rajono savivaldybė · 2026 H1 (record lists, links)."""
        from srpp.payments.calc import half_year_label

        scope = self.contract.title if self.contract is not None else (
            self.municipality.name if self.municipality is not None else "")
        return f"{scope} · {half_year_label(self.period_start)}"

    @property
    def audit_label(self) -> str:
        return self.title


#: one submission per municipality (contract empty) or contract, and half-year
Index("uq_data_submissions_scope_period", DataSubmission.municipality_id,
      func.coalesce(DataSubmission.contract_id, 0), DataSubmission.period_start, unique=True)


class SubmissionValue(TimestampMixin, Base):
    """One reported value (raw, as entered) of one indicator in one submission."""

    __tablename__ = "submission_values"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("data_submissions.id", ondelete="CASCADE"), index=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicators.id", ondelete="CASCADE"), index=True)
    #: empty with a note: the value is not available (the note says why); the submission is then incomplete
    value: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    note: Mapped[str | None] = mapped_column(Text)
    #: where the value came from: form | upload
    source: Mapped[str] = mapped_column(String(10), default="form")

    submission: Mapped[DataSubmission] = relationship(back_populates="values")
    indicator = relationship("Indicator", lazy="joined")

    __table_args__ = (
        UniqueConstraint("submission_id", "indicator_id", name="uq_submission_values_indicator"),
        CheckConstraint("source IN ('form', 'upload')", name="source_known"),
        CheckConstraint("value IS NOT NULL OR note IS NOT NULL", name="value_or_note"),
    )

    @property
    def audit_label(self) -> str:
        return self.indicator.code if self.indicator is not None else str(self.indicator_id)
