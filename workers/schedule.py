"""The whole beat schedule in one place."""

from celery.schedules import crontab

BEAT_SCHEDULE = {
    "health-heartbeat": {"task": "srpp.health.heartbeat", "schedule": 30.0},
    "requeue-stale-jobs": {"task": "srpp.jobs.requeue_stale", "schedule": 120.0},
    "plan-review-scan": {"task": "srpp.plans.review_scan", "schedule": crontab(hour=6, minute=30)},
    "saved-search-digests": {"task": "srpp.public.send_digests", "schedule": crontab(hour=7, minute=0)},
    "supplier-status-scan": {"task": "srpp.suppliers.daily_status_scan", "schedule": crontab(hour=6, minute=15)},
    "framework-daily": {"task": "srpp.frameworks.daily", "schedule": crontab(hour=0, minute=20)},
    "payment-scan": {"task": "srpp.payments.daily_scan", "schedule": crontab(hour=5, minute=50)},
    "document-expiry": {"task": "srpp.documents.expire", "schedule": crontab(hour=2, minute=40)},
    "kpi-recompute": {"task": "srpp.kpis.recompute", "schedule": crontab(hour=4, minute=30)},
    "reporting-reminders": {"task": "srpp.reporting.reminders", "schedule": crontab(hour=6, minute=45)},
    "risk-scan": {"task": "srpp.risks.scan", "schedule": crontab(hour=6, minute=55)},
}
