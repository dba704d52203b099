"""Plans of a municipality: versions, items, publication, history."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from srpp.core.errors import DomainError
from srpp.core.forms import apply_domain_error
from srpp.core.permissions import can, require
from srpp.core.web import attempt
from srpp.extensions import db
from srpp.orgs import services as org_services
from srpp.orgs.models import FundingMeasure
from srpp.plans import services
from srpp.plans.forms import ITEM_FIELD_LABELS, NewPlanForm, PlanItemForm, PublishForm, parse_month
from srpp.plans.models import PlanItem, PlanState, PlanVersion, ProcurementPlan
from srpp.rules import services as rules

bp = Blueprint("plans", __name__, url_prefix="/plans")




def _item_form(municipality=None, **kwargs) -> PlanItemForm:
    from srpp.frameworks.models import FrameworkAgreement, FrameworkParticipant

    form = PlanItemForm(**kwargs)
    funding = db.session.scalars(select(FundingMeasure).order_by(FundingMeasure.code)).all()
    frameworks = db.session.scalars(select(FrameworkAgreement).join(FrameworkParticipant).where(
        FrameworkParticipant.municipality_id == (municipality.id if municipality else -1))
        .order_by(FrameworkAgreement.code)).all()
    form.fill_choices(org_services.categories(), funding, frameworks)
    return form


@bp.route("/municipality/<code>")
def municipality_plans(code: str):
    muni = org_services.municipality_by_code(code) or abort(404)
    plans = services.plans_for(muni)
    form = NewPlanForm() if can(current_user, "plan.edit", muni) else None
    return render_template("plans/municipality.html", municipality=muni, plans=plans, form=form,
                           current=services.current_published(muni), review=services.review_status,
                           can_view_drafts=can(current_user, "plan.view", muni))


@bp.route("/municipality/<code>/new", methods=["POST"])
@login_required
def create_plan(code: str):
    muni = org_services.municipality_by_code(code) or abort(404)
    require(current_user, "plan.edit", muni)
    form = NewPlanForm()
    if form.validate_on_submit():
        try:
            version = services.create_plan(current_user, muni, parse_month(form.start_month.data), form.title.data)
            db.session.commit()
        except DomainError as err:
            db.session.rollback()
            flash(err.message, "error")
        else:
            flash(_("The plan was created as a draft. Add its items, then publish it."), "success")
            return redirect(url_for("plans.version", version_id=version.id))
    else:
        for errors in form.errors.values():
            for e in errors:
                flash(e, "error")
    return redirect(url_for("plans.municipality_plans", code=muni.code))


@bp.route("/<int:plan_id>")
def plan(plan_id: int):
    p = db.get_or_404(ProcurementPlan, plan_id)
    draft = services.draft_of(p)
    if draft is not None and can(current_user, "plan.view", p.municipality):
        return redirect(url_for("plans.version", version_id=draft.id))
    published = services.published_of(p)
    if published is None:
        abort(404)
    return redirect(url_for("plans.version", version_id=published.id))


@bp.route("/versions/<int:version_id>")
def version(version_id: int):
    v = services.require_readable(current_user, db.get_or_404(PlanVersion, version_id))
    items = v.items
    return render_template(
        "plans/version.html", version=v, plan=v.plan, items=items, share=services.reserved_share(items),
        review=services.review_status(v), publish_form=PublishForm(),
        can_edit=v.is_draft and can(current_user, "plan.edit", v.plan.municipality),
        can_start=(not services.draft_of(v.plan)) and can(current_user, "plan.edit", v.plan.municipality),
        draft=services.draft_of(v.plan) if can(current_user, "plan.view", v.plan.municipality) else None,
        threshold=rules.threshold_row(v.plan.period_start),
    )


@bp.route("/versions/<int:version_id>/items/new", methods=["GET", "POST"])
@login_required
def item_new(version_id: int):
    v = db.get_or_404(PlanVersion, version_id)
    require(current_user, "plan.edit", v.plan.municipality)
    if not v.is_draft:
        flash(_("Published versions cannot be changed; start a new version to edit the plan."), "error")
        return redirect(url_for("plans.version", version_id=v.id))
    form = _item_form(v.plan.municipality)
    if request.method == "GET":
        form.launch_month.data = v.plan.period_start.strftime("%Y-%m")
    if form.validate_on_submit():
        try:
            services.add_item(current_user, v, form.to_input())
            db.session.commit()
        except services.ItemRefused as refused:
            db.session.rollback()
            for p in refused.problems:
                apply_domain_error(form, DomainError(p.message, p.field))
        except DomainError as err:
            db.session.rollback()
            apply_domain_error(form, err)
        else:
            flash(_("The item was added to the draft."), "success")
            return redirect(url_for("plans.version", version_id=v.id))
    return render_template("plans/item_form.html", form=form, version=v, item=None,
                           threshold=rules.threshold_row(v.plan.period_start))


@bp.route("/items/<int:item_id>/edit", methods=["GET", "POST"])
@login_required
def item_edit(item_id: int):
    item = db.get_or_404(PlanItem, item_id)
    v = item.plan_version
    require(current_user, "plan.edit", v.plan.municipality)
    if not v.is_draft:
        flash(_("Published versions cannot be changed; start a new version to edit the plan."), "error")
        return redirect(url_for("plans.version", version_id=v.id))
    form = _item_form(v.plan.municipality)
    if request.method == "GET":
        form.load(item)
    if form.validate_on_submit():
        try:
            services.update_item(current_user, item, form.to_input())
            db.session.commit()
        except services.ItemRefused as refused:
            db.session.rollback()
            for p in refused.problems:
                apply_domain_error(form, DomainError(p.message, p.field))
        except DomainError as err:
            db.session.rollback()
            apply_domain_error(form, err)
        else:
            flash(_("The item was saved."), "success")
            return redirect(url_for("plans.version", version_id=v.id))
    return render_template("plans/item_form.html", form=form, version=v, item=item,
                           threshold=rules.threshold_row(v.plan.period_start))


@bp.route("/items/<int:item_id>/delete", methods=["POST"])
@login_required
def item_delete(item_id: int):
    item = db.get_or_404(PlanItem, item_id)
    v = item.plan_version
    require(current_user, "plan.edit", v.plan.municipality)
    attempt(lambda: services.delete_item(current_user, item), _("The item was removed from the draft."))
    return redirect(url_for("plans.version", version_id=v.id))


@bp.route("/versions/<int:version_id>/publish", methods=["POST"])
@login_required
def publish(version_id: int):
    v = db.get_or_404(PlanVersion, version_id)
    require(current_user, "plan.edit", v.plan.municipality)
    form = PublishForm()
    if form.validate_on_submit():
        attempt(lambda: services.publish(current_user, v, form.change_note.data),
                _("Version %(number)s is published. Suppliers can see it on the opportunities page.",
                  number=v.number))
    return redirect(url_for("plans.version", version_id=v.id))


@bp.route("/<int:plan_id>/new-version", methods=["POST"])
@login_required
def new_version(plan_id: int):
    p = db.get_or_404(ProcurementPlan, plan_id)
    require(current_user, "plan.edit", p.municipality)
    try:
        draft = services.start_new_version(current_user, p)
        db.session.commit()
    except DomainError as err:
        db.session.rollback()
        flash(err.message, "error")
        return redirect(url_for("plans.plan", plan_id=p.id))
    flash(_("A new draft version was started from the published plan."), "success")
    return redirect(url_for("plans.version", version_id=draft.id))


@bp.route("/<int:plan_id>/history")
def history(plan_id: int):
    p = db.get_or_404(ProcurementPlan, plan_id)
    versions = [v for v in p.versions if v.state != PlanState.DRAFT or can(current_user, "plan.view", p.municipality)]
    if not versions:
        abort(404)
    by_number = {v.number: v for v in versions}
    try:
        b = by_number.get(int(request.args.get("b", versions[-1].number)), versions[-1])
        default_a = versions[-2].number if len(versions) > 1 else versions[-1].number
        a = by_number.get(int(request.args.get("a", default_a)), versions[0])
    except ValueError:
        a, b = (versions[-2] if len(versions) > 1 else versions[-1]), versions[-1]
    return render_template("plans/history.html", plan=p, versions=versions, a=a, b=b,
                           diff=services.diff(a, b) if a is not b else None, field_labels=ITEM_FIELD_LABELS)
