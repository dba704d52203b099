"""Accounts: password hashing (argon2), authentication with lock-out, users and memberships."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update

from srpp.auth.models import LoginAttempt, Membership, Role, User
from srpp.core.audit import bind_actor
from srpp.core.db import utcnow
from srpp.core.errors import DomainError
from srpp.core.permissions import require
from srpp.extensions import db

_HASHERS: dict[str, PasswordHasher] = {}
# a valid hash of a random password, verified when the e-mail is unknown so that the
# response time does not tell whether an account exists
_DUMMY_HASH: dict[str, str] = {}


def hasher() -> PasswordHasher:
    profile = current_app.config.get("ARGON2_PROFILE", "default")
    if profile not in _HASHERS:
        if profile == "test":
            _HASHERS[profile] = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
        else:
            _HASHERS[profile] = PasswordHasher()
    return _HASHERS[profile]


def hash_password(password: str) -> str:
    return hasher().hash(password)


def check_password(user: User, password: str) -> bool:
    try:
        hasher().verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    if hasher().check_needs_rehash(user.password_hash):
        # a plain UPDATE, like last_login_at in ``authenticate``: two first logins at once must not clash
        db.session.execute(update(User).where(User.id == user.id, User.password_hash == user.password_hash)
                           .values(password_hash=hash_password(password)))
        db.session.refresh(user, ["password_hash"])  # the session about to begin remembers the new one
    return True


def _dummy_verify(password: str) -> None:
    profile = current_app.config.get("ARGON2_PROFILE", "default")
    if profile not in _DUMMY_HASH:
        _DUMMY_HASH[profile] = hash_password("not-a-real-password-8b1f")
    try:
        hasher().verify(_DUMMY_HASH[profile], password)
    except VerificationError:
        pass


@dataclass
class LoginRefused(Exception):
    reason: str  # "invalid" | "locked"
    locked_until: dt.datetime | None = None


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


@dataclass
class LockState:
    until: dt.datetime | None  # None: not locked
    failures: int  # bad attempts in the lock window since the last success or unlock


def lock_state(email: str, now: dt.datetime | None = None) -> LockState:
    """The account is locked when it had LOGIN_MAX_FAILURES bad attempts within the lock
    window since its last success or unlock; the lock lasts from the last of them."""
    now = now or utcnow()
    window = dt.timedelta(minutes=current_app.config["LOGIN_LOCK_MINUTES"])
    email = normalise_email(email)
    reset_at = db.session.scalar(
        select(LoginAttempt.at)
        .where(LoginAttempt.email == email, LoginAttempt.outcome.in_(("success", "unlocked")))
        .order_by(LoginAttempt.at.desc())
        .limit(1)
    )
    since = now - window
    if reset_at and reset_at > since:
        since = reset_at
    failures = db.session.scalars(
        select(LoginAttempt.at)
        .where(LoginAttempt.email == email, LoginAttempt.outcome == "bad_credentials", LoginAttempt.at > since)
        .order_by(LoginAttempt.at.desc())
    ).all()
    if len(failures) >= current_app.config["LOGIN_MAX_FAILURES"]:
        until = failures[0] + window
        if until > now:
            return LockState(until, len(failures))
    return LockState(None, len(failures))


def locked_until(email: str, now: dt.datetime | None = None) -> dt.datetime | None:
    return lock_state(email, now).until


def authenticate(email: str, password: str, address: str) -> User:
    """Return the user, or raise LoginRefused. Every attempt is recorded and committed."""
    email = normalise_email(email)
    until = locked_until(email)
    if until is not None:
        _record(email, address, "locked")
        raise LoginRefused("locked", until)
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        _dummy_verify(password)
        ok = False
    else:
        ok = check_password(user, password) and user.active
    if not ok:
        _record(email, address, "bad_credentials")
        until = locked_until(email)
        raise LoginRefused("locked" if until else "invalid", until)
    # a plain UPDATE, without the version check: the same account logging in from two places at the
    # same moment must not fail one of them with a stale version (a 500 in the load benchmark)
    db.session.execute(update(User).where(User.id == user.id).values(last_login_at=utcnow()))
    _record(email, address, "success")
    return user


def _record(email: str, address: str, outcome: str) -> None:
    db.session.add(LoginAttempt(email=email, address=(address or "")[:64], outcome=outcome))
    db.session.commit()


def unlock(actor: User, user: User) -> None:
    require(actor, "admin.manage")
    db.session.add(LoginAttempt(email=user.email, address="admin", outcome="unlocked"))


def set_locale(user: User | None, locale: str) -> None:
    if locale not in current_app.config["LANGUAGES"]:
        raise DomainError(_("Unknown language."), field="locale")
    if user is not None and user.is_authenticated:
        bind_actor(db.session(), user)
        user.locale = locale


MIN_PASSWORD_LENGTH = 10


def check_new_password(new: str, field: str = "new_password") -> None:
    """The one strength rule for a password a person chooses (account page, reset link)."""
    if len(new or "") < MIN_PASSWORD_LENGTH:
        raise DomainError(_("The new password must have at least 10 characters."), field=field)


def change_password(actor: User, current: str, new: str) -> None:
    if not check_password(actor, current):
        raise DomainError(_("The current password is not correct."), field="current_password")
    check_new_password(new)
    actor.password_hash = hash_password(new)


# --- administration -------------------------------------------------------------------------

def create_user(actor: User | None, *, email: str, full_name: str, password: str, locale: str = "lt",
                is_demo: bool = False) -> User:
    if actor is not None:
        require(actor, "admin.manage")
    email = normalise_email(email)
    if db.session.scalar(select(User.id).where(User.email == email)):
        raise DomainError(_("A user with this e-mail address already exists."), field="email")
    user = User(email=email, full_name=full_name.strip(), password_hash=hash_password(password),
                locale=locale, is_demo=is_demo)
    db.session.add(user)
    db.session.flush()
    return user


def update_user(actor: User, user: User, *, full_name: str, locale: str, active: bool, version: int) -> None:
    require(actor, "admin.manage")
    from srpp.core.services import check_version

    check_version(user, version)
    if user.id == actor.id and not active:
        raise DomainError(_("You cannot deactivate your own account."), field="active")
    user.full_name = full_name.strip()
    user.locale = locale
    user.active = active


def add_membership(actor: User | None, user: User, role: Role, *, municipality_id: int | None = None,
                   supplier_id: int | None = None, region_id: int | None = None) -> Membership:
    if actor is not None:
        require(actor, "admin.manage")
    scope = role.scope
    needed = {"municipality": municipality_id, "supplier": supplier_id, "region": region_id}
    if scope != "installation" and needed[scope] is None:
        field = f"{scope}_id"
        raise DomainError(_("This role needs a %(scope)s.", scope=_scope_label(scope)), field=field)
    ids = {k: (v if k == scope else None) for k, v in needed.items()}
    for m in user.memberships:
        if (m.role, m.municipality_id, m.supplier_id, m.region_id) == (
            role, ids["municipality"], ids["supplier"], ids["region"]
        ):
            raise DomainError(_("The user already has this role."), field="role")
    membership = Membership(user=user, role=role, municipality_id=ids["municipality"],
                            supplier_id=ids["supplier"], region_id=ids["region"])
    db.session.add(membership)
    db.session.flush()
    return membership


def remove_membership(actor: User, membership: Membership) -> None:
    require(actor, "admin.manage")
    if membership.user_id == actor.id and membership.role == Role.ADMIN:
        raise DomainError(_("You cannot remove your own administrator role."))
    db.session.delete(membership)


def _scope_label(scope: str) -> str:
    return {"municipality": _("municipality"), "supplier": _("supplier organisation"), "region": _("region")}[scope]


def lock_states(emails: list[str]) -> dict[str, LockState]:
    return {e: lock_state(e) for e in emails}
