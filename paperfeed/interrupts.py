"""Hold Ctrl-C and SIGTERM while a short transaction finishes.

A KeyboardInterrupt raised inside a write transaction can leave the connection holding SQLite's
write lock until the process exits, so the code that runs next (an ingest recording its run as
interrupted) cannot write. Inside `interrupts_deferred()` the first signal is noted and delivered
as soon as the block ends; the same signal again takes effect at once, so a stuck block can
still be stopped.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def interrupts_deferred() -> Iterator[None]:
    # Only the main thread receives signals (and may set handlers); elsewhere there is
    # nothing to hold.
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []
    previous: dict[int, Any] = {}

    def hold(signum: int, frame: FrameType | None) -> None:
        # The same signal twice is someone insisting. Two different ones are usually two
        # senders of one request: Ctrl-C at a terminal reaches a worker's job directly, and
        # the worker then sends it SIGTERM.
        if signum in held:
            _restore(previous)
            signal.raise_signal(signum)
            return
        held.append(signum)

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
            signal.raise_signal(held[0])


def _restore(previous: dict[int, Any]) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, handler)
    previous.clear()
