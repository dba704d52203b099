from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from srpp.core.errors import DomainError
from srpp.core.forms import apply_domain_error
from srpp.core.permissions import require
from srpp.extensions import db
from srpp.orgs import services
from srpp.orgs.forms import MunicipalityContactForm, SupplierProfileForm
from srpp.orgs.models import Supplier

bp = Blueprint("orgs", __name__)


@bp.route("/municipalities")
def municipalities():
    return render_template("orgs/municipalities.html", municipalities=services.municipalities(),
                           regions=services.regions())


@bp.route("/municipalities/<code>")
def municipality(code: str):
    m = services.municipality_by_code(code) or abort(404)
    return render_template("orgs/municipality.html", municipality=m)


@bp.route("/municipalities/<code>/edit", methods=["GET", "POST"])
@login_required
def municipality_edit(code: str):
    m = services.municipality_by_code(code) or abort(404)
    require(current_user, "municipality.edit", m)
    form = MunicipalityContactForm(obj=m)
    if request.method == "GET":
        form.version.data = m.version
    if form.validate_on_submit():
        try:
            services.update_municipality_contacts(current_user, m, form.data, form.version.data)
            db.session.commit()
        except DomainError as err:
            db.session.rollback()
            apply_domain_error(form, err)
            form.version.data = m.version
        else:
            flash(_("The municipality's contacts were saved."), "success")
            return redirect(url_for("orgs.municipality", code=m.code))
    return render_template("orgs/municipality_edit.html", municipality=m, form=form)


@bp.route("/suppliers")
@login_required
def suppliers():
    return render_template("orgs/suppliers.html", suppliers=services.suppliers())


@bp.route("/suppliers/<int:supplier_id>")
@login_required
def supplier(supplier_id: int):
    s = db.get_or_404(Supplier, supplier_id)
    return render_template("orgs/supplier.html", supplier=s)


@bp.route("/suppliers/<int:supplier_id>/edit", methods=["GET", "POST"])
@login_required
def supplier_edit(supplier_id: int):
    s = db.get_or_404(Supplier, supplier_id)
    require(current_user, "supplier.edit", s)
    form = SupplierProfileForm(obj=s)
    if request.method == "GET":
        form.version.data = s.version
    if form.validate_on_submit():
        try:
            services.update_supplier_profile(current_user, s, form.data, form.version.data)
            db.session.commit()
        except DomainError as err:
            db.session.rollback()
            apply_domain_error(form, err)
            form.version.data = s.version
        else:
            flash(_("The organisation's profile was saved."), "success")
            return redirect(url_for("orgs.supplier", supplier_id=s.id))
    return render_template("orgs/supplier_edit.html", supplier=s, form=form)
