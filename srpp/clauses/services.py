"""Loading the reviewed clause files into the database, and reading the editions.

A loaded edition whose text changed in its file is updated only while no document has used it;
once used, the load is refused and names the clause: the author adds a new edition instead."""

from __future__ import annotations

import difflib
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from srpp.auth.models import User
from srpp.clauses import library
from srpp.clauses.models import Clause, ClauseEdition
from srpp.core.audit import bind_actor
from srpp.core.errors import DomainError
from srpp.core.permissions import municipal_staff, regional_reader, require, rule
from srpp.extensions import db


@rule("clause.view")
def _clause_view(user: User, obj: Any) -> bool:
    """Read the clause library and its editions: municipal staff and the regional readers."""
    return regional_reader(user) or municipal_staff(user)


@rule("clause.manage")
def _clause_manage(user: User, obj: Any) -> bool:
    """Load a release of the clause library: admins."""
    return user.is_admin


class LibraryError(DomainError):
    """The clause files have problems; nothing was loaded."""

    def __init__(self, problems: list[library.Problem]) -> None:
        super().__init__(_("The clause library has %(n)d problem(s); nothing was loaded.", n=len(problems)))
        self.problems = problems


@dataclass
class LoadResult:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0

    def __str__(self) -> str:
        return f"{len(self.added)} added, {len(self.updated)} updated, {self.unchanged} unchanged"


def content_hash(clause: library.Clause) -> str:
    raw = {"category": clause.category, "title": clause.title, "body": clause.body,
           "applies_when": clause.applies_when,
           "variables": [v.__dict__ for v in clause.variables]}
    return hashlib.sha256(json.dumps(raw, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _fill(edition: ClauseEdition, clause: library.Clause, digest: str) -> None:
    edition.category = clause.category
    edition.title_lt, edition.title_en = clause.title["lt"].strip(), clause.title["en"].strip()
    edition.body_lt, edition.body_en = clause.body["lt"], clause.body["en"]
    edition.applies_when = clause.applies_when
    edition.variables = [{"name": v.name, "type": v.type, "description": v.description} for v in clause.variables]
    edition.sha256 = digest
    edition.source_file = clause.path.name if clause.path else ""


def load(actor: User | None = None, folder: Path = library.LIBRARY) -> LoadResult:
    """Check every file and load it, all or nothing (the command line passes no actor)."""
    if actor is not None:
        require(actor, "clause.manage")
    clauses, problems = library.load_library(folder)
    if problems:
        raise LibraryError(problems)
    bind_actor(db.session(), actor)
    existing = {c.code: c for c in db.session.scalars(select(Clause).options(selectinload(Clause.editions)))}
    result = LoadResult()
    frozen: list[str] = []
    for item in clauses:
        digest = content_hash(item)
        row = existing.get(item.code)
        if row is None:
            row = existing[item.code] = Clause(code=item.code, category=item.category)
            db.session.add(row)
        edition = next((e for e in row.editions if e.edition == item.edition), None)
        if edition is None:
            edition = ClauseEdition(edition=item.edition)
            _fill(edition, item, digest)
            row.editions.append(edition)
            result.added.append(f"{item.code} e{item.edition}")
        elif edition.sha256 == digest:
            result.unchanged += 1
            continue
        elif edition.used:
            frozen.append(f"{item.code} e{item.edition}")
            continue
        else:
            _fill(edition, item, digest)
            result.updated.append(f"{item.code} e{item.edition}")
        if item.edition == max(e.edition for e in row.editions):
            row.category = item.category
    if frozen:
        db.session.rollback()
        raise DomainError(_("These editions were used in generated documents and cannot change: %(list)s. "
                            "Add the change as a new edition.", list=", ".join(frozen)))
    db.session.flush()
    return result


def clauses() -> list[Clause]:
    return list(db.session.scalars(select(Clause).options(selectinload(Clause.editions)).order_by(Clause.code)))


def current_editions() -> list[ClauseEdition]:
    """The latest edition of every clause (what new documents use)."""
    latest = (select(ClauseEdition.clause_id, func.max(ClauseEdition.edition).label("edition"))
              .group_by(ClauseEdition.clause_id).subquery())
    return list(db.session.scalars(
        select(ClauseEdition).join(latest, (latest.c.clause_id == ClauseEdition.clause_id)
                                   & (latest.c.edition == ClauseEdition.edition))
        .options(selectinload(ClauseEdition.clause)).order_by(ClauseEdition.clause_id)))


def get_clause(code: str) -> Clause | None:
    return db.session.scalar(select(Clause).where(Clause.code == code).options(selectinload(Clause.editions)))


def usage_counts() -> dict[int, int]:
    from srpp.documents.models import document_editions

    rows = db.session.execute(select(document_editions.c.edition_id, func.count())
                              .group_by(document_editions.c.edition_id))
    return {edition_id: n for edition_id, n in rows}


@dataclass
class EditionDiff:
    left: ClauseEdition
    right: ClauseEdition
    #: per language: (tag, text) with tag "=", "-", "+"
    body: dict[str, list[tuple[str, str]]]
    title_changed: bool
    variables_changed: bool
    conditions_changed: bool


def _words(a: str, b: str) -> list[tuple[str, str]]:
    """A word-level difference, merged into runs (clause bodies are long single paragraphs)."""
    sa, sb = a.split(), b.split()
    out: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=sa, b=sb, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(("=", " ".join(sa[i1:i2])))
            continue
        if i2 > i1:
            out.append(("-", " ".join(sa[i1:i2])))
        if j2 > j1:
            out.append(("+", " ".join(sb[j1:j2])))
    return out


def compare(left: ClauseEdition, right: ClauseEdition) -> EditionDiff:
    return EditionDiff(
        left=left, right=right,
        body={lang: _words(left.body(lang), right.body(lang)) for lang in library.LANGUAGES},
        title_changed=(left.title_lt, left.title_en) != (right.title_lt, right.title_en),
        variables_changed=left.variables != right.variables,
        conditions_changed=left.applies_when != right.applies_when,
    )
