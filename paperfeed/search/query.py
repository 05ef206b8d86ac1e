"""Parse what a user typed into a search box, never failing.

The syntax: words; "a phrase"; word* (prefix); -word and -"a phrase" (exclusions);
author:name or author:"full name"; category:cs.CL. Anything else — an unbalanced quote, a
stray operator, emoji, control characters, a 10 kB paste — degrades to plain words, so every
input is a valid query. Which terms are stopwords or misspelt is the index's business, not
the parser's.

Pure functions; used by search.keyword (to build the engine's query) and search.snippets (to
know what to highlight).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# The longest query worth reading: a pasted abstract is about 2,000 characters; beyond this
# the rest only costs time.
MAX_QUERY_CHARS = 4_000
MAX_CLAUSES = 64

_WORD = re.compile(r"\w+")
_ARXIV_ID = re.compile(
    r"^(?:arxiv:|https?://(?:www\.)?arxiv\.org/(?:abs|pdf)/)?"
    r"(\d{4}\.\d{4,5}|[a-z][a-z.\-]*/\d{7})(?:v\d+)?(?:\.pdf)?$",
    re.IGNORECASE,
)
# A field prefix, an optional "-", then a quoted string, a bare token, or a lone quote.
_TOKEN = re.compile(
    r'(?P<neg>-)?(?:(?P<field>author|category|cat):)?(?:"(?P<quoted>[^"]*)"|(?P<bare>[^\s"]+))'
)


@dataclass
class ParsedQuery:
    text: str  # the cleaned input, for embedding and exact matches
    terms: list[str] = field(default_factory=list)  # plain words, as typed
    phrases: list[list[str]] = field(default_factory=list)  # each a list of words
    prefixes: list[str] = field(default_factory=list)
    excluded: list[list[str]] = field(default_factory=list)  # words or phrases to exclude
    authors: list[list[str]] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    arxiv_id: str | None = None  # the query is an arXiv id (without version)

    @property
    def is_empty(self) -> bool:
        return not (self.terms or self.phrases or self.prefixes or self.authors)

    @property
    def positive_words(self) -> list[str]:
        """Every word the results should contain somewhere, for highlighting."""
        words = list(self.terms) + list(self.prefixes)
        for group in (*self.phrases, *self.authors):
            words.extend(group)
        return words

    @property
    def free_text(self) -> str:
        """The words of the query without its operators: what the embedding model reads."""
        return " ".join(
            [*self.terms, *self.prefixes, *(" ".join(p) for p in self.phrases)]
        ) or " ".join(" ".join(a) for a in self.authors)


def clean_query(raw: str) -> str:
    """The query as printable text of bounded length; control characters become spaces."""
    text = raw[:MAX_QUERY_CHARS]
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    return " ".join(text.split())


def parse(raw: str) -> ParsedQuery:
    text = clean_query(raw)
    query = ParsedQuery(text=text)
    match = _ARXIV_ID.match(text)
    if match:
        query.arxiv_id = match.group(1).lower() if "/" in match.group(1) else match.group(1)
    clauses = 0
    for token in _TOKEN.finditer(text):
        if clauses >= MAX_CLAUSES:
            break
        clauses += 1
        negative = token.group("neg") is not None
        field_name = token.group("field")
        quoted = token.group("quoted")
        bare = token.group("bare")
        value = quoted if quoted is not None else bare
        words = words_of(value)
        if field_name in ("category", "cat") and not negative:
            category = value.strip().strip("\"'")
            if category:
                query.categories.append(category)
            continue
        if not words:
            continue
        if field_name == "author" and not negative:
            query.authors.append(words)
        elif negative:
            query.excluded.append(words)
        elif quoted is not None and len(words) > 1:
            query.phrases.append(words)
        elif bare is not None and bare.endswith("*") and len(words) == 1 and len(words[0]) >= 2:
            query.prefixes.append(words[0])
        else:
            query.terms.extend(words)
    if query.is_empty and query.excluded and not query.categories:
        # Only exclusions ("-foo") would match nothing useful: read them as words instead.
        query.terms = [w for group in query.excluded for w in group]
        query.excluded = []
    return query


def words_of(text: str) -> list[str]:
    """The words of a string: runs of letters and digits (so "C++" is "C", "GPT-4" is two)."""
    return _WORD.findall(text.replace("_", " "))
