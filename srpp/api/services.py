"""Issuing, revoking and checking API tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from flask_babel import gettext as _
from sqlalchemy import select

from srpp.api.models import ApiToken
from srpp.auth.models import User
from srpp.core.db import utcnow
from srpp.core.errors import DomainError
from srpp.core.permissions import require, rule
from srpp.extensions import db

TOKEN_PREFIX = "srpp_"
MAX_TOKENS_PER_USER = 20
# last_used_at is written at most this often per token (an API client must not cause a write per request)
_TOUCH_EVERY = dt.timedelta(minutes=5)


@rule("api_token.manage")
def _manage(user: User, token: ApiToken | None) -> bool:
    return token is None or token.user_id == user.id or user.is_admin


def hash_token(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def tokens_of(user: User) -> list[ApiToken]:
    return list(db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at.desc())
    ))


def issue(actor: User, name: str, *, can_write: bool = False, expires_on: dt.date | None = None,
          today: dt.date | None = None) -> tuple[ApiToken, str]:
    """A new token for the acting user. Returns the row and the plaintext, shown once."""
    require(actor, "api_token.manage", None)
    name = (name or "").strip()
    if not name:
        raise DomainError(_("Give the token a name."), field="name")
    today = today or dt.date.today()
    if expires_on is not None and expires_on < today:
        raise DomainError(_("The expiry date is in the past."), field="expires_on")
    active = [t for t in tokens_of(actor) if t.is_usable(today)]
    if len(active) >= MAX_TOKENS_PER_USER:
        raise DomainError(_("You have %(n)d active tokens; revoke one first.", n=len(active)))
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=actor.id, name=name[:100], prefix=plaintext[:12], token_hash=hash_token(plaintext),
                     can_write=can_write, expires_on=expires_on)
    db.session.add(token)
    db.session.flush()
    return token, plaintext


def revoke(actor: User, token: ApiToken) -> None:
    require(actor, "api_token.manage", token)
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        token.revoked_by_id = actor.id
        db.session.flush()


def authenticate(plaintext: str, today: dt.date | None = None) -> ApiToken | None:
    """The usable token with this plaintext, or None (unknown, revoked, expired, inactive user)."""
    if not plaintext or not plaintext.startswith(TOKEN_PREFIX) or len(plaintext) > 100:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(plaintext)))
    if token is None or not token.is_usable(today or dt.date.today()) or not token.user.is_active:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > _TOUCH_EVERY:
        token.last_used_at = now
        db.session.commit()
    return token
