"""Scheduled work of the frameworks area: expiry of frameworks and opt-outs that have come due."""

from __future__ import annotations

from celery import shared_task

from srpp.core import jobs
from srpp.extensions import db


@shared_task(name="srpp.frameworks.daily", acks_late=True, autoretry_for=(Exception,), retry_backoff=True,
             max_retries=3)
def daily() -> dict[str, int]:
    """Expire frameworks past their end and carry out opt-outs whose effective date has come
    (both idempotent)."""
    from flask import current_app

    from srpp.frameworks.services import execute_opt_outs, expire_frameworks

    with current_app.test_request_context(base_url=current_app.config["BASE_URL"]):
        jobs.exclusive("frameworks.daily")
        expired = expire_frameworks()
        withdrawn = execute_opt_outs()
        db.session.commit()
    return {"expired": expired, "withdrawn": withdrawn}
