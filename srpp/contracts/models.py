"""Contracts (from awarded lots now; from call-offs and direct entry later) — the payment
tracking builds on these rows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from srpp.core.db import Base, TimestampMixin, VersionedMixin, enum_type
from srpp.core.enums import LabelledEnum
from srpp.rules.models import ReservationBasis


class ContractState(LabelledEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    TERMINATED = "terminated"

    @classmethod
    def labels(cls) -> dict[str, object]:
        return {"active": _l("active"), "completed": _l("completed"), "terminated": _l("terminated")}


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

    municipality = relationship("Municipality", lazy="joined")
    supplier = relationship("Supplier", lazy="joined")
    lot = relationship("Lot")

    __table_args__ = (
        CheckConstraint("value > 0", name="value_positive"),
        CheckConstraint("end_date >= start_date", name="period_ordered"),
    )

    @property
    def audit_label(self) -> str:
        return self.title
