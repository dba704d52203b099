"""Eligibility statuses of supplier organisations (the basis on which they may bid for reserved
lots), with evidence, verification and expiry; and market-engagement interest."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from srpp.core.db import Base, TimestampMixin, VersionedMixin, enum_type
from srpp.core.enums import LabelledEnum


class StatusBasis(LabelledEnum):
    """What a status attests. The first five can open reserved lots; the others are informational."""

    EU_ART20 = "res-ws"
    EU_ART77 = "res-pub-ser"
    LT_23_1_3 = "lt-23-1-3"
    LT_23_1_4 = "lt-23-1-4"
    LT_23_1_5 = "lt-23-1-5"
    LT_SOCIAL_BUSINESS = "lt-social-business"
    LT_SOCIAL_ENTERPRISE_REPEALED = "lt-social-enterprise"
    LV_SOCIAL_ENTERPRISE = "lv-social-enterprise"

    @classmethod
    def labels(cls) -> dict[str, object]:
        return {
            "res-ws": _l("EU Art. 20: sheltered workshop or work-integration operator (at least 30 per cent supported workers)"),
            "res-pub-ser": _l("EU Art. 77: public-service-mission organisation (conditions a–c)"),
            "lt-23-1-3": _l("VPĮ 23(1)(3): convicted persons over 50 per cent of staff"),
            "lt-23-1-4": _l("VPĮ 23(1)(4): occupational-therapy patients at least 50 per cent of staff"),
            "lt-23-1-5": _l("VPĮ 23(1)(5): persons additionally supported in the labour market at least 50 per cent of staff"),
            "lt-social-business": _l("Lithuanian social business status (informational)"),
            "lt-social-enterprise": _l("Lithuanian 'socialinė įmonė' status (repealed from 2023-01-01)"),
            "lv-social-enterprise": _l("Latvian social enterprise register (informational)"),
        }

    @property
    def opens_reservation(self) -> bool:
        return self.value in ("res-ws", "res-pub-ser", "lt-23-1-3", "lt-23-1-4", "lt-23-1-5")


class StatusState(LabelledEnum):
    DECLARED = "declared"
    VERIFIED = "verified"
    REJECTED = "rejected"
    EXPIRED = "expired"

    @classmethod
    def labels(cls) -> dict[str, object]:
        return {"declared": _l("declared"), "verified": _l("verified"), "rejected": _l("rejected"),
                "expired": _l("expired")}


class SupplierStatus(TimestampMixin, VersionedMixin, Base):
    __tablename__ = "supplier_statuses"
    __audited__ = True
    __audit_exclude__ = ("version", "evidence_path")

    id: Mapped[int] = mapped_column(primary_key=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id", ondelete="CASCADE"), index=True)
    basis: Mapped[StatusBasis] = mapped_column(enum_type(StatusBasis, 30))
    #: declared share of disabled/disadvantaged/supported workers (0–1)
    declared_share: Mapped[Decimal | None] = mapped_column(Numeric(5, 4))
    #: Art. 77(2)(a)–(c): public-service mission, profits reinvested, participatory governance
    art77_mission: Mapped[bool] = mapped_column(default=False)
    art77_reinvests: Mapped[bool] = mapped_column(default=False)
    art77_participatory: Mapped[bool] = mapped_column(default=False)
    evidence_path: Mapped[str | None] = mapped_column(String(300))
    evidence_name: Mapped[str | None] = mapped_column(String(200))
    evidence_mime: Mapped[str | None] = mapped_column(String(100))
    evidence_size: Mapped[int | None]
    evidence_sha256: Mapped[str | None] = mapped_column(String(64))
    valid_from: Mapped[dt.date]
    valid_to: Mapped[dt.date | None]
    state: Mapped[StatusState] = mapped_column(enum_type(StatusState, 12), default=StatusState.DECLARED)
    declared_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[dt.datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(Text)
    expiry_warned_at: Mapped[dt.datetime | None]

    supplier = relationship("Supplier", lazy="joined")
    decided_by = relationship("User", foreign_keys=[decided_by_id])

    __table_args__ = (
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="period_ordered"),
        CheckConstraint("declared_share IS NULL OR (declared_share >= 0 AND declared_share <= 1)", name="share_0_1"),
        CheckConstraint("state <> 'rejected' OR decision_reason IS NOT NULL", name="rejection_has_reason"),
        CheckConstraint("state NOT IN ('verified', 'rejected') OR decided_at IS NOT NULL", name="decision_dated"),
    )

    @property
    def audit_label(self) -> str:
        return f"{self.basis.value} #{self.supplier_id}"

    def valid_on(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


class MarketInterest(TimestampMixin, Base):
    """An SEO says it is interested in an upcoming plan item or an open lot."""

    __tablename__ = "market_interests"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id", ondelete="CASCADE"), index=True)
    plan_item_uid: Mapped[str | None] = mapped_column(String(32), index=True)
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("lots.id", ondelete="CASCADE"), index=True)
    seeks_partners: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    supplier = relationship("Supplier", lazy="joined")

    __table_args__ = (
        CheckConstraint("(plan_item_uid IS NULL) <> (lot_id IS NULL)", name="one_target"),
        Index("uq_market_interests_supplier_item", "supplier_id", "plan_item_uid", unique=True,
              postgresql_where=text("plan_item_uid IS NOT NULL"), sqlite_where=text("plan_item_uid IS NOT NULL")),
        Index("uq_market_interests_supplier_lot", "supplier_id", "lot_id", unique=True,
              postgresql_where=text("lot_id IS NOT NULL"), sqlite_where=text("lot_id IS NOT NULL")),
    )
