"""Hybrid fusion of standardised scores, and reciprocal-rank fusion, as pure functions."""

from paperfeed.search.fusion import normalised_fusion, reciprocal_rank_fusion


def order(fused) -> list[str]:
    return [f.paper_id for f in fused]


def test_a_paper_both_lists_agree_on_beats_one_only_either_list_likes():
    fused = normalised_fusion(
        [("kw-only", 10.0), ("both", 8.0), ("neither", 1.0)],
        [("sem-only", 0.62), ("both", 0.60), ("far", 0.20)],
        {"kw-only": 0.05, "neither": 0.1},
        keyword_weight=0.5,
    )
    assert order(fused)[0] == "both"
    assert fused[0].ranks == {"keyword": 2, "semantic": 2}


def test_the_scale_of_bm25_scores_does_not_change_the_mix():
    """BM25 grows with the query's length and the corpus; cosines do not. The fusion reads
    each list in its own spread, so scaling every BM25 score changes nothing."""
    semantic = [("b", 0.7), ("c", 0.5), ("a", 0.3)]
    short = normalised_fusion(
        [("a", 3.0), ("b", 2.0), ("c", 1.0)], semantic, {}, keyword_weight=0.5
    )
    long = normalised_fusion(
        [("a", 30.0), ("b", 20.0), ("c", 10.0)], semantic, {}, keyword_weight=0.5
    )
    assert order(short) == order(long) == ["b", "a", "c"]


def test_the_cosine_of_a_keyword_hit_the_semantic_list_missed_is_filled_in():
    semantic = [("x", 0.8), ("y", 0.4)]
    fused = normalised_fusion(
        [("a", 5.0), ("b", 5.0)], semantic, {"a": 0.1, "b": 0.7}, keyword_weight=0.5
    )
    assert order(fused).index("b") < order(fused).index("a")


def test_a_paper_without_a_vector_ranks_as_the_semantic_lists_last_not_below():
    fused = normalised_fusion(
        [("new", 9.0), ("old", 9.0), ("other", 1.0)],
        [("old", 0.5), ("low", 0.3)],
        {"other": 0.3},
        keyword_weight=0.5,
    )
    scores = {f.paper_id: f.score for f in fused}
    # "new" has no vector yet: it counts as the semantic list's lowest cosine (0.3), as "other"
    # does, and keeps its keyword score: level with "old" on keywords, behind it on meaning.
    assert order(fused)[:2] == ["old", "new"]
    assert scores["new"] > scores["other"]


def test_reciprocal_rank_fusion_rewards_papers_near_several_seeds():
    fused = reciprocal_rank_fusion({"seed1": ["x", "y"], "seed2": ["y", "z"]})
    assert fused[0].paper_id == "y" and fused[0].ranks == {"seed1": 2, "seed2": 1}


def test_a_keyword_hit_far_above_the_rest_keeps_its_lead():
    """A query naming a paper by its rare words: BM25 puts it far ahead of a flat pack, and the
    pack member nearest in meaning does not overtake it."""
    keyword = [("named", 30.0)] + [(f"pack{i}", 5.0 - i * 0.01) for i in range(20)]
    semantic = [("pack0", 0.62)] + [(f"far{i}", 0.60 - i * 0.005) for i in range(20)]
    fused = normalised_fusion(keyword, semantic, {"named": 0.55}, keyword_weight=0.4)
    assert order(fused)[0] == "named"
