"""Caching of anonymous pages that change only when their data changes (the public pipeline,
its feeds), and of costly results shown to everyone (``memo``: the payment figures of a half-year).
A cache key carries the area's generation, a counter bumped in the same transaction as the change,
so a published plan shows at once; a TTL bounds everything else (e.g. the date-dependent
"review overdue" badges). A generation is bumped by the services (``bump``) or, for ``watch``ed
models, by any insert, update or delete of their rows through the session, whoever makes it: then
at commit, after the last flush, so that the generation's row is the last row the transaction locks
(two transactions changing invoices cannot deadlock on it, and it is held only while committing).
A transaction that has changed cached data neither reads nor fills the cache (what it would store
might be rolled back).

Redis is used when ``REDIS_URL`` is set (shared by every web process), otherwise an in-process
TTL cache. A cache that fails is skipped, never fatal."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import threading
from collections.abc import Callable
from functools import wraps
from typing import Any

from cachetools import TTLCache
from flask import Response, current_app, request, session
from flask_babel import get_locale
from flask_login import current_user
from sqlalchemy import event, inspect, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import ORMExecuteState, Session, object_session

from srpp.core.models import CacheGeneration
from srpp.extensions import db

log = logging.getLogger("srpp.cache")
_LOCAL: TTLCache = TTLCache(maxsize=1024, ttl=300)
_LOCK = threading.Lock()


def generation(namespace: str) -> int:
    return db.session.scalar(select(CacheGeneration.value).where(CacheGeneration.namespace == namespace)) or 0


def _bump_statement(dialect: str, namespace: str):
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return insert(CacheGeneration).values(namespace=namespace, value=1).on_conflict_do_update(
        index_elements=[CacheGeneration.namespace], set_={"value": CacheGeneration.value + 1})


def bump(namespace: str) -> None:
    """Invalidate every cached page of ``namespace`` (call inside the changing transaction)."""
    _bump_on(db.session(), namespace)


def _bump_on(session: Session, namespace: str) -> None:
    conn = session.connection()
    conn.execute(_bump_statement(conn.dialect.name, namespace))
    session.info[_BUMPED] = True


# --- generations bumped by changes to watched models --------------------------------------------

_BUMPED = "srpp_cache_bumped"
_TOUCHED = "srpp_cache_touched"
_WATCHED: dict[type, list[tuple[str, frozenset[str], frozenset[str] | None]]] = {}
_EVENTS = ("insert", "update", "delete")


def watch(namespace: str, *models: type, on: tuple[str, ...] = _EVENTS, columns: tuple[str, ...] | None = None) -> None:
    """Any insert, update or delete (``on``) of a row of ``models`` made through the session (a flush,
    or an ORM ``update()``/``delete()`` statement) bumps ``namespace`` when the transaction commits;
    ``columns``: only updates that change one of these attributes count."""
    for model in models:
        if model not in _WATCHED:
            for name in _EVENTS:
                event.listen(model, f"after_{name}", _listener(name))
        _WATCHED.setdefault(model, []).append(
            (namespace, frozenset(on), frozenset(columns) if columns is not None else None))


def _watches(model: type) -> list[tuple[str, frozenset[str], frozenset[str] | None]]:
    return next((_WATCHED[k] for k in model.__mro__ if k in _WATCHED), [])


def _changed(target: Any, columns: frozenset[str]) -> bool:
    state = inspect(target)
    return any(state.attrs[name].history.has_changes() for name in columns)


def _listener(name: str) -> Callable[[Any, Any, Any], None]:
    def touched(mapper: Any, connection: Any, target: Any) -> None:
        session = object_session(target)
        if session is None:
            return
        for namespace, on, columns in _watches(type(target)):
            if name in on and (name != "update" or columns is None or _changed(target, columns)):
                session.info.setdefault(_TOUCHED, set()).add(namespace)

    return touched


@event.listens_for(Session, "before_commit")
def _bump_touched(session: Session) -> None:
    if session.new or session.dirty or session.deleted:
        session.flush()  # commit's own flush comes after this hook: the changes first, then their bumps
    for namespace in sorted(session.info.pop(_TOUCHED, ())):
        _bump_on(session, namespace)


@event.listens_for(Session, "do_orm_execute")
def _bulk_statement(state: ORMExecuteState) -> None:
    if (state.is_update or state.is_delete or state.is_insert) and state.bind_mapper is not None:
        namespaces = {w[0] for w in _watches(state.bind_mapper.class_)}
        if namespaces:
            state.session.info.setdefault(_TOUCHED, set()).update(namespaces)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _transaction_over(session: Session) -> None:
    session.info.pop(_BUMPED, None)
    session.info.pop(_TOUCHED, None)


def _usable() -> bool:
    """Whether this request may read and fill the cache: caching is on and its transaction has not
    changed cached data (it would see, and might store, what is not committed)."""
    info = db.session().info
    return current_app.config.get("PAGE_CACHE") is not False and not info.get(_BUMPED) and not info.get(_TOUCHED)


def _redis():
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    client = current_app.extensions.get("srpp_cache_redis")
    if client is None:
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=0.3, socket_timeout=0.3)
        current_app.extensions["srpp_cache_redis"] = client
    return client


def get(key: str) -> Any:
    r = _redis()
    if r is not None:
        try:
            raw = r.get(key)
        except Exception as exc:  # a cache outage must not take the page down
            log.warning("cache get failed: %s", exc)
            return None
        if raw is None:
            return None
        content_type, _, body = raw.partition(b"\n")
        return content_type.decode(), body
    with _LOCK:
        return _LOCAL.get(key)


def put(key: str, value: tuple[str, bytes], ttl: int) -> None:
    r = _redis()
    if r is not None:
        try:
            r.set(key, value[0].encode() + b"\n" + value[1], ex=ttl)
        except Exception as exc:
            log.warning("cache set failed: %s", exc)
        return
    with _LOCK:
        _LOCAL[key] = value


def clear_local() -> None:
    with _LOCK:
        _LOCAL.clear()


def anonymous_page(namespace: str, ttl: int = 300) -> Callable:
    """Cache a GET view's 200 responses for anonymous visitors without pending flash messages."""

    def deco(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if (request.method != "GET" or current_user.is_authenticated or session.get("_flashes")
                    or not _usable()):
                return view(*args, **kwargs)
            raw = f"{request.full_path}|{get_locale()}|{dt.date.today().isoformat()}"
            key = f"srpp:page:{namespace}:{generation(namespace)}:{hashlib.sha256(raw.encode()).hexdigest()}"
            hit = get(key)
            if hit is not None:
                resp = Response(hit[1], content_type=hit[0])
                resp.headers["X-Cache"] = "hit"
                return resp
            resp = current_app.make_response(view(*args, **kwargs))
            if resp.status_code == 200 and not resp.direct_passthrough:
                put(key, (resp.content_type, resp.get_data()), ttl)
            resp.headers["X-Cache"] = "miss"
            return resp

        return wrapped

    return deco


def memo(namespace: str, parts: str, compute: Callable[[], Any], ttl: int = 300) -> Any:
    """Cache a JSON-able result of ``compute`` per generation of ``namespace`` (for everyone, not
    only anonymous visitors: e.g. the count and the row keys of a pipeline page)."""
    if not _usable():
        return compute()
    key = f"srpp:memo:{namespace}:{generation(namespace)}:{hashlib.sha256(parts.encode()).hexdigest()}"
    hit = get(key)
    if hit is not None:
        return json.loads(hit[1])
    value = compute()
    put(key, ("application/json", json.dumps(value).encode()), ttl)
    return value
