"""The public pipeline: daily e-mail digests of saved searches."""

from __future__ import annotations

from celery import shared_task

from srpp.core import jobs
from srpp.core.db import utcnow
from srpp.extensions import db
from srpp.public import services


@shared_task(name="srpp.public.send_digests", acks_late=True)
def send_digests() -> int:
    """Idempotent (hits and the per-day dedupe key), so a re-delivery sends nothing twice."""
    try:
        jobs.exclusive("public.send_digests")
        sent = services.send_digests(utcnow())
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return sent
