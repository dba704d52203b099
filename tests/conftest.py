"""Test fixtures.

The suite runs on PostgreSQL when it is reachable (``TEST_DATABASE_URL``, default: the local
server), otherwise on SQLite with the PostgreSQL-only tests skipped. Under ``CI=true`` nothing
that needs PostgreSQL, Redis or a Celery worker may be skipped: a missing service fails the run.

The schema is built once per run through the Alembic migrations (so they are tested), the demo
region is loaded, and each test runs inside a transaction that is rolled back afterwards.
"""

from __future__ import annotations

import contextlib
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
    "PAGE_CACHE": False,  # pages are cached per generation; tests/test_cache.py turns it on
    # the limiter is one object for every app a test makes: keep its storage in memory, so an app made
    # with an unreachable Redis (the fault tests) does not leave it pointing there
    "RATELIMIT_STORAGE_URI": "memory://",
}


@pytest.fixture(scope="session")
def app_config(database_url: str) -> dict:
    return {**TEST_CONFIG, "DATABASE_URL": database_url, "FILES_DIR": tempfile.mkdtemp(prefix="srpp-files-")}


@pytest.fixture(scope="session")
def app(app_config: dict):
    from srpp import create_app, migrate

    migrate.upgrade(app_config["DATABASE_URL"])
    application = create_app(app_config)
    with application.app_context():
        from srpp.demo import loader

        loader.load()
    return application


@pytest.fixture(scope="session")
def service_app(app, app_config: dict):
    """A twin of ``app`` for calling services directly: the test client's requests then get
    app contexts of their own (Flask reuses an app context only for the same app object)."""
    from srpp import create_app

    return create_app(app_config)


@contextlib.contextmanager
def bound_connection(app):
    """Bind every session to one connection inside a transaction that is rolled back at the end."""
    from srpp.extensions import db

    engine = app.extensions["srpp_engine"]
    connection = engine.connect()
    outer = connection.begin()
    db.session.session_factory.configure(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield connection
    finally:
        db.session.session_factory.configure(bind=None)
        db.session.session_factory.kw.pop("join_transaction_mode", None)
        if outer.is_active:
            outer.rollback()
        connection.close()


@pytest.fixture()
def conn(app):
    """Bind every session of this test to one connection inside a transaction that is rolled back."""
    with bound_connection(app) as connection:
        yield connection


@pytest.fixture()
def client(app, conn):
    """Anonymous pages in English unless a test asks otherwise (the app's default is Lithuanian)."""
    c = app.test_client()
    c.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return c


@pytest.fixture()
def ctx(service_app, conn):
    """An app + request context (English) for calling services directly; yields the session."""
    from srpp.extensions import db

    with service_app.test_request_context("/", headers={"Accept-Language": "en"}):
        yield db.session
        db.session.remove()


def login(client, email: str, password: str = "demo12345"):
    return client.post("/login", data={"email": email, "password": password})


@pytest.fixture()
def as_user(client):
    """Log the test client in as ``email``, with the interface in ``lang``."""

    def _as(email: str, lang: str = "en"):
        client.post("/logout")
        resp = login(client, email)
        assert resp.status_code == 302, f"login as {email} failed"
        client.post("/language", data={"locale": lang})
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


# --- committed data, real services ------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def live_database_url(app) -> str:
    """A separate, committed database with the demo region (for worker and browser tests)."""
    from srpp import create_app, migrate

    if svc.postgres_available():
        url = svc.fresh_postgres_database("srpp_test_live")
    else:
        url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'live.sqlite3'}"
    migrate.upgrade(url)
    live = create_app({**TEST_CONFIG, "DATABASE_URL": url})
    with live.app_context():
        from srpp.demo import loader

        loader.load()
    return url


@pytest.fixture(scope="session")
def redis_url() -> str:
    import redis

    r = redis.Redis.from_url(svc.REDIS_URL)
    r.flushdb()
    return svc.REDIS_URL


def service_env(database_url: str, redis_url: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL"))}
    env.update({"DATABASE_URL": database_url, "SRPP_ARGON2_PROFILE": "test", "PYTHONUNBUFFERED": "1",
                "SECRET_KEY": "test-secret-for-live-processes"})
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def unlock_user(database_url: str, email: str) -> None:
    """Lift a login lock-out in a committed database, as an admin would (a browser test locks
    officer.pas out on purpose; later tests that log in as officer.pas call this first)."""
    from sqlalchemy import select

    from srpp import create_app
    from srpp.auth.models import User
    from srpp.auth.services import unlock
    from srpp.extensions import db

    app = create_app({**TEST_CONFIG, "DATABASE_URL": database_url})
    with app.test_request_context():
        admin = db.session.scalar(select(User).where(User.email == "admin@demo.srpp.lt"))
        unlock(admin, db.session.scalar(select(User).where(User.email == email)))
        db.session.commit()


class WorkerProcess:
    """A real ``celery worker`` process, started and stopped by the tests."""

    def __init__(self, database_url: str, redis_url: str, name: str = "w1", concurrency: int = 1,
                 extra_env: dict[str, str] | None = None) -> None:
        self.env = {**service_env(database_url, redis_url), **(extra_env or {})}
        self.name = name
        self.concurrency = concurrency
        self.proc = None
        self.log = Path(tempfile.mkdtemp()) / f"{name}.log"

    def start(self) -> WorkerProcess:
        import subprocess

        self.proc = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "celery"), "-A", "workers.celery_app", "worker", "--loglevel=INFO",
             f"--hostname={self.name}@%h", f"--concurrency={self.concurrency}", "--pool=prefork",
             "--without-gossip", "--without-mingle"],
            cwd=ROOT, env=self.env, stdout=open(self.log, "w"), stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: kill_all() takes the pool children too
        )
        import time

        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            if "ready." in self.log.read_text(errors="replace"):
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        raise RuntimeError(f"celery worker did not start:\n{self.log.read_text(errors='replace')[-3000:]}")

    def kill(self, sig: int = 9) -> None:
        if self.proc and self.proc.poll() is None:
            import signal

            self.proc.send_signal(signal.Signals(sig))
            self.proc.wait(timeout=20)

    def kill_all(self) -> None:
        """SIGKILL the worker and its pool processes at once, as when its container dies."""
        import signal

        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=20)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except Exception:
                self.proc.kill()


@pytest.fixture()
def celery_worker(live_database_url: str, redis_url: str):
    worker = WorkerProcess(live_database_url, redis_url).start()
    try:
        yield worker
    finally:
        worker.stop()


class LiveServer:
    """The app served by ``flask run`` in a subprocess, for browser tests."""

    def __init__(self, database_url: str, redis_url: str | None = None) -> None:
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = service_env(database_url, redis_url)
        self.log = Path(tempfile.mkdtemp()) / "server.log"
        self.proc = None

    def start(self) -> LiveServer:
        import subprocess
        import time
        import urllib.request

        self.proc = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "flask"), "--app", "srpp", "run", "--port", str(self.port), "--no-reload"],
            cwd=ROOT, env=self.env, stdout=open(self.log, "w"), stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url + "/login", timeout=2)
                return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(self.log.read_text()[-3000:])

    def stop(self) -> None:
        if self.proc:
            self.proc.terminate()
            self.proc.wait(timeout=10)


@pytest.fixture(scope="session")
def live_server(live_database_url: str):
    server = LiveServer(live_database_url).start()
    yield server
    server.stop()


CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture()
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="en-GB")
    pg = context.new_page()
    pg.set_default_timeout(15000)
    yield pg
    context.close()


def browser_login(page, email: str, password: str = "demo12345") -> None:
    """Log in through the form in Chromium and make sure the interface is in English (a user's saved
    language may be Lithuanian)."""
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").last.click()
    page.wait_for_load_state("load")
    if page.locator("html").get_attribute("lang") != "en":
        with page.expect_navigation():
            page.select_option("#lang-select", "en")
