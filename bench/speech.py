"""Speech benchmark: word error rate, the decoder hint, fillers kept, time for a 60-second answer, spoken-versus-typed
grades and memory, on answers to our own bank spoken by espeak-ng.

Run: `.venv/bin/python -m bench.speech` (needs Debian's espeak-ng; `make test` installs it) prints every figure;
they go to docs/BENCHMARKS.md. The answers are the human-graded in-domain answers of `bench/data/indomain/dev.jsonl`
(every seventh one of 5 to 90 words, so the set is fixed and spans every kind and score), spoken at 160 words a
minute by espeak-ng's clearest American voice (`CLEAR_VOICE`). Each answer is graded twice by today's default
grader (offline): as typed, and as transcribed with the question's hint; an answer whose grades differ by more
than 0.5 is printed both ways.

WER is given two ways, over the same edits: over lower-cased words without punctuation (as before), and after
OpenAI's English text normaliser (the one Whisper's own WER figures use, from `whisper-normalizer`), applied to both
the reference and the transcript, so "eighty" and "80", "utilisation" and "utilization", "doesn't" and "does not"
count as the same word.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from whisper_normalizer.english import EnglishTextNormalizer

from interviewer.knowledge import Question
from interviewer.models import Reference
from interviewer.runtime import build_runtime
from interviewer.settings import load_settings
from interviewer.speech.transcribers import Transcript, TranscriptionService, decoder_hint
from tests.audio_clips import CLEAR_VOICE, speak

ANSWERS = Path(__file__).resolve().parent / "data" / "indomain" / "dev.jsonl"
EVERY = 7
MAX_WORDS = 90
RATE = 160
FILLED = ("um,", "uh,", "you know,", "um,")
"""Fillers put into copies of the answers (after the 4th, 9th, 14th and 19th words) to see which the decoder keeps."""


@dataclass(frozen=True)
class Answer:
    question_id: str
    question: str
    key_points: tuple[str, ...]
    text: str


Normaliser = Callable[[str], list[str]]


def lower_words(text: str) -> list[str]:
    """Words for WER: lower case, hyphens and slashes as spaces, other punctuation gone."""
    return re.sub(r"[^a-z0-9' ]+", " ", re.sub(r"[-/]", " ", text.lower())).split()


ENGLISH = EnglishTextNormalizer()


def whisper_words(text: str) -> list[str]:
    """Words for WER after Whisper's English normaliser: numbers as digits, American spelling, no contractions."""
    return ENGLISH(text).split()


def edits(reference: list[str], hypothesis: list[str]) -> int:
    """Word-level Levenshtein distance."""
    row = list(range(len(hypothesis) + 1))
    for i, word in enumerate(reference, 1):
        previous, row[0] = row[0], i
        for j, heard in enumerate(hypothesis, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (word != heard))
    return row[-1]


def wer(pairs: list[tuple[str, str]], normalise: Normaliser = lower_words) -> float:
    """Corpus word error rate: all edits over all reference words."""
    total = sum(len(normalise(reference)) for reference, _ in pairs)
    return sum(edits(normalise(reference), normalise(heard)) for reference, heard in pairs) / total


def wers(pairs: list[tuple[str, str]]) -> str:
    """Both word error rates, Whisper's normaliser first."""
    return f"{wer(pairs, whisper_words):.1%} (lower-cased words only: {wer(pairs):.1%})"


def load_answers(bank: dict[str, Question]) -> list[Answer]:
    """Every EVERY-th in-domain answer of at most MAX_WORDS words to a question still in the bank."""
    rows = [json.loads(line) for line in ANSWERS.read_text(encoding="utf-8").splitlines() if line.strip()]
    short = [row for row in rows if 5 <= len(row["answer"].split()) <= MAX_WORDS and row["question_id"] in bank]
    return [
        Answer(
            row["question_id"], bank[row["question_id"]].question, bank[row["question_id"]].key_points, row["answer"]
        )
        for row in short[::EVERY]
    ]


def with_fillers(text: str) -> tuple[str, int]:
    """The answer with fillers put in, and how many were put in."""
    words = text.split()
    places = [place for place in (19, 14, 9, 4) if place < len(words)]
    for place, filler in zip(places, reversed(FILLED[: len(places)]), strict=True):
        words.insert(place, filler)
    return " ".join(words), len(places)


def reference_of(question: Question) -> Reference:
    """What the engine grades an answer to a bank question against."""
    return Reference(question.reference_answer, question.key_points, (question.source,), 1.0, question)


def transcribe(service: TranscriptionService, path: Path, hint: str) -> tuple[Transcript, float]:
    started = time.perf_counter()
    transcript = service.transcribe(path.read_bytes(), hint)
    return transcript, time.perf_counter() - started


def main() -> None:
    argparse.ArgumentParser(description=__doc__).parse_args()
    settings = load_settings()
    runtime = build_runtime(settings)
    service = runtime.transcription
    bank = runtime.report.index.by_id
    answers = load_answers(bank)
    folder = Path(tempfile.mkdtemp(prefix="bench-speech-"))
    print(
        f"{len(answers)} answers, {sum(len(a.text.split()) for a in answers)} words, spoken by espeak-ng at {RATE} wpm"
    )
    service.offline.load()

    plain, hinted, question_only = [], [], []
    differences: list[tuple[str, float, float]] = []
    apart: list[tuple[Answer, str]] = []
    seconds = audio = 0.0
    for number, answer in enumerate(answers):
        clip = speak(answer.text, folder / f"{number}.wav", RATE, CLEAR_VOICE)
        bare, _ = transcribe(service, clip, "")
        asked, _ = transcribe(service, clip, answer.question)
        heard, took = transcribe(service, clip, decoder_hint(settings.prompts_dir, answer.question, answer.key_points))
        seconds, audio = seconds + took, audio + heard.duration_s
        plain.append((answer.text, bare.text))
        question_only.append((answer.text, asked.text))
        hinted.append((answer.text, heard.text))
        reference = reference_of(bank[answer.question_id])
        typed = runtime.grading.grade(answer.question, answer.text, reference).score
        spoken = runtime.grading.grade(answer.question, heard.text, reference).score
        differences.append((answer.question_id, typed, spoken))
        if abs(spoken - typed) > 0.5:
            apart.append((answer, heard.text))
    print(f"WER without a prompt:                    {wers(plain)}")
    print(f"WER with the question alone:             {wers(question_only)}")
    print(f"WER with the hint (question, key points, fillers): {wers(hinted)}")
    print(f"transcription with the hint: {seconds:.1f} s for {audio:.1f} s of audio (ratio {seconds / audio:.2f})")
    gaps = [abs(typed - spoken) for _, typed, spoken in differences]
    print("spoken-versus-typed grade (offline grader), per answer: typed -> spoken")
    for question_id, typed, spoken in differences:
        print(f"  {typed:.2f} -> {spoken:.2f}  ({spoken - typed:+.2f})  {question_id}")
    over = sum(gap > 0.5 for gap in gaps)
    print(f"  largest difference {max(gaps):.2f}, mean {statistics.mean(gaps):.2f}, over 0.5: {over}")
    for answer, heard_text in apart:
        print(f"  {answer.question_id}\n    typed: {answer.text}\n    heard: {heard_text}")

    kept = {"none": 0, "question": 0, "hint": 0}
    inserted = 0
    for number, answer in enumerate(answers[:8]):
        text, count = with_fillers(answer.text)
        inserted += count
        clip = speak(text, folder / f"filled-{number}.wav", RATE, CLEAR_VOICE)
        hint = decoder_hint(settings.prompts_dir, answer.question, answer.key_points)
        for name, prompt in (("none", ""), ("question", answer.question), ("hint", hint)):
            kept[name] += transcribe(service, clip, prompt)[0].delivery.filler_words
    print(f"fillers found of {inserted} spoken: " + ", ".join(f"{name} {count}" for name, count in kept.items()))

    sixty = " ".join(" ".join(answer.text for answer in answers).split()[:RATE])
    clip = speak(sixty, folder / "sixty.wav", RATE, CLEAR_VOICE)
    reference_started = time.perf_counter()
    runtime.embedder.encode([answer.text for answer in answers])
    reference_s = time.perf_counter() - reference_started
    heard, took = transcribe(service, clip, decoder_hint(settings.prompts_dir, answers[0].question, ()))
    print(
        f"a {heard.duration_s:.1f} s answer: transcribed in {took:.1f} s "
        f"(ratio to the audio {took / heard.duration_s:.2f}); "
        f"reference, embedding the {len(answers)} answers: {reference_s:.2f} s (ratio {took / reference_s:.1f})"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory with the embedding and speech models loaded: {peak:.0f} MB")


if __name__ == "__main__":
    main()
