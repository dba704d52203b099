"""Read operations of ``/api/v1``. Each is declared with ``spec.operation``: the declaration is both
the route and its entry in the OpenAPI document.

This module holds the municipalities and the helpers every read module shares; the resources live
in ``endpoints_plans`` (plans, versions, plan items), ``endpoints_tenders`` (tenders, lots, framework
agreements, call-offs), ``endpoints_contracts`` (contracts, payment milestones, invoices) and
``endpoints_indicators`` (indicators and their values), imported at the end.

Visibility mirrors the web pages: what an anonymous visitor cannot see on the web, an anonymous API
caller cannot see either. Lists are filtered to what the caller may see; a single resource the caller
may not see answers 404 to anonymous callers (the web does not tell them that a draft exists) and 403
to logged-in users and tokens. Contracts, milestones, invoices and call-offs need a login or a token
(401 otherwise)."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Sequence
from typing import Any, Literal

from flask_babel import gettext as _
from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, Table, and_, exists, or_, select
from sqlalchemy.orm import joinedload, lazyload

from srpp.api.spec import ApiError, Page, PageQuery, not_found, operation, paginate
from srpp.api.views import bp
from srpp.auth.models import User
from srpp.core.permissions import PermissionDenied, can
from srpp.extensions import db
from srpp.orgs.models import Municipality, ServiceCategory, Supplier

#: a municipality code as used in the filters (case-insensitive: ``rok`` = ``ROK``)
MUNICIPALITY_CODE = r"^[A-Za-z][A-Za-z-]{1,9}$"
#: a month: ``2027-03``
MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"
#: a CPV code or its prefix (digits, optionally the check digit)
CPV_PREFIX = r"^\d{1,8}(-\d)?$"
#: a half-year: ``2026H1``
HALF_YEAR = r"^\d{4}[Hh][12]$"


def values_of(enum_cls: type[enum.Enum]) -> Any:
    """``Literal[...]`` of an enum's values: validated as a query parameter (400 otherwise) and
    listed as the ``enum`` of the OpenAPI schema."""
    return Literal[tuple(m.value for m in enum_cls)]  # type: ignore[valid-type]


def municipality_id(code: str | None, parameter: str = "municipality") -> int | None:
    """The id of the municipality with this code; an unknown code is a 400 naming the parameter."""
    if not code:
        return None
    found = db.session.scalar(select(Municipality.id).where(Municipality.code == code.upper()))
    if found is None:
        raise ApiError(400, "invalid_parameter",
                       _("There is no municipality with the code “%(value)s”.", value=code[:20]),
                       parameter=parameter)
    return found


def category_id(key: str | None, parameter: str = "category") -> int | None:
    """The id of the service category with this key; an unknown key is a 400 naming the parameter."""
    if not key:
        return None
    found = db.session.scalar(select(ServiceCategory.id).where(ServiceCategory.key == key))
    if found is None:
        raise ApiError(400, "invalid_parameter", _("There is no service category “%(value)s”.", value=key[:40]),
                       parameter=parameter)
    return found


def permitted_municipality_ids(user: User | None, action: str) -> set[int]:
    """The municipalities for which ``user`` has the (municipality-scoped) permission ``action``,
    asked of the permission rule itself so the API cannot drift from the web pages."""
    if user is None:
        return set()
    return {m.id for m in db.session.scalars(select(Municipality)) if can(user, action, m)}


def month_start(raw: str | None) -> dt.date | None:
    return dt.date(int(raw[:4]), int(raw[5:7]), 1) if raw else None


def hidden(user: User | None, what: str, action: str) -> Exception:
    """What to raise for a resource the caller may not see: 404 for anonymous callers (the web
    pages do not tell them it exists), 403 for users who are logged in."""
    if user is None:
        return not_found(what)
    return PermissionDenied(action)


def paginate_all(stmt, query: PageQuery, convert: Callable[[Sequence[Any]], list[Any]]) -> Page[Any]:
    """``spec.paginate`` with a converter of the whole page at once, so it can load what the rows
    share (counts, sums) with one statement over the page's ids instead of one per row."""
    page = paginate(stmt, query, lambda row: row)
    page.data = convert(page.data)
    return page


def reservation_filter(column, reserved: bool | None, basis: str | None) -> list[ColumnElement[bool]]:
    """The ``reserved`` (any basis or none) and ``basis`` filters of plan items and lots."""
    from srpp.rules.models import ReservationBasis

    out = []
    if reserved is not None:
        out.append((column != ReservationBasis.NONE) if reserved else (column == ReservationBasis.NONE))
    if basis:
        out.append(column == ReservationBasis(basis))
    return out


def cpv_filter(main_cpv, additional: Table, owner_fk, owner_id, cpv: str) -> ColumnElement[bool]:
    """The main or an additional CPV code starts with ``cpv``'s digits (its division, group …)."""
    prefix = cpv.split("-")[0] + "%"
    return or_(main_cpv.like(prefix), exists().where(and_(owner_fk == owner_id, additional.c.cpv_code.like(prefix))))


def supplier_joined(relationship):
    """Join a supplier relationship, without the supplier's own collections (never shown here)."""
    return joinedload(relationship).options(lazyload(Supplier.categories), lazyload(Supplier.municipalities))


# --- shared response models ------------------------------------------------------------------

class SupplierRef(BaseModel):
    """An organisation (supplier). Contact persons are never included."""

    id: int
    legal_name: str
    company_code: str

    @classmethod
    def of(cls, s: Supplier | None) -> SupplierRef | None:
        return None if s is None else cls(id=s.id, legal_name=s.legal_name, company_code=s.company_code)


# --- municipalities --------------------------------------------------------------------------

class MunicipalityOut(BaseModel):
    id: int
    code: str = Field(description="the municipality's short code, used as a filter elsewhere")
    name_lt: str
    name_en: str
    type: str
    is_hub: bool

    @classmethod
    def of(cls, m: Municipality) -> MunicipalityOut:
        return cls(id=m.id, code=m.code, name_lt=m.name_lt, name_en=m.name_en, type=m.type.value, is_hub=m.is_hub)


@operation(bp, "/municipalities", summary="Municipalities of the region", tag="organisations",
           query=PageQuery, response=Page[MunicipalityOut], auth="public")
def municipalities(user, query, body):
    stmt = select(Municipality).order_by(Municipality.sort_order, Municipality.id)
    return paginate(stmt, query, MunicipalityOut.of)


@operation(bp, "/municipalities/<code>", summary="One municipality", tag="organisations",
           response=MunicipalityOut, auth="public")
def municipality(user, query, body, code: str):
    m = db.session.scalar(select(Municipality).where(Municipality.code == code))
    if m is None:
        raise not_found("Municipality")
    return MunicipalityOut.of(m)


# the resources register themselves on ``bp`` when imported
from srpp.api import (  # noqa: E402,F401
    endpoints_contracts,
    endpoints_indicators,
    endpoints_plans,
    endpoints_tenders,
)
