"""Document generation and PDF conversion, and the daily expiry of old files.

Each task takes the job id only. Re-delivery is harmless (the services skip finished jobs and the
file row is unique); transient errors retry with backoff and leave the job visibly queued."""

from __future__ import annotations

from celery import shared_task
from flask import current_app

RETRIES = 4


def _run(task, fn, job_id: int) -> str:
    from srpp.documents import services

    with current_app.test_request_context(base_url=current_app.config["BASE_URL"]):
        try:
            return fn(job_id)
        except services.Transient as exc:
            if task.request.retries >= RETRIES:
                services.retry_exhausted(job_id, str(exc))
                return "failed"
            services.mark_queued_again(job_id, str(exc))
            raise task.retry(exc=exc, countdown=min(60, 2 ** (task.request.retries + 1))) from exc


@shared_task(name="srpp.documents.generate", bind=True, acks_late=True, max_retries=RETRIES)
def generate(self, job_id: int) -> str:
    from srpp.documents import services

    return _run(self, services.generate, job_id)


@shared_task(name="srpp.documents.convert_pdf", bind=True, acks_late=True, max_retries=RETRIES)
def convert_pdf(self, job_id: int) -> str:
    from srpp.documents import services

    return _run(self, services.convert_pdf, job_id)


@shared_task(name="srpp.documents.expire", acks_late=True, autoretry_for=(Exception,), retry_backoff=True,
             max_retries=3)
def expire() -> int:
    from srpp.documents.services import expire_old

    with current_app.test_request_context(base_url=current_app.config["BASE_URL"]):
        return expire_old()
