"""Demo eligibility statuses for the demo suppliers of ``srpp/demo/data/suppliers.yaml``.

Created with the ORM directly (it is demo data), so the story can hold every state: verified
statuses on each reservation basis, one waiting for review, one rejected with its reason and one
that ends within the 30-day warning period. Each carries a small synthetic PDF as its evidence.
Must run before the tender demo (awards check these statuses)."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

from sqlalchemy import select

from srpp.auth.models import User
from srpp.extensions import db
from srpp.orgs.models import Supplier
from srpp.suppliers.models import StatusBasis, StatusState, SupplierStatus
from srpp.suppliers.services import CheckedEvidence, store_evidence

B = StatusBasis
YES = {"art77_mission": True, "art77_reinvests": True, "art77_participatory": True}

#: (company code, basis, share, extra columns, state, valid from, valid to or a day offset from today, reason)
STATUSES: list[tuple] = [
    ("990000001", B.EU_ART77, None, YES, StatusState.VERIFIED, dt.date(2024, 1, 1), dt.date(2028, 12, 31), None),
    ("990000011", B.EU_ART77, None, YES, StatusState.VERIFIED, dt.date(2024, 6, 1), dt.date(2028, 12, 31), None),
    ("990000007", B.EU_ART20, Decimal("0.42"), {}, StatusState.VERIFIED, dt.date(2024, 1, 1), dt.date(2028, 12, 31),
     None),
    ("990000010", B.EU_ART20, Decimal("0.35"), {}, StatusState.VERIFIED, dt.date(2024, 9, 1), dt.date(2028, 8, 31),
     None),
    ("990000008", B.LT_23_1_5, Decimal("0.55"), {}, StatusState.VERIFIED, dt.date(2024, 3, 1), dt.date(2028, 2, 29),
     None),
    # waiting for the regional contact point
    ("990000002", B.EU_ART77, None, YES, StatusState.DECLARED, dt.date(2026, 9, 1), dt.date(2029, 8, 31), None),
    # rejected, with the reason the organisation sees
    ("990000003", B.LT_23_1_5, Decimal("0.50"), {}, StatusState.REJECTED, dt.date(2026, 5, 1), None,
     "Pateiktas tik vidinis darbuotojų sąrašas; reikia Užimtumo tarnybos pažymos apie papildomai remiamus asmenis. "
     "Deklaruokite statusą iš naujo su pažyma."),
    # ends within the 30-day warning period (relative to the day the demo is loaded)
    ("990000001", B.LT_SOCIAL_BUSINESS, None, {}, StatusState.VERIFIED, dt.date(2025, 1, 1), 20, None),
]


def demo_pdf(text: str) -> bytes:
    """A minimal valid one-page PDF showing ``text`` (ASCII)."""
    safe = text.encode("ascii", "replace").replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
    content = b"BT /F1 14 Tf 50 780 Td (" + safe + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> "
        b"/Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return out


def load(today: dt.date | None = None) -> None:
    today = today or dt.date.today()
    suppliers = {s.company_code: s for s in db.session.scalars(select(Supplier).where(Supplier.is_demo.is_(True)))}
    council = db.session.scalar(select(User).where(User.email == "council@demo.srpp.lt"))
    seo = db.session.scalar(select(User).where(User.email == "seo@demo.srpp.lt"))
    decided = dt.datetime(2024, 1, 1, 10, 0, tzinfo=dt.UTC)
    for code, basis, share, extra, state, valid_from, valid_to, reason in STATUSES:
        supplier = suppliers[code]
        if isinstance(valid_to, int):
            valid_to = today + dt.timedelta(days=valid_to)
        data = demo_pdf(f"DEMO evidence (synthetic): {code} {basis.value} from {valid_from.isoformat()}")
        evidence = CheckedEvidence(data, "application/pdf", f"demo-{basis.value}-{code}.pdf",
                                   hashlib.sha256(data).hexdigest())
        status = SupplierStatus(
            supplier_id=supplier.id, basis=basis, declared_share=share, valid_from=valid_from, valid_to=valid_to,
            state=state, declared_by_id=seo.id if seo and seo.supplier_ids() == {supplier.id} else None,
            evidence_name=evidence.name, evidence_mime=evidence.mime, evidence_size=len(data),
            evidence_sha256=evidence.sha256, **extra)
        if state in (StatusState.VERIFIED, StatusState.REJECTED):
            status.decided_by_id = council.id if council else None
            status.decided_at = max(decided, dt.datetime.combine(valid_from, dt.time(10, 0), dt.UTC))
            status.decision_reason = reason
        db.session.add(status)
        db.session.flush()
        status.evidence_path = store_evidence(supplier, evidence)
    db.session.flush()
