"""Scheduled work of the plans area."""

from __future__ import annotations

from celery import shared_task

from srpp.core import jobs
from srpp.extensions import db


@shared_task(name="srpp.plans.review_scan", acks_late=True, autoretry_for=(Exception,), retry_backoff=True,
             max_retries=3)
def review_scan() -> int:
    from flask import current_app

    from srpp.plans.services import review_scan as scan

    with current_app.test_request_context(base_url=current_app.config["BASE_URL"]):
        jobs.exclusive("plans.review_scan")
        sent = scan()
        db.session.commit()
    return sent
