"""Framework agreements for coordinators and participants: the list, coordinator assignments, the
framework form, the framework page with its coordinator forms, and the versioned specification.
Thin views over srpp.frameworks.services (every rule lives there)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select

from srpp.auth.models import Role
from srpp.core import exports
from srpp.core.errors import ConcurrentEdit, DomainError
from srpp.core.forms import apply_domain_error
from srpp.core.permissions import PermissionDenied, can, permission_required, require
from srpp.core.web import attempt
from srpp.extensions import db
from srpp.frameworks import services
from srpp.frameworks.forms import (
    AcknowledgeForm,
    CapForm,
    CoordinatorForm,
    EventForm,
    FrameworkForm,
    ParticipantForm,
    PartyForm,
    PriceForm,
    SpecificationForm,
    StateForm,
    parse_caps,
)
from srpp.frameworks.models import (
    CallOff,
    FrameworkAgreement,
    FrameworkParticipant,
    FrameworkState,
    ParticipantState,
    SpecificationVersion,
)
from srpp.orgs import services as org_services
from srpp.orgs.models import Municipality, ServiceCategory, Supplier
from srpp.plans.forms import parse_amount
from srpp.tenders.models import Tender, TenderState

bp = Blueprint("frameworks", __name__, url_prefix="/frameworks")


# --- helpers --------------------------------------------------------------------------------------

def _specialised() -> list[ServiceCategory]:
    return [c for c in org_services.categories() if c.specialised]


def _manageable_categories() -> list[ServiceCategory]:
    """The specialised areas whose current coordinator the user manages frameworks for."""
    out = []
    for category in _specialised():
        assignment = services.current_coordinator(category)
        if assignment is not None and can(current_user, "framework.manage", assignment.municipality):
            out.append(category)
    return out


def _awarded_tenders() -> list[Tender]:
    return list(db.session.scalars(select(Tender).where(Tender.state == TenderState.AWARDED)
                                   .order_by(Tender.title)))


def _messages(err: DomainError) -> list[str]:
    if isinstance(err, services.Refused):
        return [p.message for p in err.problems]
    return [err.message]


def _refusal(form, err: DomainError) -> None:
    """Put every problem of a refusal at its field (or at the top of the form)."""
    problems = err.problems if isinstance(err, services.Refused) else [err]
    for p in problems:
        apply_domain_error(form, DomainError(p.message, getattr(p, "field", None)))


def _flash_form_errors(form) -> None:
    for name, messages in form.errors.items():
        label = form[name].label.text if name in form._fields else name
        for message in messages:
            flash(f"{label}: {message}", "error")


def _manager(fa: FrameworkAgreement) -> None:
    require(current_user, "framework.manage", fa.coordinator)


def _back(fa: FrameworkAgreement, anchor: str = ""):
    return redirect(url_for("frameworks.framework", framework_id=fa.id) + anchor)


def _ack_municipalities(fa: FrameworkAgreement) -> list[Municipality]:
    """The participating municipalities the user acknowledges for that have not acknowledged the
    latest version yet."""
    if not current_user.is_authenticated or not fa.spec_versions:
        return []
    mine = current_user.municipality_ids(Role.PROCUREMENT_OFFICER, Role.SERVICE_COORDINATOR)
    pending = services.pending_acknowledgements(fa)
    return [m for m in pending if m.id in mine and can(current_user, "calloff.place", m)]


# --- the list and the coordinators ------------------------------------------------------------------

def _list_rows() -> list[tuple[FrameworkAgreement, Decimal, Decimal]]:
    """(framework, committed value, committed share of the maximum in percent) of the list and its exports."""
    frameworks = list(db.session.scalars(select(FrameworkAgreement).order_by(FrameworkAgreement.code)))
    committed = dict(db.session.execute(select(CallOff.framework_id, func.sum(CallOff.value))
                                        .group_by(CallOff.framework_id)).all())
    rows = []
    for fa in frameworks:
        used = Decimal(committed.get(fa.id) or 0)
        share = (used / fa.max_value * 100) if fa.max_value else Decimal(0)
        rows.append((fa, used, share))
    return rows


@bp.route("/")
@permission_required("framework.view")
def index():
    rows = _list_rows()
    areas = [(c, services.current_coordinator(c)) for c in _specialised()]
    return render_template("frameworks/index.html", rows=rows, areas=areas,
                           can_create=bool(_manageable_categories()), endpoints=current_app.view_functions)


@bp.route("/export.<any(csv, xlsx):fmt>")
@permission_required("framework.view")
def export(fmt: str):
    """The list of framework agreements (the page has no filters)."""
    columns = [
        exports.Column(_("Code"), lambda r: r[0].code, width=18),
        exports.Column(_("Title"), lambda r: r[0].title, width=48),
        exports.Column(_("Service area"), lambda r: r[0].category.name),
        exports.Column(_("Coordinator"), lambda r: r[0].coordinator.name),
        exports.Column(_("State"), lambda r: r[0].state.label),
        exports.Column(_("Start"), lambda r: r[0].start_date, exports.DATE),
        exports.Column(_("End"), lambda r: r[0].end_date, exports.DATE),
        exports.Column(_("Maximum value"), lambda r: r[0].max_value, exports.DECIMAL),
        exports.Column(_("Committed"), lambda r: r[1], exports.DECIMAL),
        exports.Column(_("Share of the maximum consumed"),
                       lambda r: (r[1] / r[0].max_value).quantize(Decimal("0.0001")) if r[0].max_value else None,
                       exports.PERCENT, places=1),
    ]
    return exports.response(fmt, columns, _list_rows(), exports.filename("frameworks", ext=fmt),
                            sheet=_("Framework agreements"))


@bp.route("/coordinators", methods=["GET", "POST"])
@permission_required("framework.view")
def coordinators():
    can_assign = can(current_user, "coordinator.assign")
    if request.method == "POST":
        require(current_user, "coordinator.assign")
    categories = _specialised()
    form = CoordinatorForm() if can_assign else None
    if form is not None:
        form.category_id.choices = [(c.id, f"{c.name} ({c.key})") for c in categories]
        form.municipality_id.choices = [(m.id, m.name) for m in org_services.municipalities()]
        if request.method == "GET":
            form.valid_from.data = dt.date.today()
        if form.validate_on_submit():
            category = db.session.get(ServiceCategory, form.category_id.data)
            municipality = db.session.get(Municipality, form.municipality_id.data)
            try:
                services.assign_coordinator(current_user, category, municipality, form.valid_from.data,
                                            form.decision_ref.data)
                db.session.commit()
            except DomainError as err:
                db.session.rollback()
                apply_domain_error(form, err)
            else:
                flash(_("%(m)s is now the coordinator of %(area)s.", m=municipality.name, area=category.name),
                      "success")
                return redirect(url_for("frameworks.coordinators"))
    history = [(c, services.assignment_history(c)) for c in categories]
    return render_template("frameworks/coordinators.html", history=history, form=form)


# --- the framework form -------------------------------------------------------------------------------

@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    categories = _manageable_categories()
    if not categories:
        raise PermissionDenied("framework.manage")
    form = FrameworkForm()
    form.fill_choices(categories, _awarded_tenders())
    if request.method == "GET":
        form.call_off_method.data = "direct"
    if form.validate_on_submit():
        inp = form.to_input()
        try:
            fa = services.create_framework(current_user, inp)
            db.session.commit()
        except DomainError as err:
            db.session.rollback()
            _refusal(form, err)
        else:
            for problem in services.check_framework(inp):
                if not problem.blocking:
                    flash(problem.message, "warning")
            flash(_("The framework %(code)s was created as planned. Add participants, suppliers and the "
                    "specification, then activate it.", code=fa.code), "success")
            return redirect(url_for("frameworks.framework", framework_id=fa.id))
    return render_template("frameworks/form.html", form=form, fa=None)


@bp.route("/<int:framework_id>/edit", methods=["GET", "POST"])
@login_required
def edit(framework_id: int):
    fa = db.get_or_404(FrameworkAgreement, framework_id)
    _manager(fa)
    categories = [c for c in _specialised() if c.id == fa.category_id or (
        (a := services.current_coordinator(c)) is not None and a.municipality_id == fa.municipality_id)]
    form = FrameworkForm()
    form.fill_choices(categories, _awarded_tenders())
    if request.method == "GET":
        form.load(fa)
    if form.validate_on_submit():
        try:
            warnings = services.update_framework(current_user, fa, form.to_input(), form.version.data)
            db.session.commit()
        except ConcurrentEdit as err:
            db.session.rollback()
            apply_domain_error(form, err)
            form.version.data = fa.version  # the user's input stays; saving again applies it
        except DomainError as err:
            db.session.rollback()
            _refusal(form, err)
        else:
            for problem in warnings:
                flash(problem.message, "warning")
            flash(_("The framework %(code)s was saved.", code=fa.code), "success")
            return redirect(url_for("frameworks.framework", framework_id=fa.id))
    return render_template("frameworks/form.html", form=form, fa=fa)


@bp.route("/<int:framework_id>/state", methods=["POST"])
@login_required
def state(framework_id: int):
    fa = db.get_or_404(FrameworkAgreement, framework_id)
    _manager(fa)
    form = StateForm()
    try:
        target = FrameworkState(form.target.data or "")
    except ValueError:
        flash(_("Choose the new state."), "error")
        return _back(fa)
    if target not in (FrameworkState.ACTIVE, FrameworkState.TERMINATED):
        abort(400)
    attempt(lambda: services.set_state(current_user, fa, target),
            _("The framework is now %(state)s.", state=target.label))
    return _back(fa)


# --- the framework page -------------------------------------------------------------------------------

def _year_arg(default: int) -> int:
    try:
        year = int(request.args.get("year", default))
    except ValueError:
        return default
    return year if 2000 <= year <= 2100 else default


@bp.route("/<int:framework_id>")
@permission_required("framework.view")
def framework(framework_id: int):
    fa = db.get_or_404(FrameworkAgreement, framework_id)
    manager = can(current_user, "framework.manage", fa.coordinator)
    committed = services.committed_total(fa)
    years = sorted({c.year for p in fa.participants for c in p.caps} | {dt.date.today().year})
    figures = {year: {f.participant.id: f for f in services.participant_figures(fa, year)} for year in years}
    prices: dict[int, list] = {}
    for line in fa.prices:
        prices.setdefault(line.supplier_id, []).append(line)
    latest = fa.spec_versions[-1] if fa.spec_versions else None
    forms = {}
    if manager:
        participating = {p.municipality_id for p in fa.participants}
        forms["participant"] = ParticipantForm(formdata=None)
        forms["participant"].municipality_id.choices = [
            (m.id, m.name) for m in org_services.municipalities() if m.id not in participating]
        forms["cap"] = CapForm(formdata=None, year=dt.date.today().year)
        party_ids = {p.supplier_id for p in fa.parties}
        forms["party"] = PartyForm(formdata=None, joined_on=dt.date.today())
        forms["party"].supplier_id.choices = [
            (s.id, s.legal_name) for s in org_services.suppliers() if s.id not in party_ids]
        forms["price"] = PriceForm(formdata=None)
        forms["price"].supplier_id.choices = [(p.supplier.id, p.supplier.legal_name) for p in fa.parties]
        forms["event"] = EventForm(formdata=None, held_on=dt.date.today())
    targets = []
    if manager:
        if fa.state == FrameworkState.PLANNED:
            targets.append(FrameworkState.ACTIVE)
        if fa.state in (FrameworkState.PLANNED, FrameworkState.ACTIVE):
            targets.append(FrameworkState.TERMINATED)
    return render_template(
        "frameworks/framework.html", fa=fa, manager=manager, committed=committed,
        remaining=fa.max_value - committed, years=years, figures=figures, prices=prices, latest=latest,
        pending=services.pending_acknowledgements(fa), ack_municipalities=_ack_municipalities(fa),
        ack_form=AcknowledgeForm(formdata=None), state_form=StateForm(formdata=None), targets=targets,
        forms=forms, endpoints=current_app.view_functions, States=FrameworkState,
        ParticipantState=ParticipantState,
    )


# --- the shared specification ----------------------------------------------------------------------

def _version(fa: FrameworkAgreement, number: int | None) -> SpecificationVersion:
    version = next((v for v in fa.spec_versions if v.number == number), None)
    if version is None:
        abort(404)
    return version


@bp.route("/<int:framework_id>/specification")
@permission_required("framework.view")
def specification(framework_id: int):
    fa = db.get_or_404(FrameworkAgreement, framework_id)
    if not fa.spec_versions:
        return render_template("frameworks/specification.html", fa=fa, a=None, b=None, diff=None)
    latest = fa.spec_versions[-1].number
    b = _version(fa, request.args.get("b", latest, type=int))
    a = _version(fa, request.args.get("a", max(1, b.number - 1), type=int))
    return render_template("frameworks/specification.html", fa=fa, a=a, b=b, diff=services.spec_diff(a, b))


@bp.route("/<int:framework_id>/specification/new", methods=["GET", "POST"])
@login_required
def specification_new(framework_id: int):
    fa = db.get_or_404(FrameworkAgreement, framework_id)
    _manager(fa)
    latest = fa.spec_versions[-1] if fa.spec_versions else None
    form = SpecificationForm()
    if request.method == "GET" and latest is not None:
        form.specification.data = latest.specification
        form.quality_standard.data = latest.quality_standard
    if form.validate_on_submit():
        try:
            version = services.publish_specification(current_user, fa, form.specification.data,
                                                     form.quality_standard.data, form.change_note.data)
            db.session.commit()
        except DomainError as err:
            db.session.rollback()
            apply_domain_error(form, err)
        else:
            flash(_("Specification version %(n)s was published; the participants were notified.",
                    n=version.number), "success")
            return _back(fa, "#specification")
    return render_template("frameworks/specification_new.html", fa=fa, form=form, latest=latest)


@bp.route("/<int:framework_id>/acknowledge", methods=["POST"])
@login_required
def acknowledge(framework_id: int):
    fa = db.get_or_404(FrameworkAgreement, framework_id)
    form = AcknowledgeForm()
    municipality = None
    if (form.municipality_id.data or "").isdigit():
        municipality = db.session.get(Municipality, int(form.municipality_id.data))
    if municipality is None:
        mine = sorted(current_user.municipality_ids(Role.PROCUREMENT_OFFICER, Role.SERVICE_COORDINATOR))
        participating = {p.municipality_id for p in fa.participants}
        chosen = next((i for i in mine if i in participating), mine[0] if mine else None)
        municipality = db.session.get(Municipality, chosen) if chosen else None
    if municipality is None:
        if not current_user.is_admin:
            raise PermissionDenied("calloff.place")
        flash(_("Choose the municipality that acknowledges."), "error")
        return _back(fa, "#specification")
    require(current_user, "calloff.place", municipality)
    if not fa.spec_versions:
        flash(_("The framework has no specification yet."), "error")
        return _back(fa, "#specification")
    version = fa.spec_versions[-1]
    if (form.version_id.data or "").isdigit():
        version = next((v for v in fa.spec_versions if v.id == int(form.version_id.data)), None) or abort(404)
    attempt(lambda: services.acknowledge(current_user, version, municipality),
            _("%(m)s acknowledged specification version %(n)s.", m=municipality.name, n=version.number))
    return _back(fa, "#specification")


# --- coordinator forms on the framework page ------------------------------------------------------

@bp.route("/<int:framework_id>/participants", methods=["POST"])
@login_required
def participant_add(framework_id: int):
    fa = db.get_or_404(FrameworkAgreement, framework_id)
    _manager(fa)
    form = ParticipantForm()
    form.municipality_id.choices = [(m.id, m.name) for m in org_services.municipalities()]
    if not form.validate_on_submit():
        _flash_form_errors(form)
        return _back(fa, "#participants")
    municipality = db.session.get(Municipality, form.municipality_id.data)
    attempt(lambda: services.add_participant(current_user, fa, municipality, form.opt_out_notice_days.data,
                                             parse_caps(form.caps.data) or {}),
            _("%(m)s now participates.", m=municipality.name))
    return _back(fa, "#participants")


@bp.route("/participants/<int:participant_id>/cap", methods=["POST"])
@login_required
def participant_cap(participant_id: int):
    participant = db.get_or_404(FrameworkParticipant, participant_id)
    fa = participant.framework
    _manager(fa)
    form = CapForm()
    if not form.validate_on_submit():
        _flash_form_errors(form)
        return _back(fa, "#participants")
    year, cap = form.year.data, parse_amount(form.cap.data)
    attempt(lambda: services.set_cap(current_user, participant, year, cap),
            _("The %(year)s cap of %(m)s was set.", year=year, m=participant.municipality.name))
    return _back(fa, "#participants")


@bp.route("/<int:framework_id>/parties", methods=["POST"])
@login_required
def party_add(framework_id: int):
    fa = db.get_or_404(FrameworkAgreement, framework_id)
    _manager(fa)
    form = PartyForm()
    form.supplier_id.choices = [(s.id, s.legal_name) for s in org_services.suppliers()]
    if not form.validate_on_submit():
        _flash_form_errors(form)
        return _back(fa, "#parties")
    supplier = db.session.get(Supplier, form.supplier_id.data)
    attempt(lambda: services.add_party(current_user, fa, supplier, form.joined_on.data),
            _("%(s)s is now party to the framework.", s=supplier.legal_name))
    return _back(fa, "#parties")


@bp.route("/<int:framework_id>/prices", methods=["POST"])
@login_required
def price_set(framework_id: int):
    fa = db.get_or_404(FrameworkAgreement, framework_id)
    _manager(fa)
    form = PriceForm()
    form.supplier_id.choices = [(s.id, s.legal_name) for s in org_services.suppliers()]
    if not form.validate_on_submit():
        _flash_form_errors(form)
        return _back(fa, "#parties")
    supplier = db.session.get(Supplier, form.supplier_id.data)
    attempt(lambda: services.set_price(current_user, fa, supplier, form.item.data, form.unit.data,
                                       parse_amount(form.unit_price.data)),
            _("The unit price of %(s)s was saved.", s=supplier.legal_name))
    return _back(fa, "#parties")


@bp.route("/<int:framework_id>/events", methods=["POST"])
@login_required
def event_add(framework_id: int):
    fa = db.get_or_404(FrameworkAgreement, framework_id)
    _manager(fa)
    form = EventForm()
    if not form.validate_on_submit():
        _flash_form_errors(form)
        return _back(fa, "#events")
    attempt(lambda: services.record_event(current_user, fa, form.held_on.data, form.attendees.data,
                                          form.notes.data, form.resulting_changes.data),
            _("The engagement event was recorded."))
    return _back(fa, "#events")
