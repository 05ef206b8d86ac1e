"""A subscriber's lists matched against a paper: followed authors and mutes (keywords, authors,
categories). Pure; the digest (compose.py) and the subscriber's feed use the same rules.

Names match whatever their case and spacing ("ada  LOVELACE" is Ada Lovelace). A muted
category without a dot is a whole archive: `math` mutes math.AG and math.CO. A muted keyword
matches as words in the title or abstract, as the digest's "leave out papers mentioning" always
has.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from paperfeed.picks.reader import mentions, name_key


def followed_in(followed: Iterable[str], authors: Sequence[str]) -> list[str]:
    """The paper's authors (as the paper spells them) that the subscriber follows."""
    wanted = {name_key(a) for a in followed}
    return [a for a in authors if name_key(a) in wanted]


@dataclass(frozen=True)
class Mutes:
    keywords: tuple[str, ...] = ()
    authors: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()

    @classmethod
    def of(cls, topics: dict) -> Mutes:
        return cls(
            keywords=tuple(k.lower() for k in topics.get("exclude") or []),
            authors=frozenset(name_key(a) for a in topics.get("exclude_authors") or []),
            categories=frozenset(c.casefold() for c in topics.get("exclude_categories") or []),
        )

    def __bool__(self) -> bool:
        return bool(self.keywords or self.authors or self.categories)

    def hides_by_name(self, paper: dict) -> bool:
        """Muted for an author or a category (keywords are checked apart, see `hides`)."""
        if self.authors and any(name_key(a) in self.authors for a in paper.get("authors") or []):
            return True
        for category in paper.get("categories") or []:
            folded = category.casefold()
            if folded in self.categories or folded.split(".")[0] in self.categories:
                return True
        return False

    def hides(self, paper: dict) -> bool:
        text = f"{paper.get('title') or ''}\n{paper.get('abstract') or ''}"
        return self.hides_by_name(paper) or any(mentions(text.lower(), k) for k in self.keywords)
