"""The key-point judge: does a passage of an answer state a key point, contradict it, or neither?

Sentence embeddings put "operator fusion saves memory traffic" and "operator fusion makes things slower" close
together, because they share their words. A cross-encoder reads the passage and the key point together, so it sees
negation, swapped directions and paraphrase. Ours is MiniLM-L6 fine-tuned on SemEval-2013 and on our own in-domain
pairs by `python -m bench.train_judge`; its model card (`interviewer/data/judge/README.md`) says what it was
trained on, how it was measured and what it may be trusted for.

The model is loaded lazily, once per process, and can be loaded on a thread after the first page is drawn, by the
same mechanism as the embedding model (`interviewer.lazy_model`). One call judges every (passage, key point) pair
of an answer in one batch.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from interviewer.errors import ConfigError
from interviewer.grade import KeyPointStatus
from interviewer.lazy_model import LazyModel, keep_libraries_out_of_garbage_collection

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedTokenizerBase

Label = Literal["states", "contradicts", "neither"]
LABELS: tuple[Label, ...] = ("states", "contradicts", "neither")
"""The model's outputs, in the order of its logits."""
JUDGE_PATH = Path(__file__).resolve().parent / "data" / "judge"
MAX_LENGTH = 96
"""Word pieces read per pair: a key point and one sentence or clause fit in about 60; 99% of SemEval pairs in 85."""
BATCH_SIZE = 64


@dataclass(frozen=True)
class PointEvidence:
    """What the judge read of one key point in a whole answer: the passage likeliest to state it and the one likeliest
    to contradict it, with their probabilities. `interviewer.point_calibration` turns this into a verdict."""

    key_point: str
    states: float
    stating_passage: str | None
    contradicts: float
    contradicting_passage: str | None

    @classmethod
    def of(cls, key_point: str, passages: Sequence[str], probabilities: np.ndarray) -> PointEvidence:
        """The best passage for each label, from one row of (states, contradicts, neither) per passage."""
        if not passages:
            return cls(key_point, 0.0, None, 0.0, None)
        best_state, best_contra = int(probabilities[:, 0].argmax()), int(probabilities[:, 1].argmax())
        return cls(
            key_point,
            float(probabilities[best_state, 0]),
            passages[best_state],
            float(probabilities[best_contra, 1]),
            passages[best_contra],
        )


@dataclass(frozen=True)
class PointJudgement:
    """One key point against a whole answer: made, contradicted or missed, how sure, and the passage that shows it."""

    key_point: str
    status: KeyPointStatus
    strength: float
    """Probability that the point is made (made, missed) or contradicted (contradicted)."""
    evidence: str | None
    """The answer's passage that makes or contradicts the point; None when it is missed."""


def pair_probabilities(
    tokenizer: PreTrainedTokenizerBase, network: torch.nn.Module, pairs: Sequence[tuple[str, str]]
) -> np.ndarray:
    """One row of (states, contradicts, neither) probabilities per (passage, key point) pair."""
    import torch

    if not pairs:
        return np.zeros((0, len(LABELS)), np.float32)
    rows = []
    with torch.inference_mode():
        for start in range(0, len(pairs), BATCH_SIZE):
            batch = pairs[start : start + BATCH_SIZE]
            tokens = tokenizer(
                [text for text, _ in batch],
                [point for _, point in batch],
                padding=True,
                truncation=True,
                max_length=MAX_LENGTH,
                return_tensors="pt",
            )
            logits = network(**tokens).logits
            rows.append(torch.softmax(logits.float(), dim=-1).numpy())
    return np.vstack(rows).astype(np.float32)


@dataclass(frozen=True)
class LoadedJudge:
    """The judge in memory: its tokenizer and its network."""

    tokenizer: PreTrainedTokenizerBase
    network: torch.nn.Module


class Judge:
    """The shipped cross-encoder, loaded on first use and shared by every caller; safe to share between threads."""

    def __init__(self, path: Path = JUDGE_PATH) -> None:
        self.path = path
        self._model = LazyModel(self._build, "load-judge-model")
        # The fast tokenizer keeps padding settings in shared state: one inference at a time (see embeddings).
        self._inference = threading.Lock()

    @property
    def available(self) -> bool:
        """Whether the weights are there to load (the repository ships them; a stripped copy may not)."""
        return (self.path / "model.safetensors").is_file()

    @property
    def loaded(self) -> bool:
        """Whether the model is in memory."""
        return self._model.loaded

    def load_in_background(self) -> threading.Thread:
        """Start loading on a thread, once (see `LazyModel.load_in_background`)."""
        return self._model.load_in_background()

    def _build(self) -> LoadedJudge:
        """Load the weights, offline, in float32 (they are shipped in float16 to halve the repository)."""
        if not self.available:
            raise ConfigError(
                f"The key-point judge's weights are missing from {self.path}. Restore them from the "
                "repository (git checkout -- interviewer/data/judge) or rebuild them: "
                "python -m bench.train_judge."
            )
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        import torch
        from sentence_transformers import CrossEncoder

        keep_libraries_out_of_garbage_collection()
        try:
            model = CrossEncoder(
                str(self.path), device="cpu", max_length=MAX_LENGTH, model_kwargs={"dtype": torch.float32}
            )
        except Exception as error:  # a broken model folder fails in many ways, and each means the same
            raise ConfigError(
                f"Cannot load the key-point judge from {self.path} ({error}). Restore the folder from the "
                "repository or rebuild it: python -m bench.train_judge."
            ) from error
        return LoadedJudge(model.tokenizer, model.model.eval())

    def probabilities(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        """(states, contradicts, neither) per (passage, key point) pair, in one batched pass."""
        loaded = self._model.get()
        with self._inference:
            return pair_probabilities(loaded.tokenizer, loaded.network, pairs)

    def read(self, key_points: Sequence[str], passages: Sequence[Sequence[str]]) -> list[PointEvidence]:
        """Each key point against its own passages (one list per key point), all pairs in one batch."""
        pairs = [(passage, point) for point, own in zip(key_points, passages, strict=True) for passage in own]
        rows, start = self.probabilities(pairs), 0
        evidence = []
        for point, own in zip(key_points, passages, strict=True):
            evidence.append(PointEvidence.of(point, own, rows[start : start + len(own)]))
            start += len(own)
        return evidence


@functools.cache
def shipped_judge() -> Judge:
    """The judge in the package, one per process: every runtime (settings, session, test) grades with the same
    weights, so one copy in memory serves them all."""
    return Judge()
