"""Documents: who may ask for which, the preview, the request (a committed job row before the task
is sent), the generation and PDF conversion the workers run, retries and expiry.

The worker side is idempotent: a job that is already done returns at once, and the file row is
unique per document and format, so a repeated delivery never writes a second file."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import re
import shutil
import subprocess
import tempfile
import time
import unicodedata
import uuid
from pathlib import Path
from typing import Any

from babel.dates import format_datetime
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import selectinload

from srpp.auth.models import Role, User
from srpp.clauses.models import ClauseEdition
from srpp.core import jobs, settings
from srpp.core.audit import bind_actor
from srpp.core.db import utcnow
from srpp.core.errors import DomainError
from srpp.core.models import JobRun, JobState
from srpp.core.permissions import can, municipal_staff, officer_of, regional_reader, require, rule
from srpp.documents import assembly, subjects
from srpp.documents.kinds import BY_SUBJECT, KINDS, KindSpec
from srpp.documents.models import DocumentFile, GeneratedDocument
from srpp.documents.render import RenderError, render_docx
from srpp.extensions import db

log = logging.getLogger("srpp.documents")

settings.declare("documents.retention_days", int, 90,
                 _l("Days a generated file is kept before it expires (its record stays)"), 1, 3650)

GENERATE_TASK = "srpp.documents.generate"
PDF_TASK = "srpp.documents.convert_pdf"


# --- permissions ----------------------------------------------------------------------------------

@rule("document.municipal")
def _document_municipal(user: User, municipality: Any) -> bool:
    """Generate a municipality's implementation note: its staff and the regional readers."""
    if regional_reader(user):
        return True
    return municipality is not None and municipality.id in user.municipality_ids()


@rule("document.regional")
def _document_regional(user: User, obj: Any) -> bool:
    """Generate the regional handbook: municipal staff and the regional readers."""
    return regional_reader(user) or municipal_staff(user)


@rule("document.view")
def _document_view(user: User, doc: Any) -> bool:
    """A generated document: whoever asked for it, the staff of its municipality, the regional
    readers; a region-wide document, anyone who may read the clause library."""
    if regional_reader(user) or (doc is not None and doc.requested_by_id == user.id):
        return True
    if doc is None:
        return False
    if doc.municipality_id is None:
        return municipal_staff(user)
    return officer_of(user, doc.municipality_id, Role.PROCUREMENT_OFFICER, Role.FINANCE_OFFICER,
                      Role.SERVICE_COORDINATOR)


def permission_object(kind: KindSpec, subject: subjects.Subject) -> Any:
    if kind.key == "call_off_order":
        return subject.municipality
    if kind.key == "framework_agreement":
        return subject.obj.coordinator
    return subject.municipality


def may_request(user: User, kind: KindSpec, subject: subjects.Subject) -> bool:
    if kind.subject_type != subject.type:
        return False
    if kind.key == "reserved_lot_notice" and not subject.obj.is_reserved:
        return False
    return can(user, kind.permission, permission_object(kind, subject))


def kinds_for(user: User, subject: subjects.Subject) -> list[KindSpec]:
    return [KINDS[k] for k in BY_SUBJECT.get(subject.type, []) if may_request(user, KINDS[k], subject)]


def kind_or_none(key: str) -> KindSpec | None:
    return KINDS.get(key)


# --- preview and request -----------------------------------------------------------------------------

class DocumentRefused(DomainError):
    """A request with missing or invalid values; nothing was created."""

    def __init__(self, asm: assembly.Assembly) -> None:
        parts = []
        if asm.missing:
            parts.append(_("Fill in: %(names)s.", names=", ".join(asm.missing)))
        if asm.errors:
            parts.append(_("Correct: %(names)s.", names=", ".join(asm.errors)))
        super().__init__(" ".join(parts) or _("The document cannot be generated."))
        self.assembly = asm


def _language(lang: str | None) -> str:
    if lang not in assembly.LANGUAGES:
        raise DomainError(_("Documents are written in Lithuanian or English."), field="language")
    return lang


def preview(actor: User, kind: KindSpec, subject: subjects.Subject, lang: str, entered: dict[str, str] | None = None,
            options: dict[str, Any] | None = None) -> assembly.Assembly:
    if not may_request(actor, kind, subject):
        require(actor, "admin.manage")  # raises PermissionDenied for everyone who may not
    return assembly.assemble(kind.key, subject, _language(lang), entered, options)


def file_name(kind: KindSpec, subject: subjects.Subject, lang: str) -> str:
    ascii_ref = unicodedata.normalize("NFKD", subject.reference).encode("ascii", "ignore").decode()
    ref = re.sub(r"[^A-Za-z0-9]+", "-", ascii_ref).strip("-").lower() or "document"
    return f"{kind.key.replace('_', '-')}-{ref}-{lang}.docx"


def request_document(actor: User, kind: KindSpec, subject: subjects.Subject, lang: str,
                     entered: dict[str, str] | None = None, options: dict[str, Any] | None = None
                     ) -> GeneratedDocument:
    """Check, record (document + job row + the editions used, committed), then send the task."""
    asm = preview(actor, kind, subject, lang, entered, options)
    if not asm.ready:
        raise DocumentRefused(asm)
    bind_actor(db.session(), actor)
    job = JobRun(task=GENERATE_TASK, payload={}, requested_by_id=actor.id)
    db.session.add(job)
    db.session.flush()
    doc = GeneratedDocument(
        kind=kind.key, subject_type=subject.type, subject_id=subject.id,
        municipality_id=subject.municipality.id if subject.municipality else None, language=lang,
        title=asm.title[:300], values={f.name: f.raw for f in asm.fields if f.source == "entered"},
        options=dict(options or {}), requested_by_id=actor.id, job_id=job.id,
        file_name=file_name(kind, subject, lang))
    doc.editions = list(asm.editions)
    db.session.add(doc)
    db.session.flush()
    job.payload = {"document_id": doc.id}
    now = utcnow()
    for edition in asm.editions:
        if edition.first_used_at is None:
            edition.first_used_at = now
    db.session.commit()
    _send(GENERATE_TASK, job)
    return doc


def _send(task_name: str, job: JobRun) -> None:
    """Send the task; the job row is then read again when next used (an in-process worker has
    updated it through a session of its own)."""
    jobs.send(_task(task_name), job)
    db.session.expire(job)


def _task(name: str):
    return current_app.extensions["celery"].tasks[name]


# --- the worker side ---------------------------------------------------------------------------------

class Transient(RuntimeError):
    """Worth another attempt (the database or a file system hiccup)."""


def _document_of(job_id: int) -> GeneratedDocument | None:
    return db.session.scalar(select(GeneratedDocument).where(
        (GeneratedDocument.job_id == job_id) | (GeneratedDocument.pdf_job_id == job_id)))


def build_bytes(doc: GeneratedDocument) -> bytes:
    """Assemble with the editions recorded at request time and render."""
    subject = subjects.load(doc.subject_type, doc.subject_id)
    if subject is None:
        raise RenderError("the subject of this document no longer exists")
    asm = assembly.assemble(doc.kind, subject, doc.language, doc.values, doc.options, editions=list(doc.editions))
    if asm.missing or asm.errors:
        raise RenderError("values no longer complete: " + ", ".join(asm.missing + list(asm.errors)))
    generated = format_datetime(utcnow(), "yyyy-MM-dd HH:mm", tzinfo=current_app.config["BABEL_DEFAULT_TIMEZONE"],
                                locale=doc.language)
    return render_docx(asm, generated)


def _store(doc: GeneratedDocument, fmt: str, content: bytes) -> DocumentFile | None:
    """Insert the file row; None when another delivery already stored it (unique key)."""
    digest = hashlib.sha256(content).hexdigest()
    row = DocumentFile(document_id=doc.id, format=fmt, content=content, size_bytes=len(content), sha256=digest)
    try:
        with db.session.begin_nested():
            db.session.add(row)
        return row
    except IntegrityError:
        return None


def generate(job_id: int) -> str:
    """Run a generation job: 'done', 'skipped' (already done) or 'failed'. Raises Transient."""
    job = jobs.start(job_id)
    if job is None:
        return "skipped"
    doc = _document_of(job_id)
    if doc is None:
        jobs.fail(job_id, "no document for this job")
        return "failed"
    if doc.file("docx") is not None:  # a repeated delivery after the file was stored
        jobs.finish(job, {"document_id": doc.id, "sha256": doc.sha256})
        return "skipped"
    delay = current_app.config.get("DOCUMENT_TEST_DELAY") or 0
    if delay:
        time.sleep(delay)
    try:
        started = time.perf_counter()
        content = build_bytes(doc)
        elapsed = time.perf_counter() - started
    except RenderError as exc:
        jobs.fail(job_id, str(exc))
        return "failed"
    except (OperationalError, OSError) as exc:
        db.session.rollback()
        raise Transient(str(exc)) from exc
    except Exception as exc:  # a bug: fail visibly rather than retry for ever
        log.exception("document %s failed", doc.id)
        jobs.fail(job_id, f"{type(exc).__name__}: {exc}")
        return "failed"
    row = _store(doc, "docx", content)
    if row is not None:
        doc.size_bytes, doc.sha256 = row.size_bytes, row.sha256
    jobs.finish(job, {"document_id": doc.id, "sha256": doc.sha256, "size": doc.size_bytes,
                      "render_seconds": round(elapsed, 3)})
    return "done"


def retry_exhausted(job_id: int, error: str) -> None:
    jobs.fail(job_id, _retry_message(error))


def _retry_message(error: str) -> str:
    return f"gave up after repeated errors: {error}"


def mark_queued_again(job_id: int, error: str) -> None:
    """A transient error: the job goes back to queued (visible) until the retry runs."""
    db.session.rollback()
    db.session.execute(update(JobRun).where(JobRun.id == job_id, JobRun.state != JobState.DONE)
                       .values(state=JobState.QUEUED, error=error[:4000]))
    db.session.commit()


# --- PDF ---------------------------------------------------------------------------------------------

def libreoffice() -> str | None:
    configured = current_app.config.get("LIBREOFFICE")
    if configured:
        return configured if Path(configured).exists() or shutil.which(configured) else None
    return shutil.which("soffice") or shutil.which("libreoffice")


def request_pdf(actor: User, doc: GeneratedDocument) -> GeneratedDocument:
    require(actor, "document.view", doc)
    if libreoffice() is None:
        raise DomainError(_("PDF needs LibreOffice, which is not installed on this server. Download the .docx "
                            "instead, or ask the administrator to install LibreOffice."))
    if doc.state != JobState.DONE or doc.expired:
        raise DomainError(_("The document must be generated (and not expired) before it is converted."))
    if doc.pdf_job is not None and doc.pdf_job.state != JobState.FAILED:
        return doc
    bind_actor(db.session(), actor)
    if doc.pdf_job is None:
        job = JobRun(task=PDF_TASK, payload={"document_id": doc.id}, requested_by_id=actor.id)
        db.session.add(job)
        db.session.flush()
        doc.pdf_job_id = job.id
    else:
        job = doc.pdf_job
        job.state, job.error, job.finished_at = JobState.QUEUED, None, None
    db.session.commit()
    _send(PDF_TASK, job)
    return doc


def convert(docx: bytes, timeout: int | None = None) -> bytes:
    """LibreOffice headless, with a profile directory of its own (parallel workers never share one)."""
    binary = libreoffice()
    if binary is None:
        raise RenderError("LibreOffice is not installed")
    with tempfile.TemporaryDirectory(prefix="srpp-pdf-") as tmp:
        work = Path(tmp)
        source = work / "document.docx"
        source.write_bytes(docx)
        profile = work / f"profile-{uuid.uuid4().hex}"
        cmd = [binary, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
               "--convert-to", "pdf", "--outdir", str(work), str(source)]
        env = {**os.environ, "HOME": tmp}
        try:
            proc = subprocess.run(cmd, capture_output=True, timeout=timeout or current_app.config["PDF_TIMEOUT_SECONDS"],
                                  env=env, check=False)
        except subprocess.TimeoutExpired as exc:
            raise Transient("LibreOffice timed out") from exc
        target = work / "document.pdf"
        if proc.returncode != 0 or not target.exists():
            raise Transient(f"LibreOffice failed ({proc.returncode}): {proc.stderr.decode(errors='replace')[-500:]}")
        return target.read_bytes()


def convert_pdf(job_id: int) -> str:
    job = jobs.start(job_id)
    if job is None:
        return "skipped"
    doc = _document_of(job_id)
    if doc is None or doc.pdf_job_id != job_id:
        jobs.fail(job_id, "no document for this job")
        return "failed"
    if doc.file("pdf") is not None:
        jobs.finish(job, {"document_id": doc.id})
        return "skipped"
    source = doc.file("docx")
    if source is None:
        jobs.fail(job_id, "the .docx file has expired; generate the document again")
        return "failed"
    try:
        pdf = convert(source.content)
    except RenderError as exc:
        jobs.fail(job_id, str(exc))
        return "failed"
    row = _store(doc, "pdf", pdf)
    jobs.finish(job, {"document_id": doc.id, "size": row.size_bytes if row else None})
    return "done"


# --- the user's side ---------------------------------------------------------------------------------

def get_document(actor: User, document_id: int) -> GeneratedDocument | None:
    doc = db.session.get(GeneratedDocument, document_id)
    if doc is not None:
        require(actor, "document.view", doc)
    return doc


def documents_for(actor: User, subject_type: str | None = None, subject_id: int | None = None,
                  limit: int = 200) -> list[GeneratedDocument]:
    """The actor's own documents (newest first), or every visible document of one subject."""
    stmt = select(GeneratedDocument).options(selectinload(GeneratedDocument.files)).order_by(
        GeneratedDocument.id.desc()).limit(limit)
    if subject_type:
        stmt = stmt.where(GeneratedDocument.subject_type == subject_type, GeneratedDocument.subject_id == subject_id)
        return [d for d in db.session.scalars(stmt) if can(actor, "document.view", d)]
    return list(db.session.scalars(stmt.where(GeneratedDocument.requested_by_id == actor.id)))


def retry(actor: User, doc: GeneratedDocument) -> GeneratedDocument:
    """Send a failed (or stuck queued) job again; the same row, so no duplicate appears."""
    require(actor, "document.view", doc)
    job = doc.job
    if job.state == JobState.DONE:
        if doc.pdf_job is not None and doc.pdf_job.state == JobState.FAILED:
            return request_pdf(actor, doc)
        return doc
    if job.state == JobState.RUNNING:
        raise DomainError(_("The document is being generated right now."))
    job.state, job.error, job.finished_at = JobState.QUEUED, None, None
    db.session.commit()
    _send(GENERATE_TASK, job)
    return doc


def content(doc: GeneratedDocument, fmt: str) -> bytes | None:
    row = doc.file(fmt)
    return row.content if row is not None else None


def expire_old(now: dt.datetime | None = None) -> int:
    """Delete the files of documents older than the retention period; keep their records."""
    now = now or utcnow()
    cutoff = now - dt.timedelta(days=settings.get("documents.retention_days"))
    from srpp.payments.models import PaymentReport, ReportState

    # a published payment report's document stays: the public reads it for as long as it is listed
    published = select(PaymentReport.document_id).where(PaymentReport.state == ReportState.PUBLISHED,
                                                        PaymentReport.document_id.is_not(None))
    docs = db.session.scalars(
        select(GeneratedDocument).join(JobRun, GeneratedDocument.job_id == JobRun.id)
        .where(GeneratedDocument.expired_at.is_(None), JobRun.finished_at < cutoff,
               GeneratedDocument.id.not_in(published))).all()
    for doc in docs:
        for row in list(doc.files):
            db.session.delete(row)
        doc.expired_at = now
    db.session.commit()
    return len(docs)


def subjects_for_demo() -> list[tuple[str, int]]:
    """Every tender and framework of the region (the demo can produce each one's documents)."""
    from srpp.frameworks.models import FrameworkAgreement
    from srpp.tenders.models import Tender

    return ([("tender", i) for i in db.session.scalars(select(Tender.id).order_by(Tender.id))]
            + [("framework", i) for i in db.session.scalars(select(FrameworkAgreement.id)
                                                             .order_by(FrameworkAgreement.id))])


def editions_of(doc: GeneratedDocument) -> list[ClauseEdition]:
    return sorted(doc.editions, key=lambda e: e.clause.code)
