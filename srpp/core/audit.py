"""Automatic audit trail.

Every flush that creates, changes or deletes an entity whose class sets ``__audited__ = True``
writes one ``AuditEvent`` per entity, in the same transaction, with the fields that changed
(old -> new). The actor is bound to the session by the service layer (``bind_actor``); the
web layer binds the logged-in user at the start of each request as a default.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

from sqlalchemy import event, insert, inspect
from sqlalchemy.orm import Session, object_session
from sqlalchemy.orm.attributes import get_history
from sqlalchemy.orm.properties import ColumnProperty, RelationshipProperty

from srpp.core.db import Base, utcnow
from srpp.core.models import AuditAction, AuditEvent

_ACTOR_KEY = "srpp_actor"
_REQUEST_KEY = "srpp_request_id"
_DELETED_KEY = "srpp_deleted_rows"
_SKIP_ALWAYS = {"created_at", "updated_at"}


def bind_actor(session: Session, actor: Any | None, request_id: str | None = None) -> None:
    """Record who is acting for the changes flushed by this session from now on."""
    if actor is None:
        session.info.pop(_ACTOR_KEY, None)
    else:
        session.info[_ACTOR_KEY] = (getattr(actor, "id", None), getattr(actor, "email", str(actor)))
    if request_id is not None:
        session.info[_REQUEST_KEY] = request_id


def record(session: Session, *, entity_type: str, entity_id: Any, action: AuditAction, changes: dict[str, Any],
           entity_label: str = "", municipality_id: int | None = None) -> AuditEvent:
    """An explicit audit event for what the automatic trail cannot see (a password set from a reset
    link, an export or erasure of personal data), attributed to the actor bound to the session."""
    actor_id, actor_label = session.info.get(_ACTOR_KEY, (None, "system"))
    event_row = AuditEvent(at=utcnow(), actor_id=actor_id, actor_label=actor_label or "system",
                           entity_type=entity_type, entity_id=str(entity_id), entity_label=entity_label[:300],
                           action=action, changes=to_jsonable(changes), municipality_id=municipality_id,
                           request_id=session.info.get(_REQUEST_KEY))
    session.add(event_row)
    return event_row


def to_jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (list, tuple, set)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    ident = getattr(value, "id", None) or getattr(value, "code", None)
    return str(ident) if ident is not None else str(value)


def entity_label(obj: Any) -> str:
    for attr in ("audit_label", "title", "name_en", "legal_name", "email", "code", "key"):
        value = getattr(obj, attr, None)
        if value:
            return str(value)[:300]
    return ""


def _identity(obj: Any) -> str:
    # new objects have their primary key but no identity key yet in after_flush
    ident = inspect(obj).mapper.primary_key_from_instance(obj)
    return ",".join("" if i is None else str(i) for i in ident)


def _municipality_of(obj: Any) -> int | None:
    from srpp.orgs.models import Municipality

    if isinstance(obj, Municipality):
        return obj.id
    value = getattr(obj, "municipality_id", None)
    return value if isinstance(value, int) else None


def _changes(obj: Any, action: AuditAction) -> dict[str, list[Any]]:
    mapper = inspect(obj).mapper
    excluded = set(getattr(obj, "__audit_exclude__", ())) | _SKIP_ALWAYS
    changes: dict[str, list[Any]] = {}
    for prop in mapper.attrs:
        key = prop.key
        if key in excluded:
            continue
        if isinstance(prop, ColumnProperty):
            hist = get_history(obj, key)
            if action is AuditAction.CREATE:
                value = getattr(obj, key)
                if value is not None:
                    changes[key] = [None, to_jsonable(value)]
            elif action is AuditAction.DELETE:
                old = hist.unchanged[0] if hist.unchanged else (hist.deleted[0] if hist.deleted else None)
                if old is not None:
                    changes[key] = [to_jsonable(old), None]
            elif hist.has_changes():
                old = hist.deleted[0] if hist.deleted else None
                new = hist.added[0] if hist.added else None
                if to_jsonable(old) != to_jsonable(new):
                    changes[key] = [to_jsonable(old), to_jsonable(new)]
        elif isinstance(prop, RelationshipProperty) and prop.secondary is not None and action is not AuditAction.DELETE:
            hist = get_history(obj, key)
            if hist.has_changes():
                before = sorted(to_jsonable(v) for v in list(hist.unchanged) + list(hist.deleted))
                after = sorted(to_jsonable(v) for v in list(hist.unchanged) + list(hist.added))
                if before != after:
                    changes[key] = [before, after]
    return changes


def _collect_deleted(mapper: Any, connection: Any, target: Any) -> None:
    """Rows deleted during the flush, including orphans removed by a delete-orphan cascade (which
    never appear in ``session.deleted``)."""
    if getattr(type(target), "__audited__", False):
        session = object_session(target)
        if session is not None:
            session.info.setdefault(_DELETED_KEY, []).append(target)


event.listen(Base, "after_delete", _collect_deleted, propagate=True)


@event.listens_for(Session, "after_flush")
def _write_audit_events(session: Session, flush_context: Any) -> None:
    rows: list[dict[str, Any]] = []
    actor_id, actor_label = session.info.get(_ACTOR_KEY, (None, "system"))
    request_id = session.info.get(_REQUEST_KEY)
    now = utcnow()

    def add(obj: Any, action: AuditAction) -> None:
        if not getattr(type(obj), "__audited__", False):
            return
        changes = _changes(obj, action)
        if action is AuditAction.UPDATE and not changes:
            return
        rows.append(
            {
                "at": now,
                "actor_id": actor_id,
                "actor_label": actor_label or "system",
                "entity_type": type(obj).__name__,
                "entity_id": _identity(obj),
                "entity_label": entity_label(obj),
                "action": action,
                "changes": changes,
                "municipality_id": _municipality_of(obj),
                "request_id": request_id,
            }
        )

    for obj in session.new:
        add(obj, AuditAction.CREATE)
    for obj in session.dirty:
        if session.is_modified(obj, include_collections=True):
            add(obj, AuditAction.UPDATE)
    deleted = {id(obj): obj for obj in session.deleted}
    for obj in session.info.pop(_DELETED_KEY, []):
        deleted.setdefault(id(obj), obj)
    for obj in deleted.values():
        add(obj, AuditAction.DELETE)
    if rows:
        session.connection().execute(insert(AuditEvent), rows)
