"""The OpenAPI document of ``/api/v1`` (issue 9, part 5): valid OpenAPI 3.1, complete (every route of
the API is in it, so it cannot drift), and true: schemathesis generates requests for every operation
from the document, anonymously and with a write token, and every response must be no server error
and match the document (status code, content type, schema). Also the rate limit's 429."""

from __future__ import annotations

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select

pytestmark = pytest.mark.postgres

#: routes of the API blueprint that are not operations: the document itself and its page
NOT_OPERATIONS = {"api.openapi_json", "api.docs"}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
#: examples, then property-based fuzzing; a bounded number per operation so both runs stay well under 90 s
SCHEMATHESIS_CONFIG = {
    "phases": {"examples": {"enabled": True}, "fuzzing": {"enabled": True}, "coverage": {"enabled": False},
               "stateful": {"enabled": False}},
    "generation": {"max-examples": 12, "mode": "positive", "deterministic": True},
}
HYPOTHESIS = settings(max_examples=12, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def api_app(app, app_config):
    """The app with a rate limit no fuzzing run reaches (the limit has its own test below)."""
    from srpp import create_app

    return create_app({**app_config, "API_RATE_LIMIT": "1000000 per minute"})


# --- the document ---------------------------------------------------------------------------------------

def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_document_is_valid_openapi_31(client):
    import jsonschema
    from schemathesis.specs.openapi.definitions import OPENAPI_31

    doc = client.get("/api/v1/openapi.json").json
    assert doc["openapi"].startswith("3.1")
    jsonschema.Draft202012Validator(OPENAPI_31).validate(doc)
    # the schemas themselves are JSON Schema 2020-12 (the 3.1 dialect), and every reference resolves
    for schema in doc["components"]["schemas"].values():
        jsonschema.Draft202012Validator.check_schema(schema)
    refs = set(_refs(doc))
    assert refs, "the document uses no component schema"
    prefix = "#/components/schemas/"
    assert all(r.startswith(prefix) for r in refs)
    assert {r[len(prefix):] for r in refs} <= set(doc["components"]["schemas"])
    # schemathesis loads and validates it too
    schemathesis.openapi.from_dict(doc).validate()


def test_every_api_route_is_in_the_document(app, client):
    doc = client.get("/api/v1/openapi.json").json
    documented = {(path, method) for path, methods in doc["paths"].items() for method in methods}
    routes = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.endpoint in NOT_OPERATIONS:
            continue
        path = re.sub(r"<(?:[a-z]+(?:\([^)]*\))?:)?([a-z_]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routes.add((path, method.lower()))
    assert routes, "the API has no routes"
    assert routes - documented == set(), "API routes missing from the OpenAPI document"
    assert documented - routes == set(), "documented operations without a route"
    # the writes of this issue are there, and need a token
    for path, method in (("/api/v1/plan-items", "post"), ("/api/v1/plan-items/{uid}", "patch"),
                         ("/api/v1/plan-items/{uid}", "delete"), ("/api/v1/invoices/import", "post")):
        op = doc["paths"][path][method]
        assert op["security"] == [{"bearerAuth": []}]
        assert {"401", "403", "422", "429"} <= set(op["responses"])


# --- schemathesis ------------------------------------------------------------------------------------

def _schema():
    """The document of the registered operations (the same one ``/api/v1/openapi.json`` serves, see
    ``test_every_api_route_is_in_the_document``); loaded when the module is collected, so every
    operation is a test item of its own (schemathesis' fixture-based loading does not run under
    pytest 9). The requests go to ``api_app`` through WSGI."""
    import srpp.models  # noqa: F401  (every mapper, before the API modules build their loader options)
    from srpp.api.views import document

    return schemathesis.openapi.from_dict(document(), config=schemathesis.Config.from_dict(SCHEMATHESIS_CONFIG))


schema = _schema()


@schema.parametrize()
@HYPOTHESIS
def test_api_anonymous(case, api_app, conn):
    case.call_and_validate(app=api_app, headers={"Accept-Language": "en"}, checks=CHECKS)


@pytest.fixture()
def write_tokens(ctx):
    """Write tokens of ROK's procurement officer (plans) and finance officer (invoices)."""
    from srpp.api import services
    from srpp.auth.models import User

    out = {}
    for key, email in (("officer", "officer.rok@demo.srpp.lt"), ("finance", "finance.rok@demo.srpp.lt")):
        user = ctx.scalar(select(User).where(User.email == email))
        _row, plaintext = services.issue(user, "schemathesis", can_write=True)
        out[key] = plaintext
    ctx.commit()
    return out


@pytest.fixture()
def rok_item(ctx):
    """``rok_item()`` → (uid, current version) of an item of ROK's plan, so generated changes reach a
    real item instead of a 404 (the version as it is now: 409s have their own tests)."""
    from srpp.api.locking import item_version
    from srpp.orgs.services import municipality_by_code
    from srpp.plans.models import PlanItem, PlanVersion
    from srpp.plans.services import current_published

    uid = current_published(municipality_by_code("ROK")).items[0].uid

    def _current() -> tuple[str, str]:
        ctx.expire_all()
        newest = ctx.scalars(select(PlanItem).join(PlanVersion, PlanItem.plan_version_id == PlanVersion.id)
                             .where(PlanItem.uid == uid).order_by(PlanVersion.number.desc())).first()
        return uid, item_version(newest) if newest is not None else "gone"

    return _current


@schema.parametrize()
@HYPOTHESIS
def test_api_with_write_token(case, api_app, write_tokens, rok_item):
    token = write_tokens["finance" if case.path.startswith("/api/v1/invoices") else "officer"]
    if case.path == "/api/v1/plan-items/{uid}":
        uid, version = rok_item()
        case.path_parameters = {"uid": uid}
        if case.method == "PATCH" and isinstance(case.body, dict):
            case.body = {**case.body, "version": version}
    case.call_and_validate(app=api_app, headers={"Accept-Language": "en", "Authorization": f"Bearer {token}"},
                           checks=CHECKS)


# --- rate limits ------------------------------------------------------------------------------------------

def test_rate_limit_answers_429_in_the_error_shape(app_config, conn):
    from srpp import create_app

    limited = create_app({**app_config, "API_RATE_LIMIT": "3 per minute"})
    client = limited.test_client()
    statuses = [client.get("/api/v1/municipalities").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    resp = client.get("/api/v1/municipalities")
    assert resp.status_code == 429 and resp.mimetype == "application/json"
    error = resp.json["error"]
    assert error["code"] == "too_many_requests" and error["message"] and "parameter" in error
    assert int(resp.headers["Retry-After"]) > 0
    # the document and its page are not limited
    assert client.get("/api/v1/openapi.json").status_code == 200
    assert client.get("/api/v1/docs").status_code == 200
    # a token has its own budget
    from srpp.api import services
    from srpp.auth.models import User
    from srpp.extensions import db

    with limited.app_context():
        user = db.session.scalar(select(User).where(User.email == "officer.rok@demo.srpp.lt"))
        _row, plaintext = services.issue(user, "rate")
        db.session.commit()
    headers = {"Authorization": f"Bearer {plaintext}"}
    assert [client.get("/api/v1/municipalities", headers=headers).status_code for _ in range(4)] == \
        [200, 200, 200, 429]
