"""Eligibility of supplier organisations for reserved lots (EU-RES20-02, EU-RES77-02, LT-RES-01):
the checks, and declaring, verifying and expiring statuses with their evidence files; the public
directory of verified organisations."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import secrets
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from srpp.auth.models import Membership, Role, User
from srpp.core.audit import bind_actor
from srpp.core.db import utcnow
from srpp.core.errors import DomainError
from srpp.core.permissions import can, require
from srpp.core.services import check_version
from srpp.extensions import db
from srpp.orgs.models import Supplier, supplier_categories, supplier_municipalities
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


# --- declaring, verifying and expiring statuses (issue #4 item 5) ------------------------------

#: evidence uploads: the largest accepted file, and the types accepted, recognised by content
MAX_EVIDENCE_BYTES = 5 * 1024 * 1024
EVIDENCE_TYPES: dict[str, tuple[str, ...]] = {  # mime type → accepted file-name extensions (first: canonical)
    "application/pdf": (".pdf",),
    "image/png": (".png",),
    "image/jpeg": (".jpg", ".jpeg"),
}
#: the warning period before a status ends
EXPIRY_WARNING_DAYS = 30


def sniff_evidence(data: bytes) -> str | None:
    """The MIME type of a PDF, PNG or JPEG file judged by its bytes (never by its name), or None."""
    if data.startswith(b"%PDF-") and b"%%EOF" in data[-1024:]:
        return "application/pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR":
        return "image/png"
    if data.startswith(b"\xff\xd8\xff") and len(data) > 4:
        return "image/jpeg"
    return None


def _extension(filename: str) -> str:
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    return ("." + base.rsplit(".", 1)[1].lower()) if "." in base else ""


def safe_display_name(filename: str, mime: str) -> str:
    """The user's file name, kept only for display and downloads: no path, no control or quoting
    characters, the canonical extension of the detected type."""
    base = unicodedata.normalize("NFC", (filename or "").replace("\\", "/").rsplit("/", 1)[-1])
    base = "".join(ch for ch in base if ch.isprintable() and ch not in '"<>:;|?*%')
    stem = base.rsplit(".", 1)[0] if "." in base else base
    stem = re.sub(r"\s+", " ", stem).strip(" .")[:150] or "evidence"
    return stem + EVIDENCE_TYPES[mime][0]


@dataclass
class CheckedEvidence:
    data: bytes
    mime: str
    name: str
    sha256: str


def check_evidence(upload: Any, max_bytes: int = MAX_EVIDENCE_BYTES) -> CheckedEvidence:
    """Read and check an uploaded evidence file (a werkzeug ``FileStorage`` or anything with
    ``filename`` and ``read``/``stream``). Refuses what is not a PDF, PNG or JPEG by content, a
    name whose extension does not match the content, an empty or oversized file."""
    filename = getattr(upload, "filename", None) or ""
    stream = getattr(upload, "stream", upload)
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise DomainError(_("The evidence file is larger than %(mb)s MB. Upload a smaller scan or a PDF.",
                            mb=max_bytes // (1024 * 1024)), field="evidence")
    if not data:
        raise DomainError(_("The evidence file is empty."), field="evidence")
    mime = sniff_evidence(data)
    if mime is None:
        raise DomainError(_("The evidence file must be a PDF document or a PNG or JPEG image; this file's content "
                            "is none of these."), field="evidence")
    if _extension(filename) not in EVIDENCE_TYPES[mime]:
        raise DomainError(_("The file's name (%(name)s) does not match its content (%(kind)s). Upload the file "
                            "with its real type.", name=filename[-80:] or "—", kind=EVIDENCE_LABELS[mime]),
                          field="evidence")
    return CheckedEvidence(data, mime, safe_display_name(filename, mime), hashlib.sha256(data).hexdigest())


EVIDENCE_LABELS = {"application/pdf": "PDF", "image/png": "PNG", "image/jpeg": "JPEG"}


def _files_root() -> Path:
    return Path(current_app.config["FILES_DIR"]).resolve()


def store_evidence(supplier: Supplier, evidence: CheckedEvidence) -> str:
    """Write the file under FILES_DIR/evidence/<supplier id>/ with a random name; returns the
    path relative to FILES_DIR. Written to a temporary name first, so no half file is ever served."""
    folder = _files_root() / "evidence" / str(supplier.id)
    folder.mkdir(parents=True, exist_ok=True)
    name = secrets.token_hex(16) + EVIDENCE_TYPES[evidence.mime][0]
    target = folder / name
    tmp = folder / f".{name}.part"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    with os.fdopen(fd, "wb") as fh:
        fh.write(evidence.data)
    os.replace(tmp, target)
    return f"evidence/{supplier.id}/{name}"


def evidence_file(status: SupplierStatus) -> Path | None:
    """The stored evidence file of ``status`` (None when there is none or it is missing)."""
    if not status.evidence_path:
        return None
    root = _files_root()
    path = (root / status.evidence_path).resolve()
    if not path.is_relative_to(root / "evidence") or not path.is_file():
        return None
    return path


def supplier_members(supplier: Supplier) -> list[User]:
    return list(db.session.scalars(
        select(User).join(Membership).where(Membership.supplier_id == supplier.id,
                                            Membership.role == Role.SEO_MEMBER, User.active.is_(True))
        .order_by(User.id)))


def declaration_problems(status: SupplierStatus) -> list[str]:
    """``status_problems`` plus what the law says about the repealed Lithuanian status."""
    problems = status_problems(status)
    if status.basis == StatusBasis.LT_SOCIAL_ENTERPRISE_REPEALED:
        problems.append(_("The 'socialinė įmonė' status was repealed from 2023-01-01; it cannot be a reservation "
                          "basis after that date."))
    return problems


def declare_status(actor: User, supplier: Supplier, basis: StatusBasis, declared_share: Decimal | None, *,
                   art77_mission: bool = False, art77_reinvests: bool = False, art77_participatory: bool = False,
                   valid_from: dt.date | None, valid_to: dt.date | None = None,
                   evidence_file: Any = None) -> SupplierStatus:
    """An organisation declares an eligibility status with its evidence; it waits for review.

    ``declared_share`` is the share of supported workers as a fraction (0.3 = 30 %). A share
    below the basis minimum may be declared; it is shown as not sufficient (``status_problems``)
    and such a status cannot be verified."""
    require(actor, "status.declare", supplier)
    basis = StatusBasis(basis)
    if valid_from is None:
        raise DomainError(_("Give the date from which the status is valid."), field="valid_from")
    if basis == StatusBasis.LT_SOCIAL_ENTERPRISE_REPEALED and valid_from >= LT_SOCIAL_ENTERPRISE_REPEAL:
        raise DomainError(_("The Lithuanian 'socialinė įmonė' status was repealed from 2023-01-01 (Law XIV-1391; "
                            "VPĮ 23(1)(1) is no longer in force), so it cannot be declared from %(day)s. Declare "
                            "one of the VPĮ 23(1)(3)–(5) bases or EU Art. 20 instead.", day=valid_from.isoformat()),
                          field="basis")
    if valid_to is not None and valid_to < valid_from:
        raise DomainError(_("The status cannot end (%(end)s) before it starts (%(start)s).", end=valid_to.isoformat(),
                            start=valid_from.isoformat()), field="valid_to")
    if declared_share is not None:
        declared_share = Decimal(declared_share)
        if not Decimal(0) <= declared_share <= Decimal(1):
            raise DomainError(_("The share of supported workers must be between 0 and 100 %."),
                              field="declared_share")
        declared_share = declared_share.quantize(Decimal("0.0001"))
    elif basis in SHARE_RULES:
        raise DomainError(_("%(basis)s needs the share of supported workers among your staff.", basis=basis.label),
                          field="declared_share")
    is_art77 = basis == StatusBasis.EU_ART77
    pending = db.session.scalar(select(SupplierStatus.id).where(
        SupplierStatus.supplier_id == supplier.id, SupplierStatus.basis == basis,
        SupplierStatus.state == StatusState.DECLARED))
    if pending:
        raise DomainError(_("%(supplier)s already has a %(basis)s status waiting for review. Wait for the decision "
                            "before declaring it again.", supplier=supplier.legal_name, basis=basis.label),
                          field="basis")
    if evidence_file is None or not (getattr(evidence_file, "filename", None) or ""):
        raise DomainError(_("Attach the evidence document (a PDF or an image of the certificate or decision)."),
                          field="evidence")
    evidence = check_evidence(evidence_file)
    bind_actor(db.session(), actor)
    status = SupplierStatus(
        supplier_id=supplier.id, basis=basis, declared_share=declared_share,
        art77_mission=is_art77 and bool(art77_mission), art77_reinvests=is_art77 and bool(art77_reinvests),
        art77_participatory=is_art77 and bool(art77_participatory), valid_from=valid_from, valid_to=valid_to,
        state=StatusState.DECLARED, declared_by_id=actor.id,
        evidence_name=evidence.name, evidence_mime=evidence.mime, evidence_size=len(evidence.data),
        evidence_sha256=evidence.sha256,
    )
    db.session.add(status)
    db.session.flush()
    status.evidence_path = store_evidence(supplier, evidence)
    db.session.flush()
    return status


def _decidable(status: SupplierStatus, version: int | str | None) -> None:
    if version is not None:
        check_version(status, version)
    if status.state != StatusState.DECLARED:
        raise DomainError(_("This status is already %(state)s; only declared statuses are decided.",
                            state=status.state.label))


def verify_status(actor: User, status: SupplierStatus, *, version: int | str | None = None,
                  today: dt.date | None = None) -> None:
    """The regional contact point confirms a declared status (EU-RES20-02: never with too small a
    share; Art. 77 only with conditions a–c; never a status that has already ended)."""
    require(actor, "status.decide", status)
    _decidable(status, version)
    today = today or dt.date.today()
    problems = declaration_problems(status)
    if problems:
        raise DomainError(" ".join([_("This status cannot be verified:"), *problems,
                                    _("Reject it with the reason instead.")]))
    if status.valid_to is not None and status.valid_to < today:
        raise DomainError(_("This status ended on %(day)s and can no longer be verified.",
                            day=status.valid_to.isoformat()))
    if not status.evidence_path:
        raise DomainError(_("This status has no evidence document; it cannot be verified without one."))
    bind_actor(db.session(), actor)
    status.state = StatusState.VERIFIED
    status.decided_by_id = actor.id
    status.decided_at = utcnow()
    status.decision_reason = None
    db.session.flush()
    _tell_members(status)


def reject_status(actor: User, status: SupplierStatus, reason: str | None, *,
                  version: int | str | None = None) -> None:
    require(actor, "status.decide", status)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Say why the status is rejected, so the organisation knows what to correct."),
                          field="reason")
    _decidable(status, version)
    bind_actor(db.session(), actor)
    status.state = StatusState.REJECTED
    status.decided_by_id = actor.id
    status.decided_at = utcnow()
    status.decision_reason = reason[:4000]
    db.session.flush()
    _tell_members(status)


def _tell_members(status: SupplierStatus) -> None:
    """Let the organisation know the decision (once per status and decision)."""
    from flask import has_request_context, url_for
    from flask_babel import force_locale

    from srpp.core.notify import notify

    supplier = db.session.get(Supplier, status.supplier_id)
    link = url_for("suppliers.statuses", supplier_id=supplier.id) if has_request_context() else None
    for user in supplier_members(supplier):
        with force_locale(user.locale or "lt"):
            basis = status.basis.label
            if status.state == StatusState.VERIFIED:
                subject = _("Your %(basis)s status was verified", basis=basis)
                body = _("%(supplier)s can now bid for lots reserved on this basis while the status is valid.",
                         supplier=supplier.legal_name)
            else:
                subject = _("Your %(basis)s status was rejected", basis=basis)
                body = _("Reason: %(reason)s", reason=status.decision_reason or "")
        notify(user, kind="status.decision", subject=subject, body=body, link=link,
               dedupe_key=f"status-decision:{status.id}:{status.state.value}")


def expire_statuses(today: dt.date | None = None) -> int:
    """Daily: statuses whose end date has passed become expired. Idempotent; returns how many."""
    today = today or dt.date.today()
    bind_actor(db.session(), None)
    rows = db.session.scalars(select(SupplierStatus).where(
        SupplierStatus.state.in_([StatusState.DECLARED, StatusState.VERIFIED]),
        SupplierStatus.valid_to.is_not(None), SupplierStatus.valid_to < today)).all()
    for status in rows:
        status.state = StatusState.EXPIRED
    db.session.flush()
    return len(rows)


def warn_expiring(today: dt.date | None = None) -> int:
    """Daily: tell the organisation's members, once, that a verified status ends within 30 days.
    Idempotent (``expiry_warned_at`` and the notification's dedupe key); returns the notifications sent."""
    from flask import has_request_context, url_for
    from flask_babel import force_locale

    from srpp.core.notify import notify

    today = today or dt.date.today()
    bind_actor(db.session(), None)
    rows = db.session.scalars(select(SupplierStatus).where(
        SupplierStatus.state == StatusState.VERIFIED, SupplierStatus.expiry_warned_at.is_(None),
        SupplierStatus.valid_to.is_not(None), SupplierStatus.valid_to >= today,
        SupplierStatus.valid_to <= today + dt.timedelta(days=EXPIRY_WARNING_DAYS))
        .order_by(SupplierStatus.valid_to, SupplierStatus.id)).all()
    sent = 0
    for status in rows:
        supplier = db.session.get(Supplier, status.supplier_id)
        link = url_for("suppliers.statuses", supplier_id=supplier.id) if has_request_context() else None
        for user in supplier_members(supplier):
            with force_locale(user.locale or "lt"):
                subject = _("Your %(basis)s status ends on %(day)s", basis=status.basis.label,
                            day=status.valid_to.isoformat())
                body = _("The eligibility status of %(supplier)s ends on %(day)s. Declare the renewed status with "
                         "its evidence before then, or lots reserved on this basis can no longer be awarded to you.",
                         supplier=supplier.legal_name, day=status.valid_to.isoformat())
            if notify(user, kind="status.expiry", subject=subject, body=body, link=link,
                      dedupe_key=f"status-expiry:{status.id}:{status.valid_to.isoformat()}"):
                sent += 1
        status.expiry_warned_at = utcnow()
    db.session.flush()
    return sent


def review_queue() -> list[SupplierStatus]:
    return list(db.session.scalars(select(SupplierStatus).where(SupplierStatus.state == StatusState.DECLARED)
                                   .order_by(SupplierStatus.created_at, SupplierStatus.id)))


def visible_statuses(user: User | None, supplier: Supplier) -> list[SupplierStatus]:
    """Everything for those who may see the evidence; the verified statuses for other users."""
    rows = statuses_of(supplier)
    if can(user, "evidence.view", supplier):
        return rows
    return [s for s in rows if s.state == StatusState.VERIFIED]


# --- the public directory ----------------------------------------------------------------------

#: what a verified basis means, in plain words, for the public directory
BASIS_PLAIN = {
    StatusBasis.EU_ART20: _l("may bid for lots reserved for sheltered workshops and work-integration "
                             "enterprises (EU Art. 20)"),
    StatusBasis.EU_ART77: _l("may bid for lots reserved for public-service-mission organisations in health, social "
                             "and cultural services (EU Art. 77)"),
    StatusBasis.LT_23_1_3: _l("may bid for lots reserved for suppliers where convicted persons make up over half of "
                              "the staff (VPĮ 23(1)(3))"),
    StatusBasis.LT_23_1_4: _l("may bid for lots reserved for suppliers employing occupational-therapy patients "
                              "(VPĮ 23(1)(4))"),
    StatusBasis.LT_23_1_5: _l("may bid for lots reserved for suppliers where at least half of the staff are "
                              "additionally supported persons (VPĮ 23(1)(5))"),
    StatusBasis.LT_SOCIAL_BUSINESS: _l("holds the Lithuanian social business status"),
    StatusBasis.LV_SOCIAL_ENTERPRISE: _l("is in the Latvian social enterprise register"),
}


def _current_verified(today: dt.date) -> Any:
    return (select(SupplierStatus.supplier_id, SupplierStatus.basis)
            .where(SupplierStatus.state == StatusState.VERIFIED, SupplierStatus.valid_from <= today,
                   or_(SupplierStatus.valid_to.is_(None), SupplierStatus.valid_to >= today),
                   SupplierStatus.basis.in_(list(BASIS_PLAIN))))


def directory_stmt(category_id: int | None = None, municipality_id: int | None = None,
                   today: dt.date | None = None) -> Any:
    """Organisations with a verified status valid today, optionally offering a category in a municipality."""
    today = today or dt.date.today()
    verified = _current_verified(today).with_only_columns(SupplierStatus.supplier_id)
    stmt = select(Supplier).where(Supplier.id.in_(verified))
    if category_id is not None:
        stmt = stmt.where(Supplier.id.in_(select(supplier_categories.c.supplier_id)
                                          .where(supplier_categories.c.category_id == category_id)))
    if municipality_id is not None:
        stmt = stmt.where(Supplier.id.in_(select(supplier_municipalities.c.supplier_id)
                                          .where(supplier_municipalities.c.municipality_id == municipality_id)))
    return stmt.order_by(Supplier.legal_name, Supplier.id)


def verified_bases(supplier_ids: list[int], today: dt.date | None = None) -> dict[int, list[str]]:
    """{supplier id: the plain words of each verified basis valid today}, in one query."""
    today = today or dt.date.today()
    out: dict[int, list[str]] = {sid: [] for sid in supplier_ids}
    if not supplier_ids:
        return out
    rows = db.session.execute(_current_verified(today).where(SupplierStatus.supplier_id.in_(supplier_ids))
                              .distinct().order_by(SupplierStatus.basis))
    for sid, basis in rows:
        out[sid].append(str(BASIS_PLAIN[basis]))
    return out
