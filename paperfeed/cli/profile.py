"""`paperfeed subscribers show|unvote|follow|mute`: what a subscriber taught their picks.

The same use cases as the preferences page (digest/profile.py), for an admin at the terminal.
"""

from __future__ import annotations

import json

import click

from paperfeed.cli.digest import subscribers_group
from paperfeed.digest import profile, subscriptions

KIND_FLAGS = {"keyword": "muted keyword", "author": "muted author", "category": "muted category"}


@subscribers_group.command("show")
@click.argument("email")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def subscribers_show(app, email, as_json) -> None:
    """One subscriber: status, preferences, followed and muted, and every 👍/👎 vote."""
    engine = app.services().engine
    found = profile.find(engine, email)
    topics = {**subscriptions.DEFAULTS["topics"], **found["topics"]}
    votes = profile.votes_of(engine, found["id"])
    shown = {
        "email": found["email"],
        "status": "suppressed" if found["suppressed_at"] else found["status"],
        "frequency": found["frequency"],
        "send_hour": found["send_hour"],
        "time_zone": found["time_zone"],
        "papers": found["paper_count"],
        "topics": topics,
        "votes": [
            {
                "paper_id": v["paper_id"],
                "title": v["title"],
                "vote": "up" if v["up"] else "down",
                "voted_at": v["voted_at"].isoformat(),
            }
            for v in votes
        ],
    }
    if as_json:
        click.echo(json.dumps(shown, indent=2, ensure_ascii=False))
        return
    click.echo(f"{shown['email']}  {shown['status']}")
    click.echo(
        f"  {shown['frequency']} at {shown['send_hour']:02d}:00 {shown['time_zone']}, "
        f"{shown['papers']} papers"
    )
    rows = [
        ("categories", topics["categories"]),
        ("keywords", topics["keywords"]),
        ("follows", topics["authors"]),
        ("muted keywords", topics["exclude"]),
        ("muted authors", topics["exclude_authors"]),
        ("muted categories", topics["exclude_categories"]),
    ]
    for label, values in rows:
        click.echo(f"  {label}: {', '.join(values) or '-'}")
    click.echo(f"  library: {'yes' if topics['library'] else 'no'}")
    click.echo(f"  votes ({len(votes)}):")
    for vote in shown["votes"]:
        mark = "👍" if vote["vote"] == "up" else "👎"
        click.echo(f"    {mark} {vote['paper_id']}  {vote['title']}  ({vote['voted_at'][:10]})")


@subscribers_group.command("unvote")
@click.argument("email")
@click.argument("paper_ids", nargs=-1)
@click.option("--all", "everything", is_flag=True, help="Forget every vote (reset the profile).")
@click.pass_obj
def subscribers_unvote(app, email, paper_ids, everything) -> None:
    """Take back a subscriber's votes on PAPER_IDS, or all of them with --all."""
    if bool(paper_ids) == everything:
        raise click.UsageError("give paper ids or --all, not both")
    engine = app.services().engine
    found = profile.find(engine, email)
    if everything:
        taken = profile.reset_votes(engine, found["id"])
    else:
        taken = profile.undo_votes(engine, found["id"], list(paper_ids))
    click.echo(f"{found['email']}: {taken} vote{'s' * (taken != 1)} taken back")


@subscribers_group.command("follow")
@click.argument("email")
@click.argument("author")
@click.option("--undo", is_flag=True, help="Stop following.")
@click.pass_obj
def subscribers_follow(app, email, author, undo) -> None:
    """Follow AUTHOR for a subscriber: their new papers are always picked."""
    engine = app.services().engine
    found = profile.find(engine, email)
    topics = profile.change_list(engine, found["id"], "author", author, remove=undo)
    click.echo(f"{found['email']} follows: {', '.join(topics['authors']) or '-'}")


@subscribers_group.command("mute")
@click.argument("email")
@click.argument("term")
@click.option(
    "--as",
    "kind",
    type=click.Choice(list(KIND_FLAGS)),
    default="keyword",
    show_default=True,
    help="What TERM is: a keyword, an author's name or a category (cs.CV, or math for all).",
)
@click.option("--undo", is_flag=True, help="Unmute.")
@click.pass_obj
def subscribers_mute(app, email, term, kind, undo) -> None:
    """Mute TERM for a subscriber: such papers leave every section of their digest."""
    engine = app.services().engine
    found = profile.find(engine, email)
    topics = profile.change_list(engine, found["id"], KIND_FLAGS[kind], term, remove=undo)
    key, label = profile.LISTS[KIND_FLAGS[kind]]
    click.echo(f"{found['email']} {label}: {', '.join(topics[key]) or '-'}")
