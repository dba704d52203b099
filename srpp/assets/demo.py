"""Demo social assets from ``srpp/demo/data/assets.yaml``, made through the services (so they are
audited and validated like real ones). Dates are relative to the day the demo is loaded."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from sqlalchemy import select

from srpp.assets import services
from srpp.assets.models import AssetCondition, AssetKind, AssetState, ReportingFrequency
from srpp.auth.models import User
from srpp.demo.loader import read
from srpp.extensions import db
from srpp.orgs.models import Municipality, Supplier

SEO_EMAIL = "seo@demo.srpp.lt"


def _user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def _months_ago(today: dt.date, months: int) -> dt.date:
    return (today - relativedelta(months=months)).replace(day=1)


def load(today: dt.date | None = None) -> None:
    today = today or dt.date.today()
    data = read("assets.yaml")
    munis = {m.code: m for m in db.session.scalars(select(Municipality))}
    suppliers = {s.company_code: s for s in db.session.scalars(select(Supplier))}
    seo = _user(SEO_EMAIL)
    for spec in data["assets"]:
        muni = munis[spec["municipality"]]
        officer = _user(f"officer.{muni.code.lower()}@demo.srpp.lt")
        asset = services.create_asset(officer, services.AssetInput(
            municipality_id=muni.id, name=spec["name"], address=spec["address"], settlement=spec["settlement"],
            kind=AssetKind(spec["kind"]), condition=AssetCondition(spec["condition"]),
            eligibility_criteria=spec["eligibility"], impact_criteria=spec["impact"],
            maintenance_duties=spec["maintenance"], permitted_adaptations=spec.get("adaptations"),
            yearly_running_cost=Decimal(spec["running_cost"]),
            area_m2=Decimal(spec["area"]) if spec.get("area") else None,
            accessibility=spec.get("accessibility"), description=spec.get("description"),
            hours_available_per_year=spec.get("hours"),
            available_from=(_months_ago(today, spec["available_from_months_ago"])
                            if "available_from_months_ago" in spec else None),
            suitable_uses=list(spec["uses"]), public=spec.get("public", True)))
        a = spec.get("assignment")
        if a:
            start = _months_ago(today, a["start_months_ago"])
            assignment = services.assign(officer, asset, services.AssignmentInput(
                supplier_id=suppliers[a["supplier"]].id, start_date=start,
                end_date=start + relativedelta(years=a["years"], days=-1), obligations=a["obligations"],
                reporting_frequency=ReportingFrequency(a["frequency"]),
                agreement_ref=f"{muni.code}-PA-{start.year}-{a['ref_no']:02d}"))
            for r in a.get("reports", []):
                services.submit_report(seo if r.get("by") == "seo" else officer, assignment, services.ReportInput(
                    year=today.year + r["year"], part=r.get("part", 0), hours_used=Decimal(r["used"]),
                    hours_available=Decimal(r["available"]), unique_beneficiaries=r["beneficiaries"],
                    costs_borne=Decimal(r["costs"]), activities=r.get("activities")), today=today)
            if a.get("returned_months_ago"):
                services.return_asset(officer, assignment, _months_ago(today, a["returned_months_ago"]),
                                      a.get("return_note"), today=today)
        if spec.get("audit"):
            au = spec["audit"]
            services.record_audit(officer, asset, services.AuditInput(
                year=today.year + au["year"], audited_on=today - dt.timedelta(days=au["days_ago"]),
                findings=au["findings"], auditor=au["auditor"], corrective_actions=au.get("corrective")),
                today=today)
        if spec.get("state"):
            services.set_state(officer, asset, AssetState(spec["state"]))
    db.session.flush()
