"""The half-yearly data protocol: who reports what, validation, submission, aggregation into the
indicator values, due dates and reminders, completeness.

Rules (domain.md §3; issue #8 item 3):

* **Which indicators.** A municipality's own submission asks every reported indicator
  (``Indicator.source == "reported"``) with ``reported_by`` ``municipality`` or ``both``; a supplier
  contract's submission those with ``contract`` or ``both``.
* **Validation** (``parse_value``), by unit and range: a number (``1234.5``, ``1 234,5``), at most
  four decimals; ``count`` a whole number. The range is the indicator's own ``minimum``/``maximum``
  (registry) where given, otherwise the unit's: ``count``, ``hours``, ``m2``, ``eur`` and ``ratio``
  never negative, ``percent`` 0–100, ``score`` and ``days`` unbounded (a waiting-time *reduction* may
  be negative). One wrong value refuses the whole save: nothing is written.
* **Aggregation** (``aggregate``), when a submission is submitted (and again on every correction):
  the values of every *submitted* submission of the half-year are combined per indicator into one
  ``IndicatorValue`` (source "reported") per municipality (scope ``m:<id>``: its own submission and its
  contracts' submissions) and one for the region (scope ``region``: every submission):

  - units that add up — ``count``, ``hours``, ``m2``, ``eur`` — are **summed**;
  - units that do not — ``percent``, ``score``, ``days``, ``ratio`` — are the **mean** of the values
    reported (each submission weighs the same; the region's mean is over every value reported in the
    region, not a mean of the municipalities' means). ``numerator`` holds the sum and ``denominator``
    the number of values, so the mean can be re-weighted later.

  Rows are replaced, never duplicated (one per indicator, scope and half-year); a scope left without
  any reported value loses the row this module wrote. ``details.records`` lists the submissions.
* **Timeliness.** ``submitted_at`` is the first submission; a correction after that keeps it (the
  audit log records the correction), so correcting a typo after the due date does not make an
  on-time report late.
* **Completeness** (``completeness``/``complete_share``): a submission counts as *due* once its due
  date has passed, or earlier when it was submitted already. Complete = submitted and every
  applicable indicator has a value (a note without a value explains a gap but leaves it incomplete).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, or_, select
from sqlalchemy.exc import IntegrityError

from srpp.auth.models import Membership, Role, User
from srpp.contracts.models import Contract, ContractState
from srpp.core import settings
from srpp.core.db import utcnow
from srpp.core.errors import DomainError
from srpp.core.permissions import officer_of, regional_reader, require, rule
from srpp.core.services import check_version
from srpp.extensions import db
from srpp.kpis.models import Indicator, IndicatorSource, IndicatorValue
from srpp.orgs.models import Municipality, Region
from srpp.payments.calc import half_year, half_year_label
from srpp.plans.imports import CellError, parse_decimal
from srpp.reporting.models import DataSubmission, SubmissionState, SubmissionValue

settings.declare("reporting.due_days", int, 30,
                 _l("Data protocol: days after the end of a half-year by which its submissions are due"), 1, 180)
settings.declare("reporting.reminder_days", int, 14,
                 _l("Data protocol: days before the due date when the people reporting are reminded"), 1, 60)

#: units whose values add up across submissions; every other unit is averaged
ADDITIVE_UNITS = frozenset({"count", "hours", "m2", "eur"})
#: the range each unit allows before the indicator's own minimum/maximum narrow it
UNIT_BOUNDS: dict[str, tuple[Decimal | None, Decimal | None]] = {
    "count": (Decimal(0), None), "hours": (Decimal(0), None), "m2": (Decimal(0), None), "eur": (Decimal(0), None),
    "ratio": (Decimal(0), None), "percent": (Decimal(0), Decimal(100)), "score": (None, None), "days": (None, None),
}
#: the database stores Numeric(18, 4)
MAX_ABS = Decimal("99999999999999")
DECIMALS = 4
NOTE_MAX = 2000
RECORD_TYPE = "data_submission"
ROLES_REPORTING = (Role.PROCUREMENT_OFFICER, Role.FINANCE_OFFICER)


# --- time --------------------------------------------------------------------------------------------------

def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "Europe/Vilnius")


def local_day(moment: dt.datetime) -> dt.date:
    """The calendar day of a (UTC) moment in the region's time zone."""
    return moment.astimezone(_zone()).date()


def local_today() -> dt.date:
    return dt.datetime.now(_zone()).date()


def period_of(day: dt.date) -> tuple[dt.date, dt.date]:
    return half_year(day)


def last_completed_period(today: dt.date) -> tuple[dt.date, dt.date]:
    return half_year(half_year(today)[0] - dt.timedelta(days=1))


def period_key(start: dt.date) -> str:
    return f"{start.year}H{1 if start.month == 1 else 2}"


def period_label(start: dt.date) -> str:
    return half_year_label(start)


# --- permissions -------------------------------------------------------------------------------------------

def _edits_municipality(user: User, municipality_id: int | None) -> bool:
    return officer_of(user, municipality_id, *ROLES_REPORTING)


@rule("reporting.view")
def _reporting_view(user: User, submission: Any) -> bool:
    """A submission: the regional readers, the municipality's staff, and for a contract's submission the
    supplier's members. Without one (the list and the menu): whoever may see some submission."""
    if regional_reader(user):
        return True
    if submission is None:
        return bool(user.municipality_ids() or user.supplier_ids())
    if submission.municipality_id in user.municipality_ids():
        return True
    return submission.contract is not None and submission.contract.supplier_id in user.supplier_ids()


@rule("reporting.edit")
def _reporting_edit(user: User, submission: Any) -> bool:
    """Enter, upload and submit values: the municipality's procurement and finance officers; for a
    contract's submission also the supplier's members (the SEO reports its contract's outputs); admins."""
    if submission is None:
        return False
    if user.is_admin or _edits_municipality(user, submission.municipality_id):
        return True
    return submission.contract is not None and submission.contract.supplier_id in user.supplier_ids()


@rule("reporting.overview")
def _reporting_overview(user: User, obj: Any) -> bool:
    """The council's overview of completeness by municipality."""
    return regional_reader(user)


@rule("reporting.manage")
def _reporting_manage(user: User, obj: Any) -> bool:
    """Open a half-year (create its submissions before the daily task does): admins and the council."""
    return regional_reader(user)


# --- indicators --------------------------------------------------------------------------------------------

def reported_indicators(level: str | None = None) -> list[Indicator]:
    """The reported indicators, in registry order; ``level`` "municipality" or "contract" keeps those
    asked at that level (``reported_by`` that level or "both")."""
    stmt = select(Indicator).where(Indicator.source == IndicatorSource.REPORTED)
    if level is not None:
        stmt = stmt.where(Indicator.reported_by.in_([level, "both"]))
    return list(db.session.scalars(stmt.order_by(Indicator.sort_order, Indicator.code)))


def level_of(submission: DataSubmission) -> str:
    return "contract" if submission.contract_id is not None else "municipality"


def applicable(submission: DataSubmission) -> list[Indicator]:
    return reported_indicators(level_of(submission))


# --- validation --------------------------------------------------------------------------------------------

def bounds(indicator: Indicator) -> tuple[Decimal | None, Decimal | None]:
    """The range a value may take: the indicator's own ``minimum``/``maximum`` where the registry gives
    them (a deviation in percent may exceed 100, a change in a count may be negative), otherwise the
    unit's (a count is never negative, a percentage at most 100)."""
    lo, hi = UNIT_BOUNDS.get(indicator.unit, (None, None))
    return (indicator.minimum if indicator.minimum is not None else lo,
            indicator.maximum if indicator.maximum is not None else hi)


def plain(value: Decimal | None) -> str:
    """A stored value as typed (no trailing zeros, no exponent): Decimal("12.5000") → "12.5"."""
    if value is None:
        return ""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def _shown(value: Decimal) -> str:
    from srpp.core.i18n import number

    return number(Decimal(plain(value)))


def parse_value(indicator: Indicator, raw: Any) -> Decimal | None:
    """The value of a form field or a file cell, checked by the indicator's unit and range; None when
    empty. Raises ``CellError`` with the reason (already translated)."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    value = parse_decimal(raw)
    if value is None:
        return None
    if not value.is_finite():
        raise CellError(_("Write a number, e.g. 1234.50 or 1 234,50."))
    if abs(value) > MAX_ABS:
        raise CellError(_("The number is too large."))
    if indicator.unit == "count" and value != value.to_integral_value():
        raise CellError(_("A count is a whole number."))
    if value != value.quantize(Decimal(1).scaleb(-DECIMALS)):
        raise CellError(_("Use at most %(n)s decimals.", n=DECIMALS))
    lo, hi = bounds(indicator)
    if lo is not None and value < lo:
        if lo == 0:
            raise CellError(_("The value cannot be negative."))
        raise CellError(_("The value must be at least %(min)s.", min=_shown(lo)))
    if hi is not None and value > hi:
        if indicator.unit == "percent" and hi == 100:
            raise CellError(_("A percentage cannot be more than 100."))
        raise CellError(_("The value must be at most %(max)s.", max=_shown(hi)))
    return value


def parse_note(raw: Any) -> str | None:
    note = str(raw).strip() if raw is not None else ""
    if len(note) > NOTE_MAX:
        raise CellError(_("At most %(n)s characters (this one has %(m)s).", n=NOTE_MAX, m=len(note)))
    return note or None


def unit_hint(indicator: Indicator) -> str:
    """What the field takes, for the form's hint."""
    lo, hi = bounds(indicator)
    kind = {
        "count": _("A whole number"), "hours": _("Hours"), "m2": _("Square metres"), "eur": _("Euro"),
        "percent": _("Percent"), "score": _("Score"), "days": _("Days"), "ratio": _("Ratio"),
    }.get(indicator.unit, indicator.unit)
    if lo is not None and hi is not None:
        return _("%(kind)s, from %(min)s to %(max)s.", kind=kind, min=_shown(lo), max=_shown(hi))
    if lo is not None:
        return _("%(kind)s, at least %(min)s.", kind=kind, min=_shown(lo))
    if hi is not None:
        return _("%(kind)s, at most %(max)s.", kind=kind, max=_shown(hi))
    return _("%(kind)s.", kind=kind)


class ValuesRefused(DomainError):
    """Some values were refused; ``errors`` maps indicator id → reason. Nothing was saved."""

    def __init__(self, errors: dict[int, str], indicators: Mapping[int, Indicator],
                 fields: dict[int, str] | None = None) -> None:
        first = next(iter(errors))
        name = indicators[first].name if first in indicators else str(first)
        super().__init__(_("%(field)s: %(message)s", field=name, message=errors[first]))
        self.errors = errors
        self.indicators = indicators
        #: indicator id → "value" or "note": the field each problem is about
        self.fields = fields or {}

    @property
    def named(self) -> list[tuple[str, str]]:
        """(indicator name, reason) of every problem, in the order given."""
        return [(self.indicators[i].name if i in self.indicators else str(i), m) for i, m in self.errors.items()]


# --- reading -----------------------------------------------------------------------------------------------

def get_submission(actor: User, submission_id: int) -> DataSubmission | None:
    """The submission, or None; ``PermissionDenied`` when the actor may not see it."""
    sub = db.session.get(DataSubmission, submission_id)
    if sub is not None:
        require(actor, "reporting.view", sub)
    return sub


def submissions_for(actor: User, period_start: dt.date | None = None,
                    municipality_id: int | None = None) -> Select:
    """The submissions the actor may see (a select)."""
    stmt = select(DataSubmission).outerjoin(Contract, DataSubmission.contract_id == Contract.id)
    if not regional_reader(actor):
        conditions = []
        if munis := actor.municipality_ids():
            conditions.append(DataSubmission.municipality_id.in_(munis))
        if suppliers := actor.supplier_ids():
            conditions.append(Contract.supplier_id.in_(suppliers))
        stmt = stmt.where(or_(*conditions)) if conditions else stmt.where(DataSubmission.id == -1)
    if period_start is not None:
        stmt = stmt.where(DataSubmission.period_start == period_start)
    if municipality_id is not None:
        stmt = stmt.where(DataSubmission.municipality_id == municipality_id)
    return stmt.order_by(DataSubmission.period_start.desc(), DataSubmission.municipality_id,
                         DataSubmission.contract_id.is_not(None), Contract.title, DataSubmission.id)


def periods_for(actor: User) -> list[dt.date]:
    """The half-years (starts) with submissions the actor may see, newest first."""
    sub = submissions_for(actor).order_by(None).with_only_columns(DataSubmission.period_start).distinct()
    return sorted(set(db.session.scalars(sub)), reverse=True)


# --- saving and submitting ---------------------------------------------------------------------------------

@dataclass
class Entry:
    """What the form or a file row gives for one indicator: the raw value and a note."""

    value: Any
    note: Any = None


def check_entries(submission: DataSubmission, entries: Mapping[int, Entry]) -> dict[int, tuple[Decimal | None,
                                                                                                 str | None]]:
    """Parse every entry (indicator id → Entry); ``ValuesRefused`` lists every problem."""
    indicators = {i.id: i for i in applicable(submission)}
    problems: dict[int, str] = {}
    fields: dict[int, str] = {}
    parsed: dict[int, tuple[Decimal | None, str | None]] = {}
    for indicator_id, entry in entries.items():
        indicator = indicators.get(indicator_id)
        if indicator is None:
            problems[indicator_id] = _("This indicator is not reported in this submission.")
            continue
        try:
            fields[indicator_id] = "value"
            value = parse_value(indicator, entry.value)
            fields[indicator_id] = "note"
            note = parse_note(entry.note)
        except CellError as err:
            problems[indicator_id] = str(err)
            continue
        parsed[indicator_id] = (value, note)
    if problems:
        raise ValuesRefused(problems, indicators, {i: f for i, f in fields.items() if i in problems})
    return parsed


def save_values(actor: User, submission: DataSubmission, entries: Mapping[int, Entry], *,
                version: int | str | None = None, submit: bool = False, source: str = "form",
                now: dt.datetime | None = None) -> DataSubmission:
    """Store the values given (an empty value and note removes the indicator's value; indicators not
    given are left as they are), then submit when asked. A submission already submitted stays submitted
    and its corrected values are aggregated again. All or nothing: ``ValuesRefused`` when any value is
    wrong (nothing saved), ``ConcurrentEdit`` when ``version`` is not the current one."""
    require(actor, "reporting.edit", submission)
    if version is not None:
        check_version(submission, version)
    parsed = check_entries(submission, entries)
    existing = {v.indicator_id: v for v in submission.values}
    for indicator_id, (value, note) in parsed.items():
        row = existing.get(indicator_id)
        if value is None and note is None:
            if row is not None:
                submission.values.remove(row)
        elif row is None:
            submission.values.append(SubmissionValue(indicator_id=indicator_id, value=value, note=note,
                                                     source=source))
        elif row.value != value or row.note != note:
            row.value, row.note, row.source = value, note, source
    submission.updated_at = utcnow()  # an UPDATE of the row: its version moves on (optimistic locking)
    db.session.flush()
    if submit or submission.is_submitted:
        _submit(actor, submission, now)
    return submission


def submit(actor: User, submission: DataSubmission, version: int | str | None = None,
           now: dt.datetime | None = None) -> DataSubmission:
    """Submit as it stands (incomplete submissions may be submitted: they count as incomplete)."""
    require(actor, "reporting.edit", submission)
    if version is not None:
        check_version(submission, version)
    submission.updated_at = utcnow()
    _submit(actor, submission, now)
    return submission


def _submit(actor: User, submission: DataSubmission, now: dt.datetime | None) -> None:
    if not submission.is_submitted:
        submission.state = SubmissionState.SUBMITTED
        submission.submitted_at = now or utcnow()
        submission.submitted_by_id = actor.id
    db.session.flush()
    aggregate(submission.period_start)


# --- aggregation into the indicator values -----------------------------------------------------------------

def _combine(unit: str, values: list[Decimal]) -> tuple[Decimal, Decimal, Decimal | None, str]:
    """(value, numerator, denominator, rule) of the values reported for one indicator and scope."""
    total = sum(values, Decimal(0))
    if unit in ADDITIVE_UNITS:
        return total, total, None, "sum"
    mean = (total / len(values)).quantize(Decimal(1).scaleb(-DECIMALS))
    return mean, total, Decimal(len(values)), "mean"


def aggregate(period_start: dt.date) -> dict[str, int]:
    """Recompute the reported indicator values of every municipality and of the region for the
    half-year from its submitted submissions. Idempotent: running it twice changes nothing."""
    start, end = half_year(period_start)
    # one aggregation at a time (the region row is the lock): each sees the submissions committed before it
    db.session.execute(select(Region.id).order_by(Region.id).with_for_update())
    indicators = {i.id: i for i in reported_indicators()}
    inputs: dict[tuple[int, str], list[tuple[Decimal, int, int]]] = defaultdict(list)
    rows = db.session.execute(
        select(SubmissionValue.indicator_id, SubmissionValue.value, DataSubmission.id, DataSubmission.municipality_id)
        .join(DataSubmission, SubmissionValue.submission_id == DataSubmission.id)
        .where(DataSubmission.period_start == start, DataSubmission.state == SubmissionState.SUBMITTED,
               SubmissionValue.value.is_not(None), SubmissionValue.indicator_id.in_(list(indicators) or [-1]))
        .order_by(DataSubmission.id))
    for indicator_id, value, submission_id, municipality_id in rows:
        inputs[(indicator_id, f"m:{municipality_id}")].append((value, submission_id, municipality_id))
        inputs[(indicator_id, "region")].append((value, submission_id, municipality_id))
    existing = {(iv.indicator_id, iv.scope_key): iv for iv in db.session.scalars(
        select(IndicatorValue).where(IndicatorValue.period_start == start,
                                     IndicatorValue.indicator_id.in_(list(indicators) or [-1])))}
    counts = {"written": 0, "removed": 0}
    for (indicator_id, scope_key), items in inputs.items():
        value, numerator, denominator, how = _combine(indicators[indicator_id].unit, [v for v, _s, _m in items])
        details = {"records": [{"type": RECORD_TYPE, "id": s} for s in sorted({s for _v, s, _m in items})],
                   "rule": how, "values": len(items), "protocol": True}
        if scope_key == "region":
            details["municipalities"] = sorted({m for _v, _s, m in items})
        municipality_id = None if scope_key == "region" else int(scope_key[2:])
        _upsert(existing.get((indicator_id, scope_key)), indicator_id, scope_key, municipality_id, start, end,
                value, numerator, denominator, details)
        counts["written"] += 1
    for key, iv in existing.items():
        if key not in inputs and iv.source == "reported" and (iv.details or {}).get("protocol"):
            db.session.delete(iv)
            counts["removed"] += 1
    db.session.flush()
    return counts


def _upsert(iv: IndicatorValue | None, indicator_id: int, scope_key: str, municipality_id: int | None,
            start: dt.date, end: dt.date, value: Decimal, numerator: Decimal, denominator: Decimal | None,
            details: dict[str, Any]) -> IndicatorValue:
    fields = {"municipality_id": municipality_id, "period_end": end, "value": value, "numerator": numerator,
              "denominator": denominator, "details": details, "source": "reported", "computed_at": utcnow()}
    if iv is None:
        iv = IndicatorValue(indicator_id=indicator_id, scope_key=scope_key, period_start=start, **fields)
        try:
            with db.session.begin_nested():  # another process may have written it a moment ago
                db.session.add(iv)
            return iv
        except IntegrityError:
            iv = db.session.scalar(select(IndicatorValue).where(
                IndicatorValue.indicator_id == indicator_id, IndicatorValue.scope_key == scope_key,
                IndicatorValue.period_start == start))
    for name, v in fields.items():
        setattr(iv, name, v)
    return iv


# --- opening a half-year -----------------------------------------------------------------------------------

@dataclass
class Opened:
    period_start: dt.date
    period_end: dt.date
    due_on: dt.date
    created: int = 0
    existing: int = 0


def open_period(period_start: dt.date, actor: User | None = None) -> Opened:
    """Create the submissions due for the half-year holding ``period_start``: one per municipality
    (when some indicator is reported by municipalities) and one per contract that ran during the
    half-year and was not terminated (when some indicator is reported per contract). Their due date
    is the period's end plus the ``reporting.due_days`` setting. Idempotent: existing ones are kept."""
    if actor is not None:
        require(actor, "reporting.manage")
    start, end = half_year(period_start)
    due = end + dt.timedelta(days=settings.get("reporting.due_days"))
    result = Opened(start, end, due)
    have = {(m, c or 0) for m, c in db.session.execute(
        select(DataSubmission.municipality_id, DataSubmission.contract_id).where(DataSubmission.period_start == start))}
    wanted: list[tuple[int, int | None]] = []
    if reported_indicators("municipality"):
        wanted += [(m, None) for m in db.session.scalars(
            select(Municipality.id).order_by(Municipality.sort_order, Municipality.id))]
    if reported_indicators("contract"):
        wanted += list(db.session.execute(
            select(Contract.municipality_id, Contract.id).where(
                Contract.start_date <= end, Contract.end_date >= start,
                Contract.state.in_([ContractState.ACTIVE, ContractState.COMPLETED]))
            .order_by(Contract.municipality_id, Contract.id)).all())
    for municipality_id, contract_id in wanted:
        if (municipality_id, contract_id or 0) in have:
            result.existing += 1
            continue
        try:
            with db.session.begin_nested():  # the daily task and a council member may open it at once
                db.session.add(DataSubmission(municipality_id=municipality_id, contract_id=contract_id,
                                              period_start=start, period_end=end, due_on=due))
            result.created += 1
        except IntegrityError:
            result.existing += 1
    db.session.flush()
    return result


# --- completeness ------------------------------------------------------------------------------------------

@dataclass
class Status:
    """One submission with its completeness figures."""

    submission: DataSubmission
    applicable: int
    filled: int
    as_of: dt.date
    window: int = 14  # the reminder window (days)

    @property
    def missing(self) -> int:
        return max(0, self.applicable - self.filled)

    @property
    def submitted(self) -> bool:
        return self.submission.is_submitted

    @property
    def complete(self) -> bool:
        return self.submitted and self.filled >= self.applicable

    @property
    def on_time(self) -> bool:
        return bool(self.submission.on_time)

    @property
    def overdue(self) -> bool:
        return self.submission.overdue(self.as_of)

    @property
    def due(self) -> bool:
        """Counted in the completeness figures: its due date has passed, or it was submitted already."""
        return self.submitted or self.submission.due_on < self.as_of

    @property
    def due_soon(self) -> bool:
        days = (self.submission.due_on - self.as_of).days
        return not self.submitted and 0 <= days <= self.window


def statuses(submissions: Iterable[DataSubmission], as_of: dt.date | None = None) -> list[Status]:
    subs = list(submissions)
    as_of = as_of or local_today()
    ids = {"municipality": {i.id for i in reported_indicators("municipality")},
           "contract": {i.id for i in reported_indicators("contract")}}
    filled: dict[int, set[int]] = defaultdict(set)
    if subs:
        for sid, iid in db.session.execute(select(SubmissionValue.submission_id, SubmissionValue.indicator_id).where(
                SubmissionValue.submission_id.in_([s.id for s in subs]), SubmissionValue.value.is_not(None))):
            filled[sid].add(iid)
    window = settings.get("reporting.reminder_days")
    return [Status(s, len(ids[level_of(s)]), len(filled[s.id] & ids[level_of(s)]), as_of, window) for s in subs]


def _share(part: int, whole: int) -> Decimal | None:
    return (Decimal(part) * 100 / whole).quantize(Decimal("0.01")) if whole else None


@dataclass
class Completeness:
    """The completeness and timeliness of one half-year's submissions (of one municipality, or all)."""

    period_start: dt.date
    period_end: dt.date
    as_of: dt.date
    rows: list[Status] = field(default_factory=list)

    @property
    def due(self) -> list[Status]:
        return [r for r in self.rows if r.due]

    @property
    def denominator(self) -> int:
        return len(self.due)

    @property
    def submitted(self) -> int:
        return sum(1 for r in self.due if r.submitted)

    @property
    def complete(self) -> int:
        return sum(1 for r in self.due if r.complete)

    @property
    def on_time(self) -> int:
        return sum(1 for r in self.due if r.on_time)

    @property
    def overdue(self) -> int:
        return sum(1 for r in self.rows if r.overdue)

    @property
    def complete_share(self) -> Decimal | None:
        """% of the submissions due that are submitted and complete."""
        return _share(self.complete, self.denominator)

    @property
    def on_time_share(self) -> Decimal | None:
        """% of the submissions due that were submitted by their due date."""
        return _share(self.on_time, self.denominator)


def completeness(period_start: dt.date, municipality_id: int | None = None,
                 as_of: dt.date | None = None) -> Completeness:
    """Completeness and timeliness of the half-year's submissions: of one municipality (its own and
    its contracts') or of the whole region."""
    start, end = half_year(period_start)
    stmt = select(DataSubmission).where(DataSubmission.period_start == start).order_by(DataSubmission.id)
    if municipality_id is not None:
        stmt = stmt.where(DataSubmission.municipality_id == municipality_id)
    as_of = as_of or local_today()
    return Completeness(start, end, as_of, statuses(db.session.scalars(stmt).unique(), as_of))


def complete_share(period_start: dt.date, period_end: dt.date | None, municipality_id: int | None,
                   as_of: dt.date | None = None) -> tuple[Decimal | None, Decimal, Decimal, dict[str, Any]]:
    """For the R-COMPLETE-SUBMISSIONS indicator (``srpp.kpis``): ``(value, numerator, denominator,
    details)`` where value = numerator ÷ denominator × 100 (None without any submission due),
    numerator = the submissions due that are submitted and complete, denominator = the submissions due
    (of the municipality, or of the region when ``municipality_id`` is None). ``details`` (JSON-safe):
    ``records`` (the submissions due, type "data_submission"), ``submitted``, ``complete``, ``on_time``,
    ``on_time_share`` (timeliness, % as a string or None), ``overdue``, ``incomplete`` (ids), ``as_of``."""
    c = completeness(period_start, municipality_id, as_of)
    timeliness = c.on_time_share
    details = {
        "records": [{"type": RECORD_TYPE, "id": r.submission.id} for r in c.due],
        "submitted": c.submitted, "complete": c.complete, "on_time": c.on_time,
        "on_time_share": None if timeliness is None else str(timeliness), "overdue": c.overdue,
        "incomplete": [r.submission.id for r in c.due if not r.complete], "as_of": c.as_of.isoformat(),
    }
    return c.complete_share, Decimal(c.complete), Decimal(c.denominator), details


def kpi_complete_submissions(period_start: dt.date, period_end: dt.date,
                             municipality_id: int | None) -> tuple[Decimal | None, Decimal, Decimal,
                                                                   dict[str, Any]] | None:
    """The hook ``srpp.kpis.computers.complete_submissions`` calls: ``complete_share``, or None when
    no submission is due for the scope (the indicator then gets no value)."""
    out = complete_share(period_start, period_end, municipality_id)
    return out if out[2] else None


# --- reminders ---------------------------------------------------------------------------------------------

def _people(stmt: Select) -> list[User]:
    return list(db.session.scalars(stmt.where(User.active.is_(True)).order_by(User.id)).unique())


def municipal_reporters(municipality_id: int) -> list[User]:
    return _people(select(User).join(Membership).where(Membership.municipality_id == municipality_id,
                                                       Membership.role.in_(ROLES_REPORTING)))


def supplier_reporters(supplier_id: int) -> list[User]:
    return _people(select(User).join(Membership).where(Membership.supplier_id == supplier_id,
                                                       Membership.role == Role.SEO_MEMBER))


def responsible(submission: DataSubmission, overdue: bool) -> list[User]:
    """Who is reminded: a municipality's submission, its procurement and finance officers; a contract's,
    the supplier's members (the municipality's officers when the supplier has none, and also once it is
    overdue, so they can follow it up)."""
    if submission.contract is None:
        return municipal_reporters(submission.municipality_id)
    people = supplier_reporters(submission.contract.supplier_id)
    if overdue or not people:
        people += [u for u in municipal_reporters(submission.municipality_id) if u not in people]
    return people


def reminders(today: dt.date | None = None) -> dict[str, int]:
    """Remind the responsible people of each draft submission due within ``reporting.reminder_days``
    and of each overdue one. Idempotent: one notification per person, submission and state."""
    from srpp.core.notify import notify

    today = today or local_today()
    window = settings.get("reporting.reminder_days")
    counts = {"due_soon": 0, "overdue": 0, "notified": 0}
    subs = db.session.scalars(select(DataSubmission).where(
        DataSubmission.state == SubmissionState.DRAFT,
        DataSubmission.due_on <= today + dt.timedelta(days=window)).order_by(DataSubmission.due_on, DataSubmission.id))
    for sub in subs:
        overdue = today > sub.due_on
        counts["overdue" if overdue else "due_soon"] += 1
        state = "overdue" if overdue else "due"
        link = url_for("reporting.submission", submission_id=sub.id)
        for user in responsible(sub, overdue):
            with force_locale(user.locale):
                scope = (_("contract “%(title)s”", title=sub.contract.title) if sub.contract is not None
                         else sub.municipality.name)
                label = period_label(sub.period_start)
                if overdue:
                    subject = _("The %(period)s data submission for %(scope)s is overdue (due %(day)s)",
                                period=label, scope=scope, day=sub.due_on.isoformat())
                else:
                    subject = _("The %(period)s data submission for %(scope)s is due on %(day)s",
                                period=label, scope=scope, day=sub.due_on.isoformat())
                body = _("The half-yearly data protocol asks for the reported indicators of %(period)s. Enter "
                         "the values in the form or upload them as a CSV or XLSX file, then submit.", period=label)
            if notify(user, kind=f"reporting.{state}", subject=subject, body=body, link=link,
                      dedupe_key=f"reporting:{sub.id}:{state}"):
                counts["notified"] += 1
    return counts


def daily(today: dt.date | None = None) -> dict[str, int]:
    """The scheduled work: open the last completed half-year (idempotent), then send the reminders."""
    today = today or local_today()
    opened = open_period(last_completed_period(today)[0])
    counts = reminders(today)
    counts["opened"] = opened.created
    return counts
