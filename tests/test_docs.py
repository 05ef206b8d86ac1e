"""Docs are tested: every setting and every command is documented, and the pages are current."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from paperfeed.config import SETTINGS

ROOT = Path(__file__).resolve().parent.parent


def _generator():
    spec = importlib.util.spec_from_file_location("gen_docs", ROOT / "scripts" / "gen_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_configuration_page_documents_every_setting_as_generated():
    page = (ROOT / "docs" / "configuration.md").read_text()
    for setting in SETTINGS:
        assert f"`{setting.name}`" in page and setting.env_var in page, setting.name
    assert page == _generator().configuration_markdown(), "run scripts/gen_docs.py"


def test_cli_page_documents_every_command_as_generated():
    generator = _generator()
    page = (ROOT / "docs" / "cli.md").read_text()
    for path, _command in generator._commands(generator.cli, []):
        assert f"## paperfeed {' '.join(path)}\n" in page, path
    assert page == generator.cli_markdown(), "run scripts/gen_docs.py"


def test_readme_starts_with_the_two_command_quick_start_that_ci_runs():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    quick_start = readme[: readme.index("## What it does")]
    assert "paperfeed demo" in quick_start
    assert "./scripts/test" in quick_start
    assert ci.strip().splitlines()[-1] == "./scripts/test"


def test_api_page_documents_every_route_and_every_number_parameter_as_generated():
    from paperfeed.web.app import create_app
    from paperfeed.web.static import version

    page = (ROOT / "docs" / "api.md").read_text()
    assert page == _generator().api_page(page), "run scripts/gen_docs.py"
    for route in create_app(services=None).routes:
        documented = route.path.replace("{paper_id:path}", "{id}").replace("{cid:int}", "{cid}")
        documented = documented.replace(version(), "{version}")
        for method in sorted(getattr(route, "methods", None) or {"GET"}):
            if method != "HEAD":
                assert f"`{method} {documented}" in page, f"{method} {route.path}"
