"""rank_picks as a reader meets it: learned from the library and votes, topics as priors, a
truthful reason for each pick, and never a lost slot."""

from paperfeed.picks.model import rank_picks
from paperfeed.picks.reader import Reader
from tests.picks.conftest import (
    CHINESE_MIXTRAL,
    LEGAL_CASES,
    LEGAL_INDIA,
    PARAMANU,
    PEACOCK,
    ULTRASOUND,
)


def _place(picks, paper_id):
    return [p.id for p in picks].index(paper_id)


def test_a_library_of_language_models_for_new_languages_picks_the_like_first(shelf, all_ids):
    reader = Reader(library=(PEACOCK, CHINESE_MIXTRAL))
    picks = rank_picks(reader, all_ids, shelf)
    assert len(picks) == len(all_ids) - 2  # everything but the reader's own papers
    # Among 63 mixed AI papers, the one pretraining an LLM for Sanskrit is in the top ten.
    assert _place(picks, PARAMANU) < 10
    assert _place(picks, ULTRASOUND) > 30


def test_the_reason_names_the_library_papers_that_are_nearest(shelf, all_ids):
    reader = Reader(library=(PEACOCK, CHINESE_MIXTRAL, ULTRASOUND))
    pick = next(p for p in rank_picks(reader, all_ids, shelf) if p.id == PARAMANU)
    assert pick.why.startswith("like ")
    assert "in your library" in pick.why
    assert "Rethinking LLM Language Adaptation" in pick.why
    assert "Speckle Noise" not in pick.why  # the ultrasound paper did not drive this pick


def test_a_liked_paper_is_named_as_liked(shelf, all_ids):
    picks = rank_picks(Reader(liked=(LEGAL_INDIA,)), all_ids, shelf)
    legal = next(p for p in picks if p.id == LEGAL_CASES)
    assert _place(picks, LEGAL_CASES) < 5
    assert "you liked “Human Centered AI for Indian Legal Text Analytics”" in legal.why


def test_a_dislike_lowers_similar_papers_but_never_removes_one(shelf, all_ids):
    liked = Reader(library=(PEACOCK,), keywords=("legal",))
    disliked = Reader(library=(PEACOCK,), keywords=("legal",), disliked=(LEGAL_INDIA,))
    before = rank_picks(liked, all_ids, shelf)
    after = rank_picks(disliked, all_ids, shelf)
    assert len(after) == len(before) - 1  # only the disliked paper itself is gone
    assert _place(after, LEGAL_CASES) > _place(before, LEGAL_CASES)
    assert all("Indian Legal" not in p.why for p in after)  # a 👎 is never given as a reason


def test_cold_start_with_topics_only_picks_what_matches(shelf, all_ids):
    picks = rank_picks(Reader(keywords=("ultrasound",), categories=("cs.CR",)), all_ids, shelf)
    assert picks[0].id == ULTRASOUND and picks[0].why.startswith("Mentions “ultrasound”")
    top = picks[1:5]  # the four cs.CR papers
    assert all("cs.CR" in shelf[p.id].categories for p in top)
    assert all(p.why.startswith("New in cs.CR") for p in top)


def test_cold_start_with_nothing_still_ranks_every_candidate(shelf, all_ids):
    picks = rank_picks(Reader(), all_ids, shelf)
    assert [p.id for p in picks] == all_ids  # no signal: the given order, nothing dropped
    assert all(p.why for p in picks)


def test_a_followed_author_is_picked_and_said(shelf, all_ids):
    author = shelf[ULTRASOUND].authors[0]
    picks = rank_picks(Reader(library=(PEACOCK,), authors=(author,)), all_ids, shelf)
    assert picks[0].id == ULTRASOUND
    assert f"by {author}, whom you follow" in picks[0].why
