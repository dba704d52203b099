"""Clause editions in the database: loading is idempotent, an edition used by a generated document
is frozen (the service refuses with the clause's name, a database trigger refuses a direct UPDATE),
an unused one may change, a new edition becomes current while old documents keep theirs, compare()
shows the words that changed; and the checker's cross-reference and defaults rules."""

from __future__ import annotations

import functools
import io
import shutil
import textwrap
from pathlib import Path

import docx
import pytest
import yaml
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from srpp.auth.models import User
from srpp.clauses import library
from srpp.clauses import services as clause_services
from srpp.clauses.models import Clause, ClauseEdition
from srpp.core.errors import DomainError
from srpp.core.models import JobState
from srpp.core.permissions import PermissionDenied
from srpp.documents import assembly, services, subjects
from srpp.documents.kinds import KINDS
from srpp.tenders.models import Tender

PACKAGE = "Pagalbos į namus ir mobilumo paketas"  # PAS
OFFICER_PAS = "officer.pas@demo.srpp.lt"
UNIT = {"social_services_unit": "Socialinių paslaugų skyrius"}
OLD_WORDS = "for properly delivered services"
NEW_WORDS = "for duly delivered and accepted services"


def _user(ctx, email: str) -> User:
    return ctx.scalar(select(User).where(User.email == email))


def _edition(ctx, code: str, edition: int | None = None) -> ClauseEdition:
    """An edition of a clause (the latest in the library by default)."""
    edition = edition or _latest(code)
    return ctx.scalar(select(ClauseEdition).join(Clause).where(Clause.code == code, ClauseEdition.edition == edition))


def _generate(ctx):
    tender = ctx.scalar(select(Tender).where(Tender.title == PACKAGE))
    doc = services.request_document(_user(ctx, OFFICER_PAS), KINDS["tender_specification"],
                                    subjects.load("tender", tender.id), "en", UNIT)
    ctx.expire_all()
    assert doc.state == JobState.DONE, doc.job.error
    return doc


def _copy_library(tmp_path: Path) -> Path:
    folder = tmp_path / "clauses"
    shutil.copytree(library.LIBRARY, folder)
    shutil.copy(library.DEFAULTS, tmp_path / "defaults.yaml")
    return folder


def _reword(path: Path, old: str | None = None, new: str | None = None) -> None:
    """Change the English body of a clause file: ``old`` → ``new``, or add a sentence."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    body = data["body"]["en"]
    if old is None:
        data["body"]["en"] = body.rstrip() + " This sentence was added.\n"
    else:
        assert old in body, (path.name, old)
        data["body"]["en"] = body.replace(old, new)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=10_000), encoding="utf-8")


@functools.cache
def _latest_editions() -> dict[str, int]:
    out: dict[str, int] = {}
    for clause in library.load_library()[0]:
        out[clause.code] = max(out.get(clause.code, 0), clause.edition)
    return out


def _latest(code: str) -> int:
    """The latest edition of a clause in the real library (which may gain editions over time)."""
    return _latest_editions()[code]


def _latest_file(folder: Path, code: str) -> Path:
    n = _latest(code)
    return folder / (f"{code}.yaml" if n == 1 else f"{code}.e{n}.yaml")


def _new_edition(folder: Path, code: str, old: str, new: str) -> int:
    """Add ``CODE.e<n+1>.yaml``: the latest edition with ``old`` → ``new``; returns n + 1."""
    n = _latest(code) + 1
    data = yaml.safe_load(_latest_file(folder, code).read_text(encoding="utf-8"))
    data["edition"] = n
    path = folder / f"{code}.e{n}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=10_000), encoding="utf-8")
    _reword(path, old, new)
    return n


# --- loading -------------------------------------------------------------------------------------------

def test_load_is_idempotent(ctx):
    files = len(list(library.LIBRARY.glob("*.yaml")))  # one per edition
    codes = {c.code for c in library.load_library()[0]}
    editions_before = ctx.scalar(select(ClauseEdition.id).order_by(ClauseEdition.id.desc()))
    for _ in range(2):
        result = clause_services.load()
        assert (result.added, result.updated, result.unchanged) == ([], [], files)
        assert str(result) == f"0 added, 0 updated, {files} unchanged"
    assert {e.clause.code for e in clause_services.current_editions()} == codes
    assert len(clause_services.current_editions()) == len(codes)
    assert ctx.scalar(select(ClauseEdition.id).order_by(ClauseEdition.id.desc())) == editions_before


def test_only_admins_load_the_library(ctx):
    assert clause_services.load(_user(ctx, "admin@demo.srpp.lt")).added == []
    with pytest.raises(PermissionDenied):
        clause_services.load(_user(ctx, OFFICER_PAS))


def test_the_database_matches_the_files(ctx):
    clauses, problems = library.load_library()
    assert problems == []
    for item in clauses:
        row = _edition(ctx, item.code, item.edition)
        assert row is not None, item.code
        assert (row.body_lt, row.body_en) == (item.body["lt"], item.body["en"])
        assert row.sha256 == clause_services.content_hash(item)
        assert row.source_file == item.path.name


# --- frozen editions -----------------------------------------------------------------------------------

def test_generating_a_document_freezes_its_editions(ctx):
    assert _edition(ctx, "PAYMENT-TERM").first_used_at is None
    doc = _generate(ctx)
    used = {e.clause.code: e for e in doc.editions}
    assert {"PAYMENT-TERM", "RES-ART20", "BUNDLE-SERVICES"} <= set(used)
    assert all(e.first_used_at is not None for e in used.values())
    assert _edition(ctx, "FRAMEWORK-CALL-OFF").first_used_at is None  # not in this document
    assert clause_services.usage_counts()[used["PAYMENT-TERM"].id] == 1


def test_a_used_edition_cannot_change_through_the_load(ctx, tmp_path):
    doc = _generate(ctx)
    folder = _copy_library(tmp_path)
    n = _latest("PAYMENT-TERM")
    assert n in {e.edition for e in doc.editions if e.clause.code == "PAYMENT-TERM"}
    _reword(_latest_file(folder, "PAYMENT-TERM"), OLD_WORDS, NEW_WORDS)
    before = _edition(ctx, "PAYMENT-TERM", n).body_en
    with pytest.raises(DomainError) as refused:
        clause_services.load(folder=folder)
    assert f"PAYMENT-TERM e{n}" in refused.value.message and "new edition" in refused.value.message
    ctx.expire_all()
    assert _edition(ctx, "PAYMENT-TERM", n).body_en == before
    assert ctx.get(type(doc), doc.id) is not None  # the document survived the refused load


def test_an_unused_edition_may_be_updated(ctx, tmp_path):
    _generate(ctx)
    folder = _copy_library(tmp_path)
    n = _latest("FRAMEWORK-CALL-OFF")
    _reword(_latest_file(folder, "FRAMEWORK-CALL-OFF"))
    old_hash = _edition(ctx, "FRAMEWORK-CALL-OFF", n).sha256
    result = clause_services.load(folder=folder)
    assert (result.added, result.updated) == ([], [f"FRAMEWORK-CALL-OFF e{n}"])
    ctx.expire_all()
    row = _edition(ctx, "FRAMEWORK-CALL-OFF", n)
    assert row.body_en.endswith("This sentence was added.\n") and row.sha256 != old_hash


def test_a_frozen_edition_is_named_even_when_other_files_are_fine(ctx, tmp_path):
    _generate(ctx)
    folder = _copy_library(tmp_path)
    _reword(_latest_file(folder, "FRAMEWORK-CALL-OFF"))
    _reword(_latest_file(folder, "LATE-PAYMENT"))
    with pytest.raises(DomainError, match=f"LATE-PAYMENT e{_latest('LATE-PAYMENT')}"):
        clause_services.load(folder=folder)
    ctx.expire_all()
    row = _edition(ctx, "FRAMEWORK-CALL-OFF", _latest("FRAMEWORK-CALL-OFF"))
    assert "This sentence was added." not in row.body_en  # all or nothing


def test_a_new_edition_becomes_current_and_old_documents_keep_theirs(ctx, tmp_path):
    doc = _generate(ctx)
    folder = _copy_library(tmp_path)
    codes = len(clause_services.current_editions())
    n = _new_edition(folder, "PAYMENT-TERM", OLD_WORDS, NEW_WORDS)
    result = clause_services.load(folder=folder)
    assert (result.added, result.updated) == ([f"PAYMENT-TERM e{n}"], [])
    ctx.expire_all()
    current = {e.clause.code: e for e in clause_services.current_editions()}
    assert len(current) == codes
    assert current["PAYMENT-TERM"].edition == n and NEW_WORDS in current["PAYMENT-TERM"].body_en
    assert current["PAYMENT-TERM"].source_file == f"PAYMENT-TERM.e{n}.yaml"
    assert current["PAYMENT-TERM"].first_used_at is None
    assert clause_services.get_clause("PAYMENT-TERM").current.edition == n
    # a new preview uses edition 2; the old document is rebuilt from edition 1
    tender = ctx.scalar(select(Tender).where(Tender.title == PACKAGE))
    asm = assembly.assemble("tender_specification", subjects.load("tender", tender.id), "en", UNIT)
    term = next(c for s in asm.sections for c in s.clauses if c.edition.clause.code == "PAYMENT-TERM")
    assert term.edition.edition == n and NEW_WORDS in term.paragraphs[0].text
    rebuilt = services.build_bytes(ctx.get(type(doc), doc.id))
    body = "\n".join(p.text for p in docx.Document(io.BytesIO(rebuilt)).paragraphs)
    assert OLD_WORDS in body and NEW_WORDS not in body
    # loading again changes nothing
    again = clause_services.load(folder=folder)
    files = len(list(folder.glob("*.yaml")))
    assert (again.added, again.updated, again.unchanged) == ([], [], files)


def test_compare_shows_word_level_differences(ctx, tmp_path):
    folder = _copy_library(tmp_path)
    n = _new_edition(folder, "PAYMENT-TERM", OLD_WORDS, NEW_WORDS)
    clause_services.load(folder=folder)
    old, new = _edition(ctx, "PAYMENT-TERM", n - 1), _edition(ctx, "PAYMENT-TERM", n)
    diff = clause_services.compare(old, new)
    en = diff.body["en"]
    assert ("-", "properly") in en and ("+", "duly") in en
    assert ("+", "and accepted") in en or any(tag == "+" and "accepted" in words for tag, words in en)
    assert [tag for tag, _ in en].count("=") >= 2
    # the runs rebuild both texts
    assert " ".join(w for tag, w in en if tag != "+") == " ".join(old.body_en.split())
    assert " ".join(w for tag, w in en if tag != "-") == " ".join(new.body_en.split())
    assert diff.body["lt"] == [("=", " ".join(old.body_lt.split()))]
    assert not diff.title_changed and not diff.variables_changed and not diff.conditions_changed


def test_the_database_refuses_an_update_of_a_used_edition(ctx):
    doc = _generate(ctx)
    used = next(e for e in doc.editions if e.clause.code == "PAYMENT-TERM")
    unused = _edition(ctx, "FRAMEWORK-CALL-OFF")
    for column in ("body_lt", "title_en", "sha256"):
        with pytest.raises(DBAPIError):
            with ctx.begin_nested():
                ctx.execute(text(f"UPDATE clause_editions SET {column} = 'x' WHERE id = :id"), {"id": used.id})
    # not a blanket lock: what is not content may change, and an unused edition may change
    with ctx.begin_nested():
        ctx.execute(text("UPDATE clause_editions SET source_file = 'moved.yaml' WHERE id = :id"), {"id": used.id})
        ctx.execute(text("UPDATE clause_editions SET body_lt = 'x' WHERE id = :id"), {"id": unused.id})
    assert ctx.execute(text("SELECT body_lt FROM clause_editions WHERE id = :id"), {"id": unused.id}).scalar() == "x"
    # the ORM goes through the same trigger
    ctx.expire_all()
    row = ctx.get(ClauseEdition, used.id)
    with pytest.raises(DBAPIError):
        with ctx.begin_nested():
            row.body_en = "changed"
            ctx.flush()
    ctx.expire_all()
    assert ctx.get(ClauseEdition, used.id).body_en != "changed"


# --- the checker: cross-references and defaults ------------------------------------------------------------

GOOD = """\
code: PAY-TERM-X
edition: 1
category: payment_term
title:
  lt: Mokėjimo terminas
  en: Payment term
applies_when:
  framework: false
variables:
  - name: payment_days
    type: days
    description: {lt: Terminas, en: Term}
body:
  lt: Perkančioji organizacija sumoka per {{ payment_days }} dienų.
  en: The authority pays within {{ payment_days }} days.
"""


def _write(folder: Path, name: str, content: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(content), encoding="utf-8")
    return path


def test_a_reference_to_an_unknown_clause_is_reported(tmp_path):
    folder = tmp_path / "clauses"
    _write(folder, "PAY-TERM-X.yaml", GOOD.replace("{{ payment_days }} days.",
                                                   "{{ payment_days }} days (see {{ ref('NO-SUCH') }})."))
    problems = [str(p) for p in library.check_library(folder)]
    assert problems == ["PAY-TERM-X.yaml:13: refers to clause 'NO-SUCH', which is not in the library"]


def test_a_reference_to_a_known_clause_passes(tmp_path):
    folder = tmp_path / "clauses"
    _write(folder, "PAY-TERM-X.yaml", GOOD.replace("{{ payment_days }} days.",
                                                   "{{ payment_days }} days (see {{ ref('LATE-X') }})."))
    _write(folder, "LATE-X.yaml", GOOD.replace("PAY-TERM-X", "LATE-X").replace("payment_term", "late_payment"))
    assert library.check_library(folder) == []
    clauses = {c.code: c for c in library.load_library(folder)[0]}
    assert clauses["PAY-TERM-X"].refs == {"LATE-X"}
    assert library.render(clauses["PAY-TERM-X"], "en", {"payment_days": 30}, ref=lambda code: "8.4") == (
        "The authority pays within 30 days (see 8.4).")


DEFAULTS = [
    ("payment_days: 30\n", []),
    ("payment_days: 30\nno_such_var: 5\n", ["defaults.yaml:2: default for 'no_such_var', which no clause declares"]),
    ("payment_days: thirty\n", ["defaults.yaml:1: default for 'payment_days' does not fit its type 'days'"]),
    ("payment_days: -3\n", ["defaults.yaml:1: default for 'payment_days' does not fit its type 'days'"]),
    ("payment_days: true\n", ["defaults.yaml:1: default for 'payment_days' does not fit its type 'days'"]),
    ("payment_days:\n  lt: 30\n", ["defaults.yaml:1: default for 'payment_days' is missing a language"]),
    ("# a comment\n\npayment_days: [30]\n",
     ["defaults.yaml:3: default for 'payment_days' does not fit its type 'days'"]),
    ("payment_days: [\n", ["defaults.yaml:2: not valid YAML"]),
]


@pytest.mark.parametrize(("defaults", "expected"), DEFAULTS)
def test_defaults_are_checked(tmp_path, defaults, expected):
    folder = tmp_path / "clauses"
    _write(folder, "PAY-TERM-X.yaml", GOOD)
    (tmp_path / "defaults.yaml").write_text(defaults, encoding="utf-8")
    problems = [str(p) for p in library.check_library(folder)]
    assert len(problems) == len(expected), problems
    for problem, wanted in zip(problems, expected, strict=True):
        assert problem.startswith(wanted), problems


def test_defaults_of_other_types(tmp_path):
    folder = tmp_path / "clauses"
    _write(folder, "PAY-TERM-X.yaml", GOOD.replace("    type: days\n", "    type: percentage\n"))
    (tmp_path / "defaults.yaml").write_text("payment_days: 150\n", encoding="utf-8")
    assert [str(p) for p in library.check_library(folder)] == [
        "defaults.yaml:1: default for 'payment_days' does not fit its type 'percentage'"]
    (tmp_path / "defaults.yaml").write_text("payment_days: 12.5\n", encoding="utf-8")
    assert library.check_library(folder) == []


def test_the_real_defaults_fit_the_real_clauses():
    clauses, problems = library.load_library()
    assert problems == []
    assert library.check_defaults(library.DEFAULTS, clauses) == []
    declared = {v.name for c in clauses for v in c.variables}
    defaults = yaml.safe_load(library.DEFAULTS.read_text(encoding="utf-8"))
    assert set(defaults) <= declared
    # every reference in the real library names a clause that exists
    codes = {c.code for c in clauses}
    refs = {r for c in clauses for r in c.refs}
    assert refs == {"ACCEPTANCE-PERIOD", "PAYMENT-TERM"} and refs <= codes
