"""`paperfeed trending`: what is trending now or on a past day, and taking the daily snapshot."""

from __future__ import annotations

import json
from datetime import timedelta

import click

from paperfeed.trending.score import WINDOWS
from paperfeed.trending.service import MAX_LIMIT


@click.group("trending", invoke_without_command=True)
@click.option("--window", type=click.Choice(list(WINDOWS)), default="day", show_default=True)
@click.option("--category", help="Only papers listed in this category, e.g. cs.CL.")
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), help="A past day's frozen list.")
@click.option("--limit", type=click.IntRange(1, MAX_LIMIT), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
@click.pass_context
def trending_group(ctx, window, category, day, limit, as_json) -> None:
    """Show trending papers: ranked by fresh engagement, each with why it is there."""
    if ctx.invoked_subcommand is not None:
        return
    listing = ctx.obj.services().trending(
        window=window, category=category, day=day.date() if day else None, limit=limit
    )
    if as_json:
        click.echo(json.dumps(listing, indent=2, ensure_ascii=False))
        return
    if listing["note"]:
        click.echo(click.style(listing["note"], fg="yellow"), err=True)
    for position, paper in enumerate(listing["papers"], start=1):
        click.echo(f"{position:>3}. {click.style(paper['title'], bold=True)}")
        facts = [paper["id"], (paper["published_at"] or "")[:10], " ".join(paper["categories"][:3])]
        click.echo("     " + " · ".join(f for f in facts if f))
        if "trending" in paper:
            click.echo("     " + "; ".join(paper["trending"]["why"]))


@trending_group.command("snapshot")
@click.option(
    "--date",
    "day",
    type=click.DateTime(["%Y-%m-%d"]),
    help="The day to freeze [default: yesterday, UTC].",
)
@click.option("--category", "categories", multiple=True, help="Also these categories (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary.")
@click.pass_obj
def trending_snapshot(app, day, categories, as_json) -> None:
    """Freeze a past day's trending lists (every window); idempotent, cron-friendly."""
    services = app.services()
    target = day.date() if day else (services.clock() - timedelta(days=1)).date()
    summary = []
    for category in ("", *categories):
        for window in WINDOWS:
            listing = services.trending(window=window, category=category, day=target, limit=100)
            summary.append(
                {
                    "day": listing["day"],
                    "window": window,
                    "category": category or None,
                    "basis": listing["basis"],
                    "papers": len(listing["papers"]),
                }
            )
    if as_json:
        click.echo(json.dumps(summary, indent=2))
        return
    for row in summary:
        where = row["category"] or "all categories"
        click.echo(
            f"{row['day']} {row['window']:<5} {where}: {row['papers']} papers ({row['basis']})"
        )
