"""Knowledge-base benchmark: ingest overhead, index load time, search latency on the real and a 100k bank.

Run: `.venv/bin/python -m bench.knowledge` (or `make bench`). Figures go to docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from interviewer.embeddings import SentenceTransformerEmbedder
from interviewer.index import KnowledgeIndex, Passage, chunk_answer, embedding_texts, flat_index, open_index
from interviewer.knowledge import Question, load_bank
from interviewer.retrieval import search
from interviewer.settings import load_settings

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


def time_searches(index: KnowledgeIndex, embedder: SentenceTransformerEmbedder, rounds: int) -> list[float]:
    """Seconds per `search` call (query encoding included), over `rounds` passes of the queries."""
    timings = []
    for _ in range(rounds):
        for query in QUERIES:
            start = time.perf_counter()
            search(index, embedder, query, k=5)
            timings.append(time.perf_counter() - start)
    return timings


def synthetic_index(size: int, dimension: int, seed: int = 0) -> KnowledgeIndex:
    """A bank of `size` passages with random unit vectors: FAISS flat search cost depends only on the count."""
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((size, dimension)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    questions = tuple(
        Question(
            id=f"q{i}",
            question=f"synthetic question {i}",
            topic="Synthetic",
            reference_answer="...",
            key_points=(),
            source=f"synthetic:{i}",
        )
        for i in range(size // 10)
    )
    passages = tuple(Passage(f"q{i // 10}", f"passage {i}") for i in range(size))
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

    real = time_searches(report.index, embedder, args.rounds)
    print(
        f"search, real bank:      p50 {percentile(real, 50):6.1f} ms  p99 {percentile(real, 99):6.1f} ms  "
        f"(n={len(real)}, query encoding included)"
    )
    big = synthetic_index(args.synthetic, report.index.manifest["dimension"])
    synthetic = time_searches(big, embedder, args.rounds)
    print(
        f"search, {args.synthetic:,} passages: p50 {percentile(synthetic, 50):6.1f} ms  "
        f"p99 {percentile(synthetic, 99):6.1f} ms  (n={len(synthetic)}, query encoding included)"
    )
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
