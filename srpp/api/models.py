"""API tokens: a token acts as its user (the user's roles and municipalities scope it), is
stored only as a SHA-256 hash, may be read-only, may expire and can be revoked."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from srpp.core.db import Base, utcnow


class ApiToken(Base):
    __tablename__ = "api_tokens"
    __audited__ = True
    __audit_exclude__ = ("token_hash", "last_used_at")

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    # the first characters of the token, shown in lists so the owner can tell tokens apart
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    can_write: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_on: Mapped[dt.date | None]
    last_used_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    user = relationship("User", foreign_keys=[user_id])

    __table_args__ = (CheckConstraint("length(token_hash) = 64", name="hash_length"),)

    def is_usable(self, today: dt.date) -> bool:
        return self.revoked_at is None and (self.expires_on is None or today <= self.expires_on)
