"""Database plumbing: declarative base with a constraint naming convention,
a session scoped to the Flask app context, and shared column types."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from flask import Flask, abort, current_app
from flask.globals import app_ctx
from sqlalchemy import DateTime, MetaData, Numeric, String, create_engine, event, func, select
from sqlalchemy import Enum as SAEnum
from sqlalchemy.engine import Engine
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    declared_attr,
    mapped_column,
    scoped_session,
    sessionmaker,
)
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """Timezone-aware datetimes stored as UTC on every backend (SQLite has no tz)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use srpp.core.db.utcnow()")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


Money = Annotated[Decimal, mapped_column(Numeric(14, 2))]
str_200 = Annotated[str, mapped_column(String(200))]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: UTCDateTime(), Decimal: Numeric(14, 2)}

    #: entities whose changes are written to the audit log
    __audited__: bool = False
    #: columns never copied into the audit log (secrets, derived blobs)
    __audit_exclude__: tuple[str, ...] = ()

    def __repr__(self) -> str:
        ident = getattr(self, "id", None)
        return f"<{type(self).__name__} {ident}>"


class TimestampMixin:
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow, server_default=func.now())


class VersionedMixin:
    """Optimistic locking: a stale UPDATE raises StaleDataError instead of overwriting."""

    version: Mapped[int] = mapped_column(default=1, server_default="1")

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.version}  # type: ignore[attr-defined]


def enum_type(enum_cls: type, length: int = 40, name: str | None = None) -> SAEnum:
    """A portable enum column: VARCHAR + CHECK constraint holding the enum *values*.
    Give ``name`` when a table has two columns of the same enum (it names the CHECK)."""
    return SAEnum(
        enum_cls,
        name=name or enum_cls.__name__.lower(),
        native_enum=False,
        create_constraint=True,
        length=length,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


def _app_ctx_id() -> int:
    return id(app_ctx._get_current_object())  # type: ignore[attr-defined]


class AppSession(Session):
    """Binds to the current app's engine, unless a connection was given explicitly (tests)."""

    def get_bind(self, mapper: Any = None, clause: Any = None, bind: Any = None, **kw: Any) -> Any:
        if bind is not None:
            return bind
        if self.bind is not None:
            return self.bind
        return current_app.extensions["srpp_engine"]


class Database:
    """The engine and an app-context-scoped session (the Flask-SQLAlchemy idea, minus the magic)."""

    def __init__(self) -> None:
        self.session = scoped_session(
            sessionmaker(class_=AppSession, expire_on_commit=False), scopefunc=_app_ctx_id
        )
        self.Model = Base

    @property
    def engine(self) -> Engine:
        return current_app.extensions["srpp_engine"]

    def init_app(self, app: Flask) -> None:
        url = app.config["DATABASE_URL"]
        kwargs: dict[str, Any] = {"echo": app.config.get("SQLALCHEMY_ECHO", False), "future": True}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        else:
            kwargs.update(pool_pre_ping=True, pool_size=10, max_overflow=10, pool_timeout=10,
                          connect_args={"connect_timeout": 5})
        engine = create_engine(url, **kwargs)
        if url.startswith("sqlite"):
            event.listen(engine, "connect", _sqlite_pragmas)
            # let SQLAlchemy, not pysqlite, issue BEGIN: SAVEPOINTs then work (SQLAlchemy's recipe)
            event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN"))
        app.extensions["srpp_engine"] = engine
        app.extensions["srpp_db"] = self

        @app.teardown_appcontext
        def _remove_session(exc: BaseException | None) -> None:
            self.session.remove()

    # small conveniences used by views
    def get_or_404(self, model: type, ident: Any) -> Any:
        obj = self.session.get(model, ident)
        if obj is None:
            abort(404)
        return obj

    def first_or_404(self, stmt: Any) -> Any:
        obj = self.session.scalars(stmt).first()
        if obj is None:
            abort(404)
        return obj

    def count(self, stmt: Any) -> int:
        return self.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def is_postgres() -> bool:
    return current_app.extensions["srpp_engine"].dialect.name == "postgresql"
