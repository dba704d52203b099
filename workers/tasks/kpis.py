"""The computed indicators: recomputed daily by beat (no job row) and on demand from /indicators
(a visible job: the task gets its id). Idempotent: the values are upserted per indicator, scope and
half-year, so a re-delivery or a second run changes nothing."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from flask import current_app

from srpp.core import jobs
from srpp.extensions import db


@shared_task(name="srpp.kpis.recompute", bind=True, acks_late=True, max_retries=3, default_retry_delay=30)
def recompute(self, job_id: int | None = None) -> dict[str, Any] | None:
    """Recompute the current and the previous half-year for the region and every municipality."""
    from srpp.kpis.services import recompute_recent

    with current_app.test_request_context(base_url=current_app.config["BASE_URL"]):
        job = None
        if job_id is not None:
            job = jobs.start(job_id)
            if job is None:
                return None
        try:
            jobs.exclusive("kpis.recompute")
            result = {"periods": [r.as_json() for r in recompute_recent()]}
            from srpp.risks.services import scan_alerts

            scan_alerts()  # a value that turned red alerts its risks' owners now, not at the next daily scan
            db.session.commit()
        except Exception as exc:
            db.session.rollback()
            if job_id is not None:
                jobs.fail(job_id, repr(exc))
            raise self.retry(exc=exc) from exc
        if job is not None:
            jobs.finish(job, result)
        return result
