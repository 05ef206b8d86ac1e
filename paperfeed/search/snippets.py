"""Highlighted snippets: the stretch of an abstract that holds the most query words.

A snippet is plain text plus character ranges to highlight, so each edge renders it its own
way (the web escapes the text and wraps ranges in <mark>; the CLI brackets them) and no HTML
from paper text ever passes through. Pure functions.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

SNIPPET_CHARS = 240
_WORD = re.compile(r"\w+")


def make_snippet(
    text: str,
    words: list[str],
    prefixes: list[str],
    stem: Callable[[str], str],
    *,
    width: int = SNIPPET_CHARS,
) -> dict[str, Any]:
    """{"text": …, "highlights": [[start, end], …]} for the best window of `text`."""
    wanted = {stem(w.lower()) for w in words if w}
    starts = tuple(p.lower() for p in prefixes if p)
    matches = []
    cache: dict[str, bool] = {}
    for match in _WORD.finditer(text):
        token = match.group().lower()
        hit = cache.get(token)
        if hit is None:
            hit = cache[token] = (stem(token) in wanted) or (
                bool(starts) and token.startswith(starts)
            )
        if hit:
            matches.append((match.start(), match.end()))
    start = _best_window_start(text, matches, width)
    end = min(len(text), start + width)
    if end < len(text):  # do not cut a word in half
        space = text.rfind(" ", start, end)
        end = space if space > start + width // 2 else end
    snippet = text[start:end]
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    offset = len(prefix) - start
    highlights = [[s + offset, e + offset] for s, e in matches if s >= start and e <= end]
    return {"text": prefix + snippet + suffix, "highlights": highlights}


def _best_window_start(text: str, matches: list[tuple[int, int]], width: int) -> int:
    if not matches or len(text) <= width:
        return 0
    best_start, best_count = 0, 0
    right = 0
    for left, (start, _) in enumerate(matches):
        right = max(right, left)
        while right + 1 < len(matches) and matches[right + 1][1] - start <= width:
            right += 1
        if right - left + 1 > best_count:
            best_start, best_count = start, right - left + 1
    if best_start < width // 4:
        return 0
    # Start a few words before the first match, at a word boundary.
    back = max(0, best_start - width // 5)
    space = text.find(" ", back, best_start)
    return space + 1 if space != -1 else back


def render_brackets(snippet: Mapping[str, Any]) -> str:
    """The snippet with highlights in [brackets], for terminals."""
    text, out, last = snippet["text"], [], 0
    for start, end in snippet["highlights"]:
        out.append(text[last:start])
        out.append(f"[{text[start:end]}]")
        last = end
    out.append(text[last:])
    return "".join(out)
