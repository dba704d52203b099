"""Market engagement: SEOs register interest in upcoming items and open lots."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from srpp.core.errors import DomainError
from srpp.core.permissions import PermissionDenied, can, permission_required
from srpp.core.web import safe_next_url
from srpp.engagement import services
from srpp.engagement.forms import InterestForm, WithdrawForm
from srpp.extensions import db
from srpp.orgs.models import Supplier
from srpp.plans.models import PlanState
from srpp.public import services as pipeline
from srpp.suppliers.models import MarketInterest
from srpp.tenders.models import Lot

bp = Blueprint("engagement", __name__)


def _register(back: str, **target) -> object:
    """Shared by the item and lot forms: validate, call the service, commit, flash, go back."""
    organisations = services.organisations_of(current_user)
    if not organisations:
        raise PermissionDenied("interest.register")
    form = InterestForm().setup(organisations)
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(_("Your interest was not registered: %(problem)s", problem=message), "error")
        return redirect(back)
    supplier = db.get_or_404(Supplier, form.supplier_id.data)
    try:
        interest = services.register_interest(current_user, supplier, seeks_partners=form.seeks_partners.data,
                                              note=form.note.data, **target)
        db.session.commit()
    except DomainError as err:
        db.session.rollback()
        flash(err.message, "error")
        return redirect(back)
    if interest.seeks_partners:
        flash(_("%(name)s's interest is registered; the municipality sees that you look for consortium partners.",
                name=supplier.legal_name), "success")
    else:
        flash(_("%(name)s's interest is registered; the municipality can see it.", name=supplier.legal_name),
              "success")
    return redirect(back)


@bp.route("/opportunities/<uid>/interest", methods=["POST"])
@login_required
def register_item(uid: str):
    item = pipeline.published_item(uid) or abort(404)
    return _register(url_for("public.item", uid=item.uid) + "#interest", plan_item_uid=item.uid)


@bp.route("/opportunities/lots/<int:lot_id>/interest", methods=["POST"])
@login_required
def register_lot(lot_id: int):
    lot = pipeline.public_lot(lot_id) or abort(404)
    return _register(url_for("public.lot", lot_id=lot.id) + "#interest", lot=lot)


@bp.route("/interests/<int:interest_id>/withdraw", methods=["POST"])
@login_required
def withdraw(interest_id: int):
    interest = db.get_or_404(MarketInterest, interest_id)
    form = WithdrawForm()
    if not can(current_user, "interest.register", interest.supplier):
        raise PermissionDenied("interest.register")
    if not form.validate_on_submit():
        abort(400)
    name = interest.supplier.legal_name
    services.withdraw_interest(current_user, interest)
    db.session.commit()
    flash(_("%(name)s's interest was withdrawn.", name=name), "success")
    return redirect(safe_next_url(form.next.data) or url_for("engagement.my_interests"))


@bp.route("/interests")
@permission_required("interest.list")
def my_interests():
    rows = services.interests_of(current_user)
    return render_template("engagement/mine.html", rows=rows, organisations=services.organisations_of(current_user),
                           withdraw_form=WithdrawForm(next=request.path))


@bp.route("/interests/lots/<int:lot_id>")
@login_required
def lot_interests(lot_id: int):
    lot = db.get_or_404(Lot, lot_id)
    interests = services.interests_for_lot(current_user, lot)
    public = lot.tender.state in pipeline.PUBLIC_TENDER_STATES and lot.tender.published_at is not None
    return render_template("engagement/interested.html", interests=interests, lot=lot, item=None,
                           title=lot.title, municipality=lot.municipality,
                           public_url=url_for("public.lot", lot_id=lot.id) if public else None)


@bp.route("/interests/items/<uid>")
@login_required
def item_interests(uid: str):
    item = services.item_by_uid(uid) or abort(404)
    interests = services.interests_for_item(current_user, item)
    published = item.plan_version.state == PlanState.PUBLISHED
    return render_template("engagement/interested.html", interests=interests, lot=None, item=item,
                           title=item.title, municipality=item.municipality,
                           public_url=url_for("public.item", uid=item.uid) if published else None)
