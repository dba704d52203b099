"""The data protocol's daily work: open the half-year that ended last (its submissions) and remind the
people reporting of submissions due soon or overdue."""

from __future__ import annotations

from celery import shared_task
from flask import current_app

from srpp.core import jobs
from srpp.extensions import db


@shared_task(name="srpp.reporting.reminders", acks_late=True, autoretry_for=(Exception,), retry_backoff=True,
             max_retries=3)
def reminders() -> dict[str, int]:
    from srpp.reporting.services import daily

    with current_app.test_request_context(base_url=current_app.config["BASE_URL"]):
        jobs.exclusive("reporting.reminders")
        counts = daily()
        db.session.commit()
    return counts
