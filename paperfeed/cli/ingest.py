"""`paperfeed ingest …`: one command per source, each calling ingest.run.ingest."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import click

from paperfeed.errors import InvalidInput
from paperfeed.ingest.run import ingest
from paperfeed.models import IngestReport

from .progress import ProgressDisplay

DATE = click.DateTime(formats=["%Y-%m-%d"])


@click.group("ingest")
def ingest_group() -> None:
    """Load papers from arXiv, Hugging Face or files (idempotent and resumable)."""


def _run(app, source, params, as_json, *, restart=False, exit_on_failure=True):
    """Run one source with a progress display, print its report; exit 1 if it failed."""
    services = app.services()
    display = ProgressDisplay(f"ingest {source.name}")
    try:
        report = ingest(
            source,
            services.engine,
            params=params,
            clock=services.clock,
            on_progress=display,
            restart=restart,
        )
    finally:
        display.close()
    _print_report(report, as_json)
    if exit_on_failure and report.status != "done":
        raise SystemExit(1)
    return report


def _print_report(report: IngestReport, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(report.as_dict()))
        return
    for note in dict.fromkeys(report.notes):
        click.echo(f"note: {note}")
    for failure in report.failures[:10]:
        click.echo(f"skipped {failure.source} {failure.position}: {failure.reason}", err=True)
    if report.failed > 10:
        click.echo(
            f"… {report.failed - 10} more skipped records: "
            f"see `paperfeed ingest runs --failures {report.run_id}`",
            err=True,
        )
    click.echo(
        f"{report.source}: {report.new} new, {report.updated} updated, "
        f"{report.unchanged} unchanged, {report.failed} failed, {report.signals} signals "
        f"(run {report.run_id}, {report.status})"
    )
    if report.error:
        click.echo(f"error: {report.error}", err=True)


def _json_option(f):
    return click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")(f)


def _restart_option(f):
    return click.option(
        "--restart", is_flag=True, help="Forget saved progress and start from the beginning."
    )(f)


@ingest_group.command("file")
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "file_format",
    default="auto",
    show_default=True,
    help="auto, jsonl, json, csv, arxiv-snapshot, hf-daily or bibtex.",
)
@_restart_option
@_json_option
@click.pass_obj
def ingest_file(app, paths, file_format, as_json, restart) -> None:
    """Load papers from files (gzip read transparently; format detected unless given).

    With several files and --json, one JSON report per file is printed, one per line."""
    from paperfeed.ingest.sources.bulk_file import FILE_FORMATS, BulkFileSource

    if file_format != "auto" and file_format not in FILE_FORMATS:
        raise InvalidInput(
            f"unknown format {file_format!r}: choose auto, {', '.join(sorted(FILE_FORMATS))}"
        )
    for path in paths:
        if not path.exists():
            raise InvalidInput(f"no such file: {path}")
    batch_size = app.settings().ingest_batch_size
    failed = []
    for path in paths:
        # One file that fails does not stop the others; the exit code says some failed.
        source = BulkFileSource(path, file_format=file_format, batch_size=batch_size)
        params = {"path": str(path), "format": file_format}
        report = _run(app, source, params, as_json, restart=restart, exit_on_failure=False)
        if report.status != "done":
            failed.append(str(path))
    if failed:
        raise InvalidInput(f"{len(failed)} of {len(paths)} files failed: {', '.join(failed)}")


def _endpoint_option(f):
    return click.option("--endpoint", help="Base URL of the service (e.g. a mirror).")(f)


@ingest_group.command("arxiv-oai")
@click.option("--from", "from_date", type=DATE, help="Harvest records changed since this date.")
@click.option("--until", "until_date", type=DATE, help="…and up to this date.")
@click.option("--set", "set_spec", help="OAI set, e.g. cs or physics:hep-th.")
@click.option(
    "--prefix",
    type=click.Choice(["arXiv", "arXivRaw"]),
    default="arXiv",
    show_default=True,
    help="Metadata format (arXivRaw has every version's date).",
)
@_endpoint_option
@_restart_option
@_json_option
@click.pass_obj
def ingest_arxiv_oai(
    app, from_date, until_date, set_spec, prefix, endpoint, as_json, restart
) -> None:
    """Harvest arXiv by OAI-PMH; resumes an interrupted harvest, then continues incrementally."""
    from paperfeed.ingest.sources.arxiv_oai import ArxivOaiSource

    settings = app.settings(arxiv_oai_endpoint=endpoint)
    client = app.services().http_client(settings.arxiv_min_interval_s)
    source = ArxivOaiSource(
        client,
        endpoint=settings.arxiv_oai_endpoint,
        prefix=prefix,
        set_spec=set_spec,
        from_date=from_date.date() if from_date else None,
        until_date=until_date.date() if until_date else None,
        batch_size=settings.ingest_batch_size,
    )
    params = {"from": from_date, "until": until_date, "set": set_spec, "prefix": prefix}
    with client:
        _run(app, source, params, as_json, restart=restart)


@ingest_group.command("arxiv-api")
@click.argument("ids", nargs=-1)
@click.option("--query", help="arXiv API search query, e.g. 'ti:transformer AND cat:cs.CL'.")
@click.option("--max-results", type=click.IntRange(min=1), help="Stop after this many results.")
@_endpoint_option
@_restart_option
@_json_option
@click.pass_obj
def ingest_arxiv_api(app, ids, query, max_results, endpoint, as_json, restart) -> None:
    """Fetch papers from the arXiv API by id (ID…) or by search query (--query)."""
    from paperfeed.ingest.sources.arxiv_api import ArxivApiSource

    if bool(ids) == bool(query):
        raise InvalidInput("give either arXiv ids or --query, not both and not neither")
    settings = app.settings(arxiv_api_endpoint=endpoint)
    client = app.services().http_client(settings.arxiv_min_interval_s)
    source = ArxivApiSource(
        client,
        endpoint=settings.arxiv_api_endpoint,
        ids=list(ids) or None,
        query=query,
        max_results=max_results,
    )
    with client:
        _run(app, source, {"ids": list(ids), "query": query}, as_json, restart=restart)


@ingest_group.command("arxiv-listing")
@click.argument("categories", nargs=-1, required=True)
@click.option(
    "--feed-format",
    type=click.Choice(["rss", "atom"]),
    default="rss",
    show_default=True,
    help="Which of arXiv's listing feeds to read.",
)
@_endpoint_option
@_json_option
@click.pass_obj
def ingest_arxiv_listing(app, categories, feed_format, endpoint, as_json) -> None:
    """Read today's arXiv announcements for categories (e.g. cs.CL cs.LG)."""
    from paperfeed.ingest.sources.arxiv_listing import ArxivListingSource

    settings = app.settings(arxiv_listing_endpoint=endpoint)
    client = app.services().http_client(settings.arxiv_min_interval_s)
    source = ArxivListingSource(
        client, list(categories), endpoint=settings.arxiv_listing_endpoint, feed_format=feed_format
    )
    with client:
        _run(app, source, {"categories": list(categories)}, as_json)


@ingest_group.command("hf-daily")
@click.option("--date", "on_date", type=DATE, help="One day's list (default: today, UTC).")
@click.option("--since", type=DATE, help="Every day from this date up to --until or today.")
@click.option("--until", type=DATE, help="Last day for --since (default today).")
@_endpoint_option
@_restart_option
@_json_option
@click.pass_obj
def ingest_hf_daily(app, on_date, since, until, endpoint, as_json, restart) -> None:
    """Fetch Hugging Face daily papers with their upvotes, comments and GitHub stars."""
    from paperfeed.ingest.sources.hf_daily import HfDailySource

    if on_date and since:
        raise InvalidInput("give --date or --since, not both")
    services = app.services()
    today = services.clock().date()
    if since:
        last = until.date() if until else today
        if since.date() > last:
            raise InvalidInput(f"--since {since.date()} is after {last}")
        dates = [since.date() + timedelta(days=n) for n in range((last - since.date()).days + 1)]
    else:
        dates = [on_date.date() if on_date else today]
    settings = app.settings(hf_endpoint=endpoint)
    client = services.http_client(settings.hf_min_interval_s)
    source = HfDailySource(client, dates=dates, endpoint=settings.hf_endpoint, clock=services.clock)
    with client:
        _run(app, source, {"dates": [d.isoformat() for d in dates]}, as_json, restart=restart)


@ingest_group.command("runs")
@click.option("--limit", type=click.IntRange(min=1), default=10, show_default=True)
@click.option(
    "--failures",
    "failures_of",
    type=int,
    metavar="RUN_ID",
    help="List the records a run skipped, with why.",
)
@_json_option
@click.pass_obj
def ingest_runs_command(app, limit, failures_of, as_json) -> None:
    """Show recent ingest runs, or the skipped records of one run."""
    from paperfeed.storage import ingest_runs

    services = app.services()
    with services.engine.connect() as conn:
        if failures_of is not None:
            failures = ingest_runs.failures_of(conn, failures_of)
            rows = [
                {"source": f.source, "position": f.position, "reason": f.reason} for f in failures
            ]
            if as_json:
                click.echo(json.dumps(rows, indent=2))
            for row in [] if as_json else rows:
                click.echo(f"{row['source']} {row['position']}: {row['reason']}")
            return
        runs = ingest_runs.recent_runs(conn, limit)
    if as_json:
        click.echo(json.dumps(runs, indent=2, default=str))
        return
    for run in runs:
        click.echo(
            f"{run['id']:>5} {run['started_at']:%Y-%m-%d %H:%M} {run['source']:<15} "
            f"{run['status']:<11} new={run['new']} updated={run['updated']} "
            f"unchanged={run['unchanged']} failed={run['failed']}"
            + (f"  {run['error']}" if run["error"] else "")
        )
