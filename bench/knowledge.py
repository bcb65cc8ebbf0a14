"""Knowledge-base benchmark: ingest overhead, index load, search quality and latency on the real and a 100k bank.

Run: `.venv/bin/python -m bench.knowledge` (or `make bench`). Figures go to docs/BENCHMARKS.md. Search quality is
measured on `bench/data/search/phrasings.jsonl` (see its README): top-1 and top-3 for meaning alone (the
reference) and for the shipped hybrid ranking, on the dev phrasings the weight was tuned on and the held-out ones.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from interviewer.embeddings import SentenceTransformerEmbedder
from interviewer.index import KnowledgeIndex, Passage, chunk_answer, embedding_texts, flat_index, open_index
from interviewer.knowledge import Question, load_bank
from interviewer.retrieval import LEXICAL_WEIGHT, rank
from interviewer.settings import load_settings

PHRASINGS = Path(__file__).parent / "data" / "search" / "phrasings.jsonl"

QUERIES = [
    "how does dynamic batching trade latency for throughput",
    "int8 quantization calibration",
    "difference between TensorFlow 1 and 2",
    "what is a KV cache",
    "how to monitor drift in production",
    "torch.compile graph breaks",
    "explain knowledge distillation",
    "reduce model size for mobile",
]


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile in milliseconds."""
    return float(np.percentile(np.array(values) * 1000, q))


def time_searches(
    index: KnowledgeIndex, embedder: SentenceTransformerEmbedder, rounds: int, weight: float = LEXICAL_WEIGHT
) -> list[float]:
    """Seconds per ranking (query encoding included), over `rounds` passes of the queries."""
    timings = []
    for _ in range(rounds):
        for query in QUERIES:
            start = time.perf_counter()
            rank(index, embedder, query, weight)[:5]
            timings.append(time.perf_counter() - start)
    return timings


def read_phrasings(path: Path = PHRASINGS) -> list[dict[str, str]]:
    """The phrasings set: query, the bank question id it asks, kind (exact or paraphrase), split (dev or heldout)."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def search_quality(index: KnowledgeIndex, embedder: SentenceTransformerEmbedder, weight: float) -> dict[str, object]:
    """Top-1 and top-3 hit rates per split and kind for one lexical weight (0 is meaning alone)."""
    rows = read_phrasings()
    missing = sorted({row["id"] for row in rows} - set(index.by_id))
    found: dict[str, list[tuple[bool, bool]]] = {}
    for row in rows:
        if row["id"] in missing:
            continue
        ids = [hit.question.id for hit in rank(index, embedder, row["query"], weight)[:3]]
        outcome = (ids[:1] == [row["id"]], row["id"] in ids)
        for group in (row["split"], f"{row['split']} {row['kind']}", "all"):
            found.setdefault(group, []).append(outcome)
    return {"missing": missing, "groups": found}


def print_quality(index: KnowledgeIndex, embedder: SentenceTransformerEmbedder) -> None:
    """The quality table: dense alone beside the hybrid ranking, measured in the same run."""
    dense = search_quality(index, embedder, 0.0)
    hybrid = search_quality(index, embedder, LEXICAL_WEIGHT)
    if dense["missing"]:
        print(f"phrasings naming questions not in the bank (skipped): {', '.join(dense['missing'])}")
    print(f"search quality, hybrid weight {LEXICAL_WEIGHT}:")
    print(f"  {'group':34} {'n':>4}   dense top1/top3   hybrid top1/top3")
    for group in sorted(dense["groups"], key=lambda g: (g == "all", g)):
        d, h = dense["groups"][group], hybrid["groups"][group]
        rates = [sum(o[i] for o in found) / len(found) for found in (d, h) for i in (0, 1)]
        print(f"  {group:34} {len(d):4}   {rates[0]:6.1%} {rates[1]:6.1%}     {rates[2]:6.1%} {rates[3]:6.1%}")


def synthetic_texts(bank_texts: list[str], size: int, rng: np.random.Generator) -> list[str]:
    """`size` passages of 120 words drawn from the bank's own words, so BM25 sees a realistic vocabulary."""
    words = np.array(" ".join(bank_texts).split())
    return [" ".join(words[rng.integers(0, len(words), 120)]) for _ in range(size)]


def synthetic_index(size: int, dimension: int, bank_texts: list[str], seed: int = 0) -> KnowledgeIndex:
    """A bank of `size` passages, ten per question, with random unit vectors (FAISS flat search cost depends only
    on the count) and texts made of the bank's words; each question's answer is its ten passages, so BM25 over
    the questions' whole texts indexes the same words (its cost depends on how many texts hold each query term)."""
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((size, dimension)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    texts = synthetic_texts(bank_texts, size, rng)
    questions = tuple(
        Question(
            id=f"q{i}",
            question=f"synthetic question {i}",
            topic="Synthetic",
            reference_answer="\n\n".join(texts[i * 10 : i * 10 + 10]),
            key_points=(),
            source=f"synthetic:{i}",
        )
        for i in range(size // 10)
    )
    passages = tuple(Passage(f"q{i // 10}", texts[i]) for i in range(size))
    return KnowledgeIndex(
        questions,
        passages,
        flat_index(vectors[: len(questions)], dimension),
        flat_index(vectors, dimension),
        {"dimension": dimension},
    )


def main() -> None:
    """Print every figure of the knowledge benchmark."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=25, help="passes over the queries per latency figure")
    parser.add_argument("--synthetic", type=int, default=100_000, help="passages in the synthetic bank")
    args = parser.parse_args()
    settings = load_settings()
    embedder = SentenceTransformerEmbedder(settings.embedding_model)

    start = time.perf_counter()
    embedder.encode(["warm up"])
    print(f"model load (first encode):        {time.perf_counter() - start:8.2f} s")

    bank = load_bank(settings.knowledge_dir)
    passages = tuple(Passage(q.id, c) for q in bank.questions for c in chunk_answer(q.reference_answer))
    texts = embedding_texts(bank.questions, passages)
    start = time.perf_counter()
    embedder.encode(texts)
    raw = time.perf_counter() - start

    with tempfile.TemporaryDirectory() as scratch:
        index_dir = Path(scratch) / "index"
        start = time.perf_counter()
        report = open_index(settings.knowledge_dir, index_dir, embedder)
        ingest = time.perf_counter() - start
        loads = []
        for _ in range(10):
            start = time.perf_counter()
            open_index(settings.knowledge_dir, index_dir, embedder)
            loads.append(time.perf_counter() - start)
        shutil.rmtree(index_dir)
    print(f"bank: {len(report.index.questions)} questions, {len(report.index.passages)} passages, {len(texts)} texts")
    print(f"raw encoding of the same texts:    {raw:8.2f} s")
    print(f"ingest (parse, chunk, encode, save): {ingest:6.2f} s   overhead ratio {ingest / raw:.2f}x")
    print(f"index load when current: p50 {percentile(loads, 50):.1f} ms, max {max(loads) * 1000:.1f} ms")

    print_quality(report.index, embedder)
    real = time_searches(report.index, embedder, args.rounds)
    print(
        f"search, real bank:      p50 {percentile(real, 50):6.1f} ms  p99 {percentile(real, 99):6.1f} ms  "
        f"(n={len(real)}, query encoding included)"
    )
    start = time.perf_counter()
    big = synthetic_index(args.synthetic, report.index.manifest["dimension"], texts)
    print(f"synthetic bank built (vectors, BM25 index): {time.perf_counter() - start:.1f} s")
    synthetic = time_searches(big, embedder, args.rounds)
    dense_only = time_searches(big, embedder, args.rounds, weight=0.0)
    p99, reference = percentile(synthetic, 99), percentile(dense_only, 99)
    print(
        f"search, {args.synthetic:,} passages: p50 {percentile(synthetic, 50):6.1f} ms  "
        f"p99 {p99:6.1f} ms  (n={len(synthetic)}, query encoding included)"
    )
    print(
        f"  meaning alone, same run:  p50 {percentile(dense_only, 50):6.1f} ms  p99 {reference:6.1f} ms  "
        f"hybrid/dense p99 ratio {p99 / reference:.2f}x"
    )
    timings = []
    for _ in range(args.rounds):
        for query in QUERIES:
            start = time.perf_counter()
            big.lexical.scores(query)
            timings.append(time.perf_counter() - start)
    print(f"  of which BM25 scoring:    p50 {percentile(timings, 50):.1f} ms  p99 {percentile(timings, 99):.1f} ms")
    vector = embedder.encode([QUERIES[0]])
    faiss_only = []
    for _ in range(100):
        start = time.perf_counter()
        big.passage_vectors.search(vector, 20)
        faiss_only.append(time.perf_counter() - start)
    p50, p99 = percentile(faiss_only, 50), percentile(faiss_only, 99)
    print(f"  of which FAISS flat search: p50 {p50:.1f} ms  p99 {p99:.1f} ms")


if __name__ == "__main__":
    main()
