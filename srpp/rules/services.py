"""Legal rules as functions over data: thresholds by date, the kind of contract, Art. 77 CPV list."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import yaml
from flask_babel import gettext as _
from sqlalchemy import Connection, func, insert, select

from srpp.cpv.models import CpvCode
from srpp.extensions import db
from srpp.rules.models import ContractKind, EuThreshold, Procedure, ReservationBasis

DATA = Path(__file__).parent / "data"

#: CPV divisions treated as social and other specific services (Annex XIV), in addition to
#: the Art. 77 list. The full Annex XIV list is not in the reference data; this covers the
#: health, social, education, cultural and hotel/restaurant services the region buys.
ANNEX_XIV_DIVISIONS = ("55", "80", "85", "92")


def load_thresholds(conn: Connection) -> int:
    """Insert the EU threshold table from its data file (idempotent on valid_from)."""
    with open(DATA / "eu_thresholds.yaml", encoding="utf-8") as fh:
        rows = yaml.safe_load(fh)["thresholds"]
    existing = set(conn.scalars(select(EuThreshold.valid_from)))
    new = [
        {**{k: Decimal(v) for k, v in r.items() if k not in ("valid_from", "valid_to", "source")},
         "valid_from": r["valid_from"], "valid_to": r["valid_to"], "source": r["source"]}
        for r in rows if r["valid_from"] not in existing
    ]
    if new:
        conn.execute(insert(EuThreshold), new)
    return conn.scalar(select(func.count()).select_from(EuThreshold)) or 0


def threshold_row(on: dt.date) -> EuThreshold | None:
    """The table in force on ``on``; past the last known period, the latest one."""
    row = db.session.scalar(
        select(EuThreshold).where(EuThreshold.valid_from <= on, EuThreshold.valid_to >= on)
    )
    if row is None:
        row = db.session.scalar(select(EuThreshold).order_by(EuThreshold.valid_from.desc()).limit(1))
    return row


_ART77: frozenset[str] = frozenset()


def art77_codes() -> frozenset[str]:
    """The Art. 77 CPV list (reference data: read once, never changes at run time)."""
    global _ART77
    if not _ART77:
        _ART77 = frozenset(db.session.scalars(select(CpvCode.code).where(CpvCode.is_art77)))
    return _ART77


def contract_kind(cpv_codes: list[str]) -> ContractKind:
    main = cpv_codes[0] if cpv_codes else ""
    if main.startswith("45"):
        return ContractKind.WORKS
    art77 = art77_codes()
    if cpv_codes and all(c in art77 or c[:2] in ANNEX_XIV_DIVISIONS for c in cpv_codes):
        return ContractKind.SOCIAL_SERVICES
    return ContractKind.SUPPLIES_SERVICES


@dataclass(frozen=True)
class Threshold:
    kind: ContractKind
    amount: Decimal
    valid_from: dt.date
    valid_to: dt.date


def applicable_threshold(cpv_codes: list[str], launch: dt.date, row: EuThreshold | None = None) -> Threshold | None:
    row = row or threshold_row(launch)
    if row is None:
        return None
    kind = contract_kind(cpv_codes)
    amount = {ContractKind.WORKS: row.works, ContractKind.SOCIAL_SERVICES: row.social_services,
              ContractKind.SUPPLIES_SERVICES: row.supplies_services_sub_central}[kind]
    return Threshold(kind, amount, row.valid_from, row.valid_to)


def art77_problems(cpv_codes: list[str], duration_months: int | None) -> list[str]:
    """EU-RES77-01 and -03: every CPV code on the Art. 77 list; at most 36 months."""
    problems = []
    art77 = art77_codes()
    outside = [c for c in cpv_codes if c not in art77]
    if outside:
        problems.append(_("Art. 77 reservation is only possible when every CPV code is on the Art. 77 list; "
                          "not on it: %(codes)s.", codes=", ".join(outside)))
    if duration_months is not None and duration_months > 36:
        problems.append(_("An Art. 77 reserved contract may last at most 36 months (this one: %(months)s).",
                          months=duration_months))
    return problems


def procedure_problems(procedure: Procedure, value: Decimal, cpv_codes: list[str], launch: dt.date,
                       money, row: EuThreshold | None = None) -> list[str]:
    """EU-THR-01: a procurement reaching the EU threshold cannot be simplified. ``row``: the
    threshold table in force at ``launch``, when the caller already has it."""
    th = applicable_threshold(cpv_codes, launch, row)
    problems = []
    if th is None:
        return problems
    if procedure == Procedure.SIMPLIFIED and value >= th.amount:
        problems.append(_(
            "%(value)s reaches the EU threshold of %(threshold)s for %(kind)s in force from %(start)s to %(end)s: "
            "the simplified procedure cannot be used. Choose the open procedure or the light regime.",
            value=money(value), threshold=money(th.amount), kind=th.kind.label,
            start=th.valid_from.isoformat(), end=th.valid_to.isoformat()))
    if procedure == Procedure.LIGHT_REGIME and th.kind != ContractKind.SOCIAL_SERVICES:
        problems.append(_("The light regime is only for social and other specific services (Annex XIV)."))
    return problems


def reservation_problems(basis: ReservationBasis, cpv_codes: list[str], duration_months: int | None) -> list[str]:
    if basis == ReservationBasis.EU_ART77:
        return art77_problems(cpv_codes, duration_months)
    return []
