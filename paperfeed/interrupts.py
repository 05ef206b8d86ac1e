"""Hold Ctrl-C and SIGTERM while a short transaction finishes.

A KeyboardInterrupt raised inside a write transaction can leave the connection holding SQLite's
write lock until the process exits, so the code that runs next (an ingest recording its run as
interrupted) cannot write. Inside `interrupts_deferred()` the first signal is noted and delivered
as soon as the block ends. Another one soon after is the same request from a second sender
(systemd signals every process of a service, and a stopping worker signals its job as well; a
terminal's Ctrl-C reaches both too) and is absorbed; one that comes after INSIST_AFTER_S is
someone insisting, and stops a stuck block at once.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
INSIST_AFTER_S = 3.0


@contextmanager
def interrupts_deferred() -> Iterator[None]:
    # Only the main thread receives signals (and may set handlers); elsewhere there is
    # nothing to hold.
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[tuple[int, float]] = []
    previous: dict[int, Any] = {}

    def hold(signum: int, frame: FrameType | None) -> None:
        now = time.monotonic()
        if not held:
            held.append((signum, now))
        elif now - held[0][1] >= INSIST_AFTER_S:
            held.clear()  # delivered here, not again when the block ends
            _restore(previous)
            signal.raise_signal(signum)

    for signum in STOP_SIGNALS:
        # Only Python handlers are held; a signal that is ignored, or kills the process by
        # default, keeps doing that.
        if callable(signal.getsignal(signum)):
            previous[signum] = signal.signal(signum, hold)
    try:
        yield
    finally:
        _restore(previous)
        if held:
            signal.raise_signal(held[0][0])


def _restore(previous: dict[int, Any]) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, handler)
    previous.clear()
