"""Composition root: build(settings) wires the database, clock and HTTP clients together.

The CLI, the web app and (later) workers call build() once and pass the Services down; no other
module reads settings or opens the database on its own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa

from paperfeed.config import Settings
from paperfeed.ingest.http import PoliteClient
from paperfeed.ingest.run import now_utc
from paperfeed.mail.backends import backend_from_settings
from paperfeed.mail.message import MailBackend
from paperfeed.search.service import SearchService
from paperfeed.storage.db import connect, ensure_schema
from paperfeed.trending.service import trending

if TYPE_CHECKING:
    from paperfeed.digest.send import Sender


@dataclass
class Services:
    settings: Settings
    engine: sa.Engine
    clock: Callable[[], datetime] = now_utc
    _search: SearchService | None = None
    _mail: MailBackend | None = None

    def search(self, *, model: str | None = None) -> SearchService:
        """The search service of this database (one per process: it holds the indexes)."""
        if model is not None and model != self.settings.embedding_model:
            return self._new_search(model)
        if self._search is None:
            self._search = self._new_search(self.settings.embedding_model)
        return self._search

    def _new_search(self, model: str) -> SearchService:
        return SearchService(
            self.engine,
            index_dir=self.settings.index_dir,
            model=model,
            ef_search=self.settings.hnsw_ef_search,
            refresh_s=self.settings.search_refresh_s,
        )

    def trending(self, **options) -> dict:
        """The trending list as of this clock's now, with the configured half-life."""
        hours = self.settings.trending_half_life_h
        half_life = timedelta(hours=hours) if hours else None
        return trending(self.engine, now=self.clock(), half_life=half_life, **options)

    def http_client(self, min_interval_s: float) -> PoliteClient:
        return PoliteClient(
            min_interval_s=min_interval_s,
            timeout_s=self.settings.http_timeout_s,
            max_retries=self.settings.http_max_retries,
        )

    def mail_backend(self) -> MailBackend:
        if self._mail is None:
            self._mail = backend_from_settings(self.settings)
        return self._mail

    def digest_sender(self) -> Sender:
        """How digests leave this process: the mail backend, the site's links, the model."""
        from paperfeed.digest.send import Sender  # digests load only where they are sent

        hours = self.settings.trending_half_life_h
        return Sender(
            backend=self.mail_backend(),
            sender=self.settings.mail_from,
            public_url=self.settings.public_url,
            clock=self.clock,
            model=self.settings.embedding_model,
            skip_quiet_days=self.settings.digest_skip_quiet_days,
            half_life=timedelta(hours=hours) if hours else None,
        )

    def close(self) -> None:
        if self._mail is not None:
            self._mail.close()
        self.engine.dispose()


def build(settings: Settings, *, check_schema: bool = True) -> Services:
    """Open the database; SQLite migrates itself, PostgreSQL must already be current."""
    logging.getLogger("paperfeed").setLevel(settings.log_level.upper())
    engine = connect(settings.database_url, pool_size=settings.database_pool_size)
    if check_schema:
        ensure_schema(engine, auto_migrate=engine.dialect.name == "sqlite")
    return Services(settings=settings, engine=engine)
