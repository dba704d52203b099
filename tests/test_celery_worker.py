"""A real Celery worker over Redis answers the health task, and the admin page shows it alive."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

pytestmark = [pytest.mark.redis, pytest.mark.celery]


def _live_app(live_database_url: str, redis_url: str):
    from srpp import create_app
    from tests.conftest import TEST_CONFIG

    return create_app({**TEST_CONFIG, "DATABASE_URL": live_database_url, "REDIS_URL": redis_url,
                       "CELERY_EAGER": False})


def test_worker_runs_health_task_and_admin_sees_it(live_database_url, redis_url, celery_worker):
    from srpp.core.models import JobRun, JobState

    app = _live_app(live_database_url, redis_url)
    client = app.test_client()
    assert client.post("/login", data={"email": "admin@demo.srpp.lt", "password": "demo12345"}).status_code == 302
    assert client.post("/admin/workers/ping").status_code == 302
    deadline = time.monotonic() + 30
    page = ""
    while time.monotonic() < deadline:
        page = client.get("/admin/workers").get_data(as_text=True)
        if "status-ok" in page:
            break
        time.sleep(0.3)
    assert "status-ok" in page, celery_worker.log.read_text()[-2000:]
    with app.app_context():
        from srpp.extensions import db

        job = db.session.scalars(select(JobRun).order_by(JobRun.id.desc())).first()
        assert job.task == "srpp.health.ping"
        assert job.state == JobState.DONE
        assert job.worker.startswith("celery@")
        assert job.attempts == 1


def test_without_a_worker_the_page_says_so(live_database_url, redis_url):
    from sqlalchemy import delete

    from srpp.core.models import WorkerHeartbeat

    app = _live_app(live_database_url, redis_url)
    with app.app_context():
        from srpp.extensions import db

        db.session.execute(delete(WorkerHeartbeat))
        db.session.commit()
    client = app.test_client()
    client.post("/login", data={"email": "admin@demo.srpp.lt", "password": "demo12345"})
    client.post("/admin/workers/ping")  # queued in Redis, nobody consumes it
    page = client.get("/admin/workers").get_data(as_text=True)
    assert "status-bad" in page
    assert "state-queued" in page
