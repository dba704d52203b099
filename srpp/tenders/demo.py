"""Demo tenders from ``srpp/demo/data/tenders.yaml``, made through the tender services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from sqlalchemy import select

from srpp.auth.models import User
from srpp.contracts.models import Contract
from srpp.demo.loader import read
from srpp.extensions import db
from srpp.orgs.models import Municipality, ServiceCategory, Supplier
from srpp.plans.services import current_published
from srpp.rules.models import ReservationBasis
from srpp.tenders import services
from srpp.tenders.models import CriterionKind, TenderState

CRITERIA = [
    services.CriterionInput("Kaina / Price", CriterionKind.PRICE, Decimal("60")),
    services.CriterionInput("Paslaugų tęstinumas ir įtrauktis / Continuity and inclusion", CriterionKind.SOCIAL,
                            Decimal("25"), "Tie patys darbuotojai aptarnauja tuos pačius gavėjus; vietos "
                                           "gyventojų įdarbinimas paslaugai teikti."),
    services.CriterionInput("Kokybės užtikrinimas / Quality assurance", CriterionKind.QUALITY, Decimal("15")),
]
PATH = {TenderState.READY: [TenderState.READY],
        TenderState.PUBLISHED: [TenderState.READY, TenderState.PUBLISHED],
        TenderState.EVALUATION: [TenderState.READY, TenderState.PUBLISHED, TenderState.EVALUATION],
        TenderState.AWARDED: [TenderState.READY, TenderState.PUBLISHED, TenderState.EVALUATION]}


def load() -> None:
    data = read("tenders.yaml")
    munis = {m.code: m for m in db.session.scalars(select(Municipality))}
    suppliers = {s.company_code: s for s in db.session.scalars(select(Supplier))}
    cats = {c.key: c for c in db.session.scalars(select(ServiceCategory))}
    for c in data.get("previous_contracts", []):
        awarded = c["awarded_on"]
        db.session.add(Contract(
            municipality_id=munis[c["municipality"]].id, supplier_id=suppliers[c["supplier"]].id, title=c["title"],
            value=Decimal(c["value"]), awarded_on=awarded, start_date=awarded,
            end_date=awarded + relativedelta(months=c["months"]) - dt.timedelta(days=1), main_cpv=c["cpv"],
            reservation=ReservationBasis(c["reservation"])))
    award_date = data["award_date"]
    for spec in data["tenders"]:
        muni = munis[spec["municipality"]]
        officer = db.session.scalar(select(User).where(User.email == f"officer.{muni.code.lower()}@demo.srpp.lt"))
        items = current_published(muni).items
        chosen = [next(i for i in items if i.title.startswith(prefix)) for prefix in spec["items"]]
        tender = services.create_from_plan(officer, chosen, title=spec["title"])
        for extra in spec.get("extra_lots", []):
            cat = cats[extra["c"]]
            services.add_lot(officer, tender, services.LotInput(
                title=extra["t"], category_id=cat.id, main_cpv=cat.main_cpv,
                additional_cpv=[c.code for c in cat.cpv_codes if c.code != cat.main_cpv],
                estimated_value=Decimal(extra["v"]), duration_months=extra["d"],
                reservation=ReservationBasis(extra.get("r", "none")), place_municipality_id=muni.id,
                settlement=extra.get("settlement"), is_rural=extra.get("rural", False)))
        if len(tender.lots) == 1:
            tender.no_division_reasons = "Viena nedidelė paslauga vienoje vietoje."
        for lot in tender.lots:
            services.set_criteria(officer, lot, CRITERIA)
        target = TenderState(spec["state"])
        if target == TenderState.CANCELLED:
            services.transition(officer, tender, target, reason=spec["cancel_reason"])
            continue
        for step in PATH.get(target, []):
            services.transition(officer, tender, step)
        if tender.published_at is not None:
            tender.submission_deadline = (tender.published_at + dt.timedelta(days=35)).date()
        by_number = {lot.number: lot for lot in tender.lots}
        for number, bids in (spec.get("bids") or {}).items():
            for code, price, score in bids:
                services.record_bid(officer, by_number[number], suppliers[code], Decimal(price), Decimal(score))
        for number, code in (spec.get("award") or {}).items():
            lot = by_number[number]
            bid = next(b for b in lot.bids if b.supplier.company_code == code)
            try:
                services.award(officer, lot, bid, award_date)
            except services.Refused:
                pass  # the demo's blocked case (Art. 77 look-back): the lot stays open
        if target == TenderState.AWARDED:
            services.transition(officer, tender, TenderState.AWARDED)
        db.session.flush()
