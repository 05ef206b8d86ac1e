"""Progress display for long runs: a bar on a terminal, a plain line every few seconds otherwise."""

from __future__ import annotations

import sys
import time
from typing import Protocol

import click
from tqdm import tqdm


class Progress(Protocol):
    """What a long run reports: records handled so far of an estimated total, and counters.
    Read-only, so that frozen dataclasses (ingest's and indexing's progress) fit too."""

    @property
    def records(self) -> int: ...

    @property
    def total(self) -> int | None: ...

    def postfix(self) -> dict[str, int]: ...


LOG_EVERY_S = 10.0


class ProgressDisplay:
    def __init__(
        self, label: str, *, unit: str = "records", is_terminal: bool | None = None
    ) -> None:
        self.label = label
        self.unit = unit
        self.is_terminal = sys.stderr.isatty() if is_terminal is None else is_terminal
        self._bar: tqdm | None = None
        self._started = time.monotonic()
        self._last_line = self._started

    def __call__(self, progress: Progress) -> None:
        if self.is_terminal:
            self._update_bar(progress)
        else:
            self._maybe_log(progress)

    def _update_bar(self, progress: Progress) -> None:
        if self._bar is None:
            self._bar = tqdm(
                desc=self.label,
                unit=" " + self.unit,
                total=progress.total,
                file=sys.stderr,
                dynamic_ncols=True,
            )
        if progress.total and self._bar.total != progress.total:
            self._bar.total = progress.total
        self._bar.update(progress.records - self._bar.n)
        self._bar.set_postfix(progress.postfix(), refresh=False)

    def _maybe_log(self, progress: Progress) -> None:
        now = time.monotonic()
        if now - self._last_line < LOG_EVERY_S:
            return
        self._last_line = now
        rate = progress.records / max(now - self._started, 1e-9)
        total = f"/{progress.total}" if progress.total else ""
        eta = ""
        if progress.total and rate > 0:
            eta = f" eta={max(progress.total - progress.records, 0) / rate:.0f}s"
        click.echo(
            f"{self.label}: {progress.records}{total} {self.unit} rate={rate:.0f}/s{eta}", err=True
        )

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
