"""Health: a task the admin can ping, and a heartbeat beat sends every 30 seconds."""

from __future__ import annotations

from celery import shared_task

from srpp.core import jobs


@shared_task(name="srpp.health.ping", bind=True, acks_late=True, max_retries=3, default_retry_delay=5)
def ping(self, job_id: int) -> None:
    job = jobs.start(job_id)
    if job is None:
        return
    try:
        jobs.beat()
        jobs.finish(job, {"worker": job.worker})
    except Exception as exc:
        jobs.fail(job_id, repr(exc))
        raise self.retry(exc=exc) from exc


@shared_task(name="srpp.health.heartbeat", acks_late=True)
def heartbeat() -> None:
    jobs.beat()


@shared_task(name="srpp.jobs.requeue_stale", acks_late=True)
def requeue_stale() -> int:
    return jobs.requeue_stale()
