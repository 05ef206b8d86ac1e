"""A real Chromium (Debian's `chromium`) driven by Playwright, recording what a user would see
go wrong: dialogs (an injected alert), console errors and Content-Security-Policy violations."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-background-networking"]


@dataclass
class Watch:
    dialogs: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def attach(self, page) -> None:
        def on_dialog(dialog) -> None:
            self.dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        page.on(
            "console",
            lambda message: message.type == "error" and self.console_errors.append(message.text),
        )
