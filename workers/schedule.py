"""The whole beat schedule in one place."""

BEAT_SCHEDULE = {
    "health-heartbeat": {"task": "srpp.health.heartbeat", "schedule": 30.0},
    "requeue-stale-jobs": {"task": "srpp.jobs.requeue_stale", "schedule": 120.0},
}
