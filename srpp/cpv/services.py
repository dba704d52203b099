"""The CPV vocabulary: loading from the packaged CSV, validation and search."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy import Connection, func, insert, or_, select

from srpp.core.errors import DomainError
from srpp.cpv.models import CpvCode
from srpp.extensions import db

DATA_DIR = Path(__file__).parent / "data"
CPV_RE = re.compile(r"^\d{8}-\d$")


def read_vocabulary() -> list[dict[str, object]]:
    with open(DATA_DIR / "art77-cpv.csv", encoding="utf-8", newline="") as fh:
        art77 = {row["code"] for row in csv.DictReader(fh)}
    with open(DATA_DIR / "cpv-2008.csv", encoding="utf-8", newline="") as fh:
        return [
            {"code": r["code"], "label_en": r["label_en"], "label_lt": r["label_lt"],
             "label_lv": r["label_lv"], "is_art77": r["code"] in art77}
            for r in csv.DictReader(fh)
        ]


def load_vocabulary(conn: Connection) -> int:
    """Insert the vocabulary when the table is empty (idempotent). Returns the row count."""
    existing = conn.scalar(select(func.count()).select_from(CpvCode.__table__))
    if existing:
        return existing
    rows = read_vocabulary()
    conn.execute(insert(CpvCode.__table__), rows)
    return len(rows)


def normalise(code: str) -> str:
    return (code or "").strip().replace(" ", "")


def get(code: str) -> CpvCode | None:
    return db.session.get(CpvCode, normalise(code))


def validate_codes(codes: Iterable[str], field: str | None = None) -> list[CpvCode]:
    """Every code must exist in the CPV 2008 vocabulary (check digit included)."""
    wanted = [normalise(c) for c in codes if normalise(c)]
    bad_format = [c for c in wanted if not CPV_RE.match(c)]
    if bad_format:
        raise DomainError(
            _("%(codes)s: a CPV code is written as 8 digits, a dash and a check digit, e.g. 85312100-0.",
              codes=", ".join(bad_format)), field=field)
    found = {c.code: c for c in db.session.scalars(select(CpvCode).where(CpvCode.code.in_(wanted)))}
    unknown = [c for c in wanted if c not in found]
    if unknown:
        raise DomainError(_("%(codes)s: not in the CPV 2008 vocabulary (check the code and its check digit).",
                            codes=", ".join(unknown)), field=field)
    return [found[c] for c in wanted]


def search(query: str, locale: str = "lt", limit: int = 20) -> list[CpvCode]:
    q = (query or "").strip()
    if not q:
        return []
    stmt = select(CpvCode)
    digits = q.replace("-", "")
    if digits.isdigit():
        stmt = stmt.where(CpvCode.code.startswith(q if "-" in q else digits))
    else:
        label = {"lt": CpvCode.label_lt, "lv": CpvCode.label_lv}.get(locale, CpvCode.label_en)
        words = [w for w in q.split() if w]
        for word in words[:6]:
            pattern = f"%{word.lower()}%"
            stmt = stmt.where(or_(func.lower(label).like(pattern), func.lower(CpvCode.label_en).like(pattern)))
    return list(db.session.scalars(stmt.order_by(CpvCode.code).limit(limit)))
