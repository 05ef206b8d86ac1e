"""`paperfeed db …`: schema migrations."""

from __future__ import annotations

import click

from paperfeed.storage.db import head_revision, migrate


@click.group("db")
def db_group() -> None:
    """Database schema commands."""


@db_group.command("migrate")
@click.pass_obj
def db_migrate(app) -> None:  # noqa: ANN001
    """Upgrade the database schema to this version of paperfeed (take a backup first)."""
    services = app.services(check_schema=False)
    before, after = migrate(services.engine)
    if before == after:
        click.echo(f"schema already current at revision {after}")
    else:
        click.echo(f"schema migrated from {before or 'empty'} to {after} (head {head_revision()})")
