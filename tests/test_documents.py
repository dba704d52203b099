"""Tender documents: which clauses a subject gets (table-driven, real demo subjects and synthetic
facts), numbering and cross-references, the values (defaults, data, entered, legal limits), the
generated .docx reopened with python-docx, escaping, idempotent workers, permissions, expiry,
retry, PDF without LibreOffice, and every demo subject producing its documents."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
from decimal import Decimal

import docx
import pytest
from sqlalchemy import func, select

from srpp.auth.models import User
from srpp.clauses import services as clause_services
from srpp.clauses.library import LIBRARY, applies, load_library
from srpp.core.db import utcnow
from srpp.core.errors import DomainError
from srpp.core.models import JobRun, JobState
from srpp.core.permissions import PermissionDenied
from srpp.documents import assembly, services, subjects
from srpp.documents.kinds import KINDS
from srpp.documents.models import DocumentFile, GeneratedDocument
from srpp.documents.render import RenderError, render_docx
from srpp.frameworks.models import FrameworkAgreement
from srpp.orgs.models import Municipality, Region
from srpp.tenders.models import Lot, Tender

ADMIN = "admin@demo.srpp.lt"
COUNCIL = "council@demo.srpp.lt"
SEO = "seo@demo.srpp.lt"
OFFICER_PAS = "officer.pas@demo.srpp.lt"
OFFICER_ROK = "officer.rok@demo.srpp.lt"

# demo tenders, by title
PACKAGE = "Pagalbos į namus ir mobilumo paketas"  # PAS; lots 1-2 res-ws, lot 3 none; BUNDLE_CARE_MOB; 24 months
DEMENTIA = "Demencijos dienos centro ir atokvėpio paslaugos"  # PAN-C; lots 1 and 3 res-pub-ser; 24 months
WORKSHOPS = "Socialinės dirbtuvės ir darbo integracijos vietos"  # PAN-C; lots 1-3 res-ws, lot 4 lt-23-1-5
PALLIATIVE = "Paliatyvioji pagalba namuose"  # PAN-C; nothing reserved
KUP_DEMENTIA = "Demencijos dienos priežiūra Kupiškio rajone"  # KUP; res-pub-ser; 12-month lots

#: the only value without a default or a source in the data
UNIT = {"social_services_unit": "Socialinių paslaugų skyrius"}
FRAMEWORK_CODES = {"FRAMEWORK-CALL-OFF", "FRAMEWORK-OPT-OUT", "FRAMEWORK-SPEC-UPDATES"}
RESERVATION_CODES = {"RES-ART20", "RES-ART77", "RES-EXECUTION", "RES-LT-23-1-3", "RES-LT-23-1-4", "RES-LT-23-1-5"}
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


# --- helpers -------------------------------------------------------------------------------------

def _user(ctx, email: str) -> User:
    user = ctx.scalar(select(User).where(User.email == email))
    assert user is not None, email
    return user


def _tender(ctx, title: str) -> Tender:
    tender = ctx.scalar(select(Tender).where(Tender.title == title))
    assert tender is not None, title
    return tender


def _load(ctx, spec: tuple) -> subjects.Subject:
    """A demo subject from a readable spec: ("tender", title), ("lot", tender title, number),
    ("framework", code), ("municipality", code), ("region",)."""
    kind = spec[0]
    if kind == "tender":
        obj_id = _tender(ctx, spec[1]).id
    elif kind == "lot":
        obj_id = ctx.scalar(select(Lot.id).where(Lot.tender_id == _tender(ctx, spec[1]).id, Lot.number == spec[2]))
    elif kind == "framework":
        obj_id = ctx.scalar(select(FrameworkAgreement.id).where(FrameworkAgreement.code == spec[1]))
    elif kind == "municipality":
        obj_id = ctx.scalar(select(Municipality.id).where(Municipality.code == spec[1]))
    else:
        obj_id = ctx.scalar(select(Region.id))
    subject = subjects.load(kind, obj_id)
    assert subject is not None, spec
    return subject


def _codes(asm: assembly.Assembly) -> list[str]:
    return [c.edition.clause.code for s in asm.sections for c in s.clauses]


def _clause(asm: assembly.Assembly, code: str) -> assembly.ClauseOut:
    found = [c for s in asm.sections for c in s.clauses if c.edition.clause.code == code]
    assert len(found) == 1, (code, _codes(asm))
    return found[0]


def _text(clause: assembly.ClauseOut) -> str:
    return "\n".join(p.text for p in clause.paragraphs)


def _field(asm: assembly.Assembly, name: str) -> assembly.VariableField:
    return next(f for f in asm.fields if f.name == name)


def _request(ctx, email: str = OFFICER_PAS, title: str = PACKAGE, lang: str = "en",
             entered: dict | None = None, options: dict | None = None) -> GeneratedDocument:
    subject = _load(ctx, ("tender", title))
    doc = services.request_document(_user(ctx, email), KINDS["tender_specification"], subject, lang,
                                    UNIT if entered is None else entered, options)
    ctx.expire_all()  # the (eager) worker ran in a session of its own
    return doc


def _count(ctx, model, *where) -> int:
    return ctx.scalar(select(func.count()).select_from(model).where(*where))


def _files(ctx, doc: GeneratedDocument, fmt: str = "docx") -> list[DocumentFile]:
    return list(ctx.scalars(select(DocumentFile).where(DocumentFile.document_id == doc.id,
                                                       DocumentFile.format == fmt)))


def _open(content: bytes):
    return docx.Document(io.BytesIO(content))


def _all_text(document) -> str:
    """Body paragraphs, table cells, headers and footers."""
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts += [cell.text for cell in row.cells]
    for section in document.sections:
        parts += [p.text for p in section.header.paragraphs] + [p.text for p in section.footer.paragraphs]
    return "\n".join(parts)


def _styled(document, style: str) -> list[str]:
    return [p.text for p in document.paragraphs if p.style.name == style]


def _table(document, first_header: str, second_header: str):
    for table in document.tables:
        cells = [c.text for c in table.rows[0].cells]
        if cells[:2] == [first_header, second_header]:
            return table
    raise AssertionError(f"no table with headers {first_header!r}, {second_header!r}")


# --- 1. selection ------------------------------------------------------------------------------------

BASE_FACTS = {"reservation": ["none"], "framework": False, "category": ["HOME_CARE"], "priority_area": ["LTC"],
              "over_12_months": False, "advance_payment": False}

TENDER_BASELINE = {"LOT-ALLOCATION", "LOT-DIVISION", "CONSORTIUM", "SUBCONTRACTING", "AWARD-CONTINUITY",
                   "AWARD-SOCIAL-VALUE", "PERF-SOCIAL-CONDITIONS", "EQUALITY-PLAN", "REFERRAL-PATHWAY",
                   "QA-CORRECTIVE", "DATA-PROTECTION", "WORK-STOPPAGE", "PAYMENT-SCHEDULE", "ACCEPTANCE-PERIOD",
                   "PAYMENT-TERM", "LATE-PAYMENT", "E-INVOICING", "PENALTIES-BONUSES"}


def _selected(kind_key: str, facts: dict) -> set[str]:
    kind = KINDS[kind_key]
    pool = clause_services.current_editions()
    return {e.clause.code for s in kind.sections if s.categories
            for e in assembly.select_editions(kind, s, {**BASE_FACTS, **facts}, pool)}


SYNTHETIC = [
    # (kind, facts over BASE_FACTS, must include, must exclude)
    ("tender_specification", {"reservation": ["none", "res-ws"]}, {"RES-ART20", "RES-EXECUTION"},
     RESERVATION_CODES - {"RES-ART20", "RES-EXECUTION"}),
    ("tender_specification", {"reservation": ["res-pub-ser"]}, {"RES-ART77"},
     RESERVATION_CODES - {"RES-ART77"}),
    ("tender_specification", {"reservation": ["lt-23-1-4"]}, {"RES-LT-23-1-4"},
     RESERVATION_CODES - {"RES-LT-23-1-4"}),
    ("tender_specification", {}, set(), RESERVATION_CODES | FRAMEWORK_CODES),
    ("tender_specification", {"framework": True}, FRAMEWORK_CODES, set()),
    ("tender_specification", {"advance_payment": True}, {"ADVANCE-PAYMENT"}, set()),
    ("tender_specification", {"advance_payment": False}, set(), {"ADVANCE-PAYMENT"}),
    ("tender_specification", {"over_12_months": True}, {"MULTI-YEAR", "PRICE-INDEXATION"}, set()),
    ("tender_specification", {"over_12_months": False}, set(), {"MULTI-YEAR", "PRICE-INDEXATION"}),
    ("tender_specification", {"category": ["ETICKET"]}, {"DPIA"}, {"AWARD-CONTINUITY"}),
    ("tender_specification", {"category": ["NAVIGATOR"]}, {"DPIA", "AWARD-CONTINUITY"}, set()),
    ("tender_specification", {"category": ["DRT"]}, set(), {"DPIA", "AWARD-CONTINUITY", "BUNDLE-SERVICES"}),
    ("tender_specification", {"category": ["DRT", "ETICKET"]}, {"DPIA"}, set()),
    ("tender_specification", {"category": ["BUNDLE_HOUS_TEN"]}, {"BUNDLE-SERVICES"}, {"DPIA"}),
    ("framework_agreement", {"framework": True, "over_12_months": True},
     FRAMEWORK_CODES | {"CONSORTIUM", "MULTI-YEAR", "PRICE-INDEXATION", "QA-CORRECTIVE"},
     RESERVATION_CODES | {"AWARD-CONTINUITY", "AWARD-SOCIAL-VALUE", "LOT-ALLOCATION", "LOT-DIVISION"}),
    ("call_off_order", {"framework": True},
     {"SUBCONTRACTING", "PAYMENT-TERM", "LATE-PAYMENT", "REFERRAL-PATHWAY"},
     FRAMEWORK_CODES | {"CONSORTIUM", "EQUALITY-PLAN", "QA-CORRECTIVE", "AWARD-SOCIAL-VALUE"}),
]


@pytest.mark.parametrize(("kind", "facts", "included", "excluded"), SYNTHETIC)
def test_selection_by_synthetic_facts(ctx, kind, facts, included, excluded):
    chosen = _selected(kind, facts)
    assert included <= chosen, included - chosen
    assert not (excluded & chosen), excluded & chosen


def test_a_plain_tender_gets_exactly_the_baseline_clauses(ctx):
    assert _selected("tender_specification", {}) == TENDER_BASELINE


def test_every_clause_can_reach_each_document_it_names(ctx):
    """A clause whose conditions name a document must have a section of its category there,
    or it is silently never selected."""
    unreachable = []
    for clause in load_library(LIBRARY)[0]:
        for kind_key in clause.applies_when.get("document", list(KINDS)):
            categories = {c for s in KINDS[kind_key].sections for c in s.categories}
            if categories and clause.category not in categories:
                unreachable.append(f"{clause.code} ({clause.category}) in {kind_key}")
    assert unreachable == []


def test_a_real_call_off_order_gets_subcontracting(ctx):
    from srpp.frameworks.models import CallOff

    call_off = ctx.scalar(select(CallOff).order_by(CallOff.id))
    asm = assembly.assemble("call_off_order", subjects.load("call_off", call_off.id), "en", UNIT)
    codes = _codes(asm)
    assert "SUBCONTRACTING" in codes and "PAYMENT-TERM" in codes
    assert not ({"CONSORTIUM", "EQUALITY-PLAN", "QA-CORRECTIVE"} | FRAMEWORK_CODES) & set(codes)
    _assert_numbered(asm)


EXACT = [
    ("reserved_lot_notice", {"reservation": ["res-ws"], "over_12_months": True, "advance_payment": True,
                             "framework": True, "category": ["ETICKET"]}, {"RES-ART20", "RES-EXECUTION"}),
    ("reserved_lot_notice", {"reservation": ["res-pub-ser"], "over_12_months": True}, {"RES-ART77"}),
    ("reserved_lot_notice", {"reservation": ["lt-23-1-3"]}, {"RES-LT-23-1-3"}),
    ("reserved_lot_notice", {"reservation": ["none"]}, set()),
    ("implementation_note", {"reservation": ["res-ws"], "over_12_months": True}, set()),
    ("handbook", {"framework": True, "advance_payment": True}, set()),
]


@pytest.mark.parametrize(("kind", "facts", "expected"), EXACT)
def test_selection_exact_sets(ctx, kind, facts, expected):
    assert _selected(kind, facts) == expected


LIBRARY_APPLIES = [
    ("RES-ART20", {"reservation": ["none", "res-ws"], "document": ["tender_specification"]}, True),
    ("RES-ART20", {"reservation": ["res-pub-ser"], "document": ["tender_specification"]}, False),
    ("RES-ART20", {"reservation": ["res-ws"], "document": ["framework_agreement"]}, False),
    ("RES-ART77", {"reservation": ["res-pub-ser"], "document": ["reserved_lot_notice"]}, True),
    ("FRAMEWORK-CALL-OFF", {"framework": True, "document": ["framework_agreement"]}, True),
    ("FRAMEWORK-CALL-OFF", {"framework": False, "document": ["tender_specification"]}, False),
    ("FRAMEWORK-CALL-OFF", {"document": ["tender_specification"]}, False),  # an absent fact is false
    ("ADVANCE-PAYMENT", {"advance_payment": True, "document": ["call_off_order"]}, True),
    ("ADVANCE-PAYMENT", {"document": ["call_off_order"]}, False),
    ("MULTI-YEAR", {"over_12_months": True, "document": ["tender_specification"]}, True),
    ("MULTI-YEAR", {"over_12_months": False, "document": ["tender_specification"]}, False),
    ("DPIA", {"category": ["ETICKET"], "document": ["framework_agreement"]}, True),
    ("DPIA", {"category": ["NAVIGATOR", "DRT"], "document": ["tender_specification"]}, True),
    ("DPIA", {"category": ["DRT"], "document": ["tender_specification"]}, False),
    ("DPIA", {"category": ["ETICKET"], "document": ["handbook"]}, False),
    ("LATE-PAYMENT", {"document": ["call_off_order"]}, True),
    ("LATE-PAYMENT", {"document": ["implementation_note"]}, False),
]


@pytest.mark.parametrize(("code", "facts", "expected"), LIBRARY_APPLIES)
def test_library_applies(code, facts, expected):
    clauses = {c.code: c for c in load_library(LIBRARY)[0]}
    assert applies(clauses[code], facts) is expected


REAL = [
    # (subject, kind, must include, must exclude)
    (("tender", WORKSHOPS), "tender_specification", {"RES-ART20", "RES-EXECUTION", "RES-LT-23-1-5"},
     {"RES-ART77", "ADVANCE-PAYMENT", "DPIA"} | FRAMEWORK_CODES),
    (("tender", DEMENTIA), "tender_specification", {"RES-ART77", "MULTI-YEAR", "PRICE-INDEXATION"},
     {"RES-ART20", "RES-EXECUTION", "RES-LT-23-1-5"} | FRAMEWORK_CODES),
    (("tender", PALLIATIVE), "tender_specification", {"AWARD-CONTINUITY", "PAYMENT-TERM"}, RESERVATION_CODES),
    (("tender", KUP_DEMENTIA), "tender_specification", {"RES-ART77"}, {"MULTI-YEAR", "PRICE-INDEXATION"}),
    (("tender", PACKAGE), "tender_specification", {"BUNDLE-SERVICES", "AWARD-CONTINUITY", "RES-ART20"},
     {"DPIA", "RES-ART77"} | FRAMEWORK_CODES),
    (("framework", "FA-MOB-DRT-2026"), "framework_agreement", FRAMEWORK_CODES | {"CONSORTIUM", "MULTI-YEAR"},
     RESERVATION_CODES | {"AWARD-SOCIAL-VALUE", "AWARD-CONTINUITY", "LOT-DIVISION", "ADVANCE-PAYMENT"}),
]


@pytest.mark.parametrize(("spec", "kind", "included", "excluded"), REAL)
def test_selection_for_demo_subjects(ctx, spec, kind, included, excluded):
    asm = assembly.assemble(kind, _load(ctx, spec), "en", UNIT)
    chosen = set(_codes(asm))
    assert included <= chosen, included - chosen
    assert not (excluded & chosen), excluded & chosen
    assert {e.clause.code for e in asm.editions} == chosen


REAL_EXACT = [
    (("lot", WORKSHOPS, 1), "reserved_lot_notice", ["RES-ART20", "RES-EXECUTION"]),
    (("lot", WORKSHOPS, 4), "reserved_lot_notice", ["RES-LT-23-1-5"]),
    (("lot", DEMENTIA, 1), "reserved_lot_notice", ["RES-ART77"]),
    (("municipality", "PAS"), "implementation_note", []),
    (("region",), "handbook", []),
]


@pytest.mark.parametrize(("spec", "kind", "expected"), REAL_EXACT)
def test_exact_clauses_of_notices_notes_and_handbook(ctx, spec, kind, expected):
    asm = assembly.assemble(kind, _load(ctx, spec), "en", options={"advance_payment": True})
    assert _codes(asm) == expected
    assert asm.clause_count() == len(expected)
    if not expected:
        assert asm.editions == [] and asm.fields == [] and asm.ready
        assert asm.sections and all(s.blocks for s in asm.sections)  # data only


def test_advance_payment_only_when_the_option_is_set(ctx):
    subject = _load(ctx, ("tender", PACKAGE))
    without = assembly.assemble("tender_specification", subject, "en", UNIT)
    with_advance = assembly.assemble("tender_specification", subject, "en", UNIT, {"advance_payment": True})
    assert "ADVANCE-PAYMENT" not in _codes(without)
    assert "advance_percent" not in {f.name for f in without.fields}
    advance = _clause(with_advance, "ADVANCE-PAYMENT")
    assert "an advance of 10 %" in _text(advance)  # the regional default
    assert _field(with_advance, "advance_percent").source == "default"
    # it sits in the payment section, after the schedule
    payment = next(s for s in with_advance.sections if s.key == "payment")
    assert [c.edition.clause.code for c in payment.clauses][:2] == ["PAYMENT-SCHEDULE", "ADVANCE-PAYMENT"]


# --- 2. numbering and cross-references -----------------------------------------------------------------

def _assert_numbered(asm: assembly.Assembly) -> None:
    assert [s.number for s in asm.sections] == list(range(1, len(asm.sections) + 1))
    for s in asm.sections:
        assert s.blocks or s.clauses, f"empty section {s.key} kept"
        assert [c.number for c in s.clauses] == [f"{s.number}.{i}" for i in range(1, len(s.clauses) + 1)]


def test_sections_are_numbered_consecutively_and_clauses_restart(ctx):
    asm = assembly.assemble("tender_specification", _load(ctx, ("tender", WORKSHOPS)), "en", UNIT)
    _assert_numbered(asm)
    assert [s.key for s in asm.sections] == ["general", "lots", "reservation", "participation", "award",
                                             "performance", "prices", "payment"]  # no framework section
    by_key = {s.key: s for s in asm.sections}
    assert [c.number for c in by_key["lots"].clauses] == ["2.1", "2.2"]
    assert by_key["participation"].clauses[0].number == "4.1"
    assert _clause(asm, "CONSORTIUM").number == "4.1"


def test_an_empty_section_is_dropped_and_the_rest_renumbered(ctx):
    asm = assembly.assemble("tender_specification", _load(ctx, ("tender", PALLIATIVE)), "en", UNIT)
    _assert_numbered(asm)
    assert [s.key for s in asm.sections] == ["general", "lots", "participation", "award", "performance",
                                             "prices", "payment"]
    assert _clause(asm, "CONSORTIUM").number == "3.1"
    assert [s.title for s in asm.sections][2] == "Consortia and subcontracting"


def test_reservation_clauses_repeat_per_reserved_lot(ctx):
    tender = _tender(ctx, WORKSHOPS)
    asm = assembly.assemble("tender_specification", _load(ctx, ("tender", WORKSHOPS)), "en", UNIT)
    section = next(s for s in asm.sections if s.key == "reservation")
    lots = {lot.number: lot.title for lot in tender.lots}
    expected = []
    for n, codes in ((1, ["RES-ART20", "RES-EXECUTION"]), (2, ["RES-ART20", "RES-EXECUTION"]),
                     (3, ["RES-ART20", "RES-EXECUTION"]), (4, ["RES-LT-23-1-5"])):
        expected += [(code, f"Lot {n}: {lots[n]}") for code in codes]
    assert [(c.edition.clause.code, c.scope) for c in section.clauses] == expected
    assert [c.number for c in section.clauses] == [f"3.{i}" for i in range(1, 8)]
    # the lot's own name goes into the clause, not a form field
    art20 = [c for c in section.clauses if c.edition.clause.code == "RES-ART20"]
    for clause, n in zip(art20, (1, 2, 3), strict=True):
        assert f"lot “{n}. {lots[n]}”" in _text(clause)
    assert "lot_name" not in {f.name for f in asm.fields}
    # an unreserved clause has no scope
    assert _clause(asm, "CONSORTIUM").scope is None


def test_the_lots_own_duration_fills_art77(ctx):
    asm = assembly.assemble("tender_specification", _load(ctx, ("tender", KUP_DEMENTIA)), "en", UNIT)
    section = next(s for s in asm.sections if s.key == "reservation")
    assert [c.edition.clause.code for c in section.clauses] == ["RES-ART77", "RES-ART77"]
    for clause in section.clauses:
        assert "The Contract runs for 12 months" in _text(clause)
    assert "contract_months" not in {f.name for f in asm.fields}


@pytest.mark.parametrize(("lang", "acceptance_ref", "payment_ref"), [
    ("en", "(clause {n})", "set in clause {n} until"),
    ("lt", "({n} punktas)", "po {n} punkte"),
])
def test_cross_references_use_the_numbers_in_the_document(ctx, lang, acceptance_ref, payment_ref):
    asm = assembly.assemble("tender_specification", _load(ctx, ("tender", DEMENTIA)), lang, UNIT)
    acceptance, term, late = (_clause(asm, c) for c in ("ACCEPTANCE-PERIOD", "PAYMENT-TERM", "LATE-PAYMENT"))
    payment = next(s for s in asm.sections if s.key == "payment")
    assert {acceptance.number, term.number, late.number} <= {c.number for c in payment.clauses}
    assert len({acceptance.number, term.number, late.number}) == 3
    assert acceptance_ref.format(n=acceptance.number) in _text(term)
    assert payment_ref.format(n=term.number) in _text(late)
    assert "ref(" not in _text(term) and "ACCEPTANCE-PERIOD" not in _text(term)


def _drop_acceptance(ctx):
    """Make ACCEPTANCE-PERIOD apply to call-off orders only (an unused edition may change)."""
    edition = next(e for e in clause_services.current_editions() if e.clause.code == "ACCEPTANCE-PERIOD")
    assert edition.first_used_at is None
    edition.applies_when = {"document": ["call_off_order"]}
    ctx.flush()


def test_a_reference_to_an_absent_clause_shows_its_title(ctx):
    subject = _load(ctx, ("tender", DEMENTIA))
    acceptance_number = _clause(assembly.assemble("tender_specification", subject, "en", UNIT),
                                "ACCEPTANCE-PERIOD").number
    _drop_acceptance(ctx)
    en = assembly.assemble("tender_specification", subject, "en", UNIT)
    lt = assembly.assemble("tender_specification", subject, "lt", UNIT)
    assert "ACCEPTANCE-PERIOD" not in _codes(en)
    assert "(clause “Acceptance and verification period”)" in _text(_clause(en, "PAYMENT-TERM"))
    assert "(„Paslaugų patikrinimo ir priėmimo terminas“ punktas)" in _text(_clause(lt, "PAYMENT-TERM"))
    # the numbers after it moved up, and the reference follows
    assert _clause(en, "PAYMENT-TERM").number == acceptance_number
    assert f"set in clause {acceptance_number} until" in _text(_clause(en, "LATE-PAYMENT"))


def test_the_generated_file_shows_the_same_reference_as_the_preview(ctx):
    """The worker assembles from the editions recorded at request time; a reference to a clause
    that is not among them must still read as the preview did (its title)."""
    _drop_acceptance(ctx)
    doc = _request(ctx, email="officer.pan-c@demo.srpp.lt", title=DEMENTIA)
    assert doc.state == JobState.DONE, doc.job.error
    text = _all_text(_open(services.content(doc, "docx")))
    assert "(clause “Acceptance and verification period”)" in text
    assert "“ACCEPTANCE-PERIOD”" not in text


# --- 3. values -----------------------------------------------------------------------------------------

def test_defaults_and_values_from_the_data(ctx):
    en = assembly.assemble("tender_specification", _load(ctx, ("tender", DEMENTIA)), "en")
    lt = assembly.assemble("tender_specification", _load(ctx, ("tender", DEMENTIA)), "lt")
    expected = {"acceptance_days": ("default", "15"), "payment_days": ("default", "30"),
                "penalty_percent_per_day": ("default", "0.05"), "lot_count": ("derived", "3"),
                "max_lots": ("derived", "3"), "price_weight": ("derived", "60"), "social_weight": ("derived", "25"),
                "quality_weight": ("derived", "15")}
    for name, (source, raw) in expected.items():
        f = _field(en, name)
        assert (f.source, f.raw) == (source, raw), name
    assert _field(en, "milestones").raw.splitlines()[0].endswith("(24 monthly payments)")
    # text defaults come in the document's language
    assert _field(en, "data_categories").raw.startswith("recipients' names")
    assert _field(lt, "data_categories").raw.startswith("paslaugų gavėjų vardai")
    # and fill the clauses
    assert "within 15 calendar days of receiving them" in _text(_clause(en, "ACCEPTANCE-PERIOD"))
    assert "price – 60 %, social value – 25 %, service quality – 15 %" in _text(_clause(en, "AWARD-SOCIAL-VALUE"))
    assert "0,05" in _text(_clause(lt, "PENALTIES-BONUSES"))  # Lithuanian decimal comma
    # an entered value overrides a default
    entered = assembly.assemble("tender_specification", _load(ctx, ("tender", DEMENTIA)), "en",
                                {"acceptance_days": "20"})
    assert (_field(entered, "acceptance_days").source, _field(entered, "acceptance_days").raw) == ("entered", "20")
    assert "within 20 calendar days of receiving them" in _text(_clause(entered, "ACCEPTANCE-PERIOD"))


def test_a_missing_value_blocks_the_request_and_creates_nothing(ctx):
    subject = _load(ctx, ("tender", PACKAGE))
    asm = assembly.assemble("tender_specification", subject, "en")
    assert asm.missing == ["social_services_unit"]
    assert not asm.ready
    assert asm.fields[0].name == "social_services_unit"  # missing values come first on the form
    referral = _clause(asm, "REFERRAL-PATHWAY")
    assert referral.missing == ["social_services_unit"]
    assert (True, "social_services_unit") in [p for para in referral.paragraphs for p in para.parts]
    with pytest.raises(RenderError, match="social_services_unit"):
        render_docx(asm, "now")
    before = (_count(ctx, GeneratedDocument), _count(ctx, JobRun), _count(ctx, DocumentFile))
    with pytest.raises(services.DocumentRefused) as refused:
        services.request_document(_user(ctx, OFFICER_PAS), KINDS["tender_specification"], subject, "en", {})
    assert "social_services_unit" in refused.value.message
    assert refused.value.assembly.missing == ["social_services_unit"]
    assert (_count(ctx, GeneratedDocument), _count(ctx, JobRun), _count(ctx, DocumentFile)) == before


PARSE_ERRORS = [
    ("days", "abc", "whole number of days"),
    ("days", "-1", "whole number of days"),
    ("days", "1.5", "whole number of days"),
    ("percentage", "150", "at most 100"),
    ("percentage", "abc", "Enter a number"),
    ("percentage", "-3", "not negative"),
    ("money", "NaN", "not negative"),
    ("date", "2026-13-01", "YYYY-MM-DD"),
    ("date", "01.02.2026", "YYYY-MM-DD"),
    ("list", " \n - \n", "at least one line"),
    ("text", "   ", "Enter a value"),
    ("text", "x" * 2001, "under 2000"),
]


@pytest.mark.parametrize(("kind", "raw", "message"), PARSE_ERRORS)
def test_parse_refuses_values_that_do_not_fit(ctx, kind, raw, message):
    with pytest.raises(assembly.BadValue, match=message):
        assembly.parse(kind, raw)


PARSE_OK = [
    ("days", " 45 ", 45),
    ("percentage", "12,5", Decimal("12.5")),
    ("percentage", "100", Decimal("100")),
    ("money", "1 234,50", Decimal("1234.50")),
    ("date", "2026-02-28", dt.date(2026, 2, 28)),
    ("list", "- first\n• second\n\n third ", ["first", "second", "third"]),
    ("text", "  Skyrius  ", "Skyrius"),
]


@pytest.mark.parametrize(("kind", "raw", "value"), PARSE_OK)
def test_parse_accepts_good_values(ctx, kind, raw, value):
    assert assembly.parse(kind, raw) == value


LEGAL = [
    # (entered, expected errors by variable)
    ({}, {}),
    ({"payment_days": "61"}, {"payment_days": "never exceed 60 days"}),
    ({"payment_days": "61", "payment_term_justification": "seasonal"}, {"payment_days": "never exceed 60 days"}),
    ({"payment_days": "45"}, {"payment_term_justification": "objective justification"}),
    ({"payment_days": "45", "payment_term_justification": "EU-funded project: payments follow the agency"}, {}),
    ({"payment_days": "60", "payment_term_justification": "EU-funded project"}, {}),
    ({"payment_days": "30"}, {}),
    ({"acceptance_days": "31"}, {"acceptance_days": "at most 30 days"}),
    ({"acceptance_days": "30"}, {}),
    ({"price_weight": "50"}, {"quality_weight": "add up to 100"}),
    ({"price_weight": "50", "social_weight": "35"}, {}),
    ({"acceptance_days": "abc"}, {"acceptance_days": "whole number of days"}),
]


@pytest.mark.parametrize(("entered", "errors"), LEGAL)
def test_legal_limits_on_values(ctx, entered, errors):
    asm = assembly.assemble("tender_specification", _load(ctx, ("tender", PACKAGE)), "en", {**UNIT, **entered})
    assert set(asm.errors) == set(errors), asm.errors
    for name, message in errors.items():
        assert message in asm.errors[name]
    assert asm.ready is (not errors)
    if errors:
        with pytest.raises(services.DocumentRefused) as refused:
            services.request_document(_user(ctx, OFFICER_PAS), KINDS["tender_specification"],
                                      _load(ctx, ("tender", PACKAGE)), "en", {**UNIT, **entered})
        assert set(refused.value.assembly.errors) == set(errors)


def test_legal_problems_directly(ctx):
    assert assembly.legal_problems({"payment_days": 30}, {}) == {}
    assert set(assembly.legal_problems({"payment_days": 31}, {})) == {"payment_term_justification"}
    assert set(assembly.legal_problems({"payment_days": 31}, {"payment_term_justification": "  "})) == {
        "payment_term_justification"}
    assert assembly.legal_problems({"payment_days": 31}, {"payment_term_justification": "why"}) == {}
    assert set(assembly.legal_problems({"payment_days": 90}, {"payment_term_justification": "why"})) == {
        "payment_days"}
    weights = {"price_weight": Decimal("60"), "social_weight": Decimal("25"), "quality_weight": Decimal("15")}
    assert assembly.legal_problems(weights, {}) == {}
    assert set(assembly.legal_problems({**weights, "quality_weight": Decimal("16")}, {})) == {"quality_weight"}


# --- 4. the generated .docx ------------------------------------------------------------------------------

LOTS_HEADERS = ["Lot", "Title", "CPV", "Place", "Estimated value", "Duration", "Reserved for"]


def test_generated_docx_in_english(ctx):
    tender = _tender(ctx, PACKAGE)
    doc = _request(ctx)
    assert doc.state == JobState.DONE, doc.job.error
    assert doc.file_name == f"tender-specification-t-{tender.id}-en.docx"
    assert doc.municipality_id == tender.municipality_id
    content = services.content(doc, "docx")
    d = _open(content)
    text = _all_text(d)

    assert _styled(d, "Title") == ["Tender specification"]
    assert _styled(d, "Subtitle") == [PACKAGE]
    assert _styled(d, "Heading 1") == [
        "1. General information", "2. Subject matter and lots", "3. Reserved participation",
        "4. Consortia and subcontracting", "5. Award criteria", "6. Contract performance",
        "7. Multi-year contracts and prices", "8. Payment"]
    clause_headings = _styled(d, "Heading 2")
    assert all(re.match(r"^\d+\.\d+\. \S", h) for h in clause_headings), clause_headings
    lots = sorted(tender.lots, key=lambda lot: lot.number)
    assert clause_headings[2] == (f"3.1. Reserved participation (Article 20 of Directive 2014/24/EU) — "
                                  f"Lot 1: {lots[0].title}")
    asm = assembly.assemble("tender_specification", _load(ctx, ("tender", PACKAGE)), "en", UNIT,
                            editions=list(doc.editions))
    assert clause_headings == [f"{c.number}. {c.title}" + (f" — {c.scope}" if c.scope else "")
                               for s in asm.sections for c in s.clauses]

    # the lots table: a header row and one row per lot
    table = _table(d, "Lot", "Title")
    rows = [[c.text for c in r.cells] for r in table.rows]
    assert rows[0] == LOTS_HEADERS
    assert [r[1] for r in rows[1:]] == [lot.title for lot in lots]
    assert [r[0] for r in rows[1:]] == [str(lot.number) for lot in lots]
    assert [r[5] for r in rows[1:]] == ["24 mo."] * len(lots)
    assert "Table 1. Lots" in _styled(d, "Caption")
    # award criteria: three criteria per lot with their weights
    criteria = [[c.text for c in r.cells] for r in _table(d, "Lot", "Criterion").rows]
    assert criteria[0] == ["Lot", "Criterion", "Kind", "Weight"]
    assert len(criteria) == 1 + sum(len(lot.criteria) for lot in lots)
    assert sorted({r[3] for r in criteria[1:]}) == ["15 %", "25 %", "60 %"]
    # payment schedule: one row per lot, 24 monthly payments
    payment = [[c.text for c in r.cells] for r in _table(d, "Lot", "Payment").rows]
    assert payment[0] == ["Lot", "Payment", "Payments", "Per payment", "Total"]
    assert [r[2] for r in payment[1:]] == ["24"] * len(lots)

    header = "\n".join(p.text for p in d.sections[0].header.paragraphs)
    assert "Pasvalys District Municipality" in header and f"T-{tender.id}" in header
    footer = "\n".join(p.text for p in d.sections[0].footer.paragraphs)
    assert "Tender specification" in footer
    for leftover in ("[[BODY]]", "[[STYLE", "⟦", "{{", "{%"):
        assert leftover not in text, leftover
    assert "The Contracting Authority verifies the services delivered" in text
    assert "Perkančioji organizacija patikrina suteiktas paslaugas" not in text
    assert "Socialinių paslaugų skyrius" in text  # the entered value


def test_generated_docx_in_lithuanian(ctx):
    doc = _request(ctx, lang="lt")
    assert doc.state == JobState.DONE, doc.job.error
    assert doc.file_name.endswith("-lt.docx")
    d = _open(services.content(doc, "docx"))
    text = _all_text(d)
    assert "Perkančioji organizacija patikrina suteiktas paslaugas" in text
    assert "The Contracting Authority verifies the services delivered" not in text
    assert "Teisė dalyvauti pirkimo dalyje „1. Paketas" in text
    assert any(h.startswith("3.1. Rezervuota teisė dalyvauti (Direktyvos 2014/24/ES 20 straipsnis)")
               for h in _styled(d, "Heading 2"))
    for leftover in ("[[BODY]]", "⟦", "{{"):
        assert leftover not in text
    assert d.sections[0].header.paragraphs[0].text.count("T-") == 1


# --- 5. escaping -----------------------------------------------------------------------------------------

NASTY = "A & B <b>bold</b> \"q\" 'a' {{ 7*7 }}"


def test_entered_text_appears_literally_in_the_docx(ctx):
    doc = _request(ctx, entered={"social_services_unit": NASTY})
    assert doc.state == JobState.DONE, doc.job.error
    assert doc.values == {"social_services_unit": NASTY}
    d = _open(services.content(doc, "docx"))
    referral = [p.text for p in d.paragraphs if "common referral protocol" in p.text]
    assert len(referral) == 1
    assert f"({NASTY})" in referral[0]
    assert "49" not in referral[0]


def test_data_with_markup_appears_literally_in_the_docx(ctx):
    """The master's fields (docxtpl, autoescaped) and the tables (python-docx) both keep text as text."""
    tender = _tender(ctx, PACKAGE)
    tender.title = NASTY
    first_lot = min(tender.lots, key=lambda lot: lot.number)
    first_lot.title = "Lot <i>1</i> & more"
    ctx.flush()
    doc = services.request_document(_user(ctx, OFFICER_PAS), KINDS["tender_specification"],
                                    subjects.load("tender", tender.id), "en", UNIT)
    ctx.expire_all()
    assert doc.state == JobState.DONE, doc.job.error
    d = _open(services.content(doc, "docx"))
    assert _styled(d, "Subtitle") == [NASTY]
    assert [c.text for c in _table(d, "Lot", "Title").rows[1].cells][1] == "Lot <i>1</i> & more"
    assert any(h.endswith("— Lot 1: Lot <i>1</i> & more") for h in _styled(d, "Heading 2"))
    assert "49" not in _styled(d, "Subtitle")[0]


def test_a_value_that_looks_like_a_missing_marker_is_just_text(ctx):
    value = "Skyrius ⟦nr. 5⟧"
    doc = _request(ctx, entered={"social_services_unit": value})
    assert doc.state == JobState.DONE, doc.job.error
    assert f"({value})" in _all_text(_open(services.content(doc, "docx")))


def test_render_refuses_a_clause_whose_value_is_invalid(ctx):
    asm = assembly.assemble("tender_specification", _load(ctx, ("tender", PACKAGE)), "en",
                            {**UNIT, "acceptance_days": "abc"})
    assert asm.missing == [] and set(asm.errors) == {"acceptance_days"}
    assert _clause(asm, "ACCEPTANCE-PERIOD").missing == ["acceptance_days"]
    with pytest.raises(RenderError, match="ACCEPTANCE-PERIOD still has a missing value: acceptance_days"):
        render_docx(asm, "now")


def test_the_preview_page_escapes_entered_text(ctx, as_user):
    tender = _tender(ctx, PACKAGE)
    client = as_user(OFFICER_PAS)
    url = f"/documents/new/tender_specification/tender/{tender.id}"
    page = client.get(url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="v_social_services_unit"' in html and "missing-value" in html
    resp = client.post(url, data={"language": "en", "shown_language": "en", "action": "preview",
                                  "v_social_services_unit": NASTY})
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    escaped = "A &amp; B &lt;b&gt;bold&lt;/b&gt; &#34;q&#34; &#39;a&#39; {{ 7*7 }}"
    assert html.count(escaped) >= 2  # in the form field and in the preview's clause
    assert "<b>bold</b>" not in html
    assert 'id="document-ready"' in html
    # generate from the page: the file carries the value literally
    resp = client.post(url, data={"language": "en", "shown_language": "en", "action": "generate",
                                  "v_social_services_unit": NASTY})
    assert resp.status_code == 302
    doc_id = int(resp.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    download = client.get(f"/documents/{doc_id}/download")
    assert download.status_code == 200
    text = _all_text(_open(download.data))
    assert NASTY in text


# --- 6. idempotent workers ---------------------------------------------------------------------------------

def _assert_one_file(ctx, doc: GeneratedDocument) -> DocumentFile:
    ctx.expire_all()
    rows = _files(ctx, doc)
    assert len(rows) == 1
    row = rows[0]
    assert row.sha256 == hashlib.sha256(row.content).hexdigest() == doc.sha256
    assert row.size_bytes == len(row.content) == doc.size_bytes
    return row


def test_generate_twice_writes_one_file(ctx, service_app):
    doc = _request(ctx)
    assert doc.state == JobState.DONE
    first = _assert_one_file(ctx, doc)
    assert doc.job.result["sha256"] == first.sha256 and doc.job.attempts == 1
    assert services.generate(doc.job_id) == "skipped"
    assert services.generate(doc.job_id) == "skipped"
    task = service_app.extensions["celery"].tasks[services.GENERATE_TASK]
    assert task.apply(args=[doc.job_id]).get() == "skipped"
    assert task(doc.job_id) == "skipped"
    assert _assert_one_file(ctx, doc).sha256 == first.sha256
    assert _count(ctx, DocumentFile, DocumentFile.document_id == doc.id) == 1
    assert ctx.get(JobRun, doc.job_id).attempts == 1  # skipped deliveries do not count


def test_a_duplicate_delivery_of_a_running_job_writes_no_second_file(ctx):
    doc = _request(ctx)
    first = _assert_one_file(ctx, doc)
    job = ctx.get(JobRun, doc.job_id)
    job.state, job.finished_at = JobState.RUNNING, None  # as if a second worker got the task mid-way
    ctx.commit()
    assert services.generate(doc.job_id) == "skipped"
    ctx.expire_all()
    assert ctx.get(JobRun, doc.job_id).state == JobState.DONE
    assert _assert_one_file(ctx, doc).sha256 == first.sha256


def test_two_workers_racing_past_the_check_still_store_one_file(ctx, monkeypatch):
    """Both deliveries find no file yet and render; the unique key keeps the first."""
    doc = _request(ctx)
    first = _assert_one_file(ctx, doc)
    job = ctx.get(JobRun, doc.job_id)
    job.state = JobState.RUNNING
    ctx.commit()
    monkeypatch.setattr(GeneratedDocument, "file", lambda self, fmt: None)
    assert services.generate(doc.job_id) == "done"
    monkeypatch.undo()
    ctx.expire_all()
    assert ctx.get(JobRun, doc.job_id).state == JobState.DONE
    assert _assert_one_file(ctx, doc).sha256 == first.sha256


# --- 7. (see tests/test_clause_editions.py) -------------------------------------------------------------

# --- 9. permissions on real documents ------------------------------------------------------------------

@pytest.mark.parametrize(("email", "status"), [
    (OFFICER_PAS, 200), (COUNCIL, 200), ("finance.pas@demo.srpp.lt", 200), (ADMIN, 200),
    (OFFICER_ROK, 403), (SEO, 403),
])
def test_who_may_see_and_download_a_document(ctx, as_user, email, status):
    doc = _request(ctx)
    client = as_user(email)
    assert client.get(f"/documents/{doc.id}").status_code == status
    download = client.get(f"/documents/{doc.id}/download")
    assert download.status_code == status
    state = client.get(f"/documents/{doc.id}/status")
    assert state.status_code == status
    if status == 200:
        assert download.mimetype == DOCX_MIME
        assert download.headers["Content-Disposition"] == f'attachment; filename="{doc.file_name}"'
        assert hashlib.sha256(download.data).hexdigest() == doc.sha256
        _open(download.data)
        payload = state.get_json()
        assert payload["state"] == "done" and payload["finished"] is True
        assert payload["sha256"] == doc.sha256 and payload["size"] == len(download.data)
    else:
        assert download.data[:2] != b"PK"


def test_documents_of_a_subject_list_only_visible_ones(ctx):
    doc = _request(ctx)
    tender = _tender(ctx, PACKAGE)
    assert [d.id for d in services.documents_for(_user(ctx, OFFICER_PAS))] == [doc.id]
    assert [d.id for d in services.documents_for(_user(ctx, COUNCIL), "tender", tender.id)] == [doc.id]
    assert services.documents_for(_user(ctx, OFFICER_ROK), "tender", tender.id) == []
    with pytest.raises(PermissionDenied):
        services.get_document(_user(ctx, OFFICER_ROK), doc.id)


def test_only_the_coordinator_may_request_the_framework_agreement(ctx):
    fa = ctx.scalar(select(FrameworkAgreement).where(FrameworkAgreement.code == "FA-MOB-DRT-2026"))
    coordinator = fa.coordinator.code.lower()
    subject = _load(ctx, ("framework", fa.code))
    kind = KINDS["framework_agreement"]
    participant_codes = {p.municipality.code.lower() for p in fa.participants} - {coordinator}
    assert "pas" in participant_codes and "rok" in participant_codes
    doc = services.request_document(_user(ctx, f"officer.{coordinator}@demo.srpp.lt"), kind, subject, "en", UNIT)
    assert doc.state == JobState.DONE, doc.job.error
    ctx.expire_all()
    assert doc.municipality_id == fa.municipality_id
    text = _all_text(_open(services.content(doc, "docx")))
    assert fa.code in text and fa.coordinator.name in text
    for code in ("pas", "rok"):  # officer.pas is a service coordinator too, but of a participant
        user = _user(ctx, f"officer.{code}@demo.srpp.lt")
        assert not services.may_request(user, kind, subject)
        assert kind not in services.kinds_for(user, subject)
        with pytest.raises(PermissionDenied):
            services.request_document(user, kind, subject, "en", UNIT)


def test_an_officer_may_not_request_another_municipalitys_tender(ctx):
    subject = _load(ctx, ("tender", PACKAGE))
    before = _count(ctx, GeneratedDocument)
    with pytest.raises(PermissionDenied):
        services.request_document(_user(ctx, OFFICER_ROK), KINDS["tender_specification"], subject, "en", UNIT)
    assert _count(ctx, GeneratedDocument) == before


def test_a_reserved_lot_notice_needs_a_reserved_lot(ctx):
    user = _user(ctx, OFFICER_PAS)
    reserved = _load(ctx, ("lot", PACKAGE, 1))
    unreserved = _load(ctx, ("lot", PACKAGE, 3))
    assert services.may_request(user, KINDS["reserved_lot_notice"], reserved)
    assert not services.may_request(user, KINDS["reserved_lot_notice"], unreserved)


# --- 10. expiry -----------------------------------------------------------------------------------------

def test_expired_files_are_removed_but_the_record_stays(ctx, as_user):
    doc = _request(ctx)
    row = _assert_one_file(ctx, doc)
    sha, size = row.sha256, row.size_bytes
    assert services.expire_old(now=utcnow() + dt.timedelta(days=89)) == 0
    assert len(_files(ctx, doc)) == 1
    later = utcnow() + dt.timedelta(days=91)
    assert services.expire_old(now=later) == 1
    ctx.expire_all()
    doc = ctx.get(GeneratedDocument, doc.id)
    assert _files(ctx, doc) == [] and doc.files == []
    assert doc.expired and doc.expired_at == later
    assert (doc.sha256, doc.size_bytes) == (sha, size)
    assert services.expire_old(now=later + dt.timedelta(days=1)) == 0  # not twice
    client = as_user(OFFICER_PAS)
    assert client.get(f"/documents/{doc.id}/download").status_code == 404
    page = client.get(f"/documents/{doc.id}")
    assert page.status_code == 200 and 'id="download-docx"' not in page.get_data(as_text=True)


# --- 11. retry --------------------------------------------------------------------------------------------

def test_a_failed_job_is_retried_and_then_done(ctx, monkeypatch, as_user):
    def broken(asm, generated):
        raise RenderError("the master is broken")

    monkeypatch.setattr(services, "render_docx", broken)
    doc = _request(ctx)
    ctx.expire_all()
    assert doc.state == JobState.FAILED and "the master is broken" in doc.job.error
    assert _files(ctx, doc) == [] and doc.sha256 is None
    client = as_user(OFFICER_PAS)
    page = client.get(f"/documents/{doc.id}").get_data(as_text=True)
    assert 'id="retry"' in page and "the master is broken" in page
    monkeypatch.undo()
    services.retry(_user(ctx, OFFICER_PAS), doc)
    ctx.expire_all()
    assert doc.state == JobState.DONE and doc.job.error is None and doc.job.attempts == 2
    _assert_one_file(ctx, doc)


def test_retry_of_a_job_marked_failed(ctx):
    doc = _request(ctx)
    first = _assert_one_file(ctx, doc)
    job = ctx.get(JobRun, doc.job_id)
    job.state, job.error = JobState.FAILED, "the worker was lost"
    ctx.commit()
    services.retry(_user(ctx, OFFICER_PAS), doc)
    ctx.expire_all()
    job = ctx.get(JobRun, doc.job_id)
    assert job.state == JobState.DONE and job.error is None
    assert _assert_one_file(ctx, doc).sha256 == first.sha256


def test_retry_refuses_a_running_job_and_others(ctx):
    doc = _request(ctx)
    job = ctx.get(JobRun, doc.job_id)
    job.state = JobState.RUNNING
    ctx.commit()
    with pytest.raises(DomainError, match="being generated"):
        services.retry(_user(ctx, OFFICER_PAS), doc)
    with pytest.raises(PermissionDenied):
        services.retry(_user(ctx, OFFICER_ROK), doc)


# --- 12. PDF without LibreOffice ------------------------------------------------------------------------

def test_pdf_without_libreoffice(ctx, monkeypatch, as_user):
    monkeypatch.setattr(services, "libreoffice", lambda: None)
    doc = _request(ctx)
    with pytest.raises(DomainError, match="LibreOffice"):
        services.request_pdf(_user(ctx, OFFICER_PAS), doc)
    assert ctx.get(GeneratedDocument, doc.id).pdf_job_id is None
    assert _count(ctx, JobRun, JobRun.task == services.PDF_TASK) == 0
    page = as_user(OFFICER_PAS).get(f"/documents/{doc.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "PDF needs LibreOffice" in html
    assert f'action="/documents/{doc.id}/pdf"' not in html


# --- 13. every demo subject produces its documents -----------------------------------------------------

DUMMY = {"days": "7", "percentage": "10", "money": "100", "date": "2026-01-01", "list": "dummy", "text": "dummy"}


def _produce(kind_key: str, subject: subjects.Subject, lang: str) -> None:
    asm = assembly.assemble(kind_key, subject, lang)
    entered = {f.name: DUMMY[f.type] for f in asm.fields if f.missing}
    if entered:
        asm = assembly.assemble(kind_key, subject, lang, entered)
    assert asm.ready, (kind_key, subject.reference, lang, asm.missing, asm.errors)
    _assert_numbered(asm)
    content = render_docx(asm, "2026-01-01 12:00")
    d = _open(content)
    headings = _styled(d, "Heading 1")
    assert headings == [f"{s.number}. {s.title}" for s in asm.sections], (kind_key, subject.reference, lang)
    assert len(_styled(d, "Heading 2")) == asm.clause_count()
    text = _all_text(d)
    assert "[[BODY]]" not in text and "⟦" not in text
    assert subject.reference in "\n".join(p.text for p in d.sections[0].header.paragraphs)


def test_every_demo_tender_and_framework_produces_its_documents(ctx):
    admin = _user(ctx, ADMIN)
    produced = []
    for subject_type, subject_id in services.subjects_for_demo():
        subject = subjects.load(subject_type, subject_id)
        kinds = services.kinds_for(admin, subject)
        assert kinds, (subject_type, subject_id)
        for kind in kinds:
            for lang in assembly.LANGUAGES:
                _produce(kind.key, subject, lang)
                produced.append((kind.key, subject_type, subject_id, lang))
    assert len(produced) == 2 * (_count(ctx, Tender) + _count(ctx, FrameworkAgreement))


def test_every_call_off_and_reserved_lot_produces_its_document(ctx):
    from srpp.frameworks.models import CallOff

    call_offs = list(ctx.scalars(select(CallOff.id).order_by(CallOff.id)))
    lots = list(ctx.scalars(select(Lot).order_by(Lot.id)))
    reserved = [lot for lot in lots if lot.is_reserved]
    assert call_offs and reserved and len(reserved) < len(lots)
    for i, call_off_id in enumerate(call_offs):
        _produce("call_off_order", subjects.load("call_off", call_off_id), assembly.LANGUAGES[i % 2])
    for i, lot in enumerate(reserved):
        _produce("reserved_lot_notice", subjects.load("lot", lot.id), assembly.LANGUAGES[i % 2])


def test_the_handbook_and_every_implementation_note(ctx):
    region = _load(ctx, ("region",))
    municipalities = list(ctx.scalars(select(Municipality).order_by(Municipality.code)))
    assert len(municipalities) == 6
    for lang in assembly.LANGUAGES:
        _produce("handbook", region, lang)
        for m in municipalities:
            _produce("implementation_note", subjects.load("municipality", m.id), lang)
