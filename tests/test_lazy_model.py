"""Models load once per process, on first use or ahead of need on a thread, and a failed load is reported at use."""

from __future__ import annotations

import threading

import pytest

from interviewer.errors import ConfigError
from interviewer.lazy_model import LazyModel


def test_a_load_that_fails_in_the_background_is_reported_at_the_next_use() -> None:
    attempts: list[int] = []

    def build() -> str:
        attempts.append(1)
        raise ConfigError("The weights are missing: restore them.")

    model = LazyModel(build, "load-test-model")
    model.load_in_background().join(timeout=10)
    assert not model.loaded
    with pytest.raises(ConfigError, match="restore them"):
        model.get()
    assert len(attempts) == 2  # the use tried again rather than keep the failure


def test_a_use_during_the_background_load_waits_for_it_instead_of_loading_a_copy() -> None:
    started, release = threading.Event(), threading.Event()
    builds: list[object] = []

    def build() -> object:
        started.set()
        release.wait(timeout=10)
        builds.append(object())
        return builds[-1]

    model = LazyModel(build, "load-test-model")
    loading = model.load_in_background()
    assert model.load_in_background() is loading  # started once
    assert started.wait(timeout=10)
    result: list[object] = []
    user = threading.Thread(target=lambda: result.append(model.get()))
    user.start()
    release.set()
    user.join(timeout=10)
    loading.join(timeout=10)
    assert len(builds) == 1 and result == builds and model.loaded
