"""Social asset pages: the public social-asset list (no login, public assets only, no personal data),
the asset page (its public part for everyone; assignments, utilisation reports, audits and the forms
for staff and the assigned organisation), the asset form, and the municipality's annual review.
Thin views over srpp.assets.services (every rule lives there)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from srpp.assets import services
from srpp.assets.forms import AssetForm, AssignForm, AuditForm, FilterForm, ReportForm, ReturnForm, StateForm
from srpp.assets.models import AssetAssignment, AssetState, SocialAsset
from srpp.core import cache, charts
from srpp.core.errors import ConcurrentEdit, DomainError
from srpp.core.forms import apply_domain_error
from srpp.core.permissions import PermissionDenied, can, permission_required, require
from srpp.core.web import attempt
from srpp.extensions import db
from srpp.orgs import services as org_services
from srpp.orgs.models import Municipality
from srpp.region.services import percent

bp = Blueprint("assets", __name__, url_prefix="/assets")


# --- helpers --------------------------------------------------------------------------------------

def _refusal(form, err: DomainError) -> None:
    """Put every problem of a refusal at its field (or at the top of the form)."""
    problems = err.problems if isinstance(err, services.Refused) else [err]
    for p in problems:
        apply_domain_error(form, DomainError(p.message, getattr(p, "field", None)))


def _manageable() -> list[Municipality]:
    if not current_user.is_authenticated:
        return []
    return [m for m in org_services.municipalities() if can(current_user, "asset.manage", m)]


def _asset_or_404(asset_id: int) -> SocialAsset:
    asset = db.get_or_404(SocialAsset, asset_id)
    if not services.may_read(current_user, asset):
        abort(404)  # a non-public asset does not exist for outsiders
    return asset


def _back(asset: SocialAsset, anchor: str = ""):
    return redirect(url_for("assets.show", asset_id=asset.id) + anchor)


def _ratio_percent(value: Decimal | None) -> str:
    """A rate kept in per cent (e.g. 62.50) as a locale-formatted percentage."""
    return percent(value / 100 if value is not None else None)


def _year_arg(default: int, latest: int) -> int:
    try:
        year = int(request.args.get("year", default))
    except ValueError:
        return default
    return year if 2000 <= year <= latest else default


# --- the public list ------------------------------------------------------------------------------

@bp.get("/")
@cache.anonymous_page(services.CACHE_NS)
def index():
    municipalities = org_services.municipalities()
    form = FilterForm(request.args)
    form.fill_choices(municipalities, _("All"))
    chosen = next((m for m in municipalities if m.code == (form.municipality.data or "").upper()), None)
    assets = services.public_assets(municipality_id=chosen.id if chosen else None, kind=form.kind.data or None,
                                    state=form.state.data or None, use=form.use.data or None)
    if form.municipality.data and chosen is None:
        assets = []
    reviewable = current_user.is_authenticated and can(current_user, "asset.review")
    return render_template("assets/index.html", form=form, assets=assets, manageable=_manageable(),
                           reviewable=reviewable, filtered=any(request.args.get(k) for k in ("municipality", "kind",
                                                                                           "state", "use")))


# --- the asset form --------------------------------------------------------------------------------

@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    municipalities = _manageable()
    if not municipalities:
        raise PermissionDenied("asset.manage")
    form = AssetForm()
    form.fill_choices(municipalities)
    if request.method == "GET":
        code = (request.args.get("municipality") or "").upper()
        form.municipality_id.data = next((m.id for m in municipalities if m.code == code), municipalities[0].id)
        form.kind.data, form.condition.data, form.public.data = "premises", "good", True
    if form.validate_on_submit():
        try:
            asset = services.create_asset(current_user, form.to_input())
            db.session.commit()
        except DomainError as err:
            db.session.rollback()
            _refusal(form, err)
        else:
            flash(_("The asset %(name)s was added.", name=asset.name), "success")
            return _back(asset)
    return render_template("assets/form.html", form=form, asset=None)


@bp.route("/<int:asset_id>/edit", methods=["GET", "POST"])
@login_required
def edit(asset_id: int):
    asset = db.get_or_404(SocialAsset, asset_id)
    require(current_user, "asset.manage", asset.municipality)
    form = AssetForm()
    form.fill_choices([asset.municipality])
    if request.method == "GET":
        form.load(asset)
    form.municipality_id.data = asset.municipality_id
    if form.validate_on_submit():
        try:
            services.update_asset(current_user, asset, form.to_input(asset.municipality_id), form.version.data)
            db.session.commit()
        except ConcurrentEdit as err:
            db.session.rollback()
            apply_domain_error(form, err)
            form.version.data = asset.version
        except DomainError as err:
            db.session.rollback()
            _refusal(form, err)
        else:
            flash(_("The asset %(name)s was saved.", name=asset.name), "success")
            return _back(asset)
    return render_template("assets/form.html", form=form, asset=asset)


@bp.post("/<int:asset_id>/state")
@login_required
def state(asset_id: int):
    asset = db.get_or_404(SocialAsset, asset_id)
    require(current_user, "asset.manage", asset.municipality)
    form = StateForm()
    try:
        target = AssetState(form.target.data or "")
    except ValueError:
        flash(_("Choose the new state."), "error")
        return _back(asset)
    attempt(lambda: services.set_state(current_user, asset, target),
            _("The asset is now %(state)s.", state=target.label))
    return _back(asset)


# --- the asset page ----------------------------------------------------------------------------------

def _report_target(asset: SocialAsset) -> AssetAssignment | None:
    """The assignment the user reports on: the active one, else the latest, if the user may report."""
    if not current_user.is_authenticated:
        return None
    for a in sorted(asset.assignments, key=lambda a: (a.returned_on is None, a.start_date), reverse=True):
        if can(current_user, "asset.report", a):
            return a
    return None


def _render(asset: SocialAsset, status: int = 200, assign_form: AssignForm | None = None,
            return_form: ReturnForm | None = None, report_form: ReportForm | None = None,
            audit_form: AuditForm | None = None):
    today = dt.date.today()
    staff = services.may_see_staff_part(current_user, asset)
    reviewer = current_user.is_authenticated and can(current_user, "asset.review", asset.municipality)
    manager = current_user.is_authenticated and can(current_user, "asset.manage", asset.municipality)
    visible = asset.assignments if reviewer else [a for a in asset.assignments
                                                  if staff and a.supplier_id in current_user.supplier_ids()]
    active = asset.active_assignment
    if manager and active is None and asset.state != AssetState.WITHDRAWN and assign_form is None:
        assign_form = AssignForm(formdata=None)
        assign_form.start_date.data = today
        assign_form.end_date.data = today + relativedelta(years=3, days=-1)
        assign_form.obligations.data = asset.maintenance_duties
    if assign_form is not None:
        assign_form.fill_choices(services.eligible_suppliers())
    if manager and active is not None and return_form is None:
        return_form = ReturnForm(formdata=None, data={"returned_on": today, "version": active.version})
    target = _report_target(asset)
    if target is not None:
        if report_form is None:
            year = min(today.year - 1, target.until.year) if target.start_date.year < today.year else today.year
            report_form = ReportForm(formdata=None, data={
                "year": year, "hours_available": asset.hours_available_per_year, "costs_borne": "0"})
        report_form.fill_choices(target.reporting_frequency)
    audited = {a.year for a in asset.audits}
    held_years = {y for a in asset.assignments
                  for y in range(a.start_date.year, min(a.until.year, today.year - 1) + 1)}
    audits_missing = sorted(y for y in held_years if y not in audited)
    if manager and audit_form is None:
        year = audits_missing[-1] if audits_missing else today.year - 1
        audit_form = AuditForm(formdata=None, data={"year": year, "audited_on": today})
    return render_template(
        "assets/show.html", asset=asset, active=active, staff=staff, reviewer=reviewer, manager=manager,
        assignments=visible, yearly=services.yearly_use(asset), assign_form=assign_form, return_form=return_form,
        report_form=report_form, report_target=target, audit_form=audit_form, audits_missing=audits_missing,
        state_form=StateForm(formdata=None) if manager else None, rate=_ratio_percent,
        audit_due_on=services.audit_due_on), status


@bp.get("/<int:asset_id>")
@cache.anonymous_page(services.CACHE_NS)
def show(asset_id: int):
    return _render(_asset_or_404(asset_id))


@bp.post("/<int:asset_id>/assign")
@login_required
def assign(asset_id: int):
    asset = db.get_or_404(SocialAsset, asset_id)
    require(current_user, "asset.manage", asset.municipality)
    form = AssignForm()
    form.fill_choices(services.eligible_suppliers())
    if form.validate_on_submit():
        try:
            a = services.assign(current_user, asset, form.to_input())
            db.session.commit()
        except DomainError as err:
            db.session.rollback()
            _refusal(form, err)
        else:
            flash(_("The asset is assigned to %(s)s until %(day)s.", s=a.supplier.legal_name,
                    day=a.end_date.isoformat()), "success")
            return _back(asset, "#assignments")
    return _render(asset, assign_form=form)


@bp.post("/<int:asset_id>/return")
@login_required
def return_(asset_id: int):
    asset = db.get_or_404(SocialAsset, asset_id)
    require(current_user, "asset.manage", asset.municipality)
    active = asset.active_assignment
    if active is None:
        flash(_("The asset is not assigned to anyone."), "error")
        return _back(asset)
    form = ReturnForm()
    if form.validate_on_submit():
        try:
            services.return_asset(current_user, active, form.returned_on.data, form.return_note.data,
                                  form.version.data)
            db.session.commit()
        except DomainError as err:
            db.session.rollback()
            apply_domain_error(form, err)
            form.version.data = active.version
        else:
            flash(_("The return of the asset was recorded."), "success")
            return _back(asset, "#assignments")
    return _render(asset, return_form=form)


@bp.post("/assignments/<int:assignment_id>/report")
@login_required
def report(assignment_id: int):
    assignment = db.get_or_404(AssetAssignment, assignment_id)
    require(current_user, "asset.report", assignment)
    asset = assignment.asset
    form = ReportForm()
    form.fill_choices(assignment.reporting_frequency)
    if form.validate_on_submit():
        try:
            r, replaced = services.submit_report(current_user, assignment, form.to_input())
            db.session.commit()
        except DomainError as err:
            db.session.rollback()
            _refusal(form, err)
        else:
            flash(_("The utilisation report of %(period)s was corrected.", period=r.audit_label) if replaced else
                  _("The utilisation report of %(period)s was submitted.", period=r.audit_label), "success")
            return _back(asset, "#reports")
    return _render(asset, report_form=form)


@bp.post("/<int:asset_id>/audits")
@login_required
def audit(asset_id: int):
    asset = db.get_or_404(SocialAsset, asset_id)
    require(current_user, "asset.manage", asset.municipality)
    form = AuditForm()
    if form.validate_on_submit():
        try:
            a = services.record_audit(current_user, asset, form.to_input())
            db.session.commit()
        except DomainError as err:
            db.session.rollback()
            _refusal(form, err)
        else:
            flash(_("The audit of %(year)s was recorded.", year=a.year), "success")
            return _back(asset, "#audits")
    return _render(asset, audit_form=form)


# --- the annual review --------------------------------------------------------------------------------

@bp.get("/review")
@permission_required("asset.review")
def review():
    today = dt.date.today()
    year = _year_arg(today.year - 1, today.year)
    reviewable = [m for m in org_services.municipalities() if can(current_user, "asset.review", m)]
    code = (request.args.get("municipality") or "").upper()
    chosen = None
    if code:
        chosen = next((m for m in org_services.municipalities() if m.code == code), None)
        if chosen is None:
            abort(404)
        if chosen not in reviewable:
            raise PermissionDenied("asset.review")
    elif len(reviewable) == 1:
        chosen = reviewable[0]
    ids = [chosen.id] if chosen else [m.id for m in reviewable]
    rows = services.annual_review(ids, year, today)
    held = [r for r in rows if r.assignments]
    used = sum((r.hours_used for r in held), Decimal(0))
    available = sum((r.hours_available for r in held), Decimal(0))
    beneficiaries = sum(r.beneficiaries for r in held)
    cost = sum((r.running_cost + r.costs_borne for r in held), Decimal(0))
    summary = {
        "assets": len(rows), "held": len(held),
        "rate": (used / available * 100).quantize(Decimal("0.01")) if available else None,
        "beneficiaries": beneficiaries,
        "cost_per_beneficiary": (cost / beneficiaries).quantize(Decimal("0.01")) if beneficiaries else None,
        "audits_due": sum(1 for r in rows if r.audit_status in ("due", "overdue")),
        "audits_overdue": sum(1 for r in rows if r.audit_status == "overdue"),
        "missing_reports": sum(r.missing_reports for r in rows),
    }
    data = [charts.Datum(r.asset.name, r.rate, text=None if r.rate is not None else _("no report"),
                         warn=r.rate is not None and r.rate < 50) for r in held]
    chart = charts.bar_chart(data, title=_("Utilisation rate per asset, %(year)s", year=year),
                             desc=_("Hours used as a share of the hours available, from the utilisation reports; "
                                    "assets used less than half of the available hours in the warning colour."),
                             fmt=_ratio_percent, markers=[charts.Marker(50, _("%(n)s %% utilisation", n=50))],
                             key="asset-utilisation", label_header=_("Asset"), value_header=_("Utilisation rate"))
    manageable = [m for m in reviewable if can(current_user, "asset.manage", m)]
    return render_template("assets/review.html", rows=rows, year=year, years=list(range(today.year, 2019, -1)),
                           chosen=chosen, reviewable=reviewable, summary=summary, chart=chart, rate=_ratio_percent,
                           manageable=manageable, today=today)
