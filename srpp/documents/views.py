"""Document pages: the documents of a subject, the preview-and-fill form, the job page that
follows the worker, downloads, PDF, retry; the region's handbook and implementation notes."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from srpp.core.errors import DomainError
from srpp.core.models import JobState
from srpp.core.permissions import PermissionDenied, can, permission_required
from srpp.documents import assembly, services, subjects
from srpp.documents.forms import ActionForm, DocumentForm, posted_values
from srpp.documents.kinds import BY_SUBJECT, KINDS
from srpp.documents.models import GeneratedDocument
from srpp.extensions import db
from srpp.orgs.models import Municipality, Region

bp = Blueprint("documents", __name__, url_prefix="/documents")

MIME = {"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "pdf": "application/pdf"}


def _subject_or_404(subject_type: str, subject_id: int) -> subjects.Subject:
    if subject_type not in BY_SUBJECT:
        abort(404)
    subject = subjects.load(subject_type, subject_id)
    if subject is None:
        abort(404)
    return subject


def _document_or_404(document_id: int) -> GeneratedDocument:
    doc = services.get_document(current_user, document_id)
    if doc is None:
        abort(404)
    return doc


@bp.get("/")
@permission_required("clause.view")
def index():
    """The documents I asked for."""
    docs = services.documents_for(current_user)
    return render_template("documents/index.html", docs=docs, action_form=ActionForm())


@bp.get("/for/<subject_type>/<int:subject_id>")
@permission_required("clause.view")
def for_subject(subject_type: str, subject_id: int):
    """The documents of a subject that the user may see, and the kinds they may generate."""
    subject = _subject_or_404(subject_type, subject_id)
    kinds = services.kinds_for(current_user, subject)
    docs = services.documents_for(current_user, subject_type, subject_id)
    return render_template("documents/subject.html", subject=subject, subject_title=subjects.title(subject),
                           kinds=kinds, docs=docs, back=_back_url(subject))


@bp.get("/region")
@permission_required("document.regional")
def region():
    """The regional handbook and the municipalities' implementation notes."""
    region_row = db.session.scalar(select(Region))
    municipalities = db.session.scalars(select(Municipality).order_by(Municipality.sort_order)).all()
    notes = [(m, can(current_user, "document.municipal", m)) for m in municipalities]
    docs = [d for d in services.documents_for(current_user, "region", region_row.id)] if region_row else []
    return render_template("documents/region.html", region=region_row, notes=notes, docs=docs)


@bp.route("/new/<kind_key>/<subject_type>/<int:subject_id>", methods=["GET", "POST"])
@login_required
def new(kind_key: str, subject_type: str, subject_id: int):
    kind = KINDS.get(kind_key)
    if kind is None or kind.subject_type != subject_type:
        abort(404)
    subject = _subject_or_404(subject_type, subject_id)
    if not services.may_request(current_user, kind, subject):
        raise PermissionDenied(kind.permission)
    form = DocumentForm(data=None if request.method == "POST" else {"language": _default_language()})
    lang = form.language.data if form.language.data in assembly.LANGUAGES else "lt"
    options = {"advance_payment": bool(form.advance_payment.data)}
    entered: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            flash(_("The form has expired; please try again."), "error")
            return redirect(request.url)
        entered = _overrides(kind, subject, posted_values(request.form))
        if request.form.get("action") == "generate":
            try:
                doc = services.request_document(current_user, kind, subject, lang, entered, options)
            except services.DocumentRefused as refused:
                db.session.rollback()
                flash(refused.message, "error")
                status = 422
            except DomainError as err:
                db.session.rollback()
                flash(err.message, "error")
                status = 422
            else:
                flash(_("The document is queued; it appears below when it is ready."), "success")
                return redirect(url_for("documents.show", document_id=doc.id))
    asm = services.preview(current_user, kind, subject, lang, entered, options)
    form.shown_language.data = lang
    form.shown_advance.data = "1" if options["advance_payment"] else ""
    return render_template("documents/new.html", form=form, asm=asm, kind=kind, subject=subject,
                           back=url_for("documents.for_subject", subject_type=subject_type, subject_id=subject_id)
                           ), status


def _overrides(kind, subject, posted: dict[str, str]) -> dict[str, str]:
    """The values the officer actually changed: a posted value equal to what the page showed
    (a default or a value from the data, in the language it was shown in) is not an override."""
    shown_lang = request.form.get("shown_language")
    if shown_lang not in assembly.LANGUAGES:
        return {k: v for k, v in posted.items() if v.strip()}
    shown_options = {"advance_payment": bool(request.form.get("shown_advance"))}
    baseline = assembly.assemble(kind.key, subject, shown_lang, {}, shown_options)
    shown = {f.name: f.raw for f in baseline.fields}
    return {k: v for k, v in posted.items() if v.strip() and _norm(v) != _norm(shown.get(k, ""))}


def _norm(text: str) -> str:
    return "\n".join(line.strip() for line in (text or "").strip().splitlines())


def _default_language() -> str:
    from flask_babel import get_locale

    code = str(get_locale() or "lt")
    return code if code in assembly.LANGUAGES else "lt"


@bp.get("/<int:document_id>")
@login_required
def show(document_id: int):
    doc = _document_or_404(document_id)
    return render_template("documents/show.html", doc=doc, editions=services.editions_of(doc),
                           action_form=ActionForm(), pdf_available=services.libreoffice() is not None,
                           subject_url=url_for("documents.for_subject", subject_type=doc.subject_type,
                                               subject_id=doc.subject_id))


@bp.get("/<int:document_id>/status")
@login_required
def status(document_id: int):
    """What the job page polls."""
    doc = _document_or_404(document_id)
    return jsonify(_status(doc))


def _status(doc: GeneratedDocument) -> dict[str, Any]:
    job = doc.job
    out = {"id": doc.id, "state": job.state.value, "attempts": job.attempts, "error": job.error,
           "finished": job.state in (JobState.DONE, JobState.FAILED), "size": doc.size_bytes, "sha256": doc.sha256}
    if doc.pdf_job is not None:
        out["pdf_state"] = doc.pdf_job.state.value
        out["finished"] = out["finished"] and doc.pdf_job.state in (JobState.DONE, JobState.FAILED)
    return out


@bp.get("/<int:document_id>/download")
@bp.get("/<int:document_id>/download.<fmt>")
@login_required
def download(document_id: int, fmt: str = "docx"):
    if fmt not in MIME:
        abort(404)
    doc = _document_or_404(document_id)
    content = services.content(doc, fmt)
    if content is None:
        abort(404)
    name = doc.file_name if fmt == "docx" else doc.pdf_name
    return Response(content, mimetype=MIME[fmt], headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "private, no-store"})


@bp.post("/<int:document_id>/pdf")
@login_required
def pdf(document_id: int):
    doc = _document_or_404(document_id)
    if ActionForm().validate_on_submit():
        try:
            services.request_pdf(current_user, doc)
            flash(_("The PDF is being made."), "success")
        except DomainError as err:
            db.session.rollback()
            flash(err.message, "error")
    return redirect(url_for("documents.show", document_id=doc.id))


@bp.post("/<int:document_id>/retry")
@login_required
def retry(document_id: int):
    doc = _document_or_404(document_id)
    if ActionForm().validate_on_submit():
        try:
            services.retry(current_user, doc)
            flash(_("The job was sent again."), "success")
        except DomainError as err:
            db.session.rollback()
            flash(err.message, "error")
    return redirect(url_for("documents.show", document_id=doc.id))


def _back_url(subject: subjects.Subject) -> str | None:
    o = subject.obj
    return {
        "tender": lambda: url_for("tenders.show", tender_id=o.id),
        "lot": lambda: url_for("tenders.lot", lot_id=o.id),
        "framework": lambda: url_for("frameworks.framework", framework_id=o.id),
        "call_off": lambda: url_for("calloffs.dashboard", framework_id=o.framework_id),
        "municipality": lambda: url_for("documents.region"),
        "region": lambda: url_for("documents.region"),
        "payment_report": lambda: url_for("payments.report", report_id=o.id),
        "impact_year": lambda: url_for("kpis.dashboard"),
    }[subject.type]()
