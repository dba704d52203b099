"""Domain errors and friendly error pages in the user's language."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from sqlalchemy.exc import DataError
from werkzeug.exceptions import BadRequest, HTTPException

log = logging.getLogger("srpp.errors")


class DomainError(Exception):
    """A business rule refused an action. ``message`` is already translated for the user;
    ``field`` names the form field it belongs to, when there is one."""

    def __init__(self, message: str, field: str | None = None, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details


class ConcurrentEdit(DomainError):
    """Someone else saved the same record since this form was opened (optimistic locking)."""


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def register(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        code = exc.code or 500
        if _wants_json():
            slug = (exc.name or "error").lower().replace(" ", "_").replace("'", "")
            resp = jsonify(error={"code": slug, "message": exc.description or exc.name, "parameter": None})
            resp.status_code = code
            if exc.response is None and hasattr(exc, "get_headers"):
                for key, value in exc.get_headers():
                    if key.lower() not in ("content-type", "content-length"):
                        resp.headers[key] = value
            return resp
        template = f"errors/{code}.html" if code in (400, 403, 404, 413, 429) else "errors/generic.html"
        return render_template(template, error=exc, code=code), code

    def _bad_input(message: str):
        exc = BadRequest(message)
        if _wants_json():
            return _http_error(exc)
        return render_template("errors/400.html", error=exc, code=400, message=message), 400

    @app.before_request
    def _refuse_malformed_input():
        """Refuse before any view reads them: text with NUL characters (PostgreSQL cannot store
        them; the query would fail later) and form parts without a name (form libraries expect one)."""
        fields = [request.args]
        if request.method in ("POST", "PUT", "PATCH") and request.mimetype in (
                "multipart/form-data", "application/x-www-form-urlencoded"):
            fields += [request.form, request.files]
        for multidict in fields:
            for key, values in multidict.lists():
                if key is None or "\x00" in key or any(isinstance(v, str) and "\x00" in v for v in values):
                    return _bad_input(_("The form contained a character that is not allowed (a NUL character) or "
                                        "a field without a name. Nothing was saved."))
        return None

    @app.errorhandler(DataError)
    def _data_error(exc: DataError):
        """The database refused a value (a number out of range, a text too long): bad input, not a
        server error. Nothing was saved."""
        log.warning("value refused by the database on %s %s: %s", request.method, request.path,
                    str(getattr(exc, "orig", exc)).splitlines()[0])
        try:
            from srpp.extensions import db

            db.session.rollback()
        except Exception:
            log.warning("rollback after a refused value failed", exc_info=True)
        return _bad_input(_("A value in the form is outside what can be stored (a number too large, a text too "
                            "long or a character that is not allowed). Nothing was saved."))

    @app.errorhandler(Exception)
    def _server_error(exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        try:
            from srpp.extensions import db

            db.session.rollback()
        except Exception:  # the database itself may be what failed
            log.warning("rollback after error failed", exc_info=True)
        if _wants_json():
            return jsonify(error={"code": "internal_server_error", "message": "Internal Server Error",
                                  "parameter": None}), 500
        return render_template("errors/500.html", code=500), 500
