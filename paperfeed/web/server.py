"""Run the web app under uvicorn; `paperfeed serve` and `paperfeed demo` call run_server."""

from __future__ import annotations

import uvicorn

from paperfeed.services import Services
from paperfeed.web.app import create_app


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
    uvicorn.Server(config).run()
