"""Administration read models: the audit log with filters."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Select, select

from srpp.auth.models import User
from srpp.core.models import AuditEvent
from srpp.core.permissions import require


@dataclass
class AuditFilter:
    entity_type: str | None = None
    entity_id: str | None = None
    actor: str | None = None
    action: str | None = None
    municipality_id: int | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None


def audit_query(actor: User, f: AuditFilter) -> Select:
    require(actor, "audit.view")
    stmt = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    if f.entity_type:
        stmt = stmt.where(AuditEvent.entity_type == f.entity_type)
    if f.entity_id:
        stmt = stmt.where(AuditEvent.entity_id == f.entity_id)
    if f.actor:
        stmt = stmt.where(AuditEvent.actor_label.ilike(f"%{f.actor.strip()}%"))
    if f.action:
        stmt = stmt.where(AuditEvent.action == f.action)
    if f.municipality_id:
        stmt = stmt.where(AuditEvent.municipality_id == f.municipality_id)
    if f.date_from:
        stmt = stmt.where(AuditEvent.at >= dt.datetime.combine(f.date_from, dt.time.min, dt.UTC))
    if f.date_to:
        stmt = stmt.where(AuditEvent.at < dt.datetime.combine(f.date_to + dt.timedelta(days=1), dt.time.min, dt.UTC))
    return stmt


def audited_entity_types() -> list[str]:
    from srpp.core.db import Base

    return sorted(m.class_.__name__ for m in Base.registry.mappers if getattr(m.class_, "__audited__", False))
