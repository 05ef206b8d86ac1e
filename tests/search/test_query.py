"""The query parser: every operator, and any input degrading to plain words without an error."""

import re

import pytest

from paperfeed.search.query import MAX_QUERY_CHARS, parse


def test_operators_are_recognised():
    query = parse(
        '"chain of thought" reason* -robot -"reward model" author:"Yann LeCun" category:cs.CL llm'
    )
    assert query.phrases == [["chain", "of", "thought"]]
    assert query.prefixes == ["reason"]
    assert query.excluded == [["robot"], ["reward", "model"]]
    assert query.authors == [["Yann", "LeCun"]]
    assert query.categories == ["cs.CL"]
    assert query.terms == ["llm"]
    assert query.free_text == "llm reason chain of thought"


@pytest.mark.parametrize(
    ("raw", "arxiv_id"),
    [
        ("2401.12554", "2401.12554"),
        ("2401.12554v3", "2401.12554"),
        ("arXiv:2401.12554", "2401.12554"),
        ("https://arxiv.org/abs/2401.12554v2", "2401.12554"),
        ("https://arxiv.org/pdf/2401.12554.pdf", "2401.12554"),
        ("hep-th/9901001", "hep-th/9901001"),
        ("2401.12554 transformers", None),
    ],
)
def test_an_arxiv_id_in_any_common_form_is_recognised(raw, arxiv_id):
    assert parse(raw).arxiv_id == arxiv_id


@pytest.mark.parametrize(
    "raw",
    [
        '"unbalanced quote',
        'a "" b',
        "((( AND OR NOT )))",
        "title:foo^3 ~2 [1 TO 5] {x} \\",
        "author: category: - * -* **",
        "\x00\x01 null \x7f bytes",
        "🤖 emoji only 🧠",
        "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 math letters",
        "x" * 10_000,
        " ".join(["word"] * 5_000),
        "",
        "   ",
    ],
)
def test_any_input_parses_to_plain_words(raw):
    query = parse(raw)
    assert len(query.text) <= MAX_QUERY_CHARS
    assert "\x00" not in query.text
    for word in query.positive_words:
        assert re.fullmatch(r"[^\W_]+", word), word


def test_only_exclusions_are_read_as_words_rather_than_matching_nothing():
    query = parse("-only -negatives")
    assert query.terms == ["only", "negatives"]
    assert query.excluded == []


def test_a_prefix_needs_two_letters():
    assert parse("a*").prefixes == []
    assert parse("a*").terms == ["a"]
