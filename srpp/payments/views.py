"""Payment pages: the council's dashboard, payment compliance reports (prepare, approve, publish;
published ones public), the reference-rate table, the supplier's own payments, and the import.

The file is kept in sections (dashboard, reports, rates, ...); later areas add sections of their own."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select

from srpp.core import charts, exports
from srpp.core.errors import DomainError
from srpp.core.forms import apply_domain_error
from srpp.core.i18n import number
from srpp.core.permissions import PermissionDenied, can, permission_required, regional_reader, require
from srpp.extensions import db
from srpp.orgs import services as org_services
from srpp.orgs.models import Municipality, Supplier
from srpp.payments import calc, figures
from srpp.payments import reports as report_service
from srpp.payments import services as payment_services
from srpp.payments.forms import (
    ApproveReportForm,
    DashboardFilterForm,
    PrepareReportForm,
    PublishReportForm,
    RateForm,
    RegenerateReportForm,
    ReportFilterForm,
)
from srpp.payments.models import Invoice, InvoiceState, PaymentReport, ReportState
from srpp.plans.forms import parse_amount
from srpp.region.services import percent

bp = Blueprint("payments", __name__, url_prefix="/payments")


# =====================================================================================================
# shared helpers
# =====================================================================================================

LEGAL_LIMIT_DAYS = 30  # PAY-01: a public authority pays within 30 calendar days


@dataclass(frozen=True)
class Period:
    """A half-year as the pages show it; a half-year still running is counted up to today."""

    start: dt.date
    end: dt.date
    today: dt.date

    @classmethod
    def of(cls, day: dt.date, today: dt.date) -> Period:
        start, end = calc.half_year(day)
        return cls(start, end, today)

    @property
    def key(self) -> str:
        return f"{self.start.year}H{1 if self.start.month == 1 else 2}"

    @property
    def in_progress(self) -> bool:
        return self.end >= self.today

    @property
    def until(self) -> dt.date:
        """The last day counted: the period's end, or today while it runs."""
        return min(self.end, self.today)

    @property
    def label(self) -> str:
        text = calc.half_year_label(self.start)
        return _("%(period)s (to date)", period=text) if self.in_progress else text


def last_completed(today: dt.date) -> Period:
    return Period.of(calc.half_year(today)[0] - dt.timedelta(days=1), today)


def _municipality_or_404(code: str) -> Municipality:
    m = org_services.municipality_by_code(code)
    if m is None:
        abort(404)
    return m


# =====================================================================================================
# council payment dashboard: GET /payments/dashboard, GET /payments/dashboard/<code>
# =====================================================================================================

PERIOD_CHOICES = 6  # half-years offered in the selector (the current one, to date, and five before)
TREND_LENGTH = 4  # half-years in the trend charts
REGION_COLOUR = "#475569"
INVOICE_LIMIT = 200


def _filters(quiet: bool = False) -> tuple[Period, str, DashboardFilterForm]:
    """The half-year (default: the last completed one) and the supplier type of the request; an
    unknown or future half-year falls back to the default with a message (``quiet``: without it, for
    the downloads)."""
    today = dt.date.today()
    form = DashboardFilterForm(request.args)
    period = last_completed(today)
    raw = (request.args.get("period") or "").strip()
    if raw:
        parsed = calc.parse_half_year(raw)
        if parsed is None or parsed[0] > today or parsed[0].year < 2000:
            if not quiet:
                flash(_("There is no half-year “%(value)s” to show (write it like %(example)s); showing %(period)s.",
                      value=raw[:20], example=period.key, period=period.label), "warning")
        else:
            period = Period(parsed[0], parsed[1], today)
    choices = [Period.of(s, today) for s, _e in reversed(calc.previous_half_years(today, PERIOD_CHOICES))]
    if period.key not in {p.key for p in choices}:
        choices.append(period)
    form.period.choices = [(p.key, p.label) for p in choices]
    form.period.data = period.key
    stype = form.supplier_type.data if form.supplier_type.data in figures.SUPPLIER_TYPES else "all"
    form.supplier_type.data = stype
    return period, stype, form


def _trend_periods(period: Period) -> list[Period]:
    return [Period(s, e, period.today) for s, e in calc.previous_half_years(period.start, TREND_LENGTH)]


def _trend(periods: list[Period], municipality_id: int | None, stype: str,
           last: figures.Figures | None = None) -> list[figures.Figures]:
    """The figures of each period; ``last``: the selected (last) period's, already computed."""
    earlier = figures.trend([(p.start, p.until) for p in periods[:-1]], municipality_id, stype)
    return [*earlier, last if last is not None else figures.compute(periods[-1].start, periods[-1].until,
                                                                    municipality_id, stype)]


def _days(value: Decimal) -> str:
    return _("%(days)s days", days=number(value, 1))


def _whole(value: Decimal) -> str:
    return number(value, 0)


def _whole_percent(value: Decimal) -> str:
    return percent(value, 0)


def _region_name(municipalities: list[Municipality]) -> str:
    region = municipalities[0].region if municipalities else None
    return region.name if region else _("Whole region")


def _stype_label(stype: str) -> str:
    return {"seo": _("social economy organisations"), "other": _("other suppliers")}.get(stype, _("all suppliers"))


def trend_charts(periods: list[Period], lines: list[tuple[str, list[figures.Figures], str]], key: str,
                 stype: str) -> tuple[charts.Chart, charts.Chart]:
    """(average days to pay, share paid within 30 days) over the half-years, one line per series."""
    labels = [p.label for p in periods]
    limit = charts.Marker(LEGAL_LIMIT_DAYS, _("30-day legal limit"))
    days = charts.line_chart(
        labels, [charts.Series(name, [f.avg_days for f in figs], colour) for name, figs, colour in lines],
        title=_("Average days to pay, %(first)s – %(last)s", first=labels[0], last=labels[-1]),
        desc=_("The average number of days taken to pay an invoice (day 1 is the day after receipt), for "
               "invoices paid in each half-year, %(suppliers)s. The dashed line is the 30-day legal limit.",
               suppliers=_stype_label(stype)),
        fmt=_days, axis_fmt=_whole, markers=[limit], key=f"{key}-days", period_header=_("Half-year"))
    within = charts.line_chart(
        labels, [charts.Series(name, [f.share_30 for f in figs], colour) for name, figs, colour in lines],
        title=_("Invoices paid within 30 days, %(first)s – %(last)s", first=labels[0], last=labels[-1]),
        desc=_("The share of the invoices paid in each half-year that were paid within 30 days, %(suppliers)s.",
               suppliers=_stype_label(stype)),
        fmt=percent, axis_fmt=_whole_percent, key=f"{key}-within", period_header=_("Half-year"))
    return days, within


def comparison_chart(rows: list[tuple[Municipality, figures.Figures]], period: Period, stype: str) -> charts.Chart:
    """Average days to pay per municipality in the half-year; above the limit in the warning colour
    and said in the value text."""
    data = []
    for m, f in rows:
        if f.avg_days is None:
            data.append(charts.Datum(m.short_name, None, text=_("no invoices paid")))
        elif f.avg_days > LEGAL_LIMIT_DAYS:
            data.append(charts.Datum(m.short_name, f.avg_days, text=_("%(days)s days, over the limit",
                                                                      days=number(f.avg_days, 1)), warn=True))
        else:
            data.append(charts.Datum(m.short_name, f.avg_days, text=_days(f.avg_days)))
    return charts.bar_chart(
        data, title=_("Average days to pay by municipality, %(period)s", period=period.label),
        desc=_("One bar per municipality: the average days to pay of the invoices paid in %(period)s, "
               "%(suppliers)s. The dashed line is the 30-day legal limit; bars over it are drawn in red and "
               "marked “over the limit”.", period=period.label, suppliers=_stype_label(stype)),
        fmt=_days, markers=[charts.Marker(LEGAL_LIMIT_DAYS, _("30-day legal limit"))], key="comparison",
        label_header=_("Municipality"), value_header=_("Average days to pay"))


def _with_supplier_type(stmt: Any, stype: str) -> Any:
    if stype in ("seo", "other"):
        kinds = [k.value for k in figures.SEO_KINDS]
        stmt = stmt.join(Supplier, Supplier.id == Invoice.supplier_id).where(
            Supplier.kind.in_(kinds) if stype == "seo" else Supplier.kind.not_in(kinds))
    return stmt


def _listed(stmt: Any) -> tuple[list[Invoice], int]:
    return list(db.session.scalars(stmt.limit(INVOICE_LIMIT))), db.count(stmt)


def _open_invoices(m: Municipality, stype: str) -> Any:
    """Every invoice of the municipality not yet fully paid, by due date (whatever the half-year)."""
    open_states = [s for s in InvoiceState if s.open]
    return _with_supplier_type(select(Invoice).where(Invoice.municipality_id == m.id, Invoice.state.in_(open_states))
                               .order_by(Invoice.due_date, Invoice.id), stype)


def _late_paid(m: Municipality, period: Period, stype: str) -> Any:
    """The municipality's invoices paid after their due date in the half-year."""
    return _with_supplier_type(
        select(Invoice).where(Invoice.municipality_id == m.id, Invoice.paid_on >= period.start,
                              Invoice.paid_on <= period.until, Invoice.days_late > 0)
        .order_by(Invoice.paid_on.desc(), Invoice.id), stype)


def _may_list_invoices(municipality: Municipality) -> bool:
    """Invoice-level detail: the regional readers and the municipality's own staff (the other
    municipalities' finance officers see the figures only)."""
    return regional_reader(current_user) or municipality.id in current_user.municipality_ids()


def _by_municipality(period: Period, stype: str,
                     municipalities: list[Municipality]) -> list[tuple[Municipality, figures.Figures]]:
    by_id = {f.municipality_id: f for f in figures.compute(period.start, period.until, supplier_type=stype,
                                                           by_municipality=True)}
    return [(m, by_id.get(m.id) or figures.Figures(period.start, period.until, m.id)) for m in municipalities]


@bp.get("/dashboard")
@permission_required("payments.dashboard")
def dashboard():
    period, stype, form = _filters()
    municipalities = org_services.municipalities()
    rows = _by_municipality(period, stype, municipalities)
    region = figures.compute(period.start, period.until, supplier_type=stype)
    periods = _trend_periods(period)
    region_name = _region_name(municipalities)
    days_chart, within_chart = trend_charts(periods, [(region_name, _trend(periods, None, stype, region), REGION_COLOUR)],
                                            "trend", stype)
    return render_template("payments/dashboard.html", form=form, period=period, stype=stype, rows=rows,
                           region=region, region_name=region_name, days_chart=days_chart,
                           within_chart=within_chart, comparison=comparison_chart(rows, period, stype),
                           percent=percent, limit=LEGAL_LIMIT_DAYS, stype_label=_stype_label(stype))


@bp.get("/dashboard/<code>")
@permission_required("payments.dashboard")
def municipality_dashboard(code: str):
    m = _municipality_or_404(code)
    period, stype, form = _filters()
    own = figures.compute(period.start, period.until, m.id, stype)
    region = figures.compute(period.start, period.until, None, stype)
    municipalities = org_services.municipalities()
    region_name = _region_name(municipalities)
    periods = _trend_periods(period)
    colour = next((charts.palette_colour(n) for n, x in enumerate(municipalities) if x.id == m.id), None)
    days_chart, within_chart = trend_charts(
        periods, [(m.short_name, _trend(periods, m.id, stype, own), colour),
                  (region_name, _trend(periods, None, stype, region), REGION_COLOUR)], "municipality-trend", stype)
    listing = _may_list_invoices(m)
    open_invoices, open_total, late_paid, late_total = [], 0, [], 0
    if listing:
        open_invoices, open_total = _listed(_open_invoices(m, stype))
        late_paid, late_total = _listed(_late_paid(m, period, stype))
    return render_template("payments/dashboard_municipality.html", m=m, form=form, period=period, stype=stype,
                           own=own, region=region, region_name=region_name, days_chart=days_chart,
                           within_chart=within_chart, listing=listing, open_invoices=open_invoices,
                           open_total=open_total, late_paid=late_paid, late_total=late_total,
                           limit=INVOICE_LIMIT, percent=percent,
                           stype_label=_stype_label(stype), days_limit=LEGAL_LIMIT_DAYS,
                           may_read_reports=_may_read_reports(m))


# --- downloads of the dashboard: GET /payments/dashboard.<csv|xlsx>, /payments/dashboard/<code>/invoices.<csv|xlsx>

def _figure_columns(period: Period, stype: str) -> list[exports.Column]:
    """A (name, Figures) row as the dashboard's table shows it."""
    return [
        exports.Column(_("Municipality"), lambda r: r[0]),
        exports.Column(_("Half-year"), lambda r: period.key, width=10),
        exports.Column(_("Suppliers"), lambda r: _stype_label(stype)),
        exports.Column(_("Invoices paid"), lambda r: r[1].paid_count, exports.INT),
        exports.Column(_("Average days to pay"), lambda r: r[1].avg_days, exports.DECIMAL, places=1),
        exports.Column(_("Median days"), lambda r: r[1].median_days, exports.DECIMAL, places=1),
        exports.Column(_("90th percentile, days"), lambda r: r[1].p90_days, exports.DECIMAL, places=1),
        exports.Column(_("Paid in 1–30 days"), lambda r: r[1].share_30, exports.PERCENT, places=1),
        exports.Column(_("Paid in 31–60 days"), lambda r: r[1].share_60, exports.PERCENT, places=1),
        exports.Column(_("Paid in 61 days or more"), lambda r: r[1].share_over_60, exports.PERCENT, places=1),
        exports.Column(_("Sums due in the period not paid in it"), lambda r: r[1].unpaid_share, exports.PERCENT,
                       places=1),
        exports.Column(_("Interest owed"), lambda r: r[1].interest, exports.DECIMAL),
        exports.Column(_("Compensation owed"), lambda r: r[1].compensation, exports.DECIMAL),
        exports.Column(_("Late invoices"), lambda r: r[1].late_count, exports.INT),
        exports.Column(_("Work stoppages"), lambda r: r[1].stoppages, exports.INT),
    ]


@bp.get("/dashboard.<any(csv, xlsx):fmt>")
@permission_required("payments.dashboard")
def dashboard_export(fmt: str):
    """The dashboard's table: the half-year's figures per municipality, then the region's."""
    period, stype, _form = _filters(quiet=True)
    municipalities = org_services.municipalities()
    rows = [(m.name, f) for m, f in _by_municipality(period, stype, municipalities)]
    rows.append((_region_name(municipalities), figures.compute(period.start, period.until, supplier_type=stype)))
    name = exports.filename("payment-figures", period.key, stype if stype != "all" else None, ext=fmt)
    return exports.response(fmt, _figure_columns(period, stype), rows, name, sheet=_("Payment dashboard"))


INVOICE_LISTS = ("open", "late")


@bp.get("/dashboard/<code>/invoices.<any(csv, xlsx):fmt>")
@permission_required("payments.dashboard")
def invoices_export(code: str, fmt: str):
    """All the invoices of a list of the municipality's dashboard (``list``: ``open``, the default, or
    ``late``: paid late in the half-year), not only the first 200 the page shows; to whom the page shows
    the lists."""
    m = _municipality_or_404(code)
    if not _may_list_invoices(m):
        raise PermissionDenied("payments.invoices")
    period, stype, _form = _filters(quiet=True)
    which = request.args.get("list") if request.args.get("list") in INVOICE_LISTS else "open"
    stmt = _open_invoices(m, stype) if which == "open" else _late_paid(m, period, stype)
    columns = [
        exports.Column(_("Invoice"), lambda inv: inv.number, width=16),
        exports.Column(_("Supplier"), lambda inv: inv.contract.supplier.legal_name, width=36),
        exports.Column(_("Contract"), lambda inv: inv.contract.title, width=40),
        exports.Column(_("Amount"), lambda inv: inv.amount, exports.DECIMAL),
        exports.Column(_("Received"), lambda inv: inv.received_on, exports.DATE),
        exports.Column(_("Due"), lambda inv: inv.due_date, exports.DATE),
        exports.Column(_("Paid"), lambda inv: inv.paid_on, exports.DATE),
        exports.Column(_("State"), lambda inv: inv.state.label),
        exports.Column(_("Days late"), lambda inv: inv.days_late, exports.INT),
        exports.Column(_("Outstanding"), lambda inv: inv.outstanding, exports.DECIMAL),
        exports.Column(_("Interest"), lambda inv: inv.interest, exports.DECIMAL),
        exports.Column(_("Compensation"), lambda inv: inv.compensation, exports.DECIMAL),
    ]
    name = exports.filename(f"invoices-{which}", m.code, period.key if which == "late" else None,
                            stype if stype != "all" else None, ext=fmt)
    return exports.response(fmt, columns, exports.stream(stmt), name, sheet=m.short_name)


# =====================================================================================================
# payment compliance reports: public list, a municipality's reports, one report, approve, publish
# =====================================================================================================

COMPLETED_CHOICES = 6  # completed half-years offered for a new report, at least


def _may_read_reports(municipality: Municipality) -> bool:
    """A municipality's reports, drafts included: its finance officers and admins (who prepare them)
    and the council."""
    if not current_user.is_authenticated:
        return False
    return can(current_user, "report.prepare", municipality) or regional_reader(current_user)


def _report_or_404(report_id: int) -> PaymentReport:
    """A published report for everyone; a draft or approved one for those who may read the
    municipality's reports (403 for other users, 404 for the public)."""
    report = db.session.get(PaymentReport, report_id)
    if report is None:
        abort(404)
    if report.state == ReportState.PUBLISHED:
        return report
    if not current_user.is_authenticated:
        abort(404)
    if not _may_read_reports(report.municipality):
        abort(403)
    return report


def _completed_periods(municipality: Municipality, today: dt.date) -> list[Period]:
    """The completed half-years a report can be prepared for, newest first: every one since the
    municipality's first invoice, and at least the last six."""
    last = last_completed(today)
    first = db.session.scalar(select(func.min(Invoice.received_on)).where(Invoice.municipality_id == municipality.id))
    count = COMPLETED_CHOICES
    if first is not None and first < last.start:
        count = max(count, (last.start.year - first.year) * 2 + (last.start.month > 6) - (first.month > 6) + 1)
    return [Period(s, e, today) for s, e in reversed(calc.previous_half_years(last.start, count))]


def _generate_document(report: PaymentReport, lang: str) -> bool:
    """Ask a worker for the report's .docx and remember it on the report (commits)."""
    from srpp.documents import services as document_services
    from srpp.documents import subjects
    from srpp.documents.kinds import KINDS

    report_id = report.id
    try:
        doc = document_services.request_document(current_user, KINDS["payment_report"],
                                                 subjects.load("payment_report", report_id), lang)
    except DomainError as err:
        db.session.rollback()
        flash(_("The report is saved, but its document could not be requested: %(reason)s", reason=err.message),
              "error")
        return False
    report = db.session.get(PaymentReport, report_id)
    report.document_id = doc.id
    db.session.commit()
    return True


def _document_language(report: PaymentReport) -> str:
    return report.document.language if report.document is not None else "lt"


def _frozen(data: dict[str, Any]) -> dict[str, Any]:
    """The frozen figures (JSON strings) as numbers for the page."""
    out: dict[str, Any] = {}
    for key in ("avg_days", "median_days", "p90_days", "share_30", "share_60", "share_over_60", "unpaid_share",
                "due_sum", "unpaid_due_sum", "interest", "compensation"):
        value = data.get(key)
        out[key] = Decimal(value) if value not in (None, "") else None
    for key in ("paid_count", "within_30", "within_60", "over_60", "late_count", "stoppages"):
        out[key] = int(data.get(key) or 0)
    out["liability"] = (out["interest"] or Decimal(0)) + (out["compensation"] or Decimal(0))
    return out


@bp.get("/reports")
def reports():
    """The published reports, newest period first; public."""
    form = ReportFilterForm(request.args)
    municipalities = org_services.municipalities()
    form.municipality.choices = [("", _("All municipalities"))] + [(m.code, m.name) for m in municipalities]
    chosen = (form.municipality.data or "").upper()
    items = [(r, _frozen(r.figures or {})) for r in report_service.published()
             if not chosen or r.municipality.code == chosen]
    mine = [m for m in municipalities if _may_read_reports(m)]
    return render_template("payments/reports.html", form=form, items=items, mine=mine, percent=percent,
                           half_year_label=calc.half_year_label)


@bp.route("/municipalities/<code>/reports", methods=["GET", "POST"])
@login_required
def municipality_reports(code: str):
    m = _municipality_or_404(code)
    if not _may_read_reports(m):
        abort(403)
    may_prepare = can(current_user, "report.prepare", m)
    today = dt.date.today()
    form = PrepareReportForm()
    have = {r.period_start: r for r in report_service.reports_of(m.id)}
    choices = []
    for p in _completed_periods(m, today):
        existing = have.get(p.start)
        label = (_("%(period)s – %(state)s", period=p.label, state=existing.state.label) if existing is not None
                 else p.label)
        choices.append((p.key, label))
    form.period.choices = choices
    if request.method == "POST":
        require(current_user, "report.prepare", m)
        if form.validate_on_submit():
            start = calc.parse_half_year(form.period.data)[0]
            try:
                report = report_service.prepare(current_user, m, start, today)
                db.session.commit()
            except DomainError as err:
                db.session.rollback()
                apply_domain_error(form, err)
            else:
                if _generate_document(report, form.language.data):
                    flash(_("The report of %(period)s is prepared; its document is being generated.",
                            period=calc.half_year_label(start)), "success")
                return redirect(url_for("payments.report", report_id=report.id))
    elif not form.period.data and choices:
        form.period.data = next((key for key, _label in choices if calc.parse_half_year(key)[0] not in have),
                                choices[0][0])
    return render_template("payments/report_municipality.html", m=m, form=form, may_prepare=may_prepare,
                           items=report_service.reports_of(m.id), percent=percent,
                           half_year_label=calc.half_year_label)


@bp.get("/reports/<int:report_id>")
def report(report_id: int):
    r = _report_or_404(report_id)
    return _render_report(r, ApproveReportForm(formdata=None, data=_approval_defaults(r)))


def _approval_defaults(r: PaymentReport) -> dict[str, Any]:
    return {"approver_name": current_user.full_name if current_user.is_authenticated else "",
            "approved_on": dt.date.today(), "version": r.version}


def _render_report(r: PaymentReport, approve_form: ApproveReportForm, status: int = 200):
    may_prepare = current_user.is_authenticated and can(current_user, "report.prepare", r.municipality)
    doc = r.document
    may_view_document = doc is not None and current_user.is_authenticated and can(current_user, "document.view", doc)
    approve_form.version.data = r.version
    return render_template(
        "payments/report.html", r=r, f=_frozen(r.figures or {}), may_prepare=may_prepare, doc=doc,
        may_view_document=may_view_document, approve_form=approve_form,
        publish_form=PublishReportForm(formdata=None, data={"version": r.version}),
        regenerate_form=RegenerateReportForm(formdata=None, data={"language": _document_language(r)}),
        may_read=_may_read_reports(r.municipality), percent=percent), status


@bp.post("/reports/<int:report_id>/approve")
@login_required
def approve_report(report_id: int):
    r = _report_or_404(report_id)
    require(current_user, "report.prepare", r.municipality)
    form = ApproveReportForm()
    if not form.validate_on_submit():
        return _render_report(r, form)
    try:
        report_service.approve(current_user, r, form.approver_name.data or "", form.approver_role.data or "",
                               form.approved_on.data, form.version.data)
        db.session.commit()
    except DomainError as err:
        db.session.rollback()
        if err.field and hasattr(form, err.field):  # a missing name, role or date: the form again
            apply_domain_error(form, err)
            return _render_report(db.session.get(PaymentReport, report_id), form)
        flash(err.message, "error")  # already approved, or changed meanwhile: the current state
        return redirect(url_for("payments.report", report_id=report_id))
    if _generate_document(r, _document_language(r)):
        flash(_("The report is approved; its document is being generated again with the statement of approval."),
              "success")
    return redirect(url_for("payments.report", report_id=report_id))


@bp.post("/reports/<int:report_id>/publish")
@login_required
def publish_report(report_id: int):
    r = _report_or_404(report_id)
    require(current_user, "report.prepare", r.municipality)
    form = PublishReportForm()
    if form.validate_on_submit():
        try:
            report_service.publish(current_user, r, form.version.data)
            db.session.commit()
        except DomainError as err:
            db.session.rollback()
            flash(err.message, "error")
        else:
            flash(_("The report is published: anyone can now read it and download its document."), "success")
    else:
        flash(_("The form has expired; please try again."), "error")
    return redirect(url_for("payments.report", report_id=report_id))


@bp.post("/reports/<int:report_id>/regenerate")
@login_required
def regenerate_report(report_id: int):
    """Generate the report's document again (a failed job, an expired file, another language)."""
    r = _report_or_404(report_id)
    require(current_user, "report.prepare", r.municipality)
    form = RegenerateReportForm()
    if form.validate_on_submit():
        if _generate_document(r, form.language.data):
            flash(_("The document is being generated again."), "success")
    else:
        flash(_("Choose the language of the document."), "error")
    return redirect(url_for("payments.report", report_id=report_id))


@bp.get("/reports/<int:report_id>/document")
def report_document(report_id: int):
    """The .docx of a published report, for anyone (documents.download needs a login)."""
    from srpp.documents import services as document_services
    from srpp.documents.views import MIME

    r = db.session.get(PaymentReport, report_id)
    if r is None or r.state != ReportState.PUBLISHED or r.document is None:
        abort(404)
    content = document_services.content(r.document, "docx")
    if content is None:
        abort(404)
    return Response(content, mimetype=MIME["docx"], headers={
        "Content-Disposition": f'attachment; filename="{r.document.file_name}"', "Cache-Control": "public, max-age=300"})


# =====================================================================================================
# reference rates: GET/POST /payments/rates (admins edit; the council and finance officers read)
# =====================================================================================================

@bp.route("/rates", methods=["GET", "POST"])
@permission_required("payments.dashboard")
def rates():
    may_edit = can(current_user, "rates.manage")
    form = RateForm()
    if request.method == "POST":
        require(current_user, "rates.manage")
        if form.validate_on_submit():
            try:
                row = payment_services.set_rate(current_user, form.valid_from.data, parse_amount(form.rate.data),
                                                form.source.data)
                db.session.commit()
            except DomainError as err:
                db.session.rollback()
                apply_domain_error(form, err)
            else:
                flash(_("The reference rate from %(day)s is %(rate)s.", day=row.valid_from.isoformat(),
                        rate=percent(row.rate / 100, 2)), "success")
                return redirect(url_for("payments.rates"))
    elif may_edit:
        wanted = request.args.get("valid_from")
        try:
            day = dt.date.fromisoformat(wanted) if wanted else None
        except ValueError:
            day = None
        existing = next((r for r in payment_services.rate_table() if r.valid_from == day), None)
        if existing is not None:
            form.valid_from.data, form.source.data = existing.valid_from, existing.source
            form.rate.data = format(existing.rate, "f")
        else:
            form.valid_from.data = calc.half_year(dt.date.today())[0] if day is None else day
    today = dt.date.today()
    table = payment_services.rates()
    try:
        current = (table.reference(today), table.statutory(today))
    except LookupError:
        current = None
    current_start = calc.half_year(today)[0]
    rows = payment_services.rate_table()
    return render_template("payments/rates.html", form=form, may_edit=may_edit, rows=rows, margin=table.margin,
                           current=current, current_label=calc.half_year_label(current_start),
                           current_missing=all(r.valid_from != current_start for r in rows),
                           percent=percent, label=calc.half_year_label)
