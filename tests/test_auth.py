from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from srpp.auth.models import LoginAttempt, User

OFFICER = "officer.kup@demo.srpp.lt"


def _login(client, email, password):
    return client.post("/login", data={"email": email, "password": password})


def test_same_message_for_unknown_email_and_wrong_password(client):
    a = _login(client, "nobody@demo.srpp.lt", "demo12345").get_data(as_text=True)
    b = _login(client, OFFICER, "wrong-password").get_data(as_text=True)
    for page in (a, b):
        assert "Wrong e-mail or password." in page
    strip = lambda p: p.split('name="csrf_token"')[0]  # noqa: E731
    assert strip(a).replace("nobody@demo.srpp.lt", "") == strip(b).replace(OFFICER, "")


def test_five_failures_lock_the_account_even_for_the_right_password(client, ctx):
    for _ in range(5):
        assert _login(client, OFFICER, "wrong-password").status_code == 200
    resp = _login(client, OFFICER, "demo12345")
    assert resp.status_code == 200  # not logged in
    page = resp.get_data(as_text=True)
    assert "this account is locked until" in page
    assert client.get("/account").status_code == 302
    outcomes = ctx.scalars(select(LoginAttempt.outcome).where(LoginAttempt.email == OFFICER)).all()
    assert outcomes.count("bad_credentials") == 5 and outcomes[-1] == "locked"


def test_lock_ends_after_fifteen_minutes(client, ctx):
    for _ in range(5):
        _login(client, OFFICER, "wrong-password")
    for attempt in ctx.scalars(select(LoginAttempt).where(LoginAttempt.email == OFFICER)):
        attempt.at -= dt.timedelta(minutes=16)
    ctx.commit()
    assert _login(client, OFFICER, "demo12345").status_code == 302


def test_four_failures_do_not_lock(client):
    for _ in range(4):
        _login(client, OFFICER, "wrong-password")
    assert _login(client, OFFICER, "demo12345").status_code == 302


def test_admin_sees_and_lifts_a_lock(client, as_user, ctx):
    for _ in range(5):
        _login(client, OFFICER, "wrong-password")
    admin = as_user("admin@demo.srpp.lt")
    user_id = ctx.scalar(select(User.id).where(User.email == OFFICER))
    page = admin.get("/admin/users").get_data(as_text=True)
    assert "locked until" in page
    assert admin.post(f"/admin/users/{user_id}/unlock").status_code == 302
    admin.post("/logout")
    assert _login(client, OFFICER, "demo12345").status_code == 302


def test_inactive_user_cannot_log_in(client, ctx):
    ctx.execute(update(User).where(User.email == OFFICER).values(active=False))
    ctx.commit()
    assert _login(client, OFFICER, "demo12345").status_code == 200


def test_passwords_are_argon2(ctx):
    h = ctx.scalar(select(User.password_hash).where(User.email == OFFICER))
    assert h.startswith("$argon2id$")


def test_per_address_limit(app, database_url):
    from srpp import create_app
    from tests.conftest import TEST_CONFIG

    app = create_app({**TEST_CONFIG, "DATABASE_URL": database_url, "LOGIN_RATE_LIMIT_PER_ADDRESS": "3 per minute",
                      "RATELIMIT_STORAGE_URI": "memory://"})
    c = app.test_client()
    codes = [_login(c, f"nobody{i}@example.org", "x").status_code for i in range(4)]
    assert codes == [200, 200, 200, 429]
    assert c.get("/login").status_code == 200  # only POSTs are limited


def test_csrf_is_required(app, database_url):
    from srpp import create_app
    from tests.conftest import TEST_CONFIG

    app = create_app({**TEST_CONFIG, "DATABASE_URL": database_url, "WTF_CSRF_ENABLED": True})
    c = app.test_client()
    assert _login(c, OFFICER, "demo12345").status_code == 400
    assert c.post("/language", data={"locale": "en"}).status_code == 400


def test_security_headers_and_cookie_flags(client):
    resp = client.get("/login")
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    resp = _login(client, OFFICER, "demo12345")
    cookie = resp.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_no_inline_scripts_in_pages(as_user):
    client = as_user("admin@demo.srpp.lt")
    for url in ("/", "/admin/users", "/admin/audit", "/admin/workers", "/cpv/?q=85"):
        page = client.get(url).get_data(as_text=True)
        assert "<script>" not in page and "onclick=" not in page and " style=" not in page


def test_production_refuses_the_default_secret(monkeypatch):
    from srpp.config import ConfigError, load_config

    monkeypatch.setenv("SRPP_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError):
        load_config()
    monkeypatch.setenv("SECRET_KEY", "short")
    with pytest.raises(ConfigError):
        load_config()
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    cfg = load_config()
    assert cfg["SESSION_COOKIE_SECURE"] is True


def test_session_is_renewed_at_login(client):
    client.get("/login")
    with client.session_transaction() as sess:
        sess["planted"] = "by-attacker"
    _login(client, OFFICER, "demo12345")
    with client.session_transaction() as sess:
        assert "planted" not in sess


def test_invalid_form_changes_nothing(as_user, ctx):
    from srpp.orgs.services import municipality_by_code

    client = as_user("officer.rok@demo.srpp.lt")
    rok = municipality_by_code("ROK")
    before = (rok.contact_email, rok.version)
    resp = client.post("/municipalities/ROK/edit", data={"contact_email": "not-an-email", "version": rok.version})
    assert resp.status_code == 200
    assert 'aria-invalid="true"' in resp.get_data(as_text=True)
    ctx.expire_all()
    rok = municipality_by_code("ROK")
    assert (rok.contact_email, rok.version) == before


def test_stale_form_is_refused_and_nothing_is_lost(as_user, ctx):
    from srpp.orgs.services import municipality_by_code

    client = as_user("officer.rok@demo.srpp.lt")
    rok = municipality_by_code("ROK")
    stale = rok.version
    assert client.post("/municipalities/ROK/edit", data={"contact_email": "first@rok.lt", "version": stale}).status_code == 302
    resp = client.post("/municipalities/ROK/edit", data={"contact_email": "second@rok.lt", "version": stale})
    assert resp.status_code == 200
    assert "changed by someone else" in resp.get_data(as_text=True)
    ctx.expire_all()
    assert municipality_by_code("ROK").contact_email == "first@rok.lt"
