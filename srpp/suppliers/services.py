"""Eligibility of supplier organisations for reserved lots (EU-RES20-02, EU-RES77-02, LT-RES-01)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import select

from srpp.extensions import db
from srpp.orgs.models import Supplier
from srpp.rules.models import ReservationBasis
from srpp.suppliers.models import StatusBasis, StatusState, SupplierStatus

#: the staff share each basis needs: (minimum, strictly greater?)
SHARE_RULES: dict[StatusBasis, tuple[Decimal, bool]] = {
    StatusBasis.EU_ART20: (Decimal("0.30"), False),
    StatusBasis.LT_23_1_3: (Decimal("0.50"), True),
    StatusBasis.LT_23_1_4: (Decimal("0.50"), False),
    StatusBasis.LT_23_1_5: (Decimal("0.50"), False),
}
LT_SOCIAL_ENTERPRISE_REPEAL = dt.date(2023, 1, 1)


@dataclass
class Eligibility:
    ok: bool
    reason: str
    status: SupplierStatus | None = None


def status_problems(status: SupplierStatus) -> list[str]:
    """What keeps a status from supporting a reservation (besides its state and dates)."""
    problems = []
    if status.basis in SHARE_RULES:
        minimum, strict = SHARE_RULES[status.basis]
        share = status.declared_share
        if share is None or (share <= minimum if strict else share < minimum):
            problems.append(_("The declared share of supported workers (%(share)s) is below the %(min)s the basis "
                              "requires.", share=f"{(share or 0) * 100:.0f} %", min=f"{minimum * 100:.0f} %"))
    if status.basis == StatusBasis.EU_ART77 and not (
            status.art77_mission and status.art77_reinvests and status.art77_participatory):
        problems.append(_("Art. 77 needs all of conditions (a) public-service mission, (b) profits reinvested and "
                          "(c) participatory management."))
    return problems


def statuses_of(supplier: Supplier) -> list[SupplierStatus]:
    return list(db.session.scalars(select(SupplierStatus).where(SupplierStatus.supplier_id == supplier.id)
                                   .order_by(SupplierStatus.valid_from.desc())))


def eligibility(supplier: Supplier, basis: ReservationBasis, on: dt.date) -> Eligibility:
    """May ``supplier`` take a lot reserved on ``basis`` on the day ``on``?"""
    if basis == ReservationBasis.NONE:
        return Eligibility(True, _("The lot is not reserved."))
    wanted = StatusBasis(basis.value)
    candidates = [s for s in statuses_of(supplier) if s.basis == wanted]
    if not candidates:
        return Eligibility(False, _("%(supplier)s has no %(basis)s status.", supplier=supplier.legal_name,
                                    basis=wanted.label))
    for status in candidates:
        if status.state == StatusState.VERIFIED and status.valid_on(on) and not status_problems(status):
            return Eligibility(True, _("Verified status valid from %(start)s.", start=status.valid_from.isoformat()),
                               status)
    best = candidates[0]
    if best.state != StatusState.VERIFIED:
        reason = _("The %(basis)s status of %(supplier)s is %(state)s, not verified.", basis=wanted.label,
                   supplier=supplier.legal_name, state=best.state.label)
    elif not best.valid_on(on):
        reason = _("The %(basis)s status of %(supplier)s is not valid on %(day)s.", basis=wanted.label,
                   supplier=supplier.legal_name, day=on.isoformat())
    else:
        reason = " ".join(status_problems(best))
    return Eligibility(False, reason, best)


def eligible_suppliers(basis: ReservationBasis, category_id: int | None, on: dt.date) -> list[Supplier]:
    """Directory organisations that offer the category and (for a reserved lot) are eligible."""
    stmt = select(Supplier).order_by(Supplier.legal_name)
    suppliers = list(db.session.scalars(stmt))
    out = []
    for s in suppliers:
        if category_id is not None and category_id not in {c.id for c in s.categories}:
            continue
        if eligibility(s, basis, on).ok:
            out.append(s)
    return out
