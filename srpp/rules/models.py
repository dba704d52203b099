"""Legal reference data kept as rows with validity dates (never as constants in code)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from srpp.core.db import Base
from srpp.core.enums import LabelledEnum


class EuThreshold(Base):
    """EU-THR-01/04: the thresholds in force for procedures launched between valid_from and valid_to."""

    __tablename__ = "eu_thresholds"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    valid_from: Mapped[dt.date] = mapped_column(unique=True)
    valid_to: Mapped[dt.date]
    works: Mapped[Decimal]
    supplies_services_central: Mapped[Decimal]
    supplies_services_sub_central: Mapped[Decimal]
    social_services: Mapped[Decimal]
    source: Mapped[str] = mapped_column(String(200))

    __table_args__ = (CheckConstraint("valid_to >= valid_from", name="period_ordered"),)


class ContractKind(LabelledEnum):
    WORKS = "works"
    SUPPLIES_SERVICES = "supplies_services"
    SOCIAL_SERVICES = "social_services"

    @classmethod
    def labels(cls) -> dict[str, object]:
        return {
            "works": _l("works"),
            "supplies_services": _l("supplies and services"),
            "social_services": _l("social and other specific services (Annex XIV)"),
        }


class Procedure(LabelledEnum):
    SIMPLIFIED = "simplified"
    OPEN = "open"
    LIGHT_REGIME = "light_regime"
    CALL_OFF = "call_off"

    @classmethod
    def labels(cls) -> dict[str, object]:
        return {
            "simplified": _l("Simplified procurement"),
            "open": _l("Open procedure"),
            "light_regime": _l("Light regime for social services"),
            "call_off": _l("Call-off under a framework agreement"),
        }


class ReservationBasis(LabelledEnum):
    """Legal bases for reserving a contract or lot (EU-RES20, EU-RES77, LT-RES-01)."""

    NONE = "none"
    EU_ART20 = "res-ws"
    EU_ART77 = "res-pub-ser"
    LT_23_1_3 = "lt-23-1-3"
    LT_23_1_4 = "lt-23-1-4"
    LT_23_1_5 = "lt-23-1-5"

    @classmethod
    def labels(cls) -> dict[str, object]:
        return {
            "none": _l("Not reserved"),
            "res-ws": _l("EU Art. 20: sheltered workshops and integration enterprises"),
            "res-pub-ser": _l("EU Art. 77: public-service-mission organisations"),
            "lt-23-1-3": _l("VPĮ 23(1)(3): suppliers employing convicted persons (over 50%)"),
            "lt-23-1-4": _l("VPĮ 23(1)(4): occupational-therapy patients (at least 50%)"),
            "lt-23-1-5": _l("VPĮ 23(1)(5): persons additionally supported in the labour market (at least 50%)"),
        }

    @property
    def reserved(self) -> bool:
        return self is not ReservationBasis.NONE

    @property
    def plain_words(self) -> str:
        """The basis in plain words for suppliers (pipeline, feeds)."""
        return str({
            "none": _l("open to all suppliers"),
            "res-ws": _l("reserved for sheltered workshops and work-integration enterprises"),
            "res-pub-ser": _l("reserved for public-service-mission organisations (health, social, cultural services)"),
            "lt-23-1-3": _l("reserved for suppliers where convicted persons make up over half of the staff"),
            "lt-23-1-4": _l("reserved for suppliers employing occupational-therapy patients"),
            "lt-23-1-5": _l("reserved for suppliers where at least half of the staff are additionally supported persons"),
        }[self.value])
