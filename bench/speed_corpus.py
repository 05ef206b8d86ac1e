"""Corpora and queries for bench/search_speed.py, all derived from the 83k real records.

    .venv/bin/python bench/speed_corpus.py SIZE     # writes the corpus file, prints its path

Corpus of N papers (`bench/.work/speed/corpus-<N>.jsonl`, arXiv snapshot format, written once):
- the 83,426 real records of ../shared/data/C_arxiv_metadata_corpus as they are (converted by
  bench/ingest.py), then
- mixed copies until there are N: copy k (1, 2, …) walks the real records in a fresh random
  order; record i's copy gets a new id (the year digits shifted by 3*k, as bench/ingest.py
  does), the first half of its own title's words followed by the second half of another random
  record's title, and its own abstract sentences in shuffled order with each sentence swapped,
  with probability 1/2, for a random sentence of another random record. Authors, categories and
  dates stay record i's. So no two documents are equal, while the vocabulary, term frequencies
  and lengths stay those of real cs.AI abstracts.

Queries (`bench/.work/speed/queries.json`), from the real records only, 20 warm-up + 100 measured
per class (more with --queries):
- rare: one word with document frequency 2-5 among the 83k (about 25-60 papers at 1M);
- common: 1-3 words each found in at least 30% of the real papers (checked again on each built
  index by search_speed.py, which reports the measured share);
- multi: 3-5 content words of a real title, in title order.
"""

from __future__ import annotations

import importlib.util
import json
import random
import re
import sys
from collections import Counter
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / ".work" / "speed"
SEED = 20261125
WARMUP_QUERIES = 20
COMMON_SHARE = 0.30
RARE_DF = (2, 5)

_WORD = re.compile(r"[a-z]+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
# Function words are common but not what anyone searches for; queries use content words only.
FUNCTION_WORDS = frozenset(
    "a about above across after again against all also an and any are as at be because been "
    "being between both but by can could did do does done during each either for from further "
    "had has have having here however how if in into is it its itself may might more most much "
    "must new no nor not of often on once one only or other our ours out over own paper s same "
    "several should show shows so some such than that the their them then there these they this "
    "those through thus to too two under until up upon us use used uses using very via was we "
    "well were what when where whether which while who whose why will with within without would "
    "yet based first".split()
)


def base_corpus() -> Path:
    """The 83k real records in arXiv snapshot format (bench/ingest.py writes it once)."""
    spec = importlib.util.spec_from_file_location("bench_ingest", ROOT / "bench" / "ingest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build_corpora(["83k"])["83k"]


def read_base() -> list[dict]:
    with base_corpus().open("rb") as lines:
        return [orjson.loads(line) for line in lines]


def build_corpus(size: int) -> Path:
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / f"corpus-{size}.jsonl"
    if path.exists():
        return path
    records = read_base()
    sentences = [_SENTENCE_END.split(r["abstract"].strip()) for r in records]
    titles = [r["title"].split() for r in records]
    rng = random.Random(SEED)
    tmp = path.with_suffix(".tmp")
    written = 0
    with tmp.open("wb") as out:
        for record in records[:size]:
            out.write(orjson.dumps(record) + b"\n")
            written += 1
        copy = 0
        while written < size:
            copy += 1
            order = list(range(len(records)))
            rng.shuffle(order)
            for i in order[: size - written]:
                out.write(orjson.dumps(_mixed_copy(records[i], i, copy, titles, sentences, rng)))
                out.write(b"\n")
                written += 1
    tmp.replace(path)
    return path


def _mixed_copy(
    record: dict,
    index: int,
    copy: int,
    titles: list[list[str]],
    sentences: list[list[str]],
    rng: random.Random,
) -> dict:
    arxiv_id = record["id"]
    if not re.fullmatch(r"\d{4}\.\d{4,5}", arxiv_id):
        raise ValueError(f"expected a new-style arXiv id, got {arxiv_id!r}")
    other = titles[rng.randrange(len(titles))]
    own = titles[index]
    title = " ".join(own[: (len(own) + 1) // 2] + other[len(other) // 2 :])
    mixed = list(sentences[index])
    rng.shuffle(mixed)
    for n in range(len(mixed)):
        if rng.random() < 0.5:
            donor = sentences[rng.randrange(len(sentences))]
            mixed[n] = donor[rng.randrange(len(donor))]
    return {
        **record,
        "id": f"{int(arxiv_id[:2]) + 3 * copy:02d}{arxiv_id[2:]}",
        "title": title,
        "abstract": " ".join(mixed),
    }


def build_queries(measured: int = 100) -> dict:
    """Warm-up and measured queries per class (cached; rebuilt when `measured` changes)."""
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / "queries.json"
    if path.exists():
        cached = json.loads(path.read_text())
        if len(cached["classes"]["rare"]["measured"]) == measured:
            return cached
    records = read_base()
    df: Counter[str] = Counter()
    for r in records:
        df.update(set(_WORD.findall(f"{r['title']} {r['abstract']}".lower())))
    total = len(records)
    common = sorted(
        (w for w, n in df.items() if n >= COMMON_SHARE * total and w not in FUNCTION_WORDS),
        key=lambda w: -df[w],
    )
    rare = sorted(
        w
        for w, n in df.items()
        if RARE_DF[0] <= n <= RARE_DF[1] and len(w) >= 6 and w not in FUNCTION_WORDS
    )
    rng = random.Random(SEED)
    wanted = WARMUP_QUERIES + measured
    rare_queries = rng.sample(rare, wanted)
    common_queries = [" ".join(rng.sample(common, 1 + n % 3)) for n in range(wanted)]
    multi_queries: list[str] = []
    while len(multi_queries) < wanted:
        words = [
            w
            for w in re.findall(r"[A-Za-z][A-Za-z0-9-]*", records[rng.randrange(total)]["title"])
            if w.lower() not in FUNCTION_WORDS and len(w) > 1
        ]
        if len(words) >= 3:
            start = rng.randrange(0, max(1, len(words) - 4))
            multi_queries.append(" ".join(words[start : start + rng.randint(3, 5)]))
    queries = {
        "seed": SEED,
        "common_terms": {w: round(df[w] / total, 3) for w in common},
        "rare_df": list(RARE_DF),
        "classes": {
            name: {"warmup": found[:WARMUP_QUERIES], "measured": found[WARMUP_QUERIES:]}
            for name, found in (
                ("rare", rare_queries),
                ("common", common_queries),
                ("multi", multi_queries),
            )
        },
    }
    path.write_text(json.dumps(queries, indent=1))
    return queries


if __name__ == "__main__":
    print(json.dumps({"path": str(build_corpus(int(sys.argv[1])))}))
