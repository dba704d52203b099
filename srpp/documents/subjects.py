"""What a document is about: a tender, one of its lots, a framework, a call-off, a municipality
or the region. For each: the facts that select clauses, the values derived from the data, and the
data blocks (tables, facts) of its sections.

Builders run inside ``force_locale(document language)``: labels, money and dates come out in
the document's language."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from dateutil.relativedelta import relativedelta
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from srpp.core.i18n import date as fmt_date
from srpp.core.i18n import money, number
from srpp.documents.kinds import Block
from srpp.extensions import db
from srpp.frameworks.models import CallOff, FrameworkAgreement, FrameworkState, ParticipantState
from srpp.orgs.models import Municipality, Region
from srpp.rules.models import ReservationBasis
from srpp.tenders.models import CriterionKind, Lot, LotState, Tender, TenderState


@dataclass
class LotScope:
    """One lot's own facts and values, for the clauses repeated per lot."""

    label: str
    facts: dict[str, Any]
    values: dict[str, Any]


@dataclass
class Subject:
    type: str
    obj: Any
    municipality: Municipality | None
    reference: str
    facts: dict[str, Any] = field(default_factory=dict)
    #: the reserved lots whose clauses repeat per lot
    lots: list[Lot] = field(default_factory=list)

    @property
    def id(self) -> int:
        return self.obj.id


def load(subject_type: str, subject_id: int) -> Subject | None:
    loader = {"tender": _tender, "lot": _lot, "framework": _framework, "call_off": _call_off,
              "municipality": _municipality, "region": _region, "payment_report": _payment_report,
              "impact_year": _impact_year}.get(subject_type)
    return loader(subject_id) if loader else None


def title(subject: Subject) -> str:
    """The subject's name in the current (document) language."""
    o = subject.obj
    return {"tender": lambda: o.title, "lot": lambda: f"{o.tender.title} — {_('Lot %(n)d', n=o.number)}: {o.title}",
            "framework": lambda: f"{o.code} {o.title}",
            "call_off": lambda: _("Order %(ref)s under %(fa)s", ref=subject.reference, fa=o.framework.code),
            "municipality": lambda: o.name, "region": lambda: o.name,
            "payment_report": lambda: _("%(authority)s, %(start)s – %(end)s", authority=o.municipality.name,
                                        start=fmt_date(o.period_start), end=fmt_date(o.period_end)),
            "impact_year": lambda: _impact_title(o)}[subject.type]()


def authority(subject: Subject) -> str:
    if subject.municipality is not None:
        return subject.municipality.name
    region = subject.obj if isinstance(subject.obj, Region) else db.session.scalar(select(Region))
    return region.council_name if region else ""


# --- facts -------------------------------------------------------------------------------------

def lot_scopes(subject: Subject) -> list[LotScope]:
    return [_lot_scope(lot) for lot in subject.lots]


def _lot_scope(lot: Lot) -> LotScope:
    return LotScope(
        label=_("Lot %(n)d: %(title)s", n=lot.number, title=lot.title),
        facts={"reservation": [lot.reservation.value], "category": [lot.category.key],
               "priority_area": [lot.category.priority_area.value]},
        values={"lot_name": f"{lot.number}. {lot.title}", "contract_months": str(lot.duration_months)},
    )


def _tender(tender_id: int) -> Subject | None:
    tender = db.session.get(Tender, tender_id, options=[selectinload(Tender.lots).selectinload(Lot.criteria)])
    if tender is None:
        return None
    framework = db.session.scalar(select(FrameworkAgreement).where(FrameworkAgreement.tender_id == tender.id))
    lots = list(tender.lots)
    facts = {
        "reservation": sorted({lot.reservation.value for lot in lots}),
        "framework": framework is not None,
        "category": sorted({lot.category.key for lot in lots}),
        "priority_area": sorted({lot.category.priority_area.value for lot in lots}),
        "over_12_months": any(lot.duration_months > 12 for lot in lots),
    }
    return Subject("tender", tender, tender.municipality, f"T-{tender.id}", facts,
                   [lot for lot in lots if lot.is_reserved])


def _lot(lot_id: int) -> Subject | None:
    lot = db.session.get(Lot, lot_id)
    if lot is None:
        return None
    facts = {"reservation": [lot.reservation.value], "framework": False, "category": [lot.category.key],
             "priority_area": [lot.category.priority_area.value], "over_12_months": lot.duration_months > 12}
    return Subject("lot", lot, lot.tender.municipality, f"T-{lot.tender_id}/{lot.number}", facts, [lot])


def _months(start: dt.date, end: dt.date) -> int:
    delta = relativedelta(end + dt.timedelta(days=1), start)
    return delta.years * 12 + delta.months + (1 if delta.days else 0)


def _framework(fa_id: int) -> Subject | None:
    fa = db.session.get(FrameworkAgreement, fa_id)
    if fa is None:
        return None
    facts = {"framework": True, "category": [fa.category.key], "priority_area": [fa.category.priority_area.value],
             "over_12_months": _months(fa.start_date, fa.end_date) > 12, "reservation": ["none"]}
    return Subject("framework", fa, fa.coordinator, fa.code, facts)


def _call_off(call_off_id: int) -> Subject | None:
    co = db.session.get(CallOff, call_off_id)
    if co is None:
        return None
    fa = co.framework
    facts = {"framework": True, "category": [fa.category.key], "priority_area": [fa.category.priority_area.value],
             "over_12_months": _months(co.start_date, co.end_date) > 12, "reservation": ["none"]}
    return Subject("call_off", co, co.municipality, f"{fa.code}/{co.id}", facts)


def _municipality(municipality_id: int) -> Subject | None:
    m = db.session.get(Municipality, municipality_id)
    return Subject("municipality", m, m, m.code.upper()) if m else None


def _payment_report(report_id: int) -> Subject | None:
    from srpp.payments.calc import half_year_label
    from srpp.payments.models import PaymentReport

    r = db.session.get(PaymentReport, report_id)
    if r is None:
        return None
    return Subject("payment_report", r, r.municipality, f"{r.municipality.code}-{half_year_label(r.period_start)}")


def _impact_year(year: int) -> Subject | None:
    """The region's annual impact report: the subject id is the year (srpp/kpis/impact.py)."""
    from srpp.kpis import impact

    return impact.load(year)


def _impact_title(obj: Any) -> str:
    from srpp.kpis import impact

    return impact.title(obj)


def _region(region_id: int) -> Subject | None:
    r = db.session.get(Region, region_id)
    return Subject("region", r, None, r.code) if r else None


# --- values derived from the data ----------------------------------------------------------------

def _weights(lots: list[Lot]) -> dict[str, Decimal]:
    """The average weight of each kind of criterion over the lots that have criteria."""
    with_criteria = [lot for lot in lots if lot.criteria]
    if not with_criteria:
        return {}
    out = {}
    for kind in CriterionKind:
        total = sum((c.weight for lot in with_criteria for c in lot.criteria if c.kind == kind), Decimal(0))
        out[kind.value] = (total / len(with_criteria)).quantize(Decimal("1"), ROUND_HALF_UP)
    return out


def _monthly_milestones(months: int) -> list[str]:
    return [
        _("Monthly service fee: the services of each month are invoiced after the monthly service report is "
          "accepted (%(n)d monthly payments)", n=months),
        _("Final payment: after the final report on the contract's social performance conditions is accepted"),
    ]


def derived(subject: Subject) -> dict[str, Any]:
    """Values that come from the data, in the document language (the officer can override them)."""
    o = subject.obj
    out: dict[str, Any] = {}
    if subject.type == "tender":
        lots = list(o.lots)
        out["lot_count"] = str(len(lots))
        out["max_lots"] = str(o.max_lots_per_tenderer) if o.max_lots_per_tenderer else str(len(lots))
        if o.allocation_rule:
            out["allocation_rule"] = o.allocation_rule
        weights = _weights(lots)
        if weights:
            out["price_weight"] = weights["price"]
            out["social_weight"] = weights["social"]
            out["quality_weight"] = weights["quality"]
        if lots:
            out["milestones"] = _monthly_milestones(max(lot.duration_months for lot in lots))
        fa = db.session.scalar(select(FrameworkAgreement).where(FrameworkAgreement.tender_id == o.id))
        if fa is not None:
            out.update(_framework_values(fa))
    elif subject.type == "lot":
        out["milestones"] = _monthly_milestones(o.duration_months)
    elif subject.type == "framework":
        out.update(_framework_values(o))
        out["milestones"] = _monthly_milestones(1)[:1]
    elif subject.type == "call_off":
        out["milestones"] = _monthly_milestones(_months(o.start_date, o.end_date))
    return out


def _framework_values(fa: FrameworkAgreement) -> dict[str, Any]:
    out: dict[str, Any] = {"coordinator_municipality": fa.coordinator.name}
    notices = [p.opt_out_notice_days for p in fa.participants]
    if notices:
        out["notice_days"] = max(notices)
    return out


# --- data blocks -----------------------------------------------------------------------------------

def _basis(reservation: ReservationBasis) -> str:
    return reservation.label if reservation.reserved else "—"


def block_tender_overview(s: Subject) -> list[Block]:
    t: Tender = s.obj
    pairs = [
        (_("Contracting authority"), t.municipality.name),
        (_("Reference"), s.reference),
        (_("Title"), t.title),
        (_("Procedure"), t.procedure.label),
        (_("Estimated value of all lots"), money(t.estimated_value)),
        (_("Tender deadline"), fmt_date(t.submission_deadline, "long") if t.submission_deadline else _("to be set")),
    ]
    if t.mandates:
        pairs.append((_("Also buying for"), ", ".join(m.name for m in t.mandates)))
    blocks = [Block("facts", pairs=pairs)]
    if t.description:
        blocks.append(Block("paragraphs", items=[t.description]))
    return blocks


def block_lots_table(s: Subject) -> list[Block]:
    t: Tender = s.obj
    rows = [[str(lot.number), lot.title, lot.main_cpv,
             ", ".join(x for x in ((lot.place or lot.municipality).name, lot.settlement) if x),
             money(lot.estimated_value), _("%(n)d mo.", n=lot.duration_months), _basis(lot.reservation)]
            for lot in t.lots]
    if not t.lots:
        return [Block("paragraphs", items=[_("The tender has no lots yet.")])]
    blocks = [Block("table", caption=_("Table %(n)s. Lots", n="1"),
                    headers=[_("Lot"), _("Title"), _("CPV"), _("Place"), _("Estimated value"), _("Duration"),
                             _("Reserved for")],
                    rows=rows, numeric=(4,))]
    if len(t.lots) == 1 and t.no_division_reasons:
        blocks.append(Block("paragraphs", items=[_("Why the contract is not divided into lots: %(reasons)s",
                                                   reasons=t.no_division_reasons)]))
    return blocks


def block_criteria_table(s: Subject) -> list[Block]:
    rows = [[str(lot.number), c.name, c.kind.label, number(c.weight, 0) + " %"]
            for lot in s.obj.lots for c in lot.criteria]
    if not rows:
        return [Block("paragraphs", items=[_("Award criteria are set per lot before the tender is published.")])]
    return [Block("table", caption=_("Table %(n)s. Award criteria and weights", n="2"),
                  headers=[_("Lot"), _("Criterion"), _("Kind"), _("Weight")], rows=rows, numeric=(3,))]


def block_payment_table(s: Subject) -> list[Block]:
    rows = []
    for lot in s.obj.lots:
        per_month = (lot.estimated_value / lot.duration_months).quantize(Decimal("0.01"))
        rows.append([str(lot.number), _("monthly, after acceptance of the monthly report"), str(lot.duration_months),
                     money(per_month), money(lot.estimated_value)])
    if not rows:
        return []
    return [Block("table", caption=_("Table %(n)s. Payment schedule (indicative, at the estimated value)", n="3"),
                  headers=[_("Lot"), _("Payment"), _("Payments"), _("Per payment"), _("Total")],
                  rows=rows, numeric=(2, 3, 4))]


def block_lot_facts(s: Subject) -> list[Block]:
    lot: Lot = s.obj
    pairs = [(_("Contracting authority"), lot.tender.municipality.name), (_("Tender"), lot.tender.title),
             (_("Lot"), f"{lot.number}. {lot.title}"), (_("CPV"), lot.main_cpv),
             (_("Estimated value"), money(lot.estimated_value)),
             (_("Duration"), _("%(n)d mo.", n=lot.duration_months)),
             (_("Reserved for"), _basis(lot.reservation))]
    blocks = [Block("facts", pairs=pairs)]
    if lot.description:
        blocks.append(Block("paragraphs", items=[lot.description]))
    return blocks


def block_fa_parties(s: Subject) -> list[Block]:
    fa: FrameworkAgreement = s.obj
    pairs = [(_("Coordinating municipality"), fa.coordinator.name), (_("Framework"), f"{fa.code} {fa.title}"),
             (_("Service"), fa.category.name),
             (_("Term"), f"{fmt_date(fa.start_date)} – {fmt_date(fa.end_date)}"),
             (_("Estimated value"), money(fa.estimated_value)), (_("Maximum value"), money(fa.max_value))]
    blocks = [Block("facts", pairs=pairs)]
    if fa.parties:
        blocks.append(Block("table", caption=_("Suppliers party to the framework"),
                            headers=[_("Supplier"), _("Company code"), _("Joined")],
                            rows=[[p.supplier.legal_name, p.supplier.company_code, fmt_date(p.joined_on)]
                                  for p in fa.parties]))
    return blocks


def block_fa_specification(s: Subject) -> list[Block]:
    fa: FrameworkAgreement = s.obj
    if not fa.spec_versions:
        return [Block("paragraphs", items=[_("The specification is published by the coordinating municipality.")])]
    spec = fa.spec_versions[-1]
    return [Block("paragraphs", items=[_("Specification version %(n)d:", n=spec.number), *spec.specification.splitlines(),
                                       _("Quality standard:"), *spec.quality_standard.splitlines()])]


def block_fa_calloffs(s: Subject) -> list[Block]:
    fa: FrameworkAgreement = s.obj
    items = [_("Call-off method: %(method)s.", method=fa.call_off_method.label)]
    if fa.objective_criteria:
        items.append(_("Objective criteria for choosing the supplier: %(criteria)s", criteria=fa.objective_criteria))
    return [Block("paragraphs", items=items)]


def block_fa_participants(s: Subject) -> list[Block]:
    fa: FrameworkAgreement = s.obj
    rows = []
    for p in fa.participants:
        caps = ", ".join(f"{c.year}: {money(c.cap)}" for c in p.caps) or "—"
        rows.append([p.municipality.name, p.state.label, _("%(n)d days", n=p.opt_out_notice_days), caps])
    if not rows:
        return []
    return [Block("table", caption=_("Participating municipalities and their yearly caps"),
                  headers=[_("Municipality"), _("State"), _("Opt-out notice"), _("Caps")], rows=rows)]


def block_fa_prices(s: Subject) -> list[Block]:
    fa: FrameworkAgreement = s.obj
    if not fa.prices:
        return []
    return [Block("table", caption=_("Price schedule"),
                  headers=[_("Supplier"), _("Item"), _("Unit"), _("Unit price")],
                  rows=[[p.supplier.legal_name, p.item, p.unit, money(p.unit_price)] for p in fa.prices],
                  numeric=(3,))]


def block_order_facts(s: Subject) -> list[Block]:
    co: CallOff = s.obj
    pairs = [(_("Framework"), f"{co.framework.code} {co.framework.title}"), (_("Ordering municipality"),
                                                                              co.municipality.name),
             (_("Supplier"), co.supplier.legal_name), (_("Awarded on"), fmt_date(co.awarded_on)),
             (_("Period"), f"{fmt_date(co.start_date)} – {fmt_date(co.end_date)}"),
             (_("Quantity"), f"{number(co.quantity)} {co.unit}"), (_("Unit price"), money(co.unit_price)),
             (_("Value"), money(co.value)), (_("Budget line"), co.budget_line)]
    return [Block("facts", pairs=pairs)]


def block_note_status(s: Subject) -> list[Block]:
    from srpp.region.services import minimum_share, municipality_summary, percent

    m: Municipality = s.obj
    summary = municipality_summary(m)
    share = summary.share
    pairs = [
        (_("Published 12-month plan"), _("version %(n)d, %(count)d items, %(value)s", n=summary.version.number,
                                         count=summary.item_count, value=money(summary.total_value))
         if summary.version else _("none published")),
        (_("Reserved share of simplified procurement"),
         percent(share.ratio) if share and share.ratio is not None else "—"),
        (_("Minimum share in force"), percent(minimum_share())),
    ]
    fas = db.session.scalars(select(FrameworkAgreement).where(FrameworkAgreement.state != FrameworkState.EXPIRED)
                             .order_by(FrameworkAgreement.code)).all()
    joined = [fa for fa in fas if any(p.municipality_id == m.id and p.state != ParticipantState.WITHDRAWN
                                      for p in fa.participants)]
    pairs.append((_("Framework agreements joined"), ", ".join(fa.code for fa in joined) or "—"))
    if m.contact_email:
        pairs.append((_("SRPP contact"), m.contact_email))
    items = []
    if share is not None and share.below_minimum:
        items.append(_("The reserved share is below the minimum: reserve more lots for social economy "
                       "organisations in the next plan version."))
    return [Block("facts", pairs=pairs), *([Block("paragraphs", items=items)] if items else [])]


def block_note_pipeline(s: Subject) -> list[Block]:
    from srpp.plans.models import ItemState, PlanItem
    from srpp.plans.services import current_published

    m: Municipality = s.obj
    version = current_published(m)
    if version is None:
        return [Block("paragraphs", items=[_("No plan is published yet.")])]
    items = db.session.scalars(select(PlanItem).where(PlanItem.plan_version_id == version.id,
                                                      PlanItem.state != ItemState.CANCELLED)
                               .order_by(PlanItem.launch_month, PlanItem.position)).all()
    rows = [[fmt_date(i.launch_month, "LLLL yyyy"), i.title, money(i.estimated_value), _basis(i.reservation)]
            for i in items[:12]]
    return [Block("table", caption=_("Planned procurements"),
                  headers=[_("Launch"), _("Procurement"), _("Estimated value"), _("Reserved for")],
                  rows=rows, numeric=(2,))]


def block_note_commitments(s: Subject) -> list[Block]:
    return [Block("bullets", items=[
        _("Publish the 12-month procurement plan and keep it up to date, so that social economy organisations "
          "can prepare months ahead."),
        _("Reserve lots for social economy organisations, at least the minimum share of simplified procurement."),
        _("Draft tenders from the region's standard clause library and divide contracts into lots."),
        _("Use the region's framework agreements for specialised services instead of separate small tenders."),
        _("Pay suppliers within 30 days and report late payments."),
    ])]


def block_hb_purpose(s: Subject) -> list[Block]:
    return [Block("paragraphs", items=[
        _("This handbook explains how the municipalities of the region buy social services in a socially "
          "responsible way: predictable plans, reserved lots, shared framework agreements, standard clauses and "
          "payment on time."),
        _("It is generated from the region's live data, so its examples and clauses are always the current ones."),
    ])]


def block_hb_bases(s: Subject) -> list[Block]:
    rows = [[b.label, b.plain_words] for b in ReservationBasis if b.reserved]
    return [Block("table", caption=_("Legal bases"), headers=[_("Basis"), _("Who may take part")], rows=rows)]


def block_hb_examples(s: Subject) -> list[Block]:
    lots = db.session.scalars(
        select(Lot).join(Tender).where(Lot.reservation != ReservationBasis.NONE,
                                       Tender.state != TenderState.CANCELLED, Lot.state != LotState.REPLANNED)
        .order_by(Tender.municipality_id, Lot.tender_id, Lot.number).limit(40)).all()
    if not lots:
        return [Block("paragraphs", items=[_("No reserved lots have been tendered yet.")])]
    rows = [[lot.tender.municipality.short_name, f"{lot.title}", _basis(lot.reservation), money(lot.estimated_value),
             _("%(n)d mo.", n=lot.duration_months), lot.state.label] for lot in lots]
    return [Block("paragraphs", items=[_("Each row is a real reserved lot of the region: the basis chosen, "
                                         "the size of the lot and where it stands.")]),
            Block("table", caption=_("Reserved lots"), headers=[_("Municipality"), _("Lot"), _("Basis"),
                                                                 _("Estimated value"), _("Duration"), _("State")],
                  rows=rows, numeric=(3,))]


def block_hb_frameworks(s: Subject) -> list[Block]:
    fas = db.session.scalars(select(FrameworkAgreement).order_by(FrameworkAgreement.code)).all()
    if not fas:
        return [Block("paragraphs", items=[_("No framework agreements yet.")])]
    rows = [[fa.code, fa.title, fa.coordinator.short_name, str(len(fa.participants)), money(fa.max_value),
             fa.state.label] for fa in fas]
    return [Block("table", caption=_("Framework agreements"),
                  headers=[_("Code"), _("Title"), _("Coordinator"), _("Participants"), _("Maximum value"),
                           _("State")], rows=rows, numeric=(3, 4))]


def block_hb_payment(s: Subject) -> list[Block]:
    return [Block("bullets", items=[
        _("Pay within 30 calendar days of the invoice; a longer term, never above 60 days, needs an objective "
          "justification written into the contract."),
        _("Acceptance or verification takes at most 30 days."),
        _("Late payment: statutory interest (ECB rate plus 8 percentage points) and EUR 40 for each late payment "
          "are due automatically; no clause may waive them."),
        _("Invoices under public contracts are electronic (EN 16931 or the E. sąskaita system)."),
    ])]


def block_hb_catalogue(s: Subject) -> list[Block]:
    from flask_babel import get_locale

    from srpp.clauses.services import current_editions

    lang = "lt" if str(get_locale()) == "lt" else "en"
    rows = [[e.clause.code, str(e.edition), e.title(lang)] for e in current_editions()]
    return [Block("paragraphs", items=[_("Every tender document of the region is assembled from these clauses; "
                                         "the application selects those that apply to each tender.")]),
            Block("table", caption=_("Standard clauses"), headers=[_("Code"), _("Edition"), _("Title")], rows=rows)]


def _pct(value: str | None) -> str:
    from srpp.region.services import percent

    return percent(Decimal(value)) if value is not None else "—"


def _days(value: str | None) -> str:
    return number(Decimal(value), 1) if value is not None else "—"


def block_pr_facts(s: Subject) -> list[Block]:
    r = s.obj
    return [Block("facts", pairs=[
        (_("Contracting authority"), r.municipality.name),
        (_("Reporting period"), f"{fmt_date(r.period_start, 'long')} – {fmt_date(r.period_end, 'long')}"),
        (_("Figures as of"), fmt_date(dt.date.fromisoformat(r.figures["as_of"]), "long")
         if r.figures.get("as_of") else "—"),
    ])]


def block_pr_figures(s: Subject) -> list[Block]:
    f = s.obj.figures
    rows = [
        [_("Invoices paid in the period"), str(f.get("paid_count", 0))],
        [_("Average days to pay"), _days(f.get("avg_days"))],
        [_("Median days to pay"), _days(f.get("median_days"))],
        [_("90th percentile of days to pay"), _days(f.get("p90_days"))],
        [_("Paid within 30 days"), _pct(f.get("share_30"))],
        [_("Paid in 31 to 60 days"), _pct(f.get("share_60"))],
        [_("Paid after 60 days"), _pct(f.get("share_over_60"))],
        [_("Sums due in the period but not paid in it"), _pct(f.get("unpaid_share"))],
        [_("Statutory interest owed"), money(Decimal(f.get("interest", "0")))],
        [_("Fixed compensation owed (EUR 40 per late payment)"), money(Decimal(f.get("compensation", "0")))],
        [_("Work stoppages reported"), str(f.get("stoppages", 0))],
    ]
    return [Block("table", caption=_("Payment performance in the period"), headers=[_("Measure"), _("Value")],
                  rows=rows, numeric=(1,)),
            Block("paragraphs", items=[_("Days to pay count from the day after the invoice was received; a payment "
                                         "counts as made on the day it was paid.")])]


def block_pr_approval(s: Subject) -> list[Block]:
    r = s.obj
    if r.approver_name:
        return [Block("paragraphs", items=[_("This report was approved by %(name)s, %(role)s, on %(day)s.",
                                             name=r.approver_name, role=r.approver_role,
                                             day=fmt_date(r.approved_on, "long"))])]
    return [Block("paragraphs", items=[_("Draft: not yet approved by the finance officer.")])]


BLOCKS = {name[len("block_"):]: fn for name, fn in globals().items() if name.startswith("block_")}


def _impact_block(name: str):
    """The annual impact report's blocks live in srpp/kpis/impact.py (imported when first used)."""

    def build(s: Subject) -> list[Block]:
        from srpp.kpis import impact

        return getattr(impact, f"block_{name}")(s)

    return build


BLOCKS.update({f"ir_{name}": _impact_block(name) for name in ("intro", "overview", "indicators", "trends", "risks",
                                                               "targets")})
