"""A generated document: its request (kind, subject, language, values, the clause editions used),
its jobs (the .docx and the PDF, each a ``job_runs`` row) and its files.

Files live in ``document_files`` with one row per document and format (a unique key), written in
the same transaction that marks the job done: a repeated delivery can never add a second file."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, ForeignKey, Index, LargeBinary, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from srpp.core.db import Base, TimestampMixin, utcnow
from srpp.core.models import JobRun, JobState

document_editions = Table(
    "document_editions",
    Base.metadata,
    Column("document_id", ForeignKey("generated_documents.id", ondelete="CASCADE"), primary_key=True),
    Column("edition_id", ForeignKey("clause_editions.id"), primary_key=True, index=True),
)

KINDS = ("tender_specification", "reserved_lot_notice", "framework_agreement", "call_off_order",
         "implementation_note", "handbook", "payment_report", "impact_report")
#: ``impact_year``: the region's annual impact report, whose subject_id is the year
SUBJECTS = ("tender", "lot", "framework", "call_off", "municipality", "region", "payment_report", "impact_year")
FORMATS = ("docx", "pdf")


class GeneratedDocument(TimestampMixin, Base):
    __tablename__ = "generated_documents"
    __audited__ = True
    __audit_exclude__ = ("values",)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    subject_type: Mapped[str] = mapped_column(String(20))
    subject_id: Mapped[int]
    #: the municipality whose officers may see it (None: region-wide, e.g. the handbook)
    municipality_id: Mapped[int | None] = mapped_column(ForeignKey("municipalities.id"), index=True)
    language: Mapped[str] = mapped_column(String(2))
    title: Mapped[str] = mapped_column(String(300))
    values: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("job_runs.id"), unique=True)
    pdf_job_id: Mapped[int | None] = mapped_column(ForeignKey("job_runs.id"), unique=True)
    file_name: Mapped[str] = mapped_column(String(200))
    size_bytes: Mapped[int | None]
    sha256: Mapped[str | None] = mapped_column(String(64))
    expired_at: Mapped[dt.datetime | None]

    job: Mapped[JobRun] = relationship(foreign_keys=[job_id], lazy="joined")
    pdf_job: Mapped[JobRun | None] = relationship(foreign_keys=[pdf_job_id], lazy="joined")
    editions = relationship("ClauseEdition", secondary=document_editions, order_by="ClauseEdition.id",
                            lazy="selectin")
    requested_by = relationship("User")
    municipality = relationship("Municipality")
    files: Mapped[list[DocumentFile]] = relationship(back_populates="document", cascade="all, delete-orphan")

    __table_args__ = (
        CheckConstraint(f"kind IN ({', '.join(repr(k) for k in KINDS)})", name="kind_known"),
        CheckConstraint(f"subject_type IN ({', '.join(repr(s) for s in SUBJECTS)})", name="subject_known"),
        CheckConstraint("language IN ('lt', 'en')", name="language_known"),
        Index("ix_generated_documents_subject", "subject_type", "subject_id"),
    )

    @property
    def state(self) -> JobState:
        return self.job.state

    @property
    def expired(self) -> bool:
        return self.expired_at is not None

    def file(self, fmt: str) -> DocumentFile | None:
        return next((f for f in self.files if f.format == fmt), None)

    @property
    def pdf_name(self) -> str:
        return self.file_name.rsplit(".", 1)[0] + ".pdf"

    @property
    def audit_label(self) -> str:
        return self.title


class DocumentFile(Base):
    __tablename__ = "document_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("generated_documents.id", ondelete="CASCADE"))
    format: Mapped[str] = mapped_column(String(4))
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    document: Mapped[GeneratedDocument] = relationship(back_populates="files")

    __table_args__ = (
        # one file per document and format: a repeated task delivery cannot add a second
        Index("uq_document_files_document_format", "document_id", "format", unique=True),
        CheckConstraint("format IN ('docx', 'pdf')", name="format_known"),
        CheckConstraint("size_bytes > 0", name="size_positive"),
    )
