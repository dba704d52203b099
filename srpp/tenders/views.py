"""Tenders and lots for procurement officers: thin views over srpp.tenders.services (every rule
lives there)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import or_, select

from srpp.auth.models import Role
from srpp.core.errors import ConcurrentEdit, DomainError
from srpp.core.forms import apply_domain_error
from srpp.core.i18n import money
from srpp.core.permissions import PermissionDenied, can, permission_required, regional_reader, require
from srpp.core.web import attempt, page_arg, paginate
from srpp.extensions import db, login_manager
from srpp.orgs import services as org_services
from srpp.orgs.models import Municipality, Supplier
from srpp.plans.forms import parse_amount
from srpp.plans.models import PlanItem
from srpp.suppliers.services import eligible_suppliers
from srpp.tenders import services, workflow
from srpp.tenders.forms import (
    ActionForm,
    AwardForm,
    BidForm,
    CriteriaForm,
    LotForm,
    ReasonForm,
    TenderForm,
    TenderFromPlanForm,
    TransitionForm,
)
from srpp.tenders.models import Bid, Lot, LotState, Tender, TenderState

bp = Blueprint("tenders", __name__, url_prefix="/tenders")

#: states in which a tender is still internal to its municipalities
UNPUBLISHED = {TenderState.DRAFT, TenderState.READY}
#: states in which bids are recorded and lots closed
BIDDING = {TenderState.PUBLISHED, TenderState.EVALUATION}
PER_PAGE = 25


# --- helpers --------------------------------------------------------------------------------------

def _staff_of(tender: Tender) -> bool:
    """Staff of the lead or a mandating municipality, or a regional reader."""
    return any(can(current_user, "tender.view_draft", m) for m in [tender.municipality, *tender.mandates])


def _readable(tender: Tender) -> Tender:
    """Drafts (and ready tenders) are internal: anonymous visitors get 404, other users 403.
    Published tenders and later are open to every logged-in user."""
    if not current_user.is_authenticated:
        if tender.state in UNPUBLISHED:
            abort(404)
        abort(login_manager.unauthorized())
    if tender.state in UNPUBLISHED and not _staff_of(tender):
        raise PermissionDenied("tender.view_draft")
    return tender


def _editable_or_redirect(tender: Tender):
    if tender.state not in workflow.EDITABLE:
        flash(_("The tender is %(state)s: its lots can no longer be changed.", state=tender.state.label), "error")
        return redirect(url_for("tenders.show", tender_id=tender.id))
    return None


def _refusal(form, err: DomainError) -> None:
    """Put every problem of a refusal at its field (or at the top of the form)."""
    problems = err.problems if isinstance(err, services.Refused) else [err]
    for p in problems:
        apply_domain_error(form, DomainError(p.message, getattr(p, "field", None)))


def _messages(err: DomainError) -> list[str]:
    if isinstance(err, services.Refused):
        return [p.message for p in err.problems]
    return [err.message]


def _lead_choices() -> list[Municipality]:
    """The municipalities the user may start a tender for."""
    if current_user.is_admin:
        return org_services.municipalities()
    ids = current_user.municipality_ids(Role.PROCUREMENT_OFFICER)
    return [m for m in org_services.municipalities() if m.id in ids]


# --- tenders ----------------------------------------------------------------------------------------

@bp.route("/")
@permission_required("region.view")
def index():
    stmt = select(Tender)
    if not regional_reader(current_user):
        ids = current_user.municipality_ids()
        stmt = stmt.where(or_(Tender.municipality_id.in_(ids), Tender.mandates.any(Municipality.id.in_(ids))))
    state = request.args.get("state") or None
    if state in {s.value for s in TenderState}:
        stmt = stmt.where(Tender.state == TenderState(state))
    else:
        state = None
    municipality = org_services.municipality_by_code(request.args.get("municipality", "")) \
        if request.args.get("municipality") else None
    if municipality is not None:
        stmt = stmt.where(or_(Tender.municipality_id == municipality.id,
                              Tender.mandates.any(Municipality.id == municipality.id)))
    stmt = stmt.order_by(Tender.created_at.desc(), Tender.id.desc())
    page = paginate(stmt, page_arg(), PER_PAGE)
    return render_template("tenders/index.html", page=page, states=TenderState, state=state,
                           municipality=municipality, municipalities=org_services.municipalities(),
                           can_create=bool(_lead_choices()))


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    leads = _lead_choices()
    if not leads:
        raise PermissionDenied("tender.edit")
    code = (request.values.get("municipality") or "").upper()
    lead = next((m for m in leads if m.code == code), leads[0])
    require(current_user, "tender.edit", lead)
    items = services.tenderable_items(lead)
    form = TenderFromPlanForm()
    form.items.choices = [(i.id, i.title) for i in items]
    others = [m for m in org_services.municipalities() if m.id != lead.id]
    form.mandates.choices = [(m.id, m.name) for m in others]
    problems: list[str] = []
    if form.validate_on_submit():
        ids = form.items.data or []
        by_id = {i.id: i for i in db.session.scalars(select(PlanItem).where(PlanItem.id.in_(ids)))} if ids else {}
        chosen = [by_id[i] for i in ids if i in by_id]
        mandate_ids = form.mandates.data or []
        mandates = list(db.session.scalars(select(Municipality).where(Municipality.id.in_(mandate_ids)))) \
            if mandate_ids else []
        try:
            tender = services.create_from_plan(current_user, chosen, form.title.data, mandates)
            db.session.commit()
        except DomainError as err:
            db.session.rollback()
            problems = _messages(err)
        else:
            flash(ngettext("The tender was created as a draft with %(num)d lot.",
                           "The tender was created as a draft with %(num)d lots.", len(tender.lots)), "success")
            return redirect(url_for("tenders.show", tender_id=tender.id))
    return render_template("tenders/new.html", form=form, lead=lead, leads=leads, items=items, problems=problems,
                           chosen=set(form.items.data or []), chosen_mandates=set(form.mandates.data or []),
                           others=others)


def _render_tender(tender: Tender, form: TenderForm | None = None):
    can_edit = can(current_user, "tender.edit", tender.municipality)
    editable = tender.state in workflow.EDITABLE
    if form is None and can_edit and editable:
        form = TenderForm(formdata=None)
        form.fill_choices()
        form.load(tender)
    staff = _staff_of(tender)
    problems = services.readiness(tender) if editable and staff else []

    def fixes(p: services.Problem) -> tuple[str, str] | None:
        """Where to change what a readiness problem names."""
        if not can_edit:
            return None
        lot = next((x for x in tender.lots if x.number == p.lot), None) if p.lot else None
        if lot is not None and p.field == "criteria":
            return (url_for("tenders.lot", lot_id=lot.id) + "#criteria",
                    _("Set the award criteria of lot %(n)s", n=lot.number))
        if lot is not None:
            return url_for("tenders.lot_edit", lot_id=lot.id), _("Edit lot %(n)s", n=lot.number)
        if p.field in ("no_division_reasons", "allocation_rule"):
            return "#" + p.field, _("Change the tender details")
        if not p.field:
            return url_for("tenders.lot_new", tender_id=tender.id), _("Add a lot")
        return None
    return render_template(
        "tenders/tender.html", tender=tender, form=form if (can_edit and editable) else None,
        can_edit=can_edit, editable=editable, staff=staff, problems=problems,
        blocking=[(p, fixes(p)) for p in problems if p.blocking],
        warnings=[(p, fixes(p)) for p in problems if not p.blocking],
        targets=workflow.next_states(tender.state) if can_edit else [],
        transition_form=TransitionForm(formdata=None), action_form=ActionForm(formdata=None),
        States=TenderState,
    )


@bp.route("/<int:tender_id>")
def show(tender_id: int):
    tender = _readable(db.get_or_404(Tender, tender_id))
    return _render_tender(tender)


@bp.route("/<int:tender_id>/edit", methods=["POST"])
@login_required
def edit(tender_id: int):
    tender = db.get_or_404(Tender, tender_id)
    require(current_user, "tender.edit", tender.municipality)
    form = TenderForm()
    form.fill_choices()
    if form.validate_on_submit():
        try:
            services.update_tender(current_user, tender, form.to_data(), form.version.data)
            db.session.commit()
        except DomainError as err:
            db.session.rollback()
            if tender.state not in workflow.EDITABLE:
                flash(err.message, "error")
                return redirect(url_for("tenders.show", tender_id=tender.id))
            apply_domain_error(form, err)
            form.version.data = tender.version  # keep the user's input; the next save applies it
        else:
            flash(_("The tender was saved."), "success")
            return redirect(url_for("tenders.show", tender_id=tender.id))
    return _render_tender(tender, form=form)


@bp.route("/<int:tender_id>/transition", methods=["POST"])
@login_required
def transition(tender_id: int):
    tender = db.get_or_404(Tender, tender_id)
    require(current_user, "tender.edit", tender.municipality)
    form = TransitionForm()
    back = redirect(url_for("tenders.show", tender_id=tender.id))
    if not form.validate_on_submit():
        flash(_("The form could not be read; reload the page and try again."), "error")
        return back
    try:
        target = TenderState(form.target.data)
    except ValueError:
        abort(400)
    try:
        services.transition(current_user, tender, target, form.reason.data, form.version.data)
        db.session.commit()
    except DomainError as err:
        db.session.rollback()
        if isinstance(err, services.Refused):
            flash(_("The tender cannot become %(state)s yet:", state=target.label), "error")
        for message in _messages(err):
            flash(message, "error")
    else:
        flash(_("The tender is now %(state)s.", state=target.label), "success")
    return back


# --- lots -------------------------------------------------------------------------------------------

def _lot_form(**kwargs) -> LotForm:
    form = LotForm(**kwargs)
    form.fill_choices(org_services.categories(), org_services.municipalities())
    return form


@bp.route("/<int:tender_id>/lots/new", methods=["GET", "POST"])
@login_required
def lot_new(tender_id: int):
    tender = db.get_or_404(Tender, tender_id)
    require(current_user, "tender.edit", tender.municipality)
    if (stop := _editable_or_redirect(tender)) is not None:
        return stop
    form = _lot_form()
    if request.method == "GET":
        form.place_municipality_id.data = tender.municipality_id
        if tender.lots:
            form.category_id.data = tender.lots[-1].category_id
    if form.validate_on_submit():
        try:
            lot = services.add_lot(current_user, tender, form.to_input())
            db.session.commit()
        except DomainError as err:
            db.session.rollback()
            _refusal(form, err)
        else:
            flash(_("Lot %(n)s was added.", n=lot.number), "success")
            return redirect(url_for("tenders.lot", lot_id=lot.id))
    return render_template("tenders/lot_form.html", form=form, tender=tender, lot=None, current=None)


@bp.route("/lots/<int:lot_id>/edit", methods=["GET", "POST"])
@login_required
def lot_edit(lot_id: int):
    lot = db.get_or_404(Lot, lot_id)
    tender = lot.tender
    require(current_user, "tender.edit", tender.municipality)
    if (stop := _editable_or_redirect(tender)) is not None:
        return stop
    form = _lot_form()
    if request.method == "GET":
        form.load(lot)
    current = None
    if form.validate_on_submit():
        try:
            services.update_lot(current_user, lot, form.to_input(), form.version.data)
            db.session.commit()
        except ConcurrentEdit as err:
            db.session.rollback()
            apply_domain_error(form, err)
            form.version.data = lot.version  # the user's input stays; saving again applies it
            current = lot
        except DomainError as err:
            db.session.rollback()
            _refusal(form, err)
        else:
            flash(_("Lot %(n)s was saved.", n=lot.number), "success")
            return redirect(url_for("tenders.lot", lot_id=lot.id))
    return render_template("tenders/lot_form.html", form=form, tender=tender, lot=lot, current=current)


@bp.route("/lots/<int:lot_id>/delete", methods=["POST"])
@login_required
def lot_delete(lot_id: int):
    lot = db.get_or_404(Lot, lot_id)
    tender = lot.tender
    require(current_user, "tender.edit", tender.municipality)
    form = ActionForm()
    if form.validate_on_submit():
        number = lot.number
        try:
            services.delete_lot(current_user, lot)
            db.session.commit()
        except DomainError as err:
            db.session.rollback()
            flash(err.message, "error")
            return redirect(url_for("tenders.lot", lot_id=lot.id))
        flash(_("Lot %(n)s was removed; the other lots were renumbered.", n=number), "success")
    return redirect(url_for("tenders.show", tender_id=tender.id))


def _render_lot(lot: Lot, *, criteria_form: CriteriaForm | None = None, criteria_errors: list[str] | None = None,
                bid_form: BidForm | None = None, award_form: AwardForm | None = None,
                award_errors: list[str] | None = None, award_bid_id: int | None = None,
                reason_form: ReasonForm | None = None):
    tender = lot.tender
    can_edit = can(current_user, "tender.edit", tender.municipality)
    staff = _staff_of(tender)
    editable = tender.state in workflow.EDITABLE
    today = dt.date.today()
    if can_edit and editable and criteria_form is None:
        criteria_form = CriteriaForm(formdata=None)
        criteria_form.load(lot.criteria)
    bidding = tender.state in BIDDING and lot.state == LotState.OPEN
    suppliers = org_services.suppliers() if can_edit and bidding else []
    if can_edit and bidding and bid_form is None:
        bid_form = BidForm(formdata=None)
    if bid_form is not None:
        bid_form.fill_choices(suppliers)
    awarding = can_edit and tender.state == TenderState.EVALUATION and lot.state == LotState.OPEN
    if awarding and award_form is None:
        award_form = AwardForm(formdata=None, award_date=today)
    saved_sum = sum((c.weight for c in lot.criteria), Decimal(0))
    return render_template(
        "tenders/lot.html", lot=lot, tender=tender, can_edit=can_edit, staff=staff, editable=editable,
        guidance=services.lot_size_guidance(lot, today), eligible=eligible_suppliers(lot.reservation,
                                                                                     lot.category_id, today),
        problems=services.lot_problems(lot, tender.is_srpp) if editable and staff else [],
        criteria_form=criteria_form if (can_edit and editable) else None, criteria_errors=criteria_errors or [],
        saved_sum=saved_sum, bidding=bidding, bid_form=bid_form if (can_edit and bidding) else None,
        awarding=awarding, award_form=award_form, award_errors=award_errors or [], award_bid_id=award_bid_id,
        reason_form=reason_form or ReasonForm(formdata=None), action_form=ActionForm(formdata=None), today=today,
    )


@bp.route("/lots/<int:lot_id>")
def lot(lot_id: int):
    lot = db.get_or_404(Lot, lot_id)
    _readable(lot.tender)
    return _render_lot(lot)


@bp.route("/lots/<int:lot_id>/criteria", methods=["POST"])
@login_required
def criteria(lot_id: int):
    lot = db.get_or_404(Lot, lot_id)
    require(current_user, "tender.edit", lot.tender.municipality)
    if (stop := _editable_or_redirect(lot.tender)) is not None:
        return stop
    form = CriteriaForm()
    errors: list[str] = []
    if form.validate_on_submit():
        rows = form.to_rows()
        try:
            services.set_criteria(current_user, lot, rows)
            db.session.commit()
        except DomainError as err:
            db.session.rollback()
            errors = _messages(err)
        else:
            flash(_("The award criteria of lot %(n)s were saved.", n=lot.number), "success")
            return redirect(url_for("tenders.lot", lot_id=lot.id) + "#criteria")
    else:
        errors = [str(e) for e in form.row_errors()] or [_("The form could not be read; reload the page and try "
                                                          "again.")]
    return _render_lot(lot, criteria_form=form, criteria_errors=errors)


# --- bids and award -----------------------------------------------------------------------------------

@bp.route("/lots/<int:lot_id>/bids", methods=["POST"])
@login_required
def bid_new(lot_id: int):
    lot = db.get_or_404(Lot, lot_id)
    require(current_user, "tender.edit", lot.tender.municipality)
    form = BidForm()
    form.fill_choices(org_services.suppliers())
    if form.validate_on_submit():
        supplier = db.session.get(Supplier, form.supplier_id.data)
        member_ids = [i for i in (form.members.data or []) if i != form.supplier_id.data]
        members = list(db.session.scalars(select(Supplier).where(Supplier.id.in_(member_ids)))) if member_ids else []
        score = parse_amount(form.score.data) if (form.score.data or "").strip() else None
        try:
            services.record_bid(current_user, lot, supplier, parse_amount(form.price.data), score,
                                bool(form.compliant.data), members, form.note.data)
            db.session.commit()
        except DomainError as err:
            db.session.rollback()
            apply_domain_error(form, err)
        else:
            flash(_("The bid of %(supplier)s was recorded.", supplier=supplier.legal_name), "success")
            return redirect(url_for("tenders.lot", lot_id=lot.id) + "#bids")
    return _render_lot(lot, bid_form=form)


@bp.route("/lots/<int:lot_id>/award", methods=["POST"])
@login_required
def award(lot_id: int):
    lot = db.get_or_404(Lot, lot_id)
    require(current_user, "tender.edit", lot.tender.municipality)
    form = AwardForm()
    errors: list[str] = []
    try:
        bid_id = int(form.bid_id.data or "")
    except ValueError:
        bid_id = None
    if form.validate_on_submit():
        bid = db.session.get(Bid, bid_id) if bid_id else None
        if bid is None:
            errors = [_("Choose the bid to award.")]
        else:
            try:
                contract = services.award(current_user, lot, bid, form.award_date.data, parse_amount(form.value.data),
                                          form.version.data)
                db.session.commit()
            except DomainError as err:
                db.session.rollback()
                errors = _messages(err)
                form.version.data = lot.version
            else:
                flash(_("Lot %(n)s was awarded to %(supplier)s (%(value)s); a contract record was created.",
                        n=lot.number, supplier=contract.supplier.legal_name, value=money(contract.value)),
                      "success")
                return redirect(url_for("tenders.lot", lot_id=lot.id))
    else:
        for name, messages in form.errors.items():
            if name == "bid_id":
                errors.append(_("Choose the bid to award."))
            elif name in ("award_date", "value"):
                errors += [f"{form[name].label.text}: {m}" for m in messages]
        errors = errors or [_("The form could not be read; reload the page and try again.")]
    return _render_lot(lot, award_form=form, award_errors=errors, award_bid_id=bid_id)


@bp.route("/lots/<int:lot_id>/unsuccessful", methods=["POST"])
@login_required
def unsuccessful(lot_id: int):
    lot = db.get_or_404(Lot, lot_id)
    require(current_user, "tender.edit", lot.tender.municipality)
    form = ReasonForm()
    if form.validate_on_submit():
        attempt(lambda: services.close_unsuccessful(current_user, lot, form.reason.data or ""),
                _("Lot %(n)s was closed as unsuccessful. You can re-plan it.", n=lot.number))
    return redirect(url_for("tenders.lot", lot_id=lot.id))


@bp.route("/lots/<int:lot_id>/replan", methods=["POST"])
@login_required
def replan(lot_id: int):
    lot = db.get_or_404(Lot, lot_id)
    require(current_user, "tender.edit", lot.tender.municipality)
    form = ActionForm()
    if form.validate_on_submit():
        attempt(lambda: services.replan(current_user, lot),
                _("Lot %(n)s went back to the plan: its plan item can be tendered again.", n=lot.number))
    return redirect(url_for("tenders.lot", lot_id=lot.id))
