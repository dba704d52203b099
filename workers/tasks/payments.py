"""The daily payment scan: invoices and milestones due or late, notifications to finance officers."""

from __future__ import annotations

from celery import shared_task
from flask import current_app

from srpp.core import jobs
from srpp.extensions import db


@shared_task(name="srpp.payments.daily_scan", acks_late=True, autoretry_for=(Exception,), retry_backoff=True,
             max_retries=3)
def daily_scan() -> dict[str, int]:
    from srpp.payments.services import daily_scan as scan

    with current_app.test_request_context(base_url=current_app.config["BASE_URL"]):
        jobs.exclusive("payments.daily_scan")
        counts = scan()
        db.session.commit()
    return counts
