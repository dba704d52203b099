"""Command line: ``flask --app srpp db …``, ``demo …``, ``cpv …``."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from srpp import migrate


def register(app: Flask) -> None:
    db_cli = AppGroup("db", help="Database schema (Alembic migrations).")

    @db_cli.command("upgrade")
    @click.argument("revision", default="head")
    def db_upgrade(revision: str) -> None:
        migrate.upgrade(current_app.config["DATABASE_URL"], revision)

    @db_cli.command("downgrade")
    @click.argument("revision", default="-1")
    def db_downgrade(revision: str) -> None:
        migrate.downgrade(current_app.config["DATABASE_URL"], revision)

    @db_cli.command("revision")
    @click.option("-m", "--message", required=True)
    def db_revision(message: str) -> None:
        migrate.revision(current_app.config["DATABASE_URL"], message)

    @db_cli.command("current")
    def db_current() -> None:
        migrate.current(current_app.config["DATABASE_URL"])

    demo_cli = AppGroup("demo", help="The demo region.")

    @demo_cli.command("load")
    def demo_load() -> None:
        """Load the demo region into an empty database (no-op when already loaded)."""
        from srpp.demo import loader

        try:
            result = loader.load()
        except loader.DemoRefused as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"demo region: {result}")

    @demo_cli.command("logins")
    def demo_logins() -> None:
        from srpp.demo import loader

        click.echo("Demo logins (password: demo12345):")
        for email, role in loader.demo_logins():
            click.echo(f"  {email:<36} {role}")

    ref_cli = AppGroup("reference", help="Reference data every installation needs (CPV, EU thresholds).")

    @ref_cli.command("load")
    def reference_load() -> None:
        from srpp.demo.loader import load_reference

        for name, count in load_reference().items():
            click.echo(f"{name}: {count}")

    clauses_cli = AppGroup("clauses", help="The clause library (clause_library/clauses).")

    @clauses_cli.command("check")
    def clauses_check() -> None:
        """Check every clause file; name file, line and problem."""
        from srpp.clauses.library import LIBRARY, load_library

        clauses, problems = load_library(LIBRARY)
        for problem in problems:
            click.echo(str(problem), err=True)
        if problems:
            raise click.ClickException(f"{len(problems)} problem(s) in the clause library")
        click.echo(f"{len(clauses)} clauses checked, no problems")

    @clauses_cli.command("load")
    def clauses_load() -> None:
        """Check the clause files and load them into the database, all or nothing. An edition that
        a generated document used is never changed: the load is refused and names it."""
        from srpp.clauses import services as clause_services
        from srpp.core.errors import DomainError
        from srpp.extensions import db

        try:
            result = clause_services.load()
            db.session.commit()
        except clause_services.LibraryError as exc:
            for problem in exc.problems:
                click.echo(str(problem), err=True)
            raise click.ClickException(exc.message) from exc
        except DomainError as exc:
            raise click.ClickException(exc.message) from exc
        click.echo(f"clause library: {result}")

    app.cli.add_command(db_cli)
    app.cli.add_command(clauses_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(ref_cli)

    from srpp.core.backup import cli as backup_cli

    app.cli.add_command(backup_cli)
