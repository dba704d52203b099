"""Personal data (GDPR, issue 10): contact persons and users are not shown to those who do not need
them; an administrator exports and erases a person's data, the audit trail keeping the fact only."""

from __future__ import annotations

import json
import re
from collections import deque

import pytest
from sqlalchemy import JSON, Enum, String, Text, func, select

from srpp.auth.models import LoginAttempt, User
from srpp.core.models import AuditAction, AuditEvent, Notification
from srpp.orgs.models import Supplier

ADMIN = "admin@demo.srpp.lt"
SEO = "seo@demo.srpp.lt"
OWN_SUPPLIER = "990000001"  # seo@demo.srpp.lt is a member of it
OTHER_SUPPLIER = "990000002"


# --- who sees contact persons --------------------------------------------------------------------

def _personal_strings(session, *, except_user: str | None = None, except_supplier: str | None = None) -> set[str]:
    """The supplier contact persons (names, e-mails, phones) and users' e-mail addresses and names."""
    found: set[str] = set()
    for s in session.scalars(select(Supplier)):
        if s.company_code == except_supplier:
            continue
        found.update(v for v in (s.contact_name, s.contact_email, s.contact_phone) if v)
    for u in session.scalars(select(User)):
        if u.email == except_user:
            continue
        found.add(u.email)
        if u.full_name and len(u.full_name) >= 6:
            found.add(u.full_name)
    return found


SEEDS = ["/", "/opportunities", "/directory", "/municipalities", "/payments/reports", "/assets/",
         "/indicators/scoreboard", "/opportunities.atom", "/opportunities.ics", "/api/v1/municipalities",
         "/api/v1/plans", "/api/v1/tenders", "/api/v1/frameworks", "/api/v1/contracts", "/suppliers"]
SKIP = re.compile(r"^/(static|logout|language|login|password)|\.(xlsx|docx|pdf|png|zip)(\?|$)")
BINARY = ("application/vnd", "application/pdf", "image/", "application/zip", "application/octet-stream")


def _crawl(client, extra_seeds: list[str], limit: int = 300) -> dict[str, str]:
    """Follow the links of the pages a visitor can reach (one URL per path); returns url -> text."""
    queue = deque(SEEDS + extra_seeds)
    seen_paths: set[str] = set()
    pages: dict[str, str] = {}
    while queue and len(pages) < limit:
        url = queue.popleft()
        path = url.split("?")[0].split("#")[0]
        if path in seen_paths or SKIP.search(url):
            continue
        seen_paths.add(path)
        resp = client.get(url.split("#")[0])
        if resp.status_code != 200 or resp.content_type.startswith(BINARY):
            continue
        text = resp.get_data(as_text=True)
        pages[url] = text
        for link in re.findall(r'href="(/[^"]*)"', text):
            queue.append(link.replace("&amp;", "&"))
    return pages


def _published_approvers(session) -> set[str]:
    """A payment compliance report names the officer who approved it, by law (Procurement Regulations
    2024 reg. 38: "name, job title"): the one name published on purpose."""
    from srpp.payments.models import PaymentReport

    return {r.approver_name for r in session.scalars(select(PaymentReport).where(PaymentReport.state == "published"))
            if r.approver_name}


def _leaks(pages: dict[str, str], secrets: set[str], approvers: set[str] = frozenset()) -> list[tuple[str, str]]:
    out = []
    for url, text in pages.items():
        low = text.lower()
        for s in secrets:
            if s in approvers and url.startswith(("/payments/reports", "/api/v1/payment")):
                continue
            if s.lower() in low or json.dumps(s)[1:-1].lower() in low:
                out.append((url, s))
    return out


def test_public_pages_show_no_personal_data(client, ctx):
    other = ctx.scalar(select(Supplier.id).where(Supplier.company_code == OTHER_SUPPLIER))
    pages = _crawl(client, [f"/suppliers/{other}"])
    assert len(pages) > 40, sorted(pages)  # the crawl reached the public site
    assert any(u.startswith("/opportunities/lots/") for u in pages)
    assert any(u.startswith("/directory") for u in pages)
    approvers = _published_approvers(ctx)
    assert approvers  # the demo has published reports
    leaks = _leaks(pages, _personal_strings(ctx), approvers)
    assert not leaks, leaks


def test_seo_member_sees_no_other_contact_persons(as_user, ctx):
    client = as_user(SEO)
    own = ctx.scalar(select(Supplier).where(Supplier.company_code == OWN_SUPPLIER))
    other = ctx.scalar(select(Supplier).where(Supplier.company_code == OTHER_SUPPLIER))
    # positive control: their own organisation's contact person is on its page
    assert own.contact_email in client.get(f"/suppliers/{own.id}").get_data(as_text=True)
    page = client.get(f"/suppliers/{other.id}").get_data(as_text=True)
    for value in (other.contact_name, other.contact_email, other.contact_phone):
        assert value and value not in page
    pages = _crawl(client, [f"/suppliers/{other.id}", "/interests", "/saved-searches"])
    assert len(pages) > 40
    leaks = _leaks(pages, _personal_strings(ctx, except_user=SEO, except_supplier=OWN_SUPPLIER),
                   _published_approvers(ctx))
    assert not leaks, leaks


def test_municipal_staff_see_the_contact_person(as_user, ctx):
    """Who needs it does see it: the control that the checks above could fail."""
    other = ctx.scalar(select(Supplier).where(Supplier.company_code == OTHER_SUPPLIER))
    page = as_user("officer.rok@demo.srpp.lt").get(f"/suppliers/{other.id}").get_data(as_text=True)
    assert other.contact_email in page and other.contact_name in page


# --- export ------------------------------------------------------------------------------------

def _user(session, email: str) -> User:
    return session.scalar(select(User).where(User.email == email))


def test_admin_exports_a_persons_data(client, as_user, ctx):
    client.post("/login", data={"email": SEO, "password": "wrong-password"})  # a login attempt to export
    seo = _user(ctx, SEO)
    seo_id = seo.id
    admin = as_user(ADMIN)
    resp = admin.get(f"/admin/users/{seo_id}/personal-data")
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    assert "attachment" in resp.headers["Content-Disposition"]
    data = resp.get_json()
    assert data["account"]["email"] == SEO and data["account"]["id"] == seo_id
    assert [m["role"] for m in data["memberships"]] == ["seo_member"]
    assert "bad_credentials" in [a["outcome"] for a in data["login_attempts"]]
    for key in ("notifications", "saved_searches", "interest_registrations", "api_tokens", "audit_events_as_actor",
                "linked_records"):
        assert isinstance(data[key], (list, dict)), key
    assert "password_hash" not in json.dumps(data) and "argon2" not in json.dumps(data)
    acted = ctx.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.actor_id == seo_id))
    assert len(data["audit_events_as_actor"]) == acted
    assert set(data["audit_events_as_actor"][0]) == {"id", "at", "entity_type", "entity_id", "action"}
    assert "memberships.user_id" in data["linked_records"]
    # the export is audited, without the data
    event = ctx.scalar(select(AuditEvent).where(AuditEvent.entity_type == "User", AuditEvent.entity_id == str(seo_id))
                       .order_by(AuditEvent.id.desc()).limit(1))
    assert event.changes == {"personal_data": [None, "exported"]} and event.actor_label == ADMIN
    admin.post("/logout")
    assert as_user(SEO).get(f"/admin/users/{seo_id}/personal-data").status_code == 403


# --- erasure -----------------------------------------------------------------------------------

def database_text(connection) -> str:
    """Every text and JSON value of every table, as one lower-case string (the 'database dump')."""
    from srpp.core.db import Base

    parts: list[str] = []
    for table in Base.metadata.sorted_tables:
        columns = [c for c in table.columns
                   if isinstance(c.type, JSON) or (isinstance(c.type, (String, Text)) and not isinstance(c.type, Enum))]
        if not columns:
            continue
        for row in connection.execute(select(*columns)):
            for value in row:
                if value is not None:
                    parts.append(f"{table.name}: " + (value if isinstance(value, str)
                                                     else json.dumps(value, ensure_ascii=False)))
    return "\n".join(parts).lower()


def _hits(dump: str, needle: str) -> list[str]:
    return [line[:200] for line in dump.splitlines() if needle.lower() in line]


@pytest.mark.parametrize("email", [SEO, "officer.rok@demo.srpp.lt", "finance.pas@demo.srpp.lt"])
def test_erasure_leaves_no_trace_of_the_person(client, as_user, ctx, conn, email):
    from srpp.api import services as api_services
    from srpp.core.notify import notify

    person = _user(ctx, email)
    person_id, name = person.id, person.full_name
    assert len(name) >= 6
    _, plaintext = api_services.issue(person, "my script")
    notify(person, kind="test", subject=f"Hello {name}", body="x", dedupe_key="privacy-test", email=False)
    ctx.commit()
    client.post("/login", data={"email": email, "password": "wrong-password"})
    dump = database_text(conn)
    assert _hits(dump, email) and _hits(dump, name)  # the control: the dump sees them before

    admin = as_user(ADMIN)
    # no confirmation, or the wrong one: nothing happens
    assert admin.post(f"/admin/users/{person_id}/erase").status_code == 302
    assert admin.post(f"/admin/users/{person_id}/erase", data={"confirm": "someone@else.lt"}).status_code == 302
    assert _user(ctx, email) is not None
    resp = admin.post(f"/admin/users/{person_id}/erase", data={"confirm": email.upper()})
    assert resp.status_code == 302
    ctx.expire_all()

    dump = database_text(conn)
    assert _hits(dump, email) == []
    assert _hits(dump, name) == []
    erased = ctx.get(User, person_id)
    assert (erased.email, erased.full_name, erased.active) == (f"erased-{person_id}@invalid",
                                                                f"Erased user #{person_id}", False)
    assert erased.memberships == []
    assert ctx.scalar(select(func.count()).select_from(Notification).where(Notification.user_id == person_id)) == 0
    assert ctx.scalar(select(func.count()).select_from(LoginAttempt).where(LoginAttempt.email == email)) == 0
    assert api_services.authenticate(plaintext) is None
    tokens = api_services.tokens_of(erased)
    assert tokens and all(t.revoked_at is not None for t in tokens)
    event = ctx.scalar(select(AuditEvent).where(AuditEvent.action == AuditAction.ERASE,
                                                AuditEvent.entity_id == str(person_id)))
    assert event is not None and event.actor_label == ADMIN
    assert event.changes["personal_data"] == [None, f"erased personal data of user #{person_id}"]
    # the trail keeps who did what: the person's earlier events still point at the (anonymised) account
    assert ctx.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.actor_id == person_id)) > 0
    admin.post("/logout")
    assert client.post("/login", data={"email": email, "password": "demo12345"}).status_code == 200
    page = as_user(ADMIN).get(f"/admin/users/{person_id}").get_data(as_text=True)
    assert "were erased" in page and f'action="/admin/users/{person_id}/erase"' not in page


def test_erasure_is_refused_for_oneself_and_for_others(as_user, ctx):
    admin_id = _user(ctx, ADMIN).id
    officer_id = _user(ctx, "officer.bir@demo.srpp.lt").id
    admin = as_user(ADMIN)
    resp = admin.post(f"/admin/users/{admin_id}/erase", data={"confirm": ADMIN}, follow_redirects=True)
    assert "You cannot erase your own account." in resp.get_data(as_text=True)
    assert _user(ctx, ADMIN) is not None
    admin.post("/logout")
    council = as_user("council@demo.srpp.lt")
    assert council.post(f"/admin/users/{officer_id}/erase",
                        data={"confirm": "officer.bir@demo.srpp.lt"}).status_code == 403
    assert _user(ctx, "officer.bir@demo.srpp.lt") is not None


# --- generated documents that show the person --------------------------------------------------------

def _specification(ctx, unit: str):
    from srpp.documents import services as documents
    from srpp.documents import subjects
    from srpp.documents.kinds import KINDS
    from srpp.tenders.models import Tender

    tender_id = ctx.scalar(select(Tender.id).where(Tender.title == "Pagalbos į namus ir mobilumo paketas"))
    doc = documents.request_document(_user(ctx, "officer.pas@demo.srpp.lt"), KINDS["tender_specification"],
                                     subjects.load("tender", tender_id), "en", {"social_services_unit": unit})
    ctx.expire_all()  # the (eager) worker ran in a session of its own
    return doc


def test_erasure_withdraws_the_generated_files_that_show_the_person(as_user, ctx):
    """A document whose values and .docx show the person's name loses its file (marked expired, its
    record kept); a document that does not show them keeps its file."""
    from srpp.documents.models import DocumentFile, GeneratedDocument

    person = _user(ctx, "finance.pas@demo.srpp.lt")
    person_id, name = person.id, person.full_name
    showing = _specification(ctx, f"Socialinių paslaugų skyrius, kontaktinis asmuo {name}")
    other = _specification(ctx, "Socialinių paslaugų skyrius")
    files = lambda doc_id: ctx.scalar(select(func.count()).select_from(DocumentFile).where(  # noqa: E731
        DocumentFile.document_id == doc_id))
    assert files(showing.id) == 1 and files(other.id) == 1
    content = ctx.scalar(select(DocumentFile.content).where(DocumentFile.document_id == showing.id))
    from srpp.auth.privacy import _file_mentions, _needles

    assert _file_mentions(content, "docx", _needles(person.email, name))  # the control: the file shows the name

    resp = as_user(ADMIN).post(f"/admin/users/{person_id}/erase", data={"confirm": person.email})
    assert resp.status_code == 302
    ctx.expire_all()
    assert files(showing.id) == 0 and ctx.get(GeneratedDocument, showing.id).expired_at is not None
    assert files(other.id) == 1 and ctx.get(GeneratedDocument, other.id).expired_at is None
    event = ctx.scalar(select(AuditEvent).where(AuditEvent.action == AuditAction.ERASE,
                                                AuditEvent.entity_id == str(person_id)))
    assert event.changes["rows_scrubbed"][1]["generated_documents (files withdrawn)"] == 1


def test_a_name_split_across_runs_of_a_docx_is_found():
    import io

    import docx

    from srpp.auth.privacy import _file_mentions, _needles

    document = docx.Document()
    paragraph = document.add_paragraph("Kontaktinis asmuo: ")
    paragraph.add_run("Ona ")
    paragraph.add_run("Onaitė").bold = True
    out = io.BytesIO()
    document.save(out)
    assert _file_mentions(out.getvalue(), "docx", _needles("ona@example.lt", "Ona Onaitė"))
    assert not _file_mentions(out.getvalue(), "docx", _needles("jonas@example.lt", "Jonas Jonaitis"))
    assert _file_mentions(b"%PDF-1.7 BT (Ona Onaite) Tj ET", "pdf", _needles("x@example.lt", "Ona Onaite"))
