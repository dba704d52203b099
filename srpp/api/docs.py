"""The browsable API documentation (``/api/v1/docs``): the OpenAPI document of ``views.document()``
turned into what the page lists — per tag the operations with their parameters, request body,
responses and an example ``curl`` line, and the schemas they refer to. Server-rendered, no script."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

REF_PREFIX = "#/components/schemas/"


@dataclass
class Param:
    name: str
    location: str
    required: bool
    type: str
    description: str


@dataclass
class Prop:
    name: str
    type: str
    required: bool
    description: str
    ref: str | None = None  # a schema this property refers to (linked on the page)


@dataclass
class Response:
    status: str
    description: str
    schema: str | None


@dataclass
class Op:
    method: str
    path: str
    operation_id: str
    summary: str
    description: str
    auth: str  # public | optional | token
    params: list[Param]
    body: str | None
    responses: list[Response]
    curl: str


@dataclass
class Schema:
    name: str
    description: str
    props: list[Prop] = field(default_factory=list)


@dataclass
class Docs:
    title: str
    version: str
    description: str
    tags: dict[str, list[Op]]
    schemas: list[Schema]


def _ref_name(schema: dict[str, Any]) -> str | None:
    ref = schema.get("$ref", "")
    return ref[len(REF_PREFIX):] if ref.startswith(REF_PREFIX) else None


def type_of(schema: dict[str, Any]) -> str:
    """A short, readable type: ``string (date)``, ``integer | null``, ``array of PlanItemOut``,
    ``one of: a, b``."""
    if not schema:
        return "any"
    if name := _ref_name(schema):
        return name
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return " | ".join(dict.fromkeys(type_of(s) for s in schema[key]))
    if "allOf" in schema and len(schema["allOf"]) == 1:
        return type_of(schema["allOf"][0])
    if "enum" in schema:
        return "one of: " + ", ".join(str(v) for v in schema["enum"])
    if "const" in schema:
        return json.dumps(schema["const"])
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        return " | ".join(kind)
    if kind == "array":
        return "array of " + type_of(schema.get("items", {}))
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return "object of " + type_of(schema["additionalProperties"])
    if fmt := schema.get("format"):
        return f"{kind} ({fmt})"
    return kind


def _first_ref(schema: dict[str, Any]) -> str | None:
    if name := _ref_name(schema):
        return name
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in schema.get(key, []):
            if found := _first_ref(sub):
                return found
    if schema.get("type") == "array":
        return _first_ref(schema.get("items", {}))
    return None


def _constraints(schema: dict[str, Any]) -> str:
    parts = []
    for key, label in (("minimum", "≥"), ("maximum", "≤"), ("minLength", "min. length"),
                       ("maxLength", "max. length"), ("minItems", "min. items"), ("maxItems", "max. items")):
        if key in schema:
            parts.append(f"{label} {schema[key]}")
    for sub in schema.get("anyOf", []):
        if sub.get("type") != "null":
            parts.extend(p for p in _constraints(sub).split("; ") if p)
    if "default" in schema and schema["default"] is not None:
        parts.append(f"default {json.dumps(schema['default'])}")
    return "; ".join(parts)


def _example(schema: dict[str, Any], schemas: dict[str, Any]) -> Any:
    """The schema's own example, else a small one with the required properties."""
    if name := _ref_name(schema):
        schema = schemas.get(name, {})
    if schema.get("examples"):
        return schema["examples"][0]
    props = schema.get("properties", {})
    return {name: f"<{type_of(props[name])}>" for name in schema.get("required", []) if name in props}


def _curl(method: str, path: str, auth: str, body: Any, base: str) -> str:
    parts = ["curl"]
    if method != "GET":
        parts.append(f"-X {method}")
    if auth in ("token", "login"):
        parts.append('-H "Authorization: Bearer $SRPP_TOKEN"')
    if body is not None:
        parts.append('-H "Content-Type: application/json"')
        text = json.dumps(body, ensure_ascii=False).replace("'", "'\\''")
        parts.append(f"-d '{text}'")
    parts.append(f"'{base}{path}'")
    return " ".join(parts)


def build(document: dict[str, Any], base_url: str) -> Docs:
    schemas = document.get("components", {}).get("schemas", {})
    tags: dict[str, list[Op]] = {}
    for path, methods in document.get("paths", {}).items():
        for method, item in methods.items():
            security = item.get("security", [])
            auth = "optional" if {} in security else "token" if security == [{"bearerAuth": []}] else "login"
            params = [Param(p["name"], p["in"], bool(p.get("required")),
                            type_of(p.get("schema", {})) + (f" ({c})" if (c := _constraints(p.get("schema", {})))
                                                            else ""),
                            p.get("description", "")) for p in item.get("parameters", [])]
            body_schema = item.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            responses = []
            for status, resp in item.get("responses", {}).items():
                content = resp.get("content", {})
                schema = next(iter(content.values()), {}).get("schema") if content else None
                responses.append(Response(status, resp.get("description", ""),
                                          type_of(schema) if schema else None))
            example = _example(body_schema, schemas) if body_schema else None
            op = Op(method.upper(), path, item.get("operationId", ""), item.get("summary", ""),
                    item.get("description", ""), auth, params, type_of(body_schema) if body_schema else None,
                    responses, _curl(method.upper(), path, auth, example, base_url))
            for tag in item.get("tags", ["other"]):
                tags.setdefault(tag, []).append(op)
    out_schemas = []
    for name, schema in sorted(schemas.items()):
        required = set(schema.get("required", []))
        props = []
        for prop_name, prop in schema.get("properties", {}).items():
            desc = prop.get("description", "")
            if c := _constraints(prop):
                desc = f"{desc} ({c})" if desc else c
            props.append(Prop(prop_name, type_of(prop), prop_name in required, desc, _first_ref(prop)))
        out_schemas.append(Schema(name, schema.get("description", ""), props))
    info = document.get("info", {})
    return Docs(info.get("title", ""), info.get("version", ""), info.get("description", ""),
                dict(sorted(tags.items())), out_schemas)
