"""LaTeX in titles and abstracts as readable Unicode: real formulas, half-LaTeX prose that must be
left alone, and hostile input that must neither hang, nor raise, nor lose text."""

from __future__ import annotations

import random
import time
import unicodedata

import pytest

from paperfeed.digest.math_text import MAX_CHARS, latex_to_text


@pytest.mark.parametrize(
    ("source", "readable"),
    [
        (r"$O(n \log n)$", "O(n log n)"),
        (r"\alpha and $\beta$", "α and β"),
        (r"$x^2$, $x^{10}$, $x_i$, $x_{ij}$, $W^{-1}$", "x², x¹⁰, xᵢ, xᵢⱼ, W⁻¹"),
        (r"$\mathcal{L}$ and $\mathcal{O}(1/\epsilon^2)$", "ℒ and 𝒪(1/ϵ²)"),
        (r"$\mathbb{R}^d$", "ℝᵈ"),
        (r"$\frac{1}{2}$ and $\frac{a+b}{2c}$", "1/2 and (a+b)/2c"),
        (r"$\tilde{O}(\sqrt{T})$ regret", "Õ(√T) regret"),
        (r"$\sqrt[3]{x}$", "³√x"),
        (r"$m\times n$ with $V\in\mathbb{R}^{r\times r}$", "m × n with V ∈ ℝ^(r × r)"),
        (r"$\max_{i} x_{\max}$", "maxᵢ xₘₐₓ"),
        (r"$\nabla_\theta \mathcal{L}$", "∇_θ ℒ"),
        (r"$\|x\|_2$ and $\{1,\dots,n\}$", "‖x‖₂ and {1,…,n}"),
        (
            r"$\mathrm{softmax}$, $\text{ReLU}$, $\operatorname*{arg\,max}_\theta$",
            "softmax, ReLU, arg max_θ",
        ),
        (r"$\left( \frac{1}{\epsilon} \right)$", "( 1/ϵ )"),
        (r"Schr\"odinger and \'etale, i.\,i.\,d", "Schrödinger and étale, i. i. d"),
        (r"$\hat{\theta}$", "θ̂"),
        (r"\textbf{Ventor-QTest}, \emph{really}", "Ventor-QTest, really"),
        (r"\url{https://github.com/a_b/c}", "https://github.com/a_b/c"),
        (r"$$E = mc^2$$ and \(a \leq b\) and \[c \geq d\]", "E = mc² and a ≤ b and c ≥ d"),
        (r"\begin{equation} a=b \end{equation}", "a=b"),
        ("$γ$-weakly $θ$-up-concavity", "γ-weakly θ-up-concavity"),
    ],
)
def test_latex_becomes_readable_unicode(source, readable):
    assert latex_to_text(source) == readable


def test_real_titles_from_arxiv_read_as_text(math_records):
    titles = {r["arxiv_id"]: latex_to_text(r["title"]) for r in math_records}
    assert titles["2602.08007v1"].startswith("From O(mn) to O(r²): Two-Sided Low-Rank")
    assert "Q*-Approximation" in titles["2602.12107v1"]
    for record in math_records:
        assert "$" not in latex_to_text(record["title"]) + latex_to_text(record["abstract"])


@pytest.mark.parametrize(
    "prose",
    [
        "only 3.2% of the KV cache, and 10x faster",  # % is not a comment here
        "costs $10 and $20 per run",  # money, not math
        "a <script>alert(1)</script> & b",  # escaping is the renderer's job
        "A ~ B and x_1 outside math",
        "}}}}{{{{ and unbalanced {brace and $math",
    ],
)
def test_prose_that_only_looks_like_latex_is_left_alone(prose):
    assert latex_to_text(prose) == prose


@pytest.mark.parametrize(
    ("source", "kept"),
    [
        (r"our \ourmethod achieves", r"our \ourmethod achieves"),
        (r"We introduce \ours{}, a benchmark", r"We introduce \ours{}, a benchmark"),
        (r"$\foo{x} + 1$", r"\foo{x} + 1"),
        (r"see \cite{smith} and \ref{eq:1}", r"see \cite{smith} and \ref{eq:1}"),
    ],
)
def test_unknown_macros_are_kept_as_written(source, kept):
    assert latex_to_text(source) == kept


@pytest.mark.parametrize(
    "bomb",
    [
        r"\def\a{\a\a}\a\a",
        r"\newcommand{\x}{\x\x\x\x}\x\x\x",
        r"\def\ba{\bb\bb\bb\bb\bb\bb}\def\bb{\bc\bc\bc\bc}\def\bc{xxxxxxxx}$\ba\ba\ba$",
    ],
)
def test_definitions_are_never_expanded(bomb):
    assert latex_to_text(bomb) == bomb.replace("$", "")


@pytest.mark.parametrize(
    "deep",
    [
        "$" + "{" * 3000 + "x" + "}" * 3000 + "$",
        "$" + r"\hat" * 3000 + "x$",
        "$x" + "^" * 3000 + "$",
    ],
)
def test_deep_nesting_falls_back_to_the_source(deep):
    assert latex_to_text(deep) == deep


def test_huge_input_comes_back_unconverted_and_quickly():
    huge = r"$x^2$ \alpha " * 50_000
    started = time.perf_counter()
    result = latex_to_text(huge)
    assert time.perf_counter() - started < 1.0
    assert result == huge.strip()
    assert latex_to_text(huge[: MAX_CHARS - 20]).startswith("x² α x²")


def test_controls_and_bidi_overrides_are_removed_and_whitespace_collapsed():
    assert latex_to_text("a\x00b \u202eevil\u202c\n\n  $x^2$\t") == "ab evil x²"
    assert latex_to_text(None) == ""


def test_random_latexish_input_never_raises_and_drops_no_letters():
    alphabet = (
        "$ { } \\ ^ _ \\frac \\sqrt[ ] \\alpha \\left( \\begin{ \\mathcal{ word % & ~ $$ \\\\"
    )
    alphabet = alphabet.split() + [" ", "\\(", "\\)", "\\[", "\\]", "\\begin{cases}", '\\"', "\\^"]
    rng = random.Random(20260301)
    for _ in range(3000):
        source = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40)))
        result = latex_to_text(source)
        assert isinstance(result, str)
        # "w" and "o" are in no macro name here, so each must survive (NFKD reads the 𝓌 and ℴ
        # of an unclosed \mathcal{, or an accented ŵ, as w and o); "\frac word" reads "w/o rd".
        readable = unicodedata.normalize("NFKD", result)
        for letter in "wo":
            assert readable.count(letter) == source.count(letter), source
