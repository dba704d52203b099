"""Migrations build the whole schema, match the models, and step down and up again."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect

from srpp import migrate
from srpp.models import metadata
from tests import services as svc


def _roundtrip(url: str) -> None:
    cfg = migrate.alembic_config(url)
    migrate.upgrade(url)
    tables = set(inspect(create_engine(url)).get_table_names())
    assert set(metadata.tables) <= tables
    command.check(cfg)  # the models and the migrations agree
    heads = ScriptDirectory.from_config(cfg).get_heads()
    assert len(heads) == 1, "migrations must have a single head"
    migrate.downgrade(url, "-1")
    migrate.upgrade(url)
    assert set(metadata.tables) <= set(inspect(create_engine(url)).get_table_names())


def test_sqlite_upgrade_downgrade_upgrade():
    path = Path(tempfile.mkdtemp()) / "m.sqlite3"
    _roundtrip(f"sqlite:///{path}")


@pytest.mark.postgres
def test_postgres_upgrade_downgrade_upgrade():
    _roundtrip(svc.fresh_postgres_database("srpp_test_migrations"))


def test_downgrade_to_base_leaves_no_tables():
    path = Path(tempfile.mkdtemp()) / "b.sqlite3"
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    migrate.downgrade(url, "base")
    assert set(inspect(create_engine(url)).get_table_names()) <= {"alembic_version"}
