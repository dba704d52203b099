"""Helpers of the operations tests (faults, backup and restore): a committed database of their own with the
demo region, so that what they commit, crash or restore never touches the databases other tests share."""

from __future__ import annotations

import tempfile
from pathlib import Path

from sqlalchemy import create_engine, text

from tests import services as svc
from tests.conftest import TEST_CONFIG


def demo_database(name: str) -> str:
    """A fresh PostgreSQL database ``name`` (+ the run's suffix) built by the migrations, with the demo region."""
    from srpp import create_app, migrate

    url = svc.fresh_postgres_database(name)
    migrate.upgrade(url)
    app = create_app({**TEST_CONFIG, "DATABASE_URL": url})
    with app.app_context():
        from srpp.demo import loader

        loader.load()
    app.extensions["srpp_engine"].dispose()
    return url


def make_app(database_url: str, **extra):
    from srpp import create_app

    return create_app({**TEST_CONFIG, "DATABASE_URL": database_url,
                       "FILES_DIR": extra.pop("FILES_DIR", None) or tempfile.mkdtemp(prefix="srpp-files-"), **extra})


def scalar(database_url: str, sql: str, **params):
    """One value read over a connection of its own (what is really committed)."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()
    finally:
        engine.dispose()


def drop_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres", autocommit=True) as conn:
        conn.execute("select pg_terminate_backend(pid) from pg_stat_activity where datname = %s "
                     "and pid <> pg_backend_pid()", (name,))
        conn.execute(f'drop database if exists "{name}"')


ROOT = Path(__file__).resolve().parent.parent
