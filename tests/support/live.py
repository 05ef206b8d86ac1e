"""Run the real `paperfeed` program: one-shot commands, and a live server on a free port."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cli_env(home: Path, database_url: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERFEED_")}
    env["PAPERFEED_HOME"] = str(home)
    if database_url:
        env["PAPERFEED_DATABASE_URL"] = database_url
    return env


def run_cli(*args: str, env: dict[str, str], timeout_s: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "paperfeed", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )


def csrf_of(html: str) -> str:
    """The CSRF token a page's forms carry (every write must echo it)."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def loaded_home(
    home: Path, database_url: str | None, *files: Path, index: bool = False
) -> dict[str, str]:
    """The environment of a paperfeed home whose database holds `files`, each loaded with the
    real `paperfeed ingest file` (and embedded with `paperfeed index` when `index`)."""
    env = cli_env(home, database_url)
    for path in files:
        loaded = run_cli("ingest", "file", str(path), env=env)
        assert loaded.returncode == 0, loaded.stderr
    if index:
        indexed = run_cli("index", env=env, timeout_s=300)
        assert indexed.returncode == 0, indexed.stderr
    return env


def write_lines(path: Path, rows: list[dict]) -> Path:
    """`rows` as JSON lines at `path` (a papers file, or Hugging Face days)."""
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


class LiveServer:
    """`paperfeed <command>` serving on 127.0.0.1:<free port> until stopped."""

    def __init__(self, env: dict[str, str], command: tuple[str, ...] = ("serve",)) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._process = subprocess.Popen(
            [sys.executable, "-m", "paperfeed", *command, "--port", str(self.port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def wait_ready(self, timeout_s: float = 60) -> LiveServer:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"server exited: {self._process.stdout.read()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("server did not become ready")

    def stop(self) -> str:
        self._process.terminate()
        try:
            output, _ = self._process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            output, _ = self._process.communicate()
        return output
