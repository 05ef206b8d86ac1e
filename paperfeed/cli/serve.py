"""`paperfeed serve` (the web UI and API) and `paperfeed demo` (load demo data, then serve)."""

from __future__ import annotations

import click

from .progress import ProgressDisplay


def _serve(app, host, port) -> None:
    from paperfeed.web.server import run_server

    settings = app.settings(host=host, port=port)
    services = app.services()
    click.echo(
        f"paperfeed serving {settings.database_url} at http://{settings.host}:{settings.port}",
        err=True,
    )
    run_server(services, settings.host, settings.port)


@click.command("serve")
@click.option("--host", help="Address to listen on [default 127.0.0.1].")
@click.option("--port", type=int, help="Port to listen on [default 8000].")
@click.pass_obj
def serve_command(app, host, port) -> None:
    """Run the web UI and JSON API."""
    _serve(app, host, port)


def _index_demo(services) -> None:
    """Make the demo searchable; without a model, search still works by keywords."""
    from paperfeed.errors import ModelUnavailable
    from paperfeed.search.indexing import update_search_indexes

    search = services.search()
    display = ProgressDisplay(f"embedding ({search.model})", unit="papers")
    try:
        report = update_search_indexes(
            search,
            clock=services.clock,
            on_progress=display,
            echo=lambda m: click.echo(m, err=True),
        )
    except ModelUnavailable as exc:
        search.refresh(force=True, save=True)
        click.echo(f"semantic search is off ({exc}); keyword search works", err=True)
        return
    finally:
        display.close()
    click.echo(
        f"search index: {report.embedded} papers embedded, {report.unchanged} unchanged", err=True
    )


@click.command("demo")
@click.option("--host", help="Address to listen on [default 127.0.0.1].")
@click.option("--port", type=int, help="Port to listen on [default 8000].")
@click.option("--no-serve", is_flag=True, help="Only load and index the demo corpus.")
@click.pass_obj
def demo_command(app, host, port, no_serve) -> None:
    """Load the bundled demo corpus (idempotent), index it for search, then run the web UI."""
    from paperfeed.ingest.demo import load_demo

    services = app.services(host=host, port=port)
    display = ProgressDisplay("demo corpus")
    try:
        reports = load_demo(services.engine, clock=services.clock, on_progress=display)
    finally:
        display.close()
    for report in reports:
        click.echo(
            f"demo {report.source}: {report.new} new, {report.updated} updated, "
            f"{report.unchanged} unchanged, {report.failed} skipped, "
            f"{report.signals} signals",
            err=True,
        )
    _index_demo(services)
    if not no_serve:
        _serve(app, host, port)
