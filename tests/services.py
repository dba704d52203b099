"""Finding (and creating databases on) the real services the tests use."""

from __future__ import annotations

import functools
import os
import shutil
import socket

PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@functools.cache
def postgres_available() -> bool:
    if os.environ.get("SRPP_TEST_NO_POSTGRES"):
        return False
    if not _port_open("127.0.0.1", 5432):
        return False
    try:
        import psycopg

        with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres", connect_timeout=3):
            return True
    except Exception:
        return False


@functools.cache
def redis_available() -> bool:
    if not _port_open("127.0.0.1", 6379):
        return False
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping())
    except Exception:
        return False


@functools.cache
def chromium_available() -> bool:
    try:
        import playwright  # noqa: F401
    except ImportError:
        return False
    return os.path.exists("/usr/bin/chromium")


@functools.cache
def libreoffice_available() -> bool:
    return shutil.which("soffice") is not None or shutil.which("libreoffice") is not None


def fresh_postgres_database(name: str) -> str:
    """Drop and create ``name`` (suffixed with $SRPP_TEST_DB_SUFFIX, so that parallel runs on one
    server do not collide); return its SQLAlchemy URL."""
    import psycopg

    name = name + os.environ.get("SRPP_TEST_DB_SUFFIX", "")
    with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres", autocommit=True) as conn:
        conn.execute(
            "select pg_terminate_backend(pid) from pg_stat_activity where datname = %s and pid <> pg_backend_pid()",
            (name,),
        )
        conn.execute(f'drop database if exists "{name}"')
        conn.execute(f'create database "{name}"')
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
