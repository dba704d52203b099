"""Payment compliance reports: a municipality's figures for a half-year frozen into a report,
approved by a named finance officer, then published (the published ones are public)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from srpp.auth.models import Role, User
from srpp.core.audit import bind_actor
from srpp.core.db import utcnow
from srpp.core.errors import DomainError
from srpp.core.permissions import officer_of, require, rule
from srpp.core.services import check_version
from srpp.extensions import db
from srpp.payments import calc, figures
from srpp.payments.models import PaymentReport, ReportState


@rule("report.prepare")
def _report_prepare(user: User, municipality: Any) -> bool:
    """Prepare, approve and publish a municipality's payment report: its finance officers, admins."""
    if user.is_admin:
        return True
    return municipality is not None and officer_of(user, municipality.id, Role.FINANCE_OFFICER)


def prepare(actor: User, municipality: Any, period_start: dt.date, today: dt.date | None = None) -> PaymentReport:
    """Compute (or recompute, while still a draft) the report of the half-year starting ``period_start``."""
    require(actor, "report.prepare", municipality)
    today = today or dt.date.today()
    start, end = calc.half_year(period_start)
    if start != period_start:
        raise DomainError(_("A report covers a half-year starting on 1 January or 1 July."), field="period")
    if end >= today:
        raise DomainError(_("The half-year has not ended yet."), field="period")
    bind_actor(db.session(), actor)
    report = db.session.scalar(select(PaymentReport).where(PaymentReport.municipality_id == municipality.id,
                                                           PaymentReport.period_start == start))
    if report is not None and report.state != ReportState.DRAFT:
        raise DomainError(_("This report is already approved; it cannot change."))
    data = figures.compute(start, end, municipality.id).as_json()
    data["as_of"] = today.isoformat()
    if report is None:
        report = PaymentReport(municipality_id=municipality.id, period_start=start, period_end=end, figures=data,
                               prepared_by_id=actor.id)
        db.session.add(report)
    else:
        report.figures = data
        report.prepared_by_id = actor.id
    db.session.flush()
    return report


def approve(actor: User, report: PaymentReport, name: str, role: str, approved_on: dt.date,
            version: int | None = None) -> PaymentReport:
    """The statement of approval: a named finance officer, with role and date."""
    require(actor, "report.prepare", report.municipality)
    if version is not None:
        check_version(report, version)
    if report.state != ReportState.DRAFT:
        raise DomainError(_("This report is already approved."))
    if not (name or "").strip():
        raise DomainError(_("Give the name of the approving officer."), field="approver_name")
    if not (role or "").strip():
        raise DomainError(_("Give the approving officer's role."), field="approver_role")
    if approved_on is None or approved_on <= report.period_end or approved_on > dt.date.today():
        raise DomainError(_("The approval date is after the period and not in the future."), field="approved_on")
    bind_actor(db.session(), actor)
    report.approver_name, report.approver_role = name.strip(), role.strip()
    report.approved_on = approved_on
    report.approved_by_id = actor.id
    report.state = ReportState.APPROVED
    db.session.flush()
    return report


def publish(actor: User, report: PaymentReport, version: int | None = None) -> PaymentReport:
    require(actor, "report.prepare", report.municipality)
    if version is not None:
        check_version(report, version)
    if report.state != ReportState.APPROVED:
        raise DomainError(_("Only an approved report can be published."))
    bind_actor(db.session(), actor)
    report.state = ReportState.PUBLISHED
    report.published_at = utcnow()
    db.session.flush()
    return report


def published() -> list[PaymentReport]:
    return list(db.session.scalars(select(PaymentReport).where(PaymentReport.state == ReportState.PUBLISHED)
                                   .order_by(PaymentReport.period_start.desc(), PaymentReport.municipality_id)))


def reports_of(municipality_id: int) -> list[PaymentReport]:
    return list(db.session.scalars(select(PaymentReport).where(PaymentReport.municipality_id == municipality_id)
                                   .order_by(PaymentReport.period_start.desc())))
