"""The indicator registry and the values: loading the registry file, the council's thresholds, the
recompute of the computed indicators (idempotent upsert per indicator, scope and half-year), the
records behind a value, formatting, and the public values for the scoreboard.

Permissions:

- ``indicator.view``: municipal staff (procurement, finance, service coordinators) and the regional
  readers (council viewers, admins);
- ``indicator.edit`` (targets and thresholds) and ``indicator.recompute`` (on demand): the council
  viewers and admins — the council owns the common indicator set.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from srpp.auth.models import User
from srpp.core import settings
from srpp.core.audit import bind_actor
from srpp.core.db import is_postgres, utcnow
from srpp.core.errors import DomainError
from srpp.core.i18n import money, number
from srpp.core.permissions import municipal_staff, regional_reader, require, rule
from srpp.core.services import check_version
from srpp.extensions import db
from srpp.kpis import computers
from srpp.kpis.models import Direction, Indicator, IndicatorGroup, IndicatorSource, IndicatorValue
from srpp.orgs.models import Municipality
from srpp.payments.calc import half_year, half_year_label, previous_half_years

log = logging.getLogger("srpp.kpis")

REGISTRY = Path(__file__).parent / "data" / "indicators.yaml"
UNITS = ("count", "percent", "days", "eur", "hours", "score", "m2", "ratio")
PERIODS = ("half_year", "year", "snapshot")
REPORTED_BY = ("municipality", "contract", "both")
#: how many half-years the indicator page shows
HISTORY = 4
LIMIT = Decimal("1e12")


# --- permissions ---------------------------------------------------------------------------------

@rule("indicator.view")
def _indicator_view(user: User, obj: Any) -> bool:
    return regional_reader(user) or municipal_staff(user)


@rule("indicator.edit")
def _indicator_edit(user: User, obj: Any) -> bool:
    """Targets and amber/red thresholds: the council (council viewers) and admins."""
    return regional_reader(user)


@rule("indicator.recompute")
def _indicator_recompute(user: User, obj: Any) -> bool:
    return regional_reader(user)


# --- the registry file ---------------------------------------------------------------------------

class RegistryError(ValueError):
    """The registry file is invalid; ``problems`` lists every problem found."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


_KEYS = {"code", "group", "name_lt", "name_en", "definition_lt", "definition_en", "unit", "period", "direction",
         "source", "computer", "target", "amber", "red", "reported_by", "minimum", "maximum", "public",
         "also_monitors"}
_REQUIRED = ("code", "group", "name_lt", "name_en", "definition_lt", "definition_en", "unit", "direction", "source")
#: columns the loader keeps in line with the file (target/amber/red are the council's after insert)
_SYNCED = ("group", "name_lt", "name_en", "definition_lt", "definition_en", "unit", "period", "direction", "source",
           "computer", "reported_by", "minimum", "maximum", "public", "sort_order")


def _number(raw: Any, unit: str, where: str, problems: list[str]) -> Decimal | None:
    if raw is None:
        return None
    if isinstance(raw, str) and raw.startswith("setting:"):
        key = raw.removeprefix("setting:")
        if key not in settings.SPECS:
            problems.append(f"{where}: unknown setting {key!r}")
            return None
        value = Decimal(str(settings.get(key)))
        return (value * 100).quantize(Decimal("0.01")) if unit == "percent" else value
    try:
        return Decimal(str(raw))
    except InvalidOperation:
        problems.append(f"{where}: {raw!r} is not a number")
        return None


def read_registry(path: Path = REGISTRY) -> list[dict[str, Any]]:
    """The indicators of the registry file as column dicts (thresholds resolved), in file order;
    raises :class:`RegistryError` listing every problem."""
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    problems: list[str] = []
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    groups = {g.value for g in IndicatorGroup}
    for n, raw in enumerate(data.get("indicators") or [], start=1):
        where = f"indicator #{n} ({raw.get('code', '?')})"
        for key in _REQUIRED:
            if not raw.get(key):
                problems.append(f"{where}: {key} is missing")
        for key in set(raw) - _KEYS:
            problems.append(f"{where}: unknown field {key!r}")
        code = str(raw.get("code") or "")
        if code in seen:
            problems.append(f"{where}: code {code} is used twice")
        seen.add(code)
        if len(code) > 40:
            problems.append(f"{where}: code longer than 40 characters")
        unit = raw.get("unit")
        if unit not in UNITS:
            problems.append(f"{where}: unit {unit!r} is not one of {', '.join(UNITS)}")
        if raw.get("group") not in groups:
            problems.append(f"{where}: group {raw.get('group')!r} is unknown")
        if raw.get("direction") not in ("higher", "lower"):
            problems.append(f"{where}: direction must be higher or lower")
        period = raw.get("period", "half_year")
        if period not in PERIODS:
            problems.append(f"{where}: period {period!r} is not one of {', '.join(PERIODS)}")
        source = raw.get("source")
        computer = raw.get("computer")
        if source == "computed":
            if computer not in computers.COMPUTERS:
                problems.append(f"{where}: computer {computer!r} is not in srpp/kpis/computers.py")
        elif source == "reported":
            if computer:
                problems.append(f"{where}: a reported indicator has no computer")
            if raw.get("reported_by") not in REPORTED_BY:
                problems.append(f"{where}: reported_by must be one of {', '.join(REPORTED_BY)}")
        else:
            problems.append(f"{where}: source must be computed or reported")
        row = {
            "code": code, "group": raw.get("group"), "name_lt": str(raw.get("name_lt") or "").strip(),
            "name_en": str(raw.get("name_en") or "").strip(), "definition_lt": str(raw.get("definition_lt") or "").strip(),
            "definition_en": str(raw.get("definition_en") or "").strip(), "unit": unit, "period": period,
            "direction": raw.get("direction"), "source": source, "computer": computer or None,
            "reported_by": raw.get("reported_by") if source == "reported" else None,
            "public": bool(raw.get("public", True)), "sort_order": n,
        }
        for key in ("target", "amber", "red", "minimum", "maximum"):
            row[key] = _number(raw.get(key), unit or "", f"{where} {key}", problems)
        if row["minimum"] is not None and row["maximum"] is not None and row["minimum"] > row["maximum"]:
            problems.append(f"{where}: minimum above maximum")
        if unit in UNITS and raw.get("direction") in ("higher", "lower"):
            problems += [f"{where}: {err.message}" for err in check_thresholds(
                _Probe(row), Thresholds(row["target"], row["amber"], row["red"]))]
        out.append(row)
    if problems:
        raise RegistryError(problems)
    return out


@dataclass
class _Probe:
    """The parts of an indicator the threshold checks read, from a registry row."""

    row: dict[str, Any]

    def __getattr__(self, name: str) -> Any:
        if name == "direction":
            return Direction(self.row["direction"])
        return self.row[name]


def load_registry(path: Path = REGISTRY) -> int:
    """Insert new indicators and keep names, definitions, units … in line with the file. Targets and
    thresholds are written only when an indicator is inserted: after that they are the council's.
    Idempotent (an unchanged indicator is not touched, so its version stays). Returns the number of
    indicators added or changed."""
    rows = read_registry(path)
    existing = {i.code: i for i in db.session.scalars(select(Indicator))}
    changed = 0
    for row in rows:
        values = {**row, "group": IndicatorGroup(row["group"]), "direction": Direction(row["direction"]),
                  "source": IndicatorSource(row["source"])}
        ind = existing.get(row["code"])
        if ind is None:
            db.session.add(Indicator(**values))
            changed += 1
            continue
        updates = {k: values[k] for k in _SYNCED if getattr(ind, k) != values[k]}
        if updates:
            for key, value in updates.items():
                setattr(ind, key, value)
            changed += 1
    db.session.flush()
    return changed


# --- thresholds ------------------------------------------------------------------------------------

@dataclass
class Thresholds:
    target: Decimal | None
    amber: Decimal | None
    red: Decimal | None


class ThresholdsRefused(DomainError):
    def __init__(self, problems: list[DomainError]) -> None:
        super().__init__(problems[0].message, problems[0].field)
        self.problems = problems


def value_range(indicator: Any) -> tuple[Decimal | None, Decimal | None]:
    """The values the indicator can take: its reported range, else 0–100 for percentages and ≥ 0
    for the other units (a score has no lower bound of its own)."""
    lo, hi = indicator.minimum, indicator.maximum
    if lo is None and indicator.unit != "score":
        lo = Decimal(0)
    if hi is None and indicator.unit == "percent" and indicator.code != "R-VARIANCE":
        hi = Decimal(100)
    return lo, hi


def check_thresholds(indicator: Any, t: Thresholds) -> list[DomainError]:
    problems: list[DomainError] = []
    lo, hi = value_range(indicator)
    labels = {"target": _("The target"), "amber": _("The amber threshold"), "red": _("The red threshold")}
    for name in ("target", "amber", "red"):
        value = getattr(t, name)
        if value is None:
            continue
        if abs(value) >= LIMIT:
            problems.append(DomainError(_("%(what)s is too large.", what=labels[name]), field=name))
        elif lo is not None and value < lo:
            problems.append(DomainError(_("%(what)s cannot be below %(min)s.", what=labels[name],
                                          min=number(lo)), field=name))
        elif hi is not None and value > hi:
            problems.append(DomainError(_("%(what)s cannot be above %(max)s.", what=labels[name],
                                          max=number(hi)), field=name))
    if problems:
        return problems
    higher = indicator.direction == Direction.HIGHER

    def worse(a: Decimal, b: Decimal) -> bool:
        return a < b if higher else a > b

    if t.red is not None and t.amber is not None and not worse(t.red, t.amber):
        problems.append(DomainError(
            _("With “higher is better”, the red threshold must be below the amber one.") if higher else
            _("With “lower is better”, the red threshold must be above the amber one."), field="red"))
    if t.target is not None and t.amber is not None and worse(t.target, t.amber):
        problems.append(DomainError(
            _("With “higher is better”, the target cannot be below the amber threshold.") if higher else
            _("With “lower is better”, the target cannot be above the amber threshold."), field="target"))
    if t.target is not None and t.red is not None and not worse(t.red, t.target):
        problems.append(DomainError(
            _("With “higher is better”, the red threshold must be below the target.") if higher else
            _("With “lower is better”, the red threshold must be above the target."), field="red"))
    return problems


def set_thresholds(actor: User, indicator: Indicator, t: Thresholds, version: Any) -> Indicator:
    """The council sets the target and the amber/red thresholds (empty = none)."""
    require(actor, "indicator.edit", indicator)
    check_version(indicator, version)
    problems = check_thresholds(indicator, t)
    if problems:
        raise ThresholdsRefused(problems)
    bind_actor(db.session(), actor)
    indicator.target, indicator.amber, indicator.red = t.target, t.amber, t.red
    db.session.flush()
    return indicator


# --- reading ----------------------------------------------------------------------------------------

def get_indicator(code: str) -> Indicator | None:
    return db.session.scalar(select(Indicator).where(Indicator.code == code))


def indicators() -> list[Indicator]:
    order = {g: n for n, g in enumerate(IndicatorGroup)}
    return sorted(db.session.scalars(select(Indicator)), key=lambda i: (order[i.group], i.sort_order, i.code))


def by_group(items: list[Indicator]) -> list[tuple[IndicatorGroup, list[Indicator]]]:
    out: dict[IndicatorGroup, list[Indicator]] = {}
    for ind in items:
        out.setdefault(ind.group, []).append(ind)
    return list(out.items())


def latest_region_values() -> dict[int, IndicatorValue]:
    """For each indicator, its region value of the latest half-year that has one (not in the future)."""
    out: dict[int, IndicatorValue] = {}
    for v in db.session.scalars(select(IndicatorValue).where(
            IndicatorValue.scope_key == "region", IndicatorValue.period_start <= computers.today())
            .order_by(IndicatorValue.period_start.desc())):
        out.setdefault(v.indicator_id, v)
    return out


def periods(n: int = HISTORY, today: dt.date | None = None) -> list[tuple[dt.date, dt.date]]:
    return previous_half_years(today or computers.today(), n)


def value_grid(indicator: Indicator, spans: list[tuple[dt.date, dt.date]]) -> dict[tuple[str, dt.date], IndicatorValue]:
    starts = [s for s, _ in spans]
    rows = db.session.scalars(select(IndicatorValue).where(
        IndicatorValue.indicator_id == indicator.id, IndicatorValue.period_start.in_(starts)))
    return {(v.scope_key, v.period_start): v for v in rows}


def scope_key(municipality: Municipality | None) -> str:
    return "region" if municipality is None else f"m:{municipality.id}"


def get_value(indicator: Indicator, period_start: dt.date, municipality: Municipality | None) -> IndicatorValue | None:
    return db.session.scalar(select(IndicatorValue).where(
        IndicatorValue.indicator_id == indicator.id, IndicatorValue.scope_key == scope_key(municipality),
        IndicatorValue.period_start == period_start))


# --- the records behind a value -------------------------------------------------------------------

@dataclass
class RecordLink:
    kind: str
    kind_label: str
    label: str
    url: str | None
    note: str | None = None
    extra_label: str | None = None
    extra_url: str | None = None


def _record_types() -> dict[str, tuple[Any, Any, str, str]]:
    """type → (model, label of the type, endpoint, its id argument)."""
    from srpp.contracts.models import Contract
    from srpp.frameworks.models import FrameworkAgreement
    from srpp.orgs.models import Supplier
    from srpp.payments.models import Invoice, PaymentReport
    from srpp.plans.models import PlanItem
    from srpp.tenders.models import Lot, Tender

    return {
        "tender": (Tender, _l("Tender"), "tenders.show", "tender_id"),
        "lot": (Lot, _l("Lot"), "tenders.lot", "lot_id"),
        "framework": (FrameworkAgreement, _l("Framework agreement"), "frameworks.framework", "framework_id"),
        "contract": (Contract, _l("Contract"), "contracts.contract", "contract_id"),
        "invoice": (Invoice, _l("Invoice"), "contracts.invoice", "invoice_id"),
        "supplier": (Supplier, _l("Organisation"), "orgs.supplier", "supplier_id"),
        "plan_item": (PlanItem, _l("Plan item"), "plans.version", "version_id"),
        "payment_report": (PaymentReport, _l("Payment report"), "payments.report", "report_id"),
    }


def _record_label(kind: str, obj: Any) -> str:
    if kind == "lot":
        return _("%(tender)s – lot %(n)s: %(title)s", tender=obj.tender.title, n=obj.number, title=obj.title)
    if kind == "framework":
        return f"{obj.code} {obj.title}"
    if kind == "invoice":
        return _("No. %(number)s, %(supplier)s, %(amount)s", number=obj.number, supplier=obj.supplier.legal_name,
                 amount=money(obj.amount))
    if kind == "supplier":
        return obj.legal_name
    if kind == "payment_report":
        return _("%(municipality)s, %(period)s", municipality=obj.municipality.name,
                 period=half_year_label(obj.period_start))
    return obj.title


def describe_records(value: IndicatorValue | None) -> list[RecordLink]:
    """The records a computed value came from, with their titles and links (missing rows skipped)."""
    recs = list((value.details or {}).get("records") or []) if value is not None else []
    types = _record_types()
    wanted: dict[str, set[int]] = {}
    for r in recs:
        if r.get("type") in types:
            wanted.setdefault(r["type"], set()).add(int(r["id"]))
    loaded: dict[tuple[str, int], Any] = {}
    for kind, ids in wanted.items():
        model = types[kind][0]
        stmt = select(model).where(model.id.in_(ids))
        if kind in ("lot", "invoice"):  # their labels name the tender / the supplier
            stmt = stmt.options(selectinload(model.tender if kind == "lot" else model.supplier))
        for obj in db.session.scalars(stmt):
            loaded[(kind, obj.id)] = obj
    tender_ids = {int(r["tender"]) for r in recs if r.get("type") == "plan_item" and r.get("tender")}
    tenders = {}
    if tender_ids:
        from srpp.tenders.models import Tender

        tenders = {t.id: t for t in db.session.scalars(select(Tender).where(Tender.id.in_(tender_ids)))}
    out = []
    for r in recs:
        kind = r.get("type")
        obj = loaded.get((kind, int(r.get("id", 0)))) if kind in types else None
        if obj is None:
            continue
        _model, kind_label, endpoint, arg = types[kind]
        link = RecordLink(kind, str(kind_label), _record_label(kind, obj),
                          url_for(endpoint, **{arg: r["version"] if kind == "plan_item" else obj.id}))
        if kind == "plan_item":
            link.note = _("published on time") if r.get("on_time") else _("not published on time")
            tender = tenders.get(int(r["tender"])) if r.get("tender") else None
            if tender is not None:
                link.extra_label, link.extra_url = tender.title, url_for("tenders.show", tender_id=tender.id)
        out.append(link)
    return out


# --- formatting -----------------------------------------------------------------------------------

UNIT_LABELS = {"count": _l("count"), "percent": _l("percent"), "days": _l("days"), "eur": _l("euro"),
               "hours": _l("hours"), "score": _l("score"), "m2": _l("square metres"), "ratio": _l("ratio")}
PERIOD_LABELS = {"half_year": _l("half-year"), "year": _l("year"),
                 "snapshot": _l("state at the end of the half-year")}
STATUS_LABELS = {"green": _l("On track"), "amber": _l("Needs attention"), "red": _l("Off track"),
                 "none": _l("Not rated")}
REPORTED_BY_LABELS = {"municipality": _l("each municipality"), "contract": _l("each supplier contract"),
                      "both": _l("municipalities and supplier contracts")}


def _digits(value: Decimal, most: int) -> int:
    return 0 if value == value.to_integral_value() else most


def format_value(unit: str, value: Decimal | None) -> str:
    """A value in its unit, in the user's locale: ``12,5 %``, ``31,2 d.``, ``1 234,00 €`` …"""
    if value is None:
        return "—"
    value = Decimal(value)
    if unit == "percent":
        from srpp.region.services import percent

        return percent(value / 100, 1)
    if unit == "eur":
        return money(value)
    if unit == "days":
        return _("%(n)s days", n=number(value, _digits(value, 1)))
    if unit == "hours":
        return _("%(n)s h", n=number(value, _digits(value, 1)))
    if unit == "m2":
        return _("%(n)s m²", n=number(value, _digits(value, 1)))
    if unit in ("score", "ratio"):
        return number(value, 2)
    return number(value, _digits(value, 2))


#: the further figures a computer keeps in ``details``: key → (label, unit; "same" = the indicator's)
DETAIL_LABELS: dict[str, tuple[Any, str]] = {
    "signed_in_period": (_l("Signed in the half-year"), "count"),
    "median_days": (_l("Median days to pay"), "days"),
    "p90_days": (_l("90th percentile of days to pay"), "days"),
    "within_30": (_l("Invoices paid within 30 days"), "count"),
    "share_within_30": (_l("Share paid within 30 days"), "percent"),
    "late_count": (_l("Invoices due in the half-year paid late or still unpaid"), "count"),
    "interest": (_l("Statutory interest owed"), "eur"),
    "compensation": (_l("Fixed compensation owed"), "eur"),
    "late": (_l("Late"), "count"),
    "planned": (_l("Planned by the payment schedules"), "eur"),
    "paid": (_l("Paid"), "eur"),
    "median": (_l("Median"), "same"),
    "zero_bid_lots": (_l("Lots without a bid"), "count"),
    "share_zero_bid": (_l("Share of lots without a bid"), "percent"),
    "seo_bids": (_l("Bids of social economy organisations"), "count"),
    "sme_bids": (_l("Bids of other small and medium-sized enterprises"), "count"),
    "lots_with_seo_bid": (_l("Lots with a bid of a social economy organisation"), "count"),
    "share_lots_with_seo_bid": (_l("Share of lots with a bid of a social economy organisation"), "percent"),
    "seo_winning_bids": (_l("Winning bids of social economy organisations"), "count"),
    "win_to_participation": (_l("Win-to-participation ratio of social economy organisations"), "percent"),
    "lots": (_l("Lots"), "count"),
    "contracts": (_l("Contracts"), "count"),
    "top3_share": (_l("Share of the three largest winners in the awarded value"), "percent"),
    "mean_bidders_per_lot": (_l("Bidders per lot"), "ratio"),
    "value": (_l("Value"), "eur"),
    "minimum": (_l("Legal minimum"), "percent"),
    "new_in_period": (_l("New in the half-year"), "count"),
    "unpublished": (_l("Reports not yet published"), "count"),
}


def detail_rows(indicator: Indicator, value: IndicatorValue | None) -> list[tuple[str, str]]:
    """The further figures of a computed value, labelled and formatted (unknown keys are left out)."""
    details = (value.details or {}) if value is not None else {}
    out = []
    for key, (label, unit) in DETAIL_LABELS.items():
        raw = details.get(key)
        if raw is None or isinstance(raw, dict | list):
            continue
        try:
            number_ = Decimal(str(raw))
        except InvalidOperation:
            continue
        out.append((str(label), format_value(indicator.unit if unit == "same" else unit, number_)))
    return out


def threshold_text(indicator: Indicator, which: str) -> str | None:
    """“at or above 3” / “at or below 45 days” (the colour applies from that value on)."""
    value = getattr(indicator, which)
    if value is None:
        return None
    shown = format_value(indicator.unit, value)
    if indicator.direction == Direction.HIGHER:
        return _("at or below %(value)s", value=shown)
    return _("at or above %(value)s", value=shown)


# --- recompute ----------------------------------------------------------------------------------------

@dataclass
class RecomputeResult:
    period_start: dt.date
    period_end: dt.date
    rows: int
    missing: list[str]

    def as_json(self) -> dict[str, Any]:
        return {"period": half_year_label(self.period_start), "rows": self.rows, "missing": self.missing}


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    return value


def _q(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.0001"))


def _upsert(rows: list[dict[str, Any]]) -> None:
    """Insert or replace values on (indicator, scope, period start): race-free in one statement."""
    if not rows:
        return
    if is_postgres():
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(IndicatorValue.__table__).values(rows)
    stmt = stmt.on_conflict_do_update(
        index_elements=["indicator_id", "scope_key", "period_start"],
        set_={c: stmt.excluded[c] for c in ("municipality_id", "period_end", "value", "numerator", "denominator",
                                            "details", "source", "computed_at")})
    db.session.execute(stmt)


def recompute(period_start: dt.date, period_end: dt.date, municipality_ids: list[int] | None = None,
              codes: list[str] | None = None) -> RecomputeResult:
    """Compute every computed indicator (or those of ``codes``) for the region and each municipality
    (or those of ``municipality_ids``) and upsert the values: running it twice gives the same rows and
    values. A computer that returns ``None`` writes nothing for that scope. The caller commits."""
    stmt = select(Indicator).where(Indicator.source == IndicatorSource.COMPUTED).order_by(Indicator.sort_order)
    if codes:
        stmt = stmt.where(Indicator.code.in_(codes))
    todo = list(db.session.scalars(stmt))
    todo.sort(key=lambda i: i.computer in computers.RUN_LAST)
    munis = select(Municipality.id).order_by(Municipality.sort_order, Municipality.id)
    if municipality_ids is not None:
        munis = munis.where(Municipality.id.in_(municipality_ids))
    scopes: list[int | None] = [None, *db.session.scalars(munis)]
    now = utcnow()
    written = 0
    missing: list[str] = []
    batch: list[dict[str, Any]] = []
    with computers.memoised():
        for ind in todo:
            fn = computers.COMPUTERS.get(ind.computer or "")
            if fn is None:
                log.warning("indicator %s: no computer %r", ind.code, ind.computer)
                missing.append(ind.code)
                continue
            if ind.computer in computers.RUN_LAST and batch:
                _upsert(batch)  # it reads the values written so far
                written += len(batch)
                batch = []
            for muni in scopes:
                out = fn(period_start, period_end, muni)
                if out is None:
                    continue
                value, numerator, denominator, details = out
                batch.append({
                    "indicator_id": ind.id, "scope_key": "region" if muni is None else f"m:{muni}",
                    "municipality_id": muni, "period_start": period_start, "period_end": period_end,
                    "value": _q(value), "numerator": _q(numerator), "denominator": _q(denominator),
                    "details": _jsonable(details or {}), "source": "computed", "computed_at": now})
        _upsert(batch)
        written += len(batch)
    db.session.expire_all()  # ORM objects loaded before see the new values
    return RecomputeResult(period_start, period_end, written, missing)


def recompute_recent(today: dt.date | None = None) -> list[RecomputeResult]:
    """The daily run: the current and the previous half-year."""
    return [recompute(s, e) for s, e in previous_half_years(today or computers.today(), 2)]


# --- the public scoreboard ----------------------------------------------------------------------------

@dataclass
class PublicValue:
    """An aggregate for the public scoreboard: no records, no details, no personal data."""

    code: str
    name: str
    definition: str
    group: IndicatorGroup
    unit: str
    direction: Direction
    target: Decimal | None
    period_start: dt.date
    period_end: dt.date
    value: Decimal | None
    status: str
    by_municipality: list[tuple[Municipality, Decimal | None, str]]

    @property
    def text(self) -> str:
        return format_value(self.unit, self.value)


def public_values(period: tuple[dt.date, dt.date] | dt.date | None = None) -> list[PublicValue]:
    """The public indicators' values for a half-year (a date in it, or its (start, end)); by default
    the latest half-year that has public values. Indicators without a region value are left out."""
    if isinstance(period, tuple):
        start = period[0]
    elif isinstance(period, dt.date):
        start = half_year(period)[0]
    else:
        start = db.session.scalar(
            select(IndicatorValue.period_start).join(Indicator, IndicatorValue.indicator_id == Indicator.id)
            .where(Indicator.public.is_(True), IndicatorValue.period_start <= computers.today())
            .order_by(IndicatorValue.period_start.desc()).limit(1))
        if start is None:
            return []
    municipalities = list(db.session.scalars(select(Municipality).order_by(Municipality.sort_order, Municipality.id)))
    rows = db.session.scalars(select(IndicatorValue).join(Indicator, IndicatorValue.indicator_id == Indicator.id)
                              .where(Indicator.public.is_(True), IndicatorValue.period_start == start))
    grid: dict[int, dict[str, IndicatorValue]] = {}
    for v in rows:
        grid.setdefault(v.indicator_id, {})[v.scope_key] = v
    out = []
    for ind in indicators():
        cells = grid.get(ind.id) or {}
        region = cells.get("region")
        if not ind.public or region is None:
            continue
        per_m = []
        for m in municipalities:
            v = cells.get(f"m:{m.id}")
            per_m.append((m, v.value if v else None, ind.status(v.value) if v else "none"))
        out.append(PublicValue(ind.code, ind.name, ind.definition, ind.group, ind.unit, ind.direction, ind.target,
                               region.period_start, region.period_end, region.value, ind.status(region.value), per_m))
    return out
