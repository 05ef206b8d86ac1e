"""Build the in-repo known-item collection, in the BEIR layout, from the real arXiv corpus.

    .venv/bin/python bench/known_item.py                 # bench/.work/known-item-10k/
    .venv/bin/python bench/known_item.py --corpus full   # same queries, all 83k papers

A known-item query is what a researcher types for one paper they half remember; that paper is
its only relevant answer. The corpus is a seeded sample of 10,000 papers from
../shared/data/C_arxiv_metadata_corpus (or all 83,426 with `--corpus full`; the queries and
their answers are the same in both, so the two runs differ only in the distractors). The
targets are 125 papers drawn from the sample, and each gets four queries, one per style:

- keywords: 3-6 remembered words, lowercased and shuffled: 1-3 topical words of the title
  (in at most 10% of papers) and 2-3 of the 8 most distinctive words of the abstract (by
  tf-idf, among words in at least 3 and at most 5% of papers);
- fragment: a sentence of the abstract other than the first, cut to a window of at most 14
  words, with 40% of its stopwords and 15% of its other words dropped, and half of the common
  research words that SYNONYMS lists swapped for the listed word; kept only when 3+ topical
  words (in at most 10% of papers) survive;
- typo: the keywords query of the same paper with one typo (adjacent swap, dropped,
  doubled or neighbouring-key letter) in one word of 5+ letters, never a corpus word;
- author: the surname of the first or last author plus 2-3 words as in "keywords".

No query is the title, and none shares a run of more than MAX_TITLE_RUN consecutive words
with it. Everything is drawn from one random.Random(seed), so a build is reproducible.
docs/ranking.md says what these synthetic queries can and cannot tell.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import random
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / ".work"
SOURCE_DIR = ROOT.parent / "shared" / "data" / "C_arxiv_metadata_corpus"
HF_DIR = ROOT.parent / "shared" / "data" / "B_hf_daily_papers"
SEED = 20260301
SAMPLE_SIZE = 10_000
TARGETS = 125
STYLES = ("keywords", "fragment", "typo", "author")
MAX_TITLE_RUN = 3  # the longest run of consecutive title words a query may repeat
MIN_DF = 3  # a word in fewer papers is a coined name, which makes the query too easy
MAX_DF_SHARE = 0.05
TOPICAL_DF_SHARE = 0.10
FRAGMENT_WORDS = 14
MIN_DESCRIBED_WORDS = 8

_WORD = re.compile(r"[a-z][a-z0-9\-]*[a-z0-9]")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")

# Words nobody remembers a paper by: English function words and the boilerplate of abstracts.
STOPWORDS = frozenset(
    """a about above across after again against all almost also although always among an and
    another any are around as at be because been before being below between both but by can
    could did do does doing done down due during each either else enough especially even ever
    every few for from further had has have having here how however if in into is it its itself
    just many may might more most much must neither no nor not now of off often on once one only
    onto or other others our ours out over own per rather same several should since so some
    such than that the their them then there therefore these they this those though through
    thus to too toward towards under until up upon us using very via was we well were what when
    where whether which while who whose why will with within without would yet you your
    able across achieve achieves achieved addition additionally address addresses advantage
    aim allows approach approaches based benchmark benchmarks better challenge challenges
    challenging compared comprehensive conduct conducted consistently contribution current
    demonstrate demonstrates design designed develop developed different effective
    effectiveness efficient enable enables evaluate evaluated evaluation existing experiment
    experiments experimental extensive first framework furthermore give given help highly
    however important improve improved improvement improvements improves including introduce
    introduces key large leading lead leverage leverages leveraging limited make makes method
    methods model models namely new novel notably number obtain offers outperforms overall
    paper performance perform performs potential present presents previous problem problems
    promising propose proposed proposes provide provides recent recently related remains
    result results second show shows significant significantly specific specifically
    state-of-the-art still strong studies study successfully superior task tasks three two
    understanding use used uses various via wide widely work works""".split()
)

# A few common research words and a plausible word a person might type instead.
SYNONYMS = {
    "method": "technique",
    "approach": "method",
    "improve": "boost",
    "improves": "boosts",
    "enhance": "improve",
    "enhances": "improves",
    "large": "big",
    "model": "network",
    "models": "networks",
    "dataset": "data",
    "datasets": "data",
    "framework": "system",
    "utilize": "use",
    "utilizes": "uses",
    "leverage": "use",
    "leverages": "uses",
    "novel": "new",
    "demonstrate": "show",
    "demonstrates": "shows",
    "significantly": "much",
    "performance": "accuracy",
    "robust": "reliable",
    "reasoning": "inference",
    "generate": "produce",
    "generates": "produces",
    "generation": "synthesis",
    "efficient": "fast",
    "efficiency": "speed",
    "evaluate": "test",
    "evaluation": "testing",
    "optimal": "best",
    "optimize": "tune",
    "capabilities": "abilities",
    "tasks": "problems",
    "agents": "bots",
    "images": "pictures",
    "videos": "clips",
    "accurate": "precise",
    "predict": "forecast",
    "prediction": "forecasting",
    "learning": "training",
    "human": "people",
    "users": "people",
    "answer": "reply",
    "questions": "queries",
    "retrieval": "search",
    "reduce": "cut",
    "reduces": "cuts",
    "increase": "raise",
}

_KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")


@dataclass(frozen=True)
class Record:
    paper_id: str
    title: str
    abstract: str
    authors: list[str]
    categories: list[str]
    published: str

    def beir_doc(self) -> dict:
        return {
            "_id": self.paper_id,
            "title": self.title,
            "text": self.abstract,
            "metadata": {
                "authors": self.authors,
                "categories": self.categories,
                "published": self.published,
            },
        }


def read_records(source_dir: Path = SOURCE_DIR) -> list[Record]:
    """Every record of the corpus, sorted by id, whitespace normalised."""
    records = []
    for path in sorted(source_dir.glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            for line in lines:
                raw = json.loads(line)
                records.append(
                    Record(
                        paper_id=re.sub(r"v\d+$", "", raw["arxiv_id"]),
                        title=" ".join(raw["title"].split()),
                        abstract=" ".join(raw["abstract"].split()),
                        authors=list(raw["authors"]),
                        categories=list(raw["categories"]),
                        published=raw["published_date"],
                    )
                )
    records.sort(key=lambda r: r.paper_id)
    return records


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def title_run(query: str, title: str) -> int:
    """The longest run of consecutive title words that the query repeats in order."""
    q, t = words(query), words(title)
    best = 0
    for i in range(len(q)):
        for j in range(len(t)):
            n = 0
            while i + n < len(q) and j + n < len(t) and q[i + n] == t[j + n]:
                n += 1
            best = max(best, n)
    return best


class QueryMaker:
    """Makes the four query styles for a paper; all randomness comes from `rng`."""

    def __init__(self, sample: list[Record], rng: random.Random) -> None:
        self.rng = rng
        self.papers = len(sample)
        self.df: Counter[str] = Counter()
        for record in sample:
            self.df.update(set(words(f"{record.title} {record.abstract}")))

    def is_content(self, word: str) -> bool:
        return len(word) >= 3 and word not in STOPWORDS and not any(c.isdigit() for c in word)

    def is_topical(self, word: str) -> bool:
        """A content word rare enough to say what a paper is about (in at most 10% of them)."""
        return self.is_content(word) and self.df[word] <= TOPICAL_DF_SHARE * self.papers

    def distinctive_words(self, record: Record) -> list[str]:
        """Abstract words by tf-idf, those in at least MIN_DF and at most 5% of papers."""
        counts = Counter(w for w in words(record.abstract) if self.is_content(w) and len(w) >= 4)
        ceiling = MAX_DF_SHARE * self.papers
        scored = [
            (tf * math.log(self.papers / self.df[w]), w)
            for w, tf in counts.items()
            if MIN_DF <= self.df[w] <= ceiling
        ]
        return [w for _, w in sorted(scored, key=lambda s: (-s[0], s[1]))]

    def remembered_words(self, record: Record, n_title: int, n_abstract: int) -> list[str] | None:
        title_words = list(dict.fromkeys(w for w in words(record.title) if self.is_topical(w)))
        chosen = self.rng.sample(title_words, min(n_title, len(title_words)))
        pool = [w for w in self.distinctive_words(record)[:8] if not _same_word(w, chosen)]
        if len(pool) < n_abstract or not chosen:
            return None
        for word in self.rng.sample(pool, n_abstract):
            if not _same_word(word, chosen):
                chosen.append(word)
        self.rng.shuffle(chosen)
        return chosen

    def keywords(self, record: Record) -> str | None:
        n_title = self.rng.choice((1, 2, 2, 3))
        n_abstract = self.rng.choice((2, 3))
        chosen = self.remembered_words(record, n_title, n_abstract)
        return " ".join(chosen) if chosen and len(chosen) >= 3 else None

    def fragment(self, record: Record) -> str | None:
        sentences = _SENTENCE_END.split(record.abstract)[1:]
        sentences = [words(s) for s in sentences if 10 <= len(words(s)) <= 60]
        for _ in range(10):  # until the fragment still says something specific
            if not sentences:
                return None
            sentence = self.rng.choice(sentences)
            start = self.rng.randrange(0, max(1, len(sentence) - FRAGMENT_WORDS + 1))
            kept = []
            for word in sentence[start : start + FRAGMENT_WORDS]:
                if self.rng.random() < (0.4 if word in STOPWORDS else 0.15):
                    continue
                if word in SYNONYMS and self.rng.random() < 0.5:
                    word = SYNONYMS[word]
                kept.append(word)
            if len(kept) >= 5 and sum(self.is_topical(w) for w in kept) >= 3:
                return " ".join(kept)
        return None

    def typo(self, keywords: str) -> str | None:
        tokens = keywords.split()
        candidates = [i for i, w in enumerate(tokens) if len(w) >= 5 and w.isalpha()]
        for _ in range(20):
            if not candidates:
                return None
            i = self.rng.choice(candidates)
            misspelt = _misspell(tokens[i], self.rng)
            if misspelt != tokens[i] and misspelt not in self.df:
                return " ".join([*tokens[:i], misspelt, *tokens[i + 1 :]])
        return None

    def author(self, record: Record) -> str | None:
        if not record.authors:
            return None
        name = self.rng.choice([record.authors[0], record.authors[-1]])
        surname = name.split()[-1].lower().strip(".,")
        chosen = self.remembered_words(record, 1, self.rng.choice((1, 2)))
        if len(surname) < 2 or not chosen:
            return None
        return " ".join([surname, *chosen] if self.rng.random() < 0.5 else [*chosen, surname])


def _same_word(word: str, chosen: list[str]) -> bool:
    """Whether `word` is already chosen, up to a plural s ("model" vs "models")."""
    return any(word.rstrip("s") == other.rstrip("s") for other in chosen)


def _misspell(word: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(word) - 1)  # typos rarely hit the first letter
    kind = rng.choice(("swap", "drop", "double", "neighbour"))
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == "drop":
        return word[:i] + word[i + 1 :]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    for row in _KEYBOARD_ROWS:
        at = row.find(word[i])
        if at >= 0:
            near = [row[j] for j in (at - 1, at + 1) if 0 <= j < len(row)]
            return word[:i] + rng.choice(near) + word[i + 1 :]
    return word


def make_queries(targets: list[Record], maker: QueryMaker) -> list[tuple[str, str, str, str]]:
    """(query id, style, text, answer id) for every target and style it could be made for."""
    queries = []
    for n, record in enumerate(targets, start=1):
        keywords = maker.keywords(record)
        texts = {
            "keywords": keywords,
            "fragment": maker.fragment(record),
            "typo": maker.typo(keywords) if keywords else None,
            "author": maker.author(record),
        }
        for style in STYLES:
            text = texts[style]
            if text is None or title_run(text, record.title) > MAX_TITLE_RUN:
                continue
            queries.append((f"q{n:03d}-{style}", style, text, record.paper_id))
    return queries


def build(out_dir: Path, *, corpus: str = "sample", seed: int = SEED) -> Path:
    """Write corpus.jsonl, queries.jsonl and qrels/test.tsv to out_dir; returns out_dir."""
    records = read_records()
    rng = random.Random(seed)
    sample = sorted(rng.sample(records, SAMPLE_SIZE), key=lambda r: r.paper_id)
    title_counts = Counter(r.title.lower() for r in records)
    eligible = [
        r
        for r in sample
        if title_counts[r.title.lower()] == 1
        and len(words(r.title)) >= 4
        and len(words(r.abstract)) >= 80
    ]
    targets = rng.sample(eligible, TARGETS)
    queries = make_queries(targets, QueryMaker(sample, rng))

    _write(out_dir, records if corpus == "full" else sample, queries)
    return out_dir


def build_described(out_dir: Path, *, seed: int = SEED) -> Path:
    """The "described" collection: the same 10,000-paper sample, and for each sample paper that
    Hugging Face summarised, its AI summary with every title word removed as the query.

    A summary is written in other words than the abstract ("PC Agent-E framework improves data
    efficiency … through enhanced trajectory synthesis"); without the title's words (its coined
    name included) it reads like a person describing a paper whose name they forgot.
    """
    records = read_records()
    rng = random.Random(seed)
    sample = sorted(rng.sample(records, SAMPLE_SIZE), key=lambda r: r.paper_id)
    in_sample = {r.paper_id: r for r in sample}
    queries = []
    for path in sorted(HF_DIR.glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            for line in lines:
                for entry in json.loads(line).get("response") or []:
                    paper = entry.get("paper") if isinstance(entry, dict) else None
                    if not isinstance(paper, dict) or paper.get("id") not in in_sample:
                        continue
                    summary = paper.get("ai_summary")
                    if not isinstance(summary, str):
                        continue
                    title_words = set(words(in_sample[paper["id"]].title))
                    kept = [w for w in summary.split() if not set(words(w)) & title_words]
                    if len(words(" ".join(kept))) >= MIN_DESCRIBED_WORDS:
                        queries.append((paper["id"], " ".join(kept)))
    queries = sorted(dict(queries).items())  # one query per paper
    _write(
        out_dir,
        sample,
        [(f"d{n:04d}", "described", text, pid) for n, (pid, text) in enumerate(queries)],
    )
    return out_dir


def _write(out_dir: Path, corpus: list[Record], queries: list[tuple[str, str, str, str]]) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "qrels").mkdir(exist_ok=True)
    with (out_dir / "corpus.jsonl").open("w", encoding="utf-8") as out:
        for record in corpus:
            out.write(json.dumps(record.beir_doc(), ensure_ascii=False) + "\n")
    with (out_dir / "queries.jsonl").open("w", encoding="utf-8") as out:
        for query_id, style, text, _ in queries:
            row = {"_id": query_id, "text": text, "metadata": {"style": style}}
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    with (out_dir / "qrels" / "test.tsv").open("w", encoding="utf-8") as out:
        out.write("query-id\tcorpus-id\tscore\n")
        for query_id, _, _, answer in queries:
            out.write(f"{query_id}\t{answer}\t1\n")


def default_dir(corpus: str) -> Path:
    return WORK / ("known-item-83k" if corpus == "full" else "known-item-10k")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", choices=("sample", "full"), default="sample")
    parser.add_argument(
        "--described", action="store_true", help="build the described-10k collection instead"
    )
    parser.add_argument("--out", type=Path, help="default: bench/.work/known-item-10k or -83k")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    if args.described:
        out = build_described(args.out or WORK / "described-10k", seed=args.seed)
    else:
        out = build(args.out or default_dir(args.corpus), corpus=args.corpus, seed=args.seed)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
