"""Municipalities, suppliers and the region: reading and the few edits the foundation allows."""

from __future__ import annotations

from sqlalchemy import select

from srpp.auth.models import User
from srpp.core import cache
from srpp.core.audit import bind_actor
from srpp.core.permissions import require
from srpp.core.services import check_version
from srpp.extensions import db
from srpp.orgs.models import Municipality, Region, ServiceCategory, Supplier

MUNICIPALITY_CONTACT_FIELDS = ("contact_email", "contact_phone", "address", "website", "procurement_note")


def municipalities() -> list[Municipality]:
    return list(db.session.scalars(select(Municipality).order_by(Municipality.sort_order, Municipality.code)))


def municipality_by_code(code: str) -> Municipality | None:
    return db.session.scalar(select(Municipality).where(Municipality.code == (code or "").upper()))


def regions() -> list[Region]:
    return list(db.session.scalars(select(Region).order_by(Region.code)))


def suppliers() -> list[Supplier]:
    return list(db.session.scalars(select(Supplier).order_by(Supplier.legal_name)))


def categories() -> list[ServiceCategory]:
    return list(db.session.scalars(select(ServiceCategory).order_by(ServiceCategory.sort_order)))


def update_municipality_contacts(actor: User, municipality: Municipality, data: dict, version: int | str) -> None:
    require(actor, "municipality.edit", municipality)
    check_version(municipality, version)
    bind_actor(db.session(), actor)
    for field in MUNICIPALITY_CONTACT_FIELDS:
        value = data.get(field)
        setattr(municipality, field, value.strip() if isinstance(value, str) and value.strip() else None)
    cache.bump("pipeline")  # item pages show the municipality's contact
    db.session.flush()


SUPPLIER_EDIT_FIELDS = ("description_lt", "description_en", "staff_count", "max_contract_value",
                        "contact_name", "contact_email", "contact_phone")


def update_supplier_profile(actor: User, supplier: Supplier, data: dict, version: int | str) -> None:
    require(actor, "supplier.edit", supplier)
    check_version(supplier, version)
    bind_actor(db.session(), actor)
    for field in SUPPLIER_EDIT_FIELDS:
        value = data.get(field)
        if isinstance(value, str):
            value = value.strip() or None
        setattr(supplier, field, value)
    db.session.flush()
