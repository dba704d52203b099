"""Caching of anonymous pages that change only when their data changes (the public pipeline,
its feeds). A cache key carries the area's generation, a counter the services bump in the same
transaction as the change, so a published plan shows at once; a TTL bounds everything else
(e.g. the date-dependent "review overdue" badges).

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
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from srpp.core.models import CacheGeneration
from srpp.extensions import db

log = logging.getLogger("srpp.cache")
_LOCAL: TTLCache = TTLCache(maxsize=1024, ttl=300)
_LOCK = threading.Lock()


def generation(namespace: str) -> int:
    return db.session.scalar(select(CacheGeneration.value).where(CacheGeneration.namespace == namespace)) or 0


def bump(namespace: str) -> None:
    """Invalidate every cached page of ``namespace`` (call inside the changing transaction)."""
    done = db.session.execute(
        update(CacheGeneration).where(CacheGeneration.namespace == namespace)
        .values(value=CacheGeneration.value + 1)
    ).rowcount
    if not done:
        try:
            with db.session.begin_nested():
                db.session.add(CacheGeneration(namespace=namespace, value=1))
        except IntegrityError:  # created concurrently: bump that row
            bump(namespace)


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
                    or current_app.config.get("PAGE_CACHE") is False):
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
    if current_app.config.get("PAGE_CACHE") is False:
        return compute()
    key = f"srpp:memo:{namespace}:{generation(namespace)}:{hashlib.sha256(parts.encode()).hexdigest()}"
    hit = get(key)
    if hit is not None:
        return json.loads(hit[1])
    value = compute()
    put(key, ("application/json", json.dumps(value).encode()), ttl)
    return value
