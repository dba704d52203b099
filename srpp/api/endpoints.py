"""Read operations of ``/api/v1``. Each is declared with ``spec.operation``: the declaration is both
the route and its entry in the OpenAPI document."""

from __future__ import annotations

from pydantic import BaseModel, Field
from sqlalchemy import select

from srpp.api.spec import Page, PageQuery, not_found, operation, paginate
from srpp.api.views import bp
from srpp.extensions import db
from srpp.orgs.models import Municipality


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
