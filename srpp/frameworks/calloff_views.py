"""Call-offs, opt-outs and the framework dashboards (coordinator and council)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from srpp.core import charts
from srpp.core.errors import DomainError
from srpp.core.i18n import date as format_day
from srpp.core.i18n import money
from srpp.core.permissions import can, permission_required
from srpp.core.web import page_arg, paginate
from srpp.extensions import db
from srpp.frameworks import services
from srpp.frameworks.calloff_forms import CallOffForm, OptOutForm, YearForm
from srpp.frameworks.models import CallOff, FrameworkAgreement, FrameworkParticipant, ParticipantState
from srpp.orgs import services as org_services
from srpp.orgs.models import PriorityArea
from srpp.region.services import percent, whole_money

bp = Blueprint("calloffs", __name__, url_prefix="/frameworks")

PER_PAGE = 25


# --- helpers ---------------------------------------------------------------------------------------

def _acting_participants(fa: FrameworkAgreement) -> list[FrameworkParticipant]:
    """The participants the current user may place call-offs for (an officer: their own
    municipality; an admin: every participant that has not withdrawn)."""
    if not current_user.is_authenticated:
        return []
    return [p for p in fa.participants
            if p.state != ParticipantState.WITHDRAWN and can(current_user, "calloff.place", p.municipality)]


def _share(part: Decimal, whole: Decimal | None) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"))


def _month_label(key: str) -> str:
    month = dt.date(int(key[:4]), int(key[5:7]), 1)
    return format_date(month, "LLL") + "\n" + str(month.year)


def _colours() -> dict[int, str]:
    """Each municipality keeps its colour across charts (its position in the region)."""
    return {m.id: charts.palette_colour(n) for n, m in enumerate(org_services.municipalities())}


def consumption_chart(fa: FrameworkAgreement) -> charts.Chart:
    """Cumulative committed value per municipality at the end of each month with call-offs."""
    by_month = services.consumption_by_month(fa)
    months = sorted(by_month)
    municipalities = {p.municipality.short_name_en: p.municipality for p in fa.participants}
    for c in fa.call_offs:  # a municipality no longer listed as participant still has its history
        municipalities.setdefault(c.municipality.short_name_en, c.municipality)
    names = [n for n in municipalities if any(n in by_month[m] for m in months)]
    colours = _colours()
    series = [charts.Series(municipalities[n].short_name,
                            [by_month[m].get(n, Decimal(0)) for m in months],
                            colours.get(municipalities[n].id)) for n in names]
    return charts.line_chart(
        [_month_label(m) for m in months], series,
        title=_("Cumulative committed value per municipality"),
        desc=_("The value of the call-offs each municipality has placed under %(code)s, added up month by month. "
               "Total committed: %(total)s of the maximum %(max)s.", code=fa.code,
               total=money(services.committed_total(fa)), max=money(fa.max_value)),
        fmt=money, axis_fmt=whole_money, key="consumption", period_header=_("Month"),
    )


def cap_chart(fa: FrameworkAgreement, figures: list[services.ParticipantFigures], year: int) -> charts.Chart:
    """Per municipality a column as high as its cap: committed, and what is left of the cap."""
    periods = [f.participant.municipality.short_name for f in figures]
    committed = [f.committed for f in figures]
    remaining = [max(f.remaining, Decimal(0)) if f.remaining is not None else None for f in figures]
    return charts.stacked_column_chart(
        periods, [charts.Series(_("Committed"), committed, charts.PALETTE[0]),
                  charts.Series(_("Left of the cap"), remaining, "#94a3b8")],
        title=_("Committed and left of the cap per municipality, %(year)s", year=year),
        desc=_("Each column is as high as the municipality's %(year)s budget cap on %(code)s; the lower part is "
               "the value already committed by call-offs awarded in %(year)s.", year=year, code=fa.code),
        fmt=money, axis_fmt=whole_money, key="caps", period_header=_("Municipality"), total_header=_("Cap"),
    )


def _year_choices(fa: FrameworkAgreement, today: dt.date) -> list[int]:
    years = {c.year for p in fa.participants for c in p.caps} | {today.year}
    return sorted(years)


# --- call-offs -------------------------------------------------------------------------------------

def _prefill(form: CallOffForm, fa: FrameworkAgreement, supplier_id: int | None, today: dt.date) -> None:
    """Defaults for a new call-off: today, the rest of the year, the supplier's scheduled unit price."""
    form.awarded_on.data = today
    form.start_date.data = today
    form.end_date.data = min(dt.date(today.year, 12, 31), max(fa.end_date, today))
    line = next((p for p in fa.prices if p.supplier_id == supplier_id), None)
    if line is not None:
        form.unit.data = line.unit
        form.unit_price.data = format(line.unit_price, "f")


@bp.route("/<int:framework_id>/call-offs/new", methods=["GET", "POST"])
@login_required
def new_call_off(framework_id: int):
    fa = db.get_or_404(FrameworkAgreement, framework_id)
    acting = _acting_participants(fa)
    if not acting:
        abort(403)  # not a participant (or no right to act for one): no form
    form = CallOffForm()
    form.municipality_id.choices = [(p.municipality_id, p.municipality.name) for p in acting]
    form.supplier_id.choices = [(s.supplier_id, s.supplier.legal_name) for s in fa.parties]
    refusal: list[services.Problem] = []
    today = dt.date.today()
    if request.method == "GET":
        chosen = request.args.get("supplier_id", type=int)
        supplier_id = chosen if any(s.supplier_id == chosen for s in fa.parties) else (
            fa.parties[0].supplier_id if fa.parties else None)
        form.supplier_id.data = supplier_id
        wanted = request.args.get("municipality", type=int)
        form.municipality_id.data = wanted if any(p.municipality_id == wanted for p in acting) else \
            acting[0].municipality_id
        _prefill(form, fa, supplier_id, today)
    elif form.validate_on_submit():
        participant = next(p for p in acting if p.municipality_id == form.municipality_id.data)
        try:
            call_off = services.place_call_off(current_user, fa.id, participant.municipality, form.to_input())
        except services.Refused as err:
            db.session.rollback()
            refusal = err.problems
            for problem in err.problems:
                target = getattr(form, problem.field, None) if problem.field else None
                if target is not None:
                    target.errors = [*list(target.errors or []), problem.message]
        except DomainError as err:
            db.session.rollback()
            refusal = [services.Problem(err.message, err.field)]
        else:
            db.session.commit()
            flash(_("The call-off of %(value)s for %(m)s was placed; its contract was recorded.",
                    value=money(call_off.value), m=participant.municipality.name), "success")
            return redirect(url_for("calloffs.dashboard", framework_id=fa.id, year=call_off.awarded_on.year))
        fa = db.get_or_404(FrameworkAgreement, framework_id)  # reloaded after the rollback
    year = form.awarded_on.data.year if isinstance(form.awarded_on.data, dt.date) else today.year
    acting_ids = {p.municipality_id for p in _acting_participants(fa)}
    figures = [f for f in services.participant_figures(fa, year) if f.participant.municipality_id in acting_ids]
    return render_template("frameworks/calloff_new.html", fa=fa, form=form, refusal=refusal, figures=figures,
                           year=year, committed_total=services.committed_total(fa))


# --- opt-outs --------------------------------------------------------------------------------------

@bp.route("/participants/<int:participant_id>/opt-out", methods=["POST"])
@login_required
def opt_out(participant_id: int):
    participant = db.get_or_404(FrameworkParticipant, participant_id)
    fa = participant.framework
    if not can(current_user, "calloff.place", participant.municipality):
        abort(403)
    form = OptOutForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        effective = services.request_opt_out(current_user, participant, dt.date.today())
        db.session.commit()
    except DomainError as err:
        db.session.rollback()
        flash(err.message, "error")
    else:
        flash(_("%(m)s's opt-out from %(code)s was requested. With a notice period of %(days)s days it takes "
                "effect on %(day)s: from then on no new call-offs, existing ones run to their end.",
                m=participant.municipality.name, code=fa.code, days=participant.opt_out_notice_days,
                day=format_day(effective)), "success")
    return redirect(url_for("calloffs.dashboard", framework_id=fa.id))


# --- dashboards ------------------------------------------------------------------------------------

@bp.route("/<int:framework_id>/dashboard")
@permission_required("framework.view")
def dashboard(framework_id: int):
    fa = db.get_or_404(FrameworkAgreement, framework_id)
    today = dt.date.today()
    years = _year_choices(fa, today)
    year_form = YearForm(request.args)
    year_form.year.choices = [(y, str(y)) for y in years]
    year = year_form.year.data if year_form.year.data in years else today.year
    year_form.year.data = year
    figures = services.participant_figures(fa, year)
    committed = services.committed_total(fa)
    page = paginate(select(CallOff).where(CallOff.framework_id == fa.id)
                    .order_by(CallOff.awarded_on.desc(), CallOff.id.desc()), page_arg(), PER_PAGE)
    acting = {p.id for p in _acting_participants(fa)}
    latest = fa.spec_versions[-1] if fa.spec_versions else None
    return render_template(
        "frameworks/dashboard_framework.html", fa=fa, year=year, year_form=year_form, figures=figures,
        committed=committed, share=_share(committed, fa.max_value), percent=percent,
        cap_share={f.participant.id: _share(f.committed, f.cap) for f in figures},
        consumption=consumption_chart(fa), caps=cap_chart(fa, figures, year),
        pending=services.pending_acknowledgements(fa), latest=latest,
        opt_outs=[p for p in services.upcoming_opt_outs(today) if p.framework_id == fa.id],
        page=page, acting=acting, can_place=bool(acting), opt_out_form=OptOutForm(),
    )


class OverviewRow:
    def __init__(self, fa: FrameworkAgreement) -> None:
        self.fa = fa
        self.committed = services.committed_total(fa)
        self.share = _share(self.committed, fa.max_value)
        self.participants = [p for p in fa.participants if p.state != ParticipantState.WITHDRAWN]
        self.pending = services.pending_acknowledgements(fa)
        self.opt_outs = [p for p in fa.participants if p.state == ParticipantState.OPT_OUT_REQUESTED]


@bp.route("/overview")
@permission_required("framework.view")
def overview():
    frameworks = db.session.scalars(select(FrameworkAgreement).order_by(FrameworkAgreement.code)).all()
    by_area = services.frameworks_by_area()
    targets = [(PriorityArea(area), by_area.get(area, 0)) for area in services.TARGET_AREAS]
    others = [(PriorityArea(area), n) for area, n in by_area.items() if area not in services.TARGET_AREAS and n]
    return render_template(
        "frameworks/dashboard_overview.html", rows=[OverviewRow(fa) for fa in frameworks], targets=targets,
        others=others, targets_met=sum(1 for _a, n in targets if n >= 1), on_time=services.opt_outs_on_time_share(),
        percent=percent,
    )
