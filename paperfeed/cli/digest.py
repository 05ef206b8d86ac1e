"""`paperfeed subscribers …` and `paperfeed digest …`: manage subscribers, preview and send."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import click

from paperfeed.digest import subscriptions
from paperfeed.errors import InvalidInput


@click.group("subscribers")
def subscribers_group() -> None:
    """Digest subscribers: add, list, show and remove them, their votes, follows and mutes
    (admins; no mail is sent)."""


@subscribers_group.command("add")
@click.argument("email")
@click.option(
    "--topics", help="Comma-separated categories and keywords, e.g. 'cs.CL, speech recognition'."
)
@click.option("--categories", help="Comma-separated categories, e.g. cs.CL,cs.LG.")
@click.option("--keywords", help="Comma-separated keywords or phrases.")
@click.option("--authors", help="Comma-separated authors to follow (always picked).")
@click.option("--exclude", help="Comma-separated terms; papers mentioning one are left out.")
@click.option("--exclude-authors", help="Comma-separated authors whose papers are left out.")
@click.option("--exclude-categories", help="Comma-separated categories left out (math: all).")
@click.option("--frequency", type=click.Choice(subscriptions.FREQUENCIES), default="daily")
@click.option("--send-hour", type=click.IntRange(0, 23), default=7, show_default=True)
@click.option("--time-zone", default="UTC", show_default=True, help="e.g. Europe/Paris.")
@click.option("--papers", "paper_count", type=click.IntRange(1, 50), default=10, show_default=True)
@click.option("--confirmed", is_flag=True, help="Skip the double opt-in (you asked them).")
@click.pass_obj
def subscribers_add(app, email, confirmed, topics, **form) -> None:
    """Add or update a subscriber (no mail is sent; without --confirmed they stay pending and
    get nothing until they subscribe and confirm themselves)."""
    services = app.services()
    for key, terms in subscriptions.split_topics(topics).items():
        form[key] = ",".join(filter(None, [form.get(key) or "", *terms]))
    preferences = subscriptions.preferences_from(form)
    found = subscriptions.add(
        services.engine, email, preferences, confirmed=confirmed, now=services.clock()
    )
    click.echo(f"{found['email']}: {found['status']}")


@subscribers_group.command("list")
@click.option("--status", type=click.Choice(["pending", "confirmed", "unsubscribed"]))
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def subscribers_list(app, status, as_json) -> None:
    """List subscribers with their status and topics."""
    from paperfeed.storage import subscribers as store

    with app.services().engine.connect() as conn:
        rows = store.listing(conn, status)
    shown = [
        {
            "email": r["email"],
            "status": "suppressed" if r["suppressed_at"] else r["status"],
            "frequency": r["frequency"],
            "send_hour": r["send_hour"],
            "time_zone": r["time_zone"],
            "papers": r["paper_count"],
            "topics": r["topics"],
            "created_at": r["created_at"].isoformat(),
        }
        for r in rows
    ]
    if as_json:
        click.echo(json.dumps(shown, indent=2, ensure_ascii=False))
        return
    for row in shown:
        topics = row["topics"]
        about = ", ".join(topics.get("categories", []) + topics.get("keywords", [])) or "trending"
        click.echo(
            f"{row['email']}  {row['status']}  {row['frequency']} {row['send_hour']:02d}:00 "
            f"{row['time_zone']}  {row['papers']} papers  {about}"
        )


@subscribers_group.command("remove")
@click.argument("email")
@click.pass_obj
def subscribers_remove(app, email) -> None:
    """Delete a subscriber and their delivery history."""
    subscriptions.remove(app.services().engine, email)
    click.echo(f"removed {email}")


@click.group("digest")
def digest_group() -> None:
    """The daily and weekly email digest: preview, send, and feed in bounces."""


def _day(services, day):
    return day.date() if day else (services.clock() - timedelta(days=1)).date()


@digest_group.command("preview")
@click.argument("email")
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), help="[default: yesterday]")
@click.option("--out", type=click.Path(dir_okay=False), help="Write the .eml here.")
@click.pass_obj
def digest_preview(app, email, day, out) -> None:
    """Write the digest EMAIL would get for a day as an .eml (nothing is sent or recorded)."""
    from paperfeed.digest.send import preview

    services = app.services()
    target = _day(services, day)
    digest, message = preview(services.engine, services.digest_sender(), email, target)
    path = Path(out or f"digest-{target}-{email.split('@')[0]}.eml")
    path.write_bytes(message.as_bytes())
    papers = sum(len(s["papers"]) for s in digest["sections"])
    click.echo(f"wrote {path} ({papers} papers)")
    for line in digest["health"]:
        click.echo(click.style(line, fg="yellow"), err=True)


@digest_group.command("send")
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), help="[default: yesterday]")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary.")
@click.pass_obj
def digest_send(app, day, as_json) -> None:
    """Send a day's edition to every due subscriber; idempotent, resumable, cron-friendly."""
    from paperfeed.digest.send import send_edition

    services = app.services()
    summary = send_edition(services.engine, services.digest_sender(), _day(services, day))
    if as_json:
        click.echo(json.dumps(summary.as_dict(), indent=2))
        return
    click.echo(
        f"{summary.day}: sent {summary.sent}, skipped {summary.skipped}, "
        f"failed {summary.failed}, bounced {summary.bounced}, retrying {summary.retrying}"
    )
    for note in summary.notes:
        click.echo(note)


@digest_group.command("bounces")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False), required=True)
@click.pass_obj
def digest_bounces(app, files) -> None:
    """Read bounce reports (RFC 3464 .eml files) and suppress hard-bounced addresses."""
    from paperfeed.digest.bounces import apply_bounce_report

    services = app.services()
    for name in files:
        try:
            data = Path(name).read_bytes()
            outcome = apply_bounce_report(services.engine, data, services.clock())
        except InvalidInput as exc:
            click.echo(f"{name}: {exc}", err=True)
            continue
        click.echo(f"{name}: suppressed {', '.join(outcome['suppressed']) or 'nobody'}")
