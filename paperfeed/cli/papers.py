"""`paperfeed papers …`, `paperfeed stats` and `paperfeed config`: read what is stored."""

from __future__ import annotations

import json
import textwrap

import click

from paperfeed import catalog
from paperfeed.config import SETTINGS


@click.group("papers")
def papers_group() -> None:
    """Look at stored papers."""


@papers_group.command("show")
@click.argument("paper_id")
@click.option("--json", "as_json", is_flag=True, help="Print the paper as JSON.")
@click.pass_obj
def papers_show(app, paper_id, as_json) -> None:
    """Show one paper by arXiv id (any version or URL) or local id."""
    paper = catalog.get_paper(app.services().engine, paper_id)
    if as_json:
        click.echo(json.dumps(paper, indent=2, ensure_ascii=False))
        return
    click.echo(click.style(paper["title"], bold=True))
    click.echo(", ".join(paper["authors"]) or "(no authors)")
    meta = [paper["id"] + (f"v{paper['version']}" if paper["version"] else "")]
    meta += [" ".join(paper["categories"])] if paper["categories"] else []
    meta += [paper["published_at"][:10]] if paper["published_at"] else []
    click.echo(" · ".join(meta))
    for name, url in paper["links"].items():
        if url:
            click.echo(f"{name}: {url}")
    if paper["signals"]:
        click.echo(" ".join(f"{k}={v:g}" for k, v in sorted(paper["signals"].items())))
    click.echo()
    for paragraph in paper["abstract"].split("\n\n"):
        click.echo(textwrap.fill(paragraph, 100))
        click.echo()


@papers_group.command("list")
@click.option(
    "--limit", type=click.IntRange(1, catalog.MAX_PAGE_SIZE), default=20, show_default=True
)
@click.option("--offset", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array, newest first.")
@click.pass_obj
def papers_list(app, limit, offset, as_json) -> None:
    """List papers, newest first."""
    papers = catalog.list_papers(app.services().engine, limit=limit, offset=offset)
    if as_json:
        click.echo(json.dumps(papers, indent=2, ensure_ascii=False))
        return
    for paper in papers:
        day = (paper["published_at"] or "")[:10] or "----------"
        click.echo(f"{day}  {paper['id']:<22} {paper['title'][:90]}")


@papers_group.command("remove")
@click.argument("paper_ids", nargs=-1, required=True)
@click.pass_obj
def papers_remove(app, paper_ids) -> None:
    """Remove papers (with their signals and vectors) from the database."""
    removed = catalog.remove_papers(app.services().engine, list(paper_ids))
    click.echo(f"removed {len(removed)} of {len(paper_ids)} papers")
    missing = [raw for raw in paper_ids if catalog.canonical_id(raw) not in removed]
    if missing:
        click.echo(f"not found: {' '.join(missing)}", err=True)


@click.command("stats")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_obj
def stats_command(app, as_json) -> None:
    """Count stored papers and signals, and show recent ingest runs."""
    stats = catalog.stats(app.services().engine)
    if as_json:
        click.echo(json.dumps(stats, indent=2))
        return
    click.echo(f"papers: {stats['papers']}")
    click.echo(f"signals: {stats['signals']}")
    for source, count in sorted(stats["papers_by_source"].items()):
        click.echo(f"  {source}: {count}")
    if stats["newest_published_at"]:
        click.echo(f"newest paper published: {stats['newest_published_at'][:10]}")


@click.command("config")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_obj
def config_command(app, as_json) -> None:
    """Show every setting's value and where it came from (flag, environment, file, default)."""
    settings = app.settings()
    rows = {
        s.name: {"value": str(getattr(settings, s.name)), "from": settings.origins[s.name]}
        for s in SETTINGS
    }
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for name, row in rows.items():
        click.echo(f"{name} = {row['value']}  ({row['from']})")
