"""Personal data of a person with an account (GDPR): export everything we hold about them, and
erase it.

Erasure anonymises the account (name "Erased user #id", address erased-<id>@invalid, unusable
password, deactivated, no roles), revokes its API tokens, deletes its login attempts,
notifications and saved searches, and replaces the old e-mail address and full name with
"[erased]" wherever they still occur as text: the audit trail (actor labels, entity labels and
old/new values) and any other text or JSON column of the database. The records themselves stay
(who did what keeps its ids and times); one audit event "erased personal data of user #id" records
the fact and the counts, never the values.

Generated documents are files rendered from the data: a document whose values or files (the text of
a .docx, the bytes of a .pdf) show the e-mail address or the name loses its files and is marked
expired, as at the end of its retention period; it can be generated again from the scrubbed data.
Evidence files uploaded by suppliers and backups are not changed (see docs/SECURITY.md).
"""

from __future__ import annotations

import html
import io
import json
import re
import zipfile
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import JSON, Enum, String, Text, cast, delete, func, or_, select, update

from srpp.auth.models import LoginAttempt, User
from srpp.core.audit import bind_actor, record, to_jsonable
from srpp.core.db import Base, utcnow
from srpp.core.errors import DomainError
from srpp.core.models import AuditAction, AuditEvent, Notification
from srpp.core.permissions import require
from srpp.extensions import db

ERASED = "[erased]"
#: a full name shorter than this (or without a space) is too likely to occur in unrelated text to be
#: replaced outside the person's own rows
MIN_NAME_CHARS = 6


def erased_email(user_id: int) -> str:
    return f"erased-{user_id}@invalid"


def is_erased(user: User) -> bool:
    return user.email == erased_email(user.id)


# --- export -----------------------------------------------------------------------------------

def _row(obj: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    return {f: to_jsonable(getattr(obj, f)) for f in fields}


def _linked_records(user_id: int) -> dict[str, list[str]]:
    """Every row of every table that points at the user (table.column -> primary keys)."""
    found: dict[str, list[str]] = {}
    for table in Base.metadata.sorted_tables:
        pk = list(table.primary_key.columns)
        if not pk:
            continue
        for column in table.columns:
            if not any(fk.column.table.name == "users" for fk in column.foreign_keys):
                continue
            rows = db.session.execute(select(*pk).where(column == user_id).order_by(*pk)).all()
            if rows:
                found[f"{table.name}.{column.name}"] = [",".join(str(v) for v in r) for r in rows]
    return found


def export_personal_data(actor: User, user: User) -> dict[str, Any]:
    """Everything the application holds about ``user``, JSON-ready. The export itself is audited."""
    require(actor, "admin.manage")
    from srpp.api.models import ApiToken
    from srpp.plans.models import SavedSearch
    from srpp.suppliers.models import MarketInterest

    s = db.session
    data: dict[str, Any] = {
        "generated_at": to_jsonable(utcnow()),
        "account": _row(user, ("id", "email", "full_name", "locale", "active", "is_demo", "created_at",
                               "updated_at", "last_login_at")),
        "memberships": [
            {**_row(m, ("id", "role", "municipality_id", "supplier_id", "region_id", "created_at")),
             "scope": m.scope_label}
            for m in user.memberships
        ],
        "login_attempts": [
            _row(a, ("at", "address", "outcome"))
            for a in s.scalars(select(LoginAttempt).where(LoginAttempt.email == user.email).order_by(LoginAttempt.at))
        ],
        "notifications": [
            _row(n, ("id", "kind", "subject", "body", "link", "created_at", "read_at", "emailed_at"))
            for n in s.scalars(select(Notification).where(Notification.user_id == user.id).order_by(Notification.id))
        ],
        "saved_searches": [
            _row(x, ("id", "name", "query", "created_at", "last_digest_at"))
            for x in s.scalars(select(SavedSearch).where(SavedSearch.user_id == user.id).order_by(SavedSearch.id))
        ],
        "interest_registrations": [
            {**_row(i, ("id", "supplier_id", "plan_item_uid", "lot_id", "seeks_partners", "note", "created_at",
                        "updated_at")), "supplier": i.supplier.legal_name}
            for i in s.scalars(select(MarketInterest).where(MarketInterest.created_by_id == user.id)
                               .order_by(MarketInterest.id))
        ],
        "api_tokens": [
            _row(t, ("id", "name", "prefix", "can_write", "created_at", "expires_on", "last_used_at", "revoked_at"))
            for t in s.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id))
        ],
        "audit_events_as_actor": [
            {"id": e.id, "at": to_jsonable(e.at), "entity_type": e.entity_type, "entity_id": e.entity_id,
             "action": e.action.value}
            for e in s.execute(select(AuditEvent.id, AuditEvent.at, AuditEvent.entity_type, AuditEvent.entity_id,
                                      AuditEvent.action).where(AuditEvent.actor_id == user.id)
                               .order_by(AuditEvent.id))
        ],
        "linked_records": _linked_records(user.id),
    }
    bind_actor(s(), actor)
    record(s(), entity_type="User", entity_id=user.id, action=AuditAction.UPDATE, entity_label=f"user #{user.id}",
           changes={"personal_data": [None, "exported"]})
    return data


# --- erasure ----------------------------------------------------------------------------------

def _patterns(email: str, name: str) -> list[re.Pattern[str]]:
    out = [re.compile(r"(?<![\w.+-])" + re.escape(email) + r"(?![\w-])", re.IGNORECASE)]
    if len(name) >= MIN_NAME_CHARS and " " in name:
        out.append(re.compile(r"(?<!\w)" + re.escape(name) + r"(?!\w)", re.IGNORECASE))
    return out


def _scrub(value: Any, patterns: list[re.Pattern[str]]) -> Any:
    if isinstance(value, str):
        for p in patterns:
            value = p.sub(ERASED, value)
        return value
    if isinstance(value, list):
        return [_scrub(v, patterns) for v in value]
    if isinstance(value, dict):
        return {k: _scrub(v, patterns) for k, v in value.items()}
    return value


def _needles(email: str, name: str) -> list[str]:
    """What a text or JSON column holding the value contains (JSON may escape non-ASCII letters)."""
    values = [email] + ([name] if len(name) >= MIN_NAME_CHARS and " " in name else [])
    needles = set()
    for v in values:
        needles.add(v.lower())
        needles.add(json.dumps(v.lower())[1:-1])
    return sorted(needles)


def scrub_database(email: str, name: str) -> dict[str, int]:
    """Replace ``email`` and ``name`` by "[erased]" in every text and JSON column; returns the
    number of rows changed per table.column."""
    patterns = _patterns(email, name)
    needles = _needles(email, name)
    changed: dict[str, int] = {}
    for table in Base.metadata.sorted_tables:
        pk = list(table.primary_key.columns)
        if not pk:
            continue
        for column in table.columns:
            is_json = isinstance(column.type, JSON)
            if not is_json and not (isinstance(column.type, (String, Text)) and not isinstance(column.type, Enum)):
                continue
            text = func.lower(cast(column, Text)) if is_json else func.lower(column)
            rows = db.session.execute(
                select(*pk, column).where(or_(*(text.contains(n, autoescape=True) for n in needles)))
            ).all()
            count = 0
            for row in rows:
                old = row[-1]
                new = _scrub(old, patterns)
                if new != old:
                    db.session.execute(update(table).where(*(c == v for c, v in zip(pk, row[:-1], strict=True)))
                                       .values({column.name: new}))
                    count += 1
            if count:
                changed[f"{table.name}.{column.name}"] = count
    return changed


def _file_mentions(content: bytes, fmt: str, needles: list[str]) -> bool:
    """Whether a generated file shows one of ``needles`` (lower case): the text of every XML part of a
    .docx, tags removed so that a value split across runs is found whole; the raw bytes of anything else."""
    if fmt == "docx":
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as z:
                for part in z.namelist():
                    if part.endswith(".xml"):
                        text = html.unescape(re.sub(r"<[^>]+>", "", z.read(part).decode("utf-8", "replace"))).lower()
                        if any(n in text for n in needles):
                            return True
            return False
        except zipfile.BadZipFile:
            pass
    raw = content.decode("latin-1").lower()
    return any(n in raw or n.encode("utf-16-be").decode("latin-1") in raw for n in needles)


def withdraw_documents(email: str, name: str) -> int:
    """Delete the files of the generated documents that show ``email`` or ``name`` and mark the documents
    expired (their records stay); returns how many. Call before scrubbing (the values still hold them)."""
    from srpp.documents.models import DocumentFile, GeneratedDocument

    needles = _needles(email, name)
    hits: set[int] = set()
    values = func.lower(cast(GeneratedDocument.values, Text))
    hits.update(db.session.scalars(select(GeneratedDocument.id).where(
        or_(*(values.contains(n, autoescape=True) for n in needles)))))
    # the files in one streamed query, a few at a time in memory (they are whole documents)
    for document_id, fmt, content in db.session.execute(
            select(DocumentFile.document_id, DocumentFile.format, DocumentFile.content)
            .where(DocumentFile.document_id.not_in(hits or [-1])).order_by(DocumentFile.id)
            .execution_options(yield_per=20)):
        if document_id not in hits and content and _file_mentions(content, fmt, needles):
            hits.add(document_id)
    now = utcnow()
    withdrawn = 0
    for doc in db.session.scalars(select(GeneratedDocument).where(GeneratedDocument.id.in_(hits))):
        if doc.files or doc.expired_at is None:
            for row in list(doc.files):
                db.session.delete(row)
            doc.expired_at = doc.expired_at or now
            withdrawn += 1
    return withdrawn


def erase_personal_data(actor: User, user: User) -> dict[str, int]:
    """Anonymise ``user`` and scrub their e-mail address and name from the database (see the
    module docstring). Returns the rows changed per table.column by the scrub."""
    require(actor, "admin.manage")
    if user.id == actor.id:
        raise DomainError(_("You cannot erase your own account."))
    if is_erased(user):
        raise DomainError(_("The personal data of this account were already erased."))
    from srpp.api.models import ApiToken
    from srpp.plans.models import SavedSearch

    s = db.session
    bind_actor(s(), actor)
    old_email, old_name = user.email, (user.full_name or "").strip()
    now = utcnow()
    for token in s.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))):
        token.revoked_at = now
        token.revoked_by_id = actor.id
    for search in s.scalars(select(SavedSearch).where(SavedSearch.user_id == user.id)):
        s.delete(search)
    user.memberships.clear()
    user.full_name = f"Erased user #{user.id}"
    user.email = erased_email(user.id)
    user.password_hash = "!erased"  # not an argon2 hash: no password verifies against it
    user.active = False
    user.last_login_at = None
    s.flush()  # the automatic audit events of these changes still hold the old values: scrubbed below
    s.execute(delete(LoginAttempt).where(LoginAttempt.email == old_email))
    s.execute(delete(Notification).where(Notification.user_id == user.id))
    withdrawn = withdraw_documents(old_email, old_name)
    s.flush()
    changed = scrub_database(old_email, old_name)
    if withdrawn:
        changed["generated_documents (files withdrawn)"] = withdrawn
    s.expire_all()
    record(s(), entity_type="User", entity_id=user.id, action=AuditAction.ERASE, entity_label=f"user #{user.id}",
           changes={"personal_data": [None, f"erased personal data of user #{user.id}"],
                    "rows_scrubbed": [None, changed]})
    s.flush()
    return changed
