"""What a reader gave (papers and topics), and how a paper matches their topics.

Shared by the model (model.py), its reasons (reasons.py) and the digest's mutes and follows
(digest/topics.py), so a keyword or an author is matched the same way everywhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from paperfeed.picks.shelf import ShelfPaper


@dataclass(frozen=True)
class Reader:
    """What a reader gave: papers (ids) and topics (categories, keywords, followed authors)."""

    library: tuple[str, ...] = ()
    liked: tuple[str, ...] = ()
    disliked: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()

    @property
    def is_cold(self) -> bool:
        return not (self.library or self.liked)


def followed(reader: Reader, paper: ShelfPaper) -> list[str]:
    wanted = {name_key(a) for a in reader.authors}
    return [a for a in paper.authors if name_key(a) in wanted]


def mentions(text: str, keyword: str) -> bool:
    """Whether lower-case `text` says `keyword` as words."""
    term = keyword.lower().strip()
    if not term or term not in text:
        return False
    return re.search(r"(?<!\w)" + re.escape(term) + r"(?!\w)", text) is not None


def name_key(author: str) -> str:
    """An author's name as compared: case and spacing do not matter."""
    return " ".join(author.lower().split())
