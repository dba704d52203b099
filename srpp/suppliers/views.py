"""The SEO directory and eligibility statuses with their evidence."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from srpp.core.errors import DomainError
from srpp.core.forms import apply_domain_error
from srpp.core.permissions import can, permission_required, require
from srpp.core.web import page_arg, paginate
from srpp.extensions import db
from srpp.orgs import services as orgs
from srpp.orgs.models import Supplier
from srpp.suppliers import services
from srpp.suppliers.forms import DecisionForm, DeclareStatusForm, DirectoryFilterForm, RejectForm
from srpp.suppliers.models import StatusBasis, SupplierStatus

bp = Blueprint("suppliers", __name__)

DIRECTORY_PER_PAGE = 20


def _rows(statuses: list[SupplierStatus], today: dt.date) -> list[dict]:
    return [{"status": s, "problems": services.declaration_problems(s), "current": s.valid_on(today),
             "evidence": bool(s.evidence_path) and can(current_user, "evidence.view", s.supplier)}
            for s in statuses]


@bp.route("/suppliers/<int:supplier_id>/statuses", methods=["GET", "POST"])
@login_required
def statuses(supplier_id: int):
    supplier = db.get_or_404(Supplier, supplier_id)
    form = None
    if request.method == "POST" or can(current_user, "status.declare", supplier):
        require(current_user, "status.declare", supplier)
        form = DeclareStatusForm()
        if form.validate_on_submit():
            share = form.declared_share.data
            try:
                services.declare_status(
                    current_user, supplier, StatusBasis(form.basis.data),
                    share / Decimal(100) if share is not None else None,
                    art77_mission=form.art77_mission.data, art77_reinvests=form.art77_reinvests.data,
                    art77_participatory=form.art77_participatory.data, valid_from=form.valid_from.data,
                    valid_to=form.valid_to.data, evidence_file=form.evidence.data)
                db.session.commit()
            except DomainError as err:
                db.session.rollback()
                apply_domain_error(form, err)
            else:
                flash(_("The status was declared. The regional contact point will check the evidence and verify "
                        "it."), "success")
                return redirect(url_for("suppliers.statuses", supplier_id=supplier.id))
    today = dt.date.today()
    return render_template("suppliers/statuses.html", supplier=supplier, form=form, today=today,
                           rows=_rows(services.visible_statuses(current_user, supplier), today),
                           sees_all=can(current_user, "evidence.view", supplier))


@bp.route("/statuses/review")
@permission_required("status.decide")
def review():
    today = dt.date.today()
    return render_template("suppliers/review.html", rows=_rows(services.review_queue(), today), today=today,
                           sees_all=True)


@bp.route("/statuses/<int:status_id>/verify", methods=["POST"])
@login_required
def verify(status_id: int):
    status = db.get_or_404(SupplierStatus, status_id)
    require(current_user, "status.decide", status)
    form = DecisionForm()
    if form.validate_on_submit():
        try:
            services.verify_status(current_user, status, version=form.version.data or None)
            db.session.commit()
        except DomainError as err:
            db.session.rollback()
            flash(err.message, "error")
        else:
            flash(_("The %(basis)s status of %(supplier)s is verified.", basis=status.basis.label,
                    supplier=status.supplier.legal_name), "success")
    return redirect(url_for("suppliers.review"))


@bp.route("/statuses/<int:status_id>/reject", methods=["POST"])
@login_required
def reject(status_id: int):
    status = db.get_or_404(SupplierStatus, status_id)
    require(current_user, "status.decide", status)
    form = RejectForm()
    if form.validate_on_submit():
        try:
            services.reject_status(current_user, status, form.reason.data, version=form.version.data or None)
            db.session.commit()
        except DomainError as err:
            db.session.rollback()
            flash(err.message, "error")
        else:
            flash(_("The %(basis)s status of %(supplier)s is rejected; the organisation sees the reason.",
                    basis=status.basis.label, supplier=status.supplier.legal_name), "success")
    else:
        flash(" ".join(e for errs in form.errors.values() for e in errs), "error")
    return redirect(url_for("suppliers.review"))


@bp.route("/statuses/<int:status_id>/evidence")
@login_required
def evidence(status_id: int):
    status = db.get_or_404(SupplierStatus, status_id)
    require(current_user, "evidence.view", status.supplier)
    path = services.evidence_file(status)
    if path is None:
        abort(404)
    resp = send_file(path, mimetype=status.evidence_mime or "application/octet-stream", as_attachment=True,
                     download_name=status.evidence_name or f"evidence-{status.id}", conditional=False, etag=False,
                     max_age=0)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Cache-Control"] = "private, no-store"
    resp.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return resp


@bp.route("/directory")
def directory():
    categories = orgs.categories()
    municipalities = orgs.municipalities()
    form = DirectoryFilterForm(request.args)
    form.category.choices = [("", _("All categories"))] + [(c.key, c.name) for c in categories]
    form.municipality.choices = [("", _("All municipalities"))] + [(m.code, m.short_name) for m in municipalities]
    category = next((c for c in categories if c.key == request.args.get("category")), None)
    municipality = next((m for m in municipalities if m.code == request.args.get("municipality")), None)
    if category is None:
        form.category.data = ""
    if municipality is None:
        form.municipality.data = ""
    today = dt.date.today()
    page = paginate(services.directory_stmt(category.id if category else None,
                                            municipality.id if municipality else None, today),
                    page_arg(), DIRECTORY_PER_PAGE)
    bases = services.verified_bases([s.id for s in page.items], today)
    return render_template("suppliers/directory.html", form=form, page=page, bases=bases,
                           filtered=bool(category or municipality))
