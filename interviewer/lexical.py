"""Exact-term search: BM25 over each bank question's whole text, so rare terms such as int8 are not lost.

Sentence embeddings blur exact terms: "int8 calibration" lands near probability calibration, and `keepdim`,
`p99` or `NVFP4` carry little weight in a 384-dimensional vector. BM25 (the `bm25s` library) scores documents
by the rare words they share with the query. Its score is divided by the summed IDF of the query's terms: the
most any text could score for that query (`bm25s` uses Lucene's BM25, whose per-term score stays below the
term's IDF). So the scale is the same for every query, from 0 (no term) towards 1: a text holding each term once
at average length scores about 0.45 (1 / (1 + k1)), and a term the bank never uses counts against every text.
That absolute scale is what lets retrieval mix it with cosine similarity under one threshold.

The index is built from the texts whenever a `KnowledgeIndex` is built or loaded (milliseconds for the bank, a
few seconds for the text of 100,000 passages), so it always matches the questions beside it.
"""

from __future__ import annotations

import math
import re
from collections import Counter

import bm25s
import numpy as np

_TOKEN = re.compile(r"[a-z0-9]+(?:[._][a-z0-9]+)*")
_PARTS = re.compile(r"[._]")
_STOPWORDS = """a about an and are as at be been being between but by can could did do does doing for from had has
have how i if in into is it its me my of on or our should so than that the their them then there these they this
those to up us was we were what when where which while who why will with would you your"""
STOPWORDS = frozenset(_STOPWORDS.split())


def tokenize(text: str) -> list[str]:
    """Lower-cased terms without stop words; a dotted or snake_case term also yields its parts.

    `torch.sum` gives `torch.sum`, `torch` and `sum`, so both "torch.sum" and "sum in torch" find it; plural
    `-s` is dropped from words longer than four letters ("caches" finds "cache", "tokens" finds "token").
    """
    terms: list[str] = []
    for token in _TOKEN.findall(text.casefold()):
        parts = _PARTS.split(token)
        for term in [token, *parts] if len(parts) > 1 else [token]:
            if term and term not in STOPWORDS:
                terms.append(_singular(term))
    return terms


def _singular(term: str) -> str:
    """A light plural folding that leaves 'bias', 'class' and numbers alone."""
    if len(term) > 4 and term.endswith("s") and not term.endswith(("ss", "us", "is")) and term[-2].isalpha():
        return term[:-1]
    return term


class LexicalIndex:
    """BM25 over a list of texts, with scores on an absolute 0-1 scale (see the module docstring)."""

    k1 = 1.2  # term-frequency saturation: Lucene's default (bm25s's is 1.5), chosen on the dev phrasings

    def __init__(self, texts: list[str]) -> None:
        corpus = [tokenize(text) for text in texts]
        self.size = len(texts)
        frequency = Counter(term for terms in corpus for term in set(terms))
        self.idf = {term: _idf(self.size, count) for term, count in frequency.items()}
        self._bm25 = bm25s.BM25(method="lucene", k1=self.k1)
        self._bm25.index(corpus, show_progress=False)

    def scores(self, query: str) -> np.ndarray:
        """One score per text, from 0 (no query term present) towards 1 (every term, many times)."""
        terms = tokenize(query)
        if not terms or not self.size:
            return np.zeros(self.size, dtype=np.float32)
        known = [term for term in terms if term in self.idf]
        total = sum(self.idf.get(term, _idf(self.size, 0)) for term in terms)
        if not known:
            return np.zeros(self.size, dtype=np.float32)
        return (self._bm25.get_scores(known) / total).astype(np.float32)


def _idf(documents: int, containing: int) -> float:
    """Lucene's BM25 IDF, the one `bm25s` uses."""
    return math.log(1 + (documents - containing + 0.5) / (containing + 0.5))
