"""The consolidated regional plan and the council's overviews."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask import Blueprint, render_template, request
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user

from srpp.core import charts, exports
from srpp.core.i18n import money
from srpp.core.permissions import permission_required
from srpp.core.web import page_arg, paginate
from srpp.orgs import services as org_services
from srpp.region import services
from srpp.region.forms import RegionFilterForm

bp = Blueprint("region", __name__, url_prefix="/region")

PER_PAGE = 25


def _month_label(month: dt.date) -> str:
    return format_date(month, "LLL") + "\n" + str(month.year)


def _month_name(month: dt.date) -> str:
    return format_date(month, "LLLL yyyy")


def _timeline_chart(timeline: services.Timeline) -> charts.Chart:
    first, last = timeline.months[0], timeline.months[-1]
    # each municipality keeps its colour whatever the filter
    position = {m.id: n for n, m in enumerate(org_services.municipalities())}
    return charts.stacked_column_chart(
        [_month_label(m) for m in timeline.months],
        [charts.Series(m.short_name, values, charts.palette_colour(position.get(m.id, 0)))
         for m, values in timeline.series],
        title=_("Planned launches, %(start)s – %(end)s", start=_month_name(first), end=_month_name(last)),
        desc=_("Estimated value of the procurements planned to launch in each of the next 12 months, stacked by "
               "municipality. Total: %(total)s.", total=money(timeline.total)),
        fmt=money, axis_fmt=services.whole_money, key="timeline", period_header=_("Launch month"),
        total_header=_("Total"),
    )


def _area_chart(by_area: list[services.AreaTotal], total: Decimal) -> charts.Chart:
    return charts.bar_chart(
        [charts.Datum(t.area.label, t.value) for t in by_area],
        title=_("Planned value per priority area"),
        desc=_("Estimated value of the current plan items in each priority area. Total: %(total)s.",
               total=money(total)),
        fmt=money, key="areas", label_header=_("Priority area"), value_header=_("Estimated value"), width=520,
    )


def _plan_filter() -> tuple[RegionFilterForm, services.PlanFilter]:
    """The regional plan's filters from the query string (the page and its exports)."""
    form = RegionFilterForm(request.args)
    quarters = services.launch_quarters()
    form.fill_choices(org_services.municipalities(), org_services.categories(), quarters)
    form.validate()
    return form, form.to_filter()


@bp.route("/plan")
@permission_required("region.view")
def plan():
    form, f = _plan_filter()
    data = services.overview(current_user, f)
    page = paginate(services.items_stmt(f), page_arg(), PER_PAGE, total=data.item_count)
    return render_template(
        "region/plan.html", form=form, f=f, data=data, page=page,
        timeline_chart=_timeline_chart(data.timeline),
        area_chart=_area_chart(data.by_area, data.total_value),
        month_name=_month_name, filtered=any([f.municipality, f.category, f.area, f.reserved, f.procedure,
                                              f.quarter, f.q]),
    )


def _plan_columns() -> list[exports.Column]:
    return [
        exports.Column(_("Item"), lambda i: i.title, width=48),
        exports.Column(_("Municipality"), lambda i: i.municipality.name),
        exports.Column(_("Municipality code"), lambda i: i.municipality.code, width=10),
        exports.Column(_("Service category"), lambda i: i.category.name if i.category else None),
        exports.Column(_("Main CPV code"), lambda i: i.main_cpv, width=13),
        exports.Column(_("Priority area"), lambda i: i.priority_area.label),
        exports.Column(_("Target groups"), lambda i: i.target_groups),
        exports.Column(_("Launch month"), lambda i: i.launch_month, exports.MONTH),
        exports.Column(_("Contract duration (months)"), lambda i: i.duration_months, exports.INT),
        exports.Column(_("Procedure"), lambda i: i.procedure.label),
        exports.Column(_("Reservation"), lambda i: i.reservation.label if i.is_reserved else _("not reserved")),
        exports.Column(_("Estimated value"), lambda i: i.estimated_value, exports.DECIMAL),
        exports.Column(_("State"), lambda i: i.state.label),
        exports.Column(_("Notes for social economy organisations"), lambda i: i.notes_for_seos, width=48),
    ]


@bp.route("/plan.<any(csv, xlsx):fmt>")
@permission_required("region.view")
def plan_export(fmt: str):
    """Every item the page lists (all pages), with the page's filters and sort."""
    _form, f = _plan_filter()
    name = exports.filename("regional-plan", f.municipality, f.category, f.area.value if f.area else None,
                            f.procedure.value if f.procedure else None, f.quarter, "reserved" if f.reserved else None,
                            ext=fmt)
    return exports.response(fmt, _plan_columns(), exports.stream(services.items_stmt(f)), name,
                            sheet=_("Regional plan"))


@bp.route("/reserved-share")
@permission_required("region.view")
def reserved_share():
    rows = services.reserved_share_by_municipality()
    minimum = services.minimum_share()
    status_text = {
        "no_plan": _("no published plan"),
        "no_simplified": _("no simplified procurement planned"),
        "below": _("below the minimum"),
        "ok": _("meets the minimum"),
    }

    def datum(row: services.ReservedShareRow) -> charts.Datum:
        ratio = row.share.ratio if row.share else None
        text = services.percent(ratio) if ratio is not None else status_text[row.status]
        if row.status == "below":
            text = f"{text} – {status_text['below']}"
        return charts.Datum(row.municipality.short_name, ratio, text=text, warn=row.warning)

    chart = charts.bar_chart(
        [datum(r) for r in rows],
        title=_("Reserved share of simplified procurement per municipality"),
        desc=_("Planned reserved value as a share of the planned simplified-procurement value in each "
               "municipality's current plan. The dashed line marks the minimum of %(min)s.",
               min=services.percent(minimum)),
        fmt=services.percent, key="reserved-share", label_header=_("Municipality"), value_header=_("Share"),
        markers=[charts.Marker(minimum, _("Minimum %(min)s", min=services.percent(minimum)))],
    )
    below = [r for r in rows if r.warning]
    year = request.args.get("year", type=int) or dt.date.today().year
    return render_template("region/reserved_share.html", rows=rows, share_chart=chart, minimum=minimum,
                           percent=services.percent, status_text=status_text, below=below, year=year,
                           tendered=services.tendered_share_by_municipality(year))
