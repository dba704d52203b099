"""Indicator pages: the registry by group with the latest region values and traffic lights, an
indicator's page (definition, thresholds the council edits, values per municipality and half-year
with a chart), the page of one value with the records behind it, and the on-demand recompute.
Thin views over srpp.kpis.services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from srpp.core import charts, jobs
from srpp.core.errors import DomainError
from srpp.core.forms import apply_domain_error
from srpp.core.i18n import number
from srpp.core.permissions import can, permission_required
from srpp.extensions import db
from srpp.kpis import services
from srpp.kpis.forms import RecomputeForm, ThresholdForm
from srpp.kpis.models import Indicator, IndicatorSource
from srpp.orgs import services as org_services
from srpp.orgs.models import Municipality
from srpp.payments.calc import half_year_label, parse_half_year

bp = Blueprint("kpis", __name__, url_prefix="/indicators")

STATUS_MARKS = {"green": "✓", "amber": "!", "red": "✗", "none": "–"}
STATUS_BADGES = {"green": "badge-ok", "amber": "badge-warn", "red": "badge-bad", "none": ""}


# --- template filters (also for the dashboards and the public scoreboard) ------------------------------

@bp.app_template_filter("kpi_value")
def _kpi_value(value: Decimal | None, unit: str) -> str:
    return services.format_value(unit, value)


@bp.app_template_filter("kpi_status")
def _kpi_status(status: str) -> str:
    return str(services.STATUS_LABELS.get(status, status))


@bp.app_template_filter("kpi_period")
def _kpi_period(start: dt.date) -> str:
    return half_year_label(start)


@bp.app_template_filter("kpi_status_class")
def _kpi_status_class(status: str) -> str:
    return STATUS_BADGES.get(status, "")


@bp.app_template_filter("kpi_status_mark")
def _kpi_status_mark(status: str) -> str:
    return STATUS_MARKS.get(status, "")


# --- helpers ----------------------------------------------------------------------------------------

def _indicator(code: str) -> Indicator:
    ind = services.get_indicator(code)
    if ind is None:
        abort(404)
    return ind


def _period_key(start: dt.date) -> str:
    return f"{start.year}H{1 if start.month == 1 else 2}"


def _trend_chart(ind: Indicator, spans, grid, municipalities: list[Municipality]) -> charts.Chart:
    labels = [half_year_label(s) for s, _e in spans]
    series = [charts.Series(_("Region"), [grid[("region", s)].value if ("region", s) in grid else None
                                          for s, _e in spans], charts.palette_colour(0))]
    for n, m in enumerate(municipalities, start=1):
        key = f"m:{m.id}"
        series.append(charts.Series(m.short_name, [grid[(key, s)].value if (key, s) in grid else None
                                                   for s, _e in spans], charts.palette_colour(n)))
    markers = [charts.Marker(ind.target, _("Target"))] if ind.target is not None else []
    return charts.line_chart(
        labels, series, title=_("%(name)s by half-year", name=ind.name),
        desc=_("One line for the region and one for each municipality, over the last %(n)s half-years. "
               "The dashed line is the target, when the council has set one.", n=len(spans)),
        fmt=lambda v: services.format_value(ind.unit, v), axis_fmt=lambda v: number(v),
        markers=markers, key=f"kpi-{ind.code}", period_header=_("Half-year"))


def _indicator_page(ind: Indicator, form: ThresholdForm | None, status: int = 200):
    spans = services.periods()
    grid = services.value_grid(ind, spans)
    municipalities = org_services.municipalities()
    latest = next((grid[("region", s)] for s, _e in reversed(spans) if ("region", s) in grid), None)
    rows = [(None, _("Whole region"), "region")] + [(m, m.name, f"m:{m.id}") for m in municipalities]
    return render_template(
        "kpis/indicator.html", ind=ind, form=form, spans=spans, grid=grid, rows=rows, latest=latest,
        records=services.describe_records(latest) if ind.source == IndicatorSource.COMPUTED else [],
        chart=_trend_chart(ind, spans, grid, municipalities), period_key=_period_key,
        unit_label=services.UNIT_LABELS.get(ind.unit, ind.unit), period_label=services.PERIOD_LABELS.get(ind.period),
        reported_by=services.REPORTED_BY_LABELS.get(ind.reported_by or ""),
        amber_text=services.threshold_text(ind, "amber"), red_text=services.threshold_text(ind, "red"),
    ), status


# --- pages --------------------------------------------------------------------------------------------

@bp.get("/")
@permission_required("indicator.view")
def index():
    items = services.indicators()
    computed = sum(1 for i in items if i.source == IndicatorSource.COMPUTED)
    return render_template("kpis/index.html", groups=services.by_group(items), latest=services.latest_region_values(),
                           total=len(items), computed=computed, form=RecomputeForm())


@bp.post("/recompute")
@permission_required("indicator.recompute")
def recompute():
    if not RecomputeForm().validate():
        abort(400)
    from workers.tasks.kpis import recompute as task

    job = jobs.submit(task, payload={"periods": "current and previous half-year"}, actor=current_user)
    db.session.refresh(job)
    if job.state.value == "done":
        flash(_("The computed indicators were recomputed for the current and the previous half-year."), "success")
    elif job.state.value == "failed":
        flash(_("The recompute failed: %(error)s", error=job.error or "?"), "error")
    else:
        flash(_("The recompute was started; the values are updated when a worker has finished it."), "info")
    return redirect(url_for("kpis.index"))


@bp.get("/<code>")
@permission_required("indicator.view")
def indicator(code: str):
    ind = _indicator(code)
    form = ThresholdForm(obj=ind) if can(current_user, "indicator.edit", ind) else None
    return _indicator_page(ind, form)


@bp.post("/<code>/thresholds")
@permission_required("indicator.edit")
def thresholds(code: str):
    ind = _indicator(code)
    form = ThresholdForm()
    if form.validate_on_submit():
        try:
            services.set_thresholds(current_user, ind, form.thresholds(), form.version.data)
            db.session.commit()
        except services.ThresholdsRefused as err:
            db.session.rollback()
            for problem in err.problems:
                apply_domain_error(form, problem)
        except DomainError as err:
            db.session.rollback()
            apply_domain_error(form, err)
        else:
            flash(_("The target and thresholds of %(code)s were saved.", code=ind.code), "success")
            return redirect(url_for("kpis.indicator", code=ind.code) + "#thresholds")
    return _indicator_page(ind, form)


@bp.get("/<code>/<period>/<scope>")
@permission_required("indicator.view")
def value(code: str, period: str, scope: str):
    """One value (``scope``: ``region`` or a municipality code) with the records behind it."""
    ind = _indicator(code)
    span = parse_half_year(period)
    if span is None:
        abort(404)
    municipality = None
    if scope != "region":
        municipality = org_services.municipality_by_code(scope.upper())
        if municipality is None:
            abort(404)
    v = services.get_value(ind, span[0], municipality)
    return render_template("kpis/value.html", ind=ind, v=v, span=span, municipality=municipality,
                           where=municipality.name if municipality else _("Whole region"),
                           records=services.describe_records(v), period_key=_period_key,
                           more=services.detail_rows(ind, v),
                           status=ind.status(v.value if v else None))


from srpp.kpis import dashboards  # noqa: E402,F401  (issue 8: the dashboards and the public scoreboard)
