"""Why a paper was picked, in words, from the parts that actually raised its score.

Called by model.rank_picks for the picks it keeps. A reason names only what drove the score:
the two parts that added the most, and for words and meaning the reader's papers nearest to
the pick (the ones the reader's model learned from), never a 👎 and never a guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from paperfeed.picks.reader import Reader, followed, mentions

if TYPE_CHECKING:
    from paperfeed.picks.shelf import Shelf

NEAR_SHARE = 0.8  # name every own paper at least this close, relative to the closest one
MAX_NAMED = 2


def explain(
    reader: Reader,
    shelf: Shelf,
    row: int,
    share: Mapping[str, float],
    parts: Mapping[str, np.ndarray],
) -> str:
    phrases: list[str] = []
    for name, value in sorted(share.items(), key=lambda item: -item[1]):
        if value <= 0 or len(phrases) == 2:
            break
        phrase = _phrase(name, reader, shelf, row)
        if phrase and phrase not in phrases:
            phrases.append(phrase)
    return " · ".join(phrases) or "next best of this window for you"


def _phrase(name: str, reader: Reader, shelf: Shelf, row: int) -> str:
    paper = shelf.papers[row]
    if name in ("words", "meaning"):
        return _like(reader, shelf, row)
    if name == "keyword":
        text = paper.text.lower()
        said = [k for k in reader.keywords if mentions(text, k)]
        if said:
            return "Mentions " + ", ".join(f"“{k}”" for k in said[:2])
        return "About " + ", ".join(f"“{k}”" for k in reader.keywords[:2])
    if name == "category":
        listed = [c for c in paper.categories if c in set(reader.categories)]
        return f"New in {listed[0]}" if listed else ""
    if name == "author":
        names = followed(reader, paper)
        return f"by {', '.join(names[:2])}, whom you follow" if names else ""
    if name == "popularity" and paper.upvotes > 0:
        return f"popular on Hugging Face ({paper.upvotes:.0f} upvotes)"
    return ""


def _like(reader: Reader, shelf: Shelf, row: int) -> str:
    """'like 2 papers in your library: “A”, “B”' / 'you liked “C”': the nearest own papers."""
    own = [pid for pid in dict.fromkeys([*reader.library, *reader.liked]) if pid in shelf]
    if not own:
        return ""
    rows = shelf.rows(own)
    similarity = np.asarray((shelf.words[rows] @ shelf.words[row].T).toarray()).ravel()
    if shelf.has_meaning:
        similarity = (similarity + shelf.meaning[rows] @ shelf.meaning[row]) / 2
    best = float(similarity.max())
    if best <= 0:
        return ""
    near = [own[i] for i in np.argsort(-similarity) if similarity[i] >= NEAR_SHARE * best]
    liked = set(reader.liked)
    in_library = [pid for pid in near if pid not in liked][:MAX_NAMED]
    you_liked = [pid for pid in near if pid in liked][:MAX_NAMED]
    phrases = []
    if you_liked:
        phrases.append("you liked " + _titles(shelf, you_liked))
    if in_library:
        count = "a paper" if len(in_library) == 1 else f"{len(in_library)} papers"
        phrases.append(f"like {count} in your library: {_titles(shelf, in_library)}")
    return " · ".join(phrases)


def _titles(shelf: Shelf, ids: list[str]) -> str:
    return ", ".join(f"“{short(shelf[pid].title)}”" for pid in ids)


def short(title: str, limit: int = 60) -> str:
    title = " ".join(title.split())
    return title if len(title) <= limit else title[: limit - 1].rsplit(" ", 1)[0] + "…"
