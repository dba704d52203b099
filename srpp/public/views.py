"""The public pipeline of upcoming procurement: /opportunities, item and lot pages, feeds, saved searches."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from srpp.core import cache, exports
from srpp.core.errors import DomainError
from srpp.core.permissions import can, permission_required
from srpp.engagement import services as engagement
from srpp.engagement.forms import InterestForm, WithdrawForm
from srpp.extensions import db
from srpp.plans.models import SavedSearch
from srpp.plans.services import review_status
from srpp.public import feeds, services
from srpp.public.forms import DeleteSearchForm, FilterForm, SaveSearchForm

bp = Blueprint("public", __name__)


def _filters() -> tuple[services.FilterLookups, services.Filters]:
    lookups = services.FilterLookups.load()
    return lookups, services.parse_filters(request.args, lookups)


def _feed_links(filters: services.Filters) -> dict[str, str]:
    args = filters.query()
    return {"atom": url_for("public.atom", _external=True, **args),
            "ics": url_for("public.ics", _external=True, **args)}


@bp.route("/opportunities")
@cache.anonymous_page("pipeline")
def opportunities():
    lookups, filters = _filters()
    page = services.opportunities_page(filters)
    save_form = None
    if can(current_user, "search.save"):
        save_form = SaveSearchForm(query=filters.query_string())
    return render_template(
        "public/opportunities.html", page=page, filters=filters, lookups=lookups,
        form=FilterForm(request.args, lookups, filters), save_form=save_form, feed_links=_feed_links(filters),
    )


def _interest_form(is_open: bool, **target) -> tuple[InterestForm | None, object]:
    """The interest form for a logged-in SEO member (with the organisation's current interest)."""
    if not is_open or not current_user.is_authenticated:
        return None, None
    organisations = engagement.organisations_of(current_user)
    if not organisations:
        return None, None
    existing = engagement.own_interest(current_user, **target)
    return InterestForm(formdata=None).setup(organisations, existing), existing


@bp.route("/opportunities/<uid>")
@cache.anonymous_page("pipeline")
def item(uid: str):
    it = services.published_item(uid) or abort(404)
    version = it.plan_version
    municipality_filter = services.Filters(municipality=it.municipality.code)
    is_open = services.item_is_open(it)
    form, existing = _interest_form(is_open, plan_item_uid=it.uid)
    return render_template(
        "public/item.html", item=it, opportunity=services.Opportunity.from_plan_item(it),
        version=version, status=review_status(version), cpv_codes=services.item_cpv_codes(it),
        feed_links=_feed_links(municipality_filter),
        municipality_url=url_for("public.opportunities", **municipality_filter.query()),
        is_open=is_open, interested=engagement.interested_count(plan_item_uid=it.uid),
        lots=[] if is_open else services.lots_of_item(it.uid),
        interest_form=form, own_interest=existing, withdraw_form=WithdrawForm(next=request.path),
        officer_view=can(current_user, "tender.view_draft", it.municipality),
    )


@bp.route("/opportunities/lots/<int:lot_id>")
@cache.anonymous_page("pipeline")
def lot(lot_id: int):
    lt = services.public_lot(lot_id) or abort(404)
    tender = lt.tender
    municipality_filter = services.Filters(municipality=lt.municipality.code)
    is_open = services.lot_is_open(lt)
    form, existing = _interest_form(is_open, lot=lt)
    return render_template(
        "public/lot.html", lot=lt, tender=tender, opportunity=services.Opportunity.from_lot(lt),
        cpv_codes=services.lot_cpv_codes(lt), notice=services.lot_notice(lt), is_open=is_open,
        interested=engagement.interested_count(lot=lt), interest_form=form, own_interest=existing,
        withdraw_form=WithdrawForm(next=request.path),
        officer_view=can(current_user, "tender.view_draft", lt.municipality),
        feed_links=_feed_links(municipality_filter),
        municipality_url=url_for("public.opportunities", **municipality_filter.query()),
    )


@bp.route("/opportunities/frameworks/<int:framework_id>")
@cache.anonymous_page("pipeline")
def framework(framework_id: int):
    """The public facts of a framework agreement (its page for officers needs a login)."""
    fa = services.public_framework(framework_id) or abort(404)
    from srpp.frameworks.models import ParticipantState

    participants = [p.municipality for p in fa.participants if p.state != ParticipantState.WITHDRAWN]
    return render_template(
        "public/framework.html", fa=fa, opportunity=services.Opportunity.from_framework(fa),
        is_open=services.framework_is_open(fa), participants=participants,
        parties=[p.supplier for p in fa.parties],
        officer_view=can(current_user, "framework.view"),
    )


def _feed_filters() -> services.Filters | Response:
    _lookups, filters = _filters()
    if filters.errors:
        message = "\n".join([_("The feed could not be made from these filters:"), *filters.errors.values()])
        return Response(message + "\n", status=400, content_type="text/plain; charset=utf-8")
    return filters


@bp.route("/opportunities.atom")
@cache.anonymous_page("pipeline")
def atom():
    filters = _feed_filters()
    if isinstance(filters, Response):
        return filters
    body = feeds.atom(services.feed_opportunities(filters, default_sort="newest"), filters)
    return Response(body, content_type=feeds.ATOM_TYPE)


@bp.route("/opportunities.ics")
@cache.anonymous_page("pipeline")
def ics():
    filters = _feed_filters()
    if isinstance(filters, Response):
        return filters
    body = feeds.icalendar(services.feed_opportunities(filters), filters)
    resp = Response(body, content_type=feeds.ICS_TYPE)
    resp.headers["Content-Disposition"] = 'inline; filename="opportunities.ics"'
    return resp


def _opportunity_columns() -> list[exports.Column]:
    def only(kind: str, value):
        return lambda o: value(o) if o.kind == kind else None

    return [
        exports.Column(_("Kind"), lambda o: o.kind_label, width=22),
        exports.Column(_("Title"), lambda o: o.title, width=48),
        exports.Column(_("Tender"), lambda o: o.tender_title, width=36),
        exports.Column(_("Municipality"), lambda o: o.municipality.name),
        exports.Column(_("Service category"), lambda o: o.category.name if o.category else None),
        exports.Column(_("Priority area"), lambda o: o.priority_area.label if o.priority_area else None),
        exports.Column(_("Launch month"), only("plan_item", lambda o: o.month), exports.MONTH),
        exports.Column(_("Submission deadline"), lambda o: o.deadline, exports.DATE),
        exports.Column(_("Published"), lambda o: o.published_on, exports.DATE),
        exports.Column(_("Open to new suppliers until"), lambda o: o.until, exports.DATE),
        exports.Column(_("Estimated value"), lambda o: o.value, exports.DECIMAL),
        exports.Column(_("Contract duration (months)"), lambda o: o.duration_months, exports.INT),
        exports.Column(_("Procedure"), lambda o: o.procedure.label if o.procedure else None),
        exports.Column(_("Reservation"), lambda o: o.reservation.plain_words, width=40),
        exports.Column(_("Link"), lambda o: o.external_url(), width=40),
    ]


@bp.route("/opportunities.<any(csv, xlsx):fmt>")
def opportunities_export(fmt: str):
    """Every opportunity the page lists with these filters (all pages, the page's sort); like the page,
    a filter that is not valid is left out."""
    _lookups, filters = _filters()
    name = exports.filename("opportunities", filters.municipality, filters.category,
                            filters.area.value if filters.area else None, filters.quarter,
                            "reserved" if filters.reserved else None, ext=fmt)
    return exports.response(fmt, _opportunity_columns(), services.all_opportunities(filters), name,
                            sheet=_("Opportunities"))


# --- saved searches ----------------------------------------------------------------------------

@bp.route("/saved-searches")
@permission_required("search.save")
def saved_searches():
    lookups = services.FilterLookups.load()
    rows = []
    for s in services.searches_for(current_user):
        filters = services.parse_filters(services.query_args(s.query), lookups)
        rows.append((s, services.describe(filters, lookups), filters))
    return render_template("public/saved_searches.html", rows=rows, delete_form=DeleteSearchForm())


@bp.route("/saved-searches", methods=["POST"])
@permission_required("search.save")
def save_search():
    form = SaveSearchForm()
    query = form.query.data or ""
    back = url_for("public.opportunities", **services.query_args(query))
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(_("The search was not saved: %(problem)s", problem=message), "error")
        return redirect(back)
    try:
        search = services.save_search(current_user, form.name.data, query)
        db.session.commit()
    except DomainError as err:
        db.session.rollback()
        flash(err.message, "error")
        return redirect(back)
    flash(_("The search “%(name)s” was saved. You will get an e-mail when new matching items are published.",
            name=search.name), "success")
    return redirect(url_for("public.saved_searches"))


@bp.route("/saved-searches/<int:search_id>/delete", methods=["POST"])
@permission_required("search.save")
def delete_search(search_id: int):
    search = db.get_or_404(SavedSearch, search_id)
    form = DeleteSearchForm()
    if not form.validate_on_submit():
        abort(400)
    name = search.name
    services.delete_search(current_user, search)
    db.session.commit()
    flash(_("The search “%(name)s” was deleted.", name=name), "success")
    return redirect(url_for("public.saved_searches"))
