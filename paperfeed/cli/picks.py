"""`paperfeed picks`: what a subscriber's next digest would pick, or a batch of readers ranked
(both through picks.model.rank_picks, the function the digest calls)."""

from __future__ import annotations

import json
import sys
from datetime import timedelta

import click

from paperfeed import catalog
from paperfeed.errors import InvalidInput, PaperfeedError


@click.command("picks")
@click.argument("email", required=False)
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), help="[default: yesterday]")
@click.option("--json", "as_json", is_flag=True, help="Print the picks as a JSON array.")
@click.option(
    "--batch",
    type=click.File("r", encoding="utf-8", errors="replace"),
    help='Read JSON lines {"id", "library", "liked", "disliked", "topics", "candidates"} '
    '("-" for stdin); print one JSON line {"id", "results"} per line.',
)
@click.option("--limit", type=click.IntRange(min=1), help="With --batch: at most N results each.")
@click.pass_obj
def picks_command(app, email, day, as_json, batch, limit) -> None:
    """Personal picks with their reasons: EMAIL's next digest, or --batch FILE."""
    if (email is None) == (batch is None):
        raise InvalidInput("give an EMAIL or --batch FILE (not both)")
    services = app.services()
    if batch is not None:
        _run_batch(services, batch, limit)
        return
    from paperfeed.digest.send import preview

    target = day.date() if day else (services.clock() - timedelta(days=1)).date()
    digest, _ = preview(services.engine, services.digest_sender(), email, target)
    picked = [p for s in digest["sections"] if s["title"] == "Picked for you" for p in s["papers"]]
    if as_json:
        rows = [{"id": p["id"], "title": p["title"], "why": p["reason"]} for p in picked]
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    for line in digest["health"]:
        click.echo(click.style(line, fg="yellow"), err=True)
    if not picked:
        click.echo(f"no picks for {email} on {target} (no topics, library or 👍 yet?)")
    for number, paper in enumerate(picked, start=1):
        click.echo(click.style(f"{number}. {paper['title']}", bold=True))
        click.echo(f"   {paper['id']} · {paper['reason']}")


def _run_batch(services, lines, limit) -> None:
    """Every line is read first, so one shelf serves the whole batch (models load once)."""
    from paperfeed.picks.batch import Answer, parse_request, rank_requests

    requests, answers = [], {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            requests.append(parse_request(json.loads(line), catalog.canonical_id, number))
        except (ValueError, PaperfeedError) as exc:
            answers[number] = Answer(None, error=f"line {number}: {exc}", line=number)
    model = services.settings.embedding_model
    ranked = rank_requests(services.engine, model, requests, limit=limit) if requests else []
    for answer in ranked:
        answers[answer.line] = answer
    for number in sorted(answers):
        sys.stdout.write(json.dumps(answers[number].as_dict(), ensure_ascii=False) + "\n")
