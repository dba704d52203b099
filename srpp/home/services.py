"""What each role sees first."""

from __future__ import annotations

from sqlalchemy import func, select

from srpp.auth.models import Role, User
from srpp.core.models import Notification
from srpp.extensions import db


def recent_notifications(user: User, limit: int = 10) -> list[Notification]:
    return list(
        db.session.scalars(
            select(Notification).where(Notification.user_id == user.id)
            .order_by(Notification.created_at.desc()).limit(limit)
        )
    )


def unread_count(user: User) -> int:
    return db.session.scalar(
        select(func.count()).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    ) or 0


def home_kind(user: User) -> str:
    """The dashboard template for a user's main role."""
    primary = user.primary_membership
    if primary is None:
        return "none"
    return {
        Role.ADMIN: "admin",
        Role.COUNCIL_VIEWER: "council",
        Role.PROCUREMENT_OFFICER: "municipality",
        Role.FINANCE_OFFICER: "municipality",
        Role.SERVICE_COORDINATOR: "municipality",
        Role.SEO_MEMBER: "supplier",
    }[primary.role]
