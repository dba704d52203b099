"""Notifications: stored in the app (idempotent by ``dedupe_key``) and sent by e-mail through a
configurable backend: ``file`` (``.eml`` files under ``instance/mail``, the embedded default),
``smtp`` or ``memory`` (tests)."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from pathlib import Path

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from srpp.auth.models import User
from srpp.core.db import utcnow
from srpp.core.models import Notification
from srpp.extensions import db


def notify(user: User, *, kind: str, subject: str, body: str, dedupe_key: str, link: str | None = None,
           email: bool = True) -> Notification | None:
    """Create the notification unless this user already has one with the same key; e-mail it.
    Returns None when it already existed (so scheduled scans can run twice safely)."""
    exists = db.session.scalar(select(Notification.id).where(Notification.user_id == user.id,
                                                             Notification.dedupe_key == dedupe_key))
    if exists:
        return None
    n = Notification(user_id=user.id, kind=kind, subject=subject[:300], body=body, link=link,
                     dedupe_key=dedupe_key[:200])
    try:
        with db.session.begin_nested():  # a concurrent scan may have inserted it a moment ago
            db.session.add(n)
    except IntegrityError:
        return None
    if email and user.active:
        send_mail(user.email, subject, body + (f"\n\n{current_app.config['BASE_URL']}{link}" if link else ""))
        n.emailed_at = utcnow()
    return n


def send_mail(to: str, subject: str, body: str) -> None:
    msg = EmailMessage()
    msg["From"] = current_app.config["MAIL_FROM"]
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content(body)
    backend = current_app.config["MAIL_BACKEND"]
    if backend == "memory":
        current_app.extensions.setdefault("mail_outbox", []).append(msg)
    elif backend == "smtp":
        with smtplib.SMTP(current_app.config["MAIL_SMTP_HOST"], current_app.config["MAIL_SMTP_PORT"], timeout=10) as s:
            s.send_message(msg)
    else:
        folder = Path(current_app.config["MAIL_FILE_DIR"])
        folder.mkdir(parents=True, exist_ok=True)
        stamp = utcnow().strftime("%Y%m%dT%H%M%S%f")
        (folder / f"{stamp}-{to.replace('@', '_at_')}.eml").write_bytes(bytes(msg))


def outbox() -> list[EmailMessage]:
    return current_app.extensions.setdefault("mail_outbox", [])
