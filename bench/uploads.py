"""Grading latency while an uploaded document is indexed, beside the idle figure of the same run.

Run: `.venv/bin/python -m bench.uploads` (under `flock /work/cpu.lock`). In a temporary home with a current index,
it times the offline grading of interview-length answers (0.2 s apart, as people answer) three ways: idle;
while a 200-question upload (120-word answers: 400 texts to embed) is indexed the app's way
(`interviewer.uploads.Indexer`: a child process at nice 19 on one torch thread); and, for reference, while
another such document is indexed by a plain `python -m interviewer ingest` (normal priority, every core), which
is what indexing on the request path cost. Each figure is printed with its ratio to the idle one. Figures go to
docs/BENCHMARKS.md.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.grading import bank_reference, percentiles
from bench.load import machine, prepare_home
from interviewer.embeddings import SentenceTransformerEmbedder
from interviewer.knowledge import Question, load_bank
from interviewer.offline_grader import OfflineGrader
from interviewer.settings import PROJECT_ROOT, Settings, load_settings
from interviewer.uploads import MAX_QUESTIONS, Indexer, add_upload
from interviewer.wording import first_words

PAUSE = 0.2
"""Seconds between two answers, as in bench.grading."""


def document(questions: list[Question], tag: str) -> bytes:
    """A document of MAX_QUESTIONS new questions, each with the first 120 words of a bank answer (one passage)."""
    answered = [q for q in questions if q.reference_answer and q.key_points]
    entries = []
    for number in range(MAX_QUESTIONS):
        source = answered[number % len(answered)]
        points = "\n".join(f"- {point}" for point in source.key_points)
        answer = first_words(source.reference_answer, 120)
        entries.append(f"Q: ({tag} {number}) {source.question}\nKey points:\n{points}\n\n{answer}\n")
    return "\n".join(entries).encode("utf-8")


def grade_while(grader: OfflineGrader, questions: list[Question], busy: Callable[[], bool]) -> list[float]:
    """Seconds per graded answer, answers 0.2 s apart, for as long as `busy()` holds."""
    items = [(q.question, first_words(q.reference_answer, 150), bank_reference(q)) for q in questions]
    timings: list[float] = []
    while busy():
        question, answer, reference = items[len(timings) % len(items)]
        time.sleep(PAUSE)
        start = time.perf_counter()
        grader.grade(question, answer, reference)
        timings.append(time.perf_counter() - start)
    return timings


def quantile(timings: list[float], share: float) -> float:
    """Nearest-rank quantile."""
    return sorted(timings)[round(share * (len(timings) - 1))]


def line(label: str, timings: list[float], idle: list[float], seconds: float | None = None) -> str:
    """One figure with its ratio to the idle p50 and p95."""
    ratios = [quantile(timings, share) / quantile(idle, share) for share in (0.5, 0.95)]
    took = f"; indexing took {seconds:.0f} s" if seconds is not None else ""
    return f"- {label}: {percentiles(timings)}; x{ratios[0]:.2f} p50, x{ratios[1]:.2f} p95 of idle{took}"


def main() -> None:
    """Print the three latency figures."""
    print(f"machine: {machine()}, load average before: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as scratch:
        home = Path(scratch) / "home"
        prepare_home(home)
        settings: Settings = load_settings(home=home)
        embedder = SentenceTransformerEmbedder(settings.embedding_model)
        grader = OfflineGrader(embedder)
        questions = [q for q in load_bank(settings.knowledge_dir).questions if q.reference_answer and q.key_points]
        sample = questions[:20]
        grade_while(grader, sample, lambda: False)
        for question in sample:  # reference vectors cached, as after the first answer to each question
            grader.grade(question.question, "warm up", bank_reference(question))

        started = time.perf_counter()
        idle = grade_while(grader, sample, lambda: time.perf_counter() - started < 20)
        print(line("idle (the reference)", idle, idle))

        job = Indexer(settings).submit(add_upload(settings, "bench-upload.md", document(questions, "upload")))
        started = time.perf_counter()
        during = grade_while(grader, sample, lambda: not job.finished)
        assert job.state == "done", job.message
        print(
            line(
                "while a 200-question upload is indexed (nice 19, one thread)",
                during,
                idle,
                time.perf_counter() - started,
            )
        )

        (settings.uploads_dir / "bench-plain.md").write_bytes(document(questions, "plain"))
        environment = {**os.environ, "INTERVIEWER_HOME": str(home)}
        command = [sys.executable, "-m", "interviewer", "ingest"]
        plain = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        started = time.perf_counter()
        competing = grade_while(grader, sample, lambda: plain.poll() is None)
        print(
            line(
                "reference: the same indexed at normal priority on every core",
                competing,
                idle,
                time.perf_counter() - started,
            )
        )


if __name__ == "__main__":
    main()
