"""The risk register (domain §4): risks with their mitigation measures, owners, ratings and monitoring
indicators; reviews (the Zemgale worksheet: likelihood × impact → level, preventive measures required for
medium and high), corrective actions, the alerts raised when a monitoring indicator turns red, and the
regional programme targets (domain §5)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from srpp.core.db import Base, TimestampMixin, VersionedMixin, enum_type, utcnow
from srpp.core.enums import LabelledEnum
from srpp.orgs.models import localized


class Rating(LabelledEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @classmethod
    def labels(cls) -> dict[str, object]:
        return {"low": _l("low"), "medium": _l("medium"), "high": _l("high")}

    @property
    def score(self) -> int:
        return {"low": 1, "medium": 2, "high": 3}[self.value]


def level_of(likelihood: Rating, impact: Rating) -> Rating:
    """Likelihood × impact (1–3 each): 1–2 low, 3–4 medium, 6–9 high."""
    product = Rating(likelihood).score * Rating(impact).score
    return Rating.LOW if product <= 2 else Rating.MEDIUM if product <= 4 else Rating.HIGH


#: the ratings whose level is low (no preventive measures required): the SQL of the CHECK below
_LOW_SQL = "(likelihood = 'low' AND impact IN ('low', 'medium')) OR (likelihood = 'medium' AND impact = 'low')"


class Risk(TimestampMixin, VersionedMixin, Base):
    """One entry of the register, loaded from ``srpp/risks/data/risks.yaml``. ``likelihood`` and
    ``impact`` are the current rating (set by the latest review); the initial ones come from the file."""

    __tablename__ = "risks"
    __audited__ = True
    __audit_exclude__ = ("version",)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(10), unique=True)
    area_lt: Mapped[str] = mapped_column(String(200))
    area_en: Mapped[str] = mapped_column(String(200))
    title_lt: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300))
    description_lt: Mapped[str] = mapped_column(Text)
    description_en: Mapped[str] = mapped_column(Text)
    #: the mitigation (preventive) measures, one per line
    mitigation_lt: Mapped[str] = mapped_column(Text)
    mitigation_en: Mapped[str] = mapped_column(Text)
    owner_text_lt: Mapped[str] = mapped_column(String(200))
    owner_text_en: Mapped[str] = mapped_column(String(200))
    owner_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    initial_likelihood: Mapped[Rating] = mapped_column(enum_type(Rating, 10, name="initial_likelihood"))
    initial_impact: Mapped[Rating] = mapped_column(enum_type(Rating, 10, name="initial_impact"))
    likelihood: Mapped[Rating] = mapped_column(enum_type(Rating, 10, name="likelihood"))
    impact: Mapped[Rating] = mapped_column(enum_type(Rating, 10, name="impact"))
    sort_order: Mapped[int] = mapped_column(default=0)

    owner_user = relationship("User", lazy="joined")
    indicator_links: Mapped[list[RiskIndicator]] = relationship(
        back_populates="risk", cascade="all, delete-orphan", order_by="RiskIndicator.position", lazy="selectin")
    reviews: Mapped[list[RiskReview]] = relationship(
        back_populates="risk", cascade="all, delete-orphan",
        order_by=lambda: (RiskReview.reviewed_on.desc(), RiskReview.id.desc()))
    actions: Mapped[list[CorrectiveAction]] = relationship(
        back_populates="risk", cascade="all, delete-orphan", order_by=lambda: (CorrectiveAction.due_on, CorrectiveAction.id))

    @property
    def area(self) -> str:
        return localized(self, "area")

    @property
    def title(self) -> str:
        return localized(self, "title")

    @property
    def description(self) -> str:
        return localized(self, "description")

    @property
    def mitigation(self) -> str:
        return localized(self, "mitigation")

    @property
    def mitigation_items(self) -> list[str]:
        return [line.strip() for line in self.mitigation.splitlines() if line.strip()]

    @property
    def owner_text(self) -> str:
        return localized(self, "owner_text")

    @property
    def level(self) -> Rating:
        return level_of(self.likelihood, self.impact)

    @property
    def initial_level(self) -> Rating:
        return level_of(self.initial_likelihood, self.initial_impact)

    @property
    def indicator_codes(self) -> list[str]:
        return [link.indicator_code for link in self.indicator_links]

    @property
    def audit_label(self) -> str:
        return f"{self.code} {self.title_en}"[:300]


class RiskIndicator(Base):
    """A monitoring indicator of a risk, by the registry's code (the registry may not hold it yet)."""

    __tablename__ = "risk_indicators"

    risk_id: Mapped[int] = mapped_column(ForeignKey("risks.id", ondelete="CASCADE"), primary_key=True)
    indicator_code: Mapped[str] = mapped_column(String(40), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(default=0)

    risk: Mapped[Risk] = relationship(back_populates="indicator_links")


class RiskReview(Base):
    """A review of a risk (the Zemgale worksheet): the rating on that date, the preventive measures
    (required when the level is medium or high), the reactive action and its responsible unit."""

    __tablename__ = "risk_reviews"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    risk_id: Mapped[int] = mapped_column(ForeignKey("risks.id", ondelete="CASCADE"), index=True)
    reviewed_on: Mapped[dt.date]
    likelihood: Mapped[Rating] = mapped_column(enum_type(Rating, 10, name="likelihood"))
    impact: Mapped[Rating] = mapped_column(enum_type(Rating, 10, name="impact"))
    preventive_measures: Mapped[str | None] = mapped_column(Text)
    reactive_action: Mapped[str | None] = mapped_column(Text)
    responsible_unit: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    risk: Mapped[Risk] = relationship(back_populates="reviews")
    reviewer = relationship("User", lazy="joined")
    actions: Mapped[list[CorrectiveAction]] = relationship(back_populates="review", order_by="CorrectiveAction.id")

    __table_args__ = (
        CheckConstraint(f"preventive_measures IS NOT NULL OR {_LOW_SQL}", name="preventive_for_medium_high"),
    )

    @property
    def level(self) -> Rating:
        return level_of(self.likelihood, self.impact)

    @property
    def audit_label(self) -> str:
        return f"{self.risk.code} {self.reviewed_on.isoformat()}" if self.risk else str(self.reviewed_on)


class CorrectiveAction(TimestampMixin, VersionedMixin, Base):
    """A corrective action decided for a risk (usually at a review), with its owner and due date."""

    __tablename__ = "corrective_actions"
    __audited__ = True
    __audit_exclude__ = ("version",)

    id: Mapped[int] = mapped_column(primary_key=True)
    risk_id: Mapped[int] = mapped_column(ForeignKey("risks.id", ondelete="CASCADE"), index=True)
    review_id: Mapped[int | None] = mapped_column(ForeignKey("risk_reviews.id", ondelete="SET NULL"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    owner_text: Mapped[str] = mapped_column(String(200))
    owner_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    due_on: Mapped[dt.date]
    completed_on: Mapped[dt.date | None]
    completion_note: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    risk: Mapped[Risk] = relationship(back_populates="actions")
    review: Mapped[RiskReview | None] = relationship(back_populates="actions")
    owner_user = relationship("User", foreign_keys=[owner_user_id], lazy="joined")

    def is_overdue(self, today: dt.date) -> bool:
        return self.completed_on is None and self.due_on < today

    @property
    def audit_label(self) -> str:
        return self.title


class RiskAlert(Base):
    """A monitoring indicator of a risk was red in its latest period, for one scope (the region or a
    municipality). Written by the scan (``services.scan_alerts``); ``closed_at`` is set when that value
    is no longer red or a later period replaced it. The alert history of a risk."""

    __tablename__ = "risk_alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    risk_id: Mapped[int] = mapped_column(ForeignKey("risks.id", ondelete="CASCADE"), index=True)
    indicator_code: Mapped[str] = mapped_column(String(40))
    scope_key: Mapped[str] = mapped_column(String(20))
    municipality_id: Mapped[int | None] = mapped_column(ForeignKey("municipalities.id", ondelete="CASCADE"))
    period_start: Mapped[dt.date]
    period_end: Mapped[dt.date]
    value: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    raised_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[dt.datetime | None]
    #: how many people were notified when it was raised
    notified: Mapped[int] = mapped_column(default=0)

    risk: Mapped[Risk] = relationship()
    municipality = relationship("Municipality", lazy="joined")

    __table_args__ = (
        UniqueConstraint("risk_id", "indicator_code", "scope_key", "period_start", name="uq_risk_alerts_key"),
        Index("ix_risk_alerts_open", "risk_id", "closed_at"),
    )


class Horizon(LabelledEnum):
    IMMEDIATE = "immediate"
    SHORT = "short"
    MEDIUM = "medium"

    @classmethod
    def labels(cls) -> dict[str, object]:
        return {"immediate": _l("Immediate (0–3 months)"), "short": _l("Short term (3–12 months)"),
                "medium": _l("Medium term (12–36 months)")}


class ProgrammeTarget(TimestampMixin, VersionedMixin, Base):
    """A checkable milestone of the implementation timeline (domain §5), loaded from
    ``srpp/risks/data/targets.yaml``. ``evidence`` names the function that checks it from the records
    (``manual``: a council member marks it done, with the evidence in words)."""

    __tablename__ = "programme_targets"
    __audited__ = True
    __audit_exclude__ = ("version",)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    horizon: Mapped[Horizon] = mapped_column(enum_type(Horizon, 10))
    title_lt: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300))
    hint_lt: Mapped[str | None] = mapped_column(Text)
    hint_en: Mapped[str | None] = mapped_column(Text)
    #: months after the programme start (setting ``risks.programme_start``) by which it is due
    due_months: Mapped[int]
    evidence: Mapped[str] = mapped_column(String(40), default="manual")
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    sort_order: Mapped[int] = mapped_column(default=0)
    #: manual targets: when and how it was done, and who recorded it
    done_on: Mapped[dt.date | None]
    done_evidence: Mapped[str | None] = mapped_column(Text)
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    done_by = relationship("User", lazy="joined")

    __table_args__ = (
        CheckConstraint("due_months BETWEEN 0 AND 120", name="due_months_range"),
        CheckConstraint("done_on IS NULL OR done_evidence IS NOT NULL", name="done_has_evidence"),
    )

    @property
    def title(self) -> str:
        return localized(self, "title")

    @property
    def hint(self) -> str:
        return localized(self, "hint")

    @property
    def is_manual(self) -> bool:
        return self.evidence == "manual"

    @property
    def audit_label(self) -> str:
        return self.code
