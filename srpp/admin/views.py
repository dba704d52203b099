from __future__ import annotations

import json

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from srpp.admin import services
from srpp.admin.forms import AuditFilterForm, EraseForm
from srpp.auth import privacy
from srpp.auth import services as auth_services
from srpp.auth.forms import MembershipForm, UserCreateForm, UserEditForm
from srpp.auth.models import Membership, Role, User
from srpp.core import jobs
from srpp.core.errors import DomainError
from srpp.core.forms import apply_domain_error
from srpp.core.models import JobRun
from srpp.core.permissions import permission_required, require
from srpp.core.web import page_arg, paginate
from srpp.extensions import db
from srpp.orgs import services as org_services

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/users")
@permission_required("admin.manage")
def users():
    all_users = list(db.session.scalars(select(User).order_by(User.email)))
    locks = auth_services.lock_states([u.email for u in all_users])
    return render_template("admin/users.html", users=all_users, locks=locks)


@bp.route("/users/new", methods=["GET", "POST"])
@permission_required("admin.manage")
def user_new():
    form = UserCreateForm()
    if form.validate_on_submit():
        try:
            user = auth_services.create_user(current_user, email=form.email.data, full_name=form.full_name.data,
                                             password=form.password.data, locale=form.locale.data)
            db.session.commit()
        except DomainError as err:
            db.session.rollback()
            apply_domain_error(form, err)
        else:
            flash(_("The user was created. Now give them a role."), "success")
            return redirect(url_for("admin.user_edit", user_id=user.id))
    return render_template("admin/user_new.html", form=form)


def _membership_form() -> MembershipForm:
    form = MembershipForm(prefix="m")
    form.fill_choices(org_services.municipalities(), org_services.suppliers(), org_services.regions())
    return form


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@permission_required("admin.manage")
def user_edit(user_id: int):
    user = db.get_or_404(User, user_id)
    form = UserEditForm(obj=user, prefix="u")
    mform = _membership_form()
    if request.method == "GET":
        form.version.data = user.version
    if request.method == "POST" and "u-locale" in request.form and form.validate():
        try:
            auth_services.update_user(current_user, user, full_name=form.full_name.data, locale=form.locale.data,
                                      active=form.active.data, version=form.version.data)
            db.session.commit()
        except DomainError as err:
            db.session.rollback()
            apply_domain_error(form, err)
            form.version.data = user.version
        else:
            flash(_("The user was saved."), "success")
            return redirect(url_for("admin.user_edit", user_id=user.id))
    return render_template("admin/user_edit.html", user=user, form=form, mform=mform,
                           lock=auth_services.lock_state(user.email), erase_form=EraseForm(formdata=None),
                           erased=privacy.is_erased(user))


@bp.route("/users/<int:user_id>/personal-data")
@permission_required("admin.manage")
def user_personal_data(user_id: int):
    user = db.get_or_404(User, user_id)
    data = privacy.export_personal_data(current_user, user)
    db.session.commit()  # the audit event of the export
    return Response(json.dumps(data, ensure_ascii=False, indent=2), mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="personal-data-user-{user.id}.json"',
                             "Cache-Control": "no-store"})


@bp.route("/users/<int:user_id>/erase", methods=["POST"])
@permission_required("admin.manage")
def user_erase(user_id: int):
    user = db.get_or_404(User, user_id)
    form = EraseForm()
    if not form.validate_on_submit() or form.confirm.data.strip().lower() != user.email:
        flash(_("Nothing was erased: type the account's e-mail address exactly to confirm."), "error")
        return redirect(url_for("admin.user_edit", user_id=user.id))
    try:
        privacy.erase_personal_data(current_user, user)
        db.session.commit()
    except DomainError as err:
        db.session.rollback()
        flash(err.message, "error")
    else:
        flash(_("The personal data of user #%(id)d were erased.", id=user_id), "success")
    return redirect(url_for("admin.user_edit", user_id=user_id))


@bp.route("/users/<int:user_id>/memberships", methods=["POST"])
@permission_required("admin.manage")
def membership_add(user_id: int):
    user = db.get_or_404(User, user_id)
    mform = _membership_form()
    if mform.validate_on_submit():
        try:
            auth_services.add_membership(
                current_user, user, Role(mform.role.data),
                municipality_id=mform.municipality_id.data or None,
                supplier_id=mform.supplier_id.data or None,
                region_id=mform.region_id.data or None,
            )
            db.session.commit()
            flash(_("The role was added."), "success")
        except DomainError as err:
            db.session.rollback()
            flash(err.message, "error")
    else:
        flash(_("Choose a role and its organisation."), "error")
    return redirect(url_for("admin.user_edit", user_id=user.id))


@bp.route("/memberships/<int:membership_id>/delete", methods=["POST"])
@permission_required("admin.manage")
def membership_delete(membership_id: int):
    membership = db.get_or_404(Membership, membership_id)
    user_id = membership.user_id
    try:
        auth_services.remove_membership(current_user, membership)
        db.session.commit()
        flash(_("The role was removed."), "success")
    except DomainError as err:
        db.session.rollback()
        flash(err.message, "error")
    return redirect(url_for("admin.user_edit", user_id=user_id))


@bp.route("/users/<int:user_id>/unlock", methods=["POST"])
@permission_required("admin.manage")
def user_unlock(user_id: int):
    user = db.get_or_404(User, user_id)
    auth_services.unlock(current_user, user)
    db.session.commit()
    flash(_("The account was unlocked."), "success")
    return redirect(url_for("admin.user_edit", user_id=user.id))


@bp.route("/audit")
@permission_required("audit.view")
def audit():
    form = AuditFilterForm(request.args)
    form.fill_choices(services.audited_entity_types(), org_services.municipalities())
    f = services.AuditFilter()
    if form.validate():
        f = services.AuditFilter(
            entity_type=form.entity_type.data or None,
            entity_id=request.args.get("entity_id") or None,
            actor=form.actor.data or None,
            action=form.action.data or None,
            municipality_id=form.municipality_id.data or None,
            date_from=form.date_from.data,
            date_to=form.date_to.data,
        )
    page = paginate(services.audit_query(current_user, f), page_arg(), 50)
    return render_template("admin/audit.html", form=form, page=page)


@bp.route("/workers", methods=["GET"])
@permission_required("admin.manage")
def workers():
    recent = list(db.session.scalars(select(JobRun).order_by(JobRun.id.desc()).limit(20)))
    return render_template("admin/workers.html", alive=jobs.workers_alive(), heartbeats=jobs.all_heartbeats(),
                           recent=recent)


@bp.route("/workers/ping", methods=["POST"])
@permission_required("admin.manage")
def workers_ping():
    require(current_user, "admin.manage")
    from workers.tasks.health import ping

    job = jobs.submit(ping, actor=current_user)
    db.session.refresh(job)
    if job.state.value == "done":
        flash(_("A worker answered."), "success")
    else:
        flash(_("The health check was sent; this page shows when a worker answers."), "info")
    return redirect(url_for("admin.workers"))


@bp.route("/settings", methods=["GET", "POST"])
@permission_required("admin.manage")
def settings_page():
    from srpp.core import settings

    errors: dict[str, str] = {}
    if request.method == "POST":
        from flask_wtf import FlaskForm

        if not FlaskForm().validate():  # the CSRF token (the fields are declared by the settings)
            abort(400)
        for key in settings.SPECS:
            raw = request.form.get(key)
            if raw is None or raw.strip() == str(settings.get(key)):
                continue
            try:
                settings.set_value(current_user, key, raw)
            except DomainError as err:
                errors[key] = err.message
        if errors:
            db.session.rollback()
        else:
            db.session.commit()
            flash(_("The settings were saved."), "success")
            return redirect(url_for("admin.settings_page"))
    return render_template("admin/settings.html", specs=settings.SPECS.values(), get=settings.get, errors=errors,
                           submitted=request.form)
