"""Which processes are published, their release dates, loading them in batches, and the streaming
release-package writer.

Every process is a row of one ``UNION ALL`` statement (``process_keys``): its kind, the id of its
root record and its release date, the last change of any of its records (computed in SQL, so the
``since`` filter and the releases agree). A page is a ``LIMIT``/``OFFSET`` of it; the full export reads
it with ``yield_per`` (a server-side cursor on PostgreSQL) and, for each batch of keys, loads the
records with eager loading into a private ORM session, builds the releases (``ocds.py``), writes
them and forgets them (``expunge_all``): memory stays constant whatever the number of processes.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import Select, and_, exists, func, literal, or_, select, union_all
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, joinedload, lazyload, selectinload
from sqlalchemy.sql.functions import GenericFunction

from srpp.contracts.models import Contract, PaymentMilestone
from srpp.core.db import UTCDateTime
from srpp.cpv.models import CpvCode
from srpp.extensions import db
from srpp.frameworks.models import (
    CallOff,
    CallOffMethod,
    FrameworkAgreement,
    FrameworkParticipant,
    FrameworkState,
)
from srpp.opendata import ocds
from srpp.orgs.models import Municipality, PriorityArea, Region
from srpp.payments.models import Invoice, Payment
from srpp.plans.models import PlanItem, PlanState, PlanVersion
from srpp.rules.models import Procedure
from srpp.suppliers.models import SupplierStatus
from srpp.suppliers.services import BASIS_PLAIN, _current_verified
from srpp.tenders.models import Lot, Tender, TenderState, tender_mandates

KINDS = ("plan", "framework", "tender", "calloff", "contract")
RANK = {kind: n for n, kind in enumerate(KINDS)}
#: tender states whose tender was published (a cancelled one only if it had been published)
PUBLIC_TENDER_STATES = (TenderState.PUBLISHED, TenderState.EVALUATION, TenderState.AWARDED, TenderState.CANCELLED)
BATCH = 500


class greatest(GenericFunction):
    """The latest of the arguments (none of them NULL): GREATEST, or SQLite's multi-argument MAX."""

    type = UTCDateTime()
    inherit_cache = True


@compiles(greatest, "sqlite")
def _greatest_sqlite(element: Any, compiler: Any, **kw: Any) -> str:
    return f"MAX({compiler.process(element.clauses, **kw)})"


@dataclass(frozen=True)
class Filters:
    municipality_id: int | None = None
    since: dt.datetime | None = None
    #: one process only (the /releases/<ocid> endpoint)
    kind: str | None = None
    ident: int | None = None


# --- the processes and their dates ----------------------------------------------------------------

def _latest(root: Any, *subqueries: Any) -> Any:
    """The root's ``updated_at`` or a later change in one of the correlated ``max(...)`` subqueries."""
    return greatest(root, *(func.coalesce(sq.scalar_subquery(), root) for sq in subqueries))


def _contract_changes(root: Any, *where: Any) -> list[Any]:
    """Subqueries for the last change of the contracts matching ``where``, their milestones and payments."""
    return [
        select(func.max(Contract.updated_at)).where(*where),
        select(func.max(PaymentMilestone.updated_at)).join(Contract, Contract.id == PaymentMilestone.contract_id)
        .where(*where),
        select(func.max(Payment.updated_at)).join(Invoice, Invoice.id == Payment.invoice_id)
        .join(Contract, Contract.id == Invoice.contract_id).where(*where),
    ]


def _plans(f: Filters) -> tuple[Select, Any, Any]:
    date = greatest(PlanItem.updated_at, PlanVersion.published_at)
    stmt = (select(literal(RANK["plan"]).label("kind"), PlanItem.id.label("id"), date.label("date"))
            .join(PlanVersion, PlanVersion.id == PlanItem.plan_version_id)
            .where(PlanVersion.state == PlanState.PUBLISHED))
    if f.municipality_id:
        stmt = stmt.where(PlanItem.municipality_id == f.municipality_id)
    return stmt, date, PlanItem.id


def _frameworks(f: Filters) -> tuple[Select, Any, Any]:
    date = _latest(FrameworkAgreement.updated_at,
                   select(func.max(FrameworkParticipant.updated_at))
                   .where(FrameworkParticipant.framework_id == FrameworkAgreement.id))
    stmt = (select(literal(RANK["framework"]).label("kind"), FrameworkAgreement.id.label("id"), date.label("date"))
            .where(FrameworkAgreement.state != FrameworkState.PLANNED))
    if f.municipality_id:
        stmt = stmt.where(or_(FrameworkAgreement.municipality_id == f.municipality_id, exists().where(
            FrameworkParticipant.framework_id == FrameworkAgreement.id,
            FrameworkParticipant.municipality_id == f.municipality_id)))
    return stmt, date, FrameworkAgreement.id


def _tenders(f: Filters) -> tuple[Select, Any, Any]:
    lot_of_tender = and_(Lot.id == Contract.lot_id, Lot.tender_id == Tender.id)
    date = _latest(Tender.updated_at, select(func.max(Lot.updated_at)).where(Lot.tender_id == Tender.id),
                   *(sq.join(Lot, lot_of_tender) for sq in _contract_changes(Tender.updated_at)))
    stmt = (select(literal(RANK["tender"]).label("kind"), Tender.id.label("id"), date.label("date"))
            .where(Tender.published_at.is_not(None), Tender.state.in_(PUBLIC_TENDER_STATES)))
    if f.municipality_id:
        stmt = stmt.where(or_(Tender.municipality_id == f.municipality_id, exists().where(
            tender_mandates.c.tender_id == Tender.id, tender_mandates.c.municipality_id == f.municipality_id)))
    return stmt, date, Tender.id


def _call_offs(f: Filters) -> tuple[Select, Any, Any]:
    date = _latest(CallOff.updated_at, *_contract_changes(CallOff.updated_at, Contract.call_off_id == CallOff.id))
    stmt = (select(literal(RANK["calloff"]).label("kind"), CallOff.id.label("id"), date.label("date"))
            .join(FrameworkAgreement, FrameworkAgreement.id == CallOff.framework_id)
            .where(FrameworkAgreement.state != FrameworkState.PLANNED))
    if f.municipality_id:
        stmt = stmt.where(CallOff.municipality_id == f.municipality_id)
    return stmt, date, CallOff.id


def _direct_contracts(f: Filters) -> tuple[Select, Any, Any]:
    outer = Contract.__table__.alias("direct")
    date = _latest(outer.c.updated_at, *_contract_changes(outer.c.updated_at, Contract.id == outer.c.id))
    stmt = (select(literal(RANK["contract"]).label("kind"), outer.c.id.label("id"), date.label("date"))
            .where(outer.c.lot_id.is_(None), outer.c.call_off_id.is_(None)))
    if f.municipality_id:
        stmt = stmt.where(outer.c.municipality_id == f.municipality_id)
    return stmt, date, outer.c.id


PARTS = {"plan": _plans, "framework": _frameworks, "tender": _tenders, "calloff": _call_offs,
         "contract": _direct_contracts}


def process_keys(f: Filters) -> Any:
    """The subquery (kind, id, date) of every published process matching the filters."""
    parts = []
    for kind, part in PARTS.items():
        if f.kind and kind != f.kind:
            continue
        stmt, date, ident = part(f)
        if f.since:
            stmt = stmt.where(date >= f.since)
        if f.ident is not None:
            stmt = stmt.where(ident == f.ident)
        parts.append(stmt)
    return union_all(*parts).subquery("processes")


def ordered(keys: Any) -> Select:
    return select(keys.c.kind, keys.c.id, keys.c.date).order_by(keys.c.kind, keys.c.id)


def summary(f: Filters) -> tuple[int, dt.datetime | None]:
    """(number of processes, the latest release date) for the filters."""
    keys = process_keys(f)
    count, latest = db.session.execute(select(func.count(), func.max(keys.c.date))).one()
    if isinstance(latest, str):  # SQLite's MAX over the union loses the column type
        latest = dt.datetime.fromisoformat(latest)
    if latest is not None and latest.tzinfo is None:
        latest = latest.replace(tzinfo=dt.UTC)
    return count or 0, latest


def municipality_by_code(code: str) -> Municipality | None:
    return db.session.scalar(select(Municipality).where(Municipality.code == code.upper()))


def find_process(ocid: str) -> Filters | None:
    """The filters naming the one process of ``ocid`` (None: not one of ours)."""
    prefix = current_app.config["OCDS_PREFIX"] + "-"
    if not ocid.startswith(prefix):
        return None
    kind, _, key = ocid[len(prefix):].partition("-")
    ident: int | None = None
    if kind == "plan":
        ident = db.session.scalar(select(PlanItem.id).join(PlanVersion, PlanVersion.id == PlanItem.plan_version_id)
                                  .where(PlanItem.uid == key, PlanVersion.state == PlanState.PUBLISHED))
    elif kind == "fa":
        kind, ident = "framework", db.session.scalar(select(FrameworkAgreement.id)
                                                     .where(FrameworkAgreement.code == key))
    elif kind in ("tender", "calloff", "contract") and key.isdigit() and len(key) < 12:
        ident = int(key)
    if ident is None:
        return None
    return Filters(kind=kind, ident=ident)


# --- loading a batch and building its releases ------------------------------------------------------

class CpvLabels(dict):
    """CPV code → label, read from the table the first time a code is asked for (bounded by the
    vocabulary, not by the number of processes)."""

    def __init__(self, session: Session, lang: str) -> None:
        super().__init__()
        self.session, self.column = session, CpvCode.label_lt if lang == "lt" else CpvCode.label_en

    def __missing__(self, code: str) -> str | None:
        value = self.session.scalar(select(self.column).where(CpvCode.code == code))
        self[code] = value
        return value


def english_labels() -> dict[str, dict[str, str]]:
    with force_locale("en"):
        return {name: {k: str(v) for k, v in enum.labels().items()}
                for name, enum in (("procedure", Procedure), ("priority_area", PriorityArea),
                                   ("call_off_method", CallOffMethod))}


def lookups(session: Session, lang: str = "en") -> ocds.Lookups:
    """What every batch shares: the verified statuses, the published frameworks, the labels."""
    statuses: dict[int, list[tuple[str, str]]] = {}
    with force_locale("en"):
        for sid, basis in session.execute(_current_verified(dt.date.today()).distinct()
                                          .order_by(SupplierStatus.supplier_id, SupplierStatus.basis)):
            statuses.setdefault(sid, []).append((basis.value, str(BASIS_PLAIN[basis])))
    frameworks = dict(session.execute(select(FrameworkAgreement.id, FrameworkAgreement.code)
                                      .where(FrameworkAgreement.state != FrameworkState.PLANNED)).all())
    return ocds.Lookups(prefix=current_app.config["OCDS_PREFIX"], lang=lang, cpv=CpvLabels(session, lang),
                        statuses=statuses, frameworks=frameworks, labels=english_labels())


def _load(session: Session, kind: str, ids: list[int]) -> dict[int, Any]:
    if kind == "plan":
        stmt = select(PlanItem).options(selectinload(PlanItem.additional_cpv)).where(PlanItem.id.in_(ids))
    elif kind == "framework":
        stmt = (select(FrameworkAgreement).where(FrameworkAgreement.id.in_(ids))
                .options(selectinload(FrameworkAgreement.participants), selectinload(FrameworkAgreement.parties)))
    elif kind == "tender":
        stmt = (select(Tender).where(Tender.id.in_(ids)).options(
            selectinload(Tender.plan_links),
            selectinload(Tender.lots).options(
                selectinload(Lot.criteria), selectinload(Lot.bids),
                selectinload(Lot.contract).selectinload(Contract.milestones))))
    elif kind == "calloff":
        stmt = (select(CallOff).where(CallOff.id.in_(ids))
                .options(joinedload(CallOff.framework), selectinload(CallOff.contract).selectinload(Contract.milestones)))
    else:
        stmt = select(Contract).where(Contract.id.in_(ids)).options(selectinload(Contract.milestones))
    return {obj.id: obj for obj in session.scalars(stmt).unique()}


def _contracts_of(kind: str, obj: Any) -> list[Any]:
    if kind == "tender":
        return [lot.contract for lot in obj.lots if lot.contract is not None]
    if kind == "calloff":
        return [obj.contract] if obj.contract is not None else []
    return [obj] if kind == "contract" else []


def build_batch(session: Session, rows: Sequence[Any], lk: ocds.Lookups) -> list[dict[str, Any]]:
    """The releases of the keys ``rows`` (kind rank, id, date), in their order."""
    by_kind: dict[str, list[int]] = {}
    for row in rows:
        by_kind.setdefault(KINDS[row.kind], []).append(row.id)
    loaded = {kind: _load(session, kind, ids) for kind, ids in by_kind.items()}
    contract_ids = [c.id for kind, objs in loaded.items() for obj in objs.values() for c in _contracts_of(kind, obj)]
    lk.invoices = {}
    if contract_ids:
        for inv in session.scalars(select(Invoice).where(Invoice.contract_id.in_(contract_ids))
                                   .options(lazyload(Invoice.contract), selectinload(Invoice.payments))
                                   .order_by(Invoice.received_on, Invoice.id)):
            lk.invoices.setdefault(inv.contract_id, []).append(inv)
    uids = [link.item_uid for t in loaded.get("tender", {}).values() for link in t.plan_links]
    lk.published_uids = set(session.scalars(
        select(PlanItem.uid).join(PlanVersion, PlanVersion.id == PlanItem.plan_version_id)
        .where(PlanItem.uid.in_(uids), PlanVersion.state == PlanState.PUBLISHED))) if uids else set()
    out = []
    for row in rows:
        kind = KINDS[row.kind]
        date = row.date if isinstance(row.date, dt.datetime) else dt.datetime.fromisoformat(str(row.date))
        if date.tzinfo is None:
            date = date.replace(tzinfo=dt.UTC)
        out.append(ocds.BUILDERS[kind](loaded[kind][row.id], date, lk))
    return out


def private_session() -> Session:
    """An ORM session of its own on the request session's connection (same transaction, same data),
    so that forgetting a batch's records touches nothing else. It only reads: it joins the connection's
    transaction without savepoints of its own, and closing it leaves that transaction alone."""
    return Session(bind=db.session.connection(), autoflush=False, expire_on_commit=False,
                   join_transaction_mode="rollback_only")


def releases(f: Filters, lang: str = "en", offset: int = 0, limit: int | None = None,
             batch: int = BATCH) -> Iterator[dict[str, Any]]:
    """The releases of the matching processes in order; a page with ``limit``, otherwise all of them
    streamed ``batch`` at a time in constant memory."""
    session = private_session()
    try:
        lk = lookups(session, lang)
        stmt = ordered(process_keys(f))
        if limit is not None:
            stmt = stmt.limit(limit).offset(offset)
        result = db.session.execute(stmt.execution_options(yield_per=batch))
        for rows in result.partitions():
            yield from build_batch(session, rows, lk)
            session.expunge_all()
    finally:
        session.close()


# --- the package ------------------------------------------------------------------------------------

def publisher() -> dict[str, Any]:
    """The regional development council (we hold no registration code for it: no scheme/uid)."""
    region = db.session.scalar(select(Region).order_by(Region.id).limit(1))
    name = (region.council_name_en or region.council_name_lt) if region else "SRPP"
    return {"name": name, "uri": current_app.config["BASE_URL"]}


def package_meta(uri: str, published: dt.datetime | None) -> dict[str, Any]:
    return {
        "uri": uri, "version": "1.1", "extensions": list(ocds.EXTENSIONS.values()),
        "publishedDate": ocds.stamp(published or dt.datetime.now(dt.UTC)), "publisher": publisher(),
        "license": current_app.config["OCDS_LICENSE"],
    }


def dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def write_package(meta: dict[str, Any], items: Iterable[dict[str, Any]], chunk: int = 1 << 16) -> Iterator[str]:
    """The package as JSON text in chunks of about ``chunk`` characters, one release at a time."""
    head = dumps(meta)
    parts = [head[:-1] + ',"releases":[']
    size, first = len(parts[0]), True
    for rel in items:
        text = dumps(rel) if first else "," + dumps(rel)
        first = False
        parts.append(text)
        size += len(text)
        if size >= chunk:
            yield "".join(parts)
            parts, size = [], 0
    parts.append("]}")
    yield "".join(parts)


def full_package(uri: str, f: Filters, lang: str = "en", batch: int = BATCH) -> Iterator[str]:
    """The whole release package of ``f``, streamed."""
    _count, latest = summary(f)
    return write_package(package_meta(uri, latest), releases(f, lang, batch=batch))
