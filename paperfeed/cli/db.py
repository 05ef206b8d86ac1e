"""`paperfeed db …`: schema migrations, and copying a whole database into another."""

from __future__ import annotations

import click

from paperfeed.cli.progress import ProgressDisplay
from paperfeed.storage.copy import copy_database
from paperfeed.storage.db import connect, head_revision, migrate, safe_url


@click.group("db")
def db_group() -> None:
    """Database schema migrations, and copying a whole database into another."""


@db_group.command("migrate")
@click.pass_obj
def db_migrate(app) -> None:
    """Upgrade the database schema to this version of paperfeed (take a backup first)."""
    services = app.services(check_schema=False)
    before, after = migrate(services.engine)
    if before == after:
        click.echo(f"schema already current at revision {after}")
    else:
        click.echo(f"schema migrated from {before or 'empty'} to {after} (head {head_revision()})")


@db_group.command("copy")
@click.argument("target_url")
@click.pass_obj
def db_copy(app, target_url: str) -> None:
    """Copy everything in this database into the empty database TARGET_URL.

    The move from one laptop's SQLite file to a PostgreSQL server: papers, vectors, votes,
    accounts, subscribers and the record of digests already sent all go along. Stop the
    writers first (worker, ingest); an interrupted copy leaves the target empty.
    """
    services = app.services()
    target = connect(target_url)
    display = ProgressDisplay("copying", unit="rows")
    try:
        copied = copy_database(services.engine, target, on_progress=display)
    finally:
        display.close()
        target.dispose()
    for table, rows in copied.rows_by_table.items():
        if rows:
            click.echo(f"{table:<20} {rows:>10,}")
    click.echo(f"copied {copied.records:,} rows into {safe_url(target_url)}")
