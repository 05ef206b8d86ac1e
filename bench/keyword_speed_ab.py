"""Keyword search speed, before and after the one-field BM25 change, in one run.

    .venv/bin/python bench/keyword_speed_ab.py                # 100,000 papers
    .venv/bin/python bench/keyword_speed_ab.py --size 20000   # smoke run

The same corpus and queries as bench/search_speed.py (bench/speed_corpus.py). Two tantivy
indexes are built from it side by side:
- before: the layout paperfeed used until 2026-12 (title and abstract as separate stemmed
  fields, the title boosted 2×, one SHOULD clause per field and word), rebuilt here from that
  code's schema and query shape;
- after: `KeywordIndex` as it is (title and abstract as one field, a repeated word weighted
  by its count), through `KeywordIndex.search`, the function search calls.
Queries alternate between the two, so machine load hits both alike; top 10 per query. The
"before" query is built without typo correction, which costs nothing for these real words.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import tantivy

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import speed_corpus  # noqa: E402

from paperfeed.search import keyword  # noqa: E402
from paperfeed.search.keyword import STOPWORDS, KeywordIndex  # noqa: E402
from paperfeed.search.query import parse  # noqa: E402
from paperfeed.storage.search_source import SearchDoc  # noqa: E402

WORK = ROOT / "bench" / ".work" / "speed" / "keyword-ab"
STAMP = datetime(2026, 1, 1, tzinfo=UTC)


def read_docs(size: int) -> list[SearchDoc]:
    docs = []
    with speed_corpus.build_corpus(size).open(encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            authors = [a.strip() for a in str(record.get("authors") or "").split(",") if a.strip()]
            docs.append(
                SearchDoc(
                    str(record["id"]),
                    record.get("title") or "",
                    record.get("abstract") or "",
                    authors,
                    str(record.get("categories") or "").split(),
                    STAMP,
                    STAMP,
                )
            )
    return docs


class Before:
    """The two-field layout and query shape paperfeed had before (title 2×, abstract 1×)."""

    def __init__(self, directory: Path, docs: list[SearchDoc]) -> None:
        builder = tantivy.SchemaBuilder()
        builder.add_text_field("id", stored=True, tokenizer_name="raw", index_option="basic")
        builder.add_text_field("title", tokenizer_name="paperfeed_en")
        builder.add_text_field("abstract", tokenizer_name="paperfeed_en")
        builder.add_text_field("authors", tokenizer_name="paperfeed_names")
        self.schema = builder.build()
        directory.mkdir(parents=True)
        self.index = tantivy.Index(self.schema, path=str(directory))
        self.index.register_tokenizer("paperfeed_en", keyword._stem_analyzer())
        self.index.register_tokenizer("paperfeed_names", keyword._name_analyzer())
        self.stem = keyword._stem_analyzer()
        self.names = keyword._name_analyzer()
        writer = self.index.writer(heap_size=keyword.WRITER_HEAP, num_threads=2)
        for doc in docs:
            document = tantivy.Document()
            document.add_text("id", doc.id)
            document.add_text("title", doc.title)
            document.add_text("abstract", doc.abstract)
            for author in doc.authors:
                document.add_text("authors", author)
            writer.add_document(document)
        writer.commit()
        writer.wait_merging_threads()
        self.index.reload()

    def search(self, text: str, limit: int = 10) -> list[str]:
        query = parse(text)
        words = [w for w in query.terms if w.lower() not in STOPWORDS] or query.terms
        clauses = []
        for word in dict.fromkeys(words):
            stems = self.stem.analyze(word)
            if not stems:
                continue
            title = tantivy.Query.term_query(self.schema, "title", stems[0])
            clauses.append((tantivy.Occur.Should, tantivy.Query.boost_query(title, 2.0)))
            clauses.append(
                (tantivy.Occur.Should, tantivy.Query.term_query(self.schema, "abstract", stems[0]))
            )
            names = self.names.analyze(word)
            if names:
                clauses.append(
                    (
                        tantivy.Occur.Should,
                        tantivy.Query.term_query(self.schema, "authors", names[0]),
                    )
                )
        searcher = self.index.searcher()
        found = searcher.search(tantivy.Query.boolean_query(clauses), limit=limit, count=False)
        return [searcher.doc(address)["id"][0] for _, address in found.hits]


def build_after(directory: Path, docs: list[SearchDoc]) -> KeywordIndex:
    index = KeywordIndex.open(directory, rebuild=True)
    writer = index._index.writer(heap_size=keyword.WRITER_HEAP, num_threads=2)
    for doc in docs:
        writer.add_document(KeywordIndex._document(doc))
    writer.commit()
    writer.wait_merging_threads()
    index._index.reload()
    return index


def spread(times: list[float]) -> str:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return f"p50 {statistics.median(ordered):6.2f} ms  p95 {p95:6.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=100)
    args = parser.parse_args()
    docs = read_docs(args.size)
    shutil.rmtree(WORK, ignore_errors=True)
    started = time.perf_counter()
    before = Before(WORK / "before", docs)
    built_before = time.perf_counter() - started
    started = time.perf_counter()
    after = build_after(WORK / "after", docs)
    built_after = time.perf_counter() - started
    print(f"{len(docs)} papers; build: before {built_before:.1f} s, after {built_after:.1f} s")
    queries = speed_corpus.build_queries(args.queries)["classes"]
    for name, sets in queries.items():
        for text in sets["warmup"]:
            before.search(text)
            after.search(parse(text), limit=10)
        times: dict[str, list[float]] = {"before": [], "after": []}
        for text in sets["measured"]:
            started = time.perf_counter()
            before.search(text)
            times["before"].append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            after.search(parse(text), limit=10)
            times["after"].append((time.perf_counter() - started) * 1000)
        print(f"{name:<7} before {spread(times['before'])}   after {spread(times['after'])}")


if __name__ == "__main__":
    main()
