"""Indicator dashboards on the "kpis" blueprint (imported at the end of srpp/kpis/views.py):

- ``/indicators/dashboard``: the council's dashboard (regional readers and municipal staff): every
  indicator with its traffic light, the latest half-year value for the region (or a municipality,
  ``?municipality=CODE``), the trend over four half-years, a comparison across the municipalities for
  one indicator (``?indicator=CODE``), a group filter (``?group=``); red indicators link to the risks
  that monitor them; the council generates the annual impact report from here;
- ``/indicators/municipalities/<code>``: one municipality's dashboard (its staff, regional readers);
- ``/indicators/scoreboard``: the public progress scoreboard (risk 2.2): the programme targets and the
  published indicators' regional values. Aggregates only, no personal data.

Thin views: the values come from srpp/kpis/overview.py (stored values), the targets and risks from
srpp/risks/services.py, the report from srpp/documents/services.py."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import SelectField

from srpp.auth.models import User
from srpp.core import cache, charts
from srpp.core.errors import DomainError
from srpp.core.i18n import number
from srpp.core.permissions import PermissionDenied, can, permission_required, regional_reader, rule
from srpp.documents import services as documents
from srpp.documents import subjects
from srpp.documents.kinds import KINDS
from srpp.documents.models import GeneratedDocument
from srpp.extensions import db
from srpp.kpis import impact, overview
from srpp.kpis import services as kpis
from srpp.kpis.models import Indicator, IndicatorGroup
from srpp.kpis.overview import REGION, HalfYear, Row
from srpp.kpis.views import bp
from srpp.orgs import services as org_services
from srpp.orgs.models import Municipality

REGION_COLOUR = "#475569"
REPORT_LANGUAGES = [("lt", "Lietuvių"), ("en", "English")]


# --- permissions ---------------------------------------------------------------------------------------------

@rule("kpi_dashboard.municipality")
def _municipality_dashboard(user: User, municipality: Any) -> bool:
    """A municipality's indicator dashboard: the regional readers and the municipality's own staff."""
    if regional_reader(user):
        return True
    return municipality is not None and municipality.id in user.municipality_ids()


# --- forms ---------------------------------------------------------------------------------------------------

class ImpactReportForm(FlaskForm):
    year = SelectField(_l("Year"), choices=[], coerce=int, validate_choice=True)
    language = SelectField(_l("Language"), choices=REPORT_LANGUAGES)


def _report_years(today: dt.date | None = None) -> list[int]:
    """Years with values (newest first); at least the current one."""
    today = today or dt.date.today()
    years = [y for y in overview.years_with_values() if impact.FIRST_YEAR <= y <= today.year]
    return years or [today.year]


def _report_form(formdata: Any = None) -> ImpactReportForm:
    form = ImpactReportForm(formdata=formdata)
    form.year.choices = [(y, str(y)) for y in _report_years()]
    if formdata is None:
        form.year.data = form.year.choices[0][0]
        locale = str(get_locale() or "lt")
        form.language.data = locale if locale in ("lt", "en") else "lt"
    return form


def _impact_documents(actor: User, years: list[int]) -> list[GeneratedDocument]:
    docs = db.session.scalars(select(GeneratedDocument).where(
        GeneratedDocument.kind == "impact_report", GeneratedDocument.subject_type == "impact_year",
        GeneratedDocument.subject_id.in_(years)).order_by(GeneratedDocument.id.desc()).limit(10))
    return [d for d in docs if can(actor, "document.view", d)]


# --- sparkline ---------------------------------------------------------------------------------------------

@dataclass
class Spark:
    """A small line of a row's values over the half-years (drawn with aria-hidden: the values are
    also in the row's text, see ``label``)."""

    width: int
    height: int
    paths: list[str] = field(default_factory=list)
    dots: list[tuple[str, str]] = field(default_factory=list)
    label: str = ""


def sparkline(row: Row, width: int = 96, height: int = 26) -> Spark:
    nums = row.numbers
    present = [n for n in nums if n is not None]
    spark = Spark(width, height)
    spark.label = "; ".join(f"{p.label}: {row.shown(v)}" for p, v in zip(row.periods, row.values, strict=True))
    if not present:
        return spark
    lo, hi = min(present), max(present)
    span = hi - lo
    pad = Decimal(3)
    step = (Decimal(width) - 2 * pad) / max(len(nums) - 1, 1)
    current: list[str] = []
    for i, n in enumerate(nums):
        if n is None:
            if current:
                spark.paths.append(" ".join(current))
            current = []
            continue
        x = pad + step * i
        y = Decimal(height) / 2 if span == 0 else pad + (hi - n) / span * (Decimal(height) - 2 * pad)
        xy = (f"{x.quantize(Decimal('0.1'))}", f"{Decimal(y).quantize(Decimal('0.1'))}")
        current.append(",".join(xy))
        spark.dots.append(xy)
    if current:
        spark.paths.append(" ".join(current))
    return spark


# --- shared pieces --------------------------------------------------------------------------------------------

def _period(today: dt.date) -> tuple[HalfYear, list[HalfYear]]:
    """The half-year shown (``?period=2026H1``, else the latest with values) and the four ending with it."""
    latest = overview.latest_period(today) or HalfYear.of(today)
    chosen = HalfYear.parse(request.args.get("period"))
    if chosen is None or chosen.start > today or chosen.start.year < 2000:
        if request.args.get("period"):
            flash(_("There is no half-year “%(value)s” to show (write it like %(example)s); showing %(period)s.",
                    value=(request.args.get("period") or "")[:20], example=latest.key, period=latest.label),
                  "warning")
        chosen = latest
    return chosen, overview.periods_ending(chosen)


def _group() -> IndicatorGroup | None:
    raw = (request.args.get("group") or "").strip()
    try:
        return IndicatorGroup(raw) if raw else None
    except ValueError:
        return None


def _chosen_row(rows: list[Row]) -> Row | None:
    """The indicator of the comparison chart: ``?indicator=CODE``, else the first red one, else the
    first with a value."""
    code = (request.args.get("indicator") or "").strip()
    by_code = {r.code: r for r in rows}
    if code in by_code:
        return by_code[code]
    return (next((r for r in rows if r.status == "red"), None)
            or next((r for r in rows if r.latest is not None), None) or (rows[0] if rows else None))


def _fmt(ind: Indicator):
    return lambda v: kpis.format_value(ind.unit, v)


def _axis(v: Decimal) -> str:
    return number(v)


def comparison_chart(row: Row, period: HalfYear, municipalities: list[Municipality],
                     highlight: Municipality | None = None) -> charts.Chart:
    """One bar per municipality for the indicator in the half-year; red ones in the warning colour
    and said in words."""
    ind = row.indicator
    data = []
    for m, v in overview.comparison(ind, period, municipalities):
        name = m.short_name + (" ◀" if highlight is not None and m.id == highlight.id else "")
        if v is None or v.value is None:
            data.append(charts.Datum(name, None, text=_("no value")))
            continue
        status = ind.status(v.value)
        text = f"{kpis.format_value(ind.unit, v.value)} · {kpis.STATUS_LABELS[status]}"
        data.append(charts.Datum(name, v.value, text=text, warn=status == "red"))
    markers = [charts.Marker(ind.target, _("Target"))] if ind.target is not None else []
    return charts.bar_chart(
        data, title=_("%(code)s %(name)s by municipality, %(period)s", code=ind.code, name=ind.name,
                      period=period.label),
        desc=_("One bar per municipality: the value of %(code)s in %(period)s with its status. Red bars are off "
               "track; the dashed line is the target.", code=ind.code, period=period.label),
        fmt=_fmt(ind), markers=markers, marker_fmt=_fmt(ind), key="kpi-comparison",
        label_header=_("Municipality"), value_header=ind.name)


def trend_chart(row: Row, periods: list[HalfYear], region_name: str, municipality: Municipality | None,
                municipalities: list[Municipality]) -> charts.Chart:
    ind = row.indicator
    scopes = [REGION] + ([overview.scope_key(municipality)] if municipality is not None else [])
    values = overview.series(ind, scopes, periods)
    series = [charts.Series(region_name, values[REGION], REGION_COLOUR)]
    if municipality is not None:
        colour = next((charts.palette_colour(n) for n, m in enumerate(municipalities) if m.id == municipality.id),
                      None)
        series.append(charts.Series(municipality.short_name, values[overview.scope_key(municipality)], colour))
    labels = [p.label for p in periods]
    markers = [charts.Marker(ind.target, _("Target"))] if ind.target is not None else []
    return charts.line_chart(
        labels, series, title=_("%(code)s %(name)s, %(first)s – %(last)s", code=ind.code, name=ind.name,
                                first=labels[0], last=labels[-1]),
        desc=_("The value of %(code)s in each half-year. The dashed line is the target, when the council has set "
               "one.", code=ind.code),
        fmt=_fmt(ind), axis_fmt=_axis, markers=markers, key="kpi-trend", period_header=_("Half-year"))


def _alert_risk_ids() -> set[int]:
    """The risks whose monitoring indicators are red now (cached until a value, an indicator or a risk
    changes: ``overview.CACHE_NS``)."""
    from srpp.risks import services as risks

    return set(cache.memo(overview.CACHE_NS, "alert-risk-ids", lambda: sorted(risks.current_alerts()),
                          ttl=overview.CACHE_TTL))


def _region_name(municipalities: list[Municipality]) -> str:
    region = municipalities[0].region if municipalities else None
    return region.name if region else _("Whole region")


# --- the council's dashboard ----------------------------------------------------------------------------------

@bp.get("/dashboard")
@permission_required("indicator.view")
def dashboard():
    today = dt.date.today()
    municipalities = org_services.municipalities()
    code = (request.args.get("municipality") or "").strip().upper()
    municipality = org_services.municipality_by_code(code) if code else None
    if code and municipality is None:
        flash(_("There is no municipality “%(code)s”; showing the whole region.", code=code[:20]), "warning")
    period, periods = _period(today)
    group = _group()
    scope = overview.scope_key(municipality)
    rows = overview.board(scope, periods, group)
    chosen = _chosen_row(rows)
    region_name = _region_name(municipalities)
    compare_period = (chosen.latest_period if chosen is not None and chosen.latest_period else period)
    report_form = _report_form() if can(current_user, "impact.report") else None
    years = _report_years()
    return render_template(
        "kpis/dashboard.html", rows=rows, groups=overview.grouped(rows), counts=overview.counts(rows),
        municipalities=municipalities, municipality=municipality, group=group, all_groups=list(IndicatorGroup),
        period=period, periods=periods, chosen=chosen, region_name=region_name,
        choices=[(p.key, p.label) for p in reversed(overview.periods_with_values(today))] or [(period.key, period.label)],
        comparison=comparison_chart(chosen, compare_period, municipalities, municipality) if chosen else None,
        compare_period=compare_period,
        trend=trend_chart(chosen, periods, region_name, municipality, municipalities) if chosen else None,
        sparkline=sparkline, alert_ids=_alert_risk_ids(), report_form=report_form,
        reports=_impact_documents(current_user, years) if report_form is not None else [],
        scope_name=municipality.name if municipality else region_name)


@bp.post("/dashboard/report")
@permission_required("impact.report")
def impact_report():
    """Generate the annual impact report for a year: the job page follows the worker."""
    form = _report_form(request.form)
    if not form.validate_on_submit():
        flash(_("Choose a year and a language for the report."), "error")
        return redirect(url_for("kpis.dashboard") + "#h-report")
    subject = subjects.load("impact_year", form.year.data)
    if subject is None:
        abort(404)
    try:
        doc = documents.request_document(current_user, KINDS["impact_report"], subject, form.language.data)
    except DomainError as err:
        db.session.rollback()
        flash(err.message, "error")
        return redirect(url_for("kpis.dashboard") + "#h-report")
    flash(_("The annual report for %(year)s is being generated; this page shows when it is ready.",
            year=str(form.year.data)), "success")
    return redirect(url_for("documents.show", document_id=doc.id))


# --- a municipality's dashboard --------------------------------------------------------------------------------

@bp.get("/municipalities/<code>")
@permission_required("indicator.view")
def municipality_dashboard(code: str):
    municipality = org_services.municipality_by_code(code.upper())
    if municipality is None:
        abort(404)
    if not can(current_user, "kpi_dashboard.municipality", municipality):
        raise PermissionDenied("kpi_dashboard.municipality")
    today = dt.date.today()
    municipalities = org_services.municipalities()
    period, periods = _period(today)
    group = _group()
    rows = overview.board(overview.scope_key(municipality), periods, group)
    region_rows = {r.code: r for r in overview.board(REGION, periods, group, with_risks=False)}
    chosen = _chosen_row(rows)
    region_name = _region_name(municipalities)
    return render_template(
        "kpis/dashboard_municipality.html", rows=rows, groups=overview.grouped(rows), region_rows=region_rows,
        counts=overview.counts(rows), municipality=municipality, group=group, all_groups=list(IndicatorGroup),
        period=period, periods=periods, chosen=chosen, region_name=region_name,
        choices=[(p.key, p.label) for p in reversed(overview.periods_with_values(today))] or [(period.key, period.label)],
        trend=trend_chart(chosen, periods, region_name, municipality, municipalities) if chosen else None,
        sparkline=sparkline, alert_ids=_alert_risk_ids(), reporting=can(current_user, "reporting.view"))


# --- the public scoreboard ------------------------------------------------------------------------------------

@dataclass
class Published:
    """A published indicator on the scoreboard: its latest regional value (aggregate only)."""

    value: kpis.PublicValue
    period: HalfYear
    trend: list[Decimal | None]


def _published(today: dt.date) -> tuple[list[Published], list[HalfYear]]:
    """Each public indicator's latest regional value among the last four half-years with values."""
    starts = overview.periods_with_values(today)
    if not starts:
        return [], []
    periods = overview.periods_ending(starts[-1])
    by_code: dict[str, kpis.PublicValue] = {}
    trends: dict[str, dict[dt.date, Decimal | None]] = {}
    for p in periods:
        for pv in kpis.public_values((p.start, p.end)):
            if pv.value is not None or pv.code not in by_code:
                by_code[pv.code] = pv  # a later half-year's value replaces an earlier one
            trends.setdefault(pv.code, {})[p.start] = pv.value
    order = {i.code: n for n, i in enumerate(overview.indicators(public_only=True))}
    out = [Published(pv, HalfYear.of(pv.period_start), [trends[code].get(p.start) for p in periods])
           for code, pv in by_code.items() if any(v is not None for v in trends[code].values())]
    out.sort(key=lambda x: order.get(x.value.code, 0))
    return out, periods


@bp.get("/scoreboard")
def scoreboard():
    """Public: no login. The regional programme targets and the published indicators (no personal data)."""
    from srpp.risks import services as risks

    today = dt.date.today()
    published, periods = _published(today)
    groups: dict[IndicatorGroup, list[Published]] = {}
    for p in published:
        groups.setdefault(p.value.group, []).append(p)
    targets = risks.targets_by_horizon(today)
    statuses = [t for _h, ts in targets for t in ts]
    counts = dict.fromkeys(overview.STATUSES, 0)
    for p in published:
        counts[p.value.status] += 1
    municipalities = org_services.municipalities()
    return render_template(
        "kpis/scoreboard.html", targets=targets, done=sum(1 for t in statuses if t.state == "done"),
        overdue=sum(1 for t in statuses if t.state == "overdue"), total_targets=len(statuses),
        groups=sorted(groups.items(), key=lambda kv: overview.GROUP_RANK[kv[0]]), counts=counts,
        published=published, periods=periods, region_name=_region_name(municipalities), today=today)
