"""Run the web app under uvicorn; `paperfeed serve` and `paperfeed demo` call run_server.

One process, one event loop: uvloop and httptools when installed (they are dependencies; plain
asyncio and h11 otherwise). Before serving, a background thread loads the embedding model so
the first search does not wait for it, then freezes every object made so far out of the cyclic
garbage collector's way (see `_warm_up`). Measured in docs/benchmarks.md ("Web load").
"""

from __future__ import annotations

import gc
import logging
import threading

import uvicorn

from paperfeed.services import Services
from paperfeed.web.app import create_app

log = logging.getLogger(__name__)


def run_server(services: Services, host: str, port: int) -> None:
    config = uvicorn.Config(
        create_app(services),
        host=host,
        port=port,
        log_level="info",
        access_log=False,
        proxy_headers=True,
        server_header=False,
    )
    threading.Thread(target=_warm_up, args=(services,), name="warm-up", daemon=True).start()
    uvicorn.Server(config).run()


def _warm_up(services: Services) -> None:
    """Load the embedding model (torch and the model are ~450k Python objects), then
    gc.freeze(): full collections scanned all of them and paused the server 150-300 ms each,
    the p99 of every page under load. Frozen objects are never collected, which suits these:
    modules, the model and the app live as long as the process. With so little left unfrozen,
    the default thresholds ran a full collection every second under load (20-50 ms over the
    caches); 10,000 keeps young collections at ~3 ms and full ones rare. The search indexes
    are not opened here: the first search still catches them up with the database itself."""
    try:
        services.search().embedder()  # None (with the reason kept) when it cannot load
    except Exception:
        log.exception("warming up the embedding model failed")
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)
