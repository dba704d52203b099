"""Password reset by e-mail.

The link carries a token signed with the application's ``SECRET_KEY`` (itsdangerous, its own salt)
that holds the user id and a fingerprint of the current password hash. It is refused after
``PASSWORD_RESET_MAX_AGE`` seconds, and as soon as the password changes (so it works once: using
it changes the password). Setting a new password through it also lifts a login lock-out: whoever
holds the link controls the account's mailbox, which is what the lock-out protects.
"""

from __future__ import annotations

import hashlib
import hmac
import logging

from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select

from srpp.auth.models import LoginAttempt, User
from srpp.auth.services import check_new_password, hash_password, normalise_email
from srpp.core.audit import bind_actor, record
from srpp.core.errors import DomainError
from srpp.core.models import AuditAction
from srpp.extensions import db

SALT = "srpp.password-reset"
log = logging.getLogger(__name__)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def _fingerprint(user: User) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, user.password_hash.encode(), hashlib.sha256).hexdigest()[:32]


def make_token(user: User) -> str:
    return _serializer().dumps({"u": user.id, "p": _fingerprint(user)})


def user_for_token(token: str) -> User | None:
    """The active user the token was made for, or None when it is forged, expired or used."""
    try:
        data = _serializer().loads(token, max_age=current_app.config["PASSWORD_RESET_MAX_AGE"])
    except BadSignature:  # also SignatureExpired
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int) or not isinstance(data.get("p"), str):
        return None
    user = db.session.get(User, data["u"])
    if user is None or not user.active or not hmac.compare_digest(data["p"], _fingerprint(user)):
        return None
    return user


def request_reset(email: str) -> None:
    """Mail a reset link to the account with this address, if there is an active one. The caller
    answers the same whatever happened here."""
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None or not user.active:
        return
    link = current_app.config["BASE_URL"].rstrip("/") + url_for("auth.password_reset", token=make_token(user))
    minutes = current_app.config["PASSWORD_RESET_MAX_AGE"] // 60
    with force_locale(user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        subject = _("Set a new password")
        body = _("Someone (hopefully you) asked to set a new password for your SRPP manager account. Open this "
                 "link to choose it; it works for %(minutes)d minutes and only once:\n\n%(link)s\n\n"
                 "If you did not ask for this, ignore this message: your password stays as it is.",
                 minutes=minutes, link=link)
    from srpp.core.notify import send_mail

    try:
        send_mail(user.email, subject, body)
    except Exception:  # the answer must not tell that the account exists: log it and carry on
        log.exception("password reset mail to user %s could not be sent", user.id)
        return
    record(db.session(), entity_type="User", entity_id=user.id, action=AuditAction.UPDATE,
           changes={"password_reset": [None, "link sent"]})


def reset_password(token: str, new_password: str) -> User:
    """Set the password of the token's user; the token dies with the old password hash."""
    user = user_for_token(token)
    if user is None:
        raise DomainError(_("This password reset link is invalid, has expired or was already used. Ask for a new "
                            "one."))
    check_new_password(new_password)
    user.password_hash = hash_password(new_password)
    # lift a lock-out: the same row an administrator's unlock writes
    db.session.add(LoginAttempt(email=user.email, address="password-reset", outcome="unlocked"))
    bind_actor(db.session(), user)
    record(db.session(), entity_type="User", entity_id=user.id, action=AuditAction.UPDATE,
           changes={"password_reset": [None, "password set from a reset link"]})
    return user
