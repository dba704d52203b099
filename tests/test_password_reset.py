"""Password reset by a time-limited, single-use e-mail link (issue 10)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from srpp.auth.models import LoginAttempt, User
from srpp.core.models import AuditEvent

OFFICER = "officer.bir@demo.srpp.lt"
NEW = "a-new-password-42"


@pytest.fixture()
def outbox(app):
    with app.app_context():
        from srpp.extensions import limiter

        limiter.reset()  # the reset routes are rate limited per address; start each test afresh
    box = app.extensions.setdefault("mail_outbox", [])
    box.clear()
    yield box
    box.clear()


def _login(client, email, password):
    return client.post("/login", data={"email": email, "password": password})


def _link(msg) -> str:
    body = msg.get_content()
    match = re.search(r"https?://\S+(/password/reset/\S+)", body)
    assert match, body
    return match.group(1)


def _request(client, email):
    return client.post("/password/forgot", data={"email": email})


def test_login_page_links_to_the_reset(client):
    page = client.get("/login").get_data(as_text=True)
    assert 'href="/password/forgot"' in page and "Forgot your password?" in page


def test_same_answer_for_known_and_unknown_address(client, outbox):
    pages = []
    for email in (OFFICER, "nobody@demo.srpp.lt"):
        resp = _request(client, email)
        assert resp.status_code == 302 and resp.headers["Location"].endswith("/login")
        pages.append(client.get(resp.headers["Location"]).get_data(as_text=True))  # shows the flashed answer
    strip = lambda p: re.sub(r'name="csrf_token"[^>]*', "", p)  # noqa: E731
    assert "a link to set a new password is on its way" in pages[0]
    assert strip(pages[0]) == strip(pages[1])
    assert [m["To"] for m in outbox] == [OFFICER]  # only the existing account got a mail


def test_reset_sets_the_password_once(client, ctx, outbox):
    _request(client, OFFICER.upper())  # the address is normalised
    assert len(outbox) == 1
    assert outbox[0]["Subject"]
    link = _link(outbox[0])
    form = client.get(link)
    assert form.status_code == 200 and 'name="new_password"' in form.get_data(as_text=True)
    assert form.headers["Cache-Control"] == "no-store"
    resp = client.post(link, data={"new_password": NEW, "confirm": NEW})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/login")
    assert _login(client, OFFICER, "demo12345").status_code == 200  # the old password no longer works
    assert _login(client, OFFICER, NEW).status_code == 302
    client.post("/logout")
    # single use: the password changed, so the token is dead
    again = client.get(link)
    assert again.status_code == 302 and again.headers["Location"].endswith("/password/forgot")
    assert client.post(link, data={"new_password": "third-password-1", "confirm": "third-password-1"}).status_code == 302
    assert _login(client, OFFICER, NEW).status_code == 302
    user_id = ctx.scalar(select(User.id).where(User.email == OFFICER))
    kinds = ctx.scalars(select(AuditEvent.changes).where(AuditEvent.entity_type == "User",
                                                         AuditEvent.entity_id == str(user_id)).order_by(AuditEvent.id)).all()
    notes = [c["password_reset"][1] for c in kinds if "password_reset" in c]
    assert notes == ["link sent", "password set from a reset link"]
    assert all(NEW not in str(c) for c in kinds)


def test_new_password_rules(client, outbox):
    _request(client, OFFICER)
    link = _link(outbox[0])
    short = client.post(link, data={"new_password": "short", "confirm": "short"})
    assert short.status_code == 200 and "must have at least 10 characters" in short.get_data(as_text=True)
    differ = client.post(link, data={"new_password": NEW, "confirm": NEW + "x"})
    assert differ.status_code == 200 and "The two passwords are not the same." in differ.get_data(as_text=True)
    assert _login(client, OFFICER, "demo12345").status_code == 302  # nothing changed


def test_expired_and_forged_tokens_are_refused(app, client, outbox, monkeypatch):
    _request(client, OFFICER)
    link = _link(outbox[0])
    monkeypatch.setitem(app.config, "PASSWORD_RESET_MAX_AGE", -1)
    assert client.get(link).headers["Location"].endswith("/password/forgot")
    monkeypatch.setitem(app.config, "PASSWORD_RESET_MAX_AGE", 3600)
    assert client.get(link).status_code == 200
    token = link.rsplit("/", 1)[1]
    forged = link[: -len(token)] + token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert client.get(forged).status_code == 302
    assert client.post(forged, data={"new_password": NEW, "confirm": NEW}).status_code == 302
    assert _login(client, OFFICER, NEW).status_code == 200


def test_token_made_with_another_secret_is_refused(app, ctx):
    from srpp.auth import reset

    user = ctx.scalar(select(User).where(User.email == OFFICER))
    token = reset.make_token(user)
    assert reset.user_for_token(token).id == user.id
    from flask import current_app

    secret = current_app.config["SECRET_KEY"]
    current_app.config["SECRET_KEY"] = "another-secret"
    try:
        assert reset.user_for_token(token) is None
    finally:
        current_app.config["SECRET_KEY"] = secret


def test_reset_lifts_a_lock_out(client, ctx, outbox):
    for _ in range(5):
        _login(client, OFFICER, "wrong-password")
    assert "locked" in _login(client, OFFICER, "demo12345").get_data(as_text=True)
    _request(client, OFFICER)
    link = _link(outbox[0])
    assert client.post(link, data={"new_password": NEW, "confirm": NEW}).status_code == 302
    assert _login(client, OFFICER, NEW).status_code == 302
    outcomes = ctx.scalars(select(LoginAttempt.outcome).where(LoginAttempt.email == OFFICER)
                           .order_by(LoginAttempt.id)).all()
    assert outcomes[-2:] == ["unlocked", "success"]


def test_inactive_account_gets_no_mail(client, ctx, outbox):
    user = ctx.scalar(select(User).where(User.email == OFFICER))
    user.active = False
    ctx.commit()
    assert _request(client, OFFICER).status_code == 302
    assert outbox == []


def test_forgot_is_rate_limited(app_config):
    from srpp import create_app

    limited = create_app({**app_config, "PASSWORD_RESET_RATE_LIMIT": "3 per minute",
                          "RATELIMIT_STORAGE_URI": "memory://"})
    c = limited.test_client()
    codes = [c.post("/password/forgot", data={"email": f"nobody{i}@example.org"}).status_code for i in range(4)]
    assert codes == [302, 302, 302, 429]
    assert c.get("/password/forgot").status_code == 200  # only POSTs count


def test_no_audit_event_for_unknown_address(client, ctx, outbox):
    before = ctx.scalar(select(func.count()).select_from(AuditEvent))
    _request(client, "nobody@demo.srpp.lt")
    assert ctx.scalar(select(func.count()).select_from(AuditEvent)) == before


# --- a new password ends the other sessions -------------------------------------------------------

@pytest.fixture()
def second_client(app, conn):
    """Another browser of the same person (its own cookies), on the test's connection."""
    return app.test_client()


def _logged_in(client) -> bool:
    resp = client.get("/account")
    return resp.status_code == 200


def test_a_reset_ends_every_session_opened_with_the_old_password(client, second_client, outbox):
    assert _login(second_client, OFFICER, "demo12345").status_code == 302 and _logged_in(second_client)
    _request(client, OFFICER)
    assert client.post(_link(outbox[0]), data={"new_password": NEW, "confirm": NEW}).status_code == 302
    resp = second_client.get("/account")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]  # the other browser was logged out
    assert _login(second_client, OFFICER, NEW).status_code == 302 and _logged_in(second_client)


def test_changing_the_password_keeps_this_session_and_ends_the_others(client, second_client):
    for c in (client, second_client):
        assert _login(c, OFFICER, "demo12345").status_code == 302
    resp = client.post("/account", data={"pw-current_password": "demo12345", "pw-new_password": NEW},
                       follow_redirects=True)
    assert "visose kitose vietose buvote atjungti" in resp.get_data(as_text=True)  # the officer reads Lithuanian
    assert _logged_in(client)
    assert not _logged_in(second_client)


def test_a_deactivated_account_loses_its_sessions(client, ctx):
    assert _login(client, OFFICER, "demo12345").status_code == 302 and _logged_in(client)
    user = ctx.scalar(select(User).where(User.email == OFFICER))
    user.active = False
    ctx.commit()
    assert not _logged_in(client)


def test_a_session_cookie_without_the_fingerprint_is_not_a_login(client, ctx):
    """A session written before sessions were bound to the password (``_user_id`` = the bare id)."""
    user_id = ctx.scalar(select(User.id).where(User.email == OFFICER))
    assert _login(client, OFFICER, "demo12345").status_code == 302 and _logged_in(client)
    with client.session_transaction() as sess:
        assert sess["_user_id"].startswith(f"{user_id}:")
        sess["_user_id"] = str(user_id)  # the rest of the session (its protection identifier) as it was
    assert not _logged_in(client)
