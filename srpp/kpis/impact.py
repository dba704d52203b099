"""The annual impact report of the region (document kind ``impact_report``, subject type ``impact_year``
whose id is the year): the indicator tables by group (each half-year's value, the target, the traffic
light), charts as PNG images (matplotlib, ``srpp/kpis/chart_images.py``), the risk summary and the
programme targets reached.

``srpp.documents.subjects`` loads the subject and calls the ``block_*`` builders below (inside
``force_locale`` of the document's language). The report holds aggregates only: no personal data."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import Any

from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from sqlalchemy import select

from srpp.auth.models import User
from srpp.core.i18n import date as fmt_date
from srpp.core.i18n import number
from srpp.core.permissions import regional_reader, rule
from srpp.documents.kinds import Block
from srpp.extensions import db
from srpp.kpis import overview
from srpp.kpis.overview import REGION, STATUS_LABELS, UNIT_LABELS, HalfYear, Row
from srpp.orgs.models import Region

FIRST_YEAR = 2000
#: indicators charted when none is red or amber (the programme's headline figures)
HEADLINE = ("F1", "R-RESERVED-SHARE", "G1", "P2")
MAX_TRENDS = 4
MAX_COMPARISONS = 2


@rule("impact.report")
def _impact_report(user: User, obj: Any) -> bool:
    """Generate the region's annual impact report: the council and admins."""
    return regional_reader(user)


@dataclass(eq=False)
class ImpactYear:
    """The subject: the region and a year. ``id`` is the year (the document's subject_id)."""

    region: Region
    year: int

    @property
    def id(self) -> int:
        return self.year

    @property
    def name(self) -> str:
        return self.region.name

    @property
    def periods(self) -> list[HalfYear]:
        return [HalfYear.of(dt.date(self.year, 1, 1)), HalfYear.of(dt.date(self.year, 7, 1))]

    @property
    def as_of(self) -> dt.date:
        return min(dt.date(self.year, 12, 31), dt.date.today())

    @property
    def last_period(self) -> HalfYear:
        """The second half-year, or the first while the second has no values yet (a year still running)."""
        if any(r.values[1] is not None for r in self.rows):
            return self.periods[1]
        return self.periods[0]

    @cached_property
    def rows(self) -> list[Row]:
        """Every indicator with the region's values in the two half-years of the year."""
        return overview.board(REGION, self.periods)


def load(year: int) -> Any:
    """The subject for the year (None: no region, or a year before 2000 or still to come)."""
    from srpp.documents.subjects import Subject

    if not FIRST_YEAR <= int(year) <= dt.date.today().year:
        return None
    region = db.session.scalar(select(Region).order_by(Region.id))
    if region is None:
        return None
    return Subject("impact_year", ImpactYear(region, int(year)), None, f"{region.code}-{year}")


def title(obj: ImpactYear) -> str:
    return _("%(region)s, %(year)s", region=obj.region.name, year=str(obj.year))


# --- helpers ---------------------------------------------------------------------------------------------------

def _status(row: Row) -> str:
    return str(STATUS_LABELS[row.status])


def _cell(row: Row, index: int) -> str:
    value = row.values[index]
    return "—" if value is None else row.shown(value)


def _drawn(fn: Callable[..., bytes], *args: Any, **kwargs: Any) -> Callable[[], bytes]:
    """The chart drawn when the file (or the preview) needs it, in the document's language (the number
    formats of the axes)."""
    lang = str(get_locale() or "lt")

    def draw() -> bytes:
        with force_locale(lang):
            return fn(*args, **kwargs)

    return draw


def _plain(value: Decimal) -> str:
    digits = 0 if value == value.to_integral_value() else 1
    return number(value, digits)


def _values_in_words(labels: list[str], values: list[Decimal | None], unit: str) -> str:
    return "; ".join(f"{label}: {overview.format_value(v, unit) if v is not None else _('no value')}"
                     for label, v in zip(labels, values, strict=True))


# --- blocks ----------------------------------------------------------------------------------------------------

def block_intro(s: Any) -> list[Block]:
    obj: ImpactYear = s.obj
    rows = obj.rows
    with_value = sum(1 for r in rows if r.latest is not None)
    pairs = [
        (_("Region"), obj.region.name),
        (_("Reported by"), obj.region.council_name),
        (_("Year"), str(obj.year)),
        (_("Half-years"), ", ".join(p.label for p in obj.periods)),
        (_("Indicators with a value"), _("%(n)s of %(total)s", n=with_value, total=len(rows))),
    ]
    return [Block("facts", pairs=pairs), Block("paragraphs", items=[
        _("This report shows the region's common indicator set for the year: each indicator's value for the "
          "region in each half-year, its target and its traffic light (on track, needs attention or off track), the "
          "risks of the programme with their alerts, and the programme targets reached."),
        _("The values are computed from the records of the procurement platform or reported by the "
          "municipalities and the suppliers through the half-yearly data protocol. They are aggregates: the "
          "report holds no personal data."),
    ])]


def block_overview(s: Any) -> list[Block]:
    from srpp.kpis import chart_images

    obj: ImpactYear = s.obj
    groups = overview.grouped(obj.rows)
    if not groups:
        return [Block("paragraphs", items=[_("The indicator registry is empty.")])]
    counted = [(str(group.label), overview.counts(rows)) for group, rows in groups]
    labels = {k: str(v) for k, v in STATUS_LABELS.items()}
    alt = _("Bar chart of the indicators' traffic lights at the end of %(year)s, by group. %(details)s",
            year=str(obj.year), details=" ".join(
                f"{name}: " + ", ".join(f"{c[k]} {labels[k]}" for k in overview.STATUSES) + "." for name, c in counted))
    total = overview.counts(obj.rows)
    rows = [[name, *[str(c[k]) for k in overview.STATUSES]] for name, c in counted]
    rows.append([_("All indicators"), *[str(total[k]) for k in overview.STATUSES]])
    return [
        Block("image", draw=_drawn(chart_images.status_png, counted, labels), alt=alt,
              caption=_("Figure 1. Traffic lights of the indicators at the end of %(year)s", year=str(obj.year))),
        Block("table", caption=_("Table 1. Indicators by traffic light and group, end of %(year)s",
                                 year=str(obj.year)),
              headers=[_("Group"), *[labels[k] for k in overview.STATUSES]], rows=rows, numeric=(1, 2, 3, 4)),
    ]


def block_indicators(s: Any) -> list[Block]:
    obj: ImpactYear = s.obj
    blocks: list[Block] = []
    h1, h2 = (p.label for p in obj.periods)
    for n, (group, rows) in enumerate(overview.grouped(obj.rows), start=2):
        blocks.append(Block(
            "table", caption=_("Table %(n)s. %(group)s", n=str(n), group=str(group.label)),
            headers=[_("Code"), _("Indicator"), h1, h2, _("Target"), _("Status")],
            rows=[[r.code, r.indicator.name, _cell(r, 0), _cell(r, 1), r.target_text, _status(r)] for r in rows],
            numeric=(2, 3, 4)))
    if not blocks:
        return [Block("paragraphs", items=[_("The indicator registry is empty.")])]
    blocks.insert(0, Block("paragraphs", items=[
        _("The status is the traffic light of the latest value of the year, against the thresholds the council "
          "set; “not rated” means there is no value for the year or no threshold.")]))
    return blocks


def _chosen(rows: list[Row]) -> list[Row]:
    """The indicators to chart: red ones first, then amber, then the headline ones."""
    with_values = [r for r in rows if r.latest is not None]
    picked = [r for r in with_values if r.status == "red"] + [r for r in with_values if r.status == "amber"]
    by_code = {r.code: r for r in with_values}
    picked += [by_code[c] for c in HEADLINE if c in by_code]
    out: list[Row] = []
    for r in picked:
        if r not in out:
            out.append(r)
    return out[:MAX_TRENDS]


def block_trends(s: Any) -> list[Block]:
    from srpp.kpis import chart_images
    from srpp.orgs.services import municipalities

    obj: ImpactYear = s.obj
    chosen = _chosen(obj.rows)
    if not chosen:
        return [Block("paragraphs", items=[_("No indicator values were recorded for %(year)s.",
                                             year=str(obj.year))])]
    periods = overview.periods_ending(obj.last_period)
    labels = [p.label for p in periods]
    blocks: list[Block] = [Block("paragraphs", items=[
        _("The charts follow the indicators that need attention (red, then amber) and the programme's headline "
          "figures over the last four half-years; the dashed line is the target.")])]
    figure = 2
    for row in chosen:
        ind = row.indicator
        values = overview.series(ind, [REGION], periods)[REGION]
        unit = str(UNIT_LABELS.get(ind.unit, ""))
        draw = _drawn(chart_images.line_png, labels, [(obj.region.name, values)], target=ind.target,
                       target_label=_("target") if ind.target is not None else "", fmt=_plain, y_label=unit,
                       integer=ind.unit == "count")
        alt = _("Line chart of %(code)s %(name)s for the region: %(values)s.", code=ind.code, name=ind.name,
                values=_values_in_words(labels, values, ind.unit))
        if ind.target is not None:
            alt += " " + _("Target: %(target)s.", target=row.target_text)
        blocks.append(Block("image", draw=draw, alt=alt, caption=_(
            "Figure %(n)s. %(code)s %(name)s, %(first)s – %(last)s", n=str(figure), code=ind.code, name=ind.name,
            first=labels[0], last=labels[-1])))
        figure += 1

    munis = municipalities()
    compared = 0
    period = obj.last_period
    candidates = chosen + [r for r in obj.rows if r not in chosen and r.latest is not None]
    for row in candidates:
        if compared >= MAX_COMPARISONS:
            break
        ind = row.indicator
        pairs = overview.comparison(ind, period, munis)
        statuses = [ind.status(v.value) if v is not None else "none" for _m, v in pairs]
        if "red" not in statuses and compared > 0:
            continue
        if all(v is None for _m, v in pairs):
            continue
        names = [m.short_name for m, _v in pairs]
        texts = [f"{overview.format_value(v.value, ind.unit)} · {STATUS_LABELS[st]}" if v is not None
                 else str(STATUS_LABELS["none"]) for (_m, v), st in zip(pairs, statuses, strict=True)]
        draw = _drawn(chart_images.bar_png, names, [v.value if v is not None else None for _m, v in pairs],
                       statuses=statuses, texts=texts, target=ind.target,
                       target_label=_("target") if ind.target is not None else "")
        alt = _("Bar chart of %(code)s %(name)s by municipality in %(period)s: %(values)s.", code=ind.code,
                name=ind.name, period=period.label,
                values="; ".join(f"{n}: {t}" for n, t in zip(names, texts, strict=True)))
        blocks.append(Block("image", draw=draw, alt=alt, caption=_(
            "Figure %(n)s. %(code)s %(name)s by municipality, %(period)s", n=str(figure), code=ind.code,
            name=ind.name, period=period.label)))
        figure += 1
        compared += 1
    return blocks


def block_risks(s: Any) -> list[Block]:
    from srpp.risks import services as risks
    from srpp.risks.models import Rating, RiskAlert

    obj: ImpactYear = s.obj
    register = risks.by_severity(risks.all_risks())
    if not register:
        return [Block("paragraphs", items=[_("The risk register is empty.")])]
    alerts: dict[int, list[str]] = {}
    for alert in db.session.scalars(select(RiskAlert).where(
            RiskAlert.period_end >= dt.date(obj.year, 1, 1), RiskAlert.period_end <= dt.date(obj.year, 12, 31))
            .order_by(RiskAlert.indicator_code, RiskAlert.scope_key)):
        scope = alert.municipality.short_name if alert.municipality is not None else _("region")
        text = f"{alert.indicator_code} ({scope})"
        if text not in alerts.setdefault(alert.risk_id, []):
            alerts[alert.risk_id].append(text)
    actions = risks.open_actions_count(register)
    levels = {lvl: sum(1 for r in register if r.level == lvl) for lvl in Rating}
    rows = [[r.code, r.title, f"{r.level.label} ({r.likelihood.label} × {r.impact.label})",
             ", ".join(alerts.get(r.id, [])) or "—", str(actions.get(r.id, 0))] for r in register]
    summary = _("The register holds %(total)s risks: %(high)s high, %(medium)s medium and %(low)s low. "
                "%(alerts)s of them had a monitoring indicator in red during %(year)s.",
                total=len(register), high=levels[Rating.HIGH], medium=levels[Rating.MEDIUM],
                low=levels[Rating.LOW], alerts=sum(1 for r in register if alerts.get(r.id)), year=str(obj.year))
    return [Block("paragraphs", items=[summary]),
            Block("table", caption=_("Risks by severity, with the alerts of the year"),
                  headers=[_("Code"), _("Risk"), _("Level (likelihood × impact)"), _("Alerts (indicator, scope)"),
                           _("Open corrective actions")], rows=rows, numeric=(4,))]


def block_targets(s: Any) -> list[Block]:
    from srpp.risks import services as risks

    obj: ImpactYear = s.obj
    statuses = risks.targets_status(obj.as_of)
    if not statuses:
        return [Block("paragraphs", items=[_("No programme targets are recorded.")])]
    done = [t for t in statuses if t.state == "done"]
    rows = [[t.code, t.title, fmt_date(t.due_on), t.state_label, t.summary] for t in statuses]
    items = [_("%(done)s of %(total)s programme targets reached by %(day)s.", done=len(done), total=len(statuses),
               day=fmt_date(obj.as_of, "long"))]
    blocks = [Block("paragraphs", items=items)]
    if done:
        blocks.append(Block("bullets", items=[f"{t.code} {t.title}" for t in done]))
    blocks.append(Block("table", caption=_("Programme targets"),
                        headers=[_("Code"), _("Target"), _("Due"), _("State"), _("Evidence")], rows=rows))
    return blocks
