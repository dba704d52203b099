"""Eligibility statuses (declare, verify, reject, expire, the 30-day warning), their evidence
files (types by content, size, storage outside the web root, who may download them), the pages,
and the public directory of verified organisations (no personal data)."""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from srpp.core.errors import ConcurrentEdit, DomainError
from srpp.core.permissions import PermissionDenied
from srpp.suppliers import services
from srpp.suppliers.demo import demo_pdf
from srpp.suppliers.models import StatusBasis, StatusState, SupplierStatus

B = StatusBasis
TODAY = dt.date.today()
PDF = demo_pdf("Test evidence")
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89" \
      b"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"
YES77 = {"art77_mission": True, "art77_reinvests": True, "art77_participatory": True}

JAUTRI, GERIS, BIRZAI, SALU, PASVALYS = "990000001", "990000002", "990000007", "990000003", "990000009"
#: the tests must pass with and without the demo statuses loaded; PASVALYS has none in the demo


# --- helpers -----------------------------------------------------------------------------------

def _user(session, email):
    from srpp.auth.models import User

    return session.scalar(select(User).where(User.email == email))


def _supplier(session, code):
    from srpp.orgs.models import Supplier

    return session.scalar(select(Supplier).where(Supplier.company_code == code))


def _file(data: bytes = PDF, name: str = "pazyma.pdf") -> FileStorage:
    return FileStorage(io.BytesIO(data), filename=name)


def _declare(session, code=BIRZAI, basis=B.EU_ART20, share=Decimal("0.40"), actor="admin@demo.srpp.lt",
             valid_from=dt.date(2026, 1, 1), valid_to=None, evidence=None, **flags):
    return services.declare_status(_user(session, actor), _supplier(session, code), basis, share,
                                   valid_from=valid_from, valid_to=valid_to,
                                   evidence_file=_file() if evidence is None else evidence, **flags)


def _verified(session, code, basis, share=None, valid_to=None, valid_from=dt.date(2025, 1, 1), **flags):
    from srpp.core.db import utcnow

    status = SupplierStatus(supplier_id=_supplier(session, code).id, basis=basis, declared_share=share,
                            valid_from=valid_from, valid_to=valid_to, state=StatusState.VERIFIED,
                            decided_at=utcnow(), **flags)
    session.add(status)
    session.flush()
    return status


def _notifications(session, user, kind):
    from srpp.core.models import Notification

    return session.scalars(select(Notification).where(Notification.user_id == user.id,
                                                      Notification.kind == kind)).all()


@pytest.fixture()
def demo_statuses(ctx):
    """The demo statuses (loaded here unless the demo loader already did)."""
    from srpp.suppliers import demo

    if not ctx.scalar(select(func.count(SupplierStatus.id))):
        demo.load()
    return ctx


@pytest.fixture()
def quiet(ctx):
    """Statuses that exist before the test (the demo's, when loaded) are already warned about."""
    from sqlalchemy import update

    from srpp.core.db import utcnow

    ctx.execute(update(SupplierStatus).values(expiry_warned_at=utcnow()))
    ctx.expire_all()
    return ctx


@pytest.fixture()
def other_seo(ctx):
    """A member of another organisation ("Gėris rankose"), logged in as other.seo@example.org."""
    from srpp.auth import services as auth
    from srpp.auth.models import Role

    user = auth.create_user(None, email="other.seo@example.org", full_name="Other SEO member", password="demo12345",
                            locale="en")
    auth.add_membership(None, user, Role.SEO_MEMBER, supplier_id=_supplier(ctx, GERIS).id)
    ctx.flush()
    return user


# --- declaring ---------------------------------------------------------------------------------

DECLARE_CASES = [
    # (id, basis, share, valid_from, valid_to, expected refusal field or None)
    ("art20 ok", B.EU_ART20, Decimal("0.30"), dt.date(2026, 1, 1), None, None),
    ("art20 below minimum is declarable", B.EU_ART20, Decimal("0.29"), dt.date(2026, 1, 1), None, None),
    ("share over 100 %", B.EU_ART20, Decimal("1.01"), dt.date(2026, 1, 1), None, "declared_share"),
    ("negative share", B.LT_23_1_5, Decimal("-0.01"), dt.date(2026, 1, 1), None, "declared_share"),
    ("share needed", B.LT_23_1_4, None, dt.date(2026, 1, 1), None, "declared_share"),
    ("informational without share", B.LT_SOCIAL_BUSINESS, None, dt.date(2026, 1, 1), None, None),
    ("ends before it starts", B.EU_ART20, Decimal("0.5"), dt.date(2026, 1, 1), dt.date(2025, 12, 31), "valid_to"),
    ("one-day status", B.EU_ART20, Decimal("0.5"), dt.date(2026, 1, 1), dt.date(2026, 1, 1), None),
    ("repealed basis from 2023-01-01", B.LT_SOCIAL_ENTERPRISE_REPEALED, None, dt.date(2023, 1, 1), None, "basis"),
    ("repealed basis later", B.LT_SOCIAL_ENTERPRISE_REPEALED, None, dt.date(2026, 6, 1), None, "basis"),
    ("repealed basis before the repeal", B.LT_SOCIAL_ENTERPRISE_REPEALED, None, dt.date(2021, 1, 1),
     dt.date(2022, 12, 31), None),
    ("no start date", B.EU_ART20, Decimal("0.5"), None, None, "valid_from"),
]


@pytest.mark.parametrize(("basis", "share", "valid_from", "valid_to", "refused"),
                         [c[1:] for c in DECLARE_CASES], ids=[c[0] for c in DECLARE_CASES])
def test_declare_rules(ctx, basis, share, valid_from, valid_to, refused):
    if refused:
        before = ctx.scalar(select(func.count(SupplierStatus.id)))
        with pytest.raises(DomainError) as err:
            _declare(ctx, basis=basis, share=share, valid_from=valid_from, valid_to=valid_to)
        assert err.value.field == refused
        assert ctx.scalar(select(func.count(SupplierStatus.id))) == before
    else:
        status = _declare(ctx, basis=basis, share=share, valid_from=valid_from, valid_to=valid_to)
        assert status.state == StatusState.DECLARED and status.id


def test_repealed_basis_message_names_the_rule(ctx):
    with pytest.raises(DomainError, match="repealed from 2023-01-01"):
        _declare(ctx, basis=B.LT_SOCIAL_ENTERPRISE_REPEALED, share=None, valid_from=dt.date(2024, 1, 1))


@pytest.mark.parametrize(("basis", "share", "sufficient"), [
    (B.EU_ART20, Decimal("0.2999"), False),
    (B.EU_ART20, Decimal("0.30"), True),
    (B.LT_23_1_3, Decimal("0.50"), False),  # "more than 50 %"
    (B.LT_23_1_3, Decimal("0.5001"), True),
    (B.LT_23_1_4, Decimal("0.4999"), False),
    (B.LT_23_1_4, Decimal("0.50"), True),
    (B.LT_23_1_5, Decimal("0.50"), True),
    (B.LT_23_1_5, Decimal("0.10"), False),
])
def test_share_minimums_are_shown_not_refused(ctx, basis, share, sufficient):
    status = _declare(ctx, basis=basis, share=share)
    assert status.declared_share == share
    problems = services.status_problems(status)
    assert (not problems) is sufficient
    if not sufficient:
        assert "below" in problems[0]


def test_share_is_stored_as_a_fraction_and_art77_flags_only_for_art77(ctx):
    status = _declare(ctx, basis=B.EU_ART20, share=Decimal("0.3333333"), **YES77)
    assert status.declared_share == Decimal("0.3333")
    assert not (status.art77_mission or status.art77_reinvests or status.art77_participatory)
    art77 = _declare(ctx, code=PASVALYS, basis=B.EU_ART77, share=None, art77_mission=True, art77_reinvests=True)
    assert art77.art77_mission and art77.art77_reinvests and not art77.art77_participatory
    assert services.status_problems(art77)  # (c) missing


def test_who_may_declare(ctx, other_seo):
    seo = "seo@demo.srpp.lt"
    assert _declare(ctx, code=JAUTRI, actor=seo, basis=B.LT_23_1_5, share=Decimal("0.6")).declared_by_id
    for actor in (seo, "officer.rok@demo.srpp.lt", "council@demo.srpp.lt", "finance.rok@demo.srpp.lt"):
        with pytest.raises(PermissionDenied):
            _declare(ctx, code=BIRZAI, actor=actor)
    with pytest.raises(PermissionDenied):
        _declare(ctx, code=JAUTRI, actor=other_seo.email)


def test_a_pending_declaration_of_the_same_basis_is_not_repeated(ctx):
    _declare(ctx)
    with pytest.raises(DomainError, match="waiting for review"):
        _declare(ctx)
    _declare(ctx, basis=B.LT_23_1_5, share=Decimal("0.5"))  # another basis is fine


def test_evidence_is_required(ctx):
    with pytest.raises(DomainError) as err:
        services.declare_status(_user(ctx, "admin@demo.srpp.lt"), _supplier(ctx, BIRZAI), B.EU_ART20,
                                Decimal("0.4"), valid_from=dt.date(2026, 1, 1), evidence_file=None)
    assert err.value.field == "evidence"


# --- verifying and rejecting -------------------------------------------------------------------

VERIFY_CASES = [
    # (id, basis, share, Art. 77 flags, valid_to, verifiable)
    ("art20 at 30 %", B.EU_ART20, Decimal("0.30"), {}, None, True),
    ("art20 below 30 % (EU-RES20-02)", B.EU_ART20, Decimal("0.29"), {}, None, False),
    ("23(1)(3) exactly 50 %", B.LT_23_1_3, Decimal("0.50"), {}, None, False),
    ("23(1)(5) at 50 %", B.LT_23_1_5, Decimal("0.50"), {}, None, True),
    ("art77 a-c", B.EU_ART77, None, YES77, None, True),
    ("art77 without (b)", B.EU_ART77, None, {"art77_mission": True, "art77_participatory": True}, None, False),
    ("ended yesterday", B.LT_SOCIAL_BUSINESS, None, {}, TODAY - dt.timedelta(days=1), False),
    ("repealed basis", B.LT_SOCIAL_ENTERPRISE_REPEALED, None, {}, dt.date(2022, 12, 31), False),
]


@pytest.mark.parametrize(("basis", "share", "flags", "valid_to", "verifiable"), [c[1:] for c in VERIFY_CASES],
                         ids=[c[0] for c in VERIFY_CASES])
def test_verify_rules(ctx, basis, share, flags, valid_to, verifiable):
    council = _user(ctx, "council@demo.srpp.lt")
    valid_from = min(dt.date(2022, 1, 1), TODAY - dt.timedelta(days=30))
    status = _declare(ctx, code=PASVALYS, basis=basis, share=share, valid_from=valid_from, valid_to=valid_to,
                      **flags)
    if verifiable:
        services.verify_status(council, status, version=status.version)
        assert status.state == StatusState.VERIFIED and status.decided_by_id == council.id and status.decided_at
    else:
        with pytest.raises(DomainError):
            services.verify_status(council, status)
        assert status.state == StatusState.DECLARED
        services.reject_status(council, status, "Does not meet the basis")
        assert status.state == StatusState.REJECTED and status.decision_reason == "Does not meet the basis"


def test_a_verified_status_makes_the_organisation_eligible(ctx):
    from srpp.rules.models import ReservationBasis

    status = _declare(ctx, code=PASVALYS, basis=B.EU_ART77, share=None, valid_from=dt.date(2025, 1, 1), **YES77)
    pasvalys = _supplier(ctx, PASVALYS)
    assert not services.eligibility(pasvalys, ReservationBasis.EU_ART77, TODAY).ok
    services.verify_status(_user(ctx, "admin@demo.srpp.lt"), status)
    assert services.eligibility(pasvalys, ReservationBasis.EU_ART77, TODAY).ok


def test_reject_needs_a_reason_and_only_declared_statuses_are_decided(ctx):
    council = _user(ctx, "council@demo.srpp.lt")
    status = _declare(ctx)
    for reason in (None, "", "   "):
        with pytest.raises(DomainError) as err:
            services.reject_status(council, status, reason)
        assert err.value.field == "reason"
    services.reject_status(council, status, "  The certificate is from another company.  ")
    assert status.decision_reason == "The certificate is from another company."
    with pytest.raises(DomainError, match="already rejected"):
        services.verify_status(council, status)
    with pytest.raises(DomainError, match="already rejected"):
        services.reject_status(council, status, "again")


def test_only_admins_and_council_decide(ctx, other_seo):
    status = _declare(ctx)
    for email in ("seo@demo.srpp.lt", "officer.rok@demo.srpp.lt", "finance.rok@demo.srpp.lt", other_seo.email):
        with pytest.raises(PermissionDenied):
            services.verify_status(_user(ctx, email), status)
        with pytest.raises(PermissionDenied):
            services.reject_status(_user(ctx, email), status, "no")
    services.verify_status(_user(ctx, "admin@demo.srpp.lt"), status)


def test_a_stale_decision_is_refused(ctx):
    status = _declare(ctx)
    stale = status.version - 1
    with pytest.raises(ConcurrentEdit):
        services.verify_status(_user(ctx, "council@demo.srpp.lt"), status, version=stale)


def test_the_organisation_is_told_the_decision(ctx):
    seo = _user(ctx, "seo@demo.srpp.lt")
    status = _declare(ctx, code=JAUTRI, basis=B.LT_23_1_5, share=Decimal("0.2"))
    services.reject_status(_user(ctx, "council@demo.srpp.lt"), status, "Share below 50 %")
    notes = _notifications(ctx, seo, "status.decision")
    assert len(notes) == 1 and "Share below 50 %" in notes[0].body


# --- expiry and the 30-day warning -------------------------------------------------------------

def test_expire_statuses_is_idempotent(ctx):
    ended = _verified(ctx, BIRZAI, B.EU_ART20, Decimal("0.4"), valid_to=TODAY - dt.timedelta(days=1))
    pending = _declare(ctx, code=PASVALYS, basis=B.LT_SOCIAL_BUSINESS, share=None, valid_from=dt.date(2024, 1, 1),
                       valid_to=TODAY - dt.timedelta(days=2))
    last_day = _verified(ctx, SALU, B.LT_23_1_5, Decimal("0.6"), valid_to=TODAY)
    open_ended = _verified(ctx, GERIS, B.LT_SOCIAL_BUSINESS)
    rejected = _declare(ctx, code=PASVALYS, basis=B.LT_23_1_5, share=Decimal("0.6"), valid_from=dt.date(2024, 1, 1),
                        valid_to=TODAY - dt.timedelta(days=3))
    services.reject_status(_user(ctx, "admin@demo.srpp.lt"), rejected, "No certificate")
    assert services.expire_statuses(TODAY) == 2
    assert ended.state == pending.state == StatusState.EXPIRED
    assert last_day.state == open_ended.state == StatusState.VERIFIED  # valid through its last day
    assert rejected.state == StatusState.REJECTED
    assert services.expire_statuses(TODAY) == 0


@pytest.mark.parametrize(("days_left", "warned"), [(0, True), (29, True), (30, True), (31, False)])
def test_warning_window(ctx, quiet, days_left, warned):
    status = _verified(ctx, JAUTRI, B.LT_23_1_5, Decimal("0.6"), valid_to=TODAY + dt.timedelta(days=days_left))
    sent = services.warn_expiring(TODAY)
    assert (sent == 1) is warned
    assert (status.expiry_warned_at is not None) is warned


def test_warning_is_sent_once_to_the_organisations_members(ctx, quiet, other_seo):
    from srpp.core.notify import outbox

    seo = _user(ctx, "seo@demo.srpp.lt")
    before = len(outbox())
    status = _verified(ctx, JAUTRI, B.EU_ART77, valid_to=TODAY + dt.timedelta(days=30), **YES77)
    _verified(ctx, JAUTRI, B.LT_SOCIAL_BUSINESS, valid_to=TODAY + dt.timedelta(days=90))
    rejected = _verified(ctx, JAUTRI, B.EU_ART20, Decimal("0.4"), valid_to=TODAY + dt.timedelta(days=5))
    rejected.state, rejected.decision_reason = StatusState.REJECTED, "No evidence"  # only verified ones are warned
    ctx.flush()
    assert services.warn_expiring(TODAY) == 1
    assert services.warn_expiring(TODAY) == 0
    status.expiry_warned_at = None  # even if the mark were lost, the dedupe key holds
    assert services.warn_expiring(TODAY + dt.timedelta(days=1)) == 0
    notes = _notifications(ctx, seo, "status.expiry")
    assert len(notes) == 1
    assert status.valid_to.isoformat() in notes[0].subject and notes[0].link.endswith("/statuses")
    assert not _notifications(ctx, other_seo, "status.expiry")  # another organisation's member
    assert [m["To"] for m in outbox()[before:]] == ["seo@demo.srpp.lt"]


def test_daily_task_is_registered_scheduled_and_runs_the_services(app, ctx, quiet):
    from workers.schedule import BEAT_SCHEDULE
    from workers.tasks.suppliers import daily_status_scan

    assert "srpp.suppliers.daily_status_scan" in app.extensions["celery"].tasks
    assert any(e["task"] == "srpp.suppliers.daily_status_scan" for e in BEAT_SCHEDULE.values())
    ended = _verified(ctx, BIRZAI, B.EU_ART20, Decimal("0.4"), valid_to=TODAY - dt.timedelta(days=1))
    soon = _verified(ctx, JAUTRI, B.LT_23_1_5, Decimal("0.6"), valid_to=TODAY + dt.timedelta(days=10))
    assert daily_status_scan.run() == {"expired": 1, "warned": 1}
    assert daily_status_scan.run() == {"expired": 0, "warned": 0}
    ctx.refresh(ended)
    ctx.refresh(soon)
    assert ended.state == StatusState.EXPIRED and soon.expiry_warned_at is not None


# --- evidence files ----------------------------------------------------------------------------

EVIDENCE_CASES = [
    # (id, bytes, file name, accepted mime or None)
    ("pdf", PDF, "pazyma.pdf", "application/pdf"),
    ("pdf upper-case name", PDF, "PAZYMA.PDF", "application/pdf"),
    ("png", PNG, "scan.png", "image/png"),
    ("jpeg", JPEG, "photo.jpeg", "image/jpeg"),
    ("jpg", JPEG, "photo.jpg", "image/jpeg"),
    ("png named .pdf", PNG, "pazyma.pdf", None),
    ("pdf named .png", PDF, "scan.png", None),
    ("random bytes named .pdf", bytes(range(256)) * 8, "pazyma.pdf", None),
    ("pdf header only", b"%PDF-1.7\n" + b"x" * 2000, "pazyma.pdf", None),
    ("html named .png", b"<html><script>alert(1)</script></html>", "scan.png", None),
    ("svg", b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "scan.svg", None),
    ("pdf named .exe", PDF, "setup.exe", None),
    ("pdf without extension", PDF, "pazyma", None),
    ("empty", b"", "pazyma.pdf", None),
]


@pytest.mark.parametrize(("data", "name", "mime"), [c[1:] for c in EVIDENCE_CASES], ids=[c[0] for c in EVIDENCE_CASES])
def test_evidence_type_is_checked_by_content(ctx, data, name, mime):
    if mime:
        status = _declare(ctx, evidence=_file(data, name))
        assert status.evidence_mime == mime and status.evidence_size == len(data)
    else:
        with pytest.raises(DomainError) as err:
            _declare(ctx, evidence=_file(data, name))
        assert err.value.field == "evidence"


def test_oversized_evidence_is_refused(ctx):
    big = PDF[:-6] + b" " * (services.MAX_EVIDENCE_BYTES) + PDF[-6:]
    with pytest.raises(DomainError, match="larger than 5 MB"):
        _declare(ctx, evidence=_file(big))
    just_fits = PDF[:-6] + b" " * (services.MAX_EVIDENCE_BYTES - len(PDF)) + PDF[-6:]
    assert _declare(ctx, evidence=_file(just_fits)).evidence_size == services.MAX_EVIDENCE_BYTES


def test_evidence_is_stored_outside_the_web_root_under_a_random_name(app, ctx):
    import hashlib

    status = _declare(ctx, evidence=_file(PDF, '../../static/"evil" name;.pdf'))
    path = services.evidence_file(status)
    files_dir = Path(app.config["FILES_DIR"]).resolve()
    assert path is not None and path.read_bytes() == PDF
    assert path.parent == files_dir / "evidence" / str(status.supplier_id)
    assert re.fullmatch(r"[0-9a-f]{32}\.pdf", path.name)
    assert not path.is_relative_to(Path(app.static_folder).resolve())
    assert "evil" not in status.evidence_path
    assert status.evidence_sha256 == hashlib.sha256(PDF).hexdigest() and status.evidence_size == len(PDF)
    assert status.evidence_name == "evil name.pdf"  # shown and offered for download, never used on disk


def test_a_tampered_path_is_not_served(ctx):
    status = _declare(ctx)
    status.evidence_path = "../../../etc/passwd"
    assert services.evidence_file(status) is None


@pytest.mark.parametrize(("email", "expected"), [
    ("seo@demo.srpp.lt", 200),           # the organisation itself
    ("other.seo@example.org", 403),      # a member of another organisation
    ("council@demo.srpp.lt", 200),
    ("admin@demo.srpp.lt", 200),
    ("officer.rok@demo.srpp.lt", 200),   # procurement officers check eligibility at award
    ("finance.rok@demo.srpp.lt", 403),
    (None, "login"),
])
def test_evidence_download_only_for_allowed_users(client, as_user, ctx, other_seo, email, expected):
    status = _declare(ctx, code=JAUTRI, basis=B.LT_23_1_5, share=Decimal("0.6"), actor="seo@demo.srpp.lt",
                      evidence=_file(PDF, "Pažyma (2026).pdf"))
    if email:
        as_user(email)
    resp = client.get(f"/statuses/{status.id}/evidence")
    if expected == "login":
        assert resp.status_code == 302 and "/login" in resp.headers["Location"]
        return
    assert resp.status_code == expected
    if expected == 200:
        assert resp.data == PDF
        assert resp.headers["Content-Type"] == "application/pdf"
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        disposition = resp.headers["Content-Disposition"]
        assert disposition.startswith("attachment;") and "Pa%C5%BEyma%20%282026%29.pdf" in disposition
        assert "no-store" in resp.headers["Cache-Control"]
    else:
        assert PDF[:20] not in resp.data


def test_unknown_status_evidence_is_404(client, as_user):
    as_user("admin@demo.srpp.lt")
    assert client.get("/statuses/999999999/evidence").status_code == 404


# --- pages -------------------------------------------------------------------------------------

def test_statuses_page_for_the_organisation(client, as_user, demo_statuses):
    jautri = _supplier(demo_statuses, JAUTRI)
    as_user("seo@demo.srpp.lt")
    html = client.get(f"/suppliers/{jautri.id}/statuses").get_data(as_text=True)
    assert "Declare a status" in html and 'enctype="multipart/form-data"' in html
    assert "EU Art. 77" in html and "verified" in html
    assert 'href="/statuses/' in html and "/evidence" in html


def test_other_users_see_verified_statuses_only_and_no_form(client, as_user, ctx, demo_statuses):
    salu = _supplier(ctx, SALU)  # its only demo status is rejected
    as_user("finance.rok@demo.srpp.lt")
    html = client.get(f"/suppliers/{salu.id}/statuses").get_data(as_text=True)
    assert "No statuses have been declared yet." in html and "Užimtumo tarnybos" not in html
    assert "Declare a status" not in html
    as_user("officer.rok@demo.srpp.lt")
    html = client.get(f"/suppliers/{salu.id}/statuses").get_data(as_text=True)
    assert "rejected" in html and "Užimtumo tarnybos" in html and "Declare a status" not in html


def test_declare_through_the_page(client, as_user, ctx):
    jautri = _supplier(ctx, JAUTRI)
    as_user("seo@demo.srpp.lt")
    form = {"basis": "lt-23-1-5", "declared_share": "55", "valid_from": "2026-01-01", "valid_to": "2027-12-31"}
    resp = client.post(f"/suppliers/{jautri.id}/statuses", data={**form, "evidence": (io.BytesIO(PNG), "a.pdf")},
                       content_type="multipart/form-data")
    assert resp.status_code == 200 and "does not match its content" in resp.get_data(as_text=True)
    resp = client.post(f"/suppliers/{jautri.id}/statuses", data={**form, "declared_share": "150",
                                                                  "evidence": (io.BytesIO(PDF), "a.pdf")},
                       content_type="multipart/form-data")
    assert resp.status_code == 200 and "between 0 and 100" in resp.get_data(as_text=True)
    resp = client.post(f"/suppliers/{jautri.id}/statuses", data={**form, "evidence": (io.BytesIO(PDF), "a.pdf")},
                       content_type="multipart/form-data")
    assert resp.status_code == 302
    status = ctx.scalar(select(SupplierStatus).where(SupplierStatus.supplier_id == jautri.id,
                                                     SupplierStatus.basis == B.LT_23_1_5))
    assert status.declared_share == Decimal("0.55") and status.state == StatusState.DECLARED
    assert status.valid_to == dt.date(2027, 12, 31) and status.evidence_mime == "application/pdf"


def test_declaring_for_another_organisation_is_403(client, as_user, ctx):
    as_user("seo@demo.srpp.lt")
    resp = client.post(f"/suppliers/{_supplier(ctx, GERIS).id}/statuses",
                       data={"basis": "lt-social-business", "valid_from": "2026-01-01",
                             "evidence": (io.BytesIO(PDF), "a.pdf")}, content_type="multipart/form-data")
    assert resp.status_code == 403
    assert not ctx.scalar(select(func.count(SupplierStatus.id)).where(
        SupplierStatus.supplier_id == _supplier(ctx, GERIS).id, SupplierStatus.basis == B.LT_SOCIAL_BUSINESS))


def test_review_queue_verify_and_reject(client, as_user, ctx):
    good = _declare(ctx, code=PASVALYS, basis=B.EU_ART77, share=None, **YES77)
    short = _declare(ctx, code=BIRZAI, basis=B.EU_ART20, share=Decimal("0.2"))
    as_user("council@demo.srpp.lt")
    html = client.get("/statuses/review").get_data(as_text=True)
    assert f'action="/statuses/{good.id}/verify"' in html
    assert f'action="/statuses/{short.id}/verify"' not in html  # not verifiable: below 30 %
    assert f'action="/statuses/{short.id}/reject"' in html and "below the 30 %" in html
    assert client.post(f"/statuses/{good.id}/verify", data={"version": good.version}).status_code == 302
    resp = client.post(f"/statuses/{short.id}/verify", follow_redirects=True)
    assert "cannot be verified" in resp.get_data(as_text=True)
    resp = client.post(f"/statuses/{short.id}/reject", data={"reason": " "}, follow_redirects=True)
    assert "Say why" in resp.get_data(as_text=True)
    client.post(f"/statuses/{short.id}/reject", data={"reason": "Only 20 % supported workers"})
    ctx.expire_all()
    assert ctx.get(SupplierStatus, good.id).state == StatusState.VERIFIED
    short = ctx.get(SupplierStatus, short.id)
    assert short.state == StatusState.REJECTED and short.decision_reason == "Only 20 % supported workers"
    html = client.get("/statuses/review").get_data(as_text=True)
    assert f"status-{good.id}" not in html and f"status-{short.id}" not in html


@pytest.mark.parametrize("email", ["seo@demo.srpp.lt", "officer.rok@demo.srpp.lt", "finance.rok@demo.srpp.lt"])
def test_review_actions_are_403_for_others(client, as_user, ctx, email):
    status = _declare(ctx, code=PASVALYS, basis=B.EU_ART77, share=None, **YES77)
    as_user(email)
    assert client.get("/statuses/review").status_code == 403
    assert client.post(f"/statuses/{status.id}/verify").status_code == 403
    assert client.post(f"/statuses/{status.id}/reject", data={"reason": "x"}).status_code == 403
    ctx.expire_all()
    assert ctx.get(SupplierStatus, status.id).state == StatusState.DECLARED


def test_navigation(client, as_user):
    assert 'href="/directory"' in client.get("/").get_data(as_text=True)
    as_user("council@demo.srpp.lt")
    html = client.get("/").get_data(as_text=True)
    assert 'href="/directory"' in html and 'href="/statuses/review"' in html
    as_user("seo@demo.srpp.lt")
    assert 'href="/statuses/review"' not in client.get("/").get_data(as_text=True)


# --- the public directory ----------------------------------------------------------------------

def _directory_names(html: str) -> list[str]:
    import html as html_lib

    return [html_lib.unescape(n) for n in re.findall(r'<li class="card directory-entry">\s*<h3>(.*?)</h3>', html)]


def test_directory_lists_verified_organisations_only(client, demo_statuses):
    resp = client.get("/directory")
    assert resp.status_code == 200
    names = _directory_names(resp.get_data(as_text=True))
    assert names == sorted(names)
    assert {'VšĮ "Jautri širdis"', "Demo Panevėžio paliatyvi pagalba", "Demo Biržų socialinės dirbtuvės",
            "Demo Rokiškio jaunimo erdvė", "Demo Kupiškio mobilumo kooperatyvas"} <= set(names)
    assert 'VšĮ "Gėris rankose"' not in names  # declared, not verified
    assert '"Salų dvaras"' not in names  # rejected
    assert "Demo Pasvalio būsto pagalba" not in names  # no status at all
    html = resp.get_data(as_text=True)
    assert "may bid for lots reserved for sheltered workshops" in html


def test_directory_shows_no_personal_data(client, ctx, demo_statuses):
    from srpp.demo.loader import read

    html = client.get("/directory").get_data(as_text=True)
    import html as html_lib

    text = html_lib.unescape(html)
    for s in read("suppliers.yaml")["suppliers"]:
        for value in (s.get("contact") or {}).values():
            assert value not in text, f"{value} is personal data"
    assert "@" not in text.replace("@demo.srpp.lt", "")  # no e-mail addresses at all


def test_directory_filters(client, ctx, demo_statuses):
    names = _directory_names(client.get("/directory?category=DRT").get_data(as_text=True))
    assert names == ["Demo Kupiškio mobilumo kooperatyvas"]
    names = _directory_names(client.get("/directory?municipality=BIR").get_data(as_text=True))
    assert names == ["Demo Biržų socialinės dirbtuvės"]
    names = _directory_names(client.get("/directory?category=HOME_CARE&municipality=PAN-D").get_data(as_text=True))
    assert set(names) == {'VšĮ "Jautri širdis"', "Demo Panevėžio paliatyvi pagalba"}
    resp = client.get("/directory?category=nonsense&municipality=XX")
    assert resp.status_code == 200 and len(_directory_names(resp.get_data(as_text=True))) >= 5


def test_directory_drops_expired_and_future_statuses(client, ctx):
    _verified(ctx, PASVALYS, B.LT_23_1_5, Decimal("0.6"), valid_to=TODAY - dt.timedelta(days=1))
    _verified(ctx, SALU, B.LT_23_1_5, Decimal("0.6"), valid_from=TODAY + dt.timedelta(days=1))
    _verified(ctx, GERIS, B.LT_SOCIAL_BUSINESS, valid_to=TODAY)
    names = _directory_names(client.get("/directory").get_data(as_text=True))
    assert 'VšĮ "Gėris rankose"' in names
    assert "Demo Pasvalio būsto pagalba" not in names and '"Salų dvaras"' not in names


def test_directory_escapes_descriptions(client, ctx):
    geris = _supplier(ctx, GERIS)
    geris.description_en = "<script>alert('x')</script>"
    _verified(ctx, GERIS, B.LT_SOCIAL_BUSINESS)
    html = client.get("/directory").get_data(as_text=True)
    assert "<script>alert" not in html and "&lt;script&gt;" in html


# --- demo data ---------------------------------------------------------------------------------

def test_demo_statuses_tell_the_story(demo_statuses):
    from srpp.rules.models import ReservationBasis

    ctx = demo_statuses
    by_state = {state: ctx.scalar(select(func.count(SupplierStatus.id)).where(SupplierStatus.state == state))
                for state in StatusState}
    assert by_state[StatusState.DECLARED] >= 1 and by_state[StatusState.REJECTED] >= 1
    assert by_state[StatusState.VERIFIED] >= 6
    for code, basis in [(JAUTRI, ReservationBasis.EU_ART77), ("990000011", ReservationBasis.EU_ART77),
                        (BIRZAI, ReservationBasis.EU_ART20), ("990000010", ReservationBasis.EU_ART20),
                        ("990000008", ReservationBasis.LT_23_1_5)]:
        assert services.eligibility(_supplier(ctx, code), basis, TODAY).ok, code
    assert not services.eligibility(_supplier(ctx, GERIS), ReservationBasis.EU_ART77, TODAY).ok
    soon = ctx.scalars(select(SupplierStatus).where(SupplierStatus.state == StatusState.VERIFIED,
                                                    SupplierStatus.valid_to <= TODAY + dt.timedelta(days=30))).all()
    assert soon and all(services.evidence_file(s) for s in soon)
    rejected = ctx.scalar(select(SupplierStatus).where(SupplierStatus.state == StatusState.REJECTED))
    assert rejected.decision_reason
