"""Framework agreement rules (EU-FA-01 … EU-FA-08): coordinators, participants with caps and
opt-outs, the shared specification, and call-offs that can never exceed a cap or the maximum —
enforced inside the database transaction with row locks."""

from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from dateutil.relativedelta import relativedelta
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import extract, func, select

from srpp.auth.models import Membership, Role, User
from srpp.contracts.models import Contract
from srpp.core import cache, settings
from srpp.core.audit import bind_actor
from srpp.core.db import is_postgres
from srpp.core.errors import DomainError
from srpp.core.i18n import money
from srpp.core.permissions import require
from srpp.core.services import check_version
from srpp.extensions import db
from srpp.frameworks.models import (
    CallOff,
    CallOffMethod,
    CoordinatorAssignment,
    EngagementEvent,
    FrameworkAgreement,
    FrameworkParticipant,
    FrameworkState,
    FrameworkSupplier,
    ParticipantCap,
    ParticipantState,
    PriceLine,
    SpecAcknowledgement,
    SpecificationVersion,
)
from srpp.orgs.models import Municipality, ServiceCategory, Supplier

settings.declare("frameworks.max_term_months", int, 48,
                 _l("Longest framework term without a recorded justification (EU-FA-01)"), 1, 120)
settings.declare("frameworks.price_tolerance", Decimal, Decimal("0.05"),
                 _l("Tolerated deviation of a call-off's unit price from the framework's price schedule"),
                 Decimal(0), Decimal(1))
settings.declare("frameworks.price_rule", str, "error",
                 _l("A unit price outside the tolerance: 'error' refuses the call-off, 'warning' asks for a note"),
                 choices=("error", "warning"))
#: the regional target: at least one framework in each of these priority areas (domain §5)
TARGET_AREAS = ("LTC", "MOBILITY", "HOUSING")


# --- coordinators -------------------------------------------------------------------------------

def current_coordinator(category: ServiceCategory) -> CoordinatorAssignment | None:
    return db.session.scalar(select(CoordinatorAssignment).where(
        CoordinatorAssignment.category_id == category.id, CoordinatorAssignment.valid_to.is_(None)))


def assign_coordinator(actor: User, category: ServiceCategory, municipality: Municipality, valid_from: dt.date,
                       decision_ref: str) -> CoordinatorAssignment:
    require(actor, "coordinator.assign")
    if not (decision_ref or "").strip():
        raise DomainError(_("Give the council decision's reference."), field="decision_ref")
    bind_actor(db.session(), actor)
    previous = current_coordinator(category)
    if previous is not None:
        if valid_from <= previous.valid_from:
            raise DomainError(_("The new assignment must start after the current one (from %(day)s).",
                                day=previous.valid_from.isoformat()), field="valid_from")
        previous.valid_to = valid_from - dt.timedelta(days=1)
        db.session.flush()
    assignment = CoordinatorAssignment(category_id=category.id, municipality_id=municipality.id,
                                       valid_from=valid_from, decision_ref=decision_ref.strip(),
                                       assigned_by_id=actor.id)
    db.session.add(assignment)
    db.session.flush()
    return assignment


def assignment_history(category: ServiceCategory) -> list[CoordinatorAssignment]:
    return list(db.session.scalars(select(CoordinatorAssignment).where(
        CoordinatorAssignment.category_id == category.id).order_by(CoordinatorAssignment.valid_from.desc())))


# --- frameworks ---------------------------------------------------------------------------------

@dataclass
class FrameworkInput:
    code: str
    title: str
    category_id: int
    start_date: dt.date
    end_date: dt.date
    estimated_value: Decimal
    max_value: Decimal
    call_off_method: CallOffMethod
    objective_criteria: str | None = None
    term_justification: str | None = None
    admits_new_suppliers: bool = False
    tender_id: int | None = None


@dataclass
class Problem:
    message: str
    field: str | None = None
    blocking: bool = True


class Refused(DomainError):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(" ".join(p.message for p in problems), field=problems[0].field)
        self.problems = problems


def _months(start: dt.date, end: dt.date) -> int:
    delta = relativedelta(end + dt.timedelta(days=1), start)
    return delta.years * 12 + delta.months + (1 if delta.days else 0)


def check_framework(inp: FrameworkInput, committed: Decimal = Decimal(0)) -> list[Problem]:
    problems: list[Problem] = []
    if not (inp.title or "").strip():
        problems.append(Problem(_("Give the framework a title."), "title"))
    if not (inp.code or "").strip():
        problems.append(Problem(_("Give the framework a code."), "code"))
    if inp.estimated_value is None or inp.estimated_value <= 0:
        problems.append(Problem(_("The estimated value is required and must be greater than zero (EU-FA-04)."),
                                "estimated_value"))
    if inp.max_value is None or inp.max_value <= 0:
        problems.append(Problem(_("The maximum value is required and must be greater than zero (EU-FA-04)."),
                                "max_value"))
    elif inp.estimated_value and inp.max_value < inp.estimated_value:
        problems.append(Problem(_("The maximum value cannot be below the estimated value."), "max_value"))
    elif inp.max_value < committed:
        problems.append(Problem(_("The maximum value cannot be set below what call-offs already committed "
                                  "(%(committed)s).", committed=money(committed)), "max_value"))
    if inp.end_date <= inp.start_date:
        problems.append(Problem(_("The framework must end after it starts."), "end_date"))
    else:
        months = _months(inp.start_date, inp.end_date)
        limit = settings.get("frameworks.max_term_months")
        if months > limit:
            if not (inp.term_justification or "").strip():
                problems.append(Problem(_("The term is %(months)s months: a framework may last at most %(limit)s "
                                          "months unless the exceptional case is justified in writing.",
                                          months=months, limit=limit), "term_justification"))
            else:
                problems.append(Problem(_("The term of %(months)s months exceeds %(limit)s months: justified in "
                                          "writing.", months=months, limit=limit), "term_justification", False))
    if inp.call_off_method == CallOffMethod.HYBRID and not (inp.objective_criteria or "").strip():
        problems.append(Problem(_("A hybrid call-off method needs the objective criteria that decide between "
                                  "direct award and mini-competition (EU-FA-05)."), "objective_criteria"))
    return problems


def _refuse_if(problems: list[Problem]) -> None:
    blocking = [p for p in problems if p.blocking]
    if blocking:
        raise Refused(blocking)


def _apply(fa: FrameworkAgreement, inp: FrameworkInput) -> None:
    fa.code = inp.code.strip()
    fa.title = inp.title.strip()
    fa.category_id = inp.category_id
    fa.start_date, fa.end_date = inp.start_date, inp.end_date
    fa.estimated_value = Decimal(inp.estimated_value).quantize(Decimal("0.01"))
    fa.max_value = Decimal(inp.max_value).quantize(Decimal("0.01"))
    fa.call_off_method = inp.call_off_method
    fa.objective_criteria = (inp.objective_criteria or "").strip() or None
    fa.term_justification = (inp.term_justification or "").strip() or None
    fa.admits_new_suppliers = inp.admits_new_suppliers
    fa.tender_id = inp.tender_id


def create_framework(actor: User, inp: FrameworkInput) -> FrameworkAgreement:
    category = db.session.get(ServiceCategory, inp.category_id)
    if category is None:
        raise DomainError(_("Choose a service area."), field="category_id")
    assignment = current_coordinator(category)
    if assignment is None:
        raise DomainError(_("The council has not named a coordinator for %(area)s yet.", area=category.name),
                          field="category_id")
    require(actor, "framework.manage", assignment.municipality)
    _refuse_if(check_framework(inp))
    bind_actor(db.session(), actor)
    fa = FrameworkAgreement(municipality_id=assignment.municipality_id, created_by_id=actor.id,
                            state=FrameworkState.PLANNED)
    _apply(fa, inp)
    db.session.add(fa)
    db.session.flush()
    return fa


def update_framework(actor: User, fa: FrameworkAgreement, inp: FrameworkInput, version: Any) -> list[Problem]:
    require(actor, "framework.manage", fa.coordinator)
    check_version(fa, version)
    problems = check_framework(inp, committed_total(fa))
    _refuse_if(problems)
    bind_actor(db.session(), actor)
    _apply(fa, inp)
    cache.bump("pipeline")
    db.session.flush()
    return [p for p in problems if not p.blocking]


def set_state(actor: User, fa: FrameworkAgreement, state: FrameworkState) -> None:
    require(actor, "framework.manage", fa.coordinator)
    if state == FrameworkState.ACTIVE and not fa.parties:
        raise DomainError(_("Add at least one supplier that is party to the framework before activating it."))
    bind_actor(db.session(), actor)
    fa.state = state
    cache.bump("pipeline")
    db.session.flush()


def expire_frameworks(today: dt.date | None = None) -> int:
    """Daily: frameworks past their end date expire (idempotent)."""
    today = today or dt.date.today()
    expired = 0
    for fa in db.session.scalars(select(FrameworkAgreement).where(
            FrameworkAgreement.state == FrameworkState.ACTIVE, FrameworkAgreement.end_date < today)):
        fa.state = FrameworkState.EXPIRED
        expired += 1
    if expired:
        cache.bump("pipeline")
    db.session.flush()
    return expired


# --- participants, suppliers, prices ------------------------------------------------------------

def add_participant(actor: User, fa: FrameworkAgreement, municipality: Municipality, notice_days: int,
                    caps: dict[int, Decimal]) -> FrameworkParticipant:
    require(actor, "framework.manage", fa.coordinator)
    if any(p.municipality_id == municipality.id for p in fa.participants):
        raise DomainError(_("%(m)s already participates.", m=municipality.name), field="municipality_id")
    if not 0 <= notice_days <= 730:
        raise DomainError(_("The opt-out notice must be between 0 and 730 days."), field="opt_out_notice_days")
    bind_actor(db.session(), actor)
    participant = FrameworkParticipant(municipality_id=municipality.id, opt_out_notice_days=notice_days)
    for year, cap in sorted(caps.items()):
        if cap < 0:
            raise DomainError(_("A cap cannot be negative."), field="caps")
        participant.caps.append(ParticipantCap(year=year, cap=Decimal(cap).quantize(Decimal("0.01"))))
    fa.participants.append(participant)
    db.session.flush()
    return participant


def set_cap(actor: User, participant: FrameworkParticipant, year: int, cap: Decimal) -> None:
    require(actor, "framework.manage", participant.framework.coordinator)
    committed = committed_by(participant.framework, participant.municipality_id, year)
    if cap < committed:
        raise DomainError(_("The cap for %(year)s cannot be below what is already committed (%(committed)s).",
                            year=year, committed=money(committed)), field="cap")
    bind_actor(db.session(), actor)
    row = next((c for c in participant.caps if c.year == year), None)
    if row is None:
        participant.caps.append(ParticipantCap(year=year, cap=cap))
    else:
        row.cap = cap
    db.session.flush()


def add_party(actor: User, fa: FrameworkAgreement, supplier: Supplier, joined_on: dt.date) -> FrameworkSupplier:
    require(actor, "framework.manage", fa.coordinator)
    if any(p.supplier_id == supplier.id for p in fa.parties):
        raise DomainError(_("%(s)s is already party to the framework.", s=supplier.legal_name), field="supplier_id")
    bind_actor(db.session(), actor)
    party = FrameworkSupplier(supplier_id=supplier.id, joined_on=joined_on)
    fa.parties.append(party)
    cache.bump("pipeline")
    db.session.flush()
    return party


def set_price(actor: User, fa: FrameworkAgreement, supplier: Supplier, item: str, unit: str,
              unit_price: Decimal) -> PriceLine:
    require(actor, "framework.manage", fa.coordinator)
    if not any(p.supplier_id == supplier.id for p in fa.parties):
        raise DomainError(_("Only suppliers party to the framework have prices."), field="supplier_id")
    if unit_price is None or unit_price <= 0:
        raise DomainError(_("The unit price must be greater than zero."), field="unit_price")
    bind_actor(db.session(), actor)
    line = next((p for p in fa.prices if p.supplier_id == supplier.id and p.unit == unit.strip()), None)
    if line is None:
        line = PriceLine(supplier_id=supplier.id, item=item.strip(), unit=unit.strip(), unit_price=unit_price)
        fa.prices.append(line)
    else:
        line.item, line.unit_price = item.strip(), unit_price
    db.session.flush()
    return line


# --- the shared specification -------------------------------------------------------------------

def publish_specification(actor: User, fa: FrameworkAgreement, specification: str, quality_standard: str,
                          change_note: str | None) -> SpecificationVersion:
    """A new numbered, frozen version; every participant's officers are notified."""
    from flask import url_for

    from srpp.core.notify import notify

    require(actor, "framework.manage", fa.coordinator)
    if not (specification or "").strip() or not (quality_standard or "").strip():
        raise DomainError(_("Write both the specification and the quality standard."), field="specification")
    latest = fa.spec_versions[-1] if fa.spec_versions else None
    if latest is not None and latest.specification == specification.strip() and \
            latest.quality_standard == quality_standard.strip():
        raise DomainError(_("Nothing changed since version %(n)s.", n=latest.number), field="specification")
    if latest is not None and not (change_note or "").strip():
        raise DomainError(_("Say what changed (the change note)."), field="change_note")
    bind_actor(db.session(), actor)
    version = SpecificationVersion(number=(latest.number if latest else 0) + 1, specification=specification.strip(),
                                   quality_standard=quality_standard.strip(),
                                   change_note=(change_note or "").strip() or None, author_id=actor.id)
    fa.spec_versions.append(version)
    db.session.flush()
    link = url_for("frameworks.framework", framework_id=fa.id)
    for participant in fa.participants:
        if participant.state == ParticipantState.WITHDRAWN:
            continue
        for user in _officers(participant.municipality_id):
            notify(user, kind="framework.spec", dedupe_key=f"spec:{version.id}",
                   subject=_("%(code)s: specification version %(n)s to acknowledge", code=fa.code, n=version.number),
                   body=version.change_note or "", link=link)
    return version


def _officers(municipality_id: int) -> list[User]:
    return list(db.session.scalars(select(User).join(Membership).where(
        Membership.municipality_id == municipality_id,
        Membership.role.in_((Role.PROCUREMENT_OFFICER, Role.SERVICE_COORDINATOR)), User.active.is_(True)
    ).distinct()))


def acknowledge(actor: User, version: SpecificationVersion, municipality: Municipality) -> SpecAcknowledgement:
    fa = version.framework
    require(actor, "calloff.place", municipality)
    if not any(p.municipality_id == municipality.id and p.state != ParticipantState.WITHDRAWN
               for p in fa.participants):
        raise DomainError(_("%(m)s does not participate in this framework.", m=municipality.name))
    existing = next((a for a in version.acknowledgements if a.municipality_id == municipality.id), None)
    if existing is not None:
        return existing
    bind_actor(db.session(), actor)
    ack = SpecAcknowledgement(municipality_id=municipality.id, acknowledged_by_id=actor.id)
    version.acknowledgements.append(ack)
    db.session.flush()
    return ack


def pending_acknowledgements(fa: FrameworkAgreement) -> list[Municipality]:
    if not fa.spec_versions:
        return []
    latest = fa.spec_versions[-1]
    done = {a.municipality_id for a in latest.acknowledgements}
    return [p.municipality for p in fa.participants
            if p.state != ParticipantState.WITHDRAWN and p.municipality_id not in done]


@dataclass
class SpecDiff:
    specification: list[tuple[str, str]]  # (op, line): op in " ", "+", "-"
    quality_standard: list[tuple[str, str]]


def spec_diff(a: SpecificationVersion, b: SpecificationVersion) -> SpecDiff:
    def lines(x: str, y: str) -> list[tuple[str, str]]:
        out = []
        for line in difflib.ndiff(x.splitlines(), y.splitlines()):
            if line.startswith("? "):
                continue
            out.append((line[0], line[2:]))
        return out

    return SpecDiff(lines(a.specification, b.specification), lines(a.quality_standard, b.quality_standard))


def record_event(actor: User, fa: FrameworkAgreement, held_on: dt.date, attendees: str, notes: str | None,
                 resulting_changes: str | None) -> EngagementEvent:
    require(actor, "framework.manage", fa.coordinator)
    if not (attendees or "").strip():
        raise DomainError(_("List who attended."), field="attendees")
    bind_actor(db.session(), actor)
    event = EngagementEvent(held_on=held_on, attendees=attendees.strip(), notes=(notes or "").strip() or None,
                            resulting_changes=(resulting_changes or "").strip() or None)
    fa.events.append(event)
    db.session.flush()
    return event


# --- opt-outs -----------------------------------------------------------------------------------

def request_opt_out(actor: User, participant: FrameworkParticipant, requested_on: dt.date) -> dt.date:
    """The municipality leaves after its notice period: no new call-offs from the effective date,
    existing ones run to their end."""
    require(actor, "calloff.place", participant.municipality)
    if participant.state != ParticipantState.ACTIVE:
        raise DomainError(_("An opt-out was already requested (effective %(day)s).",
                            day=participant.opt_out_effective_on.isoformat()))
    bind_actor(db.session(), actor)
    participant.state = ParticipantState.OPT_OUT_REQUESTED
    participant.opt_out_requested_on = requested_on
    participant.opt_out_effective_on = requested_on + dt.timedelta(days=participant.opt_out_notice_days)
    db.session.flush()
    return participant.opt_out_effective_on


def execute_opt_outs(today: dt.date | None = None) -> int:
    """Daily: requested opt-outs whose effective date has come are carried out (idempotent)."""
    today = today or dt.date.today()
    done = 0
    for p in db.session.scalars(select(FrameworkParticipant).where(
            FrameworkParticipant.state == ParticipantState.OPT_OUT_REQUESTED,
            FrameworkParticipant.opt_out_effective_on <= today)):
        p.state = ParticipantState.WITHDRAWN
        p.withdrawn_on = today
        done += 1
    db.session.flush()
    return done


def opt_outs_on_time_share() -> Decimal | None:
    """KPI: the share of opt-outs carried out by their effective date."""
    rows = db.session.execute(select(FrameworkParticipant.withdrawn_on, FrameworkParticipant.opt_out_effective_on)
                              .where(FrameworkParticipant.state == ParticipantState.WITHDRAWN)).all()
    if not rows:
        return None
    on_time = sum(1 for withdrawn, effective in rows if withdrawn and effective and withdrawn <= effective)
    return (Decimal(on_time) / Decimal(len(rows))).quantize(Decimal("0.0001"))


# --- call-offs -----------------------------------------------------------------------------------

def committed_total(fa: FrameworkAgreement) -> Decimal:
    return db.session.scalar(select(func.coalesce(func.sum(CallOff.value), 0)).where(
        CallOff.framework_id == fa.id)) or Decimal(0)


def committed_by(fa: FrameworkAgreement, municipality_id: int, year: int) -> Decimal:
    return db.session.scalar(select(func.coalesce(func.sum(CallOff.value), 0)).where(
        CallOff.framework_id == fa.id, CallOff.municipality_id == municipality_id,
        extract("year", CallOff.awarded_on) == year)) or Decimal(0)


@dataclass
class CallOffInput:
    supplier_id: int
    awarded_on: dt.date
    start_date: dt.date
    end_date: dt.date
    quantity: Decimal
    unit: str
    unit_price: Decimal
    budget_line: str
    value: Decimal | None = None
    price_deviation_note: str | None = None

    @property
    def total(self) -> Decimal:
        return (self.value if self.value is not None else self.quantity * self.unit_price).quantize(Decimal("0.01"))


def place_call_off(actor: User, fa_id: int, municipality: Municipality, inp: CallOffInput) -> CallOff:
    """Every refusal names the rule; two participants placing call-offs at the same moment cannot
    together exceed the maximum or a cap: the framework and participant rows are locked first."""
    require(actor, "calloff.place", municipality)
    lock = select(FrameworkAgreement).where(FrameworkAgreement.id == fa_id)
    if is_postgres():
        lock = lock.with_for_update(of=FrameworkAgreement)
    fa = db.session.scalars(lock.execution_options(populate_existing=True)).one_or_none()
    if fa is None:
        raise DomainError(_("No such framework."))
    participant_stmt = select(FrameworkParticipant).where(FrameworkParticipant.framework_id == fa.id,
                                                          FrameworkParticipant.municipality_id == municipality.id)
    if is_postgres():
        participant_stmt = participant_stmt.with_for_update(of=FrameworkParticipant)
    participant = db.session.scalars(participant_stmt.execution_options(populate_existing=True)).one_or_none()
    value = inp.total
    problems: list[Problem] = []
    if fa.state != FrameworkState.ACTIVE:
        problems.append(Problem(_("The framework is %(state)s, not active.", state=fa.state.label)))
    if inp.awarded_on > fa.end_date:
        problems.append(Problem(_("A call-off must be awarded before the framework ends (%(end)s).",
                                  end=fa.end_date.isoformat()), "awarded_on"))
    if inp.awarded_on < fa.start_date:
        problems.append(Problem(_("The framework starts on %(start)s.", start=fa.start_date.isoformat()),
                                "awarded_on"))
    if inp.end_date < inp.start_date:
        problems.append(Problem(_("The call-off must end after it starts."), "end_date"))
    if participant is None or participant.state == ParticipantState.WITHDRAWN or (
            participant.opt_out_effective_on is not None and inp.awarded_on >= participant.opt_out_effective_on):
        problems.append(Problem(_("%(m)s is not an active participant of this framework on %(day)s.",
                                  m=municipality.name, day=inp.awarded_on.isoformat())))
    if not any(p.supplier_id == inp.supplier_id for p in fa.parties):
        problems.append(Problem(_("The supplier is not party to this framework (EU-FA-02)."), "supplier_id"))
    if not (inp.budget_line or "").strip():
        problems.append(Problem(_("Give the budget line."), "budget_line"))
    if inp.quantity is None or inp.quantity <= 0 or inp.unit_price is None or inp.unit_price <= 0:
        problems.append(Problem(_("Quantity and unit price must be greater than zero."), "quantity"))
    if problems:
        raise Refused(problems)
    # price schedule (EU-FA-03)
    schedule = next((p for p in fa.prices if p.supplier_id == inp.supplier_id and p.unit == inp.unit.strip()), None)
    if schedule is not None:
        tolerance = settings.get("frameworks.price_tolerance")
        deviation = abs(inp.unit_price - schedule.unit_price) / schedule.unit_price
        if deviation > tolerance:
            message = _("The unit price %(price)s deviates %(dev)s %% from the framework's %(scheduled)s for "
                        "%(unit)s (tolerance %(tol)s %%).", price=money(inp.unit_price),
                        dev=f"{deviation * 100:.1f}", scheduled=money(schedule.unit_price), unit=schedule.unit,
                        tol=f"{tolerance * 100:g}")
            if settings.get("frameworks.price_rule") == "error" or not (inp.price_deviation_note or "").strip():
                raise Refused([Problem(message, "unit_price")])
    # the maximum and the cap, counted inside the locked transaction
    committed = committed_total(fa)
    if committed + value > fa.max_value:
        raise Refused([Problem(_("This call-off of %(value)s would exceed the framework maximum of %(max)s: "
                                 "%(committed)s is already committed, %(left)s is left.", value=money(value),
                                 max=money(fa.max_value), committed=money(committed),
                                 left=money(fa.max_value - committed)), "quantity")])
    year = inp.awarded_on.year
    cap = participant.cap_for(year)
    if cap is None:
        raise Refused([Problem(_("%(m)s has no budget cap for %(year)s on this framework.", m=municipality.name,
                                 year=year), "awarded_on")])
    used = committed_by(fa, municipality.id, year)
    if used + value > cap:
        raise Refused([Problem(_("This call-off of %(value)s would exceed the %(year)s cap of %(m)s: the cap is "
                                 "%(cap)s, %(used)s is already committed, %(left)s is left.", value=money(value),
                                 year=year, m=municipality.name, cap=money(cap), used=money(used),
                                 left=money(cap - used)), "quantity")])
    bind_actor(db.session(), actor)
    call_off = CallOff(framework_id=fa.id, municipality_id=municipality.id, supplier_id=inp.supplier_id,
                       awarded_on=inp.awarded_on, start_date=inp.start_date, end_date=inp.end_date,
                       quantity=inp.quantity, unit=inp.unit.strip(), unit_price=inp.unit_price, value=value,
                       budget_line=inp.budget_line.strip(),
                       price_deviation_note=(inp.price_deviation_note or "").strip() or None, placed_by_id=actor.id)
    db.session.add(call_off)
    db.session.flush()
    db.session.add(Contract(municipality_id=municipality.id, supplier_id=inp.supplier_id, call_off_id=call_off.id,
                            title=f"{fa.code}: {fa.title} ({municipality.short_name})", value=value,
                            awarded_on=inp.awarded_on, start_date=inp.start_date, end_date=inp.end_date,
                            main_cpv=fa.category.main_cpv))
    db.session.flush()
    return call_off


# --- figures ---------------------------------------------------------------------------------------

@dataclass
class ParticipantFigures:
    participant: FrameworkParticipant
    year: int
    cap: Decimal | None
    committed: Decimal

    @property
    def remaining(self) -> Decimal | None:
        return None if self.cap is None else self.cap - self.committed


def participant_figures(fa: FrameworkAgreement, year: int) -> list[ParticipantFigures]:
    sums = dict(db.session.execute(select(CallOff.municipality_id, func.sum(CallOff.value)).where(
        CallOff.framework_id == fa.id, extract("year", CallOff.awarded_on) == year).group_by(CallOff.municipality_id)
    ).all())
    return [ParticipantFigures(p, year, p.cap_for(year), Decimal(sums.get(p.municipality_id) or 0))
            for p in fa.participants]


def consumption_by_month(fa: FrameworkAgreement) -> dict[str, dict[str, Decimal]]:
    """Cumulative committed value per municipality at the end of each month with call-offs."""
    rows = db.session.execute(select(CallOff.awarded_on, CallOff.value, Municipality.short_name_en)
                              .join(Municipality, Municipality.id == CallOff.municipality_id)
                              .where(CallOff.framework_id == fa.id).order_by(CallOff.awarded_on)).all()
    running: dict[str, Decimal] = {}
    out: dict[str, dict[str, Decimal]] = {}
    for awarded_on, value, name in rows:
        running[name] = running.get(name, Decimal(0)) + value
        out[awarded_on.strftime("%Y-%m")] = dict(running)
    return out


def frameworks_by_area() -> dict[str, int]:
    """Frameworks signed (active or expired) per priority area, for the regional target."""
    counts: dict[str, int] = {area: 0 for area in TARGET_AREAS}
    for fa in db.session.scalars(select(FrameworkAgreement).where(
            FrameworkAgreement.state.in_((FrameworkState.ACTIVE, FrameworkState.EXPIRED)))):
        area = fa.category.priority_area.value
        counts[area] = counts.get(area, 0) + 1
    return counts


def upcoming_opt_outs(today: dt.date | None = None) -> list[FrameworkParticipant]:
    today = today or dt.date.today()
    return list(db.session.scalars(select(FrameworkParticipant).where(
        FrameworkParticipant.state == ParticipantState.OPT_OUT_REQUESTED,
        FrameworkParticipant.opt_out_effective_on >= today).order_by(FrameworkParticipant.opt_out_effective_on)))

