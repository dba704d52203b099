"""Social assets lent free of charge for social use ("panauda", domain Rec. 4 and risk 12.1): the
municipality's public list of premises, outdoor areas, land and equipment, their assignments to
social economy organisations, the organisations' yearly (or half-yearly) utilisation reports and the
municipality's annual utilisation audits.

An asset has at most one active assignment (``returned_on IS NULL``): the services check it and a
partial unique index enforces it on PostgreSQL and SQLite alike."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from srpp.core.db import Base, TimestampMixin, VersionedMixin, enum_type, utcnow
from srpp.core.enums import LabelledEnum
from srpp.orgs.models import PriorityArea


class AssetKind(LabelledEnum):
    PREMISES = "premises"
    OUTDOOR_AREA = "outdoor_area"
    LAND = "land"
    EQUIPMENT = "equipment"

    @classmethod
    def labels(cls) -> dict[str, object]:
        return {"premises": _l("Premises"), "outdoor_area": _l("Outdoor area"), "land": _l("Land"),
                "equipment": _l("Equipment")}


class AssetCondition(LabelledEnum):
    GOOD = "good"
    FAIR = "fair"
    NEEDS_REPAIR = "needs_repair"

    @classmethod
    def labels(cls) -> dict[str, object]:
        return {"good": _l("good"), "fair": _l("fair, usable"), "needs_repair": _l("needs repair")}


class AssetState(LabelledEnum):
    AVAILABLE = "available"
    ASSIGNED = "assigned"
    RETURNED = "returned"
    WITHDRAWN = "withdrawn"

    @classmethod
    def labels(cls) -> dict[str, object]:
        return {"available": _l("available"), "assigned": _l("assigned"),
                "returned": _l("returned, available again"), "withdrawn": _l("withdrawn")}


class ReportingFrequency(LabelledEnum):
    ANNUAL = "annual"
    SEMIANNUAL = "semiannual"

    @classmethod
    def labels(cls) -> dict[str, object]:
        return {"annual": _l("once a year"), "semiannual": _l("twice a year (per half-year)")}


class ReportSubmitter(LabelledEnum):
    ORGANISATION = "organisation"
    MUNICIPALITY = "municipality"

    @classmethod
    def labels(cls) -> dict[str, object]:
        return {"organisation": _l("the organisation"), "municipality": _l("the municipality")}


class SocialAsset(TimestampMixin, VersionedMixin, Base):
    """An asset the municipality offers for social use, with the criteria published for it."""

    __tablename__ = "social_assets"
    __audited__ = True
    __audit_exclude__ = ("version",)

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id"), index=True)
    name: Mapped[str] = mapped_column(String(250))
    address: Mapped[str] = mapped_column(String(300))
    settlement: Mapped[str] = mapped_column(String(120))
    kind: Mapped[AssetKind] = mapped_column(enum_type(AssetKind, 20))
    #: floor or land area (none for equipment)
    area_m2: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    condition: Mapped[AssetCondition] = mapped_column(enum_type(AssetCondition, 20))
    accessibility: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    eligibility_criteria: Mapped[str] = mapped_column(Text)
    impact_criteria: Mapped[str] = mapped_column(Text)
    maintenance_duties: Mapped[str] = mapped_column(Text)
    permitted_adaptations: Mapped[str | None] = mapped_column(Text)
    #: the municipality's estimate of the yearly running cost (heating, utilities, insurance), EUR
    yearly_running_cost: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal(0))
    #: hours a year the asset can be used (the default for utilisation reports)
    hours_available_per_year: Mapped[int | None]
    available_from: Mapped[dt.date | None]
    state: Mapped[AssetState] = mapped_column(enum_type(AssetState, 12), default=AssetState.AVAILABLE)
    public: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    municipality = relationship("Municipality", lazy="joined")
    use_rows: Mapped[list[SocialAssetUse]] = relationship(back_populates="asset", cascade="all, delete-orphan",
                                                          lazy="selectin", order_by="SocialAssetUse.area")
    assignments: Mapped[list[AssetAssignment]] = relationship(back_populates="asset",
                                                              order_by="AssetAssignment.start_date")
    audits: Mapped[list[AssetAudit]] = relationship(back_populates="asset", order_by="AssetAudit.year")

    __table_args__ = (
        CheckConstraint("area_m2 IS NULL OR area_m2 > 0", name="area_positive"),
        CheckConstraint("yearly_running_cost >= 0", name="running_cost_nonnegative"),
        CheckConstraint("hours_available_per_year IS NULL OR (hours_available_per_year > 0 "
                        "AND hours_available_per_year <= 8784)", name="hours_per_year_range"),
    )

    @property
    def suitable_uses(self) -> list[PriorityArea]:
        return [PriorityArea(r.area) for r in self.use_rows]

    @property
    def active_assignment(self) -> AssetAssignment | None:
        return next((a for a in self.assignments if a.returned_on is None), None)

    @property
    def audit_label(self) -> str:
        return self.name


class SocialAssetUse(Base):
    """A priority area the asset suits (its "suitable uses" tags)."""

    __tablename__ = "social_asset_uses"
    __audited__ = True

    asset_id: Mapped[int] = mapped_column(ForeignKey("social_assets.id", ondelete="CASCADE"), primary_key=True)
    area: Mapped[str] = mapped_column(String(20), primary_key=True)

    asset: Mapped[SocialAsset] = relationship(back_populates="use_rows")

    __table_args__ = (
        CheckConstraint("area IN (" + ", ".join(f"'{a.value}'" for a in PriorityArea) + ")", name="area_known"),
    )

    @property
    def audit_label(self) -> str:
        return self.area


class AssetAssignment(TimestampMixin, VersionedMixin, Base):
    """The panauda agreement: the asset lent to an organisation for a period, under obligations."""

    __tablename__ = "asset_assignments"
    __audited__ = True
    __audit_exclude__ = ("version",)

    id: Mapped[int] = mapped_column(primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("social_assets.id"), index=True)
    #: the asset's municipality (for the audit log and the indicators)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id"), index=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"), index=True)
    agreement_ref: Mapped[str | None] = mapped_column(String(100))
    start_date: Mapped[dt.date]
    end_date: Mapped[dt.date]
    obligations: Mapped[str] = mapped_column(Text)
    reporting_frequency: Mapped[ReportingFrequency] = mapped_column(enum_type(ReportingFrequency, 12),
                                                                    default=ReportingFrequency.ANNUAL)
    returned_on: Mapped[dt.date | None]
    return_note: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    asset: Mapped[SocialAsset] = relationship(back_populates="assignments")
    supplier = relationship("Supplier", lazy="joined")
    reports: Mapped[list[AssetUtilisationReport]] = relationship(
        back_populates="assignment", order_by="[AssetUtilisationReport.year, AssetUtilisationReport.part]")

    __table_args__ = (
        CheckConstraint("end_date > start_date", name="period_ordered"),
        CheckConstraint("returned_on IS NULL OR returned_on >= start_date", name="returned_after_start"),
        # at most one active (not returned) assignment per asset
        Index("uq_asset_assignments_active", "asset_id", unique=True,
              postgresql_where=text("returned_on IS NULL"), sqlite_where=text("returned_on IS NULL")),
    )

    @property
    def active(self) -> bool:
        return self.returned_on is None

    @property
    def until(self) -> dt.date:
        """The last day the organisation had (or has) the asset."""
        return min(self.returned_on, self.end_date) if self.returned_on else self.end_date

    @property
    def audit_label(self) -> str:
        return self.agreement_ref or f"#{self.id}"


class AssetUtilisationReport(TimestampMixin, VersionedMixin, Base):
    """How much the asset was used in a year (``part`` 0) or half-year (``part`` 1 or 2)."""

    __tablename__ = "asset_utilisation_reports"
    __audited__ = True
    __audit_exclude__ = ("version",)

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("asset_assignments.id", ondelete="CASCADE"), index=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id"), index=True)
    year: Mapped[int]
    part: Mapped[int] = mapped_column(default=0)
    hours_used: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    hours_available: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    unique_beneficiaries: Mapped[int]
    #: maintenance, utilities and repairs the organisation paid itself, EUR
    costs_borne: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal(0))
    activities: Mapped[str | None] = mapped_column(Text)
    submitted_as: Mapped[ReportSubmitter] = mapped_column(enum_type(ReportSubmitter, 14))
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    submitted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    assignment: Mapped[AssetAssignment] = relationship(back_populates="reports")
    submitted_by = relationship("User")

    __table_args__ = (
        UniqueConstraint("assignment_id", "year", "part", name="uq_asset_utilisation_reports_period"),
        CheckConstraint("year BETWEEN 2000 AND 2100", name="year_range"),
        CheckConstraint("part IN (0, 1, 2)", name="part_known"),
        CheckConstraint("hours_used >= 0", name="hours_used_nonnegative"),
        CheckConstraint("hours_available > 0", name="hours_available_positive"),
        CheckConstraint("hours_used <= hours_available", name="hours_used_within_available"),
        CheckConstraint("unique_beneficiaries >= 0", name="beneficiaries_nonnegative"),
        CheckConstraint("costs_borne >= 0", name="costs_nonnegative"),
    )

    @property
    def period_start(self) -> dt.date:
        return dt.date(self.year, 7 if self.part == 2 else 1, 1)

    @property
    def period_end(self) -> dt.date:
        return dt.date(self.year, 6, 30) if self.part == 1 else dt.date(self.year, 12, 31)

    @property
    def share_of_year(self) -> Decimal:
        return Decimal(1) if self.part == 0 else Decimal("0.5")

    @property
    def rate(self) -> Decimal:
        """hours used ÷ hours available, in per cent."""
        return (Decimal(self.hours_used) / Decimal(self.hours_available) * 100).quantize(Decimal("0.01"))

    @property
    def audit_label(self) -> str:
        return f"{self.year}" if self.part == 0 else f"{self.year} H{self.part}"


class AssetAudit(TimestampMixin, VersionedMixin, Base):
    """The municipality's annual utilisation audit of an asset."""

    __tablename__ = "asset_audits"
    __audited__ = True
    __audit_exclude__ = ("version",)

    id: Mapped[int] = mapped_column(primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("social_assets.id"), index=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id"), index=True)
    year: Mapped[int]
    audited_on: Mapped[dt.date]
    #: hours used ÷ hours available in the year, per cent
    utilisation_rate: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    findings: Mapped[str] = mapped_column(Text)
    corrective_actions: Mapped[str | None] = mapped_column(Text)
    #: who audited (an office or a person: never shown publicly)
    auditor: Mapped[str] = mapped_column(String(200))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    asset: Mapped[SocialAsset] = relationship(back_populates="audits")

    __table_args__ = (
        UniqueConstraint("asset_id", "year", name="uq_asset_audits_asset_year"),
        CheckConstraint("year BETWEEN 2000 AND 2100", name="year_range"),
        CheckConstraint("utilisation_rate IS NULL OR (utilisation_rate >= 0 AND utilisation_rate <= 100)",
                        name="rate_range"),
    )

    @property
    def audit_label(self) -> str:
        return f"{self.year}"
