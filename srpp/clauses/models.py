"""Clauses and their editions in the database, loaded from ``clause_library/clauses``.

An edition that a generated document used can never change: the service refuses it, and a
database trigger (created by the migration) refuses an UPDATE of its text on both PostgreSQL and SQLite."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from srpp.core.db import Base, TimestampMixin, utcnow

#: the columns of an edition that are its content (frozen once used)
CONTENT_COLUMNS = ("category", "title_lt", "title_en", "body_lt", "body_en", "applies_when", "variables",
                   "sha256")


class Clause(TimestampMixin, Base):
    __tablename__ = "clauses"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    category: Mapped[str] = mapped_column(String(40), index=True)

    editions: Mapped[list[ClauseEdition]] = relationship(back_populates="clause", order_by="ClauseEdition.edition",
                                                         cascade="all, delete-orphan")

    @property
    def current(self) -> ClauseEdition:
        return self.editions[-1]

    @property
    def audit_label(self) -> str:
        return self.code


class ClauseEdition(Base):
    __tablename__ = "clause_editions"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    clause_id: Mapped[int] = mapped_column(ForeignKey("clauses.id", ondelete="CASCADE"), index=True)
    edition: Mapped[int]
    category: Mapped[str] = mapped_column(String(40))
    title_lt: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300))
    body_lt: Mapped[str] = mapped_column(Text)
    body_en: Mapped[str] = mapped_column(Text)
    applies_when: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    variables: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    sha256: Mapped[str] = mapped_column(String(64))
    source_file: Mapped[str] = mapped_column(String(200))
    loaded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    first_used_at: Mapped[dt.datetime | None]

    clause: Mapped[Clause] = relationship(back_populates="editions", lazy="joined")

    __table_args__ = (
        UniqueConstraint("clause_id", "edition"),
        CheckConstraint("edition >= 1", name="edition_positive"),
    )

    @property
    def code(self) -> str:
        return self.clause.code

    @property
    def used(self) -> bool:
        return self.first_used_at is not None

    def title(self, lang: str) -> str:
        return self.title_lt if lang == "lt" else self.title_en

    def body(self, lang: str) -> str:
        return self.body_lt if lang == "lt" else self.body_en

    @property
    def audit_label(self) -> str:
        return f"{self.clause.code} e{self.edition}" if self.clause else f"e{self.edition}"
