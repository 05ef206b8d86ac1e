"""Keyword search through the real tantivy index, kept current from SQLite and PostgreSQL."""

from datetime import UTC, datetime, timedelta

import pytest

from paperfeed.search import keyword as keyword_module
from paperfeed.search.keyword import KeywordIndex
from paperfeed.search.query import parse
from paperfeed.storage.db import writing
from paperfeed.storage.papers import delete_papers
from tests.search.conftest import T0, add, change, ids, paper


@pytest.fixture
def corpus(engine):
    add(
        engine,
        paper(
            "2401.00001",
            "Graph neural networks for molecules",
            "We study message passing.",
            authors=["Ada Lovelace"],
            categories=["cs.LG"],
            published_at=T0 - timedelta(days=30),
        ),
        paper(
            "2401.00002",
            "A survey of optimisation",
            "Graph neural networks appear in passing.",
            authors=["Alan Turing"],
            categories=["math.OC"],
            published_at=T0 - timedelta(days=10),
        ),
        paper(
            "2401.00003",
            "Chain of thought prompting",
            "Reasoning step by step with a chain of thought.",
            authors=["Grace Hopper", "Yann LeCun"],
            categories=["cs.CL", "cs.AI"],
            published_at=T0,
        ),
        paper(
            "2401.00004",
            "Thought experiments on chains",
            "A chain, a thought, far apart: of no use.",
            authors=["Ada Smith"],
            categories=["cs.AI"],
            published_at=T0 - timedelta(days=1),
        ),
        paper(
            "2401.00005",
            "Robots learn to grasp",
            "Robotic grasping with reinforcement learning.",
            authors=["Rodney Brooks"],
            categories=["cs.RO"],
            published_at=T0 - timedelta(days=5),
        ),
    )
    return engine


def keyword(search, text, **options):
    return ids(search.search(text, mode="keyword", **options))


def test_a_title_match_outranks_an_abstract_match(search, corpus):
    assert keyword(search, "graph neural networks")[:2] == ["2401.00001", "2401.00002"]


def test_a_quoted_phrase_needs_the_words_together(search, corpus):
    assert keyword(search, '"chain of thought"') == ["2401.00003"]
    assert set(keyword(search, "chain thought")) == {"2401.00003", "2401.00004"}


def test_prefix_exclusion_author_and_category_operators(search, corpus):
    assert set(keyword(search, "robot*")) == {"2401.00005"}
    assert keyword(search, "thought -prompting") == ["2401.00004"]
    assert keyword(search, 'author:"Yann LeCun"') == ["2401.00003"]
    assert set(keyword(search, "author:ada")) == {"2401.00001", "2401.00004"}
    assert keyword(search, "thought category:cs.CL") == ["2401.00003"]


def test_filters_on_category_and_dates_and_sort_by_date(search, corpus):
    assert keyword(search, "thought", categories=["cs.CL"]) == ["2401.00003"]
    assert keyword(search, "graph", since=T0 - timedelta(days=20)) == ["2401.00002"]
    assert keyword(search, "graph", until=T0 - timedelta(days=20)) == ["2401.00001"]
    # Dates beyond what the index can hold mean "from the start" / "until the end of time".
    ancient, far = datetime(1500, 1, 1, tzinfo=UTC), datetime(3000, 1, 1, tzinfo=UTC)
    assert set(keyword(search, "graph", since=ancient, until=far)) == {"2401.00001", "2401.00002"}
    newest_first = keyword(search, "", categories=["cs.AI", "cs.RO"], sort="date")
    assert newest_first == ["2401.00003", "2401.00004", "2401.00005"]


def test_a_misspelt_word_is_searched_as_the_nearest_indexed_word(search, corpus):
    # A correction must be a word several papers use (MIN_CORRECTION_DOCS), not a one-off.
    add(corpus, paper("2401.00007", "Learning to rank", "Ranking from clicks."))
    response = search.search("reinforcment lerning robots", mode="keyword")
    assert ids(response)[0] == "2401.00005"
    assert any("“lerning”" in notice and "learning" in notice for notice in response.notices)
    snippet = response.results[0]["snippet"]
    highlighted = [snippet["text"][a:b].lower() for a, b in snippet["highlights"]]
    assert "learning" in highlighted


@pytest.fixture
def field_corpus(engine):
    """A field's vocabulary as real abstracts use it: common terms in many papers, one
    abstract that shares a user's typo, and a rare correct tool name one edit from a word."""
    papers = [
        paper(f"2405.{n:05d}", f"Transformer diffusion model {n}", "Attention layers fail often.")
        for n in range(30)
    ]
    papers.append(paper("2405.00100", "Sparse attention", "A transfomer with sparse heads."))
    papers.append(paper("2405.00101", "Vector search", "Nearest neighbours with faiss."))
    add(engine, *papers)
    return engine


def test_a_misspelling_a_few_abstracts_share_is_corrected_and_still_found(search, field_corpus):
    response = search.search("transfomer", mode="keyword")
    found = ids(response)
    assert "2405.00100" in found  # the abstract with the same typo is not lost
    assert sum(pid.startswith("2405.000") for pid in found) >= 9  # nor the papers meant
    assert any("“transfomer”" in n and "“transformer”" in n for n in response.notices)


def test_every_misspelt_word_of_a_query_is_corrected_to_a_real_word(search, field_corpus):
    response = search.search("difusion modle", mode="keyword")
    notices = " ".join(response.notices)
    assert "“diffusion”" in notices and "“model”" in notices
    assert ids(response)[0].startswith("2405.000")


def test_a_rare_correct_term_is_never_replaced(search, field_corpus):
    # "faiss" is one edit from "fails" (in 30 papers) but is a real name in one abstract.
    response = search.search("faiss", mode="keyword")
    assert ids(response) == ["2405.00101"] and response.notices == []
    # "flask" is English: absent from every paper, it is not turned into another word.
    response = search.search("flask", mode="keyword")
    assert ids(response) == [] and response.notices == []


@pytest.mark.parametrize(
    "hostile",
    [
        '"unbalanced',
        "((( AND OR",
        "\x00\x00",
        "🤖🧠",
        "x" * 10_000,
        "-",
        "author:",
        "*",
        "'; DROP TABLE papers; --",
    ],
)
def test_hostile_queries_return_results_or_nothing_never_an_error(search, corpus, hostile):
    for mode in ("keyword", "hybrid"):
        response = search.search(hostile, mode=mode)
        assert isinstance(response.results, list)
    assert keyword(search, "graph") != []  # the database is intact


def test_results_say_why_and_carry_a_highlighted_snippet(search, corpus):
    result = search.search("message passing", mode="keyword").results[0]
    assert result["id"] == "2401.00001"
    assert result["why"]["keyword_rank"] == 1
    text = result["snippet"]["text"]
    assert [text[a:b] for a, b in result["snippet"]["highlights"]] == ["message", "passing"]


def test_new_changed_and_removed_papers_are_seen_on_the_next_search(search, corpus):
    assert keyword(search, "quantum") == []
    later = T0 + timedelta(hours=1)
    add(corpus, paper("2401.00006", "Quantum annealing", "Annealing on qubits."), at=later)
    assert keyword(search, "quantum") == ["2401.00006"]
    change(corpus, "2401.00006", later + timedelta(minutes=1), title="Classical annealing")
    assert keyword(search, "quantum") == []
    assert keyword(search, "classical") == ["2401.00006"]
    with writing(corpus) as conn:
        delete_papers(conn, ["2401.00006"])
    assert keyword(search, "annealing") == []
    assert search.keyword_index().doc_count == 5


def test_a_catch_up_writes_only_what_is_new_or_was_committed_late(engine, tmp_path):
    add(engine, *[paper(f"2402.{n:05d}", f"Bulk paper {n}") for n in range(50)])
    index = KeywordIndex.open(tmp_path / "keyword")
    assert index.sync(engine) == 50
    # Within the catch-up slack of the last sync: the 50 are read again but not written again
    # (after a bulk load, on every node, that would be the whole load).
    add(engine, paper("2402.00050", "Quantum annealing"), at=T0 + timedelta(minutes=1))
    assert index.sync(engine) == 1
    # A change committed late (stamped before the watermark) is still written, and searchable.
    change(engine, "2402.00007", T0 - timedelta(minutes=2), title="Classical annealing")
    add(engine, paper("2402.00051", "Robots"), at=T0 + timedelta(minutes=3))
    assert index.sync(engine) == 2
    hits = index.search(parse("classical annealing"), limit=5).hits
    assert [hit.paper_id for hit in hits][:1] == ["2402.00007"]
    assert index.doc_count == 52


def test_between_full_counts_a_check_is_one_seek_and_removals_wait_for_the_count(
    engine, tmp_path, monkeypatch
):
    add(engine, *[paper(f"2403.{n:05d}", f"Paper {n}") for n in range(3)])
    index = KeywordIndex.open(tmp_path / "keyword")
    assert index.sync(engine) == 3
    with writing(engine) as conn:
        delete_papers(conn, ["2403.00001"])  # the newest stamp stays what it was
    assert index.sync(engine) == 0 and index.doc_count == 3  # no count yet: nothing seen
    monkeypatch.setattr(keyword_module, "RECOUNT_S", 0.0)  # as if a minute had passed
    index.sync(engine)
    assert index.doc_count == 2
    add(engine, paper("2403.00009", "Late"), at=T0 - timedelta(minutes=1))  # an older stamp
    monkeypatch.setattr(keyword_module, "RECOUNT_S", 60.0)
    index.sync(engine, recount=True)  # what `paperfeed index` asks for
    assert index.doc_count == 3


def test_a_deleted_index_folder_is_rebuilt_from_the_database(services, search, corpus):
    assert keyword(search, "robots") == ["2401.00005"]
    search.rebuild()
    assert keyword(search, "robots") == ["2401.00005"]


def test_bad_options_are_user_errors(search, corpus):
    from paperfeed.errors import InvalidInput

    for options in ({"mode": "fuzzy"}, {"limit": 0}, {"limit": 10_000}, {"sort": "random"}):
        with pytest.raises(InvalidInput):
            search.search("graph", **options)
    with pytest.raises(InvalidInput, match="before"):
        search.search(
            "graph", since=datetime(2026, 1, 2, tzinfo=UTC), until=datetime(2026, 1, 1, tzinfo=UTC)
        )
