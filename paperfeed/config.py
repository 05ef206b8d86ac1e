"""The settings table, and loading it once from flags > environment > TOML file > defaults.

Each setting has one name everywhere: `http_timeout_s` here and in the TOML file,
`PAPERFEED_HTTP_TIMEOUT_S` in the environment, `--http-timeout-s` where a command takes it.
docs/configuration.md is checked against this table by the tests.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from paperfeed.errors import ConfigError


@dataclass(frozen=True, slots=True)
class Setting:
    name: str
    type: type
    default: Any  # a value, or a function of the settings loaded so far
    help: str
    check: Callable[[Any], str | None] | None = None  # returns a problem, or None

    @property
    def env_var(self) -> str:
        return "PAPERFEED_" + self.name.upper()


def _positive(value: float) -> str | None:
    return None if value > 0 else "must be greater than 0"


def _not_negative(value: float) -> str | None:
    return None if value >= 0 else "must be 0 or more"


def _port(value: int) -> str | None:
    return None if 0 < value < 65536 else "must be a TCP port (1-65535)"


def _http_url(value: str) -> str | None:
    return (
        None if value.startswith(("http://", "https://")) else "must start with http:// or https://"
    )


def _mail_url(value: str) -> str | None:
    schemes = ("smtp://", "smtps://", "file://", "console:")
    return None if value.startswith(schemes) else "must start with " + ", ".join(schemes)


def _default_home(_: Mapping[str, Any]) -> Path:
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "paperfeed"


def _default_database_url(values: Mapping[str, Any]) -> str:
    return f"sqlite:///{values['home'] / 'paperfeed.db'}"


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "home",
        Path,
        _default_home,
        "Data directory: the SQLite database, indexes and the config file live here.",
    ),
    Setting(
        "database_url",
        str,
        _default_database_url,
        "SQLAlchemy URL of the database: sqlite:///path or postgresql+psycopg://user@host/db.",
    ),
    Setting(
        "database_pool_size",
        int,
        5,
        "PostgreSQL connections each process keeps open, and as many more it may open under "
        "load: give the server a max_connections above 2 × this × the number of processes.",
        _positive,
    ),
    Setting("host", str, "127.0.0.1", "Address `paperfeed serve` listens on."),
    Setting("port", int, 8000, "Port `paperfeed serve` listens on.", _port),
    Setting(
        "log_level",
        str,
        "WARNING",
        "Logging level: DEBUG, INFO, WARNING or ERROR.",
        lambda v: (
            None
            if v.upper() in {"DEBUG", "INFO", "WARNING", "ERROR"}
            else "must be DEBUG, INFO, WARNING or ERROR"
        ),
    ),
    Setting(
        "ingest_batch_size",
        int,
        1000,
        "Papers written per transaction (and per checkpoint) during ingest.",
        _positive,
    ),
    Setting(
        "http_timeout_s",
        float,
        30.0,
        "Seconds to wait for an upstream server before a request counts as failed.",
        _positive,
    ),
    Setting(
        "http_max_retries",
        int,
        4,
        "Retries of a failed upstream request (429, 5xx, timeout) before giving up.",
        _not_negative,
    ),
    Setting(
        "arxiv_min_interval_s",
        float,
        3.0,
        "Least seconds between two requests to arXiv (arXiv asks for 3).",
        _not_negative,
    ),
    Setting(
        "hf_min_interval_s",
        float,
        1.0,
        "Least seconds between two requests to Hugging Face.",
        _not_negative,
    ),
    Setting(
        "index_dir",
        Path,
        lambda values: values["home"] / "index",
        "Folder of the search indexes (derived from the database; safe to delete).",
    ),
    Setting(
        "embedding_model",
        str,
        "all-MiniLM-L6-v2",
        "Embedding model: all-MiniLM-L6-v2 (bundled), `fast` (a static model distilled from "
        "it), or any sentence-transformers model name or folder.",
    ),
    Setting(
        "embed_batch_size",
        int,
        256,
        "Papers embedded per batch (and per transaction) by `paperfeed index`.",
        _positive,
    ),
    Setting(
        "hnsw_ef_search",
        int,
        512,
        "HNSW search breadth: higher finds more true nearest neighbours, a little slower.",
        _positive,
    ),
    Setting(
        "search_refresh_s",
        float,
        5.0,
        "How often a running server checks the database for papers to add to its indexes.",
        _not_negative,
    ),
    Setting(
        "trending_half_life_h",
        float,
        0.0,
        "Trending time decay: engagement counts half after this many hours; 0 means half "
        "the window (12 h for day, 3.5 days for week, 15 days for month).",
        _not_negative,
    ),
    Setting(
        "arxiv_oai_endpoint",
        str,
        "https://oaipmh.arxiv.org/oai",
        "arXiv OAI-PMH base URL (`ingest arxiv-oai --endpoint`).",
        _http_url,
    ),
    Setting(
        "arxiv_api_endpoint",
        str,
        "https://export.arxiv.org/api/query",
        "arXiv API query URL (`ingest arxiv-api --endpoint`).",
        _http_url,
    ),
    Setting(
        "arxiv_listing_endpoint",
        str,
        "https://rss.arxiv.org",
        "arXiv daily listing feeds base URL (`ingest arxiv-listing --endpoint`).",
        _http_url,
    ),
    Setting(
        "hf_endpoint",
        str,
        "https://huggingface.co",
        "Hugging Face base URL for /api/daily_papers (`ingest hf-daily --endpoint`).",
        _http_url,
    ),
    Setting(
        "public_url",
        str,
        lambda values: f"http://{values['host']}:{values['port']}",
        "The site's address as people reach it (https://papers.example.org): links in mail "
        "point here, never at whatever Host a request claims.",
        _http_url,
    ),
    Setting(
        "mail_url",
        str,
        lambda values: (values["home"] / "mail").absolute().as_uri(),
        "Where mail goes: smtp://user:password@host:port (STARTTLS; options in "
        "[mail.md](mail.md)), file:///folder (one .eml per message) or console: (printed).",
        _mail_url,
    ),
    Setting(
        "mail_from",
        str,
        "paperfeed <paperfeed@localhost>",
        "The From address of every mail paperfeed sends.",
    ),
    Setting(
        "mail_return_path",
        str,
        "",
        "Envelope sender of SMTP mail, where bounces go (bounces@papers.example.org); empty "
        "means the From address. A return_path= option in mail_url wins over it.",
    ),
    Setting(
        "dkim_domain",
        str,
        "",
        "DKIM signing domain (d=); signing is on when dkim_domain, dkim_selector and "
        "dkim_key_file are all set.",
    ),
    Setting(
        "dkim_selector",
        str,
        "",
        "DKIM selector (s=): the public key is published at `<selector>._domainkey.<domain>`.",
    ),
    Setting(
        "dkim_key_file",
        str,
        "",
        "PEM file of the RSA private key that signs outgoing mail (DKIM).",
    ),
    Setting(
        "mail_hourly_limit",
        int,
        100,
        "Most sign-in and confirmation mails visitors can trigger per hour, all together (a "
        "cap against a botnet filling strangers' inboxes); past it they get 429 and Retry-After.",
        _positive,
    ),
    Setting(
        "admin_emails",
        str,
        "",
        "Comma-separated addresses of admins: signed in, they can preview anyone's digest.",
    ),
    Setting(
        "worker_ingest",
        str,
        "hf-daily",
        "What `paperfeed worker` ingests each morning: `paperfeed ingest` arguments, several "
        "separated by `;` (e.g. `arxiv-listing cs.CL cs.LG; hf-daily`); empty for none.",
    ),
    Setting(
        "worker_ingest_hour",
        int,
        1,
        "UTC hour from which the worker runs the morning ingest and trending snapshot.",
        lambda v: None if 0 <= v <= 23 else "must be an hour, 0-23",
    ),
    Setting(
        "worker_index",
        bool,
        True,
        "After the morning ingest, the worker embeds the new papers (`paperfeed index`) for "
        "semantic search; turn off where another machine or cron runs `paperfeed index`.",
    ),
    Setting(
        "digest_skip_quiet_days",
        bool,
        True,
        "Send no daily digest for a day on which arXiv announced nothing (weekends, holidays).",
    ),
)

SETTINGS_BY_NAME = {s.name: s for s in SETTINGS}


class Settings:
    """Loaded settings, read as attributes: `settings.database_url`."""

    def __init__(self, values: dict[str, Any], origins: dict[str, str]) -> None:
        self._values = values
        self.origins = origins  # name -> "flag" | "environment" | "file" | "default"

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def as_dict(self) -> dict[str, Any]:
        return dict(self._values)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def load_settings(
    flags: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    config_file: Path | None = None,
) -> Settings:
    """Settings from flags > environment > TOML file > defaults, each checked."""
    flags = {k: v for k, v in (flags or {}).items() if v is not None}
    environ = os.environ if environ is None else environ
    unknown = set(flags) - set(SETTINGS_BY_NAME)
    if unknown:
        raise ConfigError(f"unknown setting(s): {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    file_values: dict[str, Any] | None = None
    for setting in SETTINGS:
        if setting.name in flags:
            raw, origin = flags[setting.name], "flag"
        elif setting.env_var in environ:
            raw, origin = environ[setting.env_var], "environment"
        else:
            if file_values is None:
                file_values = _read_file(config_file or _config_path(values, environ))
            if setting.name in file_values:
                raw, origin = file_values[setting.name], "file"
            else:
                default = setting.default
                raw = default(values) if callable(default) else default
                origin = "default"
        values[setting.name] = _coerce(setting, raw, origin)
        origins[setting.name] = origin
    return Settings(values, origins)


def _config_path(values: Mapping[str, Any], environ: Mapping[str, str]) -> Path | None:
    if "PAPERFEED_CONFIG" in environ:
        return Path(environ["PAPERFEED_CONFIG"])
    if "home" in values:
        return values["home"] / "paperfeed.toml"
    return None


def _read_file(path: Path | None) -> dict[str, Any]:
    if path is None or not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from exc
    unknown = set(data) - set(SETTINGS_BY_NAME)
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s): {', '.join(sorted(unknown))}")
    return data


def _coerce(setting: Setting, raw: Any, origin: str) -> Any:
    where = {"flag": "flag", "environment": setting.env_var, "file": "config file"}.get(
        origin, "default"
    )
    value: object  # of setting.type
    try:
        if setting.type is bool and isinstance(raw, str):
            lowered = raw.strip().lower()
            if lowered not in {"1", "0", "true", "false", "yes", "no", "on", "off"}:
                raise ValueError(raw)
            value = lowered in {"1", "true", "yes", "on"}
        elif setting.type is Path:
            value = Path(raw).expanduser()
        else:
            value = setting.type(raw)
    except (TypeError, ValueError):
        raise ConfigError(
            f"{setting.name} ({where}): {raw!r} is not a valid {setting.type.__name__}"
        ) from None
    problem = setting.check(value) if setting.check else None
    if problem:
        raise ConfigError(f"{setting.name} ({where}): {problem}")
    return value
