"""Demo plans from ``srpp/demo/data/plans.yaml``, created through the plan services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from sqlalchemy import select

from srpp.auth.models import User
from srpp.core import settings
from srpp.demo.loader import read
from srpp.extensions import db
from srpp.orgs.models import FundingMeasure, Municipality, ServiceCategory
from srpp.plans import services
from srpp.rules.models import Procedure, ReservationBasis


def _month(value: str | dt.date) -> dt.date:
    if isinstance(value, dt.date):
        return value.replace(day=1)
    year, month = str(value).split("-")
    return dt.date(int(year), int(month), 1)


def load() -> None:
    cats = {c.key: c for c in db.session.scalars(select(ServiceCategory))}
    funding = {f.code: f.id for f in db.session.scalars(select(FundingMeasure))}
    for spec in read("plans.yaml")["plans"]:
        muni = db.session.scalar(select(Municipality).where(Municipality.code == spec["municipality"]))
        officer = db.session.scalar(select(User).where(User.email == f"officer.{muni.code.lower()}@demo.srpp.lt"))
        version = services.create_plan(officer, muni, _month(spec["start"]))
        plan = version.plan
        for n, vspec in enumerate(spec["versions"]):
            existing: dict[str, object] = {}
            if n:  # a later version edits the copied items (same uids), adds and removes
                version = services.start_new_version(officer, plan)
                existing = {item.title: item for item in version.items}
                wanted = {i["t"] for i in vspec["items"]}
                for title, item in list(existing.items()):
                    if title not in wanted:
                        services.delete_item(officer, item)
            for i in vspec["items"]:
                cat = cats[i["c"]]
                inp = services.ItemInput(
                    title=i["t"], category_id=cat.id, main_cpv=cat.main_cpv,
                    additional_cpv=i.get("x", [c.code for c in cat.cpv_codes if c.code != cat.main_cpv]),
                    estimated_value=Decimal(i["v"]), launch_month=_month(i["m"]), duration_months=i["d"],
                    procedure=Procedure(i["p"]), reservation=ReservationBasis(i.get("r", "none")),
                    intended_lots=i.get("l", 1), funding_measure_id=funding.get(i.get("f")),
                    quantity=Decimal(i["q"]) if i.get("q") else None, unit=i.get("u"),
                    is_bundle=i.get("b", False), notes_for_seos=i.get("n"))
                if i["t"] in existing:
                    services.update_item(officer, existing[i["t"]], inp)
                else:
                    services.add_item(officer, version, inp)
            services.publish(officer, version, vspec.get("note"))
            # back-date the publication as the demo story says
            published = dt.datetime.combine(vspec["published"], dt.time(9, 0), dt.UTC)
            version.published_at = published
            version.review_due = vspec["published"] + relativedelta(months=settings.get("plans.review_months"))
            for item in version.items:
                item.content_changed_at = min(item.content_changed_at, published)
            db.session.flush()
