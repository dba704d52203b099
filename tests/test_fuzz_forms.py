"""Property-based tests over every form (issue 10): whatever is posted, a page or a clear error,
never a 500, and a refused write leaves the database as it was.

The POST routes are discovered from ``app.url_map`` (every one outside ``/api/``); the concrete
URL of each comes from the access matrix (tests/test_access.py, whose ids are the demo's). The
fields posted to a route are those of the WTForms classes its view uses (found in the view's code)
and those of the HTML forms that post to it (the route's own page or its parent page), with their
real choices, plus missing and extra fields. Each example runs in a savepoint that is rolled back.

``SRPP_FUZZ_EXAMPLES`` sets the number of examples per route (default 8: the file stays under
two minutes on a shared machine; 50 or more for a thorough local run).
"""

from __future__ import annotations

import datetime as dt
import html.parser
import inspect
import io
import logging
import os
import types
from decimal import Decimal
from functools import cache
from urllib.parse import urlsplit

import pytest
from flask_wtf import FlaskForm
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text
from wtforms import fields as wtf

from tests.test_access import LOGIN, MATRIX, ROLES, _ids

pytestmark = pytest.mark.postgres

EXAMPLES = int(os.environ.get("SRPP_FUZZ_EXAMPLES", "8"))
#: routes whose successful run is slow (a whole recompute, a clause load): fewer examples
SLOW = {"kpis.recompute": 1, "clauses.load": 1, "reporting.open_period": 2, "kpis.impact_report": 2,
        "documents.new": 2, "payments.municipality_reports": 2}
#: the roles tried, in order, for a route: the first the matrix lets through is used
ROLE_ORDER = ("admin", "officer", "seo", "finance", "council", "anon")
#: routes whose matrix URL names no real record (999999999): the record used instead, and who may act on it
REAL_RECORDS = {
    "suppliers.verify": ("srpp.suppliers.models:SupplierStatus", None, "admin"),
    "suppliers.reject": ("srpp.suppliers.models:SupplierStatus", None, "admin"),
    "engagement.withdraw": ("srpp.suppliers.models:MarketInterest", "seo", "seo"),
    "documents.pdf": ("srpp.documents.models:GeneratedDocument", None, "admin"),
    "documents.retry": ("srpp.documents.models:GeneratedDocument", None, "admin"),
    "payments.approve_report": ("srpp.payments.models:PaymentReport", None, "admin"),
    "payments.publish_report": ("srpp.payments.models:PaymentReport", None, "admin"),
    "payments.regenerate_report": ("srpp.payments.models:PaymentReport", None, "admin"),
    "risks.action_complete": ("srpp.risks.models:CorrectiveAction", None, "admin"),
    "public.delete_search": ("srpp.plans.models:SavedSearch", "seo", "seo"),
}
#: routes that log the client out or in: it logs in again before each example
SESSION_ROUTES = {"auth.logout", "auth.login", "auth.language"}
#: tables a refused request may legitimately write (a failed login is recorded, by design)
WRITTEN_WHEN_REFUSED = {"auth.login": {"login_attempts"}}
ERROR_MARKERS = ('class="errors"', 'class="form-errors"', "has-error", "import-errors", "flash-error")


# --- discovering the routes and their forms ------------------------------------------------------

def _post_routes(app) -> dict[str, str]:
    """endpoint → URL rule of every POST route outside the JSON API."""
    return {r.endpoint: r.rule for r in app.url_map.iter_rules()
            if "POST" in r.methods and not r.rule.startswith("/api/")}


def _matrix_posts(app) -> dict[str, list[tuple[str, dict]]]:
    """endpoint → [(URL template, expected statuses)] of the POST rows of the access matrix."""
    adapter = app.url_map.bind("localhost")

    class AnyId(dict):
        def __missing__(self, key):
            return "1"

    out: dict[str, list[tuple[str, dict]]] = {}
    for method, url, expected in MATRIX:
        if method == "POST":
            endpoint = adapter.match(url.format_map(AnyId()), method="POST")[0]
            out.setdefault(endpoint, []).append((url, expected))
    return out


def _allowed(expected: dict, role: str) -> bool:
    status = expected.get(role, expected.get("*"))
    return status not in (LOGIN, 401, 403, 404, 405)


def _form_classes(view) -> list[type[FlaskForm]]:
    """The FlaskForm classes a view function uses: names in its code (and in the code of the
    module-level helpers it calls, two levels deep) bound to FlaskForm subclasses."""
    view = inspect.unwrap(view)
    found: dict[str, type[FlaskForm]] = {}
    seen: set[int] = set()

    def walk(code: types.CodeType, env: dict, depth: int) -> None:
        if id(code) in seen:
            return
        seen.add(id(code))
        for name in code.co_names:
            obj = env.get(name)
            if isinstance(obj, type) and issubclass(obj, FlaskForm) and obj is not FlaskForm:
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj
            elif isinstance(obj, types.FunctionType) and depth < 2 and obj.__module__.startswith("srpp."):
                fn = inspect.unwrap(obj)
                walk(fn.__code__, fn.__globals__, depth + 1)
        for const in code.co_consts:
            if isinstance(const, types.CodeType):
                walk(const, env, depth)

    walk(view.__code__, view.__globals__, 0)
    return list(found.values())


def _class_fields(form_cls: type[FlaskForm], prefix: str = "") -> dict[str, str]:
    """name → kind of the fields of a form class (FieldList/FormField rows as ``name-0-sub``)."""
    out: dict[str, str] = {}
    for name, unbound in _unbound_fields(form_cls):
        full = prefix + name
        kind = _kind_of_class(unbound.field_class)
        if kind == "formfield":
            out.update(_class_fields(unbound.args[0] if unbound.args else unbound.kwargs["form_class"], full + "-"))
        elif kind == "list":
            inner = unbound.args[0] if unbound.args else unbound.kwargs.get("unbound_field")
            for i in range(2):
                if _kind_of_class(inner.field_class) == "formfield":
                    sub = inner.args[0] if inner.args else inner.kwargs["form_class"]
                    out.update(_class_fields(sub, f"{full}-{i}-"))
                else:
                    out[f"{full}-{i}"] = _kind_of_class(inner.field_class)
        else:
            out[full] = kind
    return out


def _unbound_fields(form_cls) -> list[tuple[str, object]]:
    out = []
    for klass in reversed(form_cls.__mro__):
        for name, value in vars(klass).items():
            if hasattr(value, "field_class") and hasattr(value, "args"):
                out.append((name, value))
    return list(dict(out).items())


def _kind_of_class(field_class: type) -> str:
    checks = [(wtf.FormField, "formfield"), (wtf.FieldList, "list"), (wtf.FileField, "file"),
              (wtf.BooleanField, "bool"), (wtf.SelectMultipleField, "multi"), (wtf.SelectField, "select"),
              (wtf.RadioField, "select"), (wtf.DateTimeField, "date"), (wtf.DateField, "date"),
              (wtf.IntegerField, "number"), (wtf.DecimalField, "number"), (wtf.FloatField, "number")]
    for base, kind in checks:
        if issubclass(field_class, base):
            return kind
    name = field_class.__name__.lower()
    if "month" in name:
        return "month"
    if "amount" in name or "number" in name:
        return "number"
    if issubclass(field_class, wtf.HiddenField):
        return "hidden"
    return "text"


class _FormParser(html.parser.HTMLParser):
    """The POST forms of a page: action → {field name: (kind, [option values], current value)}."""

    def __init__(self, page_url: str) -> None:
        super().__init__()
        self.page_url = page_url
        self.forms: dict[str, dict[str, tuple[str, list[str], str]]] = {}
        self.current: dict | None = None
        self.select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and (a.get("method") or "get").lower() == "post":
            action = urlsplit(a.get("action") or self.page_url).path
            self.current = self.forms.setdefault(action, {})
        elif self.current is None or not a.get("name"):
            return
        elif tag == "input":
            kind = {"checkbox": "bool", "radio": "select", "number": "number", "date": "date", "month": "month",
                    "file": "file", "hidden": "hidden"}.get((a.get("type") or "text").lower(), "text")
            old = self.current.get(a["name"])
            options = (old[1] if old else []) + ([a.get("value") or "y"] if kind in ("bool", "select") else [])
            self.current[a["name"]] = (kind, options, a.get("value") or "")
        elif tag == "textarea":
            self.current[a["name"]] = ("text", [], "")
        elif tag == "select":
            self.select = a["name"]
            self.current[a["name"]] = ("multi" if "multiple" in a else "select", [], "")
        elif tag == "option" and self.select:
            kind, options, value = self.current[self.select]
            self.current[self.select] = (kind, [*options, a.get("value", "")], value)

    def handle_endtag(self, tag):
        if tag == "form":
            self.current = None
        elif tag == "select":
            self.select = None


def _html_fields(client, url: str) -> dict[str, tuple[str, list[str], str]]:
    """The fields of the HTML form(s) that post to ``url``: on its own page or a parent page."""
    path = url
    for _ in range(3):
        resp = client.get(path)
        if resp.status_code == 200 and resp.mimetype == "text/html":
            parser = _FormParser(path)
            parser.feed(resp.get_data(as_text=True))
            if url in parser.forms:
                return parser.forms[url]
        if path.count("/") <= 1:
            break
        path = path.rsplit("/", 1)[0] or "/"
    return {}


# --- values ------------------------------------------------------------------------------------------

TRICKY = ["", " ", "\x00", "a\x00b", "\t\r\n", "<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>",
          "=HYPERLINK(\"http://x\")", "'; drop table users; --", "\u202eevil", "\ud7ff", "ąčęėįšųūž", "NaN",
          "-1", "0", "1e400", "99999999999999999999999999", "%s%n", "{{7*7}}", "\\", "../../etc/passwd"]
texts = st.one_of(
    st.text(max_size=40),  # unicode, control characters included
    st.sampled_from(TRICKY),
    st.integers(251, 20_000).map(lambda n: "ž" * n),
)
numbers = st.one_of(
    st.integers(-(10**30), 10**30).map(str),
    st.decimals(allow_nan=True, allow_infinity=True, places=None).map(str),
    st.sampled_from(["", "abc", "1,5", "1 000,00", "1.234,56", "-0.001", "0.001", "1e3", "1e400", "-1",
                     "999999999999.99", "1000000000000", "2147483648", "-2147483649", "NaN", "Infinity", "\x00"]),
    texts,
)
dates = st.one_of(
    st.dates().map(str),
    st.sampled_from(["2026-02-30", "2026-13-01", "0000-01-01", "9999-12-31", "0001-01-01", "31.12.2026",
                     "2026-1-1", "", "x", "2026-06-15T10:00", "\x00", "-2026-01-01", "99999-01-01"]),
    texts,
)
months = st.one_of(st.sampled_from(["2026-13", "2026-00", "0000-01", "9999-12", "2026-1", "2027-03", ""]), dates)
files = st.tuples(
    st.one_of(st.binary(max_size=300), st.sampled_from([b"", b"%PDF-1.4\n%%EOF", b"PK\x03\x04garbage",
                                                           b"\x89PNG\r\n\x1a\n", "a;b\n1;2\n".encode("utf-16")])),
    st.sampled_from(["a.csv", "a.xlsx", "a.pdf", "a.png", "a", "../../x.csv", "ž.jpg", ".xlsx", "a.CSV"]),
)


def _value(kind: str, options: list[str], current: str):
    real = [o for o in options if o is not None]
    if kind == "file":
        return files.map(lambda f: (io.BytesIO(f[0]), f[1]))
    if kind == "bool":
        return st.sampled_from(["y", "on", "1", "", "false", "\x00", *real])
    if kind in ("select", "multi"):
        base = st.sampled_from(real) if real else texts
        choice = st.one_of(base, base, texts, st.integers(-5, 10**12).map(str))
        return st.lists(choice, max_size=4) if kind == "multi" else choice
    if kind == "hidden":
        return st.one_of(st.just(current), st.just(current), texts, numbers)
    if kind == "number":
        return numbers
    if kind == "date":
        return dates
    if kind == "month":
        return months
    return st.one_of(texts, st.just(current)) if current else texts


# --- the database fingerprint ----------------------------------------------------------------------

@cache
def _fingerprint_sql(metadata_tables: tuple[tuple[str, bool], ...]) -> str:
    parts = [f"select '{name}' as t, count(*) as n, {'coalesce(max(id), 0)' if has_id else '0'} as m from \"{name}\""
             for name, has_id in metadata_tables]
    return " union all ".join(parts)


def fingerprint(conn, skip: set[str] = frozenset()) -> dict[str, tuple[int, int]]:
    """Row count and largest id of every table, and the number of audit events (an update writes one)."""
    from srpp.core.db import Base

    tables = tuple(sorted((t.name, "id" in t.c) for t in Base.metadata.sorted_tables))
    rows = conn.execute(text(_fingerprint_sql(tables))).all()
    return {t: (n, m) for t, n, m in rows if t not in skip}


# --- the fixture: every POST route with its URL, role and fields -----------------------------------

@pytest.fixture(scope="module")
def module_conn(app):
    """One rolled-back transaction for the whole module: the records ``_ids`` makes for the targets
    (a ROK draft tender when the demo has none) exist for every test here and are never committed."""
    from tests.conftest import bound_connection

    with bound_connection(app) as connection:
        yield connection


@pytest.fixture()
def conn(module_conn):
    return module_conn


@pytest.fixture(scope="module")
def targets(app, module_conn):
    """endpoint → (url, role email, fields) for every POST route outside the API."""
    ids = _ids(app)
    matrix = _matrix_posts(app)
    out: dict[str, tuple[str, str | None, dict]] = {}
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    for endpoint in sorted(_post_routes(app)):
        if endpoint in matrix:
            url, role = _target(app, endpoint, matrix[endpoint], ids)
        else:  # a route not yet in the matrix (tests/test_access.py fails for it): fuzzed as an admin
            url, role = _guess_url(app, endpoint, ids), "admin"
        email = ROLES[role]
        client.post("/logout")
        if email:
            client.post("/login", data={"email": email, "password": "demo12345"})
        fields: dict[str, tuple[str, list[str], str]] = {}
        for form_cls in _form_classes(app.view_functions[endpoint]):
            for name, kind in _class_fields(form_cls).items():
                fields.setdefault(name, (kind, [], ""))
        if endpoint not in SESSION_ROUTES:
            for name, (kind, options, current) in _html_fields(client, url).items():
                old = fields.get(name)
                cls_kind = old[0] if old and old[0] not in ("text", "hidden") else kind
                fields[name] = (cls_kind, options, current)
        fields.pop("csrf_token", None)
        out[endpoint] = (url, email, fields)
    client.post("/logout")
    return out


def _target(app, endpoint: str, rows: list[tuple[str, dict]], ids: dict) -> tuple[str, str]:
    """A URL naming a real record and the first role that may post to it."""
    for url, expected in rows:
        if "999999999" in url:
            continue
        role = next((r for r in ROLE_ORDER if _allowed(expected, r)), None)
        if role:
            return url.format(**ids), role
    if endpoint in REAL_RECORDS:
        import importlib

        from srpp.auth.models import User
        from srpp.extensions import db

        path, owner, role = REAL_RECORDS[endpoint]
        module, name = path.split(":")
        model = getattr(importlib.import_module(module), name)
        with app.app_context():
            stmt = select(model.id).order_by(model.id).limit(1)
            if owner:
                user = db.session.scalar(select(User).where(User.email == ROLES[owner]))
                col = getattr(model, "user_id", None)
                if col is not None:
                    stmt = stmt.where(col == user.id)
                elif hasattr(model, "supplier_id"):
                    supplier_ids = [m.supplier_id for m in user.memberships if m.supplier_id]
                    stmt = stmt.where(model.supplier_id.in_(supplier_ids or [-1]))
            record = db.session.scalar(stmt)
        if record is not None:
            return rows[0][0].replace("999999999", str(record)), role
    url, expected = rows[0]
    return url.format(**ids), next((r for r in ROLE_ORDER if expected.get(r, expected.get("*")) != LOGIN), "admin")


#: URL arguments of routes missing from the matrix → the id of the access matrix used for them
ARGUMENT_IDS = {"user_id": "officer_user", "supplier_id": "seo_supplier", "membership_id": "officer_membership",
                "plan_id": "rok_plan", "version_id": "rok_version", "item_id": "rok_item", "tender_id": "rok_tender",
                "lot_id": "rok_lot", "contract_id": "rok_contract", "invoice_id": "rok_invoice",
                "asset_id": "rok_asset", "assignment_id": "rok_asset_assignment", "submission_id": "rok_submission",
                "framework_id": "fa_mob", "participant_id": "rok_participant", "code": None}


def _guess_url(app, endpoint: str, ids: dict) -> str:
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint and "POST" in r.methods)
    values = {}
    for arg in rule.arguments:
        key = ARGUMENT_IDS.get(arg)
        values[arg] = ids[key] if key in ids else ("ROK" if arg == "code" else 1)
    with app.test_request_context():
        from flask import url_for

        return url_for(endpoint, **values)


def test_every_post_route_has_a_fuzz_target(app, targets):
    """Every POST route outside the API is fuzzed (a route missing from the access matrix too)."""
    assert set(targets) == set(_post_routes(app))
    assert all(url for url, _email, _fields in targets.values())
    # the discovery finds the fields: of a known form class and of the HTML form on the parent page
    assert {"title", "estimated_value", "launch_month"} <= set(targets["plans.item_new"][2])
    assert {"supplier_id", "price"} <= set(targets["tenders.bid_new"][2])
    assert targets["plan_io.import_items"][2]["file"][0] == "file"


# --- the property --------------------------------------------------------------------------------

def _endpoints() -> list[str]:
    """The POST endpoints of the access matrix (the full set is compared in the test above)."""
    from srpp import create_app

    app = create_app({"DATABASE_URL": "sqlite://", "SECRET_KEY": "x", "REDIS_URL": None})
    return sorted(_post_routes(app))


@pytest.fixture()
def login_as(client):
    def _login(email: str | None) -> None:
        client.post("/logout")
        if email:
            resp = client.post("/login", data={"email": email, "password": "demo12345"})
            assert resp.status_code == 302, f"login as {email} failed"
    return _login


def _posted(data, fields: dict) -> dict:
    """Random values for a random subset of the fields, and random extra fields."""
    form = {}
    for name in sorted(fields):
        kind, options, current = fields[name]
        if data.draw(st.integers(0, 9), label=f"include {name}") < 8:  # missing fields too
            form[name] = data.draw(_value(kind, options, current), label=name)
    extra = data.draw(st.dictionaries(st.text(min_size=1, max_size=12), texts, max_size=3), label="extra fields")
    for name, value in extra.items():
        form.setdefault(name, value)
    return form


def _refused(resp, client) -> bool:
    """Whether the response says the write was refused: a 4xx, a form shown again with errors,
    or a redirect carrying an error message."""
    if 400 <= resp.status_code < 500:
        return True
    if resp.status_code == 200 and resp.mimetype == "text/html":
        page = resp.get_data(as_text=True)
        return any(marker in page for marker in ERROR_MARKERS)
    if resp.status_code in (302, 303):
        with client.session_transaction() as session:
            return any(category == "error" for category, _message in session.get("_flashes", []))
    return False


@pytest.mark.parametrize("endpoint", _endpoints())
def test_any_input_gets_a_page_never_a_500(endpoint, targets, client, conn, login_as, caplog):
    url, email, fields = targets[endpoint]
    skip = WRITTEN_WHEN_REFUSED.get(endpoint, set())
    login_as(email)

    # no shrinking: a failure shows the form as generated (shrinking replays hundreds of requests)
    @settings(max_examples=SLOW.get(endpoint, EXAMPLES), deadline=None, database=None,
              phases=(Phase.explicit, Phase.generate), report_multiple_bugs=False,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(data=st.data())
    def post_anything(data):
        form = _posted(data, fields)
        savepoint = conn.begin_nested()
        try:
            if endpoint in SESSION_ROUTES:
                login_as(email)
            with client.session_transaction() as session:
                session.pop("_flashes", None)  # an earlier example's message is not this one's
            before = fingerprint(conn, skip)
            caplog.clear()
            with caplog.at_level(logging.ERROR, logger="srpp.errors"):
                resp = client.post(url, data=form, content_type="multipart/form-data")
            trace = "\n".join(r.getMessage() + "\n" + (r.exc_text or "") for r in caplog.records)
            assert resp.status_code < 500, f"{endpoint} {url}: {resp.status_code} for {form!r}\n{trace[-3000:]}"
            if _refused(resp, client):
                after = fingerprint(conn, skip)
                changed = {t: (before.get(t), after.get(t)) for t in after if before.get(t) != after.get(t)}
                assert not changed, f"{endpoint} {url} refused ({resp.status_code}) but wrote {changed} for {form!r}"
        finally:
            if savepoint.is_active:
                savepoint.rollback()

    post_anything()


# --- what the fuzzing found (fixed), as plain tests ----------------------------------------------------

def test_huge_numbers_in_row_forms_are_field_errors_not_500(as_user, targets):
    """A 26-digit weight or share parsed as an amount broke the sum shown under the rows (the number
    filter cannot round it): amounts beyond what the database stores are refused by the field."""
    client = as_user("admin@demo.srpp.lt")
    criteria_url = targets["tenders.criteria"][0]
    resp = client.post(criteria_url, data={"rows-0-name": "Kaina", "rows-0-kind": "price",
                                           "rows-0-weight": "99999999999999999999999999"})
    assert resp.status_code == 200 and "The number is too large." in resp.get_data(as_text=True)
    milestones_url = targets["contracts.milestones"][0]
    resp = client.post(milestones_url, data={"rows-0-title": "Etapas", "rows-0-share_percent": "1e30",
                                             "rows-0-trigger": "delivery", "rows-0-day_type": "calendar"})
    assert resp.status_code == 200 and "The number is too large." in resp.get_data(as_text=True)


def test_amount_and_month_parsing_bounds():
    from srpp.plans.forms import parse_amount, parse_month

    assert parse_amount("999 999 999 999,99") == Decimal("999999999999.99")
    assert parse_amount("1 000 000 000 000") is None and parse_amount("1e400") is None
    assert parse_amount("-1e13") is None and parse_amount("NaN") is None
    assert parse_month("2027-03") == dt.date(2027, 3, 1)
    assert parse_month("0000-01") is None and parse_month("9999-12") is None


def test_nul_characters_and_out_of_range_ids_are_a_clear_400(as_user, conn, targets):
    """NUL characters (PostgreSQL cannot store them) are refused before any view reads the form; a
    value the database refuses (an id beyond its integer range) answers 400 with the reason, not 500."""
    client = as_user("admin@demo.srpp.lt")
    before = fingerprint(conn)
    resp = client.post(targets["frameworks.event_add"][0], data={"held_on": "2026-01-01", "notes": "a\x00b"})
    assert resp.status_code == 400 and "NUL character" in resp.get_data(as_text=True)
    assert client.get("/opportunities?q=%00").status_code == 400
    resp = client.post(targets["frameworks.acknowledge"][0], data={"municipality_id": "1000000000000"})
    assert resp.status_code == 400 and "outside what can be stored" in resp.get_data(as_text=True)
    assert fingerprint(conn) == before


def test_nan_and_infinity_are_not_numbers(as_user, conn, targets):
    client = as_user("admin@demo.srpp.lt")
    before = fingerprint(conn)
    for raw in ("sNaN", "NaN", "Infinity", "-inf"):
        resp = client.post("/admin/settings", data={"plans.reserved_min_share": raw})
        assert resp.status_code == 200 and "Not a valid value." in resp.get_data(as_text=True), raw
        resp = client.post(targets["orgs.supplier_edit"][0], data={"max_contract_value": raw})
        assert resp.status_code == 200 and "Not a valid decimal value" in resp.get_data(as_text=True), raw
    assert fingerprint(conn) == before
