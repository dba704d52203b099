"""The clause library as reviewed data (``clause_library/clauses/*.yaml``) and its checker.

Pure code (no Flask, no database): ``check_library`` reads every file and returns the problems,
each naming the file, the line and what is wrong. The test suite and ``flask clauses check`` run it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from jinja2 import TemplateSyntaxError, meta
from jinja2.sandbox import SandboxedEnvironment

LIBRARY = Path(__file__).resolve().parent.parent.parent / "clause_library" / "clauses"
DEFAULTS = LIBRARY.parent / "defaults.yaml"
#: functions a body may call: ``{{ ref('PAYMENT-TERM') }}`` becomes that clause's number in the document
FUNCTIONS = {"ref"}
REF_RE = re.compile(r"""ref\(\s*['"]([A-Z0-9-]+)['"]\s*\)""")
LANGUAGES = ("lt", "en")
CODE_RE = re.compile(r"^[A-Z0-9]+(?:-[A-Z0-9]+)*$")
CATEGORIES = {
    "reservation", "lots", "consortium", "award_criteria", "performance_conditions", "equality", "referral",
    "quality", "data_protection", "multi_year", "indexation", "payment_schedule", "advance_payment",
    "acceptance", "payment_term", "late_payment", "e_invoicing", "penalties", "framework", "opt_out",
    "specification", "general",
}
VARIABLE_TYPES = {"text", "money", "percentage", "days", "date", "list"}
DOCUMENTS = {"tender_specification", "reserved_lot_notice", "framework_agreement", "call_off_order",
             "implementation_note", "handbook"}
PRIORITY_AREAS = {"LTC", "MOBILITY", "HOUSING", "YOUTH", "DISABILITY", "CROSS_CUTTING"}
RESERVATIONS = {"none", "res-ws", "res-pub-ser", "lt-23-1-3", "lt-23-1-4", "lt-23-1-5"}
#: condition → the check of its value (None for "a list of anything": categories are data)
CONDITIONS: dict[str, Any] = {
    "reservation": RESERVATIONS,
    "framework": bool,
    "category": None,
    "priority_area": PRIORITY_AREAS,
    "over_12_months": bool,
    "advance_payment": bool,
    "document": DOCUMENTS,
}
#: wording that waives or limits late-payment rights (Directive 2011/7/EU Art. 7: grossly unfair, void)
WAIVER_PATTERNS = [
    re.compile(p, re.IGNORECASE) for p in (
        r"waiv\w*[^.]{0,80}(interest|compensation)",
        r"(interest|compensation)[^.]{0,80}(waiv\w*|shall not (?:be )?(?:apply|payable|due|charged|claimed))",
        r"no (?:late[- ]payment )?interest",
        r"not entitled to[^.]{0,60}(interest|compensation)",
        r"renounc\w*[^.]{0,60}(interest|compensation)",
        r"atsisak\w*[^.]{0,80}(palūkan|kompensacij)",
        r"(palūkan|kompensacij)\w*[^.]{0,80}(neskaičiuojam|nemokam|netaikom|nepriklauso)",
        r"neturi teisės[^.]{0,60}(palūkan|kompensacij)",
    )
]


@dataclass
class Problem:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclass
class Variable:
    name: str
    type: str
    description: dict[str, str]


@dataclass
class Clause:
    code: str
    edition: int
    category: str
    title: dict[str, str]
    applies_when: dict[str, Any]
    variables: list[Variable]
    body: dict[str, str]
    path: Path | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    refs: set[str] = field(default_factory=set)

    @property
    def key(self) -> tuple[str, int]:
        return self.code, self.edition


_ENV = SandboxedEnvironment(autoescape=False)


def _line_of(node: yaml.Node | None, *keys: str) -> int:
    """1-based line of the value at ``keys`` in a composed YAML node (or of the closest parent)."""
    if node is None:
        return 1
    line = node.start_mark.line + 1
    for key in keys:
        if not isinstance(node, yaml.MappingNode):
            break
        for k, v in node.value:
            if k.value == key:
                node, line = v, k.start_mark.line + 1
                break
        else:
            break
    return line


def used_variables(text: str) -> set[str]:
    return meta.find_undeclared_variables(_ENV.parse(text)) - FUNCTIONS


def load_file(path: Path) -> tuple[Clause | None, list[Problem]]:
    name = path.name
    text = path.read_text(encoding="utf-8")
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return None, [Problem(name, (mark.line + 1) if mark else 1, f"not valid YAML: {exc}")]
    if not isinstance(data, dict):
        return None, [Problem(name, 1, "a clause file is a mapping of code, edition, title, body …")]
    problems: list[Problem] = []

    def bad(message: str, *keys: str) -> None:
        problems.append(Problem(name, _line_of(node, *keys), message))

    for key in ("code", "edition", "category", "title", "body"):
        if key not in data:
            bad(f"missing `{key}`")
    code = str(data.get("code", ""))
    if code and not CODE_RE.match(code):
        bad(f"code {code!r}: use upper-case letters, digits and dashes", "code")
    if code and path.stem not in (code, f"{code}.e{data.get('edition')}"):
        bad(f"the file should be named {code}.yaml (later editions: {code}.e<edition>.yaml)", "code")
    edition = data.get("edition")
    if "edition" in data and (not isinstance(edition, int) or edition < 1):
        bad("edition must be a whole number of at least 1", "edition")
    if "category" in data and data["category"] not in CATEGORIES:
        bad(f"unknown category {data['category']!r}", "category")
    for key in ("title", "body"):
        value = data.get(key)
        if key in data and not isinstance(value, dict):
            bad(f"`{key}` needs one entry per language ({', '.join(LANGUAGES)})", key)
            continue
        for lang in LANGUAGES:
            if key in data and not str((value or {}).get(lang) or "").strip():
                bad(f"`{key}` is missing in language {lang!r}", key)
    applies = data.get("applies_when") or {}
    if not isinstance(applies, dict):
        bad("`applies_when` is a mapping of conditions", "applies_when")
        applies = {}
    for key, value in applies.items():
        if key not in CONDITIONS:
            bad(f"unknown condition {key!r} (known: {', '.join(sorted(CONDITIONS))})", "applies_when", key)
            continue
        rule = CONDITIONS[key]
        if rule is bool:
            if not isinstance(value, bool):
                bad(f"condition {key!r} is true or false", "applies_when", key)
        elif not isinstance(value, list) or not value:
            bad(f"condition {key!r} is a list of values", "applies_when", key)
        elif rule is not None:
            unknown = [v for v in value if v not in rule]
            if unknown:
                bad(f"condition {key!r}: unknown values {unknown}", "applies_when", key)
    variables: list[Variable] = []
    for n, spec in enumerate(data.get("variables") or []):
        if not isinstance(spec, dict) or not spec.get("name"):
            bad(f"variable {n + 1} needs a name", "variables")
            continue
        if spec.get("type") not in VARIABLE_TYPES:
            bad(f"variable {spec['name']!r}: unknown type {spec.get('type')!r} "
                f"(known: {', '.join(sorted(VARIABLE_TYPES))})", "variables")
        variables.append(Variable(spec["name"], spec.get("type", "text"), spec.get("description") or {}))
    declared = {v.name for v in variables}
    if len(declared) != len(variables):
        bad("a variable is declared twice", "variables")
    used: set[str] = set()
    body = data.get("body") if isinstance(data.get("body"), dict) else {}
    for lang in LANGUAGES:
        text_lang = str(body.get(lang) or "")
        try:
            found = used_variables(text_lang)
        except TemplateSyntaxError as exc:
            bad(f"body ({lang}): template error: {exc.message}", "body", lang)
            continue
        # loop variables (`{% for m in milestones %}`) are not declarations
        loops = set(re.findall(r"{%-?\s*for\s+(\w+)\s+in", text_lang))
        found -= loops
        used |= found
        undeclared = sorted(found - declared)
        if undeclared:
            bad(f"body ({lang}) uses undeclared variables: {', '.join(undeclared)}", "body", lang)
    unused = sorted(declared - used)
    if unused:
        bad(f"declared but never used: {', '.join(unused)}", "variables")
    for lang in LANGUAGES:
        for part in ("title", "body"):
            text_lang = str((data.get(part) or {}).get(lang) or "") if isinstance(data.get(part), dict) else ""
            for pattern in WAIVER_PATTERNS:
                if pattern.search(text_lang):
                    bad(f"{part} ({lang}) waives or limits late-payment interest or compensation: such terms are "
                        "void (Directive 2011/7/EU, Art. 7) and may not be in the library", part, lang)
                    break
    if problems:
        return None, problems
    refs = {code for lang in LANGUAGES for code in REF_RE.findall(str(body.get(lang) or ""))}
    return Clause(code=code, edition=edition, category=data["category"], title=data["title"],
                  applies_when=applies, variables=variables, body=body, path=path, raw=data, refs=refs), []


def load_library(folder: Path = LIBRARY) -> tuple[list[Clause], list[Problem]]:
    clauses: list[Clause] = []
    problems: list[Problem] = []
    seen: dict[tuple[str, int], str] = {}
    for path in sorted(folder.glob("*.yaml")):
        clause, found = load_file(path)
        problems += found
        if clause is None:
            continue
        if clause.key in seen:
            problems.append(Problem(path.name, _line_of(yaml.compose(path.read_text(encoding="utf-8")), "code"),
                                    f"duplicate code and edition {clause.code} {clause.edition} "
                                    f"(also in {seen[clause.key]})"))
            continue
        seen[clause.key] = path.name
        clauses.append(clause)
    codes = {c.code for c in clauses}
    for clause in clauses:
        for missing in sorted(clause.refs - codes):
            problems.append(Problem(clause.path.name, _line_of(yaml.compose(clause.path.read_text(encoding="utf-8")),
                                                               "body"),
                                    f"refers to clause {missing!r}, which is not in the library"))
    defaults_file = folder.parent / "defaults.yaml"
    if defaults_file.exists():
        problems += check_defaults(defaults_file, clauses)
    return clauses, problems


def _default_ok(kind: str, value: Any) -> bool:
    if kind == "days":
        return isinstance(value, int) and not isinstance(value, bool) and value >= 0
    if kind == "percentage":
        return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 100
    if kind == "list":
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    return isinstance(value, (str, int)) and not isinstance(value, bool)


def check_defaults(path: Path, clauses: list[Clause]) -> list[Problem]:
    """``defaults.yaml``: the regional template's default value of a variable, by name; a text
    default gives one value per language. Each default must name a declared variable and fit its type."""
    text = path.read_text(encoding="utf-8")
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return [Problem(path.name, (mark.line + 1) if mark else 1, f"not valid YAML: {exc}")]
    if not isinstance(data, dict):
        return [Problem(path.name, 1, "defaults are a mapping of variable name to value")]
    types: dict[str, set[str]] = {}
    for clause in clauses:
        for v in clause.variables:
            types.setdefault(v.name, set()).add(v.type)
    problems = []
    for name, value in data.items():
        line = _line_of(node, name)
        if name not in types:
            problems.append(Problem(path.name, line, f"default for {name!r}, which no clause declares"))
            continue
        values = [value.get(lang) for lang in LANGUAGES] if isinstance(value, dict) else [value]
        if isinstance(value, dict) and any(v is None for v in values):
            problems.append(Problem(path.name, line, f"default for {name!r} is missing a language"))
            continue
        for kind in types[name]:
            if not all(_default_ok(kind, v) for v in values):
                problems.append(Problem(path.name, line, f"default for {name!r} does not fit its type {kind!r}"))
    return problems


def load_defaults(path: Path = DEFAULTS) -> dict[str, Any]:
    if not path.exists():
        return {}
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def check_library(folder: Path = LIBRARY) -> list[Problem]:
    return load_library(folder)[1]


def applies(clause: Clause, facts: dict[str, Any]) -> bool:
    """Does the clause apply to a subject described by ``facts`` (the same keys as conditions)?
    A list condition holds when any of the subject's values is in it."""
    for key, wanted in clause.applies_when.items():
        have = facts.get(key)
        if CONDITIONS[key] is bool:
            if bool(have) != wanted:
                return False
        else:
            values = have if isinstance(have, (list, tuple, set)) else [have]
            if not any(v in wanted for v in values):
                return False
    return True


def render_text(body: str, values: dict[str, Any], ref: Any = None) -> str:
    """A body with ``values`` (sandboxed, plain text: the caller escapes for HTML or .docx;
    a missing value is an error). ``ref(code)`` resolves a cross-reference."""
    from jinja2 import StrictUndefined

    env = SandboxedEnvironment(autoescape=False, undefined=StrictUndefined, keep_trailing_newline=False)
    return env.from_string(body).render(**values, ref=ref or (lambda code: code))


def render(clause: Clause, lang: str, values: dict[str, Any], ref: Any = None) -> str:
    """The body in ``lang`` with ``values``."""
    return render_text(clause.body[lang], values, ref)
