"""Risk register pages: the heat map and the list by severity, a risk with its indicators, reviews,
corrective actions and alerts, and the regional programme targets. Thin views over srpp.risks.services."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from srpp.core.errors import ConcurrentEdit, DomainError
from srpp.core.forms import apply_domain_error
from srpp.core.permissions import can, permission_required, require
from srpp.core.web import attempt
from srpp.extensions import db
from srpp.risks import services
from srpp.risks.forms import ActionForm, CompleteForm, ReviewForm, TargetMarkForm, TargetReopenForm
from srpp.risks.models import CorrectiveAction, Rating, Risk

bp = Blueprint("risks", __name__, url_prefix="/risks")


def _risk_or_404(code: str) -> Risk:
    risk = services.get_risk(current_user, code)
    if risk is None:
        abort(404)
    return risk


def _flash_form_errors(form) -> None:
    for name, messages in form.errors.items():
        label = form[name].label.text if name in form._fields else name
        for message in messages:
            flash(f"{label}: {message}", "error")


# --- the register -------------------------------------------------------------------------------------------

@bp.route("/")
@permission_required("risk.view")
def index():
    risks = services.all_risks()
    rows = services.monitoring(risks)
    alerts = services.current_alerts(risks, rows)
    return render_template("risks/index.html", heat=services.heat_map(risks), ordered=services.by_severity(risks),
                           alerts=alerts, open_actions=services.open_actions_count(risks), Rating=Rating,
                           alert_count=sum(len(a) for a in alerts.values()))


def _render_risk(risk: Risk, review_form: ReviewForm | None = None, action_form: ActionForm | None = None,
                 status: int = 200):
    reviewer = can(current_user, "risk.review", risk)
    users = services.assignable_users() if reviewer else []
    if reviewer and review_form is None:
        review_form = ReviewForm(formdata=None, reviewed_on=dt.date.today(), likelihood=risk.likelihood.value,
                                 impact=risk.impact.value, version=risk.version)
    if reviewer and action_form is None:
        action_form = ActionForm(formdata=None)
    if review_form is not None:
        review_form.fill_choices(users)
    if action_form is not None:
        action_form.fill_choices(users)
    rows = services.monitoring([risk])[risk.id]
    alerts = services.current_alerts([risk], {risk.id: rows}).get(risk.id, [])
    history = services.alert_history(risk)
    names = services.indicators_by_code({h.indicator_code for h in history})
    completable = {a.id for a in risk.actions if a.completed_on is None and can(current_user, "risk.action.complete", a)}
    return render_template(
        "risks/risk.html", risk=risk, rows=rows, alerts=alerts, history=history, history_names=names,
        reviewer=reviewer, review_form=review_form, action_form=action_form, completable=completable,
        complete_form=CompleteForm(formdata=None, completed_on=dt.date.today()), today=dt.date.today(),
        format_value=services.format_value,
    ), status


@bp.route("/<code>")
@permission_required("risk.view")
def risk(code: str):
    return _render_risk(_risk_or_404(code))


@bp.route("/<code>/reviews", methods=["POST"])
@login_required
def review_add(code: str):
    risk = _risk_or_404(code)
    require(current_user, "risk.review", risk)
    form = ReviewForm()
    form.fill_choices(services.assignable_users())
    if form.validate_on_submit():
        try:
            review = services.add_review(current_user, risk, form.to_input(), form.version.data)
            db.session.commit()
        except ConcurrentEdit as err:
            db.session.rollback()
            apply_domain_error(form, err)
            form.version.data = risk.version
        except DomainError as err:
            db.session.rollback()
            apply_domain_error(form, err)
        else:
            flash(_("The review of %(day)s was recorded: the risk is now %(level)s.",
                    day=review.reviewed_on.isoformat(), level=review.level.label), "success")
            return redirect(url_for("risks.risk", code=risk.code) + "#reviews")
    return _render_risk(risk, review_form=form)


@bp.route("/<code>/actions", methods=["POST"])
@login_required
def action_add(code: str):
    risk = _risk_or_404(code)
    require(current_user, "risk.review", risk)
    form = ActionForm()
    form.fill_choices(services.assignable_users())
    if form.validate_on_submit():
        try:
            services.add_action(current_user, risk, form.to_input())
            db.session.commit()
        except DomainError as err:
            db.session.rollback()
            apply_domain_error(form, err)
        else:
            flash(_("The corrective action was added."), "success")
            return redirect(url_for("risks.risk", code=risk.code) + "#actions")
    return _render_risk(risk, action_form=form)


@bp.route("/actions/<int:action_id>/complete", methods=["POST"])
@login_required
def action_complete(action_id: int):
    action = db.get_or_404(CorrectiveAction, action_id)
    require(current_user, "risk.action.complete", action)
    form = CompleteForm()
    back = redirect(url_for("risks.risk", code=action.risk.code) + "#actions")
    if not form.validate_on_submit():
        _flash_form_errors(form)
        return back
    attempt(lambda: services.complete_action(current_user, action, form.completed_on.data,
                                             form.completion_note.data, form.version.data or None),
            _("The corrective action was marked completed."))
    return back


# --- programme targets --------------------------------------------------------------------------------------

@bp.route("/targets")
@permission_required("risk.view")
def targets():
    marker = can(current_user, "target.mark")
    return render_template("risks/targets.html", horizons=services.targets_by_horizon(), marker=marker,
                           start=services.programme_start(), today=dt.date.today(),
                           mark_form=TargetMarkForm(formdata=None, done_on=dt.date.today()),
                           reopen_form=TargetReopenForm(formdata=None))


def _target_or_404(code: str):
    target = services.get_target(code)
    if target is None:
        abort(404)
    return target


@bp.route("/targets/<code>/mark", methods=["POST"])
@login_required
def target_mark(code: str):
    require(current_user, "target.mark")
    target = _target_or_404(code)
    form = TargetMarkForm()
    back = redirect(url_for("risks.targets") + f"#target-{target.code}")
    if not form.validate_on_submit():
        _flash_form_errors(form)
        return back
    attempt(lambda: services.mark_target(current_user, target, form.done_on.data, form.evidence.data,
                                         form.version.data or None),
            _("Target %(code)s is marked done.", code=target.code))
    return back


@bp.route("/targets/<code>/reopen", methods=["POST"])
@login_required
def target_reopen(code: str):
    require(current_user, "target.mark")
    target = _target_or_404(code)
    form = TargetReopenForm()
    if request.method == "POST" and form.validate_on_submit():
        attempt(lambda: services.reopen_target(current_user, target, form.version.data or None),
                _("Target %(code)s is open again.", code=target.code))
    return redirect(url_for("risks.targets") + f"#target-{target.code}")
