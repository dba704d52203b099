"""The operation registry of the JSON API: every endpoint is declared once, with pydantic models
for its query, body and response, and that one declaration both runs the request (authentication,
parameter validation, JSON errors) and writes the OpenAPI 3.1 document. The document therefore
cannot drift from the code.

An operation's function receives ``user`` (``None`` for anonymous calls), ``query`` and ``body``
(validated model instances, or ``None``) and the URL's path arguments, and returns a response model
instance. Errors: raise ``ApiError`` (or a ``DomainError`` / ``PermissionDenied`` from a service,
turned into 422 / 403 here)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from functools import wraps
from typing import Any, Generic, Literal, TypeVar

from flask import Blueprint, current_app, g, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.json_schema import models_json_schema

from srpp.core.errors import DomainError
from srpp.core.permissions import PermissionDenied
from srpp.extensions import db

Auth = Literal["public", "optional", "token", "login"]
T = TypeVar("T")
REF = "#/components/schemas/{model}"


# --- errors ------------------------------------------------------------------------------------

class ErrorDetail(BaseModel):
    """One of several problems (a refused import lists every row and field)."""

    row: int | None = Field(None, description="the 1-based position of the item in the list sent, when in a list")
    parameter: str | None = Field(None, description="the body field at fault, e.g. `invoices.2.amount`")
    message: str


class ErrorBody(BaseModel):
    code: str = Field(description="machine-readable error code, e.g. `invalid_parameter`")
    message: str = Field(description="what went wrong, in the language asked for")
    parameter: str | None = Field(None, description="the query parameter or body field at fault")
    details: list[ErrorDetail] | None = Field(None, description="every problem, when there are several")


class ErrorResponse(BaseModel):
    error: ErrorBody


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, parameter: str | None = None,
                 details: list[ErrorDetail] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.parameter = status, code, message, parameter
        self.details = details

    def response(self):
        error = ErrorBody(code=self.code, message=self.message, parameter=self.parameter)
        if self.details:
            error.details = self.details
        # ``details`` only appears when given (exclude_unset); code, message and parameter always do
        resp = jsonify(ErrorResponse(error=error).model_dump(mode="json", exclude_unset=True))
        resp.status_code = self.status
        if self.status == 401:
            resp.headers["WWW-Authenticate"] = 'Bearer realm="srpp"'
        return resp


def not_found(what: str = "") -> ApiError:
    return ApiError(404, "not_found", _("%(what)s not found.", what=what or _("The resource")))


# --- shared models ----------------------------------------------------------------------------

class PageQuery(BaseModel):
    """Paging, shared by every list operation. A page size above the maximum is capped (and said so in
    ``meta``), not refused."""

    model_config = ConfigDict(extra="ignore")

    page: int = Field(1, ge=1, le=1_000_000, description="page number, from 1")
    page_size: int = Field(50, ge=1, le=1_000_000, description="items per page; capped at the maximum (200)")


class PageMeta(BaseModel):
    page: int
    page_size: int
    total: int = Field(description="items matching the filters, over all pages")
    pages: int
    page_size_capped: bool = Field(description="true when the page size asked for was above the maximum")
    max_page_size: int
    warnings: list[str] = Field(default_factory=list)


class Page(BaseModel, Generic[T]):
    data: list[T]
    meta: PageMeta


MAX_PAGE_SIZE = 200
#: the largest id (PostgreSQL ``integer``): a larger one in a path is a 404, not a database error
MAX_ID = 2_147_483_647


def paginate(stmt, query: PageQuery, convert: Callable[[Any], T]) -> Page[T]:
    """One page of a SELECT (entities or rows) with the total count, converted item by item."""
    from sqlalchemy import func, select

    size = min(query.page_size, MAX_PAGE_SIZE)
    capped = query.page_size > MAX_PAGE_SIZE
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = db.session.execute(stmt.limit(size).offset((query.page - 1) * size))
    items = [convert(r[0] if len(r) == 1 else r) for r in rows]
    warnings = [_("page_size %(asked)d is above the maximum; %(max)d items per page are returned.",
                  asked=query.page_size, max=MAX_PAGE_SIZE)] if capped else []
    meta = PageMeta(page=query.page, page_size=size, total=total, pages=max(1, -(-total // size)),
                    page_size_capped=capped, max_page_size=MAX_PAGE_SIZE, warnings=warnings)
    return Page[T].model_construct(data=items, meta=meta)


# --- registry --------------------------------------------------------------------------------

@dataclasses.dataclass
class Operation:
    blueprint: str
    rule: str
    method: str
    endpoint: str
    summary: str
    description: str
    tag: str
    auth: Auth
    write: bool
    query: type[BaseModel] | None
    body: type[BaseModel] | None
    response: Any  # a pydantic model class (possibly a parametrised generic)
    status: int
    errors: tuple[int, ...]
    content_type: str = "application/json"

    @property
    def openapi_path(self) -> str:
        return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", self.rule)

    @property
    def path_params(self) -> list[tuple[str, str]]:
        return [(name, conv or "string") for conv, name in re.findall(r"<(?:([a-z]+):)?([a-z_]+)>", self.rule)]


OPERATIONS: list[Operation] = []


def _authenticate(op: Operation):
    """The acting user: a Bearer token (always checked when sent), else the logged-in session for
    reads. Writes need a token: they are not protected by a CSRF token, so cookies must not do."""
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _sep, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise ApiError(401, "unauthorized", _("Send the API token as 'Authorization: Bearer <token>'."))
        from srpp.api.services import authenticate

        token = authenticate(value.strip())
        if token is None:
            raise ApiError(401, "unauthorized", _("The API token is unknown, revoked or expired."))
        if op.write and not token.can_write:
            raise ApiError(403, "token_read_only", _("This API token may only read."))
        g.api_token_id = token.id
        return token.user
    if op.write or op.auth == "token":
        raise ApiError(401, "unauthorized", _("This operation needs an API token."))
    if current_user.is_authenticated:
        return current_user._get_current_object()
    if op.auth == "login":
        raise ApiError(401, "unauthorized", _("Log in or send an API token."))
    return None


def _validation_error(exc: ValidationError, where: str) -> ApiError:
    first = exc.errors()[0]
    loc = ".".join(str(p) for p in first.get("loc", ()) if p != "__root__") or None
    return ApiError(400, f"invalid_{where}",
                    _("Invalid value for %(param)s: %(detail)s", param=loc or where, detail=first.get("msg", "")),
                    parameter=loc)


def _storable(value: Any) -> bool:
    """Whether every string in a JSON value can be stored: PostgreSQL refuses NUL characters and
    text that is not valid UTF-8 (lone surrogates), so such input is a 400, never a 500."""
    if isinstance(value, str):
        if "\x00" in value:
            return False
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True
    if isinstance(value, dict):
        return all(_storable(k) and _storable(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_storable(v) for v in value)
    return True


def _parse_query(model: type[BaseModel]) -> BaseModel:
    raw: dict[str, Any] = {}
    for key in request.args:
        values = request.args.getlist(key)
        if not _storable([key, *values]):
            raise ApiError(400, "invalid_parameter", _("Invalid value for %(param)s: %(detail)s", param=key,
                                                       detail=_("unusable characters")), parameter=key)
        field = model.model_fields.get(key)
        is_list = field is not None and "list" in str(field.annotation)
        raw[key] = values if is_list else values[-1]
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise _validation_error(exc, "parameter") from None


def _parse_body(model: type[BaseModel]) -> BaseModel:
    data = request.get_json(silent=True)
    if data is None:
        raise ApiError(400, "invalid_body", _("The request body must be a JSON object."))
    if not _storable(data):
        raise ApiError(400, "invalid_body", _("Invalid value for %(param)s: %(detail)s", param="body",
                                              detail=_("unusable characters")))
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _validation_error(exc, "body") from None


def operation(bp: Blueprint, rule: str, *, summary: str, tag: str, response: Any, method: str = "GET",
              query: type[BaseModel] | None = None, body: type[BaseModel] | None = None, status: int = 200,
              auth: Auth = "optional", description: str = "", errors: tuple[int, ...] = (),
              content_type: str = "application/json") -> Callable:
    """Declare and register one API operation on ``bp`` (see the module docstring)."""
    write = method not in ("GET", "HEAD")

    def deco(fn: Callable) -> Callable:
        # the full path (with the blueprint's prefix): the OpenAPI document lists it under that
        op = Operation(bp.name, (bp.url_prefix or "") + rule, method, fn.__name__, summary,
                       description or (fn.__doc__ or "").strip(), tag, auth, write, query, body, response, status, errors, content_type)
        OPERATIONS.append(op)

        @wraps(fn)
        def view(**kwargs: Any):
            try:
                if not _storable(list(kwargs.values())) or any(
                        isinstance(v, int) and v > MAX_ID for v in kwargs.values()):
                    raise not_found()  # no such row: ids are PostgreSQL integers
                user = _authenticate(op)
                if user is not None:
                    from srpp.core.audit import bind_actor

                    bind_actor(db.session(), user, request_id=g.get("request_id"))
                q = _parse_query(query) if query else None
                b = _parse_body(body) if body else None
                result = fn(user=user, query=q, body=b, **kwargs)
            except ApiError as exc:
                db.session.rollback()
                return exc.response()
            except PermissionDenied:
                db.session.rollback()
                return ApiError(403, "forbidden", _("You may not do this.")).response()
            except DomainError as exc:
                db.session.rollback()
                return ApiError(422, "rule_violation", exc.message, parameter=exc.field).response()
            if isinstance(result, current_app.response_class):
                return result
            payload = result.model_dump(mode="json") if isinstance(result, BaseModel) else result
            resp = jsonify(payload)
            resp.status_code = status
            return resp

        bp.add_url_rule(rule, endpoint=fn.__name__, view_func=view, methods=[method])
        return view

    return deco


# --- the OpenAPI document ------------------------------------------------------------------------

_CONVERTERS = {"int": {"type": "integer", "minimum": 0, "maximum": MAX_ID}, "string": {"type": "string"},
               "path": {"type": "string"}}
_ERROR_TEXT = {400: "Invalid parameter or body", 401: "Missing or invalid API token", 403: "Not allowed",
               404: "Not found", 409: "Changed by someone else", 422: "A business rule refused the change",
               429: "Rate limit exceeded"}


def openapi_document(prefix: str, title: str, version: str, description: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every registered operation whose rule starts with ``prefix``."""
    ops = [op for op in OPERATIONS if op.rule.startswith(prefix)]
    models: list[tuple[Any, Literal["validation", "serialization"]]] = [(ErrorResponse, "serialization")]
    for op in ops:
        if op.body is not None:
            models.append((op.body, "validation"))
        if isinstance(op.response, type) and issubclass(op.response, BaseModel):
            models.append((op.response, "serialization"))
    keys, defs = models_json_schema(models, ref_template=REF)
    paths: dict[str, dict[str, Any]] = {}
    for op in ops:
        params: list[dict[str, Any]] = [
            {"name": name, "in": "path", "required": True, "schema": dict(_CONVERTERS.get(conv, _CONVERTERS["string"]))}
            for name, conv in op.path_params
        ]
        if op.query is not None:
            schema = op.query.model_json_schema(ref_template=REF)
            required = set(schema.get("required", []))
            for name, prop in schema.get("properties", {}).items():
                prop = dict(prop)
                desc = prop.pop("description", None)
                prop.pop("title", None)
                param = {"name": name, "in": "query", "required": name in required, "schema": prop}
                if desc:
                    param["description"] = desc
                if prop.get("type") == "array":
                    param.update(style="form", explode=True)
                params.append(param)
        item: dict[str, Any] = {
            "operationId": f"{op.blueprint}_{op.endpoint}",
            "summary": op.summary,
            "tags": [op.tag],
            "parameters": params,
            "responses": {},
        }
        if op.description:
            item["description"] = op.description
        if op.auth in ("token", "login") or op.write:
            item["security"] = [{"bearerAuth": []}] if op.write or op.auth == "token" else [
                {"bearerAuth": []}, {"cookieAuth": []}]
        else:
            item["security"] = [{}, {"bearerAuth": []}, {"cookieAuth": []}]
        if op.body is not None:
            item["requestBody"] = {"required": True, "content": {
                "application/json": {"schema": keys[(op.body, "validation")]}}}
        if isinstance(op.response, type) and issubclass(op.response, BaseModel):
            content = {op.content_type: {"schema": keys[(op.response, "serialization")]}}
        else:
            content = {op.content_type: {"schema": op.response or {}}}
        item["responses"][str(op.status)] = {"description": op.summary, "content": content}
        statuses = set(op.errors) | {429}
        if op.query is not None or op.body is not None:
            statuses.add(400)
        if op.path_params:
            statuses.add(404)
        if op.auth in ("token", "login") or op.write:
            statuses |= {401, 403}
        if op.write:
            statuses.add(422)
        error_ref = keys[(ErrorResponse, "serialization")]
        for code in sorted(statuses):
            item["responses"][str(code)] = {"description": _ERROR_TEXT.get(code, "Error"),
                                            "content": {"application/json": {"schema": error_ref}}}
        paths.setdefault(op.openapi_path, {})[op.method.lower()] = item
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version, "description": description,
                 "license": {"name": "CC-BY-4.0", "identifier": "CC-BY-4.0"}},
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "servers": [{"url": "/"}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer",
                               "description": "an API token from the 'API tokens' page of your account"},
                "cookieAuth": {"type": "apiKey", "in": "cookie", "name": "session",
                               "description": "the logged-in browser session (read operations only)"},
            },
        },
    }
