"""LLM endpoint faults at volume: 200 answers graded through the real engine while the endpoint misbehaves.

Twenty interview sessions run at once (threads sharing one index, grading service and store), ten answers
each. Every answer carries a case tag, and the fake endpoint plays that case's fault plan, drawn with a fixed
seed (so every run meets the same faults and asks the same questions): connection
resets, bodies cut off mid-transfer, replies slower than the timeout, 429 with `Retry-After: 0`, 500 and 503,
200 replies that are not a chat completion (a cut JSON document, an HTML page, a completion without a message),
and assistant replies that are truncated JSON, invalid JSON or scores out of range, mixed with valid replies.
The retry contract (a fault that comes back fast is retried up to `llm_max_retries` times; a reply slower than
the timeout ends the answer, since the answer's deadline is spent; an invalid reply is re-asked once; a reply
that is not a completion is not retried) predicts each case's outcome and request count, and the test holds
the engine to it: every answer ends graded (by the LLM, or offline with a notice naming the fault), is in the
store once with its answer, and a double submit writes nothing. Figures go to test-artifacts/ and
docs/RELIABILITY.md.
"""

from __future__ import annotations

import json
import random
import re
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest

from interviewer.engine import Interviewer, Outcome, Prompt, RoundOptions
from interviewer.errors import StaleAnswerError
from interviewer.grading import GradingService
from interviewer.index import open_index
from interviewer.offline_grader import OfflineGrader
from interviewer.settings import PROJECT_ROOT, Settings, load_settings
from interviewer.store import open_store

from .fake_llm import FakeLLM, Step, assessment_for, completion, failure, reply, valid_assessment

SEED = 20261125
SESSIONS = 20
ANSWERS_PER_SESSION = 10
CASES = SESSIONS * ANSWERS_PER_SESSION
WORKERS = SESSIONS  # one thread per session: their waits overlap
TIMEOUT = 3.0  # the deadline of a whole answer: room for the back-offs of every fast fault in a plan
MAX_RETRIES = 1
SLOW = 4.0
MODEL = "fault-model"
TOPIC = "PyTorch"  # eight questions: the offline grader encodes each reference once, so the run stays fast
DOUBLE_SUBMIT_SHARE = 0.1
DOUBLE_SUBMIT_OFFSET = 1000
ARTIFACT = PROJECT_ROOT / "test-artifacts" / "reliability-llm.json"

ANSWER = (
    "torch.compile traces the model into an FX graph with TorchDynamo and compiles it with Inductor into fused "
    "kernels, so Python overhead and memory traffic drop; graph breaks fall back to eager execution."
)
FOLLOW_UP = "How would you find and remove the graph breaks in a model you compile?"
TAG = re.compile(r"\[case (\d+)\]")

TRANSPORT = ("reset", "cut_body", "slow", "429", "500", "503")
"""Faults the `openai` client retries."""
BODY = ("json_body_truncated", "html_body", "no_message")
"""200 replies that are not a chat completion: not retried, graded offline at once."""
CONTENT = ("truncated_json", "invalid_json", "out_of_range")
"""Assistant replies that fail validation: re-asked once with the error."""
FAULTS = (*TRANSPORT, *BODY, *CONTENT)

REASONS = {
    "reset": "cannot reach the LLM endpoint",
    "cut_body": "cannot reach the LLM endpoint",
    "slow": f"did not answer within {TIMEOUT:g} s",
    "429": "rate-limiting (429)",
    "500": "HTTP 500",
    "503": "HTTP 503",
    "json_body_truncated": "not valid JSON",
    "html_body": "did not send a chat completion",
    "no_message": "empty reply",
    "content": "invalid twice",
}


def step_for(kind: str, text: str) -> Step:
    """The endpoint's behaviour for one request; `text` is what a good reply carries."""
    steps = {
        "ok": reply(text),
        "reset": Step(reset=True),
        "cut_body": Step(content=text, truncate_body=True),
        "slow": Step(content=text, delay=SLOW),
        "429": failure(429, headers={"Retry-After": "0"}),
        "500": failure(500),
        "503": failure(503),
        "json_body_truncated": Step(body=completion(text)[:150]),
        "html_body": Step(body=b"<html><body><h1>502 Bad Gateway</h1></body></html>", content_type="text/html"),
        "no_message": Step(body=b'{"object": "chat.completion", "choices": [{"index": 0}]}'),
        "truncated_json": reply(text[: len(text) // 2]),
        "invalid_json": reply("{'score': 4, 'reasoning': 'single quotes are not JSON'}"),
        "out_of_range": reply(valid_assessment(score=7)),
    }
    return steps[kind]


def draw_plan(rng: random.Random, kinds: tuple[str, ...]) -> tuple[str, ...]:
    """What the endpoint does on successive requests of one case: faults, maybe then a good reply (the last repeats)."""
    if rng.random() < 0.15:
        return ("ok",)
    plan = [rng.choice(kinds)]
    while rng.random() < 0.45 and len(plan) < 4:
        plan.append(rng.choice(kinds))
    if rng.random() < 0.55:
        plan.append("ok")
    return tuple(plan)


@dataclass(frozen=True)
class Expected:
    """What the retry contract predicts for a plan."""

    graded_by_llm: bool
    reason: str | None
    requests: int


def expected(plan: tuple[str, ...], validations: int) -> Expected:
    """Play the plan against the contract: 1 + MAX_RETRIES transport attempts per call, `validations` calls, and
    nothing after a timeout."""
    served = 0

    def next_kind() -> str:
        nonlocal served
        kind = plan[min(served, len(plan) - 1)]
        served += 1
        return kind

    for _ in range(validations):
        for _ in range(1 + MAX_RETRIES):
            kind = next_kind()
            if kind == "slow":
                return Expected(False, REASONS[kind], served)
            if kind not in TRANSPORT:
                break
        else:
            return Expected(False, REASONS[kind], served)
        if kind in BODY:
            return Expected(False, REASONS[kind], served)
        if kind == "ok":
            return Expected(True, None, served)
    return Expected(False, REASONS["content"], served)


class FaultPlans:
    """Per-case plans for grading and follow-up requests, and what the endpoint actually served."""

    def __init__(self, seed: int) -> None:
        rng = random.Random(seed)
        self.grading = {case: draw_plan(rng, FAULTS) for case in range(CASES)}
        self.follow_up = {case: draw_plan(rng, (*TRANSPORT, *BODY)) for case in range(CASES)}
        self.double_submits = {case for case in range(CASES) if rng.random() < DOUBLE_SUBMIT_SHARE}
        self.served: dict[tuple[str, int], list[str]] = {}

    def choose(self, body: dict[str, Any]) -> Step:
        """Called by the fake endpoint under its lock: find the case tag, play that case's next step."""
        text = "\n".join(str(message.get("content", "")) for message in body.get("messages", []))
        found = TAG.search(text)
        case = int(found.group(1)) if found else -1
        grading = "response_format" in body  # follow-up questions are asked without a schema
        plans = self.grading if grading else self.follow_up
        plan = plans.get(case, ("ok",))  # double submits and untagged requests get good replies
        served = self.served.setdefault(("grade" if grading else "follow_up", case), [])
        kind = plan[min(len(served), len(plan) - 1)]
        served.append(kind)
        # A good grade is partial (3.5, one point covered), so an LLM grade leads to an LLM follow-up.
        return step_for(kind, assessment_for(body, score=3.5) if grading else FOLLOW_UP)


@dataclass(frozen=True)
class Submitted:
    """One answer as the session sent it and what the engine returned."""

    case: int
    prompt: Prompt
    answer: str
    outcome: Outcome
    seconds: float
    double: str | None  # "refused" (as it must be) or "saved", for a second answer to the same prompt


@pytest.fixture
def plans() -> FaultPlans:
    return FaultPlans(SEED)


@pytest.fixture
def endpoint(plans: FaultPlans) -> Iterator[FakeLLM]:
    fake = FakeLLM(choose=plans.choose).start()
    yield fake
    fake.stop()


@pytest.fixture
def engine(indexed_settings: Settings, endpoint: FakeLLM, embedder) -> Interviewer:
    """The real engine, grading service, LLM grader and store, pointed at the faulty endpoint."""
    settings = load_settings(
        home=indexed_settings.home,
        knowledge_dir=indexed_settings.knowledge_dir,
        llm_base_url=endpoint.base_url,
        llm_api_key="sk-test",
        llm_model=MODEL,
        llm_timeout=TIMEOUT,
        llm_max_retries=MAX_RETRIES,
        llm_cooldown=0,  # every case meets its own faults; the cool-down has tests of its own
    )
    index = open_index(settings.knowledge_dir, settings.index_dir, embedder).index
    grading = GradingService(settings, OfflineGrader(embedder))
    return Interviewer(settings, index, embedder, grading, open_store(settings), random.Random(SEED))


def for_session(engine: Interviewer, session: int) -> Interviewer:
    """The same index, graders and store with a session's own question order, so every run asks the same."""
    return Interviewer(
        engine.settings, engine.index, engine.embedder, engine.grading, engine.store, random.Random(SEED + session)
    )


def run_session(interviewer: Interviewer, cases: list[int], plans: FaultPlans) -> list[Submitted]:
    """Answer whatever the engine asks, one case per answer, starting new rounds as they finish."""
    queue = list(cases)
    submitted: list[Submitted] = []
    while queue:
        round_id = interviewer.start(RoundOptions(topics=(TOPIC,), count=5))
        prompt = interviewer.next_prompt(round_id)
        while prompt is not None and queue:
            case = queue.pop(0)
            answer = f"[case {case:03d}] {ANSWER}"
            started = time.perf_counter()
            outcome = interviewer.answer(prompt, answer)
            seconds = time.perf_counter() - started
            double = None
            if case in plans.double_submits:  # the same prompt submitted again, as a second tab would
                try:
                    interviewer.answer(prompt, f"[case {case + DOUBLE_SUBMIT_OFFSET}] {ANSWER}")
                    double = "saved"
                except StaleAnswerError:
                    double = "refused"
            submitted.append(Submitted(case, prompt, answer, outcome, seconds, double))
            prompt = outcome.next_prompt
        interviewer.end(round_id)
    return submitted


def problems_of(item: Submitted, plans: FaultPlans) -> list[str]:
    """Everything about one answer that broke the contract (empty when it held)."""
    problems: list[str] = []
    grade = item.outcome.turn.grade
    want = expected(plans.grading[item.case], validations=2)
    if not item.outcome.saved:
        problems.append("not saved")
    if grade is None:
        return [*problems, "no grade"]
    if want.graded_by_llm and grade.grader != f"llm:{MODEL}":
        problems.append(f"expected the LLM grade, got {grade.grader} ({grade.notice})")
    if not want.graded_by_llm:
        if grade.grader != "offline":
            problems.append(f"expected an offline grade, got {grade.grader}")
        elif not grade.notice or want.reason not in grade.notice:
            problems.append(f"notice {grade.notice!r} does not name {want.reason!r}")
    served = plans.served.get(("grade", item.case), [])
    if len(served) != want.requests:
        problems.append(f"{len(served)} grading requests, the contract says {want.requests}: {served}")
    asked_follow_up = want.graded_by_llm and item.prompt.kind == "question"
    if asked_follow_up:
        follow = expected(plans.follow_up[item.case], validations=1)
        served_follow = plans.served.get(("follow_up", item.case), [])
        next_prompt = item.outcome.next_prompt
        if len(served_follow) != follow.requests:
            problems.append(f"{len(served_follow)} follow-up requests, the contract says {follow.requests}")
        if next_prompt is None or next_prompt.kind != "follow_up":
            problems.append("no follow-up after a partial LLM grade")
        elif (next_prompt.question == FOLLOW_UP) != follow.graded_by_llm:
            problems.append(f"follow-up {next_prompt.question!r} does not match its plan")
    if item.double == "saved":
        problems.append("a double submit was saved")
    return problems


def test_every_answer_is_graded_once_and_kept_whatever_the_endpoint_does(
    engine: Interviewer, plans: FaultPlans, endpoint: FakeLLM
) -> None:
    started = time.perf_counter()

    def session(number: int) -> list[Submitted]:
        cases = list(range(number * ANSWERS_PER_SESSION, (number + 1) * ANSWERS_PER_SESSION))
        return run_session(for_session(engine, number), cases, plans)

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        results = [item for batch in pool.map(session, range(SESSIONS)) for item in batch]
    wall = time.perf_counter() - started

    problems = {item.case: problems_of(item, plans) for item in results}
    # The store is the record: every answer is there once, at its own position, with its grade.
    rounds = engine.rounds()
    stored = {(turn.round_id, turn.position): turn for record in rounds for turn in record.turns}
    for record in rounds:
        assert [turn.position for turn in record.turns] == list(range(len(record.turns))), record.id
    assert len(stored) == CASES
    for item in results:
        turn = stored.get((item.prompt.round_id, item.prompt.position))
        if turn is None or turn.answer != item.answer:
            problems[item.case].append("the stored turn is missing or holds another answer")
        elif turn.grade != item.outcome.turn.grade:
            problems[item.case].append("the stored grade differs from the one returned")

    figures = tally(results, problems, plans, wall, len(endpoint.requests))
    ARTIFACT.parent.mkdir(exist_ok=True)
    ARTIFACT.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(figures, indent=2))
    broken = {case: found for case, found in problems.items() if found}
    assert sorted(item.case for item in results) == list(range(CASES))
    assert not broken, "\n".join(f"case {c} {plans.grading[c]}: {'; '.join(p)}" for c, p in sorted(broken.items()))


def tally(
    results: list[Submitted], problems: dict[int, list[str]], plans: FaultPlans, wall: float, requests: int
) -> dict[str, Any]:
    """Cases run and held, per fault served (a case counts once under each fault it met)."""
    ran: Counter[str] = Counter()
    held: Counter[str] = Counter()
    for item in results:
        met = set(plans.served.get(("grade", item.case), [])) - {"ok"}
        met |= {f"follow_up:{kind}" for kind in plans.served.get(("follow_up", item.case), []) if kind != "ok"}
        met |= set() if met else {"no_fault"}
        met |= {"double_submit"} if item.double is not None else set()
        for kind in met:
            ran[kind] += 1
            held[kind] += not problems[item.case]
    graders = Counter(item.outcome.turn.grade.grader for item in results if item.outcome.turn.grade)
    seconds = sorted(item.seconds for item in results)
    return {
        "seed": SEED,
        "answers": len(results),
        "held": sum(1 for item in results if not problems[item.case]),
        "graded_by": dict(graders),
        "requests": requests,
        "wall_seconds": round(wall, 1),
        "answer_seconds_p50": round(seconds[len(seconds) // 2], 2),
        "answer_seconds_max": round(seconds[-1], 2),
        "by_fault": {kind: {"ran": ran[kind], "held": held[kind]} for kind in sorted(ran)},
    }


@pytest.mark.parametrize(
    ("plan", "validations", "want"),
    [
        (("ok",), 2, Expected(True, None, 1)),
        (("500", "ok"), 2, Expected(True, None, 2)),
        (("500", "slow"), 2, Expected(False, REASONS["slow"], 2)),
        (("slow", "ok"), 2, Expected(False, REASONS["slow"], 1)),
        (("invalid_json", "503", "ok"), 2, Expected(True, None, 3)),
        (("html_body", "ok"), 2, Expected(False, REASONS["html_body"], 1)),
        (("out_of_range",), 2, Expected(False, REASONS["content"], 2)),
    ],
)
def test_the_contract_model_itself(plan: tuple[str, ...], validations: int, want: Expected) -> None:
    assert expected(plan, validations) == want


def test_plans_are_reproducible_and_cover_every_fault() -> None:
    plans = FaultPlans(SEED)
    assert plans.grading == FaultPlans(SEED).grading
    met = {kind for plan in plans.grading.values() for kind in plan}
    assert met == {*FAULTS, "ok"}


def test_sessions_can_encode_at_once(embedder) -> None:
    """Regression: concurrent encodes raced on the shared tokenizer's padding state and failed ("Unable to create
    tensor"); the fake-endpoint run above found it, because every answer is also graded offline."""
    long = "a longer sentence about dynamic batching and the padding of inputs of different lengths " * 2

    def encode(worker: int) -> int:
        for step in range(12):
            embedder.encode_words(["short", long[: 20 + 7 * ((worker + step) % 20)], "a middling text here", "x"])
        return worker

    with ThreadPoolExecutor(max_workers=10) as pool:
        assert sorted(pool.map(encode, range(10))) == list(range(10))
