"""Organisations: the region and its council, municipalities, suppliers (the SEO directory
grows on this in later issues), service categories and funding measures."""

from __future__ import annotations

from decimal import Decimal

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, Column, ForeignKey, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from srpp.core.db import Base, TimestampMixin, VersionedMixin, enum_type
from srpp.core.enums import LabelledEnum


def localized(obj: object, field: str) -> str:
    """Pick ``<field>_<locale>`` with an English, then Lithuanian fallback."""
    loc = str(get_locale() or "lt")
    for lang in (loc, "en", "lt"):
        value = getattr(obj, f"{field}_{lang}", None)
        if value:
            return value
    return ""


class PriorityArea(LabelledEnum):
    LTC = "LTC"
    MOBILITY = "MOBILITY"
    HOUSING = "HOUSING"
    YOUTH = "YOUTH"
    DISABILITY = "DISABILITY"
    CROSS_CUTTING = "CROSS_CUTTING"

    @classmethod
    def labels(cls) -> dict[str, object]:
        return {
            "LTC": _l("Long-term care"),
            "MOBILITY": _l("Mobility on demand"),
            "HOUSING": _l("Social housing"),
            "YOUTH": _l("Youth inclusion"),
            "DISABILITY": _l("Disability and inclusion"),
            "CROSS_CUTTING": _l("Cross-cutting"),
        }


class MunicipalityType(LabelledEnum):
    CITY = "city"
    DISTRICT = "district"

    @classmethod
    def labels(cls) -> dict[str, object]:
        return {"city": _l("City municipality"), "district": _l("District municipality")}


class Region(TimestampMixin, Base):
    __tablename__ = "regions"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name_lt: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    name_lv: Mapped[str | None] = mapped_column(String(200))
    council_acronym: Mapped[str] = mapped_column(String(20))
    council_name_lt: Mapped[str] = mapped_column(String(200))
    council_name_en: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2), default="LT")

    municipalities: Mapped[list[Municipality]] = relationship(
        back_populates="region", order_by="Municipality.sort_order"
    )

    @property
    def name(self) -> str:
        return localized(self, "name")

    @property
    def council_name(self) -> str:
        return localized(self, "council_name")


class Municipality(TimestampMixin, VersionedMixin, Base):
    __tablename__ = "municipalities"
    __audited__ = True
    __audit_exclude__ = ("version",)

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    code: Mapped[str] = mapped_column(String(10), unique=True)
    name_lt: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    name_lv: Mapped[str | None] = mapped_column(String(200))
    short_name_lt: Mapped[str] = mapped_column(String(100))
    short_name_en: Mapped[str] = mapped_column(String(100))
    type: Mapped[MunicipalityType] = mapped_column(enum_type(MunicipalityType))
    is_hub: Mapped[bool] = mapped_column(default=False)
    sort_order: Mapped[int] = mapped_column(default=0)
    # public contact for procurement questions (an office, not a person)
    contact_email: Mapped[str | None] = mapped_column(String(254))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    address: Mapped[str | None] = mapped_column(String(300))
    website: Mapped[str | None] = mapped_column(String(300))
    procurement_note: Mapped[str | None] = mapped_column(Text)

    region: Mapped[Region] = relationship(back_populates="municipalities")

    __table_args__ = (CheckConstraint("code = upper(code)", name="code_uppercase"),)

    @property
    def name(self) -> str:
        return localized(self, "name")

    @property
    def short_name(self) -> str:
        return localized(self, "short_name")


class SupplierKind(LabelledEnum):
    SEO = "seo"
    NGO = "ngo"
    WISE = "wise"
    COOPERATIVE = "cooperative"
    SUPPORT_BODY = "support_body"
    COMPANY = "company"

    @classmethod
    def labels(cls) -> dict[str, object]:
        return {
            "seo": _l("Social economy organisation"),
            "ngo": _l("Non-governmental organisation"),
            "wise": _l("Work-integration social enterprise"),
            "cooperative": _l("Cooperative"),
            "support_body": _l("Support body"),
            "company": _l("Company"),
        }


supplier_categories = Table(
    "supplier_categories",
    Base.metadata,
    Column("supplier_id", ForeignKey("suppliers.id", ondelete="CASCADE"), primary_key=True),
    Column("category_id", ForeignKey("service_categories.id", ondelete="CASCADE"), primary_key=True),
)

supplier_municipalities = Table(
    "supplier_municipalities",
    Base.metadata,
    Column("supplier_id", ForeignKey("suppliers.id", ondelete="CASCADE"), primary_key=True),
    Column("municipality_id", ForeignKey("municipalities.id", ondelete="CASCADE"), primary_key=True),
)


class Supplier(TimestampMixin, VersionedMixin, Base):
    __tablename__ = "suppliers"
    __audited__ = True
    __audit_exclude__ = ("version",)

    id: Mapped[int] = mapped_column(primary_key=True)
    legal_name: Mapped[str] = mapped_column(String(250))
    company_code: Mapped[str] = mapped_column(String(20), unique=True)
    legal_form: Mapped[str] = mapped_column(String(40))
    kind: Mapped[SupplierKind] = mapped_column(enum_type(SupplierKind))
    country: Mapped[str] = mapped_column(String(2), default="LT")
    description_lt: Mapped[str | None] = mapped_column(Text)
    description_en: Mapped[str | None] = mapped_column(Text)
    staff_count: Mapped[int | None]
    max_contract_value: Mapped[Decimal | None]
    # contact person: personal data, never published
    contact_name: Mapped[str | None] = mapped_column(String(200))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    is_demo: Mapped[bool] = mapped_column(default=False)

    categories: Mapped[list[ServiceCategory]] = relationship(secondary=supplier_categories, lazy="selectin")
    municipalities: Mapped[list[Municipality]] = relationship(secondary=supplier_municipalities, lazy="selectin")

    __table_args__ = (
        CheckConstraint("staff_count IS NULL OR staff_count >= 0", name="staff_nonnegative"),
        CheckConstraint("max_contract_value IS NULL OR max_contract_value >= 0", name="capacity_nonnegative"),
    )

    @property
    def description(self) -> str:
        return localized(self, "description")


category_cpv = Table(
    "service_category_cpv",
    Base.metadata,
    Column("category_id", ForeignKey("service_categories.id", ondelete="CASCADE"), primary_key=True),
    Column("cpv_code", ForeignKey("cpv_codes.code"), primary_key=True),
)


class ServiceCategory(TimestampMixin, Base):
    __tablename__ = "service_categories"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    name_lt: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    priority_area: Mapped[PriorityArea] = mapped_column(enum_type(PriorityArea))
    secondary_area: Mapped[PriorityArea | None] = mapped_column(enum_type(PriorityArea, name="secondary_area"))
    main_cpv: Mapped[str | None] = mapped_column(ForeignKey("cpv_codes.code"))
    target_group_en: Mapped[str | None] = mapped_column(String(200))
    target_group_lt: Mapped[str | None] = mapped_column(String(200))
    unit_en: Mapped[str | None] = mapped_column(String(80))
    unit_lt: Mapped[str | None] = mapped_column(String(80))
    specialised: Mapped[bool] = mapped_column(default=False)
    is_bundle: Mapped[bool] = mapped_column(default=False)
    sort_order: Mapped[int] = mapped_column(default=0)

    cpv_codes = relationship("CpvCode", secondary=category_cpv, lazy="selectin", order_by="CpvCode.code")

    @property
    def name(self) -> str:
        return localized(self, "name")

    @property
    def target_group(self) -> str:
        return localized(self, "target_group")

    @property
    def unit(self) -> str:
        return localized(self, "unit")


class FundingKind(LabelledEnum):
    MUNICIPAL = "municipal"
    REGIONAL_MEASURE = "regional_measure"
    LEADER = "leader"
    OTHER = "other"

    @classmethod
    def labels(cls) -> dict[str, object]:
        return {
            "municipal": _l("Municipal budget"),
            "regional_measure": _l("Regional progress measure"),
            "leader": _l("LEADER / CLLD"),
            "other": _l("Other"),
        }


class FundingMeasure(TimestampMixin, Base):
    __tablename__ = "funding_measures"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[FundingKind] = mapped_column(enum_type(FundingKind))
    name_lt: Mapped[str] = mapped_column(String(250))
    name_en: Mapped[str] = mapped_column(String(250))
    eu_rate: Mapped[Decimal | None] = mapped_column()

    __table_args__ = (CheckConstraint("eu_rate IS NULL OR (eu_rate >= 0 AND eu_rate <= 1)", name="rate_0_1"),)

    @property
    def name(self) -> str:
        return localized(self, "name")
