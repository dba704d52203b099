"""Demo framework agreements from ``srpp/demo/data/frameworks.yaml``, made through the services."""

from __future__ import annotations

from decimal import Decimal

from flask import current_app
from sqlalchemy import select

from srpp.auth.models import User
from srpp.demo.loader import read
from srpp.extensions import db
from srpp.frameworks import services
from srpp.frameworks.models import CallOffMethod, FrameworkState
from srpp.orgs.models import Municipality, ServiceCategory, Supplier


def _officer(code: str) -> User:
    return db.session.scalar(select(User).where(User.email == f"officer.{code.lower()}@demo.srpp.lt"))


def load() -> None:
    data = read("frameworks.yaml")
    munis = {m.code: m for m in db.session.scalars(select(Municipality))}
    cats = {c.key: c for c in db.session.scalars(select(ServiceCategory))}
    suppliers = {s.company_code: s for s in db.session.scalars(select(Supplier))}
    admin = db.session.scalar(select(User).where(User.email == "admin@demo.srpp.lt"))
    for c in data["coordinators"]:
        services.assign_coordinator(admin, cats[c["category"]], munis[c["municipality"]], c["from"], c["decision"])
    with current_app.test_request_context():  # notifications carry links
        for spec in data["frameworks"]:
            coordinator = _officer(services.current_coordinator(cats[spec["category"]]).municipality.code)
            fa = services.create_framework(coordinator, services.FrameworkInput(
                code=spec["code"], title=spec["title"], category_id=cats[spec["category"]].id,
                start_date=spec["start"], end_date=spec["end"], estimated_value=Decimal(spec["estimated"]),
                max_value=Decimal(spec["max"]), call_off_method=CallOffMethod(spec["method"]),
                objective_criteria=spec.get("criteria"), admits_new_suppliers=spec.get("admits_new", False)))
            for code, p in spec["participants"].items():
                services.add_participant(coordinator, fa, munis[code], p["notice"],
                                         {int(y): Decimal(v) for y, v in p["caps"].items()})
            for code in spec["parties"]:
                services.add_party(coordinator, fa, suppliers[code], spec["start"])
            for line in spec["prices"]:
                services.set_price(coordinator, fa, suppliers[line["supplier"]], line["item"], line["unit"],
                                   Decimal(line["price"]))
            for version in spec["specs"]:
                services.publish_specification(coordinator, fa, version["specification"], version["quality"],
                                               version.get("note"))
            for event in spec.get("events", []):
                services.record_event(coordinator, fa, event["held_on"], event["attendees"], event.get("notes"),
                                      event.get("changes"))
            services.set_state(coordinator, fa, FrameworkState.ACTIVE)
            for co in spec["call_offs"]:
                muni = munis[co["municipality"]]
                services.place_call_off(_officer(muni.code), fa.id, muni, services.CallOffInput(
                    supplier_id=suppliers[co["supplier"]].id, awarded_on=co["awarded_on"], start_date=co["start"],
                    end_date=co["end"], quantity=Decimal(co["quantity"]), unit=co["unit"],
                    unit_price=Decimal(co["price"]), budget_line=co["line"]))
            # acknowledgements of the first version by everyone; of the revision by some
            first, latest = fa.spec_versions[0], fa.spec_versions[-1]
            for n, participant in enumerate(fa.participants):
                services.acknowledge(_officer(participant.municipality.code), first, participant.municipality)
                if n % 2 == 0 and participant.municipality.code != "ROK":
                    services.acknowledge(_officer(participant.municipality.code), latest, participant.municipality)
            for code, p in spec["participants"].items():
                if p.get("opt_out"):
                    participant = next(x for x in fa.participants if x.municipality.code == code)
                    services.request_opt_out(_officer(code), participant, p["opt_out"])
            db.session.flush()
