"""Hybrid score fusion and reciprocal-rank fusion, as pure functions."""

from paperfeed.search.fusion import reciprocal_rank_fusion, score_fusion


def test_a_paper_both_lists_agree_on_beats_one_only_either_list_likes():
    fused = score_fusion(
        [("kw-only", 10.0), ("both", 8.0)],
        [("sem-only", 0.62), ("both", 0.60)],
        {"kw-only": 0.05},
        full_match=10.0,
    )
    assert [f.paper_id for f in fused][0] == "both"
    assert fused[0].ranks == {"keyword": 2, "semantic": 2}


def test_a_weak_keyword_match_does_not_count_as_a_full_one():
    """A description sharing only common words with any paper: its best keyword hit matched a
    fifth of the query, so the paper the meaning points to wins."""
    fused = score_fusion(
        [("common-words", 2.0)], [("meant", 0.55)], {"common-words": 0.0}, full_match=10.0
    )
    assert [f.paper_id for f in fused] == ["meant", "common-words"]


def test_the_cosine_of_a_keyword_hit_the_semantic_list_missed_is_filled_in():
    with_cosine = score_fusion([("a", 5.0), ("b", 5.0)], [], {"b": 0.5}, full_match=5.0)
    assert [f.paper_id for f in with_cosine] == ["b", "a"]


def test_without_a_full_match_score_the_best_hit_sets_the_scale():
    fused = score_fusion([("a", 3.0), ("b", 1.5)], [], {}, full_match=0.0, keyword_weight=1.0)
    assert [round(f.score, 3) for f in fused] == [1.0, 0.5]


def test_reciprocal_rank_fusion_rewards_papers_near_several_seeds():
    fused = reciprocal_rank_fusion({"seed1": ["x", "y"], "seed2": ["y", "z"]})
    assert fused[0].paper_id == "y" and fused[0].ranks == {"seed1": 2, "seed2": 1}
