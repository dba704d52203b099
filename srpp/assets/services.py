"""Social assets ("panauda", Rec. 4 and risk 12.1): the public list, assignments to organisations
(at most one active per asset, checked here and enforced by a partial unique index), utilisation
reports, annual audits, the municipality's annual review, and the three indicators of risk 12.1.

Permissions:
- ``asset.manage`` (a municipality): its procurement officers and admins add and edit assets, assign,
  take back, withdraw, and audit;
- ``asset.report`` (an assignment): the assigned organisation's members, the municipality's procurement
  officers and admins submit utilisation reports;
- ``asset.review`` (a municipality or None): regional readers and the municipality's staff see the
  non-public part (assignments' reports, audits, the annual review).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from srpp.assets.models import (
    AssetAssignment,
    AssetAudit,
    AssetCondition,
    AssetKind,
    AssetState,
    AssetUtilisationReport,
    ReportingFrequency,
    ReportSubmitter,
    SocialAsset,
    SocialAssetUse,
)
from srpp.auth.models import User
from srpp.core import cache
from srpp.core.audit import bind_actor
from srpp.core.db import is_postgres, utcnow
from srpp.core.errors import DomainError
from srpp.core.permissions import can, municipal_staff, officer_of, regional_reader, require, rule
from srpp.core.services import check_version
from srpp.extensions import db
from srpp.orgs.models import Municipality, PriorityArea, Supplier, SupplierKind

CACHE_NS = "assets"
#: the annual audit of year Y is due by this day of year Y + 1
AUDIT_DUE = (3, 31)
#: organisations that may not receive an asset for free (for-profit companies)
NOT_ELIGIBLE_KINDS = (SupplierKind.COMPANY,)
CENT = Decimal("0.01")


# --- permissions -----------------------------------------------------------------------------------

@rule("asset.manage")
def _asset_manage(user: User, municipality: Any) -> bool:
    """Add and edit the municipality's social assets, assign them, take them back, audit them."""
    if user.is_admin:
        return True
    return municipality is not None and officer_of(user, municipality.id)


@rule("asset.report")
def _asset_report(user: User, assignment: Any) -> bool:
    """Submit the utilisation report of an assignment: the assigned organisation's members and the
    municipality's procurement officers (and admins)."""
    if user.is_admin:
        return True
    if assignment is None:
        return False
    return assignment.supplier_id in user.supplier_ids() or officer_of(user, assignment.municipality_id)


@rule("asset.review")
def _asset_review(user: User, municipality: Any) -> bool:
    """The staff part of asset pages and the annual review: regional readers, and the municipality's
    staff (any municipality's staff when no municipality is named, e.g. for the navigation)."""
    if regional_reader(user):
        return True
    if municipality is None:
        return municipal_staff(user)
    return municipality.id in user.municipality_ids()


def may_see_staff_part(user: Any, asset: SocialAsset) -> bool:
    """Staff of the asset's municipality, regional readers, and members of an organisation that
    holds or held the asset (they see their own assignments' reports)."""
    if not getattr(user, "is_authenticated", False):
        return False
    if can(user, "asset.review", asset.municipality):
        return True
    mine = user.supplier_ids()
    return any(a.supplier_id in mine for a in asset.assignments)


def may_read(user: Any, asset: SocialAsset) -> bool:
    return asset.public or may_see_staff_part(user, asset)


# --- problems ------------------------------------------------------------------------------------

@dataclass
class Problem:
    message: str
    field: str | None = None


class Refused(DomainError):
    """One or more rules refused the input; every problem names its field."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(" ".join(p.message for p in problems), field=problems[0].field)
        self.problems = problems


def _refuse_if(problems: list[Problem]) -> None:
    if problems:
        raise Refused(problems)


def _text(value: str | None) -> str:
    return (value or "").strip()


def _opt(value: str | None) -> str | None:
    return _text(value) or None


# --- assets --------------------------------------------------------------------------------------

@dataclass
class AssetInput:
    municipality_id: int
    name: str
    address: str
    settlement: str
    kind: AssetKind
    condition: AssetCondition
    eligibility_criteria: str
    impact_criteria: str
    maintenance_duties: str
    yearly_running_cost: Decimal | None
    area_m2: Decimal | None = None
    accessibility: str | None = None
    description: str | None = None
    permitted_adaptations: str | None = None
    hours_available_per_year: int | None = None
    available_from: dt.date | None = None
    suitable_uses: list[str] = field(default_factory=list)
    public: bool = True


def check_asset(inp: AssetInput) -> list[Problem]:
    problems: list[Problem] = []
    for name, message in (("name", _("Name the asset.")), ("address", _("Give the address.")),
                          ("settlement", _("Give the settlement.")),
                          ("eligibility_criteria", _("Publish the eligibility criteria: who may use the asset.")),
                          ("impact_criteria", _("Publish the impact criteria: what social result is expected.")),
                          ("maintenance_duties", _("Publish the maintenance duties of the user."))):
        if not _text(getattr(inp, name)):
            problems.append(Problem(message, name))
    if inp.kind != AssetKind.EQUIPMENT and inp.area_m2 is None:
        problems.append(Problem(_("Give the area in square metres."), "area_m2"))
    if inp.area_m2 is not None and inp.area_m2 <= 0:
        problems.append(Problem(_("The area must be greater than zero."), "area_m2"))
    if inp.yearly_running_cost is None:
        problems.append(Problem(_("Give the yearly running cost (0 when there is none)."), "yearly_running_cost"))
    elif inp.yearly_running_cost < 0:
        problems.append(Problem(_("The yearly running cost cannot be negative."), "yearly_running_cost"))
    if inp.hours_available_per_year is not None and not 0 < inp.hours_available_per_year <= 8784:
        problems.append(Problem(_("The hours available a year must be between 1 and 8784."),
                                "hours_available_per_year"))
    known = {a.value for a in PriorityArea}
    if any(u not in known for u in inp.suitable_uses):
        problems.append(Problem(_("Choose the suitable uses from the list."), "suitable_uses"))
    elif not inp.suitable_uses:
        problems.append(Problem(_("Choose at least one suitable use (priority area)."), "suitable_uses"))
    return problems


def _apply(asset: SocialAsset, inp: AssetInput) -> None:
    asset.name = _text(inp.name)
    asset.address = _text(inp.address)
    asset.settlement = _text(inp.settlement)
    asset.kind = inp.kind
    asset.condition = inp.condition
    asset.area_m2 = Decimal(inp.area_m2).quantize(CENT) if inp.area_m2 is not None else None
    asset.accessibility = _opt(inp.accessibility)
    asset.description = _opt(inp.description)
    asset.eligibility_criteria = _text(inp.eligibility_criteria)
    asset.impact_criteria = _text(inp.impact_criteria)
    asset.maintenance_duties = _text(inp.maintenance_duties)
    asset.permitted_adaptations = _opt(inp.permitted_adaptations)
    asset.yearly_running_cost = Decimal(inp.yearly_running_cost).quantize(CENT)
    asset.hours_available_per_year = inp.hours_available_per_year
    asset.available_from = inp.available_from
    asset.public = bool(inp.public)
    wanted = sorted(set(inp.suitable_uses))
    for row in [r for r in asset.use_rows if r.area not in wanted]:
        asset.use_rows.remove(row)
        if row.asset_id is not None:
            db.session.delete(row)  # explicitly, so that the audit log records the removal
    have = {r.area for r in asset.use_rows}
    asset.use_rows.extend(SocialAssetUse(area=a) for a in wanted if a not in have)


def create_asset(actor: User, inp: AssetInput) -> SocialAsset:
    municipality = db.session.get(Municipality, inp.municipality_id)
    if municipality is None:
        raise DomainError(_("Choose the municipality."), field="municipality_id")
    require(actor, "asset.manage", municipality)
    _refuse_if(check_asset(inp))
    bind_actor(db.session(), actor)
    asset = SocialAsset(municipality_id=municipality.id, state=AssetState.AVAILABLE, created_by_id=actor.id)
    _apply(asset, inp)
    db.session.add(asset)
    cache.bump(CACHE_NS)
    db.session.flush()
    return asset


def update_asset(actor: User, asset: SocialAsset, inp: AssetInput, version: Any) -> None:
    require(actor, "asset.manage", asset.municipality)
    check_version(asset, version)
    inp.municipality_id = asset.municipality_id  # an asset never moves to another municipality
    _refuse_if(check_asset(inp))
    bind_actor(db.session(), actor)
    _apply(asset, inp)
    cache.bump(CACHE_NS)
    db.session.flush()


def set_state(actor: User, asset: SocialAsset, target: AssetState) -> None:
    """Withdraw an asset that is not lent out, or offer a withdrawn one again. Assigning and taking
    back go through ``assign`` and ``return_asset``."""
    require(actor, "asset.manage", asset.municipality)
    if target == AssetState.WITHDRAWN:
        if asset.state == AssetState.ASSIGNED:
            raise DomainError(_("The asset is lent out: record its return before withdrawing it."))
        if asset.state == AssetState.WITHDRAWN:
            raise DomainError(_("The asset is already withdrawn."))
    elif target == AssetState.AVAILABLE:
        if asset.state != AssetState.WITHDRAWN:
            raise DomainError(_("Only a withdrawn asset can be offered again."))
    else:
        raise DomainError(_("Assign the asset or record its return with their own forms."))
    bind_actor(db.session(), actor)
    asset.state = target
    cache.bump(CACHE_NS)
    db.session.flush()


# --- assignments ---------------------------------------------------------------------------------

@dataclass
class AssignmentInput:
    supplier_id: int | None
    start_date: dt.date | None
    end_date: dt.date | None
    obligations: str
    reporting_frequency: ReportingFrequency = ReportingFrequency.ANNUAL
    agreement_ref: str | None = None


def active_assignment(asset: SocialAsset) -> AssetAssignment | None:
    return db.session.scalar(select(AssetAssignment).where(AssetAssignment.asset_id == asset.id,
                                                           AssetAssignment.returned_on.is_(None)))


def check_assignment(asset: SocialAsset, inp: AssignmentInput) -> list[Problem]:
    problems: list[Problem] = []
    supplier = db.session.get(Supplier, inp.supplier_id) if inp.supplier_id else None
    if supplier is None:
        problems.append(Problem(_("Choose the organisation."), "supplier_id"))
    elif supplier.kind in NOT_ELIGIBLE_KINDS:
        problems.append(Problem(_("%(s)s is a for-profit company: social assets are lent to social economy "
                                  "organisations, NGOs and cooperatives.", s=supplier.legal_name), "supplier_id"))
    if inp.start_date is None:
        problems.append(Problem(_("Give the start date."), "start_date"))
    if inp.end_date is None:
        problems.append(Problem(_("Give the end date."), "end_date"))
    if inp.start_date and inp.end_date and inp.end_date <= inp.start_date:
        problems.append(Problem(_("The agreement must end after it starts."), "end_date"))
    if not _text(inp.obligations):
        problems.append(Problem(_("Write the organisation's obligations (use, maintenance, reporting)."),
                                "obligations"))
    if inp.start_date:
        last_return = max((a.returned_on for a in asset.assignments if a.returned_on), default=None)
        if last_return and inp.start_date < last_return:
            problems.append(Problem(_("The previous assignment ended on %(day)s: the new one cannot start "
                                      "before it.", day=last_return.isoformat()), "start_date"))
    return problems


def assign(actor: User, asset: SocialAsset, inp: AssignmentInput) -> AssetAssignment:
    """Lend the asset to an organisation. Refused while another assignment is active (the partial
    unique index ``uq_asset_assignments_active`` refuses it too, e.g. under a race)."""
    require(actor, "asset.manage", asset.municipality)
    if is_postgres():  # serialise assignments of the same asset
        db.session.execute(select(SocialAsset.id).where(SocialAsset.id == asset.id).with_for_update())
    current = active_assignment(asset)
    if current is not None:
        raise DomainError(_("The asset is already assigned to %(s)s (until %(day)s): record its return first.",
                            s=current.supplier.legal_name, day=current.end_date.isoformat()), field="supplier_id")
    if asset.state == AssetState.WITHDRAWN:
        raise DomainError(_("The asset is withdrawn: offer it again before assigning it."))
    _refuse_if(check_assignment(asset, inp))
    bind_actor(db.session(), actor)
    assignment = AssetAssignment(asset_id=asset.id, municipality_id=asset.municipality_id,
                                 supplier_id=inp.supplier_id, start_date=inp.start_date, end_date=inp.end_date,
                                 obligations=_text(inp.obligations), reporting_frequency=inp.reporting_frequency,
                                 agreement_ref=_opt(inp.agreement_ref), created_by_id=actor.id)
    try:
        with db.session.begin_nested():
            db.session.add(assignment)
            db.session.flush()
    except IntegrityError:
        raise DomainError(_("The asset was assigned by someone else a moment ago: reload the page."),
                          field="supplier_id") from None
    asset.state = AssetState.ASSIGNED
    db.session.expire(asset, ["assignments"])
    cache.bump(CACHE_NS)
    db.session.flush()
    return assignment


def return_asset(actor: User, assignment: AssetAssignment, returned_on: dt.date | None, note: str | None,
                 version: Any = None, today: dt.date | None = None) -> None:
    """Record that the organisation gave the asset back (early or at the end of the agreement)."""
    today = today or dt.date.today()
    asset = assignment.asset
    require(actor, "asset.manage", asset.municipality)
    if version is not None:
        check_version(assignment, version)
    if assignment.returned_on is not None:
        raise DomainError(_("The return was already recorded (on %(day)s).", day=assignment.returned_on.isoformat()))
    if returned_on is None:
        raise DomainError(_("Give the date of the return."), field="returned_on")
    if returned_on < assignment.start_date:
        raise DomainError(_("The asset cannot be returned before the assignment started (%(day)s).",
                            day=assignment.start_date.isoformat()), field="returned_on")
    if returned_on > today:
        raise DomainError(_("Record the return when it has happened (the date is in the future)."),
                          field="returned_on")
    bind_actor(db.session(), actor)
    assignment.returned_on = returned_on
    assignment.return_note = _opt(note)
    asset.state = AssetState.RETURNED
    cache.bump(CACHE_NS)
    db.session.flush()


# --- utilisation reports --------------------------------------------------------------------------

@dataclass
class ReportInput:
    year: int | None
    hours_used: Decimal | None
    hours_available: Decimal | None
    unique_beneficiaries: int | None
    costs_borne: Decimal | None = Decimal(0)
    part: int = 0
    activities: str | None = None


def _period(year: int, part: int) -> tuple[dt.date, dt.date]:
    if part == 1:
        return dt.date(year, 1, 1), dt.date(year, 6, 30)
    if part == 2:
        return dt.date(year, 7, 1), dt.date(year, 12, 31)
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


def check_report(assignment: AssetAssignment, inp: ReportInput, today: dt.date | None = None) -> list[Problem]:
    today = today or dt.date.today()
    problems: list[Problem] = []
    if inp.year is None:
        problems.append(Problem(_("Give the year."), "year"))
    elif not assignment.start_date.year <= inp.year <= min(today.year, assignment.until.year):
        problems.append(Problem(_("The year must fall within the assignment (%(first)s–%(last)s) and not in the "
                                  "future.", first=assignment.start_date.year,
                                  last=min(today.year, assignment.until.year)), "year"))
    expected_parts = (1, 2) if assignment.reporting_frequency == ReportingFrequency.SEMIANNUAL else (0,)
    if inp.part not in expected_parts:
        problems.append(Problem(_("This assignment reports per half-year: choose the half-year.")
                                if expected_parts == (1, 2) else
                                _("This assignment reports once a year (no half-year)."), "part"))
    elif inp.year is not None and not problems:
        start, _end = _period(inp.year, inp.part)
        if start > today:
            problems.append(Problem(_("The half-year has not started yet."), "part"))
    hours_limit = Decimal(8784 if inp.part == 0 else 4416)
    if inp.hours_available is None:
        problems.append(Problem(_("Give the hours the asset was available."), "hours_available"))
    elif inp.hours_available <= 0:
        problems.append(Problem(_("The hours available must be greater than zero."), "hours_available"))
    elif inp.hours_available > hours_limit:
        problems.append(Problem(_("The hours available cannot exceed the hours in the period (%(n)s).",
                                  n=hours_limit), "hours_available"))
    if inp.hours_used is None:
        problems.append(Problem(_("Give the hours the asset was used."), "hours_used"))
    elif inp.hours_used < 0:
        problems.append(Problem(_("The hours used cannot be negative."), "hours_used"))
    elif inp.hours_available is not None and inp.hours_available > 0 and inp.hours_used > inp.hours_available:
        problems.append(Problem(_("The hours used (%(used)s) cannot exceed the hours available (%(available)s).",
                                  used=inp.hours_used, available=inp.hours_available), "hours_used"))
    if inp.unique_beneficiaries is None:
        problems.append(Problem(_("Give the number of people who used the services there (0 when none)."),
                                "unique_beneficiaries"))
    elif inp.unique_beneficiaries < 0:
        problems.append(Problem(_("The number of beneficiaries cannot be negative."), "unique_beneficiaries"))
    if inp.costs_borne is not None and inp.costs_borne < 0:
        problems.append(Problem(_("The costs borne cannot be negative."), "costs_borne"))
    return problems


def submit_report(actor: User, assignment: AssetAssignment, inp: ReportInput,
                  today: dt.date | None = None) -> tuple[AssetUtilisationReport, bool]:
    """Submit (or correct) the report of a year or half-year. Returns the report and whether an earlier
    report of the same period was replaced (the audit log keeps the earlier figures)."""
    require(actor, "asset.report", assignment)
    _refuse_if(check_report(assignment, inp, today))
    bind_actor(db.session(), actor)
    submitter = (ReportSubmitter.ORGANISATION if assignment.supplier_id in actor.supplier_ids()
                 else ReportSubmitter.MUNICIPALITY)
    report = db.session.scalar(select(AssetUtilisationReport).where(
        AssetUtilisationReport.assignment_id == assignment.id, AssetUtilisationReport.year == inp.year,
        AssetUtilisationReport.part == inp.part))
    replaced = report is not None
    if report is None:
        report = AssetUtilisationReport(assignment_id=assignment.id, municipality_id=assignment.municipality_id,
                                        year=inp.year, part=inp.part)
        db.session.add(report)
    report.hours_used = Decimal(inp.hours_used).quantize(CENT)
    report.hours_available = Decimal(inp.hours_available).quantize(CENT)
    report.unique_beneficiaries = int(inp.unique_beneficiaries)
    report.costs_borne = Decimal(inp.costs_borne or 0).quantize(CENT)
    report.activities = _opt(inp.activities)
    report.submitted_as = submitter
    report.submitted_by_id = actor.id
    report.submitted_at = utcnow()
    db.session.flush()
    db.session.expire(assignment, ["reports"])
    cache.bump(CACHE_NS)
    return report, replaced


# --- audits --------------------------------------------------------------------------------------

@dataclass
class AuditInput:
    year: int | None
    audited_on: dt.date | None
    findings: str
    auditor: str
    utilisation_rate: Decimal | None = None
    corrective_actions: str | None = None


def reports_of_year(asset: SocialAsset, year: int) -> list[AssetUtilisationReport]:
    return list(db.session.scalars(
        select(AssetUtilisationReport).join(AssetAssignment)
        .where(AssetAssignment.asset_id == asset.id, AssetUtilisationReport.year == year)
        .order_by(AssetUtilisationReport.part, AssetUtilisationReport.id)))


def rate_of(reports: list[AssetUtilisationReport]) -> Decimal | None:
    used = sum((r.hours_used for r in reports), Decimal(0))
    available = sum((r.hours_available for r in reports), Decimal(0))
    return (used / available * 100).quantize(CENT) if available else None


def record_audit(actor: User, asset: SocialAsset, inp: AuditInput, today: dt.date | None = None) -> AssetAudit:
    """The annual utilisation audit. The rate, when not given, is computed from the year's reports."""
    today = today or dt.date.today()
    require(actor, "asset.manage", asset.municipality)
    problems: list[Problem] = []
    if inp.year is None or not 2000 <= inp.year <= today.year:
        problems.append(Problem(_("The audited year must be between 2000 and %(year)s.", year=today.year), "year"))
    if inp.audited_on is None:
        problems.append(Problem(_("Give the date of the audit."), "audited_on"))
    elif inp.audited_on > today:
        problems.append(Problem(_("The audit date cannot be in the future."), "audited_on"))
    elif inp.year is not None and inp.audited_on.year < inp.year:
        problems.append(Problem(_("The audit cannot happen before the audited year."), "audited_on"))
    if inp.utilisation_rate is not None and not 0 <= inp.utilisation_rate <= 100:
        problems.append(Problem(_("The utilisation rate is a percentage between 0 and 100."), "utilisation_rate"))
    if not _text(inp.findings):
        problems.append(Problem(_("Write the findings."), "findings"))
    if not _text(inp.auditor):
        problems.append(Problem(_("Name the auditor (an office or a person)."), "auditor"))
    if inp.year is not None and any(a.year == inp.year for a in asset.audits):
        problems.append(Problem(_("The audit of %(year)s is already recorded.", year=inp.year), "year"))
    _refuse_if(problems)
    rate = inp.utilisation_rate
    if rate is None:
        rate = rate_of(reports_of_year(asset, inp.year))
    bind_actor(db.session(), actor)
    audit = AssetAudit(asset_id=asset.id, municipality_id=asset.municipality_id, year=inp.year,
                       audited_on=inp.audited_on,
                       utilisation_rate=Decimal(rate).quantize(CENT) if rate is not None else None,
                       findings=_text(inp.findings), corrective_actions=_opt(inp.corrective_actions),
                       auditor=_text(inp.auditor), created_by_id=actor.id)
    db.session.add(audit)
    db.session.flush()
    db.session.expire(asset, ["audits"])
    cache.bump(CACHE_NS)
    return audit


# --- lists ---------------------------------------------------------------------------------------

def public_assets(municipality_id: int | None = None, kind: str | None = None, state: str | None = None,
                  use: str | None = None) -> list[SocialAsset]:
    """The public social-asset list, filtered (unknown filter values match nothing)."""
    stmt = (select(SocialAsset).where(SocialAsset.public.is_(True))
            .options(selectinload(SocialAsset.assignments))
            .join(Municipality, Municipality.id == SocialAsset.municipality_id)
            .order_by(Municipality.sort_order, SocialAsset.settlement, SocialAsset.name))
    if municipality_id:
        stmt = stmt.where(SocialAsset.municipality_id == municipality_id)
    if kind:
        stmt = stmt.where(SocialAsset.kind == kind) if kind in {k.value for k in AssetKind} else stmt.where(False)
    if state:
        stmt = (stmt.where(SocialAsset.state == state) if state in {s.value for s in AssetState}
                else stmt.where(False))
    if use:
        stmt = stmt.where(SocialAsset.id.in_(select(SocialAssetUse.asset_id).where(SocialAssetUse.area == use)))
    return list(db.session.scalars(stmt).unique())


def assets_of(municipality_ids: list[int] | None) -> list[SocialAsset]:
    """Every asset (public or not) of the municipalities; all when ``None``."""
    stmt = (select(SocialAsset).options(selectinload(SocialAsset.assignments).selectinload(AssetAssignment.reports),
                                        selectinload(SocialAsset.audits))
            .join(Municipality, Municipality.id == SocialAsset.municipality_id)
            .order_by(Municipality.sort_order, SocialAsset.settlement, SocialAsset.name))
    if municipality_ids is not None:
        stmt = stmt.where(SocialAsset.municipality_id.in_(municipality_ids or [-1]))
    return list(db.session.scalars(stmt).unique())


def yearly_use(asset: SocialAsset) -> list[dict[str, Any]]:
    """Per assignment and year: hours used and available, rate, beneficiaries (aggregated figures,
    no personal data: for the public part of the asset page)."""
    out = []
    for a in asset.assignments:
        years: dict[int, list[AssetUtilisationReport]] = {}
        for r in a.reports:
            years.setdefault(r.year, []).append(r)
        for year, reports in sorted(years.items(), reverse=True):
            out.append({"assignment": a, "year": year, "parts": [r.part for r in reports],
                        "hours_used": sum((r.hours_used for r in reports), Decimal(0)),
                        "hours_available": sum((r.hours_available for r in reports), Decimal(0)),
                        "rate": rate_of(reports),
                        "beneficiaries": sum(r.unique_beneficiaries for r in reports)})
    out.sort(key=lambda row: row["year"], reverse=True)
    return out


def audit_due_on(year: int) -> dt.date:
    return dt.date(year + 1, *AUDIT_DUE)


def _held_in(asset: SocialAsset, year: int) -> list[AssetAssignment]:
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    return [a for a in asset.assignments if a.start_date <= end and a.until >= start]


@dataclass
class ReviewRow:
    asset: SocialAsset
    assignments: list[AssetAssignment]
    reports: list[AssetUtilisationReport]
    hours_used: Decimal
    hours_available: Decimal
    rate: Decimal | None
    beneficiaries: int
    running_cost: Decimal
    costs_borne: Decimal
    cost_per_beneficiary: Decimal | None
    audit: AssetAudit | None
    audit_status: str  # done | overdue | due | open (year not over) | none (not lent out that year)
    audit_due_on: dt.date
    missing_reports: int


def _expected_parts(a: AssetAssignment, year: int, today: dt.date) -> list[int]:
    """The report periods of ``year`` the assignment should have reported (periods that ended)."""
    parts = [1, 2] if a.reporting_frequency == ReportingFrequency.SEMIANNUAL else [0]
    out = []
    for part in parts:
        start, end = _period(year, part)
        if end < today and a.start_date <= end and a.until >= start:
            out.append(part)
    return out


def annual_review(municipality_ids: list[int] | None, year: int, today: dt.date | None = None) -> list[ReviewRow]:
    """The municipality's annual review of every asset: utilisation, cost per beneficiary, audits due."""
    today = today or dt.date.today()
    rows = []
    for asset in assets_of(municipality_ids):
        held = _held_in(asset, year)
        reports = [r for a in held for r in a.reports if r.year == year]
        used = sum((r.hours_used for r in reports), Decimal(0))
        available = sum((r.hours_available for r in reports), Decimal(0))
        beneficiaries = sum(r.unique_beneficiaries for r in reports)
        running = sum((asset.yearly_running_cost * r.share_of_year for r in reports), Decimal(0)).quantize(CENT)
        borne = sum((r.costs_borne for r in reports), Decimal(0))
        audit = next((x for x in asset.audits if x.year == year), None)
        due_on = audit_due_on(year)
        if audit is not None:
            status = "done"
        elif not held:
            status = "none"
        elif year >= today.year:
            status = "open"
        else:
            status = "overdue" if today > due_on else "due"
        missing = sum(len([p for p in _expected_parts(a, year, today)
                           if not any(r.year == year and r.part == p for r in a.reports)]) for a in held)
        rows.append(ReviewRow(asset=asset, assignments=held, reports=reports, hours_used=used,
                              hours_available=available, rate=rate_of(reports), beneficiaries=beneficiaries,
                              running_cost=running, costs_borne=borne,
                              cost_per_beneficiary=((running + borne) / beneficiaries).quantize(CENT)
                              if beneficiaries else None,
                              audit=audit, audit_status=status, audit_due_on=due_on, missing_reports=missing))
    return rows


def eligible_suppliers() -> list[Supplier]:
    return list(db.session.scalars(select(Supplier).where(Supplier.kind.notin_(NOT_ELIGIBLE_KINDS))
                                   .order_by(Supplier.legal_name)))


# --- indicators (risk 12.1; called by srpp/kpis) ---------------------------------------------------
# Each returns (value, numerator, denominator, details) or None when there is no data in scope.

Result = tuple[Decimal, Decimal | None, Decimal | None, dict[str, Any]] | None


def _records(asset_ids: list[int]) -> list[dict[str, Any]]:
    return [{"type": "asset", "id": i} for i in sorted(set(asset_ids))]


def assets_allocated(period_start: dt.date, period_end: dt.date, municipality_id: int | None = None) -> Result:
    """# assets allocated: panauda agreements that started on or before the period's end (cumulative,
    returned ones included; domain §3.9, target 10+). None when the scope has no social asset."""
    asset_stmt = select(func.count()).select_from(SocialAsset)
    stmt = select(AssetAssignment.id, AssetAssignment.asset_id).where(AssetAssignment.start_date <= period_end)
    if municipality_id is not None:
        asset_stmt = asset_stmt.where(SocialAsset.municipality_id == municipality_id)
        stmt = stmt.where(AssetAssignment.municipality_id == municipality_id)
    rows = db.session.execute(stmt.order_by(AssetAssignment.id)).all()
    if not rows and not db.session.scalar(asset_stmt):
        return None
    count = Decimal(len(rows))
    in_period = db.session.scalar(
        select(func.count()).select_from(AssetAssignment).where(
            AssetAssignment.start_date >= period_start, AssetAssignment.start_date <= period_end,
            *([AssetAssignment.municipality_id == municipality_id] if municipality_id is not None else [])))
    return count, count, None, {"records": _records([r.asset_id for r in rows]),
                                "assignments": [r.id for r in rows], "signed_in_period": in_period or 0}


def _reports_in(period_start: dt.date, period_end: dt.date,
                municipality_id: int | None) -> list[AssetUtilisationReport]:
    """Utilisation reports whose year or half-year overlaps the period."""
    stmt = (select(AssetUtilisationReport).options(selectinload(AssetUtilisationReport.assignment)
                                                   .selectinload(AssetAssignment.asset))
            .where(AssetUtilisationReport.year.between(period_start.year, period_end.year))
            .order_by(AssetUtilisationReport.id))
    if municipality_id is not None:
        stmt = stmt.where(AssetUtilisationReport.municipality_id == municipality_id)
    return [r for r in db.session.scalars(stmt)
            if r.period_start <= period_end and r.period_end >= period_start]


def utilisation_rate(period_start: dt.date, period_end: dt.date, municipality_id: int | None = None) -> Result:
    """Asset utilisation rate, %: Σ hours used ÷ Σ hours available × 100 over the utilisation reports of
    the years (or half-years) overlapping the period. None without reports."""
    reports = _reports_in(period_start, period_end, municipality_id)
    if not reports:
        return None
    used = sum((r.hours_used for r in reports), Decimal(0))
    available = sum((r.hours_available for r in reports), Decimal(0))
    value = (used / available * 100).quantize(CENT)
    return value, used, available, {"records": _records([r.assignment.asset_id for r in reports]),
                                    "reports": [r.id for r in reports]}


def cost_per_beneficiary(period_start: dt.date, period_end: dt.date, municipality_id: int | None = None) -> Result:
    """Cost per beneficiary using social premises, EUR: (the assets' yearly running cost for the
    reported periods + the costs the organisations bore) ÷ the unique beneficiaries reported, over the
    reports overlapping the period. None without reports or without any beneficiary."""
    reports = _reports_in(period_start, period_end, municipality_id)
    beneficiaries = sum(r.unique_beneficiaries for r in reports)
    if not reports or not beneficiaries:
        return None
    cost = sum((r.assignment.asset.yearly_running_cost * r.share_of_year + r.costs_borne for r in reports),
               Decimal(0)).quantize(CENT)
    value = (cost / beneficiaries).quantize(CENT)
    return value, cost, Decimal(beneficiaries), {"records": _records([r.assignment.asset_id for r in reports]),
                                                 "reports": [r.id for r in reports]}


#: the computers by name
INDICATORS = {"assets_allocated": assets_allocated, "utilisation_rate": utilisation_rate,
              "cost_per_beneficiary": cost_per_beneficiary}

# the hooks srpp/kpis/computers.py delegates to (indicators R-ASSETS-ALLOCATED, R-ASSET-UTILISATION, R-ASSET-COST)
kpi_assets_allocated = assets_allocated
kpi_asset_utilisation = utilisation_rate
kpi_asset_cost = cost_per_beneficiary
