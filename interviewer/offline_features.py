"""What the offline grader measures: how much of the reference an answer covers, by sentence and by word.

The reference side (key points, their word vectors, the reference's sentences, the question) is encoded once
and reused for every answer to the same question; an answer costs one batched encode of its own sentences,
which yields both sentence vectors and contextual word vectors. Words that the question already contains are
set aside on both sides ("question demoting"): repeating the question earns nothing.

Measures (all 0-1, higher is better):
- `soft_recall`: key-point words matched by meaning in the answer (each key-point word's best cosine).
- `soft_precision`: the answer's words that the reference supports (each answer word's best cosine).
- `coverage`: each key point's best cosine with one of the answer's sentences or clauses, averaged.
- `cosine`: the answer's mean sentence vector against the reference's.
- `lexical_recall`: share of the key points' content words that the answer uses verbatim (stemmed).
- `sentence_reach`: share of the reference's sentences that some answer sentence or clause matches (for depth).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from interviewer.embeddings import EncodedText, TokenEmbedder
from interviewer.wording import clauses, content_stems, is_content, sentences, stem

if TYPE_CHECKING:
    import torch

SENTENCE_MATCH = 0.6
"""Cosine from which an answer sentence counts as saying what a reference sentence says (for depth)."""
POINT_COVERED = 0.65
"""A key point counts as made when one answer sentence or clause, or its words by meaning, match it this well. On
the bank this credits 94% of key points to their own reference answer and 6% to another answer on the same topic;
on answers in a candidate's own words (bench/data/paraphrases) 20 of 36 points made and none of 52 not made."""
SPLIT_NEAR = 0.3
"""A sentence is cut into clauses only when it comes this close to a key point that no sentence makes: a sentence
far from every such point holds no clause that makes one (a clause scores at most about 0.3 above its sentence),
and each clause costs an encode."""
MAX_CLAUSES = 5
"""Clauses encoded per text at most, from the sentences nearest a key point no sentence makes: bounds the cost of a
long answer (a 130-word answer has about 15 clauses; encoding them all took 45 ms, five take about 25 ms, and the
paraphrase set credits as many points with five as with all)."""
NEAREST_UNITS = 1
"""Sentences and clauses the key-point judge reads per key point. A pair of texts read together costs about 9 ms on
two cores: every unit of a 132-word answer against 7 key points is 140 pairs and over a second. On the in-domain
development half (out of fold, `bench.fit_points`, 2026-11-30), the nearest unit alone credits as many points made
and ranks answers as well as the two nearest (72.7% and 70.9% of points made credited, Spearman 0.758 and 0.759) at
half the cost. Dynamic int8 quantisation was tried for speed (three times faster) and dropped: Spearman fell to
0.69."""


def content_vectors(encoded: list[EncodedText], question_stems: frozenset[str]) -> np.ndarray:
    """The vectors of the content words of encoded texts, minus the words the question contains."""
    rows = [
        vector
        for item in encoded
        for word, vector in zip(item.words, item.word_vectors, strict=True)
        if is_content(word) and stem(word) not in question_stems
    ]
    return np.array(rows, np.float32).reshape(len(rows), encoded[0].vector.shape[0])


@dataclass(frozen=True)
class PointMatch:
    """How well an answer says one key point."""

    recall: float
    coverage: float

    @property
    def strength(self) -> float:
        """The better of the two signals: said in one sentence, or its words all present."""
        return max(self.recall, self.coverage)


@dataclass(frozen=True)
class ReferenceVectors:
    """Everything about a reference that grading needs, encoded once per (question, reference)."""

    point_vectors: np.ndarray
    point_words: tuple[np.ndarray, ...]
    support: np.ndarray
    sentence_vectors: np.ndarray
    vector: np.ndarray
    question_vector: np.ndarray
    question_stems: frozenset[str]
    point_stems: frozenset[str]
    own_points: tuple[PointMatch, ...] = ()
    """How well the reference text itself makes each key point (curated key points may say more than it does)."""


@dataclass(frozen=True)
class AnswerVectors:
    """An answer's sentences and clauses as vectors, its direction, its content-word vectors and content stems."""

    unit_vectors: np.ndarray
    """Each sentence and each clause of a sentence: what key points and reference sentences are matched against."""
    units: tuple[str, ...]
    """The texts of `unit_vectors`, row for row."""
    vector: np.ndarray
    words: np.ndarray
    stems: frozenset[str]


def _cosines(rows: np.ndarray, columns: np.ndarray) -> torch.Tensor:
    """The cosine of every row with every column, as a torch tensor.

    The product runs in torch, on the thread pool the encoder already uses: numpy's BLAS would start a second
    pool whose spinning threads make the next encode about twice as slow on a two-core machine.
    """
    import torch  # already loaded by the encoder; imported here so that importing this module stays cheap

    return torch.from_numpy(rows) @ torch.from_numpy(columns).T


def text_vectors(
    embedder: TokenEmbedder,
    text: str,
    encoded: list[EncodedText],
    point_vectors: np.ndarray,
    question_stems: frozenset[str],
    stems: frozenset[str],
) -> AnswerVectors:
    """A text's vectors from its encoded sentences, plus the clauses of the prose sentences that come nearest
    (at least SPLIT_NEAR) a key point no sentence makes (POINT_COVERED); one plain batch encodes those clauses."""
    units = sentences(text) or [text]
    vectors = np.array([item.vector for item in encoded])
    similarity = _cosines(vectors, point_vectors).numpy()
    unmade = similarity.max(axis=0) < POINT_COVERED
    nearness = similarity[:, unmade].max(axis=1, initial=0.0)
    prose = set(sentences(text, drop_code=True))
    parts: list[str] = []
    for position in np.argsort(-nearness, kind="stable"):
        if nearness[position] < SPLIT_NEAR or len(parts) >= MAX_CLAUSES:
            break
        if units[position] in prose:
            parts += clauses(units[position])[: MAX_CLAUSES - len(parts)]
    part_vectors = embedder.encode(parts) if parts else np.zeros((0, vectors.shape[1]), np.float32)
    return AnswerVectors(
        unit_vectors=np.vstack([vectors, part_vectors]),
        units=(*units, *parts),
        vector=_mean_vector(vectors),
        words=content_vectors(encoded, question_stems),
        stems=stems,
    )


@dataclass(frozen=True)
class Measures:
    """The features of one answer against one reference, with per-key-point detail."""

    points: tuple[PointMatch, ...]
    reference_points: tuple[PointMatch, ...]
    soft_recall: float
    soft_precision: float
    cosine: float
    lexical_recall: float
    question_similarity: float
    new_words: int
    sentence_reach: float
    nearest_units: tuple[tuple[str, ...], ...] = ()
    """Per key point, the answer's NEAREST_UNITS sentences and clauses closest to it in meaning, closest first: what
    the key-point judge reads (a claim about a point, right or wrong, shares its subject and so comes near it)."""

    @property
    def coverage(self) -> float:
        """Mean over key points of the best sentence match."""
        return float(np.mean([point.coverage for point in self.points]))

    def features(self) -> dict[str, float]:
        """Whole-answer features by name: what the calibration is fitted on."""
        return {"soft_recall": self.soft_recall, "soft_precision": self.soft_precision, "coverage": self.coverage}

    def point_features(self) -> list[dict[str, float]]:
        """The same features against each key point alone (precision stays whole-reference)."""
        return [
            {"soft_recall": point.recall, "soft_precision": self.soft_precision, "coverage": point.coverage}
            for point in self.points
        ]


def _mean_vector(vectors: np.ndarray) -> np.ndarray:
    """The normalised mean of unit vectors: a whole text's direction, never truncated."""
    mean = vectors.mean(axis=0)
    return mean / max(float(np.linalg.norm(mean)), 1e-12)


def encode_reference(
    embedder: TokenEmbedder, question: str, text: str, key_points: tuple[str, ...]
) -> ReferenceVectors:
    """Encode question, key points and reference sentences in one batch, then clauses; measure the reference itself."""
    question_stems = frozenset(content_stems(question))
    units = sentences(text) or [text]
    prose = set(sentences(text, drop_code=True)) or set(units)
    encoded = embedder.encode_words([question, *key_points, *units])
    points, body = encoded[1 : 1 + len(key_points)], encoded[1 + len(key_points) :]
    prose_vectors = np.array([item.vector for unit, item in zip(units, body, strict=True) if unit in prose])
    point_words = tuple(_point_words(point, question_stems) for point in points)
    reference = ReferenceVectors(
        point_vectors=np.array([item.vector for item in points]),
        point_words=point_words,
        support=content_vectors([*points, *body], question_stems),
        sentence_vectors=prose_vectors,
        vector=_mean_vector(prose_vectors),
        question_vector=encoded[0].vector,
        question_stems=question_stems,
        point_stems=frozenset(content_stems(" ".join(key_points)) - question_stems),
    )
    itself = text_vectors(embedder, text, body, reference.point_vectors, question_stems, frozenset())
    return replace(reference, own_points=measure(itself, reference).points)


def _point_words(point: EncodedText, question_stems: frozenset[str]) -> np.ndarray:
    """A key point's content-word vectors; when the question holds all its words, the key point keeps them."""
    words = content_vectors([point], question_stems)
    return words if len(words) else content_vectors([point], frozenset())


def encode_answer(embedder: TokenEmbedder, text: str, reference: ReferenceVectors) -> AnswerVectors:
    """Encode an answer's sentences (sentence and word vectors from one pass), then the clauses worth matching."""
    encoded = embedder.encode_words(sentences(text) or [text])
    stems = frozenset(content_stems(text))
    return text_vectors(embedder, text, encoded, reference.point_vectors, reference.question_stems, stems)


def _best_match(rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """Each row's best cosine among the columns, clipped to 0-1; zeros when there are no columns."""
    if len(rows) == 0 or len(columns) == 0:
        return np.zeros(len(rows), np.float32)
    return _cosines(rows, columns).max(dim=1).values.clamp(0.0, 1.0).numpy()


def measure(answer: AnswerVectors, reference: ReferenceVectors) -> Measures:
    """All features of an answer against a reference."""
    recalls = [_best_match(words, answer.words) for words in reference.point_words]
    similarity = _cosines(reference.point_vectors, answer.unit_vectors)
    coverage = similarity.max(dim=1).values.clamp(0.0, 1.0).numpy()
    nearest = similarity.argsort(dim=1, descending=True, stable=True)[:, :NEAREST_UNITS].tolist()
    precision = _best_match(answer.words, reference.support)
    reach = _best_match(reference.sentence_vectors, answer.unit_vectors) >= SENTENCE_MATCH
    pooled = np.concatenate(recalls)
    return Measures(
        points=tuple(
            PointMatch(float(recall.mean()) if recall.size else 0.0, float(best))
            for recall, best in zip(recalls, coverage, strict=True)
        ),
        reference_points=reference.own_points,
        soft_recall=float(pooled.mean()) if pooled.size else 0.0,
        soft_precision=float(precision.mean()) if precision.size else 0.0,
        cosine=max(0.0, float(answer.vector @ reference.vector)),
        lexical_recall=len(reference.point_stems & answer.stems) / max(1, len(reference.point_stems)),
        question_similarity=max(0.0, float(answer.vector @ reference.question_vector)),
        new_words=len(answer.stems - reference.question_stems),
        sentence_reach=float(reach.mean()),
        nearest_units=tuple(tuple(answer.units[at] for at in row) for row in nearest),
    )
