"""`paperfeed index`, `paperfeed search` and `paperfeed similar`."""

from __future__ import annotations

import json
import sys
from datetime import UTC, timedelta

import click

from paperfeed import catalog
from paperfeed.cli.progress import ProgressDisplay
from paperfeed.errors import InvalidInput
from paperfeed.search.indexing import update_search_indexes
from paperfeed.search.service import MAX_LIMIT, MODES, SearchResponse
from paperfeed.search.snippets import render_brackets

_DAY = click.DateTime(formats=["%Y-%m-%d"])


@click.command("index")
@click.option("--model", help="Embedding model (name, folder or `fast`) [setting embedding_model].")
@click.option("--limit", type=click.IntRange(min=1), help="Embed at most this many papers.")
@click.option(
    "--rebuild",
    is_flag=True,
    help="Rebuild the keyword and vector indexes first, and check every paper for a vector.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_obj
def index_command(app, model, limit, rebuild, as_json) -> None:
    """Embed new and changed papers and bring the search indexes up to date."""
    services = app.services()
    search = services.search(model=model)
    display = ProgressDisplay(f"embedding ({search.model})", unit="papers")
    try:
        report = update_search_indexes(
            search,
            clock=services.clock,
            batch_size=services.settings.embed_batch_size,
            limit=limit,
            rebuild=rebuild,
            on_progress=display,
            echo=_err,
        )
    finally:
        display.close()
    summary = report.as_dict() | {
        "keyword_index_papers": search.keyword_index().doc_count,
        "vector_index_papers": search.vector_index().size,
    }
    if as_json:
        click.echo(json.dumps(summary, indent=2))
        return
    click.echo(
        f"embedded {report.embedded} papers in {report.seconds:.1f} s "
        f"({report.rate:.1f} papers/s; the model alone {report.encode_rate:.1f}/s), "
        f"{report.unchanged} unchanged"
    )
    click.echo(
        f"keyword index: {summary['keyword_index_papers']} papers; "
        f"vector index ({search.model}): {summary['vector_index_papers']} papers"
    )


@click.command("search")
@click.argument("query", required=False)
@click.option("--mode", type=click.Choice(MODES), default="hybrid", show_default=True)
@click.option("--limit", type=click.IntRange(1, MAX_LIMIT), default=10, show_default=True)
@click.option("--offset", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--category", "categories", multiple=True, help="Only this category (repeatable).")
@click.option("--since", type=_DAY, help="Published on or after this day (YYYY-MM-DD).")
@click.option("--until", type=_DAY, help="Published on or before this day (YYYY-MM-DD).")
@click.option(
    "--sort", type=click.Choice(["relevance", "date"]), default="relevance", show_default=True
)
@click.option("--model", help="Embedding model to search with [setting embedding_model].")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array of results.")
@click.option(
    "--batch",
    type=click.File("r", encoding="utf-8", errors="replace"),
    help='Read JSON lines {"id", "query"} ("-" for stdin); print one JSON line per query.',
)
@click.pass_obj
def search_command(
    app,
    query,
    mode,
    limit,
    offset,
    categories,
    since,
    until,
    sort,
    model,
    as_json,
    batch,
) -> None:
    """Search papers: words, "phrases", prefix*, -exclusions, author:NAME, category:CAT."""
    if (query is None) == (batch is None):
        raise InvalidInput("give a QUERY or --batch FILE (not both)")
    search = app.services().search(model=model)
    options = {
        "mode": mode,
        "limit": limit,
        "offset": offset,
        "categories": categories,
        "since": since.replace(tzinfo=UTC) if since else None,
        "until": until.replace(tzinfo=UTC) + timedelta(days=1) if until else None,
        "sort": sort,
    }
    if batch is not None:
        _run_batch(search, batch, options)
        return
    response = search.search(query, **options)
    if as_json:
        for notice in response.notices:
            click.echo(f"note: {notice}", err=True)
        click.echo(json.dumps(response.results, indent=2, ensure_ascii=False))
        return
    _print_response(response, offset)


def _run_batch(search, lines, options: dict) -> None:
    """One JSON line out per line in; a bad line gets {"id", "error"} and the batch goes on."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            if not isinstance(item, dict) or not isinstance(item.get("query"), str):
                raise ValueError('expected an object with a "query" string')
        except ValueError as exc:
            out = {"id": None, "line": number, "error": f"line {number}: {exc}"}
        else:
            response = search.search(item["query"], **options)
            out = {"id": item.get("id"), "results": response.results}
            if response.notices:
                out["notices"] = response.notices
        sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")


@click.command("similar")
@click.argument("paper_ids", nargs=-1)
@click.option("--text", help="Find papers similar to this text (an abstract draft, say).")
@click.option("--limit", type=click.IntRange(1, MAX_LIMIT), default=10, show_default=True)
@click.option("--model", help="Embedding model [setting embedding_model].")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array of results.")
@click.pass_obj
def similar_command(app, paper_ids, text, limit, model, as_json) -> None:
    """Papers similar to one or more papers (a reading list), or to --text."""
    search = app.services().search(model=model)
    ids = [catalog.canonical_id(raw) for raw in paper_ids]
    response = search.similar(ids, text=text, limit=limit)
    if as_json:
        for notice in response.notices:
            click.echo(f"note: {notice}", err=True)
        click.echo(json.dumps(response.results, indent=2, ensure_ascii=False))
        return
    _print_response(response, 0)


def _print_response(response: SearchResponse, offset: int) -> None:
    for notice in response.notices:
        click.echo(click.style(f"note: {notice}", fg="yellow"))
    if not response.results:
        click.echo("no papers found")
        return
    for number, result in enumerate(response.results, start=offset + 1):
        day = (result["published_at"] or "")[:10]
        click.echo(click.style(f"{number}. {result['title']}", bold=True))
        authors = ", ".join(result["authors"][:4]) + (
            " et al." if len(result["authors"]) > 4 else ""
        )
        facts = [result["id"], day, " ".join(result["categories"][:3]), authors]
        click.echo("   " + " · ".join(fact for fact in facts if fact))
        if result.get("snippet"):
            click.echo(f"   {render_brackets(result['snippet'])}")
        click.echo(f"   {_why(result['why'])}")
    click.echo(f"({len(response.results)} results, {response.mode}, {response.took_ms:.0f} ms)")


def _why(why: dict) -> str:
    if "near" in why:
        return "near " + ", ".join(f"{seed} (#{rank})" for seed, rank in why["near"].items())
    parts = []
    if why.get("pinned"):
        parts.append(f"pinned: {why['pinned']}")
    for name in ("keyword", "semantic"):
        rank = why.get(f"{name}_rank")
        if rank is not None:
            parts.append(f"{name} #{rank}")
    return "why: " + (" · ".join(parts) or "matches the filters")


def _err(message: str) -> None:
    click.echo(message, err=True)
