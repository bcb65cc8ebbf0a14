"""Grade an answer with an LLM at any OpenAI-compatible endpoint (OpenAI, Azure, Ollama, vLLM, llama.cpp, ...).

One request per answer at temperature 0, with the `LLMAssessment` JSON schema both in the system prompt and as
`response_format` (dropped for endpoints that reject it). The reply is extracted tolerantly (bare, fenced or
prose-wrapped JSON, trailing commas) and validated strictly, against the schema and against what was asked (the
key points given, the flags a grader may set, a score consistent with the criteria); a reply that fails is sent
back once with the error, built as a new message list. Anything that still fails raises `GraderError`, and the
caller falls back to the offline grader.

Each answer has one deadline, `llm_timeout` seconds from its start, across every attempt and the re-ask: faults
that come back fast (connection refused or reset, 429, 5xx) are retried with back-off (honouring Retry-After) while
time is left, and a request that times out is not retried, since it used the time up. An endpoint that timed out
or could not be reached opens its circuit (`interviewer.circuit`), so the next answers do not wait for it again.
The API key goes in each request's own Authorization header, and only when it was given for this endpoint
(`Settings.llm_key`); otherwise the header is left out, even one set in `OPENAI_CUSTOM_HEADERS`.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
import time
from collections.abc import Mapping, Sequence
from email.utils import parsedate_to_datetime
from typing import Any

import openai
from openai.types.chat import ChatCompletion
from pydantic import Field, ValidationError, ValidationInfo, model_validator

from interviewer.answers import CleanAnswer, clean_answer
from interviewer.circuit import CircuitBreaker
from interviewer.errors import ConfigError, GraderError
from interviewer.grade import Assessment, Grade, JudgedFlag, ReferenceInfo, listed_verdicts
from interviewer.models import Reference
from interviewer.prompts import render
from interviewer.settings import Settings

VALIDATION_ATTEMPTS = 2
RETRIED_STATUSES = frozenset({408, 409, 429})
"""Statuses worth another attempt, besides every 5xx (as the `openai` client decides)."""
FIRST_BACKOFF = 0.5
MAX_BACKOFF = 8.0
SCORE_SPREAD = 1.0
"""How far the overall score may be from the mean of the criteria scores."""
_FENCED_JSON = re.compile(r"```(?:json)?\s*(\{.*?\})\s*```", re.DOTALL)
_TRAILING_COMMA = re.compile(r",\s*([}\]])")
_MARKUP = re.compile(r"\]\(|<[a-z/!?]|://|\bwww\.|\S@\S+\.\w", re.IGNORECASE)
"""What would make a line of text a link, an image or HTML if a page rendered it as Markdown."""


def _spelling(point: str) -> str:
    """A key point as compared: whitespace, case, a leading bullet and trailing punctuation do not count."""
    return " ".join(point.split()).lower().lstrip("-*• ").rstrip(".;:,!? ")


class LLMAssessment(Assessment):
    """The reply asked of the LLM: checked against what was asked, not only against its types.

    Validate it with `context={"key_points": [...]}` (the list the prompt gave). Every listed point must be one of
    those, each of those must be in exactly one of the two lists, the flags are only those a grader may set
    (`truncated` and `score_capped` are the code's), and the overall score is within SCORE_SPREAD of the mean of
    the criteria. The lists come back in the key points' own spelling. The messages are written for the model,
    which gets them back in the re-ask.
    """

    flags: list[JudgedFlag] = Field(
        default_factory=list,
        description="Any of: empty, restates_question, off_topic, keyword_list, instructions_to_grader.",
    )

    @model_validator(mode="after")
    def _answers_what_was_asked(self, info: ValidationInfo) -> LLMAssessment:
        """Check the reply against the request; put the key points in their given spelling."""
        problems: list[str] = []
        given = list((info.context or {}).get("key_points", ()))
        spelled = {_spelling(point): point for point in given}
        listed: dict[str, list[str]] = {}
        unknown: list[str] = []
        for name in ("key_points_covered", "key_points_missed"):
            points = getattr(self, name)
            unknown += [f"{name} lists {point!r}" for point in points if _spelling(point) not in spelled]
            listed[name] = list(dict.fromkeys(spelled[_spelling(p)] for p in points if _spelling(p) in spelled))
        if unknown:
            allowed = "copy each point exactly from this list: " + "; ".join(map(repr, given))
            problems.append(
                f"{', '.join(unknown)}, not in the key points given; "
                + (allowed if given else "no key points were given, so both key point lists must be empty")
            )
        both = set(listed["key_points_covered"]) & set(listed["key_points_missed"])
        if both:
            problems.append(f"{', '.join(map(repr, sorted(both)))} is in both lists; put each point in exactly one")
        neither = [point for point in given if point not in listed["key_points_covered"] + listed["key_points_missed"]]
        if neither:
            problems.append(
                f"{', '.join(map(repr, neither))} is in neither list; put every key point given in exactly one of "
                "key_points_covered and key_points_missed"
            )
        mean = sum(value for _, value in self.criteria) / len(type(self.criteria).model_fields)
        if abs(self.score - mean) > SCORE_SPREAD:
            problems.append(
                f"the overall score {self.score:g} is not consistent with the criteria, whose mean is {mean:.2f}; "
                f"give an overall score within {SCORE_SPREAD:g} of that mean"
            )
        if problems:
            raise ValueError("; ".join(problems))
        self.key_points_covered = listed["key_points_covered"]
        self.key_points_missed = listed["key_points_missed"]
        return self


def llm_configured(settings: Settings) -> bool:
    """An LLM is configured when an endpoint or an API key is set."""
    return bool(settings.llm_base_url or settings.llm_key)


def _first_json_object(text: str) -> str | None:
    """The first balanced {...} in the text, ignoring braces inside strings."""
    start = text.find("{")
    while start != -1:
        depth, in_string, escaped = 0, False, False
        for position in range(start, len(text)):
            char = text[position]
            if in_string:
                escaped = not escaped and char == "\\"
                if char == '"' and not escaped:
                    in_string = False
                continue
            if char == '"':
                in_string = True
            elif char == "{":
                depth += 1
            elif char == "}":
                depth -= 1
                if depth == 0:
                    return text[start : position + 1]
        start = text.find("{", start + 1)
    return None


def extract_json(text: str) -> dict[str, Any]:
    """Tolerant in: take JSON from a fence or from surrounding prose, forgive trailing commas."""
    fenced = _FENCED_JSON.search(text)
    candidate = fenced.group(1) if fenced else _first_json_object(text)
    if candidate is None:
        raise ValueError("the reply contains no JSON object")
    for attempt in (candidate, _TRAILING_COMMA.sub(r"\1", candidate)):
        try:
            data = json.loads(attempt)
        except json.JSONDecodeError as error:
            last_error = error
            continue
        if isinstance(data, dict):
            return data
        raise ValueError("the reply's JSON is not an object")
    raise ValueError(f"the reply is not valid JSON ({last_error.msg} at position {last_error.pos})")


def fence_id(answer: str) -> str:
    """A fence tag derived from the answer itself, so the answer cannot contain its own closing tag."""
    return hashlib.sha256(answer.encode("utf-8")).hexdigest()[:16]


def _validation_message(error: ValidationError) -> str:
    """Validation errors written for the model to act on."""
    parts = []
    for problem in error.errors()[:8]:
        where, message = ".".join(map(str, problem["loc"])), problem["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    return "the JSON does not match what was asked: " + "; ".join(parts)


def _reply_text(response: object) -> str:
    """The assistant's text of a chat completion; GraderError when the 200 reply is not one or has no text."""
    # The client does not validate replies: an HTML page comes back as a str, `{"choices": [{}]}` as a
    # completion whose message is None, and a wrong type as whatever the JSON held.
    if not isinstance(response, ChatCompletion) or not isinstance(response.choices, list | None):
        raise GraderError("the LLM endpoint did not send a chat completion; check the endpoint's base URL")
    first = response.choices[0] if response.choices else None
    content = getattr(getattr(first, "message", None), "content", None)
    if not isinstance(content, str) or not content.strip():
        raise GraderError("the LLM returned an empty reply")
    return content


def _retry_after(headers: Mapping[str, str]) -> float | None:
    """The wait a server asks for (retry-after-ms or Retry-After, in seconds or as a date), when it asks for one."""
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value) * scale
        except ValueError:
            try:
                seconds = parsedate_to_datetime(value).timestamp() - time.time()
            except (TypeError, ValueError):
                continue
        if math.isfinite(seconds) and seconds > 0:
            return seconds
    return None


def _backoff(attempt: int, headers: Mapping[str, str]) -> float:
    """Seconds before the next attempt: what the server asked for, else exponential back-off with jitter."""
    asked = _retry_after(headers)
    if asked is not None:
        return asked
    return min(FIRST_BACKOFF * 2**attempt, MAX_BACKOFF) * (1 - 0.25 * random.random())


def _retryable(error: openai.APIStatusError) -> bool:
    """Whether an HTTP error is worth another attempt (the server's x-should-retry decides when it is sent)."""
    said = error.response.headers.get("x-should-retry")
    if said in ("true", "false"):
        return said == "true"
    return error.status_code in RETRIED_STATUSES or error.status_code >= 500


def _status_failure(error: openai.APIStatusError) -> GraderError:
    """An HTTP error in words."""
    if error.status_code == 429:
        return GraderError("the LLM endpoint is rate-limiting (429) and retries ran out")
    return GraderError(f"the LLM endpoint failed with HTTP {error.status_code}")


class LLMGrader:
    """Reference-guided rubric grading through the `openai` client."""

    def __init__(self, settings: Settings, breaker: CircuitBreaker | None = None) -> None:
        """`breaker` is shared by everything that talks to endpoints in this process; a private one by default."""
        if not llm_configured(settings):
            raise ConfigError(
                "No LLM is configured: set OPENAI_API_KEY (OpenAI) or INTERVIEWER_LLM_BASE_URL "
                "(e.g. http://localhost:11434/v1 for Ollama), or grade offline."
            )
        self.settings = settings
        self.name = f"llm:{settings.llm_model}"
        self.breaker = breaker or CircuitBreaker()
        key = settings.llm_key
        self._authorization: dict[str, Any] = {
            "Authorization": f"Bearer {key.get_secret_value()}" if key else openai.omit
        }
        # The key travels only in `_authorization`; the client's own is a placeholder it requires.
        self._client = openai.OpenAI(
            base_url=settings.llm_endpoint, api_key="sent-per-request", timeout=settings.llm_timeout, max_retries=0
        )
        self._schema_accepted = True  # until the endpoint rejects `response_format`

    def _deadline(self) -> float:
        """When the call starting now must end; GraderError at once while the endpoint's circuit is open."""
        outage = self.breaker.outage(self.settings.llm_endpoint)
        if outage is not None:
            raise GraderError(outage.describe())
        return time.monotonic() + self.settings.llm_timeout

    def messages(self, question: str, answer: CleanAnswer, reference: Reference) -> list[dict[str, str]]:
        """The system and user messages for one grading request."""
        behavioral = reference.question is not None and reference.question.is_behavioral
        schema = json.dumps(LLMAssessment.model_json_schema(), indent=1)
        system = render(
            self.settings.prompts_dir,
            "grade_system",
            rubric=render(self.settings.prompts_dir, "rubric_star" if behavioral else "rubric_technical"),
            schema=schema,
        )
        key_points = "\n".join(f"- {point}" for point in reference.key_points) or (
            "(none listed: grade against the reference, and leave both key point lists empty)"
        )
        user = render(
            self.settings.prompts_dir,
            "grade_user",
            question=question,
            reference=reference.text,
            key_points=key_points,
            fence=fence_id(answer.text),
            answer=answer.text or "(empty)",
        )
        return [{"role": "system", "content": system}, {"role": "user", "content": user}]

    def _complete(self, messages: list[dict[str, str]], deadline: float, structured: bool = True) -> str:
        """One chat completion, retried while the deadline allows; GraderError names the fault."""
        options: dict[str, Any] = {"model": self.settings.llm_model, "messages": messages, "temperature": 0}
        if structured and self._schema_accepted:
            schema = {"name": "assessment", "schema": LLMAssessment.model_json_schema()}
            options["response_format"] = {"type": "json_schema", "json_schema": schema}
        endpoint, attempts = self.settings.llm_endpoint, 1 + self.settings.llm_max_retries
        out_of_time = f"the LLM did not answer within {self.settings.llm_timeout:g} s"
        failure, cause, unreachable = GraderError(out_of_time), None, False  # as when no time is left to ask
        for attempt in range(attempts):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                response = self._client.chat.completions.create(
                    **options, timeout=remaining, extra_headers=self._authorization
                )
            except openai.BadRequestError as error:
                if "response_format" not in options or "response_format" not in str(error):
                    raise GraderError(f"the LLM endpoint rejected the request ({error.status_code})") from error
                self._schema_accepted = False  # the schema stays in the system prompt
                return self._complete(messages, deadline)
            except openai.APITimeoutError as error:  # the time is used up: no retry
                self.breaker.trip(endpoint, self.settings.llm_cooldown)
                raise GraderError(out_of_time) from error
            except openai.APIConnectionError as error:
                failure = GraderError(f"cannot reach the LLM endpoint ({error.__cause__ or error})")
                cause, unreachable, headers = error, True, {}
            except openai.APIStatusError as error:
                if not _retryable(error):
                    raise _status_failure(error) from error
                failure, cause, unreachable, headers = _status_failure(error), error, False, error.response.headers
            except ValueError as error:  # a 200 whose body is cut or not JSON: the client raises json's own error
                raise GraderError(f"the LLM endpoint sent a reply that is not valid JSON ({error})") from error
            else:
                self.breaker.reset(endpoint)
                return _reply_text(response)
            wait = _backoff(attempt, headers)
            if attempt + 1 == attempts or wait >= deadline - time.monotonic():
                break
            time.sleep(wait)
        if unreachable:
            self.breaker.trip(endpoint, self.settings.llm_cooldown)
        raise failure from cause

    def assess(
        self, question: str, answer: CleanAnswer, reference: Reference, deadline: float | None = None
    ) -> Assessment:
        """Ask, validate, re-ask once with the error, all before the deadline; GraderError when no valid assessment
        comes back."""
        deadline = self._deadline() if deadline is None else deadline
        base = self.messages(question, answer, reference)
        messages = base
        problem = ""
        for _ in range(VALIDATION_ATTEMPTS):
            reply = self._complete(messages, deadline)
            try:
                return LLMAssessment.model_validate(extract_json(reply), context={"key_points": reference.key_points})
            except ValueError as error:  # pydantic's ValidationError is a ValueError
                problem = _validation_message(error) if isinstance(error, ValidationError) else str(error)
            reask = render(self.settings.prompts_dir, "reask", error=problem)
            messages = [*base, {"role": "assistant", "content": reply}, {"role": "user", "content": reask}]
        raise GraderError(f"the LLM's reply was invalid twice ({problem})")

    def grade(self, question: str, answer: str, reference: Reference) -> Grade:
        """The `Grader` protocol: assess the cleaned answer and record where the grade came from."""
        deadline = self._deadline()
        cleaned = clean_answer(answer)
        assessment = self.assess(question, cleaned, reference, deadline)
        flags = [*assessment.flags, "truncated"] if cleaned.truncated else assessment.flags
        return Grade(
            **{**assessment.model_dump(), "flags": flags},
            grader=self.name,
            reference=ReferenceInfo(question_id=reference.question_id, sources=list(reference.sources)),
            key_points=listed_verdicts(assessment),
        )

    def check(self) -> str:
        """Send one tiny request and say what came back: the Settings page's connection test.

        It asks even while the endpoint's circuit is open (that is how a person tries again), within the same
        deadline as an answer; its outcome opens or closes the circuit.
        """
        started = time.monotonic()
        deadline = started + self.settings.llm_timeout
        reply = self._complete([{"role": "user", "content": "Reply with the single word OK."}], deadline, False)
        elapsed = (time.monotonic() - started) * 1000
        return f"{self.settings.llm_model} at {self.settings.llm_endpoint} answered in {elapsed:.0f} ms: {reply[:80]!r}"

    def follow_up(self, question: str, answer: str, missed: Sequence[str]) -> str:
        """One follow-up question about the missed key points: one plain line, else GraderError."""
        excerpt = clean_answer(answer).text[:1500]
        user = render(
            self.settings.prompts_dir,
            "followup_user",
            question=question,
            missed="\n".join(f"- {point}" for point in missed),
            fence=fence_id(excerpt),
            answer_excerpt=excerpt,
        )
        messages = [
            {"role": "system", "content": render(self.settings.prompts_dir, "followup_system")},
            {"role": "user", "content": user},
        ]
        text = self._complete(messages, self._deadline(), structured=False).strip().strip('"')
        question = text.splitlines()[0][:300] if text else ""
        if _MARKUP.search(question):  # a question needs no link, image or markup; the offline follow-up is asked
            raise GraderError("the LLM's follow-up held a link, an image or markup")
        return question
