"""Indicators of the common set and their values (``/api/v1``).

Everyone sees the public indicators and their published values, as on the public scoreboard
(``kpis.services.public_values``): half-years that have started and have a regional value, the
region's and each municipality's value with its status, nothing of the records behind them. Municipal
staff and the regional readers (``indicator.view``) see every indicator, the amber and red thresholds,
every value and how it was made (numerator, denominator, source, time)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask_babel import gettext as _
from pydantic import BaseModel, Field
from sqlalchemy import case, select
from sqlalchemy.orm import lazyload

from srpp.api.endpoints import HALF_YEAR, MUNICIPALITY_CODE, hidden, municipality_id, values_of
from srpp.api.spec import Page, PageQuery, not_found, operation, paginate
from srpp.api.views import bp
from srpp.auth.models import User
from srpp.core.permissions import can
from srpp.extensions import db
from srpp.kpis import computers
from srpp.kpis.models import Direction, Indicator, IndicatorGroup, IndicatorSource, IndicatorValue
from srpp.orgs.models import Municipality
from srpp.payments.calc import parse_half_year

STATUS = "green | amber | red | none (no value or no thresholds)"


class IndicatorOut(BaseModel):
    code: str
    group: values_of(IndicatorGroup)
    name_lt: str
    name_en: str
    definition_lt: str
    definition_en: str
    unit: str = Field(description="count | percent | days | eur | hours | score | m2 | ratio")
    period: str = Field(description="half_year | year | snapshot")
    direction: values_of(Direction)
    source: values_of(IndicatorSource)
    public: bool
    target: Decimal | None
    amber: Decimal | None = Field(description="amber threshold (null for the public)")
    red: Decimal | None = Field(description="red threshold (null for the public)")
    minimum: Decimal | None = Field(description="the smallest valid value")
    maximum: Decimal | None = Field(description="the largest valid value")
    reported_by: str | None = Field(description="reported indicators: municipality | contract | both")

    @classmethod
    def of(cls, i: Indicator, internal: bool) -> IndicatorOut:
        return cls(code=i.code, group=i.group.value, name_lt=i.name_lt, name_en=i.name_en,
                   definition_lt=i.definition_lt, definition_en=i.definition_en, unit=i.unit, period=i.period,
                   direction=i.direction.value, source=i.source.value, public=i.public, target=i.target,
                   amber=i.amber if internal else None, red=i.red if internal else None, minimum=i.minimum,
                   maximum=i.maximum, reported_by=i.reported_by)


class ValueOut(BaseModel):
    scope: str = Field(description="`region` or a municipality code")
    period: str = Field(description="the half-year, e.g. 2026H1")
    period_start: dt.date
    period_end: dt.date
    value: Decimal | None
    status: str = Field(description=STATUS)
    numerator: Decimal | None = Field(description="null for the public")
    denominator: Decimal | None = Field(description="null for the public")
    source: str | None = Field(description="computed | reported (null for the public)")
    computed_at: dt.datetime | None = Field(description="null for the public")


class IndicatorDetail(IndicatorOut):
    values: list[ValueOut] = Field(description="by half-year (oldest first), the region before the municipalities")


class IndicatorQuery(PageQuery):
    group: values_of(IndicatorGroup) | None = None
    source: values_of(IndicatorSource) | None = None


@operation(bp, "/indicators", summary="Indicators of the common set", tag="indicators", query=IndicatorQuery,
           response=Page[IndicatorOut])
def indicators(user, query: IndicatorQuery, body):
    """The public indicators for everyone; all of them for municipal staff and the regional readers."""
    internal = can(user, "indicator.view")
    group_order = case({g.value: n for n, g in enumerate(IndicatorGroup)}, value=Indicator.group)
    stmt = select(Indicator).order_by(group_order, Indicator.sort_order, Indicator.code)
    if not internal:
        stmt = stmt.where(Indicator.public.is_(True))
    if query.group:
        stmt = stmt.where(Indicator.group == IndicatorGroup(query.group))
    if query.source:
        stmt = stmt.where(Indicator.source == IndicatorSource(query.source))
    return paginate(stmt, query, lambda i: IndicatorOut.of(i, internal))


class ValueQuery(BaseModel):
    period: str | None = Field(None, pattern=HALF_YEAR, description="one half-year, e.g. 2026H1")
    scope: str | None = Field(None, pattern=r"^(region|" + MUNICIPALITY_CODE[1:-1] + ")$",
                              description="`region` or a municipality code")


def _values(ind: Indicator, query: ValueQuery, internal: bool) -> list[ValueOut]:
    stmt = (select(IndicatorValue, Municipality.code, Municipality.sort_order)
            .outerjoin(Municipality, IndicatorValue.municipality_id == Municipality.id)
            .where(IndicatorValue.indicator_id == ind.id, IndicatorValue.period_start <= computers.today())
            .options(lazyload(IndicatorValue.indicator), lazyload(IndicatorValue.municipality)))
    if query.period:
        stmt = stmt.where(IndicatorValue.period_start == parse_half_year(query.period)[0])
    if query.scope:
        scope = "region" if query.scope == "region" else f"m:{municipality_id(query.scope, 'scope')}"
        stmt = stmt.where(IndicatorValue.scope_key == scope)
    rows = db.session.execute(stmt).all()
    if not internal:  # as public_values: only the half-years with a regional value
        with_region = set(db.session.scalars(select(IndicatorValue.period_start).where(
            IndicatorValue.indicator_id == ind.id, IndicatorValue.scope_key == "region")))
        rows = [r for r in rows if r[0].period_start in with_region]
    rows.sort(key=lambda r: (r[0].period_start, r[1] is not None, r[2] or 0, r[0].scope_key))
    return [ValueOut(
        scope=code or "region", period=f"{v.period_start.year}H{1 if v.period_start.month <= 6 else 2}",
        period_start=v.period_start, period_end=v.period_end, value=v.value, status=ind.status(v.value),
        numerator=v.numerator if internal else None, denominator=v.denominator if internal else None,
        source=v.source if internal else None, computed_at=v.computed_at if internal else None)
        for v, code, _order in rows]


@operation(bp, "/indicators/<code>", summary="One indicator with its values", tag="indicators",
           query=ValueQuery, response=IndicatorDetail)
def indicator(user: User | None, query: ValueQuery, body, code: str):
    ind = db.session.scalar(select(Indicator).where(Indicator.code == code))
    if ind is None:
        raise not_found(_("Indicator"))
    internal = can(user, "indicator.view")
    if not ind.public and not internal:
        raise hidden(user, _("Indicator"), "indicator.view")
    return IndicatorDetail(**IndicatorOut.of(ind, internal).model_dump(), values=_values(ind, query, internal))
