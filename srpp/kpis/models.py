"""The indicator registry and the values of each indicator per scope (region or municipality) and
half-year, computed from the app's records or reported through the data protocol."""

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


class IndicatorGroup(LabelledEnum):
    GOVERNANCE = "governance"
    FINANCE = "finance"
    CAPACITY = "capacity"
    PROCUREMENT = "procurement"
    OUTPUTS = "outputs"
    OUTCOMES = "outcomes"
    COMMUNITY = "community"
    ADDITIONAL = "additional"
    RISK = "risk"

    @classmethod
    def labels(cls) -> dict[str, object]:
        return {"governance": _l("Governance"), "finance": _l("Finance"), "capacity": _l("Capacity"),
                "procurement": _l("Procurement"), "outputs": _l("Service outputs"), "outcomes": _l("Outcomes"),
                "community": _l("Community capital"), "additional": _l("Common impact indicators"),
                "risk": _l("Risk monitoring")}


class Direction(LabelledEnum):
    HIGHER = "higher"
    LOWER = "lower"

    @classmethod
    def labels(cls) -> dict[str, object]:
        return {"higher": _l("higher is better"), "lower": _l("lower is better")}


class IndicatorSource(LabelledEnum):
    COMPUTED = "computed"
    REPORTED = "reported"

    @classmethod
    def labels(cls) -> dict[str, object]:
        return {"computed": _l("computed from the records"), "reported": _l("reported by people")}


class Indicator(TimestampMixin, VersionedMixin, Base):
    """One indicator of the common set (domain §3), loaded from ``srpp/kpis/data/indicators.yaml``;
    the council edits the target and the amber/red thresholds."""

    __tablename__ = "indicators"
    __audited__ = True
    __audit_exclude__ = ("version",)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    group: Mapped[IndicatorGroup] = mapped_column(enum_type(IndicatorGroup, 20))
    name_lt: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str] = mapped_column(String(300))
    definition_lt: Mapped[str] = mapped_column(Text)
    definition_en: Mapped[str] = mapped_column(Text)
    unit: Mapped[str] = mapped_column(String(20))  # count | percent | days | eur | hours | score | m2 | ratio
    period: Mapped[str] = mapped_column(String(20), default="half_year")
    direction: Mapped[Direction] = mapped_column(enum_type(Direction, 10))
    source: Mapped[IndicatorSource] = mapped_column(enum_type(IndicatorSource, 10))
    #: the name of the function that computes it (computed indicators)
    computer: Mapped[str | None] = mapped_column(String(60))
    target: Mapped[Decimal | None] = mapped_column(Numeric(16, 4))
    amber: Mapped[Decimal | None] = mapped_column(Numeric(16, 4))
    red: Mapped[Decimal | None] = mapped_column(Numeric(16, 4))
    #: reported indicators: asked per municipality, per supplier contract, or both
    reported_by: Mapped[str | None] = mapped_column(String(20))
    minimum: Mapped[Decimal | None] = mapped_column(Numeric(16, 4))
    maximum: Mapped[Decimal | None] = mapped_column(Numeric(16, 4))
    public: Mapped[bool] = mapped_column(default=True)
    sort_order: Mapped[int] = mapped_column(default=0)

    __table_args__ = (
        CheckConstraint("source <> 'computed' OR computer IS NOT NULL", name="computed_has_computer"),
        CheckConstraint("unit IN ('count', 'percent', 'days', 'eur', 'hours', 'score', 'm2', 'ratio')",
                        name="unit_known"),
        CheckConstraint("reported_by IS NULL OR reported_by IN ('municipality', 'contract', 'both')",
                        name="reported_by_known"),
    )

    @property
    def name(self) -> str:
        return localized(self, "name")

    @property
    def definition(self) -> str:
        return localized(self, "definition")

    def status(self, value: Decimal | None) -> str:
        """``green`` | ``amber`` | ``red`` | ``none`` (no value or no thresholds)."""
        if value is None or (self.amber is None and self.red is None):
            return "none"
        worse = (lambda a, b: a < b) if self.direction == Direction.HIGHER else (lambda a, b: a > b)
        if self.red is not None and (value == self.red or worse(value, self.red)):
            return "red"
        if self.amber is not None and (value == self.amber or worse(value, self.amber)):
            return "amber"
        return "green"

    @property
    def audit_label(self) -> str:
        return self.code


class IndicatorValue(Base):
    """The value of an indicator for a scope and a half-year. ``scope_key`` is ``region`` or
    ``m:<municipality id>`` (one row per indicator, scope and period: recomputing replaces it)."""

    __tablename__ = "indicator_values"

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicators.id", ondelete="CASCADE"), index=True)
    scope_key: Mapped[str] = mapped_column(String(20))
    municipality_id: Mapped[int | None] = mapped_column(ForeignKey("municipalities.id"), index=True)
    period_start: Mapped[dt.date]
    period_end: Mapped[dt.date]
    value: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    numerator: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    denominator: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    #: where the value came from: {"records": [{"type": "tender", "id": 3}, …], "note": …}
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    source: Mapped[str] = mapped_column(String(10))  # computed | reported
    computed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    indicator: Mapped[Indicator] = relationship(lazy="joined")
    municipality = relationship("Municipality")

    __table_args__ = (
        UniqueConstraint("indicator_id", "scope_key", "period_start", name="uq_indicator_values_scope_period"),
        CheckConstraint("scope_key = 'region' OR municipality_id IS NOT NULL", name="scope_has_municipality"),
        CheckConstraint("period_end >= period_start", name="period_ordered"),
        Index("ix_indicator_values_period", "period_start", "indicator_id"),
    )

    @property
    def status(self) -> str:
        return self.indicator.status(self.value)
