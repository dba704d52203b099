"""Structured logs: one JSON object per line, each carrying the request id.

In a web request the id is the request's (``X-Request-ID`` or a new one, see ``srpp/__init__.py``). A job started
by a request carries the same id to the worker in its task headers (``jobs.send``); the worker's ``task_prerun``
signal puts it in a context variable for the duration of the task, so the worker's log lines of that task (Celery's
own included) show the id of the request that started it."""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
from typing import Any

from flask import Flask, g, has_app_context, has_request_context

#: the request id of the task a worker is running (set by the Celery signals below)
task_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("task_request_id", default=None)
task_context: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar("task_context", default=None)

# attributes every LogRecord has; anything else was passed in ``extra`` and goes into the JSON object
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id"}


def current_request_id() -> str | None:
    if has_app_context() and has_request_context():
        rid = g.get("request_id")
        if rid:
            return rid
    return task_request_id.get()


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = current_request_id() or "-"
        for key, value in (task_context.get() or {}).items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", None) or current_request_id() or "-",
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = value if isinstance(value, (str, int, float, bool, type(None))) else str(value)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


def json_handler() -> logging.Handler:
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    return handler


def use_json(handler: logging.Handler) -> None:
    """Make an existing handler (Celery's) write our JSON lines with the request id."""
    if not any(isinstance(f, RequestIdFilter) for f in handler.filters):
        handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())


def configure(app: Flask) -> None:
    logger = logging.getLogger("srpp")
    if not any(isinstance(f, RequestIdFilter) for h in logger.handlers for f in h.filters):
        logger.addHandler(json_handler())
    logger.setLevel(logging.INFO)
    logger.propagate = False


def connect_celery_signals() -> None:
    """Worker side: the request id of each task into the context variable, and Celery's handlers made JSON."""
    from celery import signals

    def _setup(logger: logging.Logger | None = None, **_kw: Any) -> None:
        for handler in (logger.handlers if logger else []):
            use_json(handler)

    def _prerun(task_id: str | None = None, task: Any = None, **_kw: Any) -> None:
        request = getattr(task, "request", None)
        rid = getattr(request, "request_id", None) or (getattr(request, "headers", None) or {}).get("request_id")
        task_request_id.set(rid)
        task_context.set({"task": getattr(task, "name", "?"), "task_id": task_id or "?"})
        logging.getLogger("srpp.tasks").info("task started")

    def _postrun(state: str | None = None, **_kw: Any) -> None:
        logging.getLogger("srpp.tasks").info("task ended", extra={"state": state or "?"})
        task_request_id.set(None)
        task_context.set(None)

    signals.after_setup_logger.connect(_setup, weak=False, dispatch_uid="srpp-json-logs")
    signals.after_setup_task_logger.connect(_setup, weak=False, dispatch_uid="srpp-json-task-logs")
    signals.task_prerun.connect(_prerun, weak=False, dispatch_uid="srpp-task-request-id")
    signals.task_postrun.connect(_postrun, weak=False, dispatch_uid="srpp-task-request-id-end")
