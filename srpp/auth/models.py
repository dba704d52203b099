"""People, their roles and login attempts."""

from __future__ import annotations

import datetime as dt
import hashlib

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from srpp.core.db import Base, TimestampMixin, VersionedMixin, enum_type, utcnow
from srpp.core.enums import LabelledEnum


class Role(LabelledEnum):
    ADMIN = "admin"
    PROCUREMENT_OFFICER = "procurement_officer"
    FINANCE_OFFICER = "finance_officer"
    SERVICE_COORDINATOR = "service_coordinator"
    COUNCIL_VIEWER = "council_viewer"
    SEO_MEMBER = "seo_member"

    @classmethod
    def labels(cls) -> dict[str, object]:
        return {
            "admin": _l("Administrator"),
            "procurement_officer": _l("Procurement officer"),
            "finance_officer": _l("Finance officer"),
            "service_coordinator": _l("Service coordinator"),
            "council_viewer": _l("Council viewer"),
            "seo_member": _l("Social economy organisation member"),
        }

    @property
    def scope(self) -> str:
        return ROLE_SCOPE[self]


#: which organisation a membership of each role is attached to
ROLE_SCOPE: dict[Role, str] = {
    Role.ADMIN: "installation",
    Role.PROCUREMENT_OFFICER: "municipality",
    Role.FINANCE_OFFICER: "municipality",
    Role.SERVICE_COORDINATOR: "municipality",
    Role.COUNCIL_VIEWER: "region",
    Role.SEO_MEMBER: "supplier",
}


class User(UserMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "users"
    __audited__ = True
    __audit_exclude__ = ("password_hash", "version")

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    locale: Mapped[str] = mapped_column(String(5), default="lt")
    active: Mapped[bool] = mapped_column(default=True)
    is_demo: Mapped[bool] = mapped_column(default=False)
    last_login_at: Mapped[dt.datetime | None]

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    __table_args__ = (
        CheckConstraint("email = lower(email)", name="email_lowercase"),
        CheckConstraint("locale in ('lt', 'en', 'lv')", name="locale_known"),
    )

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    @property
    def session_fingerprint(self) -> str:
        """Changes with the password hash: a new password (changed, reset or erased) ends every session
        opened with the old one (``get_id`` is what a session remembers)."""
        return hashlib.sha256(self.password_hash.encode()).hexdigest()[:16]

    def get_id(self) -> str:  # Flask-Login: stored in the (signed) session cookie
        return f"{self.id}:{self.session_fingerprint}"

    def has_role(self, *roles: Role) -> bool:
        return any(m.role in roles for m in self.memberships)

    @property
    def roles(self) -> set[Role]:
        return {m.role for m in self.memberships}

    @property
    def is_admin(self) -> bool:
        return self.has_role(Role.ADMIN)

    def municipality_ids(self, *roles: Role) -> set[int]:
        wanted = roles or (Role.PROCUREMENT_OFFICER, Role.FINANCE_OFFICER, Role.SERVICE_COORDINATOR)
        return {m.municipality_id for m in self.memberships if m.role in wanted and m.municipality_id}

    def supplier_ids(self) -> set[int]:
        return {m.supplier_id for m in self.memberships if m.role == Role.SEO_MEMBER and m.supplier_id}

    @property
    def primary_membership(self) -> Membership | None:
        order = list(Role)
        return min(self.memberships, key=lambda m: order.index(m.role), default=None)

    @property
    def display_name(self) -> str:
        return self.full_name or self.email


class Membership(TimestampMixin, Base):
    """A role a user holds, scoped to one municipality, supplier or region (or none for admin)."""

    __tablename__ = "memberships"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(enum_type(Role))
    municipality_id: Mapped[int | None] = mapped_column(ForeignKey("municipalities.id"), index=True)
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("suppliers.id"), index=True)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True)

    user: Mapped[User] = relationship(back_populates="memberships")
    municipality = relationship("Municipality", lazy="joined")
    supplier = relationship("Supplier", lazy="joined")
    region = relationship("Region", lazy="joined")

    __table_args__ = (
        CheckConstraint(
            "(role = 'admin' AND municipality_id IS NULL AND supplier_id IS NULL AND region_id IS NULL)"
            " OR (role IN ('procurement_officer', 'finance_officer', 'service_coordinator')"
            "     AND municipality_id IS NOT NULL AND supplier_id IS NULL AND region_id IS NULL)"
            " OR (role = 'council_viewer' AND region_id IS NOT NULL AND municipality_id IS NULL"
            "     AND supplier_id IS NULL)"
            " OR (role = 'seo_member' AND supplier_id IS NOT NULL AND municipality_id IS NULL"
            "     AND region_id IS NULL)",
            name="scope_matches_role",
        ),
    )

    @property
    def scope_label(self) -> str:
        if self.municipality is not None:
            return self.municipality.name
        if self.supplier is not None:
            return self.supplier.legal_name
        if self.region is not None:
            return self.region.name
        return ""


Index(
    "uq_memberships_user_role_scope",
    Membership.user_id,
    Membership.role,
    func.coalesce(Membership.municipality_id, 0),
    func.coalesce(Membership.supplier_id, 0),
    func.coalesce(Membership.region_id, 0),
    unique=True,
)


class LoginAttempt(Base):
    """Every login attempt, for lock-outs and for the admins' view of them."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    address: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(20))  # success | bad_credentials | locked | unlocked
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)

    __table_args__ = (
        Index("ix_login_attempts_email_at", "email", "at"),
        CheckConstraint("outcome in ('success', 'bad_credentials', 'locked', 'unlocked')", name="outcome_known"),
    )
