"""What every command shares: the global flags, and settings + services built on first use."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from paperfeed.config import Settings, load_settings
from paperfeed.services import Services, build


class AppContext:
    def __init__(self, flags: dict[str, Any], config_file: str | None) -> None:
        self.flags = flags
        self.config_file = Path(config_file) if config_file else None
        self._settings: Settings | None = None
        self._services: Services | None = None

    def settings(self, **command_flags: Any) -> Settings:
        """Settings with this command's own flags layered over the global ones."""
        if self._settings is None or command_flags:
            flags = {**self.flags, **command_flags}
            self._settings = load_settings(flags, config_file=self.config_file)
            # Only paperfeed's own loggers follow log_level; libraries stay at WARNING.
            logging.getLogger("paperfeed").setLevel(self._settings.log_level.upper())
        return self._settings

    def services(self, *, check_schema: bool = True, **command_flags: Any) -> Services:
        if self._services is None:
            self._services = build(self.settings(**command_flags), check_schema=check_schema)
        return self._services
