"""Start-up and the first answer: the page does not wait for the model, and no answer waits for its reference."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import numpy as np
import pytest

from interviewer.embeddings import EncodedText, Progress, SentenceTransformerEmbedder
from interviewer.engine import Interviewer, RoundOptions
from interviewer.errors import ConfigError
from interviewer.runtime import Runtime, build_runtime
from interviewer.settings import Settings

ANSWER = "Dynamic batching groups concurrent requests into one batch, bounded by a max batch size and a max delay."


class CountingEmbedder:
    """The real model, noting which thread asked to encode which texts word by word (answers and references)."""

    def __init__(self, inner: SentenceTransformerEmbedder) -> None:
        self.inner = inner
        self.name = inner.name
        self.calls: list[tuple[str, tuple[str, ...]]] = []

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def encode(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        return self.inner.encode(texts, progress)

    def encode_words(self, texts: Sequence[str]) -> list[EncodedText]:
        self.calls.append((threading.current_thread().name, tuple(texts)))
        return self.inner.encode_words(texts)

    def by(self, thread: str) -> list[str]:
        """Every text the named thread had encoded."""
        return [text for name, texts in self.calls if name == thread for text in texts]


@pytest.fixture
def counted(indexed_settings: Settings, embedder) -> tuple[Runtime, CountingEmbedder]:
    """A runtime whose offline grader encodes through a counting wrapper of the real model."""
    runtime = build_runtime(indexed_settings, warm=False, embedder=embedder)
    counting = CountingEmbedder(embedder)
    runtime.grading.offline.embedder = counting
    return runtime, counting


def first_prompt(engine: Interviewer):
    """Start a one-question round on dynamic batching and return its prompt."""
    prompt = engine.next_prompt(engine.start(RoundOptions(focus="dynamic batching", count=1)))
    assert prompt is not None
    return prompt


def test_the_index_opens_before_the_model_loads(indexed_settings: Settings) -> None:
    runtime = build_runtime(indexed_settings, warm=False)
    assert not runtime.embedder.loaded
    assert runtime.interviewer.topics()  # what the start form needs
    loading = runtime.embedder.load_in_background()
    assert runtime.embedder.load_in_background() is loading  # started once
    loading.join(timeout=120)
    assert runtime.embedder.loaded


def test_a_model_folder_that_does_not_exist_is_reported_at_start(indexed_settings: Settings) -> None:
    settings = indexed_settings.model_copy(update={"embedding_model": "nowhere"})
    with pytest.raises(ConfigError, match="not a local directory"):
        build_runtime(settings, warm=False)


def test_a_broken_model_folder_is_a_clear_error(tmp_path) -> None:
    (tmp_path / "config.json").write_text("{ not json")
    with pytest.raises(ConfigError, match="Cannot load the embedding model"):
        SentenceTransformerEmbedder(str(tmp_path)).encode(["anything"])


def test_the_reference_is_prepared_while_the_question_is_on_screen(counted) -> None:
    runtime, counting = counted
    prompt = first_prompt(runtime.interviewer)
    deadline = time.monotonic() + 60
    while not counting.by("prepare-reference_0") and time.monotonic() < deadline:
        time.sleep(0.01)
    assert counting.by("prepare-reference_0"), "the question was shown but its reference was never prepared"
    runtime.grading.prepare(prompt.question, runtime.interviewer.reference_for(prompt)).result(timeout=60)

    outcome = runtime.interviewer.answer(prompt, ANSWER)
    assert outcome.turn.grade is not None and outcome.turn.grade.score > 0
    assert counting.by(threading.current_thread().name) == [ANSWER]  # the answer paid only for itself


def test_an_answer_sent_at_once_never_encodes_its_reference_twice(counted) -> None:
    runtime, counting = counted
    prompt = first_prompt(runtime.interviewer)
    runtime.interviewer.answer(prompt, ANSWER)  # races the background encoding of the same reference
    reference = runtime.interviewer.reference_for(prompt).text
    runtime.grading.prepare(prompt.question, runtime.interviewer.reference_for(prompt)).result(timeout=60)
    encoded_questions = [texts for _, texts in counting.calls if texts[0] == prompt.question]
    assert len(encoded_questions) == 1, f"the reference ({reference[:40]!r}...) was encoded more than once"
