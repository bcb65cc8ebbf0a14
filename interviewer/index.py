"""The FAISS index of the knowledge base, persisted with a manifest so start-up only rebuilds when needed.

On disk (in `Settings.index_dir`): `questions.faiss` (one vector per bank question), `passages.faiss` (one per
answer chunk, embedded together with its question), `bank.json` (the questions and passages the vectors stand
for) and `manifest.json` (format, model, dimension, a SHA-256 per document), written last so a half-written
index is never taken for a good one. The index is reused while the manifest matches the documents and the
model; anything else (a changed document, another model, an unreadable file) leads to a rebuild. While a
document is broken, the last good index is kept rather than rebuilt without it. The BM25 index of each question's
whole text (`interviewer/lexical.py`) is rebuilt in memory whenever the index is built or loaded, so it always
matches them. Several processes (app replicas sharing one home, an upload's indexer) may open the index at once:
a build happens under a file lock beside the index, and whoever waited for it loads what was built instead of
building it again.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import faiss
import numpy as np
from filelock import FileLock, Timeout

from interviewer.documents import Document, find_documents
from interviewer.embeddings import Embedder, Progress
from interviewer.errors import KnowledgeError
from interviewer.knowledge import Bank, Question, load_bank
from interviewer.lexical import LexicalIndex

FORMAT_VERSION = 2  # 2: questions carry level, sources, probes and figures
PASSAGE_WORDS = 120
BUILD_WAIT_SECONDS = 900
"""How long a process waits for another one's build of the same index (a first build on a slow machine)."""
_FENCE = re.compile(r"^\s*(```|~~~)")


@dataclass(frozen=True)
class Passage:
    """A chunk of one question's reference answer."""

    question_id: str
    text: str


@dataclass
class KnowledgeIndex:
    """The bank, its passages and their vectors, ready to search."""

    questions: tuple[Question, ...]
    passages: tuple[Passage, ...]
    question_vectors: faiss.Index
    passage_vectors: faiss.Index
    manifest: dict[str, Any]
    by_id: dict[str, Question] = field(init=False)
    position_of: dict[str, int] = field(init=False)
    """Each question's position in `questions` (and `question_vectors`, and the lexical index's scores)."""
    lexical: LexicalIndex = field(init=False)
    """BM25 over each question's whole text (`lexical_document`), in `questions` order, built here so it always
    matches the questions beside it."""
    passage_positions: dict[str, list[int]] = field(init=False)
    """The positions in `passages` (and `passage_vectors`) of each question's passages, in answer order."""

    def __post_init__(self) -> None:
        self.by_id = {question.id: question for question in self.questions}
        self.position_of = {question.id: position for position, question in enumerate(self.questions)}
        self.lexical = LexicalIndex([lexical_document(question) for question in self.questions])
        self.passage_positions = {}
        for position, passage in enumerate(self.passages):
            self.passage_positions.setdefault(passage.question_id, []).append(position)

    def first_passage(self, question_id: str) -> str:
        """A question's opening passage ("" when it has none), shown when a search matched its wording."""
        positions = self.passage_positions.get(question_id)
        return self.passages[positions[0]].text if positions else ""


def lexical_document(question: Question) -> str:
    """All a question says, for exact-term search: its wording, key points, STAR rubric and reference answer.

    A term anywhere in that material is evidence the question is the one meant, wherever the answer's passage
    boundaries fall, so exact terms are scored per question while meaning is scored per passage.
    """
    return "\n".join((question.question, *question.key_points, *question.star, question.reference_answer))


@dataclass(frozen=True)
class IndexReport:
    """What opening the index did, in words a person can read."""

    index: KnowledgeIndex
    action: str  # "loaded", "built", "rebuilt" or "kept"
    reasons: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def summary(self) -> str:
        """One paragraph for the command line and the app."""
        index = self.index
        head = f"{self.action.capitalize()} the index: {len(index.questions)} questions, {len(index.passages)} passages"
        lines = [head + (f" ({'; '.join(self.reasons)})." if self.reasons else ".")]
        lines += [f"Problem: {problem}" for problem in self.problems]
        lines += [f"Note: {note}" for note in self.notes]
        return "\n".join(lines)


def chunk_answer(answer: str, max_words: int = PASSAGE_WORDS) -> list[str]:
    """Split an answer into passages of about `max_words`, on paragraph bounds, never inside a code fence."""
    paragraphs: list[str] = []
    current: list[str] = []
    in_fence = False
    for line in answer.splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
        if not line.strip() and not in_fence:
            if current:
                paragraphs.append("\n".join(current))
                current = []
            continue
        current.append(line)
    if current:
        paragraphs.append("\n".join(current))
    passages: list[str] = []
    words_so_far = 0
    buffer: list[str] = []
    for paragraph in paragraphs:
        words = len(paragraph.split())
        if buffer and words_so_far + words > max_words:
            passages.append("\n\n".join(buffer))
            buffer, words_so_far = [], 0
        if words > 2 * max_words:
            tokens = paragraph.split()
            passages.extend(" ".join(tokens[i : i + max_words]) for i in range(0, len(tokens), max_words))
            continue
        buffer.append(paragraph)
        words_so_far += words
    if buffer:
        passages.append("\n\n".join(buffer))
    return passages


def document_hashes(documents: list[Document]) -> dict[str, str]:
    """SHA-256 of each document, by label (`21-curated.md`, `uploads/mine.md`): what the manifest compares."""
    return {document.label: hashlib.sha256(document.path.read_bytes()).hexdigest() for document in documents}


def flat_index(vectors: np.ndarray, dimension: int) -> faiss.Index:
    """Exact inner-product search: at a few thousand passages it is both the fastest and the most accurate."""
    index = faiss.IndexFlatIP(dimension)
    if len(vectors):
        index.add(vectors)
    return index


def embedding_texts(questions: tuple[Question, ...], passages: tuple[Passage, ...]) -> list[str]:
    """What is embedded: each question alone, then each passage together with its question."""
    by_id = {question.id: question for question in questions}
    texts = [question.question for question in questions]
    return texts + [f"{by_id[passage.question_id].question}\n{passage.text}" for passage in passages]


def known_vectors(index: KnowledgeIndex) -> dict[str, np.ndarray]:
    """The vectors of a built index by the text they embed, so a rebuild only encodes what changed."""
    vectors = [
        index.question_vectors.reconstruct_n(0, index.question_vectors.ntotal),
        index.passage_vectors.reconstruct_n(0, index.passage_vectors.ntotal),
    ]
    texts = embedding_texts(index.questions, index.passages)
    return dict(zip(texts, np.vstack(vectors), strict=True))


def _encode_new(
    texts: list[str], embedder: Embedder, known: dict[str, np.ndarray], progress: Progress | None
) -> np.ndarray:
    """Encode the texts not already in `known`; reuse the rest."""
    missing = list(dict.fromkeys(text for text in texts if text not in known))
    fresh = dict(zip(missing, embedder.encode(missing, progress), strict=True)) if missing else {}
    if progress and not missing:
        progress(len(texts), len(texts))
    return np.vstack([fresh[text] if text in fresh else known[text] for text in texts]).astype(np.float32)


def build_index(
    bank: Bank,
    embedder: Embedder,
    progress: Progress | None = None,
    known: dict[str, np.ndarray] | None = None,
) -> KnowledgeIndex:
    """Embed every question and passage of the bank, reusing `known` vectors of the same model."""
    passages = tuple(
        Passage(question.id, chunk) for question in bank.questions for chunk in chunk_answer(question.reference_answer)
    )
    texts = embedding_texts(bank.questions, passages)
    vectors = _encode_new(texts, embedder, known or {}, progress)
    dimension = vectors.shape[1]
    split = len(bank.questions)
    manifest = {"format": FORMAT_VERSION, "model": embedder.name, "dimension": int(dimension)}
    return KnowledgeIndex(
        questions=bank.questions,
        passages=passages,
        question_vectors=flat_index(vectors[:split], dimension),
        passage_vectors=flat_index(vectors[split:], dimension),
        manifest=manifest,
    )


def _write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file and rename it over the target, so readers never see half a file."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def save_index(index: KnowledgeIndex, directory: Path) -> None:
    """Persist the index; the manifest goes last and marks the set complete."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "manifest.json").unlink(missing_ok=True)
    _write_atomically(directory / "questions.faiss", faiss.serialize_index(index.question_vectors).tobytes())
    _write_atomically(directory / "passages.faiss", faiss.serialize_index(index.passage_vectors).tobytes())
    bank = {
        "questions": [question.to_dict() for question in index.questions],
        "passages": [{"question_id": p.question_id, "text": p.text} for p in index.passages],
    }
    _write_atomically(directory / "bank.json", json.dumps(bank, ensure_ascii=False).encode("utf-8"))
    _write_atomically(directory / "manifest.json", json.dumps(index.manifest, indent=2).encode("utf-8"))


def _read_faiss(path: Path) -> faiss.Index:
    """Deserialize one FAISS file."""
    return faiss.deserialize_index(np.frombuffer(path.read_bytes(), dtype=np.uint8))


def load_index(directory: Path) -> KnowledgeIndex:
    """Load a saved index and check it is whole; KnowledgeError says what is wrong with it."""
    manifest_path = directory / "manifest.json"
    if not manifest_path.is_file():
        raise KnowledgeError(f"no index in {directory}")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        bank = json.loads((directory / "bank.json").read_text(encoding="utf-8"))
        questions = tuple(Question.from_dict(item) for item in bank["questions"])
        passages = tuple(Passage(item["question_id"], item["text"]) for item in bank["passages"])
        question_vectors = _read_faiss(directory / "questions.faiss")
        passage_vectors = _read_faiss(directory / "passages.faiss")
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as error:
        raise KnowledgeError(f"the index in {directory} is unreadable ({type(error).__name__}: {error})") from error
    dimension = manifest.get("dimension")
    if (question_vectors.ntotal, passage_vectors.ntotal) != (len(questions), len(passages)):
        raise KnowledgeError(f"the index in {directory} does not match its bank (vector counts differ)")
    if question_vectors.d != dimension or passage_vectors.d != dimension:
        raise KnowledgeError(f"the index in {directory} has vectors of another dimension than its manifest says")
    return KnowledgeIndex(questions, passages, question_vectors, passage_vectors, manifest)


def _stale_reasons(manifest: dict[str, Any], model: str, hashes: dict[str, str]) -> list[str]:
    """Why a saved index no longer fits the documents and model (empty when it fits)."""
    reasons = []
    if manifest.get("format") != FORMAT_VERSION:
        reasons.append("index format changed")
    if manifest.get("model") != model:
        reasons.append(f"embedding model changed from {manifest.get('model')!r}")
    old = manifest.get("documents", {})
    changed = sorted(name for name in hashes.keys() & old.keys() if hashes[name] != old[name])
    for label, names in (
        ("changed", changed),
        ("new", sorted(hashes.keys() - old.keys())),
        ("removed", sorted(old.keys() - hashes.keys())),
    ):
        if names:
            reasons.append(f"{label}: {', '.join(names)}")
    return reasons


def open_index(
    knowledge_dir: Path,
    index_dir: Path,
    embedder: Embedder,
    progress: Progress | None = None,
    force: bool = False,
    uploads_dir: Path | None = None,
) -> IndexReport:
    """Load the saved index when it is current, else build it; keep the old one when the documents are broken.

    The bank is the shipped documents of `knowledge_dir` plus the uploads in `uploads_dir` (see documents.py).
    """
    documents = find_documents(knowledge_dir, uploads_dir)
    hashes = document_hashes(documents)
    if not hashes:
        raise KnowledgeError(f"No knowledge documents (*.md) in {knowledge_dir}; add one (see knowledge/README.md).")
    if not force:
        try:
            current = load_index(index_dir)
            if not _stale_reasons(current.manifest, embedder.name, hashes):
                return IndexReport(current, "loaded")
        except KnowledgeError:
            pass
    try:
        with _build_lock(index_dir):
            return _refresh(knowledge_dir, index_dir, embedder, documents, hashes, progress, force, uploads_dir)
    except Timeout as error:
        raise KnowledgeError(
            f"Another process has been building the index in {index_dir} for {BUILD_WAIT_SECONDS // 60} minutes; "
            "wait for it to finish (or stop it), then retry."
        ) from error


def _build_lock(index_dir: Path) -> FileLock:
    """The lock a process holds while it builds the index (released by the system if the process dies)."""
    index_dir.parent.mkdir(parents=True, exist_ok=True)
    return FileLock(index_dir.parent / f".{index_dir.name}.lock", timeout=BUILD_WAIT_SECONDS)


def _refresh(
    knowledge_dir: Path,
    index_dir: Path,
    embedder: Embedder,
    documents: list[Document],
    hashes: dict[str, str],
    progress: Progress | None,
    force: bool,
    uploads_dir: Path | None,
) -> IndexReport:
    """Under the build lock: load the index if it is current now (another process may just have built it), keep
    the old one when the documents are broken, else build and save it."""
    try:
        existing: KnowledgeIndex | None = load_index(index_dir)
        reasons = _stale_reasons(existing.manifest, embedder.name, hashes)
    except KnowledgeError as error:
        existing, reasons = None, [str(error)]
    if existing is not None and not reasons and not force:
        return IndexReport(existing, "loaded")
    if force and not reasons:
        reasons = ["rebuild requested"]
    reusable = existing if existing is not None and existing.manifest.get("model") == embedder.name else None
    try:
        bank = load_bank(knowledge_dir, uploads_dir)
    except KnowledgeError as error:
        if reusable is None:
            raise
        return IndexReport(reusable, "kept", tuple(reasons), (str(error),))
    problems = tuple(str(problem) for problem in bank.problems)
    if problems and reusable is not None:
        kept = "kept the last good index until the documents are fixed"
        return IndexReport(reusable, "kept", (*reasons, kept), problems)
    action = "rebuilt" if (index_dir / "bank.json").exists() else "built"
    known = known_vectors(reusable) if reusable is not None and not force else None
    index = build_index(bank, embedder, progress, known)
    broken_paths = {problem.path for problem in bank.problems}
    broken = {document.label for document in documents if document.path in broken_paths}
    # Broken documents stay out of the manifest, so every start retries them and reports them again.
    index.manifest["documents"] = {name: digest for name, digest in hashes.items() if name not in broken}
    save_index(index, index_dir)
    return IndexReport(index, action, tuple(reasons), problems, bank.notes)
