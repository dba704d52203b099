"""Probes for the orchestrator: /healthz (app and database), /readyz (plus Redis and a worker)."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from srpp.extensions import db

bp = Blueprint("health", __name__)


def _database_ok() -> bool:
    try:
        db.session.execute(text("select 1"))
        return True
    except Exception:
        db.session.rollback()
        return False


@bp.route("/healthz")
def healthz():
    ok = _database_ok()
    return jsonify(status="ok" if ok else "fail", database=ok), 200 if ok else 503


@bp.route("/readyz")
def readyz():
    from srpp.core import jobs

    checks = {"database": _database_ok()}
    redis_url = current_app.config["REDIS_URL"]
    if redis_url:
        try:
            import redis

            checks["redis"] = bool(redis.Redis.from_url(redis_url, socket_connect_timeout=1, socket_timeout=1).ping())
        except Exception:
            checks["redis"] = False
        checks["worker"] = checks["database"] and bool(jobs.workers_alive())
    ok = all(checks.values())
    return jsonify(status="ok" if ok else "fail", **checks), 200 if ok else 503
