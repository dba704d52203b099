"""The clause library checker: the real library is clean, and broken clause files are refused
with the file, the line and the problem."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from srpp.clauses.library import LIBRARY, applies, check_library, load_library, render

GOOD = """\
code: PAY-TERM-X
edition: 1
category: payment_term
title:
  lt: Mokėjimo terminas
  en: Payment term
applies_when:
  framework: false
  reservation: [res-ws]
variables:
  - name: payment_days
    type: days
    description: {lt: Terminas, en: Term}
body:
  lt: Perkančioji organizacija sumoka per {{ payment_days }} dienų.
  en: The authority pays within {{ payment_days }} days.
"""


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def _problems(tmp_path: Path, text: str, name: str = "PAY-TERM-X.yaml") -> list[str]:
    _write(tmp_path, name, text)
    return [str(p) for p in check_library(tmp_path)]


def test_the_real_library_is_clean_and_large_enough():
    clauses, problems = load_library(LIBRARY)
    assert problems == []
    assert len(clauses) >= 30
    codes = {c.code for c in clauses}
    assert {"RES-ART20", "RES-ART77", "LATE-PAYMENT", "PAYMENT-TERM", "FRAMEWORK-OPT-OUT"} <= codes


def test_reserved_clauses_cite_their_article():
    clauses = {c.code: c for c in load_library(LIBRARY)[0]}
    assert "20" in clauses["RES-ART20"].body["lt"] and "Article 20" in clauses["RES-ART20"].body["en"]
    assert "77" in clauses["RES-ART77"].body["lt"] and "Article 77" in clauses["RES-ART77"].body["en"]


def test_a_good_file_passes(tmp_path):
    assert _problems(tmp_path, GOOD) == []


BROKEN = [
    (GOOD.replace("  en: The authority pays within {{ payment_days }} days.\n", ""), 14, "missing in language 'en'"),
    (GOOD.replace("{{ payment_days }} dienų", "{{ payment_days }} dienų, {{ bonus }}"), 15,
     "undeclared variables: bonus"),
    (GOOD.replace("    type: days\n", "    type: days\n  - name: unused\n    type: text\n"), 10,
     "never used: unused"),
    (GOOD.replace("  framework: false\n", "  colour: blue\n"), 8, "unknown condition 'colour'"),
    (GOOD.replace("type: days", "type: weeks"), 10, "unknown type 'weeks'"),
    (GOOD.replace("category: payment_term", "category: poetry"), 3, "unknown category"),
    (GOOD.replace("The authority pays within {{ payment_days }} days.",
                  "The authority pays within {{ payment_days }} days; the supplier waives statutory interest."),
     16, "waives or limits late-payment"),
    (GOOD.replace("Perkančioji organizacija sumoka per {{ payment_days }} dienų.",
                  "Sumokama per {{ payment_days }} dienų; tiekėjas atsisako palūkanų ir kompensacijos."),
     15, "waives or limits late-payment"),
    (GOOD.replace("title:\n", "title: [\n"), 6, "not valid YAML"),
    (GOOD.replace("{{ payment_days }} days.", "{{ payment_days days."), 16, "template error"),
]


@pytest.mark.parametrize(("text", "line", "message"), BROKEN)
def test_broken_files_are_refused_with_file_line_and_problem(tmp_path, text, line, message):
    problems = _problems(tmp_path, text)
    assert problems, "the checker accepted a broken file"
    assert any(p.startswith(f"PAY-TERM-X.yaml:{line}:") and message in p for p in problems), problems


def test_duplicate_code_and_edition(tmp_path):
    _write(tmp_path, "PAY-TERM-X.yaml", GOOD)
    _write(tmp_path, "PAY-TERM-X.e1.yaml", GOOD)
    problems = [str(p) for p in check_library(tmp_path)]
    assert any("duplicate code and edition PAY-TERM-X 1" in p for p in problems)


def test_selection_by_conditions(tmp_path):
    _write(tmp_path, "PAY-TERM-X.yaml", GOOD)
    (clause,), _ = load_library(tmp_path)
    assert applies(clause, {"framework": False, "reservation": ["none", "res-ws"]})
    assert not applies(clause, {"framework": True, "reservation": ["res-ws"]})
    assert not applies(clause, {"framework": False, "reservation": ["none"]})
    assert render(clause, "en", {"payment_days": 30}) == "The authority pays within 30 days."
    from jinja2.exceptions import UndefinedError

    with pytest.raises(UndefinedError):
        render(clause, "en", {})


def test_the_command_reports_problems(app, tmp_path, monkeypatch):
    from srpp.clauses import library

    runner = app.test_cli_runner()
    assert runner.invoke(args=["clauses", "check"]).exit_code == 0
    _write(tmp_path, "PAY-TERM-X.yaml", GOOD.replace("  en: The authority", "  xx: The authority"))
    monkeypatch.setattr(library, "LIBRARY", tmp_path)
    result = runner.invoke(args=["clauses", "check"])
    assert result.exit_code != 0 and "PAY-TERM-X.yaml:" in result.output
