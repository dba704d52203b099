"""Scheduled work of the SEO directory: expire ended eligibility statuses, warn before they end."""

from __future__ import annotations

import datetime as dt

from celery import shared_task

from srpp.core import jobs
from srpp.extensions import db


@shared_task(name="srpp.suppliers.daily_status_scan", acks_late=True, autoretry_for=(Exception,),
             retry_backoff=True, max_retries=3)
def daily_status_scan() -> dict[str, int]:
    """Idempotent: a re-delivery expires nothing twice and sends no second warning."""
    from flask import current_app

    from srpp.suppliers.services import expire_statuses, warn_expiring

    today = dt.date.today()
    with current_app.test_request_context(base_url=current_app.config["BASE_URL"]):
        try:
            jobs.exclusive("suppliers.daily_status_scan")
            expired = expire_statuses(today)
            warned = warn_expiring(today)
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
    return {"expired": expired, "warned": warned}
