"""Background jobs as rows: create the row, commit it, then send the task with the row's id.

If the broker cannot be reached, the row stays ``queued`` and ``requeue_stale`` (run by beat)
sends it again later; the request still answers."""

from __future__ import annotations

import datetime as dt
import logging
import socket
from typing import Any

from celery import Task
from flask import current_app, g, has_request_context
from sqlalchemy import select, text, update

from srpp.core.db import utcnow
from srpp.core.models import JobRun, JobState, WorkerHeartbeat
from srpp.extensions import db

log = logging.getLogger("srpp.jobs")


def submit(task: Task, *, payload: dict[str, Any] | None = None, actor: Any = None) -> JobRun:
    job = JobRun(
        task=task.name,
        payload=payload or {},
        requested_by_id=getattr(actor, "id", None),
        request_id=g.get("request_id") if has_request_context() else None,
    )
    db.session.add(job)
    db.session.commit()
    send(task, job)
    return job


def send(task: Task, job: JobRun) -> bool:
    # resolve the task on this Flask app's own Celery app (several apps may live in one process)
    bound = current_app.extensions["celery"].tasks.get(task.name, task)
    try:
        bound.apply_async(args=[job.id], headers={"request_id": job.request_id})
        return True
    except Exception as exc:  # broker down: keep the row queued, it is retried by requeue_stale
        log.warning("could not send task %s for job %s: %s", task.name, job.id, exc)
        return False


def start(job_id: int, worker: str | None = None) -> JobRun | None:
    """Mark a job running; returns None when it is already finished (idempotent re-delivery)."""
    job = db.session.get(JobRun, job_id, with_for_update=True)
    if job is None or job.state in (JobState.DONE,):
        db.session.rollback()
        return None
    job.state = JobState.RUNNING
    job.attempts += 1
    job.started_at = utcnow()
    job.worker = worker or worker_name()
    db.session.commit()
    return job


def finish(job: JobRun, result: dict[str, Any] | None = None) -> None:
    job.state = JobState.DONE
    job.result = result
    job.error = None
    job.finished_at = utcnow()
    db.session.commit()


def fail(job_id: int, error: str) -> None:
    db.session.rollback()
    db.session.execute(
        update(JobRun)
        .where(JobRun.id == job_id)
        .values(state=JobState.FAILED, error=error[:4000], finished_at=utcnow())
    )
    db.session.commit()


def exclusive(name: str) -> None:
    """Serialise a scheduled task with a second run of itself (two beats, a re-delivery while it runs): on
    PostgreSQL the second run waits here until the first commits, then finds the work done. The advisory lock is
    held until the end of the session's transaction, so call this first, before reading anything. SQLite
    serialises writers by itself."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("select pg_advisory_xact_lock(hashtext(:name))"), {"name": f"srpp.task:{name}"})


def worker_name() -> str:
    if current_app.config.get("CELERY_EAGER"):
        return "in-process"
    return f"celery@{socket.gethostname()}"


def beat(worker: str | None = None) -> None:
    name = worker or worker_name()
    hb = db.session.get(WorkerHeartbeat, name)
    if hb is None:
        hb = WorkerHeartbeat(worker=name, in_process=name == "in-process")
        db.session.add(hb)
    hb.last_seen = utcnow()
    db.session.commit()


def workers_alive(window_seconds: int | None = None) -> list[WorkerHeartbeat]:
    window = window_seconds or current_app.config["WORKER_ALIVE_SECONDS"]
    since = utcnow() - dt.timedelta(seconds=window)
    return list(db.session.scalars(select(WorkerHeartbeat).where(WorkerHeartbeat.last_seen >= since)))


def all_heartbeats() -> list[WorkerHeartbeat]:
    return list(db.session.scalars(select(WorkerHeartbeat).order_by(WorkerHeartbeat.last_seen.desc())))


def requeue_stale(older_than_seconds: int = 60) -> int:
    """Send again the jobs still queued (e.g. the broker was down when they were requested)."""
    celery_app = current_app.extensions["celery"]
    cutoff = utcnow() - dt.timedelta(seconds=older_than_seconds)
    stale = db.session.scalars(
        select(JobRun).where(JobRun.state == JobState.QUEUED, JobRun.queued_at < cutoff).limit(500)
    ).all()
    sent = 0
    for job in stale:
        task = celery_app.tasks.get(job.task)
        if task is not None and send(task, job):
            sent += 1
    return sent
