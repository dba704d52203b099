"""Demo history: procurement of the last four completed half-years, so the computed indicators
(G2, P1–P3, bid errors, lot sizes, reserved and rural shares, renewals, opt-outs, report timeliness)
have values before the indicator demo recomputes them (runs right before ``srpp.kpis.demo:load``).

Everything goes through the domain services (plans, tenders, bids, awards, frameworks, opt-outs,
payment reports); where a service stamps "now" (publication of a plan, a tender or a report) the
rows it just made are back-dated. Each municipality runs two past tenders two half-years apart
(PAN-C, BIR, PAS in the 1st and 3rd of the four half-years; PAN-D, KUP, ROK in the 2nd and 4th); the
later one often renews a contract of the earlier one. Rokiškis tenders only in half-years of earlier
calendar years and gets no Art. 77 award (the tender tests use Rokiškis for those rules). The contracts the
awards create get payment terms, schedules and invoices as the payments demo gives every contract. Dates are relative to the day the demo is
loaded; prices and scores come from ``random.Random(2026)``."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from flask import current_app
from sqlalchemy import func, select

from srpp.auth.models import User
from srpp.contracts.models import Contract
from srpp.extensions import db
from srpp.frameworks import services as frameworks
from srpp.frameworks.models import CallOffMethod, FrameworkState
from srpp.orgs.models import Municipality, ServiceCategory, Supplier
from srpp.payments import reports
from srpp.payments.calc import half_year, previous_half_years
from srpp.plans import services as plans
from srpp.plans.models import ProcurementPlan
from srpp.rules.models import Procedure, ReservationBasis
from srpp.tenders import services as tenders
from srpp.tenders.demo import CRITERIA
from srpp.tenders.models import TenderState

SEED = 2026
HALF_YEARS = 4
R = ReservationBasis


@dataclass
class LotSpec:
    title: str
    category: str
    value: int
    months: int
    bids: list[tuple[str, int, bool]]  # (supplier code, score, compliant)
    reservation: ReservationBasis = R.NONE
    settlement: str | None = None
    rural: bool = False
    item: bool = True  # from a plan item (else an extra lot added to the tender)
    launch_early: bool = False  # the item was planned a month before the tender went out (late for G2)


@dataclass
class TenderSpec:
    municipality: str
    period: int  # 0..3, oldest first
    month: int  # month of the half-year the tender is published in (0-based)
    title: str
    lots: list[LotSpec]


S1, S2, S7, S8, S9, S10, S11, S12, S13, S3 = ("990000001", "990000002", "990000007", "990000008", "990000009",
                                              "990000010", "990000011", "990000012", "990000013", "990000003")

TENDERS: list[TenderSpec] = [
    TenderSpec("PAN-C", 0, 0, "Dienos socialinė globa ir atokvėpio paslaugos Panevėžio mieste", [
        LotSpec("Dienos socialinė globa asmenims su demencija (10 vietų)", "DEM_DAY", 48000, 12,
                [(S1, 91, True), (S11, 84, True)], R.EU_ART77, "Panevėžys"),
        LotSpec("Atokvėpio paslauga neįgaliųjų artimiesiems", "RESPITE", 26000, 12, [(S12, 82, True), (S1, 88, True)]),
        LotSpec("Pagalba į namus Tulpių mikrorajone", "HOME_CARE", 31000, 6, [(S12, 86, True)], item=False),
    ]),
    TenderSpec("PAN-C", 2, 0, "Pagalba į namus ir atokvėpio paslaugos Panevėžio mieste", [
        LotSpec("Atokvėpio paslauga neįgaliųjų artimiesiems (tęsinys)", "RESPITE", 28000, 12,
                [(S1, 90, True), (S12, 83, True), (S2, 70, False)]),
        LotSpec("Pagalba į namus senjorams Panevėžio mieste", "HOME_CARE", 52000, 24,
                [(S11, 89, True), (S1, 80, True)], R.EU_ART77, "Panevėžys"),
        LotSpec("Pagalba į namus Tulpių mikrorajone (tęsinys)", "HOME_CARE", 33000, 12,
                [(S12, 87, True), (S2, 80, True)], item=False),
    ]),
    TenderSpec("PAN-D", 1, 0, "Pagalba į namus ir dienos centras Ramygalos ir Krekenavos seniūnijose", [
        LotSpec("Pagalba į namus Ramygalos seniūnijoje", "HOME_CARE", 42000, 12, [(S11, 88, True), (S12, 85, True)],
                settlement="Ramygala", rural=True),
        LotSpec("Dienos centras senjorams Krekenavoje", "SENIOR_DC", 36000, 12, [(S1, 90, True)], R.EU_ART77,
                "Krekenava", True),
        LotSpec("Transportas pagal poreikį Krekenavos seniūnijoje", "DRT", 22000, 12,
                [(S8, 89, True), (S13, 78, True)], R.LT_23_1_5, "Krekenava", True, item=False),
    ]),
    TenderSpec("PAN-D", 3, 0, "Pagalba į namus ir dienos centras Raguvos ir Ramygalos seniūnijose", [
        LotSpec("Pagalba į namus Ramygalos seniūnijoje (tęsinys)", "HOME_CARE", 45000, 12,
                [(S11, 90, True), (S12, 84, True), (S2, 76, True)], settlement="Ramygala", rural=True),
        LotSpec("Dienos centras senjorams Raguvoje", "SENIOR_DC", 38000, 12, [(S1, 88, True), (S12, 86, True)],
                settlement="Raguva", rural=True),
    ]),
    TenderSpec("BIR", 0, 1, "Socialinės dirbtuvės ir darbo integracija Biržų rajone", [
        LotSpec("Socialinės dirbtuvės Vabalninke", "SOC_WORKSHOP", 34000, 12, [(S7, 92, True)], R.EU_ART20,
                "Vabalninkas", True),
        LotSpec("Darbo integracijos vietos Biržų mieste", "WISE_PLACE", 24000, 12, [(S7, 90, True), (S2, 60, False)],
                R.EU_ART20, "Biržai"),
    ]),
    TenderSpec("BIR", 2, 1, "Socialinės dirbtuvės ir pagalba į namus Biržų rajone", [
        LotSpec("Socialinės dirbtuvės Vabalninke (tęsinys)", "SOC_WORKSHOP", 36000, 12, [(S7, 91, True)], R.EU_ART20,
                "Vabalninkas", True),
        LotSpec("Pagalba į namus Pabiržės seniūnijoje", "HOME_CARE", 39000, 24, [(S12, 86, True), (S2, 84, True)],
                settlement="Pabiržė", rural=True),
        LotSpec("Paslaugų navigatorius Biržų rajone", "NAVIGATOR", 18000, 12, [(S9, 87, True), (S2, 81, True)],
                item=False),
    ]),
    TenderSpec("KUP", 1, 0, "Pagalba į namus ir jaunimo užimtumas Kupiškio rajone", [
        LotSpec("Pagalba į namus Subačiaus seniūnijoje", "HOME_CARE", 33000, 12, [(S1, 88, True), (S12, 85, True)],
                settlement="Subačius", rural=True),
        LotSpec("Atviras jaunimo centras Kupiškyje", "YOUTH_OPEN", 21000, 12, [(S10, 90, True)], R.EU_ART20,
                "Kupiškis"),
        LotSpec("Transportas pagal poreikį Alizavos seniūnijoje", "DRT", 19000, 12,
                [(S8, 90, True), (S13, 80, True), (S2, 65, False)], R.LT_23_1_5, "Alizava", True, item=False),
    ]),
    TenderSpec("KUP", 3, 1, "Pagalba į namus, jaunimo užimtumas ir transportas Kupiškio rajone", [
        LotSpec("Pagalba į namus Subačiaus seniūnijoje (tęsinys)", "HOME_CARE", 35000, 12,
                [(S1, 89, True), (S12, 86, True)], settlement="Subačius", rural=True),
        LotSpec("Mobilus darbas su jaunimu Kupiškio rajone", "YOUTH_OPEN", 23000, 12, [(S10, 91, True)], R.EU_ART20),
        LotSpec("Transportas pagal poreikį Noriūnų seniūnijoje", "DRT", 20000, 12, [(S8, 88, True), (S13, 84, True)],
                settlement="Noriūnai", rural=True, item=False),
    ]),
    TenderSpec("PAS", 0, 1, "Socialinės dirbtuvės, paslaugų navigatorius ir būsto pagalba Pasvalyje", [
        LotSpec("Socialinės dirbtuvės Pasvalyje", "SOC_WORKSHOP", 30000, 12, [(S7, 90, True), (S9, 72, False)],
                R.EU_ART20, "Pasvalys"),
        LotSpec("Paslaugų navigatorius daugelio paslaugų gavėjams", "NAVIGATOR", 20000, 12,
                [(S9, 88, True), (S2, 85, True)], launch_early=True),
        LotSpec("Pagalba socialinio būsto nuomininkams Pasvalyje", "TENANT_SUP", 26000, 12, [(S9, 89, True)],
                item=False),
    ]),
    TenderSpec("PAS", 2, 1, "Socialinės dirbtuvės ir paslaugų navigatorius Pasvalio rajone", [
        LotSpec("Socialinės dirbtuvės Pasvalyje (tęsinys)", "SOC_WORKSHOP", 32000, 12, [(S7, 91, True), (S2, 70, True)],
                R.EU_ART20, "Pasvalys"),
        LotSpec("Paslaugų navigatorius Joniškėlio seniūnijoje", "NAVIGATOR", 21000, 12,
                [(S9, 89, True), (S2, 86, True)], settlement="Joniškėlis", rural=True),
    ]),
    TenderSpec("ROK", 0, 1, "Jaunimo užimtumas, dienos globa ir transportas Rokiškio rajone", [
        LotSpec("Atviras jaunimo centras Rokiškyje", "YOUTH_OPEN", 25000, 12, [(S10, 90, True), (S3, 82, True)],
                R.EU_ART20, "Rokiškis"),
        LotSpec("Dienos socialinė globa Obelių seniūnijoje", "DEM_DAY", 40000, 12, [(S1, 89, True)],
                settlement="Obeliai", rural=True),
        LotSpec("Transportas pagal poreikį Juodupės seniūnijoje", "DRT", 21000, 12, [(S8, 88, True), (S13, 79, True)],
                R.LT_23_1_5, "Juodupė", True, item=False),
    ]),
    TenderSpec("ROK", 2, 1, "Jaunimo užimtumas ir dienos centras Rokiškio rajone", [
        LotSpec("Atviras jaunimo centras Rokiškyje (tęsinys)", "YOUTH_OPEN", 26000, 12,
                [(S10, 91, True), (S3, 84, True)], R.EU_ART20, "Rokiškis"),
        LotSpec("Dienos centras senjorams Kamajuose", "SENIOR_DC", 30000, 12, [(S1, 88, True)], settlement="Kamajai",
                rural=True),
    ]),
]

#: the earlier framework of on-demand transport: municipalities opting out, one in each half-year
FRAMEWORK_CODE = "FA-MOB-DRT-2024"
OPT_OUTS = ("PAN-C", "BIR", "PAS", "ROK")
OPT_OUT_NOTICE = 60
#: municipalities that published their payment reports for the past half-years (days after the half-year)
REPORTS = {"PAN-C": (38, 52, 45, 41), "PAS": (64, 58, 71, 49)}


def _user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def _at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, 0), tzinfo=dt.UTC)


def load(today: dt.date | None = None) -> None:
    today = today or dt.date.today()
    rng = random.Random(SEED)
    periods = previous_half_years(half_year(today)[0] - dt.timedelta(days=1), HALF_YEARS)
    munis = {m.code: m for m in db.session.scalars(select(Municipality))}
    cats = {c.key: c for c in db.session.scalars(select(ServiceCategory))}
    suppliers = {s.company_code: s for s in db.session.scalars(select(Supplier))}
    with current_app.test_request_context():  # services may notify (links)
        contract_ids = _tenders(periods, munis, cats, suppliers, rng, today)
        _payments(contract_ids, today)
        _framework(periods, munis, cats, suppliers)
        _reports(periods, munis, today)
    db.session.flush()


# --- plans and tenders ------------------------------------------------------------------------------

def _published_on(spec: TenderSpec, periods: list[tuple[dt.date, dt.date]], rng: random.Random) -> dt.date:
    month = periods[spec.period][0] + relativedelta(months=spec.month)
    return month + dt.timedelta(days=rng.randint(4, 14))


def _plans(specs: list[tuple[TenderSpec, dt.date]], munis: dict[str, Municipality],
           cats: dict[str, ServiceCategory], today: dt.date) -> dict[tuple[str, str], object]:
    """Two past 12-month plans per municipality, ending before its first existing plan (and before the
    current half-year), holding the items the past tenders take; published a fortnight before they start."""
    items: dict[tuple[str, str], object] = {}
    by_muni: dict[str, list[tuple[LotSpec, dt.date]]] = {}
    for spec, published in specs:
        for lot in spec.lots:
            if lot.item:
                launch = published.replace(day=1) - relativedelta(months=1 if lot.launch_early else 0)
                by_muni.setdefault(spec.municipality, []).append((lot, launch))
    for code, wanted in by_muni.items():
        muni = munis[code]
        officer = _user(f"officer.{code.lower()}@demo.srpp.lt")
        first = db.session.scalar(select(func.min(ProcurementPlan.period_start)).where(
            ProcurementPlan.municipality_id == muni.id))
        anchor = min(d for d in (first, half_year(today)[0]) if d is not None).replace(day=1)
        for back in (24, 12):
            start = anchor - relativedelta(months=back)
            end = start + relativedelta(months=12)
            chosen = [(lot, launch) for lot, launch in wanted if start <= launch < end]
            if not chosen:
                continue
            version = plans.create_plan(officer, muni, start)
            for lot, launch in chosen:
                cat = cats[lot.category]
                item = plans.add_item(officer, version, plans.ItemInput(
                    title=lot.title, category_id=cat.id, main_cpv=cat.main_cpv,
                    additional_cpv=[c.code for c in cat.cpv_codes if c.code != cat.main_cpv],
                    estimated_value=Decimal(lot.value), launch_month=launch, duration_months=lot.months,
                    procedure=Procedure.SIMPLIFIED, reservation=lot.reservation))
                items[(code, lot.title)] = item
            plans.publish(officer, version, "Metinis socialinių paslaugų pirkimų planas")
            published = _at(start - dt.timedelta(days=14), 9)
            version.published_at = published
            version.review_due = published.date() + relativedelta(months=6)
            for item in version.items:
                item.content_changed_at = published
    db.session.flush()
    return items


def _tenders(periods: list[tuple[dt.date, dt.date]], munis: dict[str, Municipality],
             cats: dict[str, ServiceCategory], suppliers: dict[str, Supplier], rng: random.Random,
             today: dt.date) -> list[int]:
    dated = [(spec, _published_on(spec, periods, rng)) for spec in TENDERS]
    items = _plans(dated, munis, cats, today)
    contract_ids: list[int] = []
    for spec, published in dated:
        muni = munis[spec.municipality]
        officer = _user(f"officer.{muni.code.lower()}@demo.srpp.lt")
        plan_items = [items[(spec.municipality, lot.title)] for lot in spec.lots
                      if lot.item and (spec.municipality, lot.title) in items]
        if not plan_items:
            continue
        tender = tenders.create_from_plan(officer, plan_items, title=spec.title)
        by_title = {lot.title: lot for lot in tender.lots}
        for lot in spec.lots:
            cat = cats[lot.category]
            inp = tenders.LotInput(
                title=lot.title, category_id=cat.id, main_cpv=cat.main_cpv,
                additional_cpv=[c.code for c in cat.cpv_codes if c.code != cat.main_cpv],
                estimated_value=Decimal(lot.value), duration_months=lot.months, reservation=lot.reservation,
                place_municipality_id=muni.id, settlement=lot.settlement, is_rural=lot.rural)
            if lot.title in by_title:
                tenders.update_lot(officer, by_title[lot.title], inp, by_title[lot.title].version)
            else:
                by_title[lot.title] = tenders.add_lot(officer, tender, inp)
        if len(tender.lots) == 1:
            tender.no_division_reasons = "Viena nedidelė paslauga vienoje vietoje."
        for lot in tender.lots:
            tenders.set_criteria(officer, lot, CRITERIA)
        tenders.transition(officer, tender, TenderState.READY)
        tenders.transition(officer, tender, TenderState.PUBLISHED)
        deadline = published + dt.timedelta(days=30)
        award_on = deadline + dt.timedelta(days=rng.randint(8, 16))
        tender.published_at = _at(published)
        tender.submission_deadline = deadline
        for lot in spec.lots:
            row = by_title[lot.title]
            for code, score, compliant in lot.bids:
                price = (Decimal(lot.value) * Decimal(str(rng.uniform(0.9, 0.99)))).quantize(Decimal("1"))
                tenders.record_bid(officer, row, suppliers[code], price, Decimal(score), compliant=compliant,
                                   note=None if compliant else "Nepateikta kvalifikaciją patvirtinanti pažyma.")
        tenders.transition(officer, tender, TenderState.EVALUATION)
        for lot in spec.lots:
            contract = _award(officer, by_title[lot.title], award_on)
            if contract is not None:
                contract_ids.append(contract.id)
        tenders.transition(officer, tender, TenderState.AWARDED)
        db.session.flush()
    return contract_ids


def _award(officer: User, lot, on: dt.date) -> Contract | None:
    """The best-scored compliant bid wins; when the rules refuse it (eligibility, Art. 77 look-back), the next."""
    for bid in sorted((b for b in lot.bids if b.compliant), key=lambda b: (-(b.score or 0), b.id)):
        try:
            return tenders.award(officer, lot, bid, on)
        except tenders.Refused:
            continue
    tenders.close_unsuccessful(officer, lot, "Nėra tinkamų pasiūlymų.")
    return None


# --- terms, schedules and invoices of the contracts the awards made ---------------------------------

def _payments(contract_ids: list[int], today: dt.date) -> None:
    """As the payments demo does for every contract (srpp/payments/demo.py, payments.yaml): terms with a
    reference, a half-yearly milestone schedule, and the invoices of the milestones already due, paid as the
    municipality's payment profile says; then the daily scan as of ``today``."""
    from srpp.contracts import services as contracts
    from srpp.demo.loader import read
    from srpp.payments import demo as payments_demo
    from srpp.payments import services as payments

    if not contract_ids:
        return
    data = read("payments.yaml")
    rng = random.Random(SEED + 1)
    new = sorted(db.session.scalars(select(Contract).where(Contract.id.in_(contract_ids))).unique(),
                 key=payments_demo._order)
    refs = dict(db.session.execute(
        select(Municipality.code, func.count(Contract.id)).join(Contract, Contract.municipality_id == Municipality.id)
        .where(Contract.id.not_in(contract_ids)).group_by(Municipality.code)).all())
    for contract in new:
        payments_demo._set_terms(contract, data, refs)
        # half-yearly milestones (a monthly schedule would double the demo's invoices and its load time)
        spec = {**payments_demo._spec(data["schedules"], contract), "period_months": 6}
        contracts.set_schedule(_user(f"officer.{contract.municipality.code.lower()}@demo.srpp.lt"), contract,
                               payments_demo.schedule_items(contract, spec))
    planned = [inv for contract in new for inv in payments_demo.plan_contract(contract, data, rng, today)]
    # invoice numbers of a series of their own ("H…"), references numbered after the payments demo's
    numbers = payments_demo._Numbers({code: f"H{series}" for code, series in data["series"].items()})
    numbers.refs = 90000
    finance: dict[str, User] = {}
    try:
        for p in sorted(planned, key=lambda p: (p.received_on, payments_demo._order(p.contract),
                                                p.milestone.sequence)):
            contract = p.contract
            code = contract.municipality.code
            actor = finance.setdefault(code, _user(f"finance.{code.lower()}@demo.srpp.lt"))
            number = numbers.invoice(contract.supplier, p.received_on)
            if not number.startswith("H"):
                number = f"H{number}"
            inv = payments.record_invoice(actor, contract, payments.InvoiceInput(
                number=number, amount=p.milestone.amount, received_on=p.received_on,
                e_invoice_ref=numbers.ref("ESAS", p.received_on), milestone_id=p.milestone.id))
            if p.accepted_on is not None:
                payments.accept(actor, inv, p.accepted_on)
            if p.dispute is not None:
                payments_demo._dispute(actor, inv, p.dispute, numbers, today)
            for day, amount in p.payments:
                payments.record_payment(actor, inv, day, amount, reference=numbers.ref("MP", day))
    finally:
        db.session.info.pop(payments_demo._USERS, None)
    payments.daily_scan(today)


# --- a past framework with opt-outs -------------------------------------------------------------------

def _framework(periods: list[tuple[dt.date, dt.date]], munis: dict[str, Municipality],
               cats: dict[str, ServiceCategory], suppliers: dict[str, Supplier]) -> None:
    category = cats["DRT"]
    assignment = frameworks.current_coordinator(category)
    if assignment is None:
        return
    coordinator = _user(f"officer.{assignment.municipality.code.lower()}@demo.srpp.lt")
    start, end = periods[0][0], periods[-1][1]
    fa = frameworks.create_framework(coordinator, frameworks.FrameworkInput(
        code=FRAMEWORK_CODE, title="Transportas pagal poreikį kaimo vietovėse (ankstesnė bendroji sutartis)",
        category_id=category.id, start_date=start, end_date=end, estimated_value=Decimal("160000"),
        max_value=Decimal("200000"), call_off_method=CallOffMethod.DIRECT))
    for code in munis:
        frameworks.add_participant(coordinator, fa, munis[code], OPT_OUT_NOTICE, {})
    for code in (S8, S13):
        frameworks.add_party(coordinator, fa, suppliers[code], start)
    frameworks.set_state(coordinator, fa, FrameworkState.ACTIVE)
    for index, code in enumerate(OPT_OUTS):
        participant = next(p for p in fa.participants if p.municipality.code == code)
        effective = periods[index][0] + relativedelta(months=3)
        frameworks.request_opt_out(_user(f"officer.{code.lower()}@demo.srpp.lt"), participant,
                                   effective - dt.timedelta(days=OPT_OUT_NOTICE))
        frameworks.execute_opt_outs(effective)  # the daily job ran on the effective day: on time
    frameworks.set_state(coordinator, fa, FrameworkState.EXPIRED)


# --- published payment reports -----------------------------------------------------------------------

def _reports(periods: list[tuple[dt.date, dt.date]], munis: dict[str, Municipality], today: dt.date) -> None:
    for code, delays in REPORTS.items():
        finance = _user(f"finance.{code.lower()}@demo.srpp.lt")
        for (start, end), days in zip(periods, delays, strict=True):
            approved = min(end + dt.timedelta(days=days), today)
            report = reports.prepare(finance, munis[code], start, today=today)
            reports.approve(finance, report, finance.full_name, "Finansų skyriaus vedėja", approved)
            reports.publish(finance, report)
            report.published_at = _at(approved, 14)
    db.session.flush()
