"""The indicators seen together, as the dashboards, the public scoreboard and the annual impact report
show them: every indicator with its value for one scope (the region or a municipality) over the last
half-years, its traffic light, and the risks it monitors.

Reads the stored values (``IndicatorValue``, written by ``srpp.kpis.services.recompute`` and the
reporting aggregation) keyed by their half-year (``period_start``); computes nothing itself. The
latest half-year is the latest that has values and has started (the running one counts to date, as
on the indicator pages)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import defer, lazyload

from srpp.extensions import db
from srpp.kpis import services
from srpp.kpis.models import Indicator, IndicatorGroup, IndicatorValue
from srpp.orgs.models import Municipality
from srpp.payments import calc

TREND_LENGTH = 4
STATUSES = ("green", "amber", "red", "none")
#: the traffic lights in words (a colour is never the only sign) and the units, as the indicator pages say them
STATUS_LABELS = services.STATUS_LABELS
UNIT_LABELS = services.UNIT_LABELS
REGION = "region"
#: the cache generation of what is read from the stored values, indicators and risks (``srpp/models.py``)
CACHE_NS = "indicators"
CACHE_TTL = 3600


def scope_key(municipality: Municipality | None) -> str:
    return REGION if municipality is None else f"m:{municipality.id}"


# --- half-years ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class HalfYear:
    start: dt.date
    end: dt.date

    @classmethod
    def of(cls, day: dt.date) -> HalfYear:
        return cls(*calc.half_year(day))

    @classmethod
    def parse(cls, text: str | None) -> HalfYear | None:
        parsed = calc.parse_half_year(text)
        return cls(*parsed) if parsed else None

    @property
    def key(self) -> str:
        return f"{self.start.year}H{1 if self.start.month == 1 else 2}"

    @property
    def label(self) -> str:
        return calc.half_year_label(self.start)

    @property
    def year(self) -> int:
        return self.start.year


def periods_ending(last: HalfYear, n: int = TREND_LENGTH) -> list[HalfYear]:
    """The n half-years ending with ``last``, oldest first."""
    return [HalfYear(s, e) for s, e in calc.previous_half_years(last.start, n)]


def latest_period(today: dt.date | None = None) -> HalfYear | None:
    """The latest half-year that has values and has started by ``today`` (None: no values)."""
    today = today or dt.date.today()
    start = db.session.scalar(select(func.max(IndicatorValue.period_start))
                              .where(IndicatorValue.period_start <= today))
    return HalfYear.of(start) if start is not None else None


def periods_with_values(today: dt.date | None = None) -> list[HalfYear]:
    """Every half-year that has a value and has started (oldest first)."""
    today = today or dt.date.today()
    starts = db.session.scalars(select(IndicatorValue.period_start).where(IndicatorValue.period_start <= today)
                                .distinct())
    return sorted({HalfYear.of(s) for s in starts}, key=lambda p: p.start)


def years_with_values() -> list[int]:
    return sorted({p.year for p in periods_with_values()}, reverse=True)


# --- the indicators and their values ---------------------------------------------------------------------------

GROUP_RANK = {g: i for i, g in enumerate(IndicatorGroup)}


def indicators(group: IndicatorGroup | None = None, public_only: bool = False) -> list[Indicator]:
    stmt = select(Indicator)
    if group is not None:
        stmt = stmt.where(Indicator.group == group)
    if public_only:
        stmt = stmt.where(Indicator.public.is_(True))
    return sorted(db.session.scalars(stmt), key=lambda i: (GROUP_RANK[i.group], i.sort_order, i.code))


def value_grid(indicator_ids: list[int], scope_keys: list[str], periods: list[HalfYear]
               ) -> dict[tuple[int, str, dt.date], IndicatorValue]:
    """(indicator id, scope key, half-year start) → the value, for the given half-years."""
    if not indicator_ids or not scope_keys or not periods:
        return {}
    rows = db.session.scalars(select(IndicatorValue).where(
        IndicatorValue.indicator_id.in_(indicator_ids), IndicatorValue.scope_key.in_(scope_keys),
        IndicatorValue.period_start.in_([p.start for p in periods]))
        # the callers hold the indicators already; the records behind each value load only if shown
        .options(lazyload(IndicatorValue.indicator), defer(IndicatorValue.details)))
    return {(v.indicator_id, v.scope_key, v.period_start): v for v in rows}


def risks_by_indicator() -> dict[str, list]:
    """Indicator code → the risks that monitor it (register order)."""
    from srpp.risks import services as risks

    out: dict[str, list] = {}
    for risk in risks.all_risks():
        for code in risk.indicator_codes:
            out.setdefault(code, []).append(risk)
    return out


def format_value(value: Decimal | None, unit: str) -> str:
    return services.format_value(unit, value)


@dataclass
class Row:
    """One indicator with its values over ``periods`` for one scope (None: no value that half-year)."""

    indicator: Indicator
    periods: list[HalfYear]
    values: list[IndicatorValue | None]
    risks: list = field(default_factory=list)

    @property
    def code(self) -> str:
        return self.indicator.code

    @property
    def latest(self) -> IndicatorValue | None:
        """The value of the latest half-year that has one (a row whose value could not be computed, e.g.
        a share of nothing, does not count)."""
        return next((v for v in reversed(self.values) if v is not None and v.value is not None), None)

    @property
    def latest_period(self) -> HalfYear | None:
        return next((p for p, v in zip(reversed(self.periods), reversed(self.values), strict=True)
                     if v is not None and v.value is not None), None)

    @property
    def current(self) -> bool:
        """The latest value is of the last half-year shown (not an older one)."""
        return bool(self.values) and self.values[-1] is not None and self.values[-1].value is not None

    @property
    def status(self) -> str:
        latest = self.latest
        return self.indicator.status(latest.value) if latest is not None else "none"

    @property
    def numbers(self) -> list[Decimal | None]:
        return [v.value if v is not None else None for v in self.values]

    def shown(self, value: IndicatorValue | Decimal | None) -> str:
        if isinstance(value, IndicatorValue):
            value = value.value
        return format_value(value, self.indicator.unit)

    @property
    def target_text(self) -> str:
        return format_value(self.indicator.target, self.indicator.unit) if self.indicator.target is not None else "—"

    @property
    def trend_word(self) -> str:
        """better | worse | same | "" (fewer than two values)."""
        nums = [n for n in self.numbers if n is not None]
        if len(nums) < 2 or nums[-1] == nums[-2]:
            return "same" if len(nums) >= 2 else ""
        up = nums[-1] > nums[-2]
        higher_better = self.indicator.direction.value == "higher"
        return "better" if up == higher_better else "worse"


def board(scope: str, periods: list[HalfYear], group: IndicatorGroup | None = None, public_only: bool = False,
          with_risks: bool = True) -> list[Row]:
    """Every indicator (of a group) with its values for one scope over the half-years."""
    inds = indicators(group, public_only)
    grid = value_grid([i.id for i in inds], [scope], periods)
    risks = risks_by_indicator() if with_risks else {}
    return [Row(i, periods, [grid.get((i.id, scope, p.start)) for p in periods], risks.get(i.code, []))
            for i in inds]


def grouped(rows: list[Row]) -> list[tuple[IndicatorGroup, list[Row]]]:
    out: dict[IndicatorGroup, list[Row]] = {}
    for row in rows:
        out.setdefault(row.indicator.group, []).append(row)
    return sorted(out.items(), key=lambda kv: GROUP_RANK[kv[0]])


def counts(rows: list[Row]) -> dict[str, int]:
    out = dict.fromkeys(STATUSES, 0)
    for row in rows:
        out[row.status] += 1
    return out


def comparison(indicator: Indicator, period: HalfYear, municipalities: list[Municipality]
               ) -> list[tuple[Municipality, IndicatorValue | None]]:
    """Each municipality's value of the indicator in the half-year."""
    keys = [scope_key(m) for m in municipalities]
    grid = value_grid([indicator.id], keys, [period])
    return [(m, grid.get((indicator.id, scope_key(m), period.start))) for m in municipalities]


def series(indicator: Indicator, scopes: list[str], periods: list[HalfYear]) -> dict[str, list[Decimal | None]]:
    """Scope key → the indicator's values over the half-years."""
    grid = value_grid([indicator.id], scopes, periods)
    return {s: [grid[(indicator.id, s, p.start)].value if (indicator.id, s, p.start) in grid else None
                for p in periods] for s in scopes}
