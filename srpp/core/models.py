"""Cross-cutting tables: audit events, settings, notifications, background jobs, worker heartbeats."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from srpp.core.db import Base, enum_type, utcnow
from srpp.core.enums import LabelledEnum
from srpp.core.logs import current_request_id


class AuditAction(LabelledEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    ERASE = "erase"

    @classmethod
    def labels(cls) -> dict[str, object]:
        return {"create": _l("created"), "update": _l("changed"), "delete": _l("deleted"), "erase": _l("erased")}


class AuditEvent(Base):
    """One change of one entity. ``changes`` maps field -> [old, new] (JSON-safe values)."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    actor_label: Mapped[str] = mapped_column(String(254), default="system")
    entity_type: Mapped[str] = mapped_column(String(60))
    entity_id: Mapped[str] = mapped_column(String(60))
    entity_label: Mapped[str] = mapped_column(String(300), default="")
    action: Mapped[AuditAction] = mapped_column(enum_type(AuditAction, 10))
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    municipality_id: Mapped[int | None] = mapped_column(index=True)
    request_id: Mapped[str | None] = mapped_column(String(40))

    actor = relationship("User", lazy="joined")

    __table_args__ = (Index("ix_audit_events_entity", "entity_type", "entity_id"),)


class Setting(Base):
    """Admin-editable business parameters (JSON value), declared with defaults in code."""

    __tablename__ = "settings"
    __audited__ = True

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def id(self) -> str:
        return self.key


class Notification(Base):
    """An in-app notification; the same row records whether (and when) it was e-mailed."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(60))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str | None] = mapped_column(String(500))
    dedupe_key: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    read_at: Mapped[dt.datetime | None]
    emailed_at: Mapped[dt.datetime | None]

    __table_args__ = (UniqueConstraint("user_id", "dedupe_key", name="uq_notifications_user_dedupe"),)


class JobState(LabelledEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"

    @classmethod
    def labels(cls) -> dict[str, object]:
        return {"queued": _l("queued"), "running": _l("running"), "done": _l("done"), "failed": _l("failed")}


class JobRun(Base):
    """A unit of background work the user can see: committed before the task is sent."""

    __tablename__ = "job_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    task: Mapped[str] = mapped_column(String(120), index=True)
    state: Mapped[JobState] = mapped_column(enum_type(JobState, 10), default=JobState.QUEUED)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # the request (or the job) that asked for it: the worker's log lines of the job carry the same id
    request_id: Mapped[str | None] = mapped_column(String(40), default=lambda: (current_request_id() or None))
    worker: Mapped[str | None] = mapped_column(String(200))
    queued_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]

    requested_by = relationship("User")

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class WorkerHeartbeat(Base):
    """Last time each Celery worker (or the in-process runner) answered a health task."""

    __tablename__ = "worker_heartbeats"

    worker: Mapped[str] = mapped_column(String(200), primary_key=True)
    last_seen: Mapped[dt.datetime] = mapped_column(default=utcnow)
    in_process: Mapped[bool] = mapped_column(default=False)


class CacheGeneration(Base):
    """A counter per cached area, bumped in the same transaction as the change it invalidates."""

    __tablename__ = "cache_generations"

    namespace: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(default=0)
