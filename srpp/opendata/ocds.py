"""The pure mapping from our records to OCDS 1.1 releases (no queries: ``services.py`` loads the
records and what they refer to into a ``Lookups`` and calls the functions here).

**One compiled-style release per contracting process.** Each process is published as a single
release holding everything we know about it now, tagged with every stage that applies
(``planning``; ``tender``; ``award``; ``contract``; ``implementation``). We keep no history of the
earlier states of a record, so releases per stage could not be rebuilt faithfully afterwards; a
single current release per process is what we can publish honestly. Its ``date`` is the last change
of any record of the process (computed in SQL by ``services``, so that the ``since`` filter and the
release agree) and its ``id`` is the ocid plus that moment, so a changed process gets a new release id.

Processes (ocid = ``OCDS_PREFIX`` + a kind + a stable key):

* ``-plan-<uid>``: a plan item of a *published* plan version (the uid stays the same across plan
  versions): ``planning`` with the budget and rationale, ``tender.status`` ``planned``.
* ``-tender-<id>``: a published tender with its lots, bids (tenderers), awards, contracts, payment
  milestones and payments; it links back to the plan items it came from (``relatedProcesses``
  ``planning``).
* ``-fa-<code>``: a framework agreement that is not merely planned (``techniques.frameworkAgreement``,
  one award and one contract naming the supplier parties).
* ``-calloff-<id>``: a call-off under a published framework (``relatedProcesses`` ``framework``).
* ``-contract-<id>``: a contract entered directly (neither from a lot nor from a call-off).

Not filled, for want of data: ``contractTerms.reservedExecution`` (our reservation bases reserve
participation, never only the execution), the submissionTerms and suitability extensions (not
declared), organisation identifiers of the municipalities and the council (we hold no registration
codes: their ``parties`` ids are local, ``MUN-<code>``). ``contractPeriod.durationInDays`` of a plan
item or lot is its duration in months × 30.4375.

No personal data: organisations only (municipalities, suppliers by their company code), never a
contact person, user, e-mail or phone number, and no free-text notes typed about people (bid notes,
engagement attendees, payment references).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

#: the extensions we use, by the key of /work/shared/ocds/extensions.json; the URLs pin the commits
#: whose release-schema.json patches srpp/opendata/schema/extensions/ holds (see its PROVENANCE.json)
EXTENSIONS: dict[str, str] = {
    "lots": "https://raw.githubusercontent.com/open-contracting-extensions/ocds_lots_extension/"
            "8d3b52eb26ce0f1a015c91b665c120b17ef619a0/extension.json",
    "techniques": "https://raw.githubusercontent.com/open-contracting-extensions/ocds_techniques_extension/"
                  "5568b00a8dd694a3d34441bdd9ef2bd3f9d44b11/extension.json",
    "otherRequirements": "https://raw.githubusercontent.com/open-contracting-extensions/"
                         "ocds_otherRequirements_extension/143e56e3166073b5d317826a745e46b9889e379b/extension.json",
    "sustainability": "https://raw.githubusercontent.com/open-contracting-extensions/ocds_sustainability_extension/"
                      "b8d93a0edb8e0ac2f27f733cccf3884e392346e9/extension.json",
    "contractTerms": "https://raw.githubusercontent.com/open-contracting-extensions/ocds_contractTerms_extension/"
                     "316ea6708268b0efa7fe8fc2273c891107ac90ce/extension.json",
    "awardCriteria": "https://raw.githubusercontent.com/open-contracting-extensions/ocds_awardCriteria_extension/"
                     "9391240f353e8536992938fe9f7987cd89235331/extension.json",
    "budget": "https://raw.githubusercontent.com/open-contracting-extensions/ocds_budget_breakdown_extension/"
              "345db699d4915049638a701bf2cb91a7439cff29/extension.json",
    "metrics": "https://raw.githubusercontent.com/open-contracting-extensions/ocds_metrics_extension/"
               "fad91df868907e339e5b3b4af5c334e02b80fa4f/extension.json",
    "transaction_milestones": "https://raw.githubusercontent.com/open-contracting-extensions/"
                              "ocds_transactions_relatedMilestone_extension/"
                              "0e4793062ba3b84908edfc0f2f6fcf2e60c6b58b/extension.json",
    "partyScale": "https://raw.githubusercontent.com/open-contracting-extensions/ocds_partyDetails_scale_extension/"
                  "152cd9fb74e021e537b17d84420615acf7dec032/extension.json",
    "organizationClassification": "https://raw.githubusercontent.com/open-contracting-extensions/"
                                  "ocds_organizationClassification_extension/"
                                  "243be1f7daed9d4423f218d9a7fb364ab70c57b9/extension.json",
    "contract_suppliers": "https://raw.githubusercontent.com/open-contracting-extensions/"
                          "ocds_contract_suppliers_extension/213ff47826ef6d9de62b1b7efb9bf490abd8388d/extension.json",
}

CURRENCY = "EUR"
SEO_SCHEME = "LTU-SRPP-SEO"
COMPANY_SCHEMES = {"LT": "LT-RC", "LV": "LV-RER"}

#: our procedures → OCDS procurementMethod (open: anyone may bid on the published notice)
METHODS = {"simplified": "open", "open": "open", "light_regime": "open", "call_off": "selective"}
#: a call-off's method by the framework's call-off method (direct: on the framework's terms)
CALL_OFF_METHODS = {"direct": "limited", "mini_competition": "selective", "hybrid": "selective"}
#: framework call-off method → OCDS frameworkAgreementMethod (shared/eforms/ocds-mapping, via BT-765)
FRAMEWORK_METHODS = {"fa-mix": "withAndWithoutReopeningCompetition", "fa-w-rc": "withReopeningCompetition",
                     "fa-wo-rc": "withoutReopeningCompetition"}
#: reservation bases (srpp.rules.models.ReservationBasis) → reservedParticipation codes. The three
#: national bases (VPĮ 23(1)(3)–(5)) reserve participation to suppliers integrating disadvantaged
#: persons, which is what ``shelteredWorkshop`` means in the codelist.
RESERVED_PARTICIPATION = {"res-ws": "shelteredWorkshop", "res-pub-ser": "publicServiceMissionOrganization",
                          "lt-23-1-3": "shelteredWorkshop", "lt-23-1-4": "shelteredWorkshop",
                          "lt-23-1-5": "shelteredWorkshop"}
TENDER_STATUS = {"published": "active", "evaluation": "active", "awarded": "complete", "cancelled": "cancelled"}
LOT_STATUS = {"open": "active", "awarded": "complete", "unsuccessful": "unsuccessful", "replanned": "cancelled"}
CONTRACT_STATUS = {"active": "active", "completed": "terminated", "terminated": "terminated"}
MILESTONE_STATUS = {"planned": "scheduled", "due": "scheduled", "met": "met", "late": "notMet"}
CRITERION_TYPE = {"price": "price", "quality": "quality", "social": "quality"}
SCALE_BANDS = ((10, "micro"), (50, "small"), (250, "medium"))


@dataclass
class Lookups:
    """What the mapping needs beyond the records themselves (loaded per batch by ``services``)."""

    prefix: str
    lang: str = "en"
    #: CPV code → label in ``lang``
    cpv: dict[str, str | None] = field(default_factory=dict)
    #: supplier id → verified status bases valid today (code, label)
    statuses: dict[int, list[tuple[str, str]]] = field(default_factory=dict)
    #: plan item uids that are in a published plan version (their process exists)
    published_uids: set[str] = field(default_factory=set)
    #: framework id → code, of the frameworks that are published
    frameworks: dict[int, str] = field(default_factory=dict)
    #: contract id → its invoices (with their payments loaded)
    invoices: dict[int, list[Any]] = field(default_factory=dict)
    #: enum labels in English (procedure, priority area …): value → label
    labels: dict[str, dict[str, str]] = field(default_factory=dict)

    def ocid(self, kind: str, key: object) -> str:
        return f"{self.prefix}-{kind}-{key}"


# --- small pieces ------------------------------------------------------------------------------

def stamp(value: dt.date | dt.datetime | None) -> str | None:
    """An OCDS date-time: datetimes in UTC, dates at midnight UTC."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{value.isoformat()}T00:00:00Z"


def money(amount: Decimal | None) -> dict[str, Any] | None:
    return None if amount is None else {"amount": float(amount), "currency": CURRENCY}


def period(start: dt.date | None, end: dt.date | None = None, days: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if start:
        out["startDate"] = stamp(start)
    if end:
        out["endDate"] = stamp(end)
    if days:
        out["durationInDays"] = days
    return out


def months_to_days(months: int) -> int:
    """A duration in months as days (the average month: 30.4375 days)."""
    return round(months * 30.4375)


def category(cpv: str) -> str:
    """mainProcurementCategory from the main CPV: division 45 works, 03–44 goods, the rest services."""
    division = int(cpv[:2])
    return "works" if division == 45 else "goods" if division < 45 else "services"


def compact(obj: Any) -> Any:
    """Drop None, empty dicts and empty lists (OCDS fields are optional; empty values are not allowed)."""
    if isinstance(obj, dict):
        out = {k: compact(v) for k, v in obj.items()}
        return {k: v for k, v in out.items() if v is not None and v != {} and v != []}
    if isinstance(obj, list):
        return [compact(v) for v in obj]
    return obj


def classification(code: str, lk: Lookups) -> dict[str, Any]:
    try:
        description = lk.cpv[code]  # services passes a mapping that reads a missing code from the table
    except KeyError:
        description = None
    return compact({"scheme": "CPV", "id": code, "description": description})


def item(ident: str, title: str, codes: list[str], lk: Lookups, quantity: Decimal | None = None,
         unit: str | None = None, lot: str | None = None, unit_price: Decimal | None = None) -> dict[str, Any]:
    return compact({
        "id": ident, "description": title, "classification": classification(codes[0], lk),
        "additionalClassifications": [classification(c, lk) for c in codes[1:]],
        "quantity": float(quantity) if quantity is not None else None,
        "unit": {"name": unit, "value": money(unit_price)} if unit else None,
        "relatedLot": lot,
    })


def label(lk: Lookups, enum: str, value: str) -> str:
    return lk.labels.get(enum, {}).get(value, value)


class Parties:
    """The ``parties`` of one release: each organisation once, its roles gathered."""

    def __init__(self, lk: Lookups) -> None:
        self.lk = lk
        self.by_id: dict[str, dict[str, Any]] = {}

    def _add(self, ident: str, build: Any, roles: Iterable[str]) -> dict[str, str]:
        party = self.by_id.get(ident)
        if party is None:
            party = self.by_id[ident] = {**build(), "roles": []}
        for role in roles:
            if role not in party["roles"]:
                party["roles"].append(role)
        return {"id": ident, "name": party["name"]}

    def municipality(self, m: Any, *roles: str) -> dict[str, str]:
        def build() -> dict[str, Any]:
            # the municipality's office contact (e-mail, phone) is left out: see the module docstring
            return compact({"id": f"MUN-{m.code}", "name": m.name_en or m.name_lt, "roles": [],
                            "address": {"streetAddress": m.address, "countryName": "Lithuania"} if m.address else None,
                            "contactPoint": {"url": m.website} if m.website else None})
        return self._add(f"MUN-{m.code}", build, roles)

    def supplier(self, s: Any, *roles: str) -> dict[str, str]:
        scheme = COMPANY_SCHEMES.get(s.country, f"{s.country}-RC")
        ident = f"{scheme}-{s.company_code}"

        def build() -> dict[str, Any]:
            scale = None
            if s.staff_count is not None:
                scale = next((name for limit, name in SCALE_BANDS if s.staff_count < limit), "large")
            statuses = self.lk.statuses.get(s.id, [])
            return compact({
                "id": ident, "name": s.legal_name, "roles": [],
                "identifier": {"scheme": scheme, "id": s.company_code, "legalName": s.legal_name},
                "address": {"countryName": {"LT": "Lithuania", "LV": "Latvia"}.get(s.country, s.country)},
                "details": {"scale": scale,
                            "classifications": [{"scheme": SEO_SCHEME, "id": code, "description": text}
                                                for code, text in statuses]},
            })
        return self._add(ident, build, roles)

    def as_list(self) -> list[dict[str, Any]]:
        return list(self.by_id.values())


def release(lk: Lookups, ocid: str, date: dt.datetime, tags: list[str], parties: Parties,
            **sections: Any) -> dict[str, Any]:
    out = {"ocid": ocid, "id": f"{ocid}-{date.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}", "date": stamp(date),
           "tag": tags, "initiationType": "tender", "parties": parties.as_list(), **sections}
    return compact(out)


def related(relationship: str, ocid: str, title: str | None, n: int) -> dict[str, Any]:
    return compact({"id": str(n), "relationship": [relationship], "scheme": "ocid", "identifier": ocid,
                    "title": title})


def reservation(basis: str) -> dict[str, Any]:
    """otherRequirements + sustainability for a reservation basis (none: nothing)."""
    code = RESERVED_PARTICIPATION.get(basis)
    if code is None:
        return {}
    # Art. 77 reserves for public-service-mission organisations, not for employing disadvantaged persons
    goal = "social" if basis == "res-pub-ser" else "social.disadvantagedEmploymentOpportunities"
    return {"otherRequirements": {"reservedParticipation": [code]},
            "sustainability": [{"goal": goal, "strategies": ["reservedParticipation"]}]}


# --- contracts, milestones, payments -----------------------------------------------------------

def milestone_id(m: Any) -> str:
    return f"payment-{m.sequence}"


def contract_section(c: Any, award_id: str, parties: Parties, lk: Lookups) -> dict[str, Any]:
    """A contract with its payment milestones and payments (implementation)."""
    buyer = parties.municipality(c.municipality, "buyer", "payer")
    supplier = parties.supplier(c.supplier, "supplier", "payee")
    milestones = {m.id: m for m in c.milestones}
    transactions = []
    for inv in lk.invoices.get(c.id, []):
        settles = milestones.get(inv.milestone_id)
        for p in inv.payments:
            transactions.append(compact({
                "id": f"payment-{p.id}", "source": None, "date": stamp(p.paid_on), "value": money(p.amount),
                "payer": buyer, "payee": supplier,
                "relatedImplementationMilestone": ({"id": milestone_id(settles), "title": settles.title}
                                                   if settles else None),
            }))
    return compact({
        "id": f"contract-{c.id}", "awardID": award_id, "title": c.title,
        "status": CONTRACT_STATUS[c.state.value], "period": period(c.start_date, c.end_date),
        "value": money(c.value), "dateSigned": stamp(c.awarded_on), "suppliers": [supplier],
        "items": [item("1", c.title, [c.main_cpv], lk)],
        "implementation": {
            "milestones": [compact({
                "id": milestone_id(m), "title": m.title, "type": "payment", "description": m.trigger_description,
                "dueDate": stamp(m.planned_date), "status": MILESTONE_STATUS.get(m.state.value),
                "dateMet": stamp(m.met_on) if m.state.value == "met" else None,
                "dateModified": stamp(m.updated_at),
            }) for m in c.milestones],
            "transactions": transactions,
        },
    })


def contract_tags(contracts: list[dict[str, Any]]) -> list[str]:
    tags = ["contract"] if contracts else []
    if any(c.get("implementation") for c in contracts):
        tags.append("implementation")
    return tags


# --- plan items --------------------------------------------------------------------------------

def plan_release(pi: Any, date: dt.datetime, lk: Lookups) -> dict[str, Any]:
    ocid = lk.ocid("plan", pi.uid)
    parties = Parties(lk)
    buyer = parties.municipality(pi.municipality, "buyer", "procuringEntity")
    codes = pi.cpv_codes
    area = label(lk, "priority_area", pi.priority_area.value)
    rationale = f"{area}: {pi.target_groups}" if pi.target_groups else area
    funding = pi.funding_measure
    budget = {
        "description": (funding.name_en or funding.name_lt) if funding else None,
        "amount": money(pi.estimated_value),
        "budgetBreakdown": [{"id": funding.code, "description": funding.name_en or funding.name_lt,
                             "amount": money(pi.estimated_value)}] if funding else None,
    }
    related_processes = []
    if pi.framework_id in lk.frameworks:
        related_processes.append(related("framework", lk.ocid("fa", lk.frameworks[pi.framework_id]), None, 1))
    method = METHODS[pi.procedure.value]
    tender = {
        "id": f"plan-{pi.uid}", "title": pi.title, "status": "withdrawn" if pi.state.value == "cancelled" else "planned",
        "procuringEntity": buyer, "procurementMethod": method,
        "procurementMethodDetails": label(lk, "procedure", pi.procedure.value),
        "mainProcurementCategory": category(pi.main_cpv), "value": money(pi.estimated_value),
        "items": [item("1", pi.title, codes, lk, pi.quantity, pi.unit)],
        "tenderPeriod": period(pi.launch_month),
        "contractPeriod": period(None, None, months_to_days(pi.duration_months)),
        "hasSustainability": pi.is_reserved,
        **reservation(pi.reservation.value),
    }
    return release(lk, ocid, date, ["planning"], parties, buyer=buyer,
                   planning={"rationale": rationale, "budget": budget}, tender=tender,
                   relatedProcesses=related_processes)


# --- tenders -----------------------------------------------------------------------------------

def criteria_section(lot: Any) -> dict[str, Any] | None:
    if not lot.criteria:
        return None
    return {"criteria": [compact({
        "type": CRITERION_TYPE[c.kind.value], "name": c.name, "description": c.subject_link,
        "numbers": [{"number": float(c.weight), "weight": "percentageExact"}],
    }) for c in lot.criteria]}


def lot_section(lot: Any) -> dict[str, Any]:
    extra = reservation(lot.reservation.value)
    sustainability = list(extra.pop("sustainability", []))
    if any(c.kind.value == "social" for c in lot.criteria):
        sustainability.append({"goal": "social", "strategies": ["awardCriteria"]})
    if lot.social_conditions:
        sustainability.append({"goal": "social", "description": lot.social_conditions,
                               "strategies": ["contractPerformanceConditions"]})
    return compact({
        "id": str(lot.number), "title": lot.title, "description": lot.description,
        "status": LOT_STATUS[lot.state.value], "value": money(lot.estimated_value),
        "contractPeriod": period(None, None, months_to_days(lot.duration_months)),
        "awardCriteria": criteria_section(lot),
        "hasSustainability": bool(sustainability), "sustainability": sustainability,
        "contractTerms": {"performanceTerms": lot.social_conditions},
        **extra,
    })


def tender_release(t: Any, date: dt.datetime, lk: Lookups) -> dict[str, Any]:
    ocid = lk.ocid("tender", t.id)
    parties = Parties(lk)
    buyer = parties.municipality(t.municipality, "buyer", "procuringEntity")
    for m in t.mandates:
        if m.id != t.municipality_id:
            parties.municipality(m, "buyer")
    tenderers: dict[str, dict[str, str]] = {}
    awards, contracts = [], []
    for lot in t.lots:
        for bid in lot.bids:
            for s in (bid.supplier, *bid.members):
                ref = parties.supplier(s, "tenderer")
                tenderers[ref["id"]] = ref
        if lot.state.value == "awarded" and lot.winner is not None:
            award_id = f"award-{lot.number}"
            awards.append(compact({
                "id": award_id, "title": lot.title, "status": "active", "date": stamp(lot.award_date),
                "value": money(lot.award_value), "suppliers": [parties.supplier(lot.winner, "supplier")],
                "relatedLots": [str(lot.number)],
            }))
            if lot.contract is not None:
                contracts.append(contract_section(lot.contract, award_id, parties, lk))
    related_processes = [related("planning", lk.ocid("plan", link.item_uid), link.title, n)
                         for n, link in enumerate(sorted(t.plan_links, key=lambda x: x.item_uid), 1)
                         if link.item_uid in lk.published_uids]
    main_cpv = t.lots[0].main_cpv if t.lots else None
    tender = {
        "id": f"tender-{t.id}", "title": t.title, "description": t.description, "status": TENDER_STATUS[t.state.value],
        "procuringEntity": buyer, "procurementMethod": METHODS[t.procedure.value],
        "procurementMethodDetails": label(lk, "procedure", t.procedure.value),
        "mainProcurementCategory": category(main_cpv) if main_cpv else None,
        "value": money(t.estimated_value) if t.lots else None,
        "tenderPeriod": period(t.published_at, t.submission_deadline),
        "items": [item(str(lot.number), lot.title, lot.cpv_codes, lk, lot.quantity, lot.unit, str(lot.number))
                  for lot in t.lots],
        "lots": [lot_section(lot) for lot in t.lots],
        "lotDetails": {"maximumLotsAwardedPerSupplier": t.max_lots_per_tenderer},
        "tenderers": list(tenderers.values()), "numberOfTenderers": len(tenderers) if tenderers else None,
        "awardCriteria": "ratedCriteria" if any(lot.criteria for lot in t.lots) else None,
        "hasSustainability": any(lot.is_reserved or lot.criteria or lot.social_conditions for lot in t.lots),
    }
    tags = ["tender", *(["award"] if awards else []), *contract_tags(contracts)]
    return release(lk, ocid, date, tags, parties, buyer=buyer, tender=tender, awards=awards, contracts=contracts,
                   relatedProcesses=related_processes)


# --- frameworks and call-offs -----------------------------------------------------------------

def framework_release(fa: Any, date: dt.datetime, lk: Lookups) -> dict[str, Any]:
    ocid = lk.ocid("fa", fa.code)
    parties = Parties(lk)
    buyer = parties.municipality(fa.coordinator, "buyer", "procuringEntity")
    for p in fa.participants:
        parties.municipality(p.municipality, "buyer")
    suppliers = [parties.supplier(p.supplier, "supplier") for p in fa.parties]
    cpv = fa.category.main_cpv
    tender = {
        "id": f"fa-{fa.code}", "title": fa.title, "status": "complete", "procuringEntity": buyer,
        "procurementMethodDetails": "Framework agreement", "mainProcurementCategory": category(cpv) if cpv else None,
        "value": money(fa.estimated_value),
        "items": [item("1", fa.category.name_en or fa.category.name_lt, [cpv], lk)] if cpv else None,
        "techniques": {"hasFrameworkAgreement": True, "frameworkAgreement": compact({
            "method": FRAMEWORK_METHODS[fa.call_off_method.eforms_code],
            "period": period(fa.start_date, fa.end_date), "value": money(fa.max_value),
            "periodRationale": fa.term_justification, "description": fa.objective_criteria,
        })},
    }
    awards, contracts = [], []
    if suppliers:
        joined = min(p.joined_on for p in fa.parties)
        awards.append({"id": "framework-award", "title": fa.title, "status": "active", "date": stamp(joined),
                       "suppliers": suppliers})
        contracts.append(compact({
            "id": "framework-agreement", "awardID": "framework-award", "title": fa.title,
            "status": "active" if fa.state.value == "active" else "terminated",
            "period": period(fa.start_date, fa.end_date), "value": money(fa.max_value), "suppliers": suppliers,
        }))
    tags = ["tender", *(["award", "contract"] if suppliers else [])]
    return release(lk, ocid, date, tags, parties, buyer=buyer, tender=tender, awards=awards, contracts=contracts)


def call_off_release(co: Any, date: dt.datetime, lk: Lookups) -> dict[str, Any]:
    ocid = lk.ocid("calloff", co.id)
    fa = co.framework
    parties = Parties(lk)
    buyer = parties.municipality(co.municipality, "buyer", "procuringEntity")
    supplier = parties.supplier(co.supplier, "supplier")
    method = fa.call_off_method.value
    cpv = fa.category.main_cpv
    tender = {
        "id": f"calloff-{co.id}", "title": fa.title, "status": "complete", "procuringEntity": buyer,
        "procurementMethod": CALL_OFF_METHODS[method], "procurementMethodDetails": label(lk, "call_off_method", method),
        "competitive": {"direct": False, "mini_competition": True}.get(method),
        "techniques": {"hasFrameworkAgreement": True},
        "items": [item("1", fa.category.name_en or fa.category.name_lt, [cpv], lk, co.quantity, co.unit,
                       unit_price=co.unit_price)] if cpv else None,
    }
    award = compact({"id": "award", "status": "active", "date": stamp(co.awarded_on), "value": money(co.value),
                     "suppliers": [supplier]})
    contracts = [contract_section(co.contract, "award", parties, lk)] if co.contract is not None else []
    tags = ["award", *contract_tags(contracts)]
    return release(lk, ocid, date, tags, parties, buyer=buyer, tender=tender, awards=[award], contracts=contracts,
                   relatedProcesses=[related("framework", lk.ocid("fa", fa.code), fa.title, 1)])


def contract_release(c: Any, date: dt.datetime, lk: Lookups) -> dict[str, Any]:
    """A contract entered directly (no lot, no call-off): its award and the contract."""
    ocid = lk.ocid("contract", c.id)
    parties = Parties(lk)
    buyer = parties.municipality(c.municipality, "buyer", "procuringEntity")
    award = compact({"id": "award", "status": "active", "date": stamp(c.awarded_on), "value": money(c.value),
                     "suppliers": [parties.supplier(c.supplier, "supplier")]})
    contracts = [contract_section(c, "award", parties, lk)]
    tender = {"id": f"contract-{c.id}", "title": c.title, "status": "complete", "procuringEntity": buyer,
              "mainProcurementCategory": category(c.main_cpv), **reservation(c.reservation.value),
              "hasSustainability": c.reservation.value != "none"}
    return release(lk, ocid, date, ["award", *contract_tags(contracts)], parties, buyer=buyer, tender=tender,
                   awards=[award], contracts=contracts)


BUILDERS = {"plan": plan_release, "framework": framework_release, "tender": tender_release,
            "calloff": call_off_release, "contract": contract_release}


def package(meta: dict[str, Any], releases: list[dict[str, Any]]) -> dict[str, Any]:
    """A release package: the metadata (``services.package_meta``) and the releases."""
    return {**meta, "releases": releases}
