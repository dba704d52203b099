"""The document kinds: each an ordered set of sections (data blocks, then the clauses of some
categories) and a master ``.docx`` in ``clause_library/masters`` that carries styles, header and footer.

Section titles and table headings are gettext strings, rendered in the document's language
(``flask_babel.force_locale``), so the Lithuanian and English documents come from one definition."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from flask_babel import lazy_gettext as _l

MASTERS = Path(__file__).resolve().parent.parent.parent / "clause_library" / "masters"


@dataclass
class Block:
    """A piece of data-driven content placed before a section's clauses."""

    kind: str  # "paragraphs" | "bullets" | "table" | "facts" | "image"
    items: list[str] = field(default_factory=list)
    caption: str = ""
    headers: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    #: columns aligned right (amounts)
    numeric: tuple[int, ...] = ()
    #: for "facts": (label, value) pairs
    pairs: list[tuple[str, str]] = field(default_factory=list)
    #: for "image": the PNG (or ``draw``, a function that makes it when it is first needed: a request that
    #: only checks the document is complete never draws), its text alternative (what the picture shows,
    #: in words) and its width in the file
    image: bytes = b""
    draw: Callable[[], bytes] | None = None
    alt: str = ""
    width_cm: float = 16.0

    @property
    def png(self) -> bytes:
        if not self.image and self.draw is not None:
            self.image = self.draw()
        return self.image

    @property
    def data_uri(self) -> str:
        """The image inline (the HTML preview: the CSP allows ``img-src data:``)."""
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


@dataclass(frozen=True)
class SectionSpec:
    key: str
    title: object  # lazy gettext string
    categories: tuple[str, ...] = ()
    blocks: tuple[str, ...] = ()
    #: the clauses are selected and repeated for each reserved lot (reservation clauses)
    per_lot: bool = False


@dataclass(frozen=True)
class KindSpec:
    key: str
    label: object
    subject_type: str
    master: str
    sections: tuple[SectionSpec, ...]
    #: the permission that lets a user request it, checked on the subject's municipality
    permission: str
    description: object = ""

    @property
    def master_path(self) -> Path:
        return MASTERS / self.master

    @property
    def uses_clauses(self) -> bool:
        return any(s.categories for s in self.sections)


PERFORMANCE = ("performance_conditions", "equality", "referral", "quality", "data_protection", "general")
PAYMENT = ("payment_schedule", "advance_payment", "acceptance", "payment_term", "late_payment", "e_invoicing",
           "penalties")

KINDS: dict[str, KindSpec] = {k.key: k for k in (
    KindSpec(
        "tender_specification", _l("Tender specification"), "tender", "tender.docx",
        (
            SectionSpec("general", _l("General information"), blocks=("tender_overview",)),
            SectionSpec("lots", _l("Subject matter and lots"), ("lots",), blocks=("lots_table",)),
            SectionSpec("reservation", _l("Reserved participation"), ("reservation",), per_lot=True),
            SectionSpec("participation", _l("Consortia and subcontracting"), ("consortium",)),
            SectionSpec("award", _l("Award criteria"), ("award_criteria",), blocks=("criteria_table",)),
            SectionSpec("performance", _l("Contract performance"), PERFORMANCE),
            SectionSpec("prices", _l("Multi-year contracts and prices"), ("multi_year", "indexation")),
            SectionSpec("payment", _l("Payment"), PAYMENT, blocks=("payment_table",)),
            SectionSpec("framework", _l("Framework agreement"), ("framework", "opt_out", "specification")),
        ),
        "tender.edit",
        _l("The whole tender with all its lots: lots table, award criteria, payment schedule and the standard "
           "clauses that apply."),
    ),
    KindSpec(
        "reserved_lot_notice", _l("Reserved-lot notice text"), "lot", "tender.docx",
        (
            SectionSpec("lot", _l("The reserved lot"), blocks=("lot_facts",)),
            SectionSpec("reservation", _l("Reserved participation"), ("reservation",), per_lot=True),
        ),
        "tender.edit",
        _l("The text of one reserved lot for the contract notice, with the legal basis cited."),
    ),
    KindSpec(
        "framework_agreement", _l("Framework agreement"), "framework", "agreement.docx",
        (
            SectionSpec("parties", _l("Parties"), blocks=("fa_parties",)),
            SectionSpec("subject", _l("Subject matter and specification"), ("specification",),
                        blocks=("fa_specification",)),
            SectionSpec("calloffs", _l("Call-offs"), ("framework",), blocks=("fa_calloffs",)),
            SectionSpec("participation", _l("Participating municipalities and opt-out"), ("opt_out",),
                        blocks=("fa_participants",)),
            SectionSpec("suppliers", _l("Consortia and subcontracting"), ("consortium",)),
            SectionSpec("prices", _l("Prices"), ("multi_year", "indexation"), blocks=("fa_prices",)),
            SectionSpec("performance", _l("Contract performance"), PERFORMANCE),
            SectionSpec("payment", _l("Payment"), PAYMENT),
        ),
        "framework.manage",
        _l("The inter-municipal framework agreement: parties, caps, prices, call-off and opt-out rules."),
    ),
    KindSpec(
        "call_off_order", _l("Call-off order"), "call_off", "agreement.docx",
        (
            SectionSpec("order", _l("The order"), blocks=("order_facts",)),
            # SUBCONTRACTING (category "consortium") applies to call-off orders too
            SectionSpec("performance", _l("Contract performance"), (*PERFORMANCE, "consortium")),
            SectionSpec("prices", _l("Multi-year contracts and prices"), ("multi_year", "indexation")),
            SectionSpec("payment", _l("Payment"), PAYMENT),
        ),
        "calloff.place",
        _l("The order placed under a framework agreement, with its terms."),
    ),
    KindSpec(
        "implementation_note", _l("Municipal SRPP implementation note"), "municipality", "guidance.docx",
        (
            SectionSpec("status", _l("Where we stand"), blocks=("note_status",)),
            SectionSpec("pipeline", _l("The next twelve months"), blocks=("note_pipeline",)),
            SectionSpec("commitments", _l("What we commit to"), blocks=("note_commitments",)),
        ),
        "document.municipal",
        _l("One page for the municipality: its plan, reserved share, frameworks and commitments."),
    ),
    KindSpec(
        "handbook", _l("Regional SRPP handbook"), "region", "guidance.docx",
        (
            SectionSpec("purpose", _l("Purpose of this handbook"), blocks=("hb_purpose",)),
            SectionSpec("bases", _l("Legal bases for reserving contracts"), blocks=("hb_bases",)),
            SectionSpec("examples", _l("Worked examples: reserved lots in the region"), blocks=("hb_examples",)),
            SectionSpec("frameworks", _l("Shared services through framework agreements"),
                        blocks=("hb_frameworks",)),
            SectionSpec("payment", _l("Paying suppliers on time"), blocks=("hb_payment",)),
            SectionSpec("clauses", _l("The standard clauses"), blocks=("hb_catalogue",)),
        ),
        "document.regional",
        _l("The region-wide handbook, with worked examples of reserved lots from the region's data."),
    ),
    KindSpec(
        "payment_report", _l("Payment compliance report"), "payment_report", "guidance.docx",
        (
            SectionSpec("period", _l("Reporting period and contracting authority"), blocks=("pr_facts",)),
            SectionSpec("figures", _l("Payment performance"), blocks=("pr_figures",)),
            SectionSpec("approval", _l("Approval"), blocks=("pr_approval",)),
        ),
        "report.prepare",
        _l("The municipality's half-yearly payment compliance report (modelled on the UK payment compliance "
           "notice)."),
    ),
    KindSpec(
        "impact_report", _l("Annual impact report"), "impact_year", "guidance.docx",
        (
            SectionSpec("year", _l("The year at a glance"), blocks=("ir_intro", "ir_overview")),
            SectionSpec("indicators", _l("Indicators by group"), blocks=("ir_indicators",)),
            SectionSpec("trends", _l("Trends and comparisons"), blocks=("ir_trends",)),
            SectionSpec("risks", _l("Risk summary"), blocks=("ir_risks",)),
            SectionSpec("targets", _l("Programme targets reached"), blocks=("ir_targets",)),
        ),
        "impact.report",
        _l("The region's annual public impact report: the common indicators by group with charts, the risk "
           "summary and the programme targets reached."),
    ),
)}

#: which kinds a subject can produce
BY_SUBJECT: dict[str, list[str]] = {}
for _kind in KINDS.values():
    BY_SUBJECT.setdefault(_kind.subject_type, []).append(_kind.key)

BlockBuilder = Callable[..., list[Block]]
