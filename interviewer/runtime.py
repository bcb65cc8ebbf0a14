"""Everything a front end needs, built once from settings: model, index, graders, store, interview engine and the
transcriber of spoken answers (whose model loads at the first recording).

The app caches one `Runtime` per settings with `st.cache_resource`; the command line builds one per command.
Loading the models (importing torch) is the one slow step at start-up: the command line loads the embedding model
before the first question, the app both the embedding model and the key-point judge in the background once the
first page is on screen.
"""

from __future__ import annotations

from dataclasses import dataclass

from interviewer.circuit import CircuitBreaker
from interviewer.embeddings import Progress, SentenceTransformerEmbedder
from interviewer.engine import Interviewer
from interviewer.grading import GradingService
from interviewer.index import IndexReport, open_index
from interviewer.judge import Judge, shipped_judge
from interviewer.models import Reference
from interviewer.offline_grader import OfflineGrader
from interviewer.retrieval import find_reference
from interviewer.settings import Settings
from interviewer.speech.speaker import EndpointSpeaker, endpoint_speaker
from interviewer.speech.transcribers import TranscriptionService, configured_transcription
from interviewer.store import Store, open_store


@dataclass(frozen=True)
class Runtime:
    """The long-lived objects of one process, for one set of settings."""

    settings: Settings
    embedder: SentenceTransformerEmbedder
    judge: Judge
    report: IndexReport
    grading: GradingService
    store: Store
    interviewer: Interviewer
    transcription: TranscriptionService
    speaker: EndpointSpeaker | None
    """Reads questions out through the endpoint; None when the browser's own speech synthesis does."""

    def decoder_hint(self, question: str, question_id: str | None) -> str:
        """What the transcriber is told to expect in an answer to a question: its wording and its key points."""
        bank_question = self.report.index.by_id.get(question_id or "")
        return self.transcription.hint(question, bank_question.key_points if bank_question else ())

    def load_models_in_background(self) -> None:
        """Start loading the embedding model and the judge on threads (after a page is drawn)."""
        self.embedder.load_in_background()
        if self.judge.available:
            self.judge.load_in_background()

    def reference(self, question: str) -> Reference:
        """The reference for a freely worded question."""
        return find_reference(
            self.report.index, self.embedder, question, self.settings.match_threshold, self.settings.max_query_chars
        )


def build_runtime(
    settings: Settings,
    progress: Progress | None = None,
    warm: bool = True,
    embedder: SentenceTransformerEmbedder | None = None,
    breaker: CircuitBreaker | None = None,
    judge: Judge | None = None,
) -> Runtime:
    """Open the index, set up graders and store; with `warm`, also load the model now so the first answer is fast.

    The index opens without the model when it is current (only a rebuild encodes), and a model folder that does
    not exist is reported here either way, not at the first answer. Pass the `embedder` of the settings' model to
    share one loaded model between runtimes that differ only in other settings, and the process's `breaker` so they
    share what they learn about endpoints that do not answer. The key-point judge is the package's, shared by every
    runtime of the process, unless `judge` names another.
    """
    judge = judge or shipped_judge()
    embedder = embedder or SentenceTransformerEmbedder(settings.embedding_model)
    embedder.check_local()
    report = open_index(
        settings.knowledge_dir, settings.index_dir, embedder, progress, uploads_dir=settings.uploads_dir
    )
    if warm:
        embedder.encode(["warm up"])
    grading = GradingService(settings, OfflineGrader(embedder, judge=judge), breaker=breaker)
    store = open_store(settings)
    interviewer = Interviewer(settings, report.index, embedder, grading, store)
    transcription = configured_transcription(settings)
    return Runtime(
        settings, embedder, judge, report, grading, store, interviewer, transcription, endpoint_speaker(settings)
    )
