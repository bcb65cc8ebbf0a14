"""What a dead LLM endpoint costs: the wait for answers and for the connection test against one that never answers.

Run: `.venv/bin/python -m bench.deadline [--timeout 3] [--retries 2]`; figures go to docs/RELIABILITY.md. A
loopback server accepts every connection and never sends a byte. The real grading service (offline grader with
the real model, LLM grader through the `openai` client) grades the same answer twice, then the Settings page's
connection test runs. Each wait is printed beside the configured timeout and beside two references measured in
the same run: the offline grade alone (every answer pays it too), and one request through the `openai` client's
own retries with the same timeout (the path answers took before the deadline; the issue measured 92 s with the
30 s default). The LLM grader alone is timed too, so its share of an answer does not depend on the offline grade.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import time
from collections.abc import Callable

import openai

from interviewer.circuit import CircuitBreaker
from interviewer.embeddings import SentenceTransformerEmbedder
from interviewer.errors import GraderError
from interviewer.grading import Grader, GradingService
from interviewer.llm_grader import LLMGrader
from interviewer.models import Reference
from interviewer.offline_grader import OfflineGrader
from interviewer.settings import default_embedding_model, load_settings
from tests.fake_llm import SilentEndpoint

QUESTION = "How does dynamic batching work in a model server?"
REFERENCE = Reference(
    text="Dynamic batching groups concurrent requests into one batch, bounded by a max batch size and a queue delay.",
    key_points=("Groups requests into one batch", "Padding or bucketing for variable shapes"),
    sources=("bench",),
    score=1.0,
)
ANSWER = "The server waits a few milliseconds to group requests into one batch, which raises GPU throughput."


def timed(action: Callable[[], object]) -> float:
    """Seconds `action` takes; a GraderError is the expected end of a call to a dead endpoint."""
    started = time.monotonic()
    with contextlib.suppress(GraderError):
        action()
    return time.monotonic() - started


def grade_with(grader: Grader) -> None:
    """Grade the benchmark's answer."""
    grader.grade(QUESTION, ANSWER, REFERENCE)


def client_retries(base_url: str, timeout: float, retries: int) -> None:
    """One request the way answers were sent before: the client's own retries, each with the full timeout."""
    client = openai.OpenAI(base_url=base_url, api_key="none", timeout=timeout, max_retries=retries)
    with contextlib.suppress(openai.APITimeoutError):
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "OK?"}])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=3.0, help="INTERVIEWER_LLM_TIMEOUT for the run")
    parser.add_argument("--retries", type=int, default=2, help="INTERVIEWER_LLM_MAX_RETRIES for the run")
    args = parser.parse_args()

    endpoint = SilentEndpoint().start()
    try:
        settings = load_settings(
            llm_base_url=endpoint.base_url, llm_timeout=args.timeout, llm_max_retries=args.retries, llm_cooldown=300
        )
        offline = OfflineGrader(SentenceTransformerEmbedder(default_embedding_model()))
        offline.grade(QUESTION, ANSWER, REFERENCE)  # load the model and encode the reference once
        breaker = CircuitBreaker()
        service = GradingService(settings, offline, breaker=breaker)
        rows = [
            ("offline grade alone (reference)", timed(lambda: grade_with(offline))),
            ("LLM grader alone, endpoint silent", timed(lambda: grade_with(LLMGrader(settings)))),
            ("first answer, whole (offline + LLM)", timed(lambda: grade_with(service))),
            ("second answer, whole (cooling down)", timed(lambda: grade_with(service))),
            ("connection test", timed(lambda: LLMGrader(settings, breaker).check())),
            (
                f"one request, client's own {args.retries} retries (before)",
                timed(lambda: client_retries(endpoint.base_url, args.timeout, args.retries)),
            ),
        ]
        connections = endpoint.connections
    finally:
        endpoint.stop()

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"timeout {args.timeout:g} s, retries {args.retries}; bound: timeout + 2 s = {args.timeout + 2:g} s")
    print(f"{'':52} {'seconds':>8} {'/ timeout':>10}")
    for label, seconds in rows:
        print(f"{label:52} {seconds:8.2f} {seconds / args.timeout:10.2f}")
    expected = f"LLM grader 1, answers 1, test 1, before {1 + args.retries}"
    print(f"connections the silent endpoint accepted: {connections} ({expected})")


if __name__ == "__main__":
    main()
