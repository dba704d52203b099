"""The risk register and the regional programme targets.

* the register and the targets are loaded from ``srpp/risks/data/*.yaml`` (``load_reference``);
* reviews rate a risk (likelihood × impact → level); medium and high need preventive measures (the
  Zemgale rule); corrective actions have an owner and a due date and are completed;
* a risk is in alert when one of its monitoring indicators is red in its latest period, for the region or
  any municipality (``current_alerts``); ``scan_alerts`` records the alert history and notifies the
  risk's owner once per risk, indicator and period (the daily task ``srpp.risks.scan``, and after a
  recomputation of the indicators);
* ``targets_status`` checks the targets of domain §5 from the records (or the council's mark).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from dateutil.relativedelta import relativedelta
from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, select
from sqlalchemy.orm import defer, lazyload, selectinload

from srpp.auth.models import Membership, Role, User
from srpp.core import settings
from srpp.core.audit import bind_actor
from srpp.core.db import utcnow
from srpp.core.errors import DomainError
from srpp.core.permissions import municipal_staff, regional_reader, require, rule
from srpp.core.services import check_version
from srpp.extensions import db
from srpp.kpis.models import Indicator, IndicatorValue
from srpp.orgs.models import Municipality
from srpp.risks.models import (
    CorrectiveAction,
    Horizon,
    ProgrammeTarget,
    Rating,
    Risk,
    RiskAlert,
    RiskIndicator,
    RiskReview,
    level_of,
)

DATA = Path(__file__).parent / "data"


def _iso_date(raw: Any) -> str:
    """A setting's type: an ISO date, kept as its text (settings are stored as JSON)."""
    return dt.date.fromisoformat(str(raw).strip()).isoformat()


settings.declare("risks.programme_start", _iso_date, "2026-01-01",
                 _l("Start of the regional programme (YYYY-MM-DD): the programme targets fall due so many months "
                    "after it"))


# --- permissions ---------------------------------------------------------------------------------------------

@rule("risk.view")
def _risk_view(user: User, obj: Any) -> bool:
    """The register is internal: the regional readers (council, admins) and municipal staff."""
    return regional_reader(user) or municipal_staff(user)


@rule("risk.review")
def _risk_review(user: User, obj: Any) -> bool:
    """Review risks and decide corrective actions: the council (the regional contact point) and admins."""
    return regional_reader(user)


@rule("risk.action.complete")
def _action_complete(user: User, action: Any) -> bool:
    """Complete a corrective action: the reviewers, and the action's own owner."""
    if regional_reader(user):
        return True
    return action is not None and action.owner_user_id is not None and action.owner_user_id == user.id


@rule("target.mark")
def _target_mark(user: User, obj: Any) -> bool:
    """Mark a manual programme target done (or reopen it): the council and admins."""
    return regional_reader(user)


# --- loading the register and the targets -------------------------------------------------------------------

def _read(name: str) -> Any:
    with open(DATA / name, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def _lines(value: Any) -> str:
    if isinstance(value, list):
        return "\n".join(str(v).strip() for v in value)
    return str(value or "").strip()


def _user_by_email(email: str | None) -> User | None:
    if not email:
        return None
    return db.session.scalar(select(User).where(func.lower(User.email) == email.lower()))


def load_register() -> dict[str, int]:
    """Insert or update the risks of ``risks.yaml`` (idempotent). Texts, the initial rating and the
    indicator links follow the file; the current rating (set by reviews) is only set for a new risk, and
    the owner user only when none is set yet (the demo users may be created after the reference data)."""
    data = _read("risks.yaml")
    existing = {r.code: r for r in db.session.scalars(select(Risk))}
    added = updated = 0
    for position, spec in enumerate(data["risks"]):
        code = str(spec["code"])
        risk = existing.get(code)
        values = {
            "area_lt": spec["area_lt"], "area_en": spec["area_en"], "title_lt": spec["title_lt"],
            "title_en": spec["title_en"], "description_lt": spec["description_lt"].strip(),
            "description_en": spec["description_en"].strip(), "mitigation_lt": _lines(spec["mitigation_lt"]),
            "mitigation_en": _lines(spec["mitigation_en"]), "owner_text_lt": spec["owner_lt"],
            "owner_text_en": spec["owner_en"], "initial_likelihood": Rating(spec["likelihood"]),
            "initial_impact": Rating(spec["impact"]), "sort_order": position,
        }
        if risk is None:
            risk = Risk(code=code, likelihood=values["initial_likelihood"], impact=values["initial_impact"],
                        **values)
            db.session.add(risk)
            added += 1
        elif any(getattr(risk, k) != v for k, v in values.items()):
            for key, value in values.items():
                setattr(risk, key, value)
            updated += 1
        if risk.owner_user_id is None:
            owner = _user_by_email(spec.get("owner_email"))
            if owner is not None:
                risk.owner_user = owner
        codes = [str(c) for c in spec.get("indicators", [])]
        current = {link.indicator_code: link for link in risk.indicator_links}
        for link in list(risk.indicator_links):
            if link.indicator_code not in codes:
                risk.indicator_links.remove(link)
        for i, ind_code in enumerate(codes):
            if ind_code in current:
                current[ind_code].position = i
            else:
                risk.indicator_links.append(RiskIndicator(indicator_code=ind_code, position=i))
    db.session.flush()
    return {"added": added, "updated": updated, "total": len(data["risks"])}


def link_owners() -> int:
    """Resolve the owner e-mails of ``risks.yaml`` to users for the risks that have no owner user yet."""
    linked = 0
    by_code = {r.code: r for r in db.session.scalars(select(Risk).where(Risk.owner_user_id.is_(None)))}
    for spec in _read("risks.yaml")["risks"]:
        risk = by_code.get(str(spec["code"]))
        owner = _user_by_email(spec.get("owner_email")) if risk is not None else None
        if owner is not None:
            risk.owner_user = owner
            linked += 1
    db.session.flush()
    return linked


def load_targets() -> dict[str, int]:
    """Insert or update the programme targets of ``targets.yaml`` (idempotent; marks are kept)."""
    data = _read("targets.yaml")
    existing = {t.code: t for t in db.session.scalars(select(ProgrammeTarget))}
    added = updated = 0
    for position, spec in enumerate(data["targets"]):
        code = str(spec["code"])
        if spec["evidence"] not in EVIDENCE and spec["evidence"] != "manual":
            raise ValueError(f"targets.yaml: {code}: unknown evidence {spec['evidence']!r}")
        values = {
            "horizon": Horizon(spec["horizon"]), "title_lt": spec["title_lt"], "title_en": spec["title_en"],
            "hint_lt": spec.get("hint_lt"), "hint_en": spec.get("hint_en"), "due_months": int(spec["due_months"]),
            "evidence": spec["evidence"], "params": spec.get("params") or {}, "sort_order": position,
        }
        target = existing.get(code)
        if target is None:
            db.session.add(ProgrammeTarget(code=code, **values))
            added += 1
        elif any(getattr(target, k) != v for k, v in values.items()):
            for key, value in values.items():
                setattr(target, key, value)
            updated += 1
    db.session.flush()
    return {"added": added, "updated": updated, "total": len(data["targets"])}


def load_reference() -> dict[str, int]:
    """Both files; returns counts for ``flask reference load``."""
    risks = load_register()
    targets = load_targets()
    return {"risks added or updated": risks["added"] + risks["updated"],
            "programme targets added or updated": targets["added"] + targets["updated"]}


# --- reading the register ------------------------------------------------------------------------------------

LEVEL_RANK = {Rating.HIGH: 0, Rating.MEDIUM: 1, Rating.LOW: 2}


def all_risks() -> list[Risk]:
    return list(db.session.scalars(select(Risk).order_by(Risk.sort_order, Risk.code)))


def risks_for(actor: User) -> list[Risk]:
    require(actor, "risk.view")
    return all_risks()


def get_risk(actor: User, code: str) -> Risk | None:
    require(actor, "risk.view")
    return db.session.scalar(select(Risk).where(Risk.code == code)
                             .options(selectinload(Risk.reviews), selectinload(Risk.actions)))


def by_severity(risks: list[Risk]) -> list[Risk]:
    """High first, then medium, then low; within a level the register's order (the codes)."""
    return sorted(risks, key=lambda r: (LEVEL_RANK[r.level], r.sort_order, r.code))


@dataclass
class HeatCell:
    likelihood: Rating
    impact: Rating
    risks: list[Risk] = field(default_factory=list)

    @property
    def level(self) -> Rating:
        return level_of(self.likelihood, self.impact)


def heat_map(risks: list[Risk]) -> list[tuple[Rating, list[HeatCell]]]:
    """Rows of likelihood (high at the top), each with a cell per impact (low → high)."""
    rows = []
    for likelihood in (Rating.HIGH, Rating.MEDIUM, Rating.LOW):
        cells = [HeatCell(likelihood, impact) for impact in (Rating.LOW, Rating.MEDIUM, Rating.HIGH)]
        for cell in cells:
            cell.risks = [r for r in risks if r.likelihood == likelihood and r.impact == cell.impact]
        rows.append((likelihood, cells))
    return rows


# --- indicators and alerts -----------------------------------------------------------------------------------

def indicator_url(code: str) -> str:
    """The indicator's page (the kpis blueprint's), or its path when that page is not there yet."""
    if "kpis.indicator" in current_app.view_functions:
        return url_for("kpis.indicator", code=code)
    return f"/indicators/{code}"


def indicators_by_code(codes: list[str] | set[str]) -> dict[str, Indicator]:
    if not codes:
        return {}
    return {i.code: i for i in db.session.scalars(select(Indicator).where(Indicator.code.in_(list(codes))))}


def latest_values(indicator_ids: list[int] | set[int]) -> dict[int, list[IndicatorValue]]:
    """Each indicator's values of its latest period (the region first, then the municipalities)."""
    if not indicator_ids:
        return {}
    latest = (select(IndicatorValue.indicator_id, func.max(IndicatorValue.period_start).label("period_start"))
              .where(IndicatorValue.indicator_id.in_(list(indicator_ids)))
              .group_by(IndicatorValue.indicator_id).subquery())
    rows = db.session.scalars(select(IndicatorValue).join(latest, and_(
        IndicatorValue.indicator_id == latest.c.indicator_id, IndicatorValue.period_start == latest.c.period_start))
        # the indicators are in the session already (their ids came from them): no join; the records
        # behind each value are not shown here
        .options(selectinload(IndicatorValue.municipality), lazyload(IndicatorValue.indicator),
                 defer(IndicatorValue.details)))
    out: dict[int, list[IndicatorValue]] = {}
    for row in rows:
        out.setdefault(row.indicator_id, []).append(row)
    for values in out.values():
        values.sort(key=lambda v: (v.scope_key != "region", v.municipality.sort_order if v.municipality else 0,
                                   v.scope_key))
    return out


def scope_label(value: IndicatorValue) -> str:
    if value.scope_key == "region" or value.municipality is None:
        return _("Region")
    return value.municipality.name


def format_value(value: Decimal | None, unit: str) -> str:
    """A value in its unit, as the indicator pages show it (srpp/kpis ``format_value``)."""
    try:
        from srpp.kpis.services import format_value as kpi_format
    except ImportError:  # the registry's services are not there: a plain rendering
        kpi_format = None
    if kpi_format is not None:
        return kpi_format(unit, value)
    from srpp.core.i18n import money, number

    if value is None:
        return "—"
    if unit == "eur":
        return money(value)
    text = number(value, 0 if value == value.to_integral_value() else 1)
    return text + {"percent": " %", "m2": " m²"}.get(unit, "")


@dataclass
class MonitoringRow:
    """One monitoring indicator of a risk with its latest values (``indicator`` None: not in the registry)."""

    code: str
    indicator: Indicator | None
    values: list[IndicatorValue]

    @property
    def url(self) -> str:
        return indicator_url(self.code)

    @property
    def red(self) -> list[IndicatorValue]:
        if self.indicator is None:
            return []
        return [v for v in self.values if self.indicator.status(v.value) == "red"]

    @property
    def period(self) -> tuple[dt.date, dt.date] | None:
        return (self.values[0].period_start, self.values[0].period_end) if self.values else None

    @property
    def region_value(self) -> IndicatorValue | None:
        return next((v for v in self.values if v.scope_key == "region"), None)

    @property
    def municipal_values(self) -> list[IndicatorValue]:
        return [v for v in self.values if v.scope_key != "region"]

    def status(self, value: IndicatorValue | None) -> str:
        if self.indicator is None or value is None:
            return "none"
        return self.indicator.status(value.value)

    def shown(self, value: IndicatorValue | None) -> str:
        return format_value(value.value if value else None, self.indicator.unit if self.indicator else "count")


@dataclass
class Alert:
    """A monitoring indicator of a risk that is red in its latest period, for one scope."""

    risk: Risk
    row: MonitoringRow
    value: IndicatorValue

    @property
    def code(self) -> str:
        return self.row.code

    @property
    def indicator(self) -> Indicator:
        assert self.row.indicator is not None
        return self.row.indicator

    @property
    def scope(self) -> str:
        return scope_label(self.value)

    @property
    def shown_value(self) -> str:
        return self.row.shown(self.value)

    @property
    def url(self) -> str:
        return self.row.url


def monitoring(risks: list[Risk]) -> dict[int, list[MonitoringRow]]:
    """The monitoring indicators of each risk with their latest values (two queries for all risks)."""
    codes = {c for r in risks for c in r.indicator_codes}
    indicators = indicators_by_code(codes)
    values = latest_values({i.id for i in indicators.values()})
    return {r.id: [MonitoringRow(c, indicators.get(c), values.get(indicators[c].id, []) if c in indicators else [])
                   for c in r.indicator_codes] for r in risks}


def current_alerts(risks: list[Risk] | None = None,
                   rows: dict[int, list[MonitoringRow]] | None = None) -> dict[int, list[Alert]]:
    """The alerts of each risk now (risk id → alerts; risks without alerts are left out)."""
    risks = all_risks() if risks is None else risks
    rows = monitoring(risks) if rows is None else rows
    out: dict[int, list[Alert]] = {}
    for risk in risks:
        alerts = [Alert(risk, row, v) for row in rows.get(risk.id, []) for v in row.red]
        if alerts:
            out[risk.id] = alerts
    return out


def alert_history(risk: Risk, limit: int = 50) -> list[RiskAlert]:
    return list(db.session.scalars(select(RiskAlert).where(RiskAlert.risk_id == risk.id)
                                   .order_by(RiskAlert.raised_at.desc(), RiskAlert.id.desc()).limit(limit)))


def council_viewers() -> list[User]:
    return list(db.session.scalars(select(User).join(Membership).where(
        Membership.role == Role.COUNCIL_VIEWER, User.active.is_(True)).order_by(User.id).distinct()))


def alert_recipients(risk: Risk) -> list[User]:
    """The risk's owner; when it has none (or the owner is inactive): the council viewers."""
    if risk.owner_user is not None and risk.owner_user.active:
        return [risk.owner_user]
    return council_viewers()


def scan_alerts(now: dt.datetime | None = None) -> dict[str, int]:
    """Record the current alerts in the history (one row per risk, indicator, scope and period; closed when
    the value is no longer red or a later period replaced it) and notify each risk's owner once per risk,
    indicator and period. Idempotent: running it twice changes nothing and sends nothing more."""
    from srpp.core.notify import notify

    now = now or utcnow()
    risks = all_risks()
    alerts = current_alerts(risks)
    counts = {"alerts": 0, "raised": 0, "closed": 0, "notified": 0}
    open_rows = {(a.risk_id, a.indicator_code, a.scope_key, a.period_start): a
                 for a in db.session.scalars(select(RiskAlert).where(RiskAlert.closed_at.is_(None)))}
    seen: set[tuple[int, str, str, dt.date]] = set()
    for risk in risks:
        by_code: dict[str, list[Alert]] = {}
        for alert in alerts.get(risk.id, []):
            by_code.setdefault(alert.code, []).append(alert)
            key = (risk.id, alert.code, alert.value.scope_key, alert.value.period_start)
            seen.add(key)
            counts["alerts"] += 1
            if key in open_rows:
                open_rows[key].value = alert.value.value
                continue
            row = db.session.scalar(select(RiskAlert).where(
                RiskAlert.risk_id == risk.id, RiskAlert.indicator_code == alert.code,
                RiskAlert.scope_key == alert.value.scope_key, RiskAlert.period_start == alert.value.period_start))
            if row is None:
                db.session.add(RiskAlert(
                    risk_id=risk.id, indicator_code=alert.code, scope_key=alert.value.scope_key,
                    municipality_id=alert.value.municipality_id, period_start=alert.value.period_start,
                    period_end=alert.value.period_end, value=alert.value.value, raised_at=now))
            else:  # red again in the same period after it had cleared
                row.closed_at, row.value = None, alert.value.value
            counts["raised"] += 1
        for code, group in by_code.items():
            counts["notified"] += _notify_owner(risk, code, group, notify)
    for key, row in open_rows.items():
        if key not in seen:
            row.closed_at = now
            counts["closed"] += 1
    db.session.flush()
    return counts


def _notify_owner(risk: Risk, code: str, group: list[Alert], notify: Callable) -> int:
    first = group[0]
    period = first.value.period_start
    key = f"risk-alert:{risk.id}:{code}:{period.isoformat()}"
    link = url_for("risks.risk", code=risk.code)
    sent = 0
    for user in alert_recipients(risk):
        with force_locale(user.locale or "lt"):
            subject = _("Risk %(code)s: the indicator %(indicator)s is red", code=risk.code, indicator=code)
            lines = [_("%(indicator)s (%(name)s) is past its red threshold in %(start)s – %(end)s:",
                       indicator=code, name=first.indicator.name, start=period.isoformat(),
                       end=first.value.period_end.isoformat())]
            lines += [f"- {a.scope}: {a.shown_value}" for a in group]
            lines.append(_("Risk %(code)s “%(title)s”: review it and decide the corrective actions.",
                           code=risk.code, title=risk.title))
            body = "\n".join(lines)
        if notify(user, kind="risk.alert", subject=subject, body=body, dedupe_key=key, link=link):
            sent += 1
    rows = db.session.scalars(select(RiskAlert).where(
        RiskAlert.risk_id == risk.id, RiskAlert.indicator_code == code, RiskAlert.period_start == period)).all()
    for row in rows:
        row.notified = max(row.notified, sent) if sent else row.notified
    return sent


# --- reviews and corrective actions ----------------------------------------------------------------------------

@dataclass
class ActionInput:
    title: str
    owner_text: str
    due_on: dt.date | None
    owner_user_id: int | None = None


@dataclass
class ReviewInput:
    reviewed_on: dt.date | None
    likelihood: str
    impact: str
    preventive_measures: str | None = None
    reactive_action: str | None = None
    responsible_unit: str | None = None
    note: str | None = None
    action: ActionInput | None = None


def _clean(text: str | None) -> str | None:
    text = (text or "").strip()
    return text or None


def _rating(raw: str, name: str) -> Rating:
    try:
        return Rating(raw)
    except ValueError:
        raise DomainError(_("Choose low, medium or high."), field=name) from None


def _check_action(inp: ActionInput, prefix: str = "") -> None:
    if not (inp.title or "").strip():
        raise DomainError(_("Describe the corrective action."), field=f"{prefix}title")
    if not (inp.owner_text or "").strip() and inp.owner_user_id is None:
        raise DomainError(_("Name who is responsible for the action."), field=f"{prefix}owner_text")
    if inp.due_on is None:
        raise DomainError(_("Give the due date of the action."), field=f"{prefix}due_on")
    if inp.owner_user_id is not None and db.session.get(User, inp.owner_user_id) is None:
        raise DomainError(_("Unknown user."), field=f"{prefix}owner_user_id")


def add_review(actor: User, risk: Risk, inp: ReviewInput, version: Any = None,
               today: dt.date | None = None) -> RiskReview:
    """Record a review; the risk takes its rating. Medium and high levels need preventive measures."""
    require(actor, "risk.review", risk)
    if version is not None:
        check_version(risk, version)
    today = today or dt.date.today()
    if inp.reviewed_on is None:
        raise DomainError(_("Give the date of the review."), field="reviewed_on")
    if inp.reviewed_on > today:
        raise DomainError(_("A review cannot be dated in the future."), field="reviewed_on")
    likelihood, impact = _rating(inp.likelihood, "likelihood"), _rating(inp.impact, "impact")
    level = level_of(likelihood, impact)
    preventive = _clean(inp.preventive_measures)
    if level != Rating.LOW and preventive is None:
        raise DomainError(_("The level is %(level)s: describe the preventive measures (required for medium and "
                            "high risks).", level=level.label), field="preventive_measures")
    if inp.action is not None:
        _check_action(inp.action, "action_")
    bind_actor(db.session(), actor)
    review = RiskReview(risk=risk, reviewed_on=inp.reviewed_on, likelihood=likelihood, impact=impact,
                        preventive_measures=preventive, reactive_action=_clean(inp.reactive_action),
                        responsible_unit=_clean(inp.responsible_unit), note=_clean(inp.note), reviewer_id=actor.id)
    db.session.add(review)
    latest = max([r.reviewed_on for r in risk.reviews if r is not review] or [dt.date.min])
    if inp.reviewed_on >= latest:  # an older review entered late does not change the current rating
        risk.likelihood, risk.impact = likelihood, impact
    if inp.action is not None:
        _new_action(actor, risk, inp.action, review)
    db.session.flush()
    return review


def _new_action(actor: User, risk: Risk, inp: ActionInput, review: RiskReview | None) -> CorrectiveAction:
    """Add the action; the person it is given to (other than the actor) is notified."""
    from srpp.core.notify import notify

    owner = db.session.get(User, inp.owner_user_id) if inp.owner_user_id is not None else None
    owner_text = (inp.owner_text or "").strip() or (owner.display_name if owner else "")
    action = CorrectiveAction(risk=risk, review=review, title=inp.title.strip(), owner_text=owner_text[:200],
                              owner_user_id=inp.owner_user_id, due_on=inp.due_on, created_by_id=actor.id)
    db.session.add(action)
    db.session.flush()
    if owner is not None and owner.id != actor.id:
        with force_locale(owner.locale or "lt"):
            subject = _("Corrective action for risk %(code)s, due %(day)s", code=risk.code, day=inp.due_on.isoformat())
            body = _("%(action)s (risk %(code)s “%(title)s”). Mark it completed on the risk's page when it is done.",
                     action=action.title, code=risk.code, title=risk.title)
        notify(owner, kind="risk.action", subject=subject, body=body, dedupe_key=f"risk-action:{action.id}",
               link=url_for("risks.risk", code=risk.code) + "#actions")
    return action


def add_action(actor: User, risk: Risk, inp: ActionInput, review: RiskReview | None = None) -> CorrectiveAction:
    require(actor, "risk.review", risk)
    _check_action(inp)
    if review is not None and review.risk_id != risk.id:
        raise DomainError(_("That review belongs to another risk."))
    bind_actor(db.session(), actor)
    action = _new_action(actor, risk, inp, review)
    db.session.flush()
    return action


def complete_action(actor: User, action: CorrectiveAction, completed_on: dt.date | None, note: str | None,
                    version: Any = None, today: dt.date | None = None) -> CorrectiveAction:
    require(actor, "risk.action.complete", action)
    if version is not None:
        check_version(action, version)
    if action.completed_on is not None:
        raise DomainError(_("This action was already completed on %(day)s.", day=action.completed_on.isoformat()))
    today = today or dt.date.today()
    if completed_on is None:
        raise DomainError(_("Give the date the action was completed."), field="completed_on")
    if completed_on > today:
        raise DomainError(_("The completion date cannot be in the future."), field="completed_on")
    bind_actor(db.session(), actor)
    action.completed_on = completed_on
    action.completion_note = _clean(note)
    db.session.flush()
    return action


def open_actions_count(risks: list[Risk]) -> dict[int, int]:
    if not risks:
        return {}
    rows = db.session.execute(select(CorrectiveAction.risk_id, func.count()).where(
        CorrectiveAction.completed_on.is_(None), CorrectiveAction.risk_id.in_([r.id for r in risks]))
        .group_by(CorrectiveAction.risk_id)).all()
    return dict(rows)


def assignable_users() -> list[User]:
    """People a corrective action can be given to: the council, admins and municipal staff."""
    roles = (Role.ADMIN, Role.COUNCIL_VIEWER, Role.PROCUREMENT_OFFICER, Role.FINANCE_OFFICER,
             Role.SERVICE_COORDINATOR)
    return list(db.session.scalars(select(User).join(Membership).where(
        Membership.role.in_(roles), User.active.is_(True)).order_by(User.email).distinct()))


# --- programme targets -----------------------------------------------------------------------------------------

def programme_start() -> dt.date:
    return dt.date.fromisoformat(settings.get("risks.programme_start"))


def due_date(target: ProgrammeTarget, start: dt.date | None = None) -> dt.date:
    return (start or programme_start()) + relativedelta(months=target.due_months)


@dataclass
class Evidence:
    """What the records say about a target: ``met``, and a sentence with the figures."""

    met: bool
    summary: str
    current: int | None = None
    required: int | None = None


def _issued_tender_states() -> list:
    from srpp.tenders.models import TenderState

    return [TenderState.PUBLISHED, TenderState.EVALUATION, TenderState.AWARDED]


def _municipalities() -> list[Municipality]:
    return list(db.session.scalars(select(Municipality).order_by(Municipality.sort_order, Municipality.id)))


def _done_documents(kind: str, column: Any = None):
    """The documents of a kind whose generation is done (``column``: select that column instead)."""
    from srpp.core.models import JobRun, JobState
    from srpp.documents.models import GeneratedDocument

    return (select(GeneratedDocument if column is None else column)
            .join(JobRun, GeneratedDocument.job_id == JobRun.id)
            .where(GeneratedDocument.kind == kind, JobRun.state == JobState.DONE))


def _ev_handbook(params: dict, today: dt.date) -> Evidence:
    from srpp.documents.models import GeneratedDocument

    munis = _municipalities()
    handbook = db.count(_done_documents("handbook"))
    noted = set(db.session.scalars(_done_documents("implementation_note", GeneratedDocument.subject_id).where(
        GeneratedDocument.subject_type == "municipality").distinct()))
    notes = len({m.id for m in munis} & noted)
    summary = _("Regional handbook: %(handbook)s; municipal notes: %(notes)s of %(total)s.",
                handbook=_("generated") if handbook else _("not generated yet"), notes=notes, total=len(munis))
    return Evidence(bool(handbook) and bool(munis) and notes == len(munis), summary, notes, len(munis))


def _ev_plans_published(params: dict, today: dt.date) -> Evidence:
    from srpp.plans.services import current_published

    munis = _municipalities()
    missing = [m for m in munis if current_published(m, today) is None]
    done = len(munis) - len(missing)
    summary = _("%(done)s of %(total)s municipalities have a published plan.", done=done, total=len(munis))
    if missing:
        summary += " " + _("Missing: %(names)s.", names=", ".join(m.name for m in missing))
    return Evidence(bool(munis) and not missing, summary, done, len(munis))


def _ev_contact_point(params: dict, today: dt.date) -> Evidence:
    staff = len(council_viewers())
    return Evidence(staff >= 1, _("People in the regional contact-point role: %(n)s.", n=staff), staff, 1)


def _ev_indicator_positive(params: dict, today: dt.date) -> Evidence:
    code = params["code"]
    indicator = db.session.scalar(select(Indicator).where(Indicator.code == code))
    if indicator is None:
        return Evidence(False, _("The indicator %(code)s is not yet in the registry.", code=code), 0, 1)
    total = db.session.scalar(select(func.sum(IndicatorValue.value)).where(
        IndicatorValue.indicator_id == indicator.id, IndicatorValue.value > 0)) or Decimal(0)
    return Evidence(total > 0, _("%(code)s %(name)s: %(value)s recorded so far.", code=code, name=indicator.name,
                                 value=format_value(Decimal(total), indicator.unit)))


def _ev_frameworks(params: dict, today: dt.date) -> Evidence:
    from srpp.frameworks.services import frameworks_by_area
    from srpp.orgs.models import PriorityArea

    counts = frameworks_by_area()
    areas = params.get("areas") or []
    minimum = int(params.get("minimum", 1))
    total = sum(counts.values())
    parts = ", ".join(f"{PriorityArea(a).label}: {counts.get(a, 0)}" for a in areas)
    summary = _("%(total)s frameworks signed (%(areas)s).", total=total, areas=parts)
    return Evidence(total >= minimum and all(counts.get(a, 0) >= 1 for a in areas), summary, total, minimum)


def panauda_count(today: dt.date | None = None) -> int | None:
    """Panauda agreements (social assets lent free of charge) signed so far, cumulative, from srpp/assets
    (``assets_allocated``, the indicator of risk 12.1); None when that area is not installed."""
    try:
        from srpp.assets.services import assets_allocated
    except ImportError:
        return None
    result = assets_allocated(dt.date(2000, 1, 1), today or dt.date.today())
    return 0 if result is None else int(result[0])


def _ev_panauda(params: dict, today: dt.date) -> Evidence:
    minimum = int(params.get("minimum", 10))
    count = panauda_count(today)
    if count is None:
        return Evidence(False, _("The social-asset register is not available yet."), 0, minimum)
    return Evidence(count >= minimum, _("%(n)s panauda agreements of the %(min)s required.", n=count, min=minimum),
                    count, minimum)


def _issued_lots(*conditions) -> int:
    from srpp.orgs.models import ServiceCategory
    from srpp.tenders.models import Lot, Tender

    return db.session.scalar(select(func.count(Lot.id)).join(Tender, Lot.tender_id == Tender.id)
                             .join(ServiceCategory, Lot.category_id == ServiceCategory.id)
                             .where(Tender.state.in_(_issued_tender_states()), *conditions)) or 0


def _ev_bundle_lots(params: dict, today: dt.date) -> Evidence:
    from srpp.orgs.models import ServiceCategory

    minimum = int(params.get("minimum", 1))
    count = _issued_lots(ServiceCategory.is_bundle.is_(True))
    return Evidence(count >= minimum, _("Bundle lots issued: %(n)s.", n=count), count, minimum)


def _ev_category_lots(params: dict, today: dt.date) -> Evidence:
    from srpp.frameworks.models import FrameworkAgreement, FrameworkState
    from srpp.orgs.models import ServiceCategory

    keys = list(params.get("categories") or [])
    minimum = int(params.get("minimum", 1))
    lots = _issued_lots(ServiceCategory.key.in_(keys))
    frameworks = db.session.scalar(select(func.count(FrameworkAgreement.id)).join(
        ServiceCategory, FrameworkAgreement.category_id == ServiceCategory.id).where(
        ServiceCategory.key.in_(keys),
        FrameworkAgreement.state.in_((FrameworkState.ACTIVE, FrameworkState.EXPIRED)))) or 0
    names = ", ".join(c.name for c in db.session.scalars(select(ServiceCategory).where(ServiceCategory.key.in_(keys))))
    return Evidence(lots + frameworks >= minimum,
                    _("%(names)s: %(lots)s lots issued, %(frameworks)s frameworks signed.", names=names or "—",
                      lots=lots, frameworks=frameworks), lots + frameworks, minimum)


def _ev_plan_refresh(params: dict, today: dt.date) -> Evidence:
    from srpp.plans.models import PlanVersion

    months = int(params.get("months", 6))
    munis = _municipalities()
    published: dict[int, list[dt.datetime]] = {}
    for muni_id, at in db.session.execute(select(PlanVersion.municipality_id, PlanVersion.published_at).where(
            PlanVersion.published_at.is_not(None)).order_by(PlanVersion.published_at)):
        published.setdefault(muni_id, []).append(at)
    refreshed = []
    for m in munis:
        dates = published.get(m.id, [])
        if len(dates) >= 2 and dates[1] <= dates[0] + relativedelta(months=months):
            refreshed.append(m)
    return Evidence(bool(munis) and len(refreshed) == len(munis),
                    _("%(done)s of %(total)s municipalities re-published their plan within %(months)s months of "
                      "the first publication.", done=len(refreshed), total=len(munis), months=months),
                    len(refreshed), len(munis))


def _ev_multi_year_funding(params: dict, today: dt.date) -> Evidence:
    from srpp.contracts.models import Contract
    from srpp.frameworks.models import FrameworkAgreement, FrameworkState

    months = int(params.get("months", 24))
    multi = sum(1 for fa in db.session.scalars(select(FrameworkAgreement).where(
        FrameworkAgreement.state.in_((FrameworkState.ACTIVE, FrameworkState.EXPIRED))))
        if fa.end_date >= fa.start_date + relativedelta(months=months) - dt.timedelta(days=1))
    advances = db.session.scalar(select(func.count(Contract.id)).where(Contract.advance_percent > 0)) or 0
    return Evidence(multi >= 1 and advances >= 1,
                    _("Frameworks of %(months)s months or longer: %(multi)s; contracts with an advance payment: "
                      "%(advances)s.", months=months, multi=multi, advances=advances))


def _ev_annual_documents(params: dict, today: dt.date) -> Evidence:
    """A document of kind ``params.kind`` (whose subject is the year) generated for every calendar year of
    the programme completed by ``today``."""
    from srpp.documents.models import KINDS, GeneratedDocument

    kind = params["kind"]
    years = list(range(programme_start().year, today.year))
    if kind not in KINDS:
        return Evidence(False, _("This document cannot be generated yet."), 0, len(years))
    if not years:
        return Evidence(False, _("No programme year has ended yet."), 0, 0)
    have = set(db.session.scalars(_done_documents(kind, GeneratedDocument.subject_id).where(
        GeneratedDocument.subject_id.in_(years)).distinct()))
    missing = [y for y in years if y not in have]
    summary = _("Reports for %(done)s of %(total)s completed years.", done=len(years) - len(missing), total=len(years))
    if missing:
        summary += " " + _("Missing: %(names)s.", names=", ".join(str(y) for y in missing))
    return Evidence(not missing, summary, len(years) - len(missing), len(years))


#: evidence rules by name (targets.yaml ``evidence``); each takes (params, today)
EVIDENCE: dict[str, Callable[[dict, dt.date], Evidence]] = {
    "handbook": _ev_handbook,
    "plans_published": _ev_plans_published,
    "contact_point": _ev_contact_point,
    "indicator_positive": _ev_indicator_positive,
    "frameworks": _ev_frameworks,
    "panauda": _ev_panauda,
    "bundle_lots": _ev_bundle_lots,
    "category_lots": _ev_category_lots,
    "plan_refresh": _ev_plan_refresh,
    "multi_year_funding": _ev_multi_year_funding,
    "annual_documents": _ev_annual_documents,
}

TARGET_STATES = {"done": _l("done"), "on_track": _l("on track"), "overdue": _l("overdue")}


@dataclass
class TargetStatus:
    """A target and where it stands. Holds no personal data except ``target.done_by`` (who marked a
    manual target): a public page shows ``code``, ``title``, ``horizon``, ``due_on``, ``state``,
    ``summary`` and ``done_on``."""

    target: ProgrammeTarget
    due_on: dt.date
    state: str  # done | on_track | overdue
    evidence: Evidence | None

    @property
    def code(self) -> str:
        return self.target.code

    @property
    def title(self) -> str:
        return self.target.title

    @property
    def horizon(self) -> Horizon:
        return self.target.horizon

    @property
    def manual(self) -> bool:
        return self.target.is_manual

    @property
    def done_on(self) -> dt.date | None:
        return self.target.done_on

    @property
    def state_label(self) -> str:
        return str(TARGET_STATES[self.state])

    @property
    def summary(self) -> str:
        if self.evidence is not None:
            return self.evidence.summary
        if self.target.done_on is not None:
            return self.target.done_evidence or ""
        return _("Marked by the council when done.")


def target_status(target: ProgrammeTarget, today: dt.date | None = None, start: dt.date | None = None) -> TargetStatus:
    today = today or dt.date.today()
    due = due_date(target, start)
    evidence = None if target.is_manual else EVIDENCE[target.evidence](target.params or {}, today)
    done = target.done_on is not None if target.is_manual else evidence.met
    state = "done" if done else ("overdue" if today > due else "on_track")
    return TargetStatus(target, due, state, evidence)


def targets_status(today: dt.date | None = None) -> list[TargetStatus]:
    """Every programme target with its state (done / on_track / overdue), by horizon and order. The public
    scoreboard calls this (see TargetStatus for what may be shown publicly)."""
    start = programme_start()
    order = {h: i for i, h in enumerate(Horizon)}
    targets = sorted(db.session.scalars(select(ProgrammeTarget)), key=lambda t: (order[t.horizon], t.sort_order))
    return [target_status(t, today, start) for t in targets]


def targets_by_horizon(today: dt.date | None = None) -> list[tuple[Horizon, list[TargetStatus]]]:
    statuses = targets_status(today)
    return [(h, [s for s in statuses if s.horizon == h]) for h in Horizon]


def get_target(code: str) -> ProgrammeTarget | None:
    return db.session.scalar(select(ProgrammeTarget).where(ProgrammeTarget.code == code))


def mark_target(actor: User, target: ProgrammeTarget, done_on: dt.date | None, evidence: str | None,
                version: Any = None, today: dt.date | None = None) -> ProgrammeTarget:
    """A council member records that a manual target was met, with the evidence in words."""
    require(actor, "target.mark", target)
    if version is not None:
        check_version(target, version)
    if not target.is_manual:
        raise DomainError(_("This target is checked from the records; it cannot be marked by hand."))
    if done_on is None:
        raise DomainError(_("Give the date the target was met."), field="done_on")
    if done_on > (today or dt.date.today()):
        raise DomainError(_("The date cannot be in the future."), field="done_on")
    if not (evidence or "").strip():
        raise DomainError(_("Describe the evidence (a decision, a document, a link)."), field="evidence")
    bind_actor(db.session(), actor)
    target.done_on, target.done_evidence, target.done_by_id = done_on, evidence.strip(), actor.id
    db.session.flush()
    return target


def reopen_target(actor: User, target: ProgrammeTarget, version: Any = None) -> ProgrammeTarget:
    require(actor, "target.mark", target)
    if version is not None:
        check_version(target, version)
    if not target.is_manual or target.done_on is None:
        raise DomainError(_("This target is not marked done."))
    bind_actor(db.session(), actor)
    target.done_on = target.done_evidence = target.done_by_id = None
    db.session.flush()
    return target
