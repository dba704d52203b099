"""Data protocol pages: the submissions a user may see (/reporting/), one submission's form, upload and
submit (/reporting/<id>), and the council's completeness overview by municipality. Thin: load or 404,
check, call the services, render."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from srpp.core import charts
from srpp.core.errors import DomainError
from srpp.core.permissions import can, permission_required, require
from srpp.extensions import db
from srpp.orgs.models import Municipality
from srpp.payments.calc import parse_half_year, previous_half_years
from srpp.plans.exports import CSV_MIME, XLSX_MIME
from srpp.region.services import percent
from srpp.reporting import imports, services
from srpp.reporting.forms import (
    OpenPeriodForm,
    PeriodFilterForm,
    SubmitForm,
    UploadForm,
    note_field,
    value_field,
    values_form,
)
from srpp.reporting.models import DataSubmission

bp = Blueprint("reporting", __name__, url_prefix="/reporting")

SHOWN_ERRORS = 500
#: half-years offered in the selectors besides those with submissions
OFFERED_PERIODS = 4


# --- helpers -----------------------------------------------------------------------------------------------

def _period_choices(known: list[dt.date], today: dt.date) -> list[dt.date]:
    starts = set(known) | {s for s, _e in previous_half_years(today, OFFERED_PERIODS)}
    return sorted(starts, reverse=True)


def _picked_period(default: dt.date, choices: list[dt.date]) -> tuple[dt.date, PeriodFilterForm]:
    form = PeriodFilterForm(request.args)
    period = default
    raw = (request.args.get("period") or "").strip()
    if raw:
        parsed = parse_half_year(raw)
        if parsed is None:
            flash(_("There is no half-year “%(value)s” (write it like %(example)s); showing %(period)s.",
                    value=raw[:20], example=services.period_key(default), period=services.period_label(default)),
                  "warning")
        else:
            period = parsed[0]
    if period not in choices:
        choices = sorted({*choices, period}, reverse=True)
    form.period.choices = [(services.period_key(s), services.period_label(s)) for s in choices]
    form.period.data = services.period_key(period)
    return period, form


def _download(data: bytes, name: str, mimetype: str) -> Response:
    resp = Response(data, mimetype=mimetype)
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


def _submission_or_404(submission_id: int) -> DataSubmission:
    sub = services.get_submission(current_user, submission_id)
    if sub is None:
        abort(404)
    return sub


def _initial(sub: DataSubmission) -> dict[str, Any]:
    data: dict[str, Any] = {"version": sub.version}
    for v in sub.values:
        data[value_field(v.indicator_id)] = services.plain(v.value)
        data[note_field(v.indicator_id)] = v.note or ""
    return data


def _entries(sub: DataSubmission, indicators: list[Any], form: Any) -> dict[int, services.Entry]:
    """The entries of the posted fields: an indicator whose fields were not posted at all is left as it
    is; a field not posted keeps its stored value or note (an emptied field is posted empty)."""
    stored = {v.indicator_id: v for v in sub.values}
    out = {}
    for ind in indicators:
        has_value, has_note = value_field(ind.id) in request.form, note_field(ind.id) in request.form
        if not has_value and not has_note:
            continue
        row = stored.get(ind.id)
        value = form.value_of(ind.id).data if has_value else (services.plain(row.value) if row else None)
        note = form.note_of(ind.id).data if has_note else (row.note if row else None)
        out[ind.id] = services.Entry(value, note)
    return out


# --- the list ------------------------------------------------------------------------------------------------

@bp.route("/")
@permission_required("reporting.view")
def index():
    today = services.local_today()
    known = services.periods_for(current_user)
    default = known[0] if known else services.last_completed_period(today)[0]
    period, form = _picked_period(default, _period_choices(known, today))
    subs = list(db.session.scalars(services.submissions_for(current_user, period)).unique())
    rows = services.statuses(subs, today)
    return render_template(
        "reporting/index.html", form=form, period=period, period_end=services.period_of(period)[1], rows=rows,
        today=today, label=services.period_label, overdue=sum(1 for r in rows if r.overdue),
        submitted=sum(1 for r in rows if r.submitted), due_soon=sum(1 for r in rows if r.due_soon),
    )


# --- one submission --------------------------------------------------------------------------------------------

def _render_submission(sub: DataSubmission, form: Any, upload_form: UploadForm, *, value_errors: Any = None,
                       upload_errors: list[imports.RowError] | None = None, upload_refusal: str | None = None,
                       status: int = 200):
    indicators = services.applicable(sub)
    state = services.statuses([sub], services.local_today())[0]
    upload_errors = upload_errors or []
    limit = current_app.config.get("REPORTING_UPLOAD_MAX_BYTES", imports.MAX_UPLOAD_BYTES)
    return render_template(
        "reporting/submission.html", sub=sub, indicators=indicators, form=form, upload_form=upload_form,
        submit_form=SubmitForm(formdata=None, data={"version": sub.version}), status=state,
        may_edit=can(current_user, "reporting.edit", sub), values={v.indicator_id: v for v in sub.values},
        value_errors=value_errors or [], upload_errors=upload_errors[:SHOWN_ERRORS],
        upload_error_count=len(upload_errors), upload_refusal=upload_refusal, hint=services.unit_hint,
        value_field=value_field, note_field=note_field, label=services.period_label, plain=services.plain,
        max_mb=limit // (1024 * 1024), today=services.local_today(),
    ), status


@bp.route("/<int:submission_id>", methods=["GET", "POST"])
@login_required
def submission(submission_id: int):
    sub = _submission_or_404(submission_id)
    indicators = services.applicable(sub)
    upload_form = UploadForm(formdata=None, data={"version": sub.version})
    if request.method == "GET":
        return _render_submission(sub, values_form(indicators, **_initial(sub)), upload_form)
    require(current_user, "reporting.edit", sub)
    form = values_form(indicators, request.form)
    action = request.form.get("action", "save")
    value_errors: list[tuple[int, str, str]] = []
    if form.validate_on_submit():
        entries = _entries(sub, indicators, form)
        was_submitted = sub.is_submitted
        try:
            # the form's version is required: a post without it is refused as a stale form
            services.save_values(current_user, sub, entries, version=form.version.data or "",
                                 submit=action == "submit")
            db.session.commit()
        except services.ValuesRefused as err:
            db.session.rollback()
            for iid, message in err.errors.items():
                target = form.note_of(iid) if err.fields.get(iid) == "note" else form.value_of(iid)
                target.errors = [*list(target.errors or []), message]
                value_errors.append((iid, target.id, f"{err.indicators[iid].name}: {message}"))
            form.form_errors.append(_("Nothing was saved: correct the marked values."))
        except DomainError as err:
            db.session.rollback()
            form.form_errors.append(err.message)
        else:
            if was_submitted:
                flash(_("The corrected values were saved and submitted again."), "success")
            elif sub.is_submitted:
                flash(_("The submission was submitted."), "success")
            else:
                flash(_("The draft was saved."), "success")
            return redirect(url_for("reporting.submission", submission_id=sub.id))
    return _render_submission(sub, form, upload_form, value_errors=value_errors)


@bp.route("/<int:submission_id>/upload", methods=["POST"])
@login_required
def upload(submission_id: int):
    sub = _submission_or_404(submission_id)
    require(current_user, "reporting.edit", sub)
    indicators = services.applicable(sub)
    upload_form = UploadForm()
    errors: list[imports.RowError] = []
    refusal = None
    if upload_form.validate_on_submit():
        limit = current_app.config.get("REPORTING_UPLOAD_MAX_BYTES", imports.MAX_UPLOAD_BYTES)
        f = upload_form.file.data
        try:
            summary = imports.import_values(current_user, sub, f.filename or "", f.stream,
                                            version=upload_form.version.data or "", max_bytes=limit)
            db.session.commit()
        except imports.ImportRefused as err:
            db.session.rollback()
            errors = err.errors
        except DomainError as err:
            db.session.rollback()
            refusal = err.message
        else:
            flash(_("The file was read: %(values)s values saved, %(skipped)s empty rows skipped.",
                    values=summary.values + summary.notes_only, skipped=summary.skipped), "success")
            return redirect(url_for("reporting.submission", submission_id=sub.id))
    return _render_submission(sub, values_form(indicators, **_initial(sub)), upload_form, upload_errors=errors,
                              upload_refusal=refusal)


@bp.route("/<int:submission_id>/template.<any(csv, xlsx):fmt>")
@login_required
def template(submission_id: int, fmt: str):
    sub = _submission_or_404(submission_id)
    name = f"data-submission-{sub.id}-{services.period_key(sub.period_start)}"
    if fmt == "xlsx":
        return _download(imports.template_xlsx(sub), f"{name}.xlsx", XLSX_MIME)
    return _download(imports.template_csv(sub), f"{name}.csv", CSV_MIME)


# --- the council's overview -----------------------------------------------------------------------------------

@bp.route("/overview")
@permission_required("reporting.overview")
def overview():
    today = services.local_today()
    known = sorted(set(db.session.scalars(select(DataSubmission.period_start).distinct())), reverse=True)
    default = known[0] if known else services.last_completed_period(today)[0]
    period, form = _picked_period(default, _period_choices(known, today))
    region = services.completeness(period, None, today)
    by_muni: dict[int, list[services.Status]] = {}
    for r in region.rows:
        by_muni.setdefault(r.submission.municipality_id, []).append(r)
    munis = list(db.session.scalars(select(Municipality).order_by(Municipality.sort_order, Municipality.code)))
    lines = [(m, services.Completeness(region.period_start, region.period_end, today, by_muni.get(m.id, [])))
             for m in munis]
    data = [charts.Datum(m.short_name, c.complete_share if c.complete_share is not None else Decimal(0),
                         text=None if c.complete_share is not None else _("nothing due"),
                         warn=c.complete_share is not None and c.complete_share < 100)
            for m, c in lines]
    chart = charts.bar_chart(
        data, title=_("Complete submissions by municipality, %(period)s", period=services.period_label(period)),
        desc=_("Share of the submissions due (the municipality's own and its contracts') that are submitted with "
               "every indicator filled in. Region: %(share)s.", share=_pct(region.complete_share)),
        fmt=lambda v: _pct(v), key="reporting-complete", label_header=_("Municipality"),
        value_header=_("Complete submissions"))
    open_form = None
    if can(current_user, "reporting.manage"):
        open_form = OpenPeriodForm(formdata=None)
        current = services.period_of(today)[0]
        last = services.last_completed_period(today)[0]
        open_form.period.choices = [(services.period_key(s), services.period_label(s)) for s in (current, last)]
        open_form.period.data = services.period_key(last)
    return render_template("reporting/overview.html", form=form, period=period, region=region, lines=lines,
                           chart=chart, pct=_pct, open_form=open_form, label=services.period_label, today=today)


def _pct(value: Decimal | None) -> str:
    return percent(value / 100 if value is not None else None, 0)


@bp.route("/open", methods=["POST"])
@permission_required("reporting.manage")
def open_period():
    today = services.local_today()
    form = OpenPeriodForm()
    choices = [services.period_of(today)[0], services.last_completed_period(today)[0]]
    form.period.choices = [(services.period_key(s), services.period_label(s)) for s in choices]
    if not form.validate_on_submit():
        flash(_("Choose the half-year to open."), "error")
        return redirect(url_for("reporting.overview"))
    start = parse_half_year(form.period.data)[0]
    opened = services.open_period(start, current_user)
    db.session.commit()
    if not opened.created and not opened.existing:
        flash(_("No indicator of the registry is reported, so there is nothing to ask for."), "warning")
    else:
        flash(_("%(period)s is open: %(created)s submissions created (%(existing)s existed already), due on %(day)s.",
                period=services.period_label(start), created=opened.created, existing=opened.existing,
                day=opened.due_on.isoformat()), "success")
    return redirect(url_for("reporting.overview", period=services.period_key(start)))
