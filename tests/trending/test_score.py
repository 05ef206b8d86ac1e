"""The trending formula: increments from readings, decay, windows, ranking and its reasons."""

from datetime import UTC, datetime, timedelta

from paperfeed.models import Signal
from paperfeed.trending.score import (
    Increment,
    explain,
    increments_from_readings,
    rank,
    score_increments,
)

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def upvotes(paper_id: str, amount: float, hours_ago: float, source: str = "local") -> Increment:
    return Increment(paper_id, source, "upvotes", amount, NOW - timedelta(hours=hours_ago))


def test_cumulative_readings_become_increments_between_readings():
    at = [NOW - timedelta(hours=h) for h in (30, 20, 10, 5)]
    readings = [
        Signal("p1", "hf", "upvotes", 10, at[0]),
        Signal("p1", "hf", "upvotes", 25, at[2]),  # out of order on purpose
        Signal("p1", "hf", "upvotes", 25, at[1]),
        Signal("p1", "hf", "upvotes", 24, at[3]),  # an upvote taken back
    ]
    increments = increments_from_readings(readings)
    assert [(i.amount, i.at) for i in increments] == [(10, at[0]), (15, at[1]), (-1, at[3])]


def test_an_increment_one_half_life_ago_counts_half():
    trends = score_increments(
        [upvotes("fresh", 10, 0), upvotes("older", 10, 12)],
        now=NOW,
        window=DAY,
        half_life=timedelta(hours=12),
    )
    assert trends["fresh"].score == 10
    assert abs(trends["older"].score - 5) < 1e-9


def test_only_engagement_inside_the_window_counts():
    trends = score_increments(
        [upvotes("p", 5, 23), upvotes("p", 100, 25), upvotes("late", 7, -1)],
        now=NOW,
        window=DAY,
        half_life=DAY,
    )
    assert trends["p"].parts[0].gained == 5  # the 100 from 25 h ago is outside the day
    assert "late" not in trends  # after `now`: a snapshot of the past ignores later signals


def test_weights_make_a_save_worth_more_than_an_upvote_and_stars_less():
    increments = [
        Increment("saved", "local", "saves", 1, NOW),
        Increment("upvoted", "local", "upvotes", 1, NOW),
        Increment("starred", "hf", "github_stars", 1, NOW),
    ]
    ranked = rank(score_increments(increments, now=NOW, window=DAY, half_life=DAY), 10)
    assert [t.paper_id for t in ranked] == ["saved", "upvoted", "starred"]


def test_fresh_engagement_outranks_the_same_engagement_earlier():
    trends = score_increments(
        [upvotes("yesterday", 40, 20), upvotes("this-hour", 30, 0.5)],
        now=NOW,
        window=DAY,
        half_life=timedelta(hours=12),
    )
    assert [t.paper_id for t in rank(trends, 10)] == ["this-hour", "yesterday"]


def test_papers_without_positive_score_are_not_trending():
    trends = score_increments(
        [upvotes("retracted", 1, 3), upvotes("retracted", -1, 1)],
        now=NOW,
        window=DAY,
        half_life=DAY,
    )
    assert rank(trends, 10) == []


def test_parts_explain_the_score_in_words():
    increments = [
        upvotes("p", 41, 2, source="hf"),
        Increment("p", "hf", "github_stars", 300, NOW - timedelta(days=2)),
        Increment("p", "local", "saves", 1, NOW - timedelta(hours=1)),
    ]
    trend = score_increments(increments, now=NOW, window=timedelta(days=7), half_life=DAY)["p"]
    assert abs(trend.score - sum(p.points for p in trend.parts)) < 1e-9
    lines = explain(trend.parts, "week", NOW - timedelta(days=2, hours=3), NOW)
    assert "+41 upvotes on Hugging Face this week" in lines
    assert "+300 GitHub stars this week" in lines
    assert "+1 save this week" in lines
    assert lines[-1] == "age 2 days"
    # the biggest contribution comes first
    assert lines[0] == "+41 upvotes on Hugging Face this week"
