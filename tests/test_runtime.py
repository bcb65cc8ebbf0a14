"""Start-up and the first answer: the page does not wait for the model, and no answer waits for its reference."""

from __future__ import annotations

import gc
import time
from collections.abc import Sequence

import numpy as np
import pytest

from interviewer.embeddings import EncodedText, Progress, SentenceTransformerEmbedder
from interviewer.engine import RoundOptions
from interviewer.errors import ConfigError
from interviewer.runtime import build_runtime
from interviewer.settings import Settings

ANSWER = "Dynamic batching groups concurrent requests into one batch, bounded by a max batch size and a max delay."


class CountingEmbedder:
    """The real model, counting the texts it is asked to encode word by word (answers and references)."""

    def __init__(self, inner: SentenceTransformerEmbedder) -> None:
        self.inner = inner
        self.name = inner.name
        self.texts: list[str] = []

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def encode(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        return self.inner.encode(texts, progress)

    def encode_words(self, texts: Sequence[str]) -> list[EncodedText]:
        self.texts += texts
        return self.inner.encode_words(texts)


def test_the_page_can_open_before_the_model_has_loaded(indexed_settings: Settings) -> None:
    runtime = build_runtime(indexed_settings, warm=False)
    assert runtime.embedder._model is None  # the index opened without importing torch's model
    assert runtime.interviewer.topics()  # enough for the start form
    frozen_before = gc.get_freeze_count()
    try:
        assert runtime.warm_up_in_background() is runtime.warm_up_in_background()  # started once
        runtime.warm_up_in_background().join(timeout=120)
        assert runtime.embedder._model is not None
        assert gc.get_freeze_count() > frozen_before  # the model's objects are out of Streamlit's per-run GC
    finally:
        gc.unfreeze()


def test_a_model_folder_that_does_not_exist_is_reported_at_start(indexed_settings: Settings) -> None:
    settings = indexed_settings.model_copy(update={"embedding_model": "nowhere"})
    with pytest.raises(ConfigError, match="not a local directory"):
        build_runtime(settings, warm=False)


def test_the_reference_is_prepared_while_the_question_is_on_screen(indexed_settings: Settings, embedder) -> None:
    runtime = build_runtime(indexed_settings, warm=False)
    counting = CountingEmbedder(embedder)
    runtime.grading.offline.embedder = counting
    engine = runtime.interviewer
    round_id = engine.start(RoundOptions(focus="dynamic batching", count=1))
    prompt = engine.next_prompt(round_id)
    assert prompt is not None
    deadline = time.monotonic() + 60
    while not counting.texts and time.monotonic() < deadline:  # the engine starts on the reference by itself
        time.sleep(0.01)
    assert counting.texts, "the question was shown but its reference was never prepared"
    runtime.grading.prepare(prompt.question, engine.reference_for(prompt)).result(timeout=60)  # waits, cached
    prepared = len(counting.texts)
    assert prepared > 1  # the question, key points and reference sentences, encoded once

    outcome = engine.answer(prompt, ANSWER)
    assert outcome.turn.grade is not None and outcome.turn.grade.score > 0
    assert len(counting.texts) - prepared <= len(ANSWER.split(". ")) + 1  # only the answer was encoded now
