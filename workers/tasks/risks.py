"""The daily risk scan: alerts of the risk register whose monitoring indicators turned red, and the
notification of each risk's owner (once per risk, indicator and period)."""

from __future__ import annotations

from celery import shared_task
from flask import current_app

from srpp.core import jobs
from srpp.extensions import db


@shared_task(name="srpp.risks.scan", acks_late=True, autoretry_for=(Exception,), retry_backoff=True,
             max_retries=3)
def scan() -> dict[str, int]:
    from srpp.risks.services import scan_alerts

    with current_app.test_request_context(base_url=current_app.config["BASE_URL"]):
        jobs.exclusive("risks.scan")
        counts = scan_alerts()
        db.session.commit()
    return counts
