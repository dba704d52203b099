"""Demo values of the common indicator set (the last DEMO_STEPS entry): two years of half-yearly values
for every indicator, reviews for every risk, and two risks in alert.

* **Reported indicators** go through the data protocol (srpp/reporting/services.py): ``open_period``
  opens each of the last four completed half-years (one submission per municipality and per supplier
  contract), every value is checked with ``parse_value`` (unit and range), the submissions are submitted
  (mostly on time; a few late or incomplete in the older half-years) and ``aggregate`` writes the
  municipality and region values. Values are plausible per indicator (``RANGES``), from
  ``random.Random(2026)``; outputs grow a little each half-year.
* **Computed indicators**: ``srpp.kpis.services.recompute`` for the same four half-years, from the demo
  records (after the protocol, whose completeness it also measures).
* **Reviews**: the risks demo (``srpp.risks.demo.load``: a review of every risk, corrective actions,
  the alert scan) runs once the values are in; the council then reviews each risk in alert, with a
  corrective action (``srpp.risks.services.add_review``).
* **Two risks in alert** (risk 5.1 and risk 7): F1, the average days to pay, is red for Biržai (its
  invoices are paid late in the payments demo); R-CONTINUITY, the continuity of care reported for the
  contracts of one rural district, falls into red in the latest half-year (staff shortage, risk 7).
  Every other value stays out of red where a risk monitors it. The scan records the alerts and notifies
  the risks' owners.

Dates are relative to the day the demo is loaded. ``load`` returns the seconds each part took."""

from __future__ import annotations

import datetime as dt
import random
import time
from decimal import Decimal

from flask import current_app
from sqlalchemy import insert, select

from srpp.auth.models import User
from srpp.contracts.models import Contract
from srpp.core.db import utcnow
from srpp.extensions import db
from srpp.kpis import services as kpis
from srpp.kpis.models import Direction, Indicator
from srpp.orgs.models import Municipality
from srpp.payments.calc import half_year, previous_half_years

SEED = 2026
HALF_YEARS = 4
COUNCIL = "council@demo.srpp.lt"
SEO = "seo@demo.srpp.lt"
#: the reported indicator that turns red in the latest half-year, and where (the first that has contracts)
ALERT_CODE = "R-CONTINUITY"
ALERT_MUNICIPALITIES = ("KUP", "PAS", "ROK", "BIR", "PAN-D", "PAN-C")
ALERT_PATH = (Decimal("93"), Decimal("89"), Decimal("84.5"), Decimal("77"))
#: growth of the output indicators per half-year
GROWTH = Decimal("0.06")

#: plausible values of one submission (a municipality's own, or one contract's) at the first half-year.
#: Indicators with thresholds stay out of red (their means cannot fall below the range's low end).
RANGES: dict[str, tuple[str, str]] = {
    # with thresholds
    "F2": ("0", "7"), "F3": ("86", "100"), "O2": ("3.4", "4.7"), "O3": ("60", "90"), "K3": ("70", "100"),
    "R-TRUST": ("3.4", "4.5"), "R-CONTINUITY": ("91", "99"), "R-DPIA": ("88", "100"), "R-AUDIT-PASS": ("88", "100"),
    "R-EQUITY-KPIS": ("72", "100"), "R-SCHEDULE-DELAY": ("0", "40"),
    # without thresholds
    "C1": ("40", "160"), "C2": ("60", "300"), "C3": ("0", "3"), "S1": ("900", "4200"), "S2": ("8", "30"),
    "S3": ("300", "1800"), "S4": ("1", "6"), "S5": ("20", "90"), "O1": ("3", "25"), "O4": ("45", "85"),
    "K1": ("25", "60"), "K2": ("30", "75"), "X2": ("1", "6"), "X4": ("2", "12"), "X5": ("40", "220"),
    "X6": ("80", "600"), "X7": ("55", "80"), "X8": ("15", "90"), "X9": ("1", "8"), "R-LEADER-PILOTS": ("0", "2"),
    "R-EVENT-PARTICIPATION": ("25", "140"), "R-UPTAKE": ("5", "40"), "R-USER-ACCESS": ("30", "250"),
    "R-CERTIFICATES": ("2", "14"), "R-OUTREACH": ("2", "9"), "R-QA-FINDINGS": ("0", "4"),
    "R-RENEWAL-DECISIONS": ("0", "3"), "R-MULTI-SERVICE": ("1.1", "1.9"), "R-EQUITY-ACTIONS": ("0", "3"),
}
#: a code not listed above: by unit
UNIT_RANGES: dict[str, tuple[str, str]] = {
    "percent": ("50", "90"), "score": ("3.6", "4.6"), "days": ("5", "30"), "ratio": ("1", "2"), "count": ("1", "20"),
    "hours": ("50", "500"), "m2": ("50", "500"), "eur": ("1000", "20000"),
}
#: outputs that grow over time (not the "lower is better" ones, not the rates)
NO_GROWTH_UNITS = ("percent", "score", "days", "ratio")


def demo_periods(today: dt.date) -> list[tuple[dt.date, dt.date]]:
    """The last four completed half-years, oldest first."""
    return previous_half_years(half_year(today)[0] - dt.timedelta(days=1), HALF_YEARS)


def load(today: dt.date | None = None) -> dict[str, float]:
    today = today or dt.date.today()
    rng = random.Random(SEED)
    periods = demo_periods(today)
    timings: dict[str, float] = {}
    with current_app.test_request_context():  # the alert notifications carry links
        started = time.perf_counter()
        _reported(periods, rng, today)
        timings["reported"] = time.perf_counter() - started
        started = time.perf_counter()
        for start, end in periods:
            kpis.recompute(start, end)
        timings["computed"] = time.perf_counter() - started
        started = time.perf_counter()
        _risks(rng, today)
        timings["risks"] = time.perf_counter() - started
    db.session.flush()
    return timings


# --- reported values through the data protocol --------------------------------------------------------------

def _quantum(ind: Indicator) -> Decimal:
    return {"count": Decimal(1), "score": Decimal("0.1"), "ratio": Decimal("0.01")}.get(ind.unit, Decimal("0.1"))


def _value(ind: Indicator, rng: random.Random, index: int) -> Decimal:
    lo, hi = (Decimal(x) for x in RANGES.get(ind.code) or UNIT_RANGES.get(ind.unit, ("1", "10")))
    value = lo + (hi - lo) * Decimal(str(rng.random()))
    if ind.unit not in NO_GROWTH_UNITS and ind.direction == Direction.HIGHER:
        value *= 1 + GROWTH * index
    return value.quantize(_quantum(ind))


def _alert_value(rng: random.Random, index: int) -> Decimal:
    return (ALERT_PATH[index] + Decimal(str(rng.uniform(-1, 1)))).quantize(Decimal("0.1"))


def _users() -> dict[str, User]:
    return {u.email: u for u in db.session.scalars(select(User).where(User.email.like("%@demo.srpp.lt")))}


def _reported(periods: list[tuple[dt.date, dt.date]], rng: random.Random, today: dt.date) -> None:
    from srpp.reporting import services as reporting
    from srpp.reporting.models import DataSubmission, SubmissionState, SubmissionValue

    for start, _end in periods:
        reporting.open_period(start)
    starts = [s for s, _e in periods]
    latest = len(periods) - 1
    munis = {m.id: m for m in db.session.scalars(select(Municipality))}
    subs = list(db.session.scalars(select(DataSubmission).where(DataSubmission.period_start.in_(starts)).order_by(
        DataSubmission.period_start, DataSubmission.municipality_id, DataSubmission.contract_id.is_not(None),
        DataSubmission.contract_id)))
    levels = {"municipality": reporting.reported_indicators("municipality"),
              "contract": reporting.reported_indicators("contract")}
    with_contracts = {munis[s.municipality_id].code for s in subs if s.contract_id and s.period_start == starts[-1]}
    alert_muni = next((c for c in ALERT_MUNICIPALITIES if c in with_contracts), None)
    users = _users()
    seo = users.get(SEO)
    seo_suppliers = seo.supplier_ids() if seo is not None else set()
    contracts = {c.id: c for c in db.session.scalars(select(Contract).where(
        Contract.id.in_([s.contract_id for s in subs if s.contract_id])))}
    incidents_given: set[int] = set()
    rows: list[dict] = []
    now = utcnow()
    for sub in subs:
        index = starts.index(sub.period_start)
        code = munis[sub.municipality_id].code
        level = "contract" if sub.contract_id else "municipality"
        missing = None
        if index < 2 and rng.random() < 0.08:  # an older submission left one output without a value
            optional = [i for i in levels[level] if i.amber is None and i.red is None]
            missing = rng.choice(optional).id if optional else None
        for ind in levels[level]:
            if ind.code == ALERT_CODE and code == alert_muni:
                value = _alert_value(rng, index)
            elif ind.code == "R-INCIDENTS":  # one incident in the region in a half-year at most
                value = Decimal(1) if index not in incidents_given and rng.random() < 0.1 else Decimal(0)
                if value:
                    incidents_given.add(index)
            else:
                value = _value(ind, rng, index)
            value = reporting.parse_value(ind, str(value))  # the protocol's own check (unit and range)
            if ind.id == missing:
                rows.append({"submission_id": sub.id, "indicator_id": ind.id, "value": None, "source": "form",
                             "note": "Duomenys iš paslaugų teikėjo dar nesurinkti.", "created_at": now, "updated_at": now})
                continue
            rows.append({"submission_id": sub.id, "indicator_id": ind.id, "value": value, "note": None,
                         "source": "form", "created_at": now, "updated_at": now})
        # submitted some days before the due date; in the older half-years now and then late
        late = index < latest and rng.random() < 0.12
        day = sub.due_on + dt.timedelta(days=rng.randint(2, 20) if late else -rng.randint(1, 25))
        if day >= today:
            continue  # not yet submitted: stays a draft
        sub.state = SubmissionState.SUBMITTED
        sub.submitted_at = dt.datetime.combine(day, dt.time(10, rng.randint(0, 59)), tzinfo=dt.UTC)
        contract = contracts.get(sub.contract_id) if sub.contract_id else None
        if contract is not None and contract.supplier_id in seo_suppliers:
            reporter = seo
        else:
            reporter = users.get(f"finance.{code.lower()}@demo.srpp.lt") or users.get(COUNCIL)
        sub.submitted_by_id = reporter.id if reporter is not None else None
    if rows:
        db.session.execute(insert(SubmissionValue.__table__), rows)
    db.session.flush()
    _placeholders(periods, [i for level in levels.values() for i in level], list(munis))
    for start in starts:
        reporting.aggregate(start)


def _placeholders(periods: list[tuple[dt.date, dt.date]], indicators: list[Indicator],
                  municipality_ids: list[int]) -> None:
    """Empty "reported" rows for every indicator, scope and half-year, inserted in one statement, so that
    ``aggregate`` updates rows instead of inserting each one in a savepoint of its own (three times faster
    for the demo's thousand values). ``aggregate`` fills each row and removes those left without a value."""
    from srpp.kpis.models import IndicatorValue

    now = utcnow()
    scopes = [("region", None)] + [(f"m:{m}", m) for m in municipality_ids]
    rows = [{"indicator_id": ind.id, "scope_key": key, "municipality_id": muni, "period_start": start,
             "period_end": end, "value": None, "details": {"protocol": True}, "source": "reported",
             "computed_at": now}
            for start, end in periods for ind in {i.id: i for i in indicators}.values() for key, muni in scopes]
    existing = set(db.session.execute(select(IndicatorValue.indicator_id, IndicatorValue.scope_key,
                                             IndicatorValue.period_start).where(
        IndicatorValue.period_start.in_([s for s, _e in periods]))).all())
    rows = [r for r in rows if (r["indicator_id"], r["scope_key"], r["period_start"]) not in existing]
    if rows:
        db.session.execute(insert(IndicatorValue.__table__), rows)


# --- risk reviews and alerts ------------------------------------------------------------------------------------

#: the council's review of a risk after its alert: (note, corrective action)
ALERT_REVIEWS = {
    "5.1": ("Biržų rajono savivaldybė tiekėjams moka vėluodama: praėjusį pusmetį vidutiniškai daugiau nei 45 "
            "dienas.", "Biržuose įvesti savaitinius mokėjimus ir stebėti kiekvieną senesnę nei 20 dienų sąskaitą"),
    "7": ("Kaimiškos savivaldybės sutartyse paslaugų tęstinumas nukrito žemiau 80 %: išėjo slaugytojai.",
          "Su paslaugų teikėjais suderinti pavaduojančio personalo planą"),
}


def _risks(rng: random.Random, today: dt.date) -> None:
    """The risks demo (srpp/risks/demo.py: a review of every risk, corrective actions, a target marked done,
    the alert scan) once the values are in; then the council reviews each risk now in alert."""
    from srpp.risks import demo as risks_demo
    from srpp.risks import services as risks
    from srpp.risks.models import RiskReview

    if db.session.scalar(select(RiskReview.id).limit(1)) is None:
        risks_demo.load(today)
    else:
        risks.scan_alerts()
    council = db.session.scalar(select(User).where(User.email == COUNCIL))
    if council is None:
        return
    recent = today - dt.timedelta(days=30)
    for alerts in risks.current_alerts().values():
        risk = alerts[0].risk
        if any(r.reviewed_on >= recent for r in risk.reviews):
            continue
        note, action = ALERT_REVIEWS.get(risk.code, (
            f"Stebėsenos rodiklis {alerts[0].code} raudonas: priemonių peržiūra.",
            "Išanalizuoti raudono rodiklio priežastis ir pasiūlyti priemones"))
        measures = "\n".join(risk.mitigation_items[:2]) or note
        risks.add_review(council, risk, risks.ReviewInput(
            reviewed_on=today - dt.timedelta(days=rng.randint(3, 12)), likelihood="high", impact=risk.impact.value,
            preventive_measures=measures, reactive_action=action, responsible_unit=risk.owner_text_lt,
            note=note, action=risks.ActionInput(title=action, owner_text=risk.owner_text_lt,
                                                due_on=today + dt.timedelta(days=45))), today=today)
