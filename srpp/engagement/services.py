"""Market engagement: social economy organisations say they are interested in an upcoming plan
item or an open lot (and whether they look for consortium partners).

Who sees what:
* the public sees only how many organisations are interested (``interested_count``);
* the organisation's own members see and withdraw their organisation's interests;
* the staff of the municipality (and the regional readers: "tender.view_draft") see which
  organisations are interested, whether they look for partners, and their notes.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, joinedload, lazyload

from srpp.auth.models import User
from srpp.core import cache
from srpp.core.audit import bind_actor
from srpp.core.errors import DomainError
from srpp.core.permissions import PermissionDenied, require, rule
from srpp.extensions import db
from srpp.orgs.models import Supplier
from srpp.plans.models import PlanItem, PlanState, PlanVersion
from srpp.public import services as pipeline
from srpp.suppliers.models import MarketInterest
from srpp.tenders.models import Lot, Tender

MAX_NOTE_CHARS = 1000


@rule("interest.list")
def _interest_list(user: User, obj: object) -> bool:
    """See the own organisations' interests (the navigation entry): SEO members."""
    return bool(user.supplier_ids())


def organisations_of(user: User) -> list[Supplier]:
    """The organisations for which ``user`` may register interest."""
    ids = user.supplier_ids()
    if not ids:
        return []
    return list(db.session.scalars(select(Supplier).where(Supplier.id.in_(ids)).order_by(Supplier.legal_name)))


def _clean_note(note: str | None) -> str | None:
    note = (note or "").strip()
    if len(note) > MAX_NOTE_CHARS:
        raise DomainError(_("The note may be at most %(num)d characters long.", num=MAX_NOTE_CHARS), field="note")
    return note or None


def _check_item(uid: str) -> PlanItem:
    item = pipeline.published_item(uid)
    if item is None:
        raise DomainError(_("There is no published plan item with this reference."))
    if not pipeline.item_is_open(item):
        raise DomainError(_("“%(title)s” is no longer upcoming (%(state)s): register interest in the lots of its "
                            "tender instead, when they are open.", title=item.title, state=item.state.label))
    return item


def _check_lot(lot: Lot) -> None:
    if not pipeline.lot_is_open(lot):
        raise DomainError(_("Lot %(n)s “%(title)s” is not open for interest: its tender is %(tender)s and the lot "
                            "is %(state)s.", n=lot.number, title=lot.title, tender=lot.tender.state.label,
                            state=lot.state.label))


def _existing(supplier: Supplier, plan_item_uid: str | None, lot: Lot | None) -> MarketInterest | None:
    stmt = select(MarketInterest).where(MarketInterest.supplier_id == supplier.id)
    if lot is not None:
        stmt = stmt.where(MarketInterest.lot_id == lot.id)
    else:
        stmt = stmt.where(MarketInterest.plan_item_uid == plan_item_uid)
    return db.session.scalar(stmt)


def register_interest(actor: User, supplier: Supplier, *, plan_item_uid: str | None = None, lot: Lot | None = None,
                      seeks_partners: bool = False, note: str | None = None) -> MarketInterest:
    """``supplier`` is interested in a currently published, not launched plan item or in an open
    lot of a published tender. Registering again updates the existing interest."""
    require(actor, "interest.register", supplier)
    if (plan_item_uid is None) == (lot is None):
        raise DomainError(_("Choose either a plan item or a lot."))
    if lot is not None:
        _check_lot(lot)
    else:
        plan_item_uid = _check_item(plan_item_uid).uid
    note = _clean_note(note)
    bind_actor(db.session(), actor)
    interest = _existing(supplier, plan_item_uid, lot)
    if interest is None:
        interest = MarketInterest(supplier_id=supplier.id, plan_item_uid=plan_item_uid,
                                  lot_id=lot.id if lot is not None else None, created_by_id=actor.id,
                                  seeks_partners=bool(seeks_partners), note=note)
        try:
            with db.session.begin_nested():
                db.session.add(interest)
        except IntegrityError:  # registered at the same moment by a colleague: update that one
            interest = _existing(supplier, plan_item_uid, lot)
            if interest is None:
                raise
    interest.seeks_partners = bool(seeks_partners)
    interest.note = note
    cache.bump("pipeline")
    db.session.flush()
    return interest


def withdraw_interest(actor: User, interest: MarketInterest) -> None:
    """Only the organisation's own members withdraw its interest."""
    require(actor, "interest.register", interest.supplier)
    bind_actor(db.session(), actor)
    db.session.delete(interest)
    cache.bump("pipeline")
    db.session.flush()


def interested_count(*, plan_item_uid: str | None = None, lot: Lot | int | None = None) -> int:
    """How many organisations are interested (the only figure the public sees)."""
    stmt = select(func.count(MarketInterest.id))
    if lot is not None:
        stmt = stmt.where(MarketInterest.lot_id == (lot if isinstance(lot, int) else lot.id))
    elif plan_item_uid is not None:
        stmt = stmt.where(MarketInterest.plan_item_uid == plan_item_uid)
    else:
        raise ValueError("plan_item_uid or lot")
    return db.session.scalar(stmt) or 0


def _listing(stmt):
    return list(db.session.scalars(
        stmt.join(MarketInterest.supplier)
        .options(contains_eager(MarketInterest.supplier).options(lazyload(Supplier.categories),
                                                                 lazyload(Supplier.municipalities)))
        .order_by(MarketInterest.seeks_partners.desc(), Supplier.legal_name, MarketInterest.id)))


def interests_for_lot(actor: User, lot: Lot) -> list[MarketInterest]:
    """The interested organisations of a lot: the municipality's staff and the regional readers."""
    require(actor, "tender.view_draft", lot.municipality)
    return _listing(select(MarketInterest).where(MarketInterest.lot_id == lot.id))


def interests_for_item(actor: User, item: PlanItem) -> list[MarketInterest]:
    require(actor, "tender.view_draft", item.municipality)
    return _listing(select(MarketInterest).where(MarketInterest.plan_item_uid == item.uid))


def item_by_uid(uid: str) -> PlanItem | None:
    """The item in its published version, else in its latest version (officers look back too)."""
    item = pipeline.published_item(uid)
    if item is not None:
        return item
    return db.session.scalars(select(PlanItem).join(PlanItem.plan_version).where(PlanItem.uid == uid)
                              .order_by(PlanVersion.number.desc()).limit(1)).first()


@dataclass
class InterestRow:
    """One of an organisation's interests with what it is about."""

    interest: MarketInterest
    title: str
    url: str | None
    municipality: str
    kind_label: str
    is_open: bool
    tender_title: str | None = None


def interests_of(actor: User, supplier: Supplier | None = None) -> list[InterestRow]:
    """The interests of the actor's organisations (or of one of them). Never another's."""
    ids = actor.supplier_ids()
    if supplier is not None:
        if supplier.id not in ids:
            raise PermissionDenied("interest.register")
        ids = {supplier.id}
    if not ids:
        raise PermissionDenied("interest.list")
    interests = _listing(select(MarketInterest).where(MarketInterest.supplier_id.in_(ids)))
    uids = {i.plan_item_uid for i in interests if i.plan_item_uid}
    lot_ids = {i.lot_id for i in interests if i.lot_id}
    items: dict[str, PlanItem] = {}
    if uids:
        for item in db.session.scalars(
                select(PlanItem).join(PlanItem.plan_version)
                .where(PlanItem.uid.in_(uids), PlanVersion.state == PlanState.PUBLISHED)
                .options(contains_eager(PlanItem.plan_version), joinedload(PlanItem.municipality),
                         lazyload(PlanItem.additional_cpv))):
            items[item.uid] = item
    lots: dict[int, Lot] = {}
    if lot_ids:
        for lot in db.session.scalars(select(Lot).join(Lot.tender).where(Lot.id.in_(lot_ids))
                                      .options(contains_eager(Lot.tender).lazyload(Tender.mandates),
                                               lazyload(Lot.additional_cpv))):
            lots[lot.id] = lot
    rows = []
    for i in sorted(interests, key=lambda x: x.created_at, reverse=True):
        if i.lot_id is not None:
            lot = lots.get(i.lot_id)
            if lot is None:
                continue
            public = lot.tender.state in pipeline.PUBLIC_TENDER_STATES and lot.tender.published_at is not None
            rows.append(InterestRow(i, f"{lot.number}. {lot.title}", pipeline._path("public.lot", lot_id=lot.id)
                                    if public else None, lot.municipality.name, _("Open lot"),
                                    pipeline.lot_is_open(lot), lot.tender.title))
        else:
            item = items.get(i.plan_item_uid)
            if item is None:
                rows.append(InterestRow(i, _("(an item no longer in a published plan)"), None, "—",
                                        _("Planned procurement"), False))
                continue
            rows.append(InterestRow(i, item.title, pipeline._path("public.item", uid=item.uid),
                                    item.municipality.name, _("Planned procurement"),
                                    item.state in pipeline.OPEN_STATES))
    return rows


def own_interest(user: User, *, plan_item_uid: str | None = None, lot: Lot | None = None) -> MarketInterest | None:
    """The interest the user's organisation already registered here (for the form on the page)."""
    ids = user.supplier_ids() if getattr(user, "is_authenticated", False) else set()
    if not ids:
        return None
    stmt = select(MarketInterest).where(MarketInterest.supplier_id.in_(ids))
    stmt = stmt.where(MarketInterest.lot_id == lot.id) if lot is not None else stmt.where(
        MarketInterest.plan_item_uid == plan_item_uid)
    return db.session.scalars(stmt.order_by(MarketInterest.id).limit(1)).first()
