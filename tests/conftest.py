"""Test fixtures.

The suite runs on PostgreSQL when it is reachable (``TEST_DATABASE_URL``, default: the local
server), otherwise on SQLite with the PostgreSQL-only tests skipped. Under ``CI=true`` nothing
that needs PostgreSQL, Redis or a Celery worker may be skipped: a missing service fails the run.

The schema is built once per run through the Alembic migrations (so they are tested), the demo
region is loaded, and each test runs inside a transaction that is rolled back afterwards.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests import services as svc

CI = os.environ.get("CI", "").lower() == "true"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "live: uses committed data in a separate database")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    needs = {
        "postgres": svc.postgres_available,
        "redis": svc.redis_available,
        "celery": svc.redis_available,
        "browser": svc.chromium_available,
        "libreoffice": svc.libreoffice_available,
    }
    for item in items:
        for marker, available in needs.items():
            if item.get_closest_marker(marker) and not available():
                if CI:
                    raise pytest.UsageError(f"CI=true but {marker} is not available (needed by {item.nodeid})")
                item.add_marker(pytest.mark.skip(reason=f"{marker} is not available on this machine"))


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    if svc.postgres_available():
        url = svc.fresh_postgres_database("srpp_test")
        yield url
    else:
        path = Path(tempfile.mkdtemp()) / "srpp_test.sqlite3"
        yield f"sqlite:///{path}"


TEST_CONFIG = {
    "ARGON2_PROFILE": "test",
    "WTF_CSRF_ENABLED": False,
    "LOGIN_RATE_LIMIT_PER_ADDRESS": "100000 per minute",
    "MAIL_BACKEND": "memory",
    "REDIS_URL": None,
    "CELERY_EAGER": True,
    "SECRET_KEY": "test-secret",
}


@pytest.fixture(scope="session")
def app(database_url: str):
    from srpp import create_app, migrate

    migrate.upgrade(database_url)
    application = create_app({**TEST_CONFIG, "DATABASE_URL": database_url,
                              "FILES_DIR": tempfile.mkdtemp(prefix="srpp-files-")})
    with application.app_context():
        from srpp.demo import loader

        loader.load()
    return application


@pytest.fixture()
def conn(app):
    """Bind every session of this test to one connection inside a transaction that is rolled back."""
    from srpp.extensions import db

    engine = app.extensions["srpp_engine"]
    connection = engine.connect()
    outer = connection.begin()
    db.session.session_factory.configure(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield connection
    finally:
        db.session.session_factory.configure(bind=None, join_transaction_mode="conservative_savepoint")
        if outer.is_active:
            outer.rollback()
        connection.close()


@pytest.fixture()
def client(app, conn):
    return app.test_client()


@pytest.fixture()
def ctx(app, conn):
    """An app + request context for calling services directly; yields the session."""
    from srpp.extensions import db

    with app.test_request_context("/"):
        yield db.session
        db.session.remove()


def login(client, email: str, password: str = "demo12345"):
    return client.post("/login", data={"email": email, "password": password})


@pytest.fixture()
def as_user(client):
    def _as(email: str):
        client.post("/logout")
        resp = login(client, email)
        assert resp.status_code == 302, f"login as {email} failed"
        return client

    return _as


@pytest.fixture(scope="session")
def sync_url(database_url: str) -> str:
    return database_url


def engine_for(url: str):
    u = make_url(url)
    return create_engine(u)


def count_rows(connection, table: str) -> int:
    return connection.execute(text(f"select count(*) from {table}")).scalar_one()
