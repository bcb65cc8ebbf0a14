"""A model loaded once per process on first use, or ahead of need on a thread: one mechanism for every model.

Importing torch and building a model takes seconds. The app draws its first page, then starts loading on a thread;
whoever needs the model meanwhile waits for that load instead of starting a second one. A load that fails in the
background is left to the next use, which tries again and reports the error to a person. The embedding model and
the key-point judge both load this way.
"""

from __future__ import annotations

import functools
import gc
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from interviewer.errors import ConfigError

Model = TypeVar("Model")


@functools.cache
def keep_libraries_out_of_garbage_collection() -> None:
    """Freeze what is alive once torch and transformers are imported, before any model is built.

    Those imports leave about 550,000 objects that live as long as the process, and every full collection walked
    them: 240-300 ms each on a 2-core machine, which Streamlit runs after every script run and Python every few
    seconds of use. Frozen, they are never walked again (a full collection takes 1-4 ms). A model is built after
    the freeze, so a dropped model is still freed.
    """
    gc.collect()
    gc.freeze()


class LazyModel(Generic[Model]):
    """Holds one model built by `build` on first use; safe to share between threads.

    `build` imports its libraries itself and raises ConfigError, with what to do, when the model cannot be built.
    """

    def __init__(self, build: Callable[[], Model], thread_name: str) -> None:
        self._build = build
        self._thread_name = thread_name
        self._model: Model | None = None
        self._lock = threading.Lock()
        self._starting = threading.Lock()
        self._background: threading.Thread | None = None

    @property
    def loaded(self) -> bool:
        """Whether the model is in memory (a use will not wait for it)."""
        return self._model is not None

    def get(self) -> Model:
        """The model, built now (or waited for, while a background load runs) the first time."""
        with self._lock:
            if self._model is None:
                self._model = self._build()
            return self._model

    def load_in_background(self) -> threading.Thread:
        """Start loading on a thread, once; a use meanwhile waits for it instead of loading a copy.

        Call it after drawing a page, not before: importing torch holds the import machinery and the interpreter
        for seconds, and a page drawn at the same time waited almost as long as the whole load. The thread is not
        a daemon, so a process told to stop while torch loads waits for it rather than abort.
        """
        with self._starting:
            if self._background is None:
                self._background = threading.Thread(target=self._load_quietly, name=self._thread_name)
                self._background.start()
            return self._background

    def _load_quietly(self) -> None:
        """Load ahead of need; a failure is left to the next use, which tries again and reports it."""
        try:
            self.get()
        except ConfigError:
            return
