"""The grading service: the graders the settings name, tried in order, with the offline grade as fallback."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from interviewer.grading import GradingService, configured_graders
from interviewer.llm_grader import LLMGrader
from interviewer.offline_grader import OfflineGrader
from interviewer.settings import Settings, load_settings

from .fake_llm import ANSWER, QUESTION, REFERENCE, FakeLLM, reply, valid_assessment


@pytest.fixture
def server() -> Iterator[FakeLLM]:
    fake = FakeLLM(reply(valid_assessment(score=3.5)), reply("Which inputs would you pad, and why?")).start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def offline(embedder) -> OfflineGrader:
    return OfflineGrader(embedder)


def closed_port() -> int:
    """A loopback port nothing listens on: connecting is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def llm(base_url: str, model: str) -> LLMGrader:
    return LLMGrader(load_settings(llm_base_url=base_url, llm_model=model, llm_timeout=2.0, llm_max_retries=0))


def test_when_the_first_grader_fails_the_next_one_grades(server: FakeLLM, offline: OfflineGrader) -> None:
    dead = llm(f"http://127.0.0.1:{closed_port()}/v1", "dead-model")
    service = GradingService(load_settings(), offline, [dead, llm(server.base_url, "live-model")])
    grade = service.grade(QUESTION, ANSWER, REFERENCE)
    assert (grade.grader, grade.score, grade.notice) == ("llm:live-model", 3.5, None)
    assert service.describe() == "llm:dead-model then llm:live-model (offline if it fails)"


def test_when_every_grader_fails_the_offline_grade_says_why(offline: OfflineGrader) -> None:
    dead = llm(f"http://127.0.0.1:{closed_port()}/v1", "dead-model")
    grade = GradingService(load_settings(), offline, [dead]).grade(QUESTION, ANSWER, REFERENCE)
    assert grade.grader == "offline"
    assert grade.notice is not None and "llm:dead-model" in grade.notice and "graded offline" in grade.notice


def test_the_follow_up_is_worded_by_the_grader_that_graded(server: FakeLLM, offline: OfflineGrader) -> None:
    service = GradingService(load_settings(), offline, [llm(server.base_url, "live-model")])
    grade = service.grade(QUESTION, ANSWER, REFERENCE)
    assert service.follow_up(grade, QUESTION, ANSWER, grade.key_points_missed) == "Which inputs would you pad, and why?"
    offline_grade = offline.grade(QUESTION, ANSWER, REFERENCE)
    assert service.follow_up(offline_grade, QUESTION, ANSWER, ["Padding"]) is None
    assert len(server.requests) == 2  # the offline grade asked the endpoint for nothing


@pytest.mark.parametrize(
    ("changes", "names"),
    [
        ({}, []),
        ({"grader": "offline", "llm_base_url": "http://127.0.0.1:9/v1"}, []),
        ({"llm_base_url": "http://127.0.0.1:9/v1", "llm_model": "m"}, ["llm:m"]),
        ({"grader": "llm", "llm_base_url": "http://127.0.0.1:9/v1", "llm_model": "m"}, ["llm:m"]),
    ],
)
def test_settings_choose_the_graders(changes: dict[str, str], names: list[str]) -> None:
    settings: Settings = load_settings(**changes)
    assert [grader.name for grader in configured_graders(settings)] == names
