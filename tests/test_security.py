"""Web protections (issue 10): session fixation, lock-outs shown to administrators, security headers on
every kind of response, CSRF on every state-changing route."""

from __future__ import annotations

import json
import re
import sys

import pytest
from sqlalchemy import func, select

from srpp.auth.models import User
from srpp.core.models import AuditEvent

OFFICER = "officer.kup@demo.srpp.lt"
ADMIN = "admin@demo.srpp.lt"


def _login(client, email, password="demo12345", **extra):
    return client.post("/login", data={"email": email, "password": password, **extra})


def _session_cookie(client) -> str | None:
    cookie = client.get_cookie("session")
    return cookie.value if cookie else None


# --- session fixation -------------------------------------------------------------------------

def test_login_starts_a_new_session(client):
    with client.session_transaction() as sess:
        sess["planted"] = "by-attacker"
        sess["_fresh"] = True
    before = _session_cookie(client)
    assert before
    assert _login(client, OFFICER).status_code == 302
    after = _session_cookie(client)
    assert after and after != before
    with client.session_transaction() as sess:
        assert "planted" not in sess
        assert sess.get("_user_id")


def test_logout_clears_the_session(client):
    _login(client, OFFICER)
    with client.session_transaction() as sess:
        sess["left-over"] = "x"
    client.post("/logout")
    with client.session_transaction() as sess:
        assert "left-over" not in sess and "_user_id" not in sess
    assert client.get("/account").status_code == 302


def test_session_cookie_of_one_client_is_not_accepted_from_another_address(app, client):
    """session_protection "strong": a stolen cookie used from another address logs nobody in."""
    _login(client, OFFICER)
    stolen = _session_cookie(client)
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    resp = thief.get("/account", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


# --- lock-outs shown to administrators -----------------------------------------------------------

def test_admin_sees_lock_details_and_unlocks_from_the_list(client, as_user, ctx):
    for _ in range(5):
        _login(client, OFFICER, "wrong-password")
    user_id = ctx.scalar(select(User.id).where(User.email == OFFICER))
    admin = as_user(ADMIN)
    listing = admin.get("/admin/users").get_data(as_text=True)
    row = re.search(rf"<tr>\s*<td><a href=\"/admin/users/{user_id}\">.*?</tr>", listing, re.S).group(0)
    assert "locked until" in row and "5 failed attempts" in row
    assert f'action="/admin/users/{user_id}/unlock"' in row
    # an account that is not locked has no unlock button
    other_id = ctx.scalar(select(User.id).where(User.email == "officer.bir@demo.srpp.lt"))
    other = re.search(rf"<tr>\s*<td><a href=\"/admin/users/{other_id}\">.*?</tr>", listing, re.S).group(0)
    assert "unlock" not in other
    page = admin.get(f"/admin/users/{user_id}").get_data(as_text=True)
    assert "This account is locked" in page and "5 failed attempts" in page and "Unlock now" in page
    assert admin.post(f"/admin/users/{user_id}/unlock").status_code == 302
    listing = admin.get("/admin/users").get_data(as_text=True)
    row = re.search(rf"<tr>\s*<td><a href=\"/admin/users/{user_id}\">.*?</tr>", listing, re.S).group(0)
    assert "locked until" not in row and "unlock" not in row
    assert "This account is locked" not in admin.get(f"/admin/users/{user_id}").get_data(as_text=True)
    admin.post("/logout")
    assert _login(client, OFFICER).status_code == 302


def test_failures_below_the_limit_are_counted(client, as_user, ctx):
    for _ in range(3):
        _login(client, OFFICER, "wrong-password")
    user_id = ctx.scalar(select(User.id).where(User.email == OFFICER))
    page = as_user(ADMIN).get(f"/admin/users/{user_id}").get_data(as_text=True)
    assert "3 failed login attempts since the last successful one." in page
    assert "This account is locked" not in page


# --- security headers ---------------------------------------------------------------------------

def _assert_protected(resp, https: bool) -> None:
    csp = resp.headers.get("Content-Security-Policy", "")
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert resp.headers.get("X-Frame-Options") == "DENY"
    assert resp.headers.get("X-Content-Type-Options") == "nosniff"
    if https:
        assert resp.headers.get("Strict-Transport-Security", "").startswith("max-age=31536000")
    else:
        assert "Strict-Transport-Security" not in resp.headers


PAGES = [
    # (what, method, url, expected status, content type starts with)
    ("HTML page", "GET", "/", 200, "text/html"),
    ("HTML form page", "GET", "/login", 200, "text/html"),
    ("JSON", "GET", "/cpv/search.json?q=8531", 200, "application/json"),
    ("JSON API", "GET", "/api/v1/municipalities", 200, "application/json"),
    ("file download", "GET", "/plans/import-template.csv", 200, "text/csv"),
    ("feed", "GET", "/opportunities.atom", 200, "application/atom+xml"),
    ("static file", "GET", "/static/js/app.js", 200, "text/javascript"),
    ("error page", "GET", "/no-such-page", 404, "text/html"),
    ("JSON error", "GET", "/api/v1/municipalities/NOPE", 404, "application/json"),
    ("method not allowed", "DELETE", "/login", 405, "text/html"),
    ("redirect", "GET", "/account", 302, "text/html"),
]


@pytest.mark.parametrize("https", [False, True], ids=["http", "https"])
@pytest.mark.parametrize("what,method,url,status,ctype", PAGES, ids=[p[0] for p in PAGES])
def test_security_headers_on_every_kind_of_response(client, https, what, method, url, status, ctype):
    resp = client.open(url, method=method, base_url="https://localhost" if https else "http://localhost")
    assert resp.status_code == status, what
    assert resp.headers["Content-Type"].startswith(ctype), resp.headers["Content-Type"]
    _assert_protected(resp, https)


def test_security_headers_on_a_logged_in_download_and_a_forbidden_page(as_user):
    client = as_user("seo@demo.srpp.lt")
    for url, status in (("/admin/users", 403), ("/plans/import-template.xlsx", 200)):
        for https in (False, True):
            resp = client.get(url, base_url="https://localhost" if https else "http://localhost")
            assert resp.status_code == status
            _assert_protected(resp, https)


# --- CSRF on every state-changing route ----------------------------------------------------------

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


def _sample_values(rule) -> dict:
    """Any value the rule's converters accept (the CSRF check runs before the view loads anything)."""
    values = {}
    for arg in rule.arguments:
        converter = rule._converters[arg]
        kind = type(converter).__name__
        if kind in ("IntegerConverter", "FloatConverter"):
            values[arg] = 1
        elif kind == "AnyConverter":
            values[arg] = sorted(converter.items)[0]
        else:
            values[arg] = "x"
    return values


def _state_changing_urls(app) -> list[tuple[str, str]]:
    adapter = app.url_map.bind("localhost")
    out = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") or rule.endpoint == "static":
            continue
        url = adapter.build(rule.endpoint, _sample_values(rule))
        for method in sorted((rule.methods or set()) & STATE_CHANGING):
            out.append((method, url))
    return out


@pytest.fixture()
def csrf_app(app_config, conn):
    """The application with CSRF protection on, as in production (the test config turns it off)."""
    from srpp import create_app

    csrf_on = create_app({**app_config, "WTF_CSRF_ENABLED": True})
    assert csrf_on.config["WTF_CSRF_ENABLED"] is True
    return csrf_on


def _csrf_login(client, email):
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"', page)
    token = token.group(1) or token.group(2)
    resp = _login(client, email, csrf_token=token)
    assert resp.status_code == 302, "login with the CSRF token failed"
    return token


def test_every_state_changing_route_refuses_a_request_without_csrf_token(csrf_app, conn):
    client = csrf_app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    _csrf_login(client, ADMIN)
    assert client.get("/admin/users").status_code == 200  # really logged in as an administrator
    routes = _state_changing_urls(csrf_app)
    assert len(routes) > 80  # the walk found the application's forms
    audit_before = conn.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
    refused = {}
    for method, url in routes:
        resp = client.open(url, method=method, data={"anything": "1"})
        refused[(method, url)] = resp.status_code
    wrong = {k: v for k, v in refused.items() if v != 400}
    assert not wrong, f"routes that did not refuse a missing CSRF token: {wrong}"
    assert conn.execute(select(func.count()).select_from(AuditEvent)).scalar_one() == audit_before
    # a wrong token is refused too, and the right one works (so the 400s above were the CSRF check)
    assert client.post("/language", data={"locale": "lt", "csrf_token": "forged"}).status_code == 400
    page = client.get("/account").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post("/language", data={"locale": "lt", "csrf_token": token}).status_code == 302


def test_api_routes_are_exempt_only_because_they_use_tokens(csrf_app):
    """The JSON API is CSRF-exempt: it authenticates with bearer tokens, never the session cookie."""
    client = csrf_app.test_client()
    _csrf_login(client, ADMIN)
    writes = [(m, u) for m, u in _all_state_changing_api(csrf_app)]
    for method, url in writes:
        resp = client.open(url, method=method, json={})
        assert resp.status_code in (401, 403), (method, url, resp.status_code)


def _all_state_changing_api(app):
    adapter = app.url_map.bind("localhost")
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        url = adapter.build(rule.endpoint, _sample_values(rule))
        for method in sorted((rule.methods or set()) & STATE_CHANGING):
            yield method, url


# --- the dependency audit script -------------------------------------------------------------------

def _fake_pip_audit(tmp_path, report: dict | None, stderr: str = "") -> str:
    exe = tmp_path / "pip-audit"
    exe.write_text("#!/bin/sh\n"
                   f"cat <<'JSON'\n{json.dumps(report) if report is not None else ''}\nJSON\n"
                   f"echo '{stderr}' >&2\n")
    exe.chmod(0o755)
    return str(exe)


def _audit(tmp_path, report, ignore: str = "", **env) -> tuple[int, str]:
    import os
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    ignore_file = tmp_path / "ignore.txt"
    ignore_file.write_text(ignore)
    proc = subprocess.run([sys.executable, str(root / "scripts" / "audit-deps")], capture_output=True, text=True,
                          env={**os.environ, "PIP_AUDIT": _fake_pip_audit(tmp_path, report),
                               "AUDIT_DEPS_IGNORE": str(ignore_file),
                               # the fallback's PyPI: nothing listens there unless a test says otherwise
                               "AUDIT_DEPS_PYPI_URL": "http://127.0.0.1:9/pypi", **env})
    return proc.returncode, proc.stdout + proc.stderr


VULN = {"dependencies": [
    {"name": "flask", "version": "3.1.0", "vulns": []},
    {"name": "jinja2", "version": "3.1.0", "vulns": [{"id": "PYSEC-0000-1", "aliases": ["GHSA-aaaa-bbbb-cccc"],
                                                     "fix_versions": ["3.1.9"], "description": "x"}]},
]}


def test_audit_script_fails_on_an_unexplained_vulnerability(tmp_path):
    code, out = _audit(tmp_path, VULN)
    assert code == 1 and "VULNERABLE  jinja2 3.1.0: PYSEC-0000-1" in out


def test_audit_script_accepts_an_explained_vulnerability(tmp_path):
    code, out = _audit(tmp_path, VULN, "# comment\nGHSA-aaaa-bbbb-cccc  the sandbox is not used\n")
    assert code == 0, out
    assert "ignored  jinja2" in out and "the sandbox is not used" in out
    code, out = _audit(tmp_path, VULN, "GHSA-aaaa-bbbb-cccc\n")  # no reason given
    assert code != 0 and "has no reason" in out


def test_audit_script_says_when_nothing_was_audited(tmp_path):
    skipped = {"dependencies": [{"name": "flask", "skip_reason": "Dependency not found on PyPI"}]}
    code, out = _audit(tmp_path, skipped)
    assert code == 0 and "COULD NOT BE REACHED: NOTHING WAS AUDITED" in out
    code, out = _audit(tmp_path, skipped, AUDIT_DEPS_REQUIRE_SERVICE="1")
    assert code == 2
    clean = {"dependencies": [{"name": "flask", "version": "3.1.0", "vulns": []}]}
    code, out = _audit(tmp_path, clean)
    assert code == 0 and "1 packages audited, no unexplained known vulnerability" in out


@pytest.fixture()
def fake_pypi(tmp_path):
    """A local stand-in for PyPI's project JSON API (``/pypi/<name>/json``), serving ``projects``."""
    import http.server
    import threading

    projects: dict[str, dict] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the http.server API
            name = self.path.strip("/").split("/")[1] if self.path.count("/") >= 3 else ""
            if name not in projects:
                self.send_response(404)
                self.end_headers()
                return
            body = json.dumps(projects[name]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield projects, f"http://127.0.0.1:{server.server_address[1]}/pypi"
    server.shutdown()


def _skipped(*deps: tuple[str, str]) -> dict:
    return {"dependencies": [{"name": n, "skip_reason": f"Dependency not found on PyPI and could not be audited: "
                                                       f"{n} ({v})"} for n, v in deps]}


def test_audit_script_falls_back_to_the_latest_release_advisories(tmp_path, fake_pypi):
    """Where pip-audit's per-release queries fail (a mirror answering only project pages), a package
    installed at its latest release is audited from the project JSON; one that is not is listed."""
    projects, url = fake_pypi
    projects["flask"] = {"info": {"version": "3.1.0"}, "vulnerabilities": [
        {"id": "PYSEC-0000-9", "aliases": ["CVE-0000-9"], "fixed_in": ["3.1.1"], "withdrawn": None}]}
    projects["jinja2"] = {"info": {"version": "3.1.6"}, "vulnerabilities": []}
    code, out = _audit(tmp_path, _skipped(("flask", "3.1.0"), ("jinja2", "3.1.0")), AUDIT_DEPS_PYPI_URL=url)
    assert code == 1, out
    assert "VULNERABLE  flask 3.1.0: PYSEC-0000-9 (fix: 3.1.1)" in out
    assert "not audited  jinja2: installed 3.1.0, but PyPI's advisories here cover only the latest release 3.1.6" in out

    code, out = _audit(tmp_path, _skipped(("flask", "3.1.0")), "CVE-0000-9  only the CLI is affected\n",
                       AUDIT_DEPS_PYPI_URL=url)
    assert code == 0 and "ignored  flask 3.1.0: PYSEC-0000-9" in out, out

    projects["flask"]["vulnerabilities"] = [{"id": "PYSEC-0000-9", "aliases": [], "fixed_in": [],
                                             "withdrawn": "2026-01-01T00:00:00"}]
    code, out = _audit(tmp_path, _skipped(("flask", "3.1.0"), ("jinja2", "3.1.0")), AUDIT_DEPS_PYPI_URL=url)
    assert code == 0, out
    assert "1 packages audited, no unexplained known vulnerability (1 not audited, listed above)" in out


def test_audit_script_says_so_when_the_fallback_cannot_reach_pypi_either(tmp_path, fake_pypi):
    _projects, url = fake_pypi
    code, out = _audit(tmp_path, _skipped(("flask", "3.1.0")), AUDIT_DEPS_PYPI_URL=url)
    assert code == 0 and "NOTHING WAS AUDITED" in out
