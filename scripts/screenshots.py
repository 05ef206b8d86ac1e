"""Take the README and docs screenshots from a fresh demo instance in a real Chromium.

    .venv/bin/python scripts/screenshots.py            # writes docs/screenshot-*.png

Loads and indexes the bundled demo corpus (`paperfeed demo --no-serve`) into a temporary data
directory, serves it on a free loopback port, and photographs the trending page, a search and a
paper page with math at 1280x900. `--home DIR` keeps the data directory, so a second run skips
the minute of embedding. Needs the test extras (Playwright) and Debian's `chromium`; it never
downloads a browser.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from tests.support.browser import ARGS, CHROMIUM  # noqa: E402
from tests.support.live import LiveServer, cli_env, run_cli  # noqa: E402

VIEWPORT = {"width": 1280, "height": 900}
# The demo paper whose abstract has math, \(TPP\); the rest of the demo corpus has none.
MATH_PAPER = "2608.14071"
SHOTS = {
    "screenshot-home.png": "/",
    "screenshot-search.png": "/search?q=diffusion+language+models",
    "screenshot-paper.png": f"/papers/{MATH_PAPER}",
}


def load_demo(home: Path) -> dict[str, str]:
    env = cli_env(home)
    started = time.monotonic()
    loaded = run_cli("demo", "--no-serve", env=env, timeout_s=900)
    if loaded.returncode != 0:
        raise SystemExit(f"paperfeed demo failed:\n{loaded.stderr}")
    print(f"demo loaded and indexed in {time.monotonic() - started:.0f} s", file=sys.stderr)
    return env


def warm_up(base_url: str) -> None:
    """Ask for each page once, so the search shot shows a warm search's time, not the first
    one's model load."""
    for path in SHOTS.values():
        response = httpx.get(base_url + path, timeout=120)
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code}")


def take_screenshots(base_url: str, out_dir: Path) -> None:
    warm_up(base_url)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
        page = context.new_page()
        for name, path in SHOTS.items():
            page.goto(base_url + path, wait_until="load")
            if path.startswith("/papers/"):
                page.wait_for_selector(".katex", timeout=10_000)
            page.evaluate("document.fonts.ready.then(() => document.activeElement.blur())")
            shot = out_dir / name
            page.screenshot(path=str(shot))
            print(f"{shot}: {shot.stat().st_size // 1024} KB", file=sys.stderr)
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, help="data directory to load into and keep")
    parser.add_argument("--out", type=Path, default=ROOT / "docs", help="where the PNGs go")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="paperfeed-screenshots-") as scratch:
        home = args.home or Path(scratch)
        env = load_demo(home)
        server = LiveServer(env).wait_ready()
        try:
            take_screenshots(server.url, args.out)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
