"""Backup and restore: ``flask --app srpp backup create [--out DIR]`` and
``flask --app srpp backup restore DIR --database-url URL [--files-dir DIR] [--force]``.

A backup is one directory ``srpp-backup-<UTC time>/`` holding

* ``database.dump`` — ``pg_dump --format=custom`` of the PostgreSQL database (or ``database.sqlite3``, a copy
  made with SQLite's online backup API),
* ``files.tar.gz`` — the files directory (``SRPP_FILES_DIR``: supplier evidence),
* ``manifest.json`` — the SHA-256 and size of both, the Alembic revision and the row count of every table.

``restore`` checks the checksums first, refuses a target database or files directory that is not empty (unless
``--force``), restores with ``pg_restore --single-transaction`` (all or nothing) and then compares the row count
of every table with the manifest."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import URL, make_url

MANIFEST = "manifest.json"
PG_DUMP = "database.dump"
SQLITE_DUMP = "database.sqlite3"
FILES_TAR = "files.tar.gz"
FORMAT_VERSION = 1


class BackupError(RuntimeError):
    """A backup or restore that must not go on; the message says why."""


@dataclass
class RestoreResult:
    tables: int
    rows: int
    files: int


# --- helpers ---------------------------------------------------------------------------------------

def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _is_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite"


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return Path(url.database)


def _libpq(url: URL) -> tuple[list[str], dict[str, str]]:
    """Connection arguments for pg_dump/pg_restore; the password goes in the environment, not argv."""
    args = ["--host", url.host or "localhost", "--port", str(url.port or 5432)]
    if url.username:
        args += ["--username", url.username]
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return args, env


def _run(cmd: list[str], env: dict[str, str]) -> None:
    tool = shutil.which(cmd[0])
    if tool is None:
        raise BackupError(f"{cmd[0]} is not installed (PostgreSQL client tools are needed)")
    proc = subprocess.run([tool, *cmd[1:]], env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise BackupError(f"{cmd[0]} failed ({proc.returncode}): {proc.stderr.strip()[-2000:]}")


def table_counts(database_url: str | URL) -> dict[str, int]:
    """Row count of every table of the database (the schema's own tables and ``alembic_version``)."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            names = sorted(inspect(conn).get_table_names())
            preparer = engine.dialect.identifier_preparer
            return {n: conn.execute(text(f"select count(*) from {preparer.quote(n)}")).scalar_one() for n in names}
    finally:
        engine.dispose()


def _alembic_revision(counts: dict[str, int], database_url: str | URL) -> str | None:
    if "alembic_version" not in counts:
        return None
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("select version_num from alembic_version")).scalar()
    finally:
        engine.dispose()


# --- create ----------------------------------------------------------------------------------------

def create(database_url: str, files_dir: str | Path, out_dir: str | Path) -> Path:
    """Write a backup directory under ``out_dir``; returns its path."""
    url = make_url(database_url)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = Path(out_dir) / f"srpp-backup-{stamp}"
    target.mkdir(parents=True, exist_ok=False)
    os.chmod(target, 0o700)  # personal data inside
    try:
        counts = table_counts(url)
        if _is_sqlite(url):
            dump = target / SQLITE_DUMP
            src = sqlite3.connect(_sqlite_path(url))
            dst = sqlite3.connect(dump)
            try:
                src.backup(dst)  # a consistent copy while the app keeps running
            finally:
                dst.close()
                src.close()
            db_format = "sqlite"
        else:
            dump = target / PG_DUMP
            args, env = _libpq(url)
            _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", *args, "--file", str(dump),
                  str(url.database)], env)
            db_format = "postgresql-custom"
        files_root = Path(files_dir)
        tar_path = target / FILES_TAR
        file_count = 0
        with tarfile.open(tar_path, "w:gz") as tar:
            if files_root.is_dir():
                for path in sorted(files_root.rglob("*")):
                    if path.is_file() and not path.is_symlink() and not path.name.endswith(".part"):
                        tar.add(path, arcname=str(path.relative_to(files_root)), recursive=False)
                        file_count += 1
        manifest = {
            "format_version": FORMAT_VERSION,
            "created_at": dt.datetime.now(dt.UTC).isoformat(),
            "database": {"format": db_format, "file": dump.name, "size": dump.stat().st_size,
                         "sha256": sha256_of(dump), "alembic_revision": _alembic_revision(counts, url)},
            "files": {"file": FILES_TAR, "count": file_count, "size": tar_path.stat().st_size,
                      "sha256": sha256_of(tar_path)},
            "tables": counts,
        }
        (target / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True), encoding="utf-8")
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)  # never leave a half backup that looks complete
        raise
    return target


# --- restore ---------------------------------------------------------------------------------------

def read_manifest(backup_dir: str | Path) -> dict[str, Any]:
    """The manifest, after checking that both parts are present and match their checksums."""
    folder = Path(backup_dir)
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise BackupError(f"{folder} is not a backup: {MANIFEST} is missing") from exc
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(f"unknown backup format {manifest.get('format_version')!r}")
    for part in (manifest["database"], manifest["files"]):
        path = folder / part["file"]
        if not path.is_file():
            raise BackupError(f"{part['file']} is missing from the backup")
        if sha256_of(path) != part["sha256"]:
            raise BackupError(f"{part['file']} does not match its checksum: the backup is damaged")
    return manifest


def _postgres_is_empty(url: URL) -> bool:
    """True when the database does not exist (it is then created) or has no tables."""
    admin = url.set(database="postgres")
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            exists = conn.execute(text("select 1 from pg_database where datname = :n"), {"n": url.database}).scalar()
            if not exists:
                quoted = engine.dialect.identifier_preparer.quote(str(url.database))
                conn.execute(text(f"create database {quoted}"))
                return True
    finally:
        engine.dispose()
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return not inspect(conn).get_table_names()
    finally:
        engine.dispose()


def _postgres_wipe(url: URL) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("drop schema if exists public cascade"))
            conn.execute(text("create schema public"))
    finally:
        engine.dispose()


def _files_empty(files_dir: Path) -> bool:
    return not files_dir.exists() or not any(files_dir.iterdir())


def restore(backup_dir: str | Path, database_url: str, files_dir: str | Path | None,
            force: bool = False) -> RestoreResult:
    folder = Path(backup_dir)
    manifest = read_manifest(folder)
    url = make_url(database_url)
    dump = folder / manifest["database"]["file"]
    fmt = manifest["database"]["format"]
    if (fmt == "sqlite") != _is_sqlite(url):
        raise BackupError(f"a {fmt} backup cannot be restored into a {url.get_backend_name()} database")
    files_root = Path(files_dir) if files_dir else None
    # refuse before touching anything
    if files_root is not None and not force and not _files_empty(files_root):
        raise BackupError(f"the files directory {files_root} is not empty (use --force to overwrite)")
    if _is_sqlite(url):
        path = _sqlite_path(url)
        if path.exists() and path.stat().st_size > 0 and not force:
            raise BackupError(f"the database {path} exists (use --force to overwrite)")
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".restoring")
        src = sqlite3.connect(dump)
        dst = sqlite3.connect(tmp)
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
        for suffix in ("-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        os.replace(tmp, path)
    else:
        if not _postgres_is_empty(url):
            if not force:
                raise BackupError(f"the database {url.database} is not empty (use --force to replace its contents)")
            _postgres_wipe(url)
        args, env = _libpq(url)
        _run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", *args,
              "--dbname", str(url.database), str(dump)], env)
    file_count = 0
    if files_root is not None:
        file_count = _restore_files(folder / manifest["files"]["file"], files_root, force)
    counts = table_counts(url)
    expected = manifest["tables"]
    wrong = {t: (n, counts.get(t)) for t, n in expected.items() if counts.get(t) != n}
    if wrong:
        raise BackupError("restored row counts differ from the manifest: "
                          + ", ".join(f"{t} {a} != {b}" for t, (a, b) in sorted(wrong.items())))
    return RestoreResult(tables=len(counts), rows=sum(counts.values()), files=file_count)


def _restore_files(tar_path: Path, files_root: Path, force: bool) -> int:
    """Unpack into a temporary sibling directory, then swap it in (no half-restored directory)."""
    files_root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".restoring-", dir=files_root.parent))
    try:
        with tarfile.open(tar_path, "r:gz") as tar:
            members = tar.getmembers()
            tar.extractall(staging, filter="data")  # refuses absolute paths, .. and links out of the tree
        if files_root.exists():
            if not force and any(files_root.iterdir()):
                raise BackupError(f"the files directory {files_root} is not empty (use --force to overwrite)")
            old = files_root.with_name(files_root.name + ".old-" + staging.name[-8:])
            os.replace(files_root, old)
            os.replace(staging, files_root)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, files_root)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return sum(1 for m in members if m.isfile())


# --- command line ----------------------------------------------------------------------------------

cli = AppGroup("backup", help="Backup and restore of the database and the files directory.")


@cli.command("create")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="backups", show_default=True,
              help="Directory the backup directory is written under.")
def create_command(out_dir: str) -> None:
    """Dump the database (pg_dump custom format, or SQLite's backup API), tar the files directory and
    write a manifest with checksums and row counts."""
    try:
        path = create(current_app.config["DATABASE_URL"], current_app.config["FILES_DIR"], out_dir)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    click.echo(f"backup written to {path} ({len(manifest['tables'])} tables, "
               f"{sum(manifest['tables'].values())} rows, {manifest['files']['count']} files)")


@cli.command("restore")
@click.argument("backup_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--database-url", required=True, help="The database to restore into (created when missing).")
@click.option("--files-dir", type=click.Path(file_okay=False), default=None,
              help="Where to unpack the files (default: the configured SRPP_FILES_DIR).")
@click.option("--force", is_flag=True, help="Replace a target database or files directory that is not empty.")
def restore_command(backup_dir: str, database_url: str, files_dir: str | None, force: bool) -> None:
    """Check the backup's checksums, restore the database and the files, compare row counts."""
    try:
        result = restore(backup_dir, database_url, files_dir or current_app.config["FILES_DIR"], force)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"restored {result.tables} tables ({result.rows} rows) and {result.files} files; "
               "row counts match the manifest")
