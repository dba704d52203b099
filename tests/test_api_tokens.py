"""API tokens (issue 9): stored hashed, the account page (create, shown once, revoke), the admin's
revocation, and the documentation page."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import pytest
from sqlalchemy import select, text

pytestmark = pytest.mark.postgres

TOKEN_RE = re.compile(r"srpp_[A-Za-z0-9_-]{20,}")


def _user(ctx, email):
    from srpp.auth.models import User

    return ctx.scalar(select(User).where(User.email == email))


def _db_text(conn) -> str:
    """Every value of the tables a token could leak into, as text."""
    parts = []
    for table in ("api_tokens", "audit_events"):
        for row in conn.execute(text(f"select * from {table}")):
            parts.append(" ".join(str(v) for v in row))
    return "\n".join(parts)


def test_token_is_stored_hashed_never_in_plaintext(ctx, conn):
    from srpp.api import services
    from srpp.api.models import ApiToken

    officer = _user(ctx, "officer.rok@demo.srpp.lt")
    row, plaintext = services.issue(officer, "ERP", can_write=True)
    ctx.commit()
    assert plaintext.startswith("srpp_") and len(plaintext) > 40
    stored = ctx.get(ApiToken, row.id)
    assert stored.token_hash == hashlib.sha256(plaintext.encode()).hexdigest()
    assert stored.prefix == plaintext[:12] and plaintext not in stored.prefix
    assert plaintext not in _db_text(conn)  # not in the row, not in the audit log
    assert plaintext[12:] not in _db_text(conn)
    assert services.authenticate(plaintext).id == row.id
    assert services.authenticate(plaintext + "x") is None
    assert services.authenticate(stored.token_hash) is None  # the hash is not a token


def test_issue_rules(ctx):
    from srpp.api import services
    from srpp.core.errors import DomainError

    officer = _user(ctx, "officer.rok@demo.srpp.lt")
    with pytest.raises(DomainError) as err:
        services.issue(officer, "  ")
    assert err.value.field == "name"
    with pytest.raises(DomainError) as err:
        services.issue(officer, "old", expires_on=dt.date.today() - dt.timedelta(days=1))
    assert err.value.field == "expires_on"
    row, plaintext = services.issue(officer, "until today", expires_on=dt.date.today())
    assert services.authenticate(plaintext) is not None
    assert services.authenticate(plaintext, today=dt.date.today() + dt.timedelta(days=1)) is None


def test_tokens_page_flow_create_shown_once_revoke(as_user, ctx, conn):
    client = as_user("officer.rok@demo.srpp.lt")
    page = client.get("/account")
    assert "/account/api-tokens" in page.get_data(as_text=True)
    resp = client.get("/account/api-tokens")
    assert resp.status_code == 200
    assert "No API tokens." in resp.get_data(as_text=True)

    resp = client.post("/account/api-tokens", data={"name": "Finance export", "can_write": "y",
                                                    "expires_on": (dt.date.today() + dt.timedelta(days=30)).isoformat()})
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "no-store"
    html = resp.get_data(as_text=True)
    found = TOKEN_RE.findall(html)
    assert found, "the new token is shown"
    plaintext = found[0]
    assert "shown only this once" in html

    # never again: the list shows the name and the prefix only
    listing = client.get("/account/api-tokens").get_data(as_text=True)
    assert "Finance export" in listing and plaintext[:12] in listing
    assert plaintext not in listing
    assert plaintext not in _db_text(conn)

    # the token works against the API (write access: it passes authentication and reaches validation)
    api = client.application.test_client()
    headers = {"Authorization": f"Bearer {plaintext}"}
    assert api.post("/api/v1/plan-items", json={}, headers=headers).status_code == 400

    from srpp.api.models import ApiToken

    token_id = ctx.scalar(select(ApiToken.id).where(ApiToken.name == "Finance export"))
    resp = client.post(f"/account/api-tokens/{token_id}/revoke")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/account/api-tokens")
    listing = client.get("/account/api-tokens").get_data(as_text=True)
    assert "revoked" in listing
    assert api.post("/api/v1/plan-items", json={}, headers=headers).status_code == 401


def test_read_only_token_from_the_page(as_user, ctx):
    client = as_user("officer.rok@demo.srpp.lt")
    html = client.post("/account/api-tokens", data={"name": "Reader"}).get_data(as_text=True)
    plaintext = TOKEN_RE.findall(html)[0]
    api = client.application.test_client()
    resp = api.post("/api/v1/plan-items", json={}, headers={"Authorization": f"Bearer {plaintext}"})
    assert resp.status_code == 403 and resp.json["error"]["code"] == "token_read_only"


def test_create_form_errors(as_user, ctx):
    from srpp.api.models import ApiToken

    client = as_user("officer.rok@demo.srpp.lt")
    before = len(ctx.scalars(select(ApiToken)).all())
    html = client.post("/account/api-tokens", data={"name": ""}).get_data(as_text=True)
    assert not TOKEN_RE.findall(html) and "Please correct the marked fields." in html
    yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    html = client.post("/account/api-tokens", data={"name": "x", "expires_on": yesterday}).get_data(as_text=True)
    assert not TOKEN_RE.findall(html) and "The expiry date is in the past." in html
    assert len(ctx.scalars(select(ApiToken)).all()) == before


def test_tokens_page_needs_login(client):
    resp = client.get("/account/api-tokens")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    resp = client.post("/account/api-tokens", data={"name": "x"})
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_others_cannot_revoke_admin_can(as_user, ctx):
    from srpp.api import services
    from srpp.api.models import ApiToken

    row, plaintext = services.issue(_user(ctx, "officer.rok@demo.srpp.lt"), "Officer's token")
    ctx.commit()
    token_id = row.id

    client = as_user("officer.bir@demo.srpp.lt")
    assert client.post(f"/account/api-tokens/{token_id}/revoke").status_code == 403
    assert "Officer's token" not in client.get("/account/api-tokens").get_data(as_text=True)
    ctx.expire_all()
    assert ctx.get(ApiToken, token_id).revoked_at is None

    client = as_user("admin@demo.srpp.lt")
    officer_id = _user(ctx, "officer.rok@demo.srpp.lt").id
    page = client.get(f"/admin/users/{officer_id}").get_data(as_text=True)
    assert "Officer&#39;s token" in page or "Officer's token" in page
    assert f"/account/api-tokens/{token_id}/revoke" in page
    back = f"/admin/users/{officer_id}"
    resp = client.post(f"/account/api-tokens/{token_id}/revoke", data={"next": back})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(back)
    ctx.expire_all()
    revoked = ctx.get(ApiToken, token_id)
    assert revoked.revoked_at is not None and revoked.revoked_by_id == _user(ctx, "admin@demo.srpp.lt").id
    assert services.authenticate(plaintext) is None
    # an outside address is not followed
    resp = client.post(f"/account/api-tokens/{token_id}/revoke", data={"next": "https://evil.example/"})
    assert resp.headers["Location"].endswith("/account/api-tokens")


def test_documentation_page(client, app):
    from srpp.api.views import document

    resp = client.get("/api/v1/docs")
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    html = resp.get_data(as_text=True)
    assert "<script" not in html.split("</head>")[1]  # no script in the body (CSP, no JS framework)
    assert "style=" not in html
    doc = document()
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            assert f'id="op-{op["operationId"]}"' in html
            assert f"{method.upper()} {path}" in html
    for name in doc["components"]["schemas"]:
        assert f'id="schema-{name}"' in html
    # the write operations: a token is needed, the body schema is linked, an example curl line
    assert "POST /api/v1/plan-items" in html and 'href="#schema-PlanItemCreate"' in html
    assert "curl -X POST -H &#34;Authorization: Bearer $SRPP_TOKEN&#34;" in html or \
        'curl -X POST -H "Authorization: Bearer $SRPP_TOKEN"' in html
    for heading in ("Getting a token", "Authentication", "Errors", "Paging", "Rate limits"):
        assert heading in html
    assert app.config["API_RATE_LIMIT"] in html
    # linked from the account page of a logged-in user
    assert client.get("/api/v1/docs", headers={"Accept-Language": "lt"}).status_code == 200


def test_docs_type_rendering():
    from srpp.api.docs import type_of

    assert type_of({"type": "string", "format": "date"}) == "string (date)"
    assert type_of({"anyOf": [{"type": "integer"}, {"type": "null"}]}) == "integer | null"
    assert type_of({"type": "array", "items": {"$ref": "#/components/schemas/PlanItemOut"}}) == "array of PlanItemOut"
    assert type_of({"enum": ["a", "b"]}) == "one of: a, b"
