"""Questions in, references out: find the bank question a free-form question means, or the best passages.

Graders need a reference for whatever question they are handed. When the question is in the bank, however it
is worded, its own reference answer and key points are the reference; otherwise the closest passages stand in
for one. Every lookup (search, matching a question, choosing a focus round's questions) ranks with `rank`,
which mixes meaning with exact terms as a weighted sum of two scores on the same 0-1 scale, per question:
meaning is the best cosine similarity between the query and one of the question's texts (its wording, or one
passage of its answer with the wording), since a sentence embedding of a whole long answer blurs; exact terms
are BM25 over the question's whole text (`interviewer/lexical.py`, `index.lexical_document`), since a rare term
is evidence wherever in the question's material it appears. Deciding that a free-form question *is* a bank
question stays a test of meaning (cosine against `match_threshold`); deciding that a question is *about* a
focus uses the hybrid score (`engine.FOCUS_MIN_SCORE`).
"""

from __future__ import annotations

from dataclasses import dataclass

import faiss
import numpy as np

from interviewer.embeddings import Embedder
from interviewer.errors import QueryError
from interviewer.index import KnowledgeIndex
from interviewer.knowledge import Question, normalize_question
from interviewer.models import Reference

REFERENCE_PASSAGES = 3
LEXICAL_WEIGHT = 0.5
"""Share of exact-term (BM25) relevance in the hybrid score; tuned on the dev phrasings in bench/data/search."""
CANDIDATES = 50
"""Texts taken by meaning, and questions taken by exact terms, before both scores are computed for all of them."""


@dataclass(frozen=True)
class SearchHit:
    """One question of the bank and its passage that best matched a query.

    `score` is the hybrid relevance `(1 - LEXICAL_WEIGHT) * dense + LEXICAL_WEIGHT * lexical`; `dense` is the
    cosine similarity of the question's best text, `lexical` the BM25 share of the query's terms in the
    question's whole text (both 0-1). `answer` is the passage closest in meaning to the query.
    """

    question: Question
    answer: str
    score: float
    dense: float = 0.0
    lexical: float = 0.0

    def to_dict(self) -> dict[str, object]:
        """The JSON shape of `search --json`."""
        return {
            "question": self.question.question,
            "answer": self.answer,
            "topic": self.question.topic,
            "source": self.question.reference_source or self.question.source,
            "score": round(self.score, 4),
            "dense": round(self.dense, 4),
            "lexical": round(self.lexical, 4),
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


def _nearest(vectors: faiss.Index, query_vector: np.ndarray, k: int) -> list[tuple[int, float]]:
    """(position, cosine) pairs, best first, skipping FAISS's -1 padding."""
    k = min(k, vectors.ntotal)
    if k <= 0:
        return []
    scores, positions = vectors.search(query_vector, k)
    return [(int(p), float(s)) for p, s in zip(positions[0], scores[0], strict=True) if p >= 0]


def _text_owner(index: KnowledgeIndex, position: int) -> str:
    """The question id of an embedded text: questions come first, then passages (as in `embedding_texts`)."""
    count = len(index.questions)
    return index.questions[position].id if position < count else index.passages[position - count].question_id


def _dense_scores(index: KnowledgeIndex, query_vector: np.ndarray, lexical: np.ndarray) -> dict[int, float]:
    """Cosine of the query with the texts nearest in meaning and with every text of the questions nearest by
    exact terms, keyed by text position (questions first, then passages)."""
    count = len(index.questions)
    dense = dict(_nearest(index.question_vectors, query_vector, CANDIDATES))
    dense |= {count + p: s for p, s in _nearest(index.passage_vectors, query_vector, CANDIDATES)}
    top = min(CANDIDATES, len(lexical))
    for question in np.argpartition(-lexical, top - 1)[:top] if top else ():
        question = int(question)
        if lexical[question] <= 0:
            continue
        if question not in dense:
            dense[question] = float(index.question_vectors.reconstruct(question) @ query_vector[0])
        for passage in index.passage_positions.get(index.questions[question].id, ()):
            if count + passage not in dense:
                dense[count + passage] = float(index.passage_vectors.reconstruct(passage) @ query_vector[0])
    return dense


def rank(
    index: KnowledgeIndex, embedder: Embedder, query: str, lexical_weight: float = LEXICAL_WEIGHT
) -> list[SearchHit]:
    """Bank questions near the query by meaning or exact terms, best first, each with its closest passage.

    `lexical_weight` 0 ranks by meaning alone: the benchmark's reference.
    """
    query_vector = embedder.encode([query])
    lexical = index.lexical.scores(query)
    count = len(index.questions)
    dense_of: dict[str, float] = {}
    best_passage: dict[str, tuple[float, str]] = {}
    for position, dense in _dense_scores(index, query_vector, lexical).items():
        owner = _text_owner(index, position)
        dense_of[owner] = max(dense, dense_of.get(owner, -1.0))
        if position >= count and dense > best_passage.get(owner, (-1.0, ""))[0]:
            best_passage[owner] = (dense, index.passages[position - count].text)
    hits = []
    for owner, dense in dense_of.items():
        exact = float(lexical[index.position_of[owner]])
        passage = best_passage[owner][1] if owner in best_passage else index.first_passage(owner)
        score = (1 - lexical_weight) * dense + lexical_weight * exact
        hits.append(SearchHit(index.by_id[owner], passage, score, dense, exact))
    return sorted(hits, key=lambda hit: hit.score, reverse=True)


def search(index: KnowledgeIndex, embedder: Embedder, query: str, k: int = 5, max_chars: int = 2000) -> list[SearchHit]:
    """The k bank questions that best match the query, by meaning and exact terms, one hit per question."""
    query = check_query(query, max_chars)
    if k < 1:
        raise QueryError("--k must be at least 1.")
    return rank(index, embedder, query)[:k]


def match_question(
    index: KnowledgeIndex, embedder: Embedder, question: str, threshold: float
) -> tuple[Question | None, float]:
    """The bank question that the text asks: exact wording first, else the best-ranked question that means the
    same (its cosine similarity reaches the threshold); returns it or None, and the best similarity seen.

    Saying "this is that question" is a test of meaning: the question most similar in meaning wins, if it reaches
    the threshold. Exact terms only order search results: a question asked in a few words ("what's a kv cache")
    shares its terms with every question whose passages use them, so ranking by them here would pick a question
    that merely mentions the term. A question's text is the question itself or any of its passages, so a
    paraphrase that echoes the answer's vocabulary still finds it.
    """
    wanted = normalize_question(question)
    for candidate in index.questions:
        if normalize_question(candidate.question) == wanted:
            return candidate, 1.0
    best = max(rank(index, embedder, question), key=lambda hit: hit.dense, default=None)
    if best is None:
        return None, 0.0
    return (best.question if best.dense >= threshold else None), best.dense


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
