"""Assembly: for a subject and a kind, select the clause editions that apply, resolve every
variable (entered by the officer, derived from the data, or the regional default), number the
sections and clauses, resolve cross-references and render the text.

The result (``Assembly``) feeds both the HTML preview and the ``.docx`` renderer, so what the
officer previews is what the worker writes."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal
from flask_babel import force_locale
from flask_babel import gettext as _

from srpp.clauses import library
from srpp.clauses.models import ClauseEdition
from srpp.documents import subjects
from srpp.documents.kinds import KINDS, Block, KindSpec, SectionSpec
from srpp.documents.subjects import LotScope, Subject

LANGUAGES = ("lt", "en")
#: a value still missing shows in the preview as this marker (never in a generated file)
MISSING_RE = re.compile(r"⟦([a-z0-9_]+)⟧")
MAX_TEXT = 2000


@dataclass
class VariableField:
    name: str
    type: str
    description: str
    #: the value as the officer would type it (pre-fills the form)
    raw: str
    source: str  # "entered" | "derived" | "default" | "missing"
    error: str | None = None

    @property
    def missing(self) -> bool:
        return self.source == "missing"


@dataclass
class Paragraph:
    style: str  # "text" | "bullet"
    text: str

    @property
    def parts(self) -> list[tuple[bool, str]]:
        """(is_missing, text) runs, for highlighting missing values in the preview."""
        out, pos = [], 0
        for m in MISSING_RE.finditer(self.text):
            if m.start() > pos:
                out.append((False, self.text[pos:m.start()]))
            out.append((True, m.group(1)))
            pos = m.end()
        if pos < len(self.text):
            out.append((False, self.text[pos:]))
        return out


@dataclass
class ClauseOut:
    number: str
    edition: ClauseEdition
    title: str
    paragraphs: list[Paragraph]
    missing: list[str]
    scope: str | None = None  # the lot, for clauses repeated per lot

    @property
    def anchor(self) -> str:
        return f"clause-{self.number.replace('.', '-')}"


@dataclass
class SectionOut:
    number: int
    key: str
    title: str
    blocks: list[Block]
    clauses: list[ClauseOut]


@dataclass
class Assembly:
    kind: KindSpec
    subject: Subject
    language: str
    title: str
    kind_label: str
    subject_title: str
    authority: str
    sections: list[SectionOut]
    fields: list[VariableField]
    editions: list[ClauseEdition]
    problems: list[str] = field(default_factory=list)

    @property
    def missing(self) -> list[str]:
        return [f.name for f in self.fields if f.missing]

    @property
    def errors(self) -> dict[str, str]:
        return {f.name: f.error for f in self.fields if f.error}

    @property
    def ready(self) -> bool:
        return not self.missing and not self.errors and not self.problems

    def clause_count(self) -> int:
        return sum(len(s.clauses) for s in self.sections)


# --- values ----------------------------------------------------------------------------------------

class BadValue(ValueError):
    pass


def parse(kind: str, raw: str) -> Any:
    """An entered value (a string from a form or the API) as its type; BadValue with a message
    in the user's language when it does not fit."""
    text = (raw or "").strip()
    if kind == "days":
        if not re.fullmatch(r"\d{1,4}", text):
            raise BadValue(_("Enter a whole number of days."))
        return int(text)
    if kind in ("percentage", "money"):
        try:
            value = Decimal(text.replace(" ", "").replace("\u00a0", "").replace(",", "."))
        except InvalidOperation:
            raise BadValue(_("Enter a number.")) from None
        if not value.is_finite() or value < 0:
            raise BadValue(_("Enter a number that is not negative."))
        if kind == "percentage" and value > 100:
            raise BadValue(_("A percentage is at most 100."))
        return value
    if kind == "date":
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise BadValue(_("Enter a date as YYYY-MM-DD.")) from None
    if kind == "list":
        lines = [line.strip().lstrip("-•").strip() for line in text.splitlines()]
        lines = [line for line in lines if line]
        if not lines:
            raise BadValue(_("Enter at least one line."))
        if sum(map(len, lines)) > MAX_TEXT:
            raise BadValue(_("Keep it under %(n)d characters.", n=MAX_TEXT))
        return lines
    if not text:
        raise BadValue(_("Enter a value."))
    if len(text) > MAX_TEXT:
        raise BadValue(_("Keep it under %(n)d characters.", n=MAX_TEXT))
    return text


def to_raw(kind: str, value: Any) -> str:
    """A typed value back into what the officer would type."""
    if isinstance(value, list):
        return "\n".join(value)
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def display(kind: str, value: Any, lang: str) -> Any:
    """A typed value as it reads in the document."""
    if kind == "list":
        return list(value)
    if kind == "percentage":
        return format_decimal(Decimal(str(value)), format="#,##0.###", locale=lang)
    if kind == "money":
        return format_currency(Decimal(str(value)), "EUR", locale=lang)
    if kind == "date":
        return format_date(value, "long", locale=lang)
    return str(value)


def _default(name: str, lang: str, defaults: dict[str, Any]) -> Any:
    value = defaults.get(name)
    if isinstance(value, dict):
        return value.get(lang)
    if isinstance(value, float):
        return Decimal(str(value))
    return value


def legal_problems(values: dict[str, Any], entered: dict[str, str]) -> dict[str, str]:
    """The late-payment rules a document may never break (PAY-01, PAY-03, PAY-04), by variable."""
    out = {}
    days = values.get("payment_days")
    if isinstance(days, int):
        if days > 60:
            out["payment_days"] = _("A payment term may never exceed 60 days (Directive 2011/7/EU, Art. 4(6)).")
        elif days > 30 and not (entered.get("payment_term_justification") or "").strip():
            out["payment_term_justification"] = _(
                "A payment term over 30 days needs an objective justification (Directive 2011/7/EU, Art. 4(6)).")
    acceptance = values.get("acceptance_days")
    if isinstance(acceptance, int) and acceptance > 30:
        out["acceptance_days"] = _("Acceptance may take at most 30 days (Directive 2011/7/EU, Art. 4(5)).")
    weights = [values.get(k) for k in ("price_weight", "social_weight", "quality_weight")]
    if all(isinstance(w, Decimal) for w in weights) and sum(weights) != 100:
        out["quality_weight"] = _("The price, social and quality weights must add up to 100.")
    return out


# --- selection ---------------------------------------------------------------------------------------

def _as_library_clause(edition: ClauseEdition) -> library.Clause:
    return library.Clause(code=edition.clause.code, edition=edition.edition, category=edition.category,
                          title={"lt": edition.title_lt, "en": edition.title_en},
                          applies_when=edition.applies_when, variables=[], body={})


def applies(edition: ClauseEdition, facts: dict[str, Any]) -> bool:
    return library.applies(_as_library_clause(edition), facts)


def select_editions(kind: KindSpec, section: SectionSpec, facts: dict[str, Any],
                    editions: list[ClauseEdition]) -> list[ClauseEdition]:
    """The editions of the section's categories that apply, in category order then code."""
    facts = {**facts, "document": [kind.key]}
    order = {c: i for i, c in enumerate(section.categories)}
    chosen = [e for e in editions if e.category in order and applies(e, facts)]
    return sorted(chosen, key=lambda e: (order[e.category], e.clause.code))


# --- assembly -----------------------------------------------------------------------------------------

@dataclass
class _Planned:
    section: SectionSpec
    blocks: list[Block]
    clauses: list[tuple[ClauseEdition, LotScope | None]]


def assemble(kind_key: str, subject: Subject, lang: str, entered: dict[str, str] | None = None,
             options: dict[str, Any] | None = None, editions: list[ClauseEdition] | None = None) -> Assembly:
    """Everything but the file. ``editions``: the pool to select from (the current editions for a
    preview; the recorded ones when a worker builds a requested document)."""
    from srpp.clauses.services import current_editions

    kind = KINDS[kind_key]
    entered = {k: v for k, v in (entered or {}).items() if v is not None and str(v).strip() != ""}
    options = options or {}
    pool = editions if editions is not None else current_editions()
    facts = {**subject.facts, "advance_payment": bool(options.get("advance_payment"))}
    defaults = library.load_defaults()

    with force_locale(lang):
        planned: list[_Planned] = []
        for section in kind.sections:
            blocks = [b for name in section.blocks for b in subjects.BLOCKS[name](subject)]
            clauses: list[tuple[ClauseEdition, LotScope | None]] = []
            if section.categories:
                if section.per_lot:
                    for scope in subjects.lot_scopes(subject):
                        clauses += [(e, scope) for e in select_editions(kind, section, {**facts, **scope.facts}, pool)]
                else:
                    clauses = [(e, None) for e in select_editions(kind, section, facts, pool)]
            if blocks or clauses:
                planned.append(_Planned(section, blocks, clauses))
        derived = subjects.derived(subject)
        subject_title = subjects.title(subject)
        authority = subjects.authority(subject)
        kind_label = str(kind.label)
        title = f"{kind_label} — {subject_title}"
        section_titles = [str(p.section.title) for p in planned]

    # the variables of the chosen clauses (per-lot values come from the lot, not the form)
    lot_names = {name for p in planned for _e, scope in p.clauses if scope for name in scope.values}
    specs: dict[str, dict[str, Any]] = {}
    for p in planned:
        for edition, _scope in p.clauses:
            for v in edition.variables:
                if v["name"] not in lot_names:
                    specs.setdefault(v["name"], v)
    ui_lang = _ui_lang()
    fields: list[VariableField] = []
    typed: dict[str, Any] = {}
    for name, spec in specs.items():
        description = spec["description"].get(ui_lang) or spec["description"].get("en") or name
        if name in entered:
            try:
                typed[name] = parse(spec["type"], str(entered[name]))
                fields.append(VariableField(name, spec["type"], description, str(entered[name]), "entered"))
            except BadValue as exc:
                fields.append(VariableField(name, spec["type"], description, str(entered[name]), "entered", str(exc)))
            continue
        value = derived.get(name)
        source = "derived"
        if value is None:
            value, source = _default(name, lang, defaults), "default"
        if value is None:
            fields.append(VariableField(name, spec["type"], description, "", "missing"))
            continue
        typed[name] = value
        fields.append(VariableField(name, spec["type"], description, to_raw(spec["type"], value), source))
    for name, message in legal_problems(typed, entered).items():
        f = next((f for f in fields if f.name == name), None)
        if f is not None and not f.error:
            f.error = message
    fields.sort(key=lambda f: (not f.missing, f.error is None, f.name))

    # number first, so cross-references resolve to the final numbers
    numbers: dict[str, str] = {}
    for s_no, p in enumerate(planned, start=1):
        for c_no, (edition, _scope) in enumerate(p.clauses, start=1):
            numbers.setdefault(edition.clause.code, f"{s_no}.{c_no}")
    # a reference to a clause not in this document names it by title; a worker's pool holds only the
    # editions the document used, so the titles also come from the library (as in the preview)
    titles = {e.clause.code: e.title(lang) for e in (current_editions() if editions is not None else [])}
    titles.update({e.clause.code: e.title(lang) for e in pool})

    def ref(code: str) -> str:
        if code in numbers:
            return numbers[code]
        return f"„{titles.get(code, code)}“" if lang == "lt" else f"“{titles.get(code, code)}”"

    kinds_by_name = {name: spec["type"] for name, spec in specs.items()}
    shown = {name: display(kinds_by_name[name], value, lang) for name, value in typed.items()}
    sections: list[SectionOut] = []
    used: dict[int, ClauseEdition] = {}
    for s_no, p in enumerate(planned, start=1):
        outs = []
        for c_no, (edition, scope) in enumerate(p.clauses, start=1):
            used[edition.id] = edition
            values = dict(shown)
            if scope is not None:
                values.update(scope.values)
            needed = [v["name"] for v in edition.variables]
            missing = [n for n in needed if n not in values]
            for n in missing:
                values[n] = [f"⟦{n}⟧"] if kinds_by_name.get(n) == "list" else f"⟦{n}⟧"
            text = library.render_text(edition.body(lang), values, ref)
            outs.append(ClauseOut(f"{s_no}.{c_no}", edition, edition.title(lang), _paragraphs(text), missing,
                                  scope.label if scope else None))
        sections.append(SectionOut(s_no, p.section.key, section_titles[s_no - 1], p.blocks, outs))
    return Assembly(kind=kind, subject=subject, language=lang, title=title, kind_label=kind_label, subject_title=subject_title,
                    authority=authority, sections=sections, fields=fields, editions=list(used.values()))


def _paragraphs(text: str) -> list[Paragraph]:
    out = []
    for line in text.strip().splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("- "):
            out.append(Paragraph("bullet", line[2:].strip()))
        else:
            out.append(Paragraph("text", line))
    return out


def _ui_lang() -> str:
    from flask_babel import get_locale

    code = str(get_locale() or "en")
    return code if code in LANGUAGES else "en"
