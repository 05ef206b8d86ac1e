"""Progress display: plain log lines off a terminal, with count, rate and ETA."""

from __future__ import annotations

from paperfeed.cli import progress
from paperfeed.cli.progress import ProgressDisplay
from paperfeed.ingest.run import Progress
from paperfeed.models import IngestReport


def test_off_a_terminal_progress_is_a_line_with_count_total_rate_and_eta(capsys, monkeypatch):
    monkeypatch.setattr(progress, "LOG_EVERY_S", 0.0)
    display = ProgressDisplay("ingest jsonl", is_terminal=False)
    display(Progress(500, 2000, IngestReport(run_id=1, source="jsonl")))
    line = capsys.readouterr().err.strip()
    assert line.startswith("ingest jsonl: 500/2000 records rate=")
    assert " eta=" in line


def test_on_a_terminal_progress_is_a_bar_that_starts_where_a_resumed_run_stands(capsys):
    display = ProgressDisplay("ingest jsonl", is_terminal=True)
    display(Progress(1500, 2000, IngestReport(run_id=1, source="jsonl")))
    display.close()
    bar = capsys.readouterr().err
    assert "1500/2000" in bar and "75%" in bar
