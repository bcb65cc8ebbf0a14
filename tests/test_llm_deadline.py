"""A dead endpoint costs seconds: one deadline per answer, and a cool-down after a timeout or a refusal."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import pytest

from interviewer.circuit import CircuitBreaker
from interviewer.errors import GraderError
from interviewer.grading import GradingService
from interviewer.llm_grader import LLMGrader
from interviewer.offline_grader import OfflineGrader
from interviewer.settings import Settings, load_settings

from .fake_llm import ANSWER, QUESTION, REFERENCE, FakeLLM, SilentEndpoint, Step, failure, reply, valid_assessment

TIMEOUT = 1.0
BOUND = TIMEOUT + 2.0
"""What an answer may wait for the LLM at most when the endpoint never replies: the timeout plus 2 s.

Whole answers also include the offline grade, which on a loaded 2-core machine can take seconds by itself, so
their bound adds twice an offline grade timed just before (the figures: `python -m bench.deadline`)."""


@pytest.fixture
def silent() -> Iterator[SilentEndpoint]:
    endpoint = SilentEndpoint().start()
    yield endpoint
    endpoint.stop()


@pytest.fixture(scope="module")
def offline(embedder) -> OfflineGrader:
    grader = OfflineGrader(embedder)
    grader.grade(QUESTION, ANSWER, REFERENCE)  # load and warm up, so timings are the endpoint's
    return grader


def settings_for(base_url: str, **changes: object) -> Settings:
    values: dict[str, object] = {"llm_base_url": base_url, "llm_timeout": TIMEOUT, "llm_max_retries": 2}
    return load_settings(**{**values, **changes})


def timed_grade(service: GradingService) -> tuple[float, str | None, str]:
    started = time.monotonic()
    grade = service.grade(QUESTION, ANSWER, REFERENCE)
    return time.monotonic() - started, grade.notice, grade.grader


def answer_bound(offline: OfflineGrader) -> float:
    """BOUND plus twice what the offline grade of the same answer takes right now."""
    started = time.monotonic()
    offline.grade(QUESTION, ANSWER, REFERENCE)
    return BOUND + 2 * (time.monotonic() - started)


def llm_wait(grader: LLMGrader) -> float:
    """Seconds until the LLM grader gives up on the answer (it must)."""
    started = time.monotonic()
    with pytest.raises(GraderError):
        grader.grade(QUESTION, ANSWER, REFERENCE)
    return time.monotonic() - started


def test_an_endpoint_that_never_answers_costs_one_timeout_then_nothing(
    silent: SilentEndpoint, offline: OfflineGrader
) -> None:
    service = GradingService(settings_for(silent.base_url), offline)
    bound = answer_bound(offline)
    first, notice, grader = timed_grade(service)
    assert grader == "offline" and notice is not None and f"did not answer within {TIMEOUT:g} s" in notice
    assert TIMEOUT * 0.9 < first < bound  # not the timeout times the retries: a timeout uses the answer's time up
    assert silent.connections == 1
    outage = service.outage()
    assert outage is not None and "answers are graded offline until" in outage.describe()

    _, notice, grader = timed_grade(service)
    assert grader == "offline"
    assert notice is not None and "did not answer at" in notice and "or until you try again" in notice
    assert silent.connections == 1  # the endpoint was not asked again
    assert llm_wait(service.graders[0]) < 0.5  # and its grader gives up at once

    service.try_again()
    assert service.outage() is None
    assert TIMEOUT * 0.9 < llm_wait(service.graders[0]) < BOUND and silent.connections == 2


def test_the_connection_test_honours_the_same_bound_and_asks_even_while_cooling_down(
    silent: SilentEndpoint,
) -> None:
    breaker = CircuitBreaker()
    grader = LLMGrader(settings_for(silent.base_url), breaker)
    started = time.monotonic()
    with pytest.raises(GraderError, match="did not answer within"):
        grader.check()
    assert time.monotonic() - started < BOUND
    assert breaker.outage(grader.settings.llm_endpoint) is not None
    with pytest.raises(GraderError, match="did not answer within"):
        grader.check()  # a person pressing "Test the connection" is trying again
    assert silent.connections == 2


def test_a_cool_down_is_shared_by_every_grader_of_the_process(silent: SilentEndpoint, offline: OfflineGrader) -> None:
    breaker = CircuitBreaker()
    one = GradingService(settings_for(silent.base_url, llm_model="a"), offline, breaker=breaker)
    other = GradingService(settings_for(silent.base_url + "/", llm_model="b"), offline, breaker=breaker)
    timed_grade(one)
    assert other.outage() is not None
    _, notice, _ = timed_grade(other)
    assert notice is not None and "or until you try again" in notice and silent.connections == 1


def test_a_refused_connection_opens_the_circuit_too() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    grader = LLMGrader(settings_for(f"http://127.0.0.1:{port}/v1"))
    with pytest.raises(GraderError, match="cannot reach the LLM endpoint"):
        grader.grade(QUESTION, ANSWER, REFERENCE)
    assert grader.breaker.outage(grader.settings.llm_endpoint) is not None


def test_the_deadline_covers_the_re_ask() -> None:
    slow_invalid = Step(content="not JSON at all", delay=0.7)
    fake = FakeLLM(slow_invalid).start()
    try:
        grader = LLMGrader(settings_for(fake.base_url))
        started = time.monotonic()
        with pytest.raises(GraderError, match="did not answer within"):
            grader.grade(QUESTION, ANSWER, REFERENCE)
        assert time.monotonic() - started < BOUND
        assert len(fake.requests) == 2  # the re-ask was sent with the time that was left, not a fresh timeout
    finally:
        fake.stop()


def test_a_server_that_answers_with_errors_is_retried_but_not_cooled_down() -> None:
    fake = FakeLLM(failure(500)).start()
    try:
        grader = LLMGrader(settings_for(fake.base_url, llm_timeout=5.0, llm_max_retries=1))
        with pytest.raises(GraderError, match="HTTP 500"):
            grader.grade(QUESTION, ANSWER, REFERENCE)
        assert len(fake.requests) == 2
        assert grader.breaker.outage(grader.settings.llm_endpoint) is None
    finally:
        fake.stop()


def test_a_retry_after_longer_than_the_time_left_ends_the_wait_at_once() -> None:
    fake = FakeLLM(failure(429, headers={"Retry-After": "30"})).start()
    try:
        grader = LLMGrader(settings_for(fake.base_url, llm_timeout=3.0))
        started = time.monotonic()
        with pytest.raises(GraderError, match="rate-limiting"):
            grader.grade(QUESTION, ANSWER, REFERENCE)
        assert time.monotonic() - started < 1.5 and len(fake.requests) == 1
    finally:
        fake.stop()


def test_an_answer_after_the_endpoint_recovers_closes_the_circuit(silent: SilentEndpoint) -> None:
    breaker = CircuitBreaker()
    live = FakeLLM(reply(json.dumps(valid_assessment(score=4)))).start()
    try:
        settings = settings_for(live.base_url)
        breaker.trip(settings.llm_endpoint, 300)
        grader = LLMGrader(settings, breaker)
        with pytest.raises(GraderError, match="or until you try again"):
            grader.grade(QUESTION, ANSWER, REFERENCE)
        assert live.requests == []
        grader.check()  # the connection test asks anyway, and its answer closes the circuit
        assert breaker.outage(settings.llm_endpoint) is None
        assert grader.grade(QUESTION, ANSWER, REFERENCE).score == 4
    finally:
        live.stop()


def test_a_cool_down_ends_by_itself() -> None:
    now = [1000.0]
    breaker = CircuitBreaker(clock=lambda: now[0])
    breaker.trip("http://e/v1", 300)
    outage = breaker.outage("http://e/v1")
    assert outage is not None and outage.until == 1300.0
    now[0] = 1299.0
    assert breaker.outage("http://e/v1") is not None
    now[0] = 1300.0
    assert breaker.outage("http://e/v1") is None
    breaker.trip("http://e/v1", 0)  # a cool-down of 0 turns the breaker off
    assert breaker.outage("http://e/v1") is None
