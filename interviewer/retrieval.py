"""Questions in, references out: find the bank question a free-form question means, or the best passages.

Graders need a reference for whatever question they are handed. When the question is in the bank, however it
is worded, its own reference answer and key points are the reference; otherwise the passages closest in
meaning stand in for one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from interviewer.embeddings import Embedder
from interviewer.errors import QueryError
from interviewer.index import KnowledgeIndex
from interviewer.knowledge import Question, normalize_question
from interviewer.models import Reference

REFERENCE_PASSAGES = 3


@dataclass(frozen=True)
class SearchHit:
    """One question of the bank and its passage that best matched a query."""

    question: Question
    answer: str
    score: float

    def to_dict(self) -> dict[str, object]:
        """The JSON shape of `search --json`."""
        return {
            "question": self.question.question,
            "answer": self.answer,
            "topic": self.question.topic,
            "source": self.question.reference_source or self.question.source,
            "score": round(self.score, 4),
            "id": self.question.id,
        }


def check_query(query: str, max_chars: int) -> str:
    """Reject what cannot be searched, with a message that says how to fix it."""
    query = query.strip()
    if not query:
        raise QueryError("The query is empty; type a question or a few words to search for.")
    if len(query) > max_chars:
        raise QueryError(
            f"The query is {len(query):,} characters long; the limit is {max_chars:,}. "
            "Search with the question itself or a few key words."
        )
    return query


def _search(vectors, query_vector: np.ndarray, k: int) -> list[tuple[int, float]]:
    """(position, score) pairs, best first, skipping FAISS's -1 padding."""
    k = min(k, vectors.ntotal)
    if k <= 0:
        return []
    scores, positions = vectors.search(query_vector, k)
    return [(int(p), float(s)) for p, s in zip(positions[0], scores[0], strict=True) if p >= 0]


def search(index: KnowledgeIndex, embedder: Embedder, query: str, k: int = 5, max_chars: int = 2000) -> list[SearchHit]:
    """The k bank questions whose passages best match the query, one hit per question, best first."""
    query = check_query(query, max_chars)
    if k < 1:
        raise QueryError("--k must be at least 1.")
    query_vector = embedder.encode([query])
    hits: dict[str, SearchHit] = {}
    for position, score in _search(index.passage_vectors, query_vector, k * 4):
        passage = index.passages[position]
        if passage.question_id not in hits:
            hits[passage.question_id] = SearchHit(index.by_id[passage.question_id], passage.text, score)
        if len(hits) == k:
            break
    return list(hits.values())


def match_question(
    index: KnowledgeIndex, embedder: Embedder, question: str, threshold: float
) -> tuple[Question | None, float]:
    """The bank question that the text asks: exact wording first, then by meaning above the threshold.

    A question's score is the best cosine of the text against the question itself or any of its passages, so
    a paraphrase that echoes the answer's vocabulary ("teacher and student") still finds its question.
    """
    wanted = normalize_question(question)
    for candidate in index.questions:
        if normalize_question(candidate.question) == wanted:
            return candidate, 1.0
    vector = embedder.encode([question])
    scores: dict[str, float] = {}
    for position, score in _search(index.question_vectors, vector, 5):
        question_id = index.questions[position].id
        scores[question_id] = max(score, scores.get(question_id, -1.0))
    for position, score in _search(index.passage_vectors, vector, 10):
        question_id = index.passages[position].question_id
        scores[question_id] = max(score, scores.get(question_id, -1.0))
    if not scores:
        return None, 0.0
    best_id = max(scores, key=scores.__getitem__)
    best = scores[best_id]
    return (index.by_id[best_id] if best >= threshold else None), best


def find_reference(
    index: KnowledgeIndex, embedder: Embedder, question: str, threshold: float, max_chars: int = 2000
) -> Reference:
    """The reference for grading an answer to `question`."""
    question = check_query(question, max_chars)
    matched, score = match_question(index, embedder, question, threshold)
    if matched is not None and matched.reference_answer:
        source = matched.reference_source or matched.source
        return Reference(matched.reference_answer, matched.key_points, (source,), score, matched)
    hits = search(index, embedder, question, k=REFERENCE_PASSAGES, max_chars=max_chars)
    if not hits:
        raise QueryError("The knowledge base has no passage to grade against; run `python -m interviewer ingest`.")
    text = "\n\n".join(hit.answer for hit in hits)
    sources = tuple(hit.question.reference_source or hit.question.source for hit in hits)
    key_points = matched.key_points if matched is not None else ()
    return Reference(text, key_points, sources, hits[0].score, matched)
