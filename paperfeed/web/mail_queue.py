"""Sending the mail that requests queue (mail/outbox.py), from the web process itself.

A response that queued mail carries `after_response`, which drains the outbox once the answer
has gone; while the app runs, it also drains every POLL_S seconds, so a retry after the mail
server comes back needs no new request and no worker. One drain at a time per process: with a
mail server that hangs, mail waits in the database and ties up one thread, never one per request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from paperfeed.mail import outbox
from paperfeed.services import Services

log = logging.getLogger(__name__)

POLL_S = 5.0  # one indexed read when nothing waits


class MailQueue:
    def __init__(self, services: Services) -> None:
        self.services = services
        self._draining = False
        self._again = False

    def after_response(self) -> BackgroundTask:
        return BackgroundTask(self.drain)

    async def drain(self) -> None:
        """Send what is due. A call while a drain runs makes that drain go round once more."""
        if self._draining:
            self._again = True
            return
        self._draining = True
        try:
            again = True
            while again:
                self._again = False
                drained = await run_in_threadpool(self._deliver)
                again = self._again or drained.more
        except Exception as exc:  # noqa: BLE001 - the database may be down; the poll retries
            first_line = (str(exc).splitlines() or [type(exc).__name__])[0]
            log.warning("mail queue not drained: %s", first_line[:200])
        finally:
            self._draining = False

    def _deliver(self) -> outbox.Drained:
        services = self.services
        return outbox.deliver(services.engine, services.mail_backend(), services.clock)

    @contextlib.asynccontextmanager
    async def polling(self) -> AsyncIterator[None]:
        """While the app runs (its lifespan), drain every POLL_S seconds."""

        async def poll() -> None:
            while True:
                await asyncio.sleep(POLL_S)
                await self.drain()

        task = asyncio.create_task(poll())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
