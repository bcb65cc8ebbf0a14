"""Everything a front end needs, built once from settings: model, index, graders, store, interview engine.

The app caches one `Runtime` per settings with `st.cache_resource`; the command line builds one per command.
Loading the embedding model (importing torch) is the one slow step at start-up: the command line does it before
the first question, the app in the background while the first page is already on screen.
"""

from __future__ import annotations

import gc
import threading
from dataclasses import dataclass, field

from interviewer.embeddings import Progress, SentenceTransformerEmbedder
from interviewer.engine import Interviewer
from interviewer.grading import GradingService
from interviewer.index import IndexReport, open_index
from interviewer.offline_grader import OfflineGrader
from interviewer.retrieval import Reference, find_reference
from interviewer.settings import Settings
from interviewer.store import Store


def warm_up(embedder: SentenceTransformerEmbedder) -> None:
    """Load the model with one encode, then take everything loaded so far out of later garbage collections.

    Torch and the model leave about half a million objects that live as long as the process. Streamlit runs a
    full collection after every script run, which walked all of them: about 240 ms per rerun on this machine,
    paid between a click and its result. Frozen, they are never walked again.
    """
    embedder.encode(["warm up"])
    gc.collect()
    gc.freeze()


@dataclass
class Runtime:
    """The long-lived objects of one process, for one set of settings."""

    settings: Settings
    embedder: SentenceTransformerEmbedder
    report: IndexReport
    grading: GradingService
    store: Store
    interviewer: Interviewer
    _warming: threading.Thread | None = field(default=None, repr=False)
    _warming_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def reference(self, question: str) -> Reference:
        """The reference for a freely worded question."""
        return find_reference(
            self.report.index, self.embedder, question, self.settings.match_threshold, self.settings.max_query_chars
        )

    def warm_up_in_background(self) -> threading.Thread:
        """`warm_up` on a thread, started once; an encode meanwhile waits for the model, not a second copy.

        The app calls this after drawing a page, not before: importing torch holds the import machinery and
        the interpreter for seconds, and a page drawn at the same time took as long as the whole load. The
        thread is not a daemon: a process told to stop while torch loads waits for it rather than abort.
        """
        with self._warming_lock:
            if self._warming is None:
                self._warming = threading.Thread(target=warm_up, args=(self.embedder,), name="warm-up")
                self._warming.start()
            return self._warming


def build_runtime(
    settings: Settings,
    progress: Progress | None = None,
    warm: bool = True,
    embedder: SentenceTransformerEmbedder | None = None,
) -> Runtime:
    """Open the index, set up graders and store; with `warm`, also load the model now so the first answer is fast.

    The index is loaded without the model when it is current (only a rebuild encodes), and a model folder that
    does not exist is reported here either way, not at the first answer. An `embedder` for the settings' model
    may be passed in, so runtimes that differ only in other settings share one loaded model.
    """
    if embedder is None or embedder.name != settings.embedding_model:
        embedder = SentenceTransformerEmbedder(settings.embedding_model)
    embedder.check_local()
    report = open_index(settings.knowledge_dir, settings.index_dir, embedder, progress)
    if warm:
        warm_up(embedder)
    grading = GradingService(settings, OfflineGrader(embedder))
    store = Store(settings.database_path)
    interviewer = Interviewer(settings, report.index, embedder, grading, store)
    return Runtime(settings, embedder, report, grading, store, interviewer)
