"""Operations: JSON log lines with the request id (also in the real worker's log lines of the job that request
started), and the /healthz and /readyz probes."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import time
import uuid

import pytest
from sqlalchemy import select

from tests.conftest import WorkerProcess, unlock_user
from tests.ops_support import make_app

OFFICER = "officer.pas@demo.srpp.lt"


def _json_lines(text: str) -> list[dict]:
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
    return out


def test_log_lines_are_json_with_the_request_id(app, conn):
    from srpp.core.logs import JsonFormatter, RequestIdFilter

    buf = io.StringIO()
    handler = logging.StreamHandler(buf)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("srpp")
    logger.addHandler(handler)
    try:
        with app.test_request_context("/", headers={"X-Request-ID": "req-ops-1"}):
            app.preprocess_request()  # the before_request hook sets the id
            logging.getLogger("srpp.test").info("invoice %s checked", "SF-1", extra={"invoice_id": 7})
        logging.getLogger("srpp.test").warning("outside a request")
    finally:
        logger.removeHandler(handler)
    first, second = _json_lines(buf.getvalue())
    assert first["request_id"] == "req-ops-1" and first["msg"] == "invoice SF-1 checked"
    assert first["level"] == "INFO" and first["logger"] == "srpp.test" and first["invoice_id"] == 7
    assert dt.datetime.fromisoformat(first["ts"]).tzinfo is not None
    assert second["request_id"] == "-"
    # and the response tells the caller the id
    resp = app.test_client().get("/healthz", headers={"X-Request-ID": "req-ops-2"})
    assert resp.headers["X-Request-ID"] == "req-ops-2"


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.celery
def test_the_request_id_of_a_page_request_appears_in_the_worker_log_of_its_job(live_database_url, redis_url):
    from srpp.core.models import JobRun
    from srpp.documents.models import GeneratedDocument
    from srpp.extensions import db
    from srpp.orgs.services import municipality_by_code
    from srpp.tenders.models import Tender

    app = make_app(live_database_url, REDIS_URL=redis_url, CELERY_EAGER=False)
    with app.app_context():
        pas = municipality_by_code("PAS")
        tender = next(t for t in db.session.scalars(select(Tender).where(Tender.municipality_id == pas.id)
                                                    .order_by(Tender.id)) if t.is_reserved)
        tender_id = tender.id
    unlock_user(live_database_url, OFFICER)
    client = app.test_client()
    assert client.post("/login", data={"email": OFFICER, "password": "demo12345"}).status_code == 302
    rid = f"ops-{uuid.uuid4().hex[:12]}"
    worker = WorkerProcess(live_database_url, redis_url, name="ops-logs").start()
    try:
        resp = client.post(f"/documents/new/tender_specification/tender/{tender_id}", headers={"X-Request-ID": rid},
                           data={"language": "en", "action": "generate",
                                 "v_social_services_unit": "Socialinės paramos skyrius"})
        assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
        assert resp.headers["X-Request-ID"] == rid
        document_id = int(resp.headers["Location"].rstrip("/").rsplit("/", 1)[1])
        with app.app_context():
            job_id = db.session.get(GeneratedDocument, document_id).job_id
        deadline = time.monotonic() + 90
        while True:
            with app.app_context():
                job = db.session.get(JobRun, job_id)
                state, job_rid = job.state.value, job.request_id
            if state in ("done", "failed") or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        time.sleep(1)  # the task's last log lines
    finally:
        worker.stop()
    log = worker.log.read_text(errors="replace")
    assert state == "done", log[-3000:]
    assert job_rid == rid
    lines = _json_lines(log)
    assert lines, f"the worker's log is not JSON lines:\n{log[-2000:]}"
    mine = [line for line in lines if line.get("request_id") == rid]
    started = [line for line in mine if line["logger"] == "srpp.tasks" and line["msg"] == "task started"]
    assert started and started[0]["task"] == "srpp.documents.generate", log[-3000:]
    # Celery's own record of the task carries it too
    assert any(line["logger"].startswith("celery") and "succeeded" in line["msg"] for line in mine), log[-3000:]
    # and no other line claims it (the id is cleared when the task ends)
    assert all(line.get("task", "srpp.documents.generate") == "srpp.documents.generate" for line in mine)
    worker_ready = [line for line in lines if "ready" in line["msg"]]
    assert worker_ready and worker_ready[0]["request_id"] == "-"


# --- /healthz and /readyz --------------------------------------------------------------------------

DEAD_REDIS = "redis://127.0.0.1:6399/0"  # nothing listens there


def test_healthz_ok(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200 and resp.json == {"status": "ok", "database": True}


def test_healthz_and_readyz_503_without_database():
    # no ``conn`` fixture here: it would bind every session to the test database
    down = make_app("postgresql+psycopg://postgres@127.0.0.1:5499/nothing")  # nothing listens there
    started = time.monotonic()
    resp = down.test_client().get("/healthz")
    assert resp.status_code == 503 and resp.json["database"] is False
    assert time.monotonic() - started < 15
    resp = down.test_client().get("/readyz")
    assert resp.status_code == 503 and resp.json["database"] is False


def test_readyz_without_redis_configured_needs_the_database_only(client):
    resp = client.get("/readyz")
    assert resp.status_code == 200 and resp.json == {"status": "ok", "database": True}


@pytest.mark.redis
def test_readyz_needs_redis_and_a_recent_worker_heartbeat(database_url, redis_url, conn):
    from srpp.core.db import utcnow
    from srpp.core.models import WorkerHeartbeat
    from srpp.extensions import db

    app = make_app(database_url, REDIS_URL=redis_url, CELERY_EAGER=False)
    client = app.test_client()
    with app.app_context():
        db.session.query(WorkerHeartbeat).delete()
        db.session.add(WorkerHeartbeat(worker="celery@stale", last_seen=utcnow() - dt.timedelta(minutes=10)))
        db.session.commit()
    resp = client.get("/readyz")
    assert resp.status_code == 503
    assert resp.json == {"status": "fail", "database": True, "redis": True, "worker": False}
    with app.app_context():
        db.session.add(WorkerHeartbeat(worker="celery@fresh", last_seen=utcnow()))
        db.session.commit()
    resp = client.get("/readyz")
    assert resp.status_code == 200 and resp.json == {"status": "ok", "database": True, "redis": True,
                                                     "worker": True}
    assert client.get("/healthz").status_code == 200

    broker_down = make_app(database_url, REDIS_URL=DEAD_REDIS, CELERY_EAGER=False)
    started = time.monotonic()
    resp = broker_down.test_client().get("/readyz")
    assert time.monotonic() - started < 10
    assert resp.status_code == 503 and resp.json["redis"] is False and resp.json["worker"] is True
    assert broker_down.test_client().get("/healthz").status_code == 200  # alive, only not ready


def test_docker_compose_uses_the_probes():
    import yaml

    from tests.ops_support import ROOT

    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    assert "/healthz" in " ".join(services["web"]["healthcheck"]["test"])
    for name in ("web", "worker", "beat"):
        needs = services[name]["depends_on"]
        assert needs["postgres"] == needs["redis"] == {"condition": "service_healthy"}, name
        assert needs["migrate"] == {"condition": "service_completed_successfully"}, name
    assert services["beat"]["depends_on"]["worker"] == {"condition": "service_healthy"}
    assert "healthcheck" in services["worker"] and "healthcheck" in services["postgres"]
