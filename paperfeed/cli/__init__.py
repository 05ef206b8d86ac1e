"""The `paperfeed` command line: `paperfeed <noun> <verb>`, thin over the domain functions.

This package is the only place that prints. Each command parses its flags, calls one domain
function and formats the result. User errors (PaperfeedError) print one line and exit 1.
"""

from __future__ import annotations

import logging
import signal
import sys

import click

from paperfeed import __version__
from paperfeed.cli.context import AppContext
from paperfeed.cli.db import db_group
from paperfeed.cli.digest import digest_group, subscribers_group
from paperfeed.cli.ingest import ingest_group
from paperfeed.cli.papers import config_command, papers_group, stats_command
from paperfeed.cli.picks import picks_command
from paperfeed.cli.profile import subscribers_show  # noqa: F401 - registers the commands
from paperfeed.cli.search import index_command, search_command, similar_command
from paperfeed.cli.serve import demo_command, serve_command
from paperfeed.cli.trending import trending_group
from paperfeed.cli.worker import status_command, worker_command
from paperfeed.errors import PaperfeedError


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="paperfeed")
@click.option("--home", type=click.Path(), help="Data directory [env PAPERFEED_HOME].")
@click.option("--database-url", help="Database URL [env PAPERFEED_DATABASE_URL].")
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    help="TOML settings file [env PAPERFEED_CONFIG; default HOME/paperfeed.toml].",
)
@click.option("--log-level", help="DEBUG, INFO, WARNING or ERROR [env PAPERFEED_LOG_LEVEL].")
@click.pass_context
def cli(ctx: click.Context, home, database_url, config_file, log_level) -> None:
    """paperfeed: discover research papers — ingest, search, trending, digests."""
    ctx.obj = AppContext(
        {"home": home, "database_url": database_url, "log_level": log_level}, config_file
    )


cli.add_command(db_group)
cli.add_command(ingest_group)
cli.add_command(papers_group)
cli.add_command(index_command)
cli.add_command(search_command)
cli.add_command(similar_command)
cli.add_command(trending_group)
cli.add_command(stats_command)
cli.add_command(config_command)
cli.add_command(serve_command)
cli.add_command(demo_command)
cli.add_command(subscribers_group)
cli.add_command(digest_group)
cli.add_command(picks_command)
cli.add_command(worker_command)
cli.add_command(status_command)


class Terminated(KeyboardInterrupt):
    """SIGTERM (systemd, kill, a supervisor): a command stops as Ctrl-C stops it, e.g. an ingest
    records its run as interrupted, to be resumed, instead of vanishing mid-batch."""


def _terminate(_signum: int, _frame: object) -> None:
    raise Terminated


def main() -> None:
    # `serve` and `worker` put their own handlers in place of this one.
    signal.signal(signal.SIGTERM, _terminate)
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )
    # bibtexparser warns about each broken entry; our own report already names it once.
    logging.getLogger("bibtexparser").setLevel(logging.ERROR)
    try:
        cli.main(standalone_mode=False)
    except Terminated:
        click.echo("terminated", err=True)
        sys.exit(143)
    except click.exceptions.Abort as exc:  # click's name for a KeyboardInterrupt
        if isinstance(exc.__cause__, Terminated):
            click.echo("terminated", err=True)
            sys.exit(143)
        click.echo("aborted", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except PaperfeedError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:  # a bug, or a failure nothing anticipated: still one line
        logging.getLogger("paperfeed.cli").debug("unexpected error", exc_info=True)
        click.echo(
            f"error: unexpected {type(exc).__name__}: {exc} "
            "(run with --log-level DEBUG for the traceback)",
            err=True,
        )
        sys.exit(2)
