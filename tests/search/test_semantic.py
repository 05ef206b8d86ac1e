"""Embedding, semantic and hybrid search and similar papers, with the real MiniLM model."""

from datetime import timedelta

import pytest

from paperfeed.errors import InvalidInput, NotFound
from paperfeed.search.embedder import DEFAULT_MODEL
from paperfeed.search.indexing import embed_papers
from paperfeed.search.service import SearchService
from paperfeed.storage import embeddings
from paperfeed.storage.db import writing
from paperfeed.storage.embeddings import LATE_COMMIT_SLACK
from paperfeed.storage.papers import delete_papers
from paperfeed.storage.tables import embeddings as embeddings_table
from tests.search.conftest import T0, add, change, embed, ids, paper

# Papers of tests/data/search/papers.jsonl, described without the words of their titles.
DESCRIBED = {
    "2403.06014": "crafting adversarial inputs when the model reveals only its decision",
    "2403.18028": "guessing where animals live from incomplete sightings",
    "2403.02750": "cleaning up grainy medical scans",
    "2403.15716": "a team of wheeled machines keeping a shape while moving together",
}


@pytest.fixture
def indexed(services, minilm, real_papers):
    report = embed(services, minilm)
    assert report.embedded == real_papers == 65
    return services


def test_index_embeds_only_what_is_new_or_changed(indexed, minilm):
    again = embed(indexed, minilm)
    assert (again.candidates, again.embedded) == (0, 0)
    first = sorted(_all_ids(indexed))[0]
    change(indexed.engine, first, T0 + timedelta(days=1), categories=["cs.XX"])
    only_metadata = embed(indexed, minilm)
    assert (only_metadata.candidates, only_metadata.embedded, only_metadata.unchanged) == (1, 0, 1)
    change(indexed.engine, first, T0 + timedelta(days=2), title="An entirely new title")
    retitled = embed(indexed, minilm)
    assert (retitled.embedded, retitled.unchanged) == (1, 0)


def test_an_interrupted_run_resumes_where_it_stopped(services, minilm, real_papers):
    first = embed(services, minilm, limit=20, batch_size=8)
    assert first.embedded == 20
    with services.engine.connect() as conn:
        assert embeddings.checked_through(conn, DEFAULT_MODEL) is None
    rest = embed(services, minilm, batch_size=16)
    assert (rest.candidates, rest.embedded) == (45, 45)
    with services.engine.connect() as conn:
        assert embeddings.model_state(conn, DEFAULT_MODEL)[0] == 65


def test_a_complete_run_reads_only_papers_changed_since_it_started(indexed, minilm):
    with indexed.engine.connect() as conn:
        assert embeddings.checked_through(conn, DEFAULT_MODEL) == T0
        # The next scan reads only from there (less the slack), not all 65 papers.
        assert embeddings.scan_start(conn, DEFAULT_MODEL) == T0 - LATE_COMMIT_SLACK
    # A write that commits late carries a stamp from before the last run: still embedded.
    add(indexed.engine, paper("2499.00002", "Honeybee waggle dances"), at=T0 - timedelta(minutes=5))
    late = embed(indexed, minilm)
    assert (late.candidates, late.embedded) == (1, 1)
    add(indexed.engine, paper("2499.00003", "Ant trails"), at=T0 + timedelta(days=1))
    assert embed(indexed, minilm).embedded == 1
    with indexed.engine.connect() as conn:
        assert embeddings.checked_through(conn, DEFAULT_MODEL) == T0 + timedelta(days=1)


def test_a_paper_without_a_vector_behind_the_watermark_is_still_found(indexed, minilm):
    # Later than the slack allows (a writer stalled for an hour), or a vector lost in a
    # restore: the counts show a paper without a vector, and the run reads every paper.
    add(indexed.engine, paper("2499.00004", "Bumblebee flight"), at=T0 - timedelta(hours=1))
    lost = sorted(_all_ids(indexed))[3]
    with writing(indexed.engine) as conn:
        conn.execute(embeddings_table.delete().where(embeddings_table.c.paper_id == lost))
    with indexed.engine.connect() as conn:
        assert embeddings.scan_start(conn, DEFAULT_MODEL) is None
    found = embed(indexed, minilm)
    assert (found.candidates, found.embedded) == (2, 2)
    with indexed.engine.connect() as conn:
        assert embeddings.model_state(conn, DEFAULT_MODEL)[0] == 66
        assert embeddings.scan_start(conn, DEFAULT_MODEL) is not None  # back to the window


@pytest.mark.parametrize(("paper_id", "description"), DESCRIBED.items())
def test_semantic_search_finds_a_paper_from_a_description_without_its_words(
    indexed, search, paper_id, description
):
    semantic = search.search(description, mode="semantic", limit=3)
    assert semantic.mode == "semantic"
    assert paper_id in ids(semantic)
    assert all(r["why"]["semantic_rank"] for r in semantic.results)
    # Hybrid weighs the partial keyword matches of the description's common words too; the
    # paper must still be on the first page (the CLI's default of 10).
    assert paper_id in ids(search.search(description, mode="hybrid", limit=10))


def test_hybrid_results_say_their_keyword_and_semantic_ranks(indexed, search):
    response = search.search("large language models", mode="hybrid", limit=20)
    assert response.mode == "hybrid"
    ranks = [r["why"] for r in response.results]
    assert any(w["keyword_rank"] and w["semantic_rank"] for w in ranks)
    scores = [r["score"] for r in response.results]
    assert scores == sorted(scores, reverse=True)


def test_an_exact_id_or_title_is_pinned_first(indexed, search):
    some_id = sorted(_all_ids(indexed))[7]
    title = _title(indexed, some_id)
    for query in (some_id, f"https://arxiv.org/abs/{some_id}v1", title.upper()):
        top = search.search(query).results[0]
        assert top["id"] == some_id
        assert top["why"]["pinned"] in ("arXiv id", "exact title")


def test_without_a_model_search_falls_back_to_keywords_with_a_notice(indexed, tmp_path):
    broken = SearchService(
        indexed.engine,
        index_dir=tmp_path / "idx",
        model=str(tmp_path / "no-such-model"),
        refresh_s=0,
    )
    response = broken.search("language models")
    assert response.mode == "keyword"
    assert response.results
    assert any("semantic search is off" in n for n in response.notices)


def test_before_indexing_search_says_to_run_paperfeed_index(services, search, real_papers):
    response = search.search("language models")
    assert response.mode == "keyword" and response.results
    assert any("paperfeed index" in n for n in response.notices)


def test_similar_papers_of_one_several_or_a_text_exclude_the_seeds(indexed, search):
    seeds = sorted(_all_ids(indexed))[:2]
    one = search.similar([seeds[0]], limit=5)
    assert len(one.results) == 5 and seeds[0] not in ids(one)
    both = search.similar(seeds, limit=10)
    assert not set(seeds) & set(ids(both))
    assert all(r["why"]["near"] for r in both.results)
    text = search.similar(text=_abstract(indexed, seeds[0]), limit=3)
    assert ids(text)[0] == seeds[0]  # a pasted abstract finds its own paper first
    with pytest.raises(NotFound, match="no paper"):
        search.similar(["9999.99999"])
    with pytest.raises(InvalidInput):
        search.similar([])


def test_removed_papers_leave_the_vector_index(indexed, search):
    seed = sorted(_all_ids(indexed))[0]
    neighbour = ids(search.similar([seed], limit=1))[0]
    with writing(indexed.engine) as conn:
        delete_papers(conn, [neighbour])
    assert neighbour not in ids(search.similar([seed], limit=64))  # at once
    search.refresh(force=True)  # the index itself lets go at its next full count
    assert search.vector_index().size == 64


def test_a_saved_vector_index_is_reloaded_by_the_next_process(indexed, search, minilm):
    search.refresh(force=True, save=True)
    before = ids(search.search("reinforcement learning", mode="semantic"))
    fresh = SearchService(
        indexed.engine,
        index_dir=indexed.settings.index_dir,
        model=DEFAULT_MODEL,
        refresh_s=0,
        embedder=minilm,
    )
    assert fresh.vector_index().size == 65  # loaded from disk, before any sync
    assert ids(fresh.search("reinforcement learning", mode="semantic")) == before


def test_a_new_paper_becomes_findable_semantically_after_index(indexed, search, minilm):
    add(
        indexed.engine,
        paper(
            "2499.00001",
            "Bees navigate by polarised light",
            "Honeybee foragers use skylight polarisation.",
        ),
        at=T0 + timedelta(days=3),
    )
    embed_papers(indexed.engine, minilm, clock=indexed.clock)
    assert ids(search.search("insect navigation using the sky", mode="semantic"))[0] == "2499.00001"


def _all_ids(services):
    from paperfeed.storage.search_source import all_ids

    with services.engine.connect() as conn:
        return all_ids(conn)


def _title(services, paper_id):
    from paperfeed.storage.papers import get_paper

    with services.engine.connect() as conn:
        return get_paper(conn, paper_id).paper.title


def _abstract(services, paper_id):
    from paperfeed.storage.papers import get_paper

    with services.engine.connect() as conn:
        return get_paper(conn, paper_id).paper.abstract
