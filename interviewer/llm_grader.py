"""Grade an answer with an LLM at any OpenAI-compatible endpoint (OpenAI, Azure, Ollama, vLLM, llama.cpp, ...).

One request per answer at temperature 0, with the `Assessment` JSON schema both in the system prompt and as
`response_format` (dropped for endpoints that reject it). Transport faults (connection refused, timeouts, 429 and
5xx) are retried with back-off by the `openai` client, which honours Retry-After. The reply is extracted
tolerantly (bare, fenced or prose-wrapped JSON, trailing commas) and validated strictly; a reply that fails
validation is sent back once with the error, built as a new message list. Anything that still fails raises
`GraderError`, and the caller falls back to the offline grader.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Sequence
from typing import Any

import openai
from openai.types.chat import ChatCompletion
from pydantic import ValidationError

from interviewer.answers import CleanAnswer, clean_answer
from interviewer.errors import ConfigError, GraderError
from interviewer.grade import Assessment, Grade, ReferenceInfo
from interviewer.models import Reference
from interviewer.prompts import render
from interviewer.settings import Settings

VALIDATION_ATTEMPTS = 2
_FENCED_JSON = re.compile(r"```(?:json)?\s*(\{.*?\})\s*```", re.DOTALL)
_TRAILING_COMMA = re.compile(r",\s*([}\]])")


def llm_configured(settings: Settings) -> bool:
    """An LLM is configured when an endpoint or an API key is set."""
    return bool(settings.llm_base_url or settings.llm_api_key)


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
    parts = [f"{'.'.join(map(str, e['loc'])) or 'reply'}: {e['msg']}" for e in error.errors()[:8]]
    return "the JSON does not match the schema: " + "; ".join(parts)


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


class LLMGrader:
    """Reference-guided rubric grading through the `openai` client."""

    def __init__(self, settings: Settings) -> None:
        if not llm_configured(settings):
            raise ConfigError(
                "No LLM is configured: set OPENAI_API_KEY (OpenAI) or INTERVIEWER_LLM_BASE_URL "
                "(e.g. http://localhost:11434/v1 for Ollama), or grade offline."
            )
        self.settings = settings
        self.name = f"llm:{settings.llm_model}"
        api_key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else "not-needed"
        self._client = openai.OpenAI(
            base_url=settings.llm_base_url,
            api_key=api_key,
            timeout=settings.llm_timeout,
            max_retries=settings.llm_max_retries,
        )
        self._schema_accepted = True  # until the endpoint rejects `response_format`

    def messages(self, question: str, answer: CleanAnswer, reference: Reference) -> list[dict[str, str]]:
        """The system and user messages for one grading request."""
        behavioral = reference.question is not None and reference.question.is_behavioral
        schema = json.dumps(Assessment.model_json_schema(), indent=1)
        system = render(
            self.settings.prompts_dir,
            "grade_system",
            rubric=render(self.settings.prompts_dir, "rubric_star" if behavioral else "rubric_technical"),
            schema=schema,
        )
        key_points = "\n".join(f"- {point}" for point in reference.key_points) or "(none listed: use the reference)"
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

    def _complete(self, messages: list[dict[str, str]], structured: bool = True) -> str:
        """One chat completion (with the client's own retries); GraderError names the fault."""
        options: dict[str, Any] = {"model": self.settings.llm_model, "messages": messages, "temperature": 0}
        if structured and self._schema_accepted:
            schema = {"name": "assessment", "schema": Assessment.model_json_schema()}
            options["response_format"] = {"type": "json_schema", "json_schema": schema}
        try:
            response = self._client.chat.completions.create(**options)
        except openai.BadRequestError as error:
            if "response_format" not in options or "response_format" not in str(error):
                raise GraderError(f"the LLM endpoint rejected the request ({error.status_code})") from error
            self._schema_accepted = False  # the schema stays in the system prompt
            return self._complete(messages)
        except openai.APITimeoutError as error:
            raise GraderError(f"the LLM did not answer within {self.settings.llm_timeout:g} s") from error
        except openai.APIConnectionError as error:
            raise GraderError(f"cannot reach the LLM endpoint ({error.__cause__ or error})") from error
        except openai.RateLimitError as error:
            raise GraderError("the LLM endpoint is rate-limiting (429) and retries ran out") from error
        except openai.APIStatusError as error:
            raise GraderError(f"the LLM endpoint failed with HTTP {error.status_code}") from error
        except ValueError as error:  # a 200 whose body is cut or not JSON: the client raises json's own error
            raise GraderError(f"the LLM endpoint sent a reply that is not valid JSON ({error})") from error
        return _reply_text(response)

    def assess(self, question: str, answer: CleanAnswer, reference: Reference) -> Assessment:
        """Ask, validate, re-ask once with the error; GraderError when no valid assessment comes back."""
        base = self.messages(question, answer, reference)
        messages = base
        problem = ""
        for _ in range(VALIDATION_ATTEMPTS):
            reply = self._complete(messages)
            try:
                return Assessment.model_validate(extract_json(reply))
            except ValueError as error:  # pydantic's ValidationError is a ValueError
                problem = _validation_message(error) if isinstance(error, ValidationError) else str(error)
            reask = render(self.settings.prompts_dir, "reask", error=problem)
            messages = [*base, {"role": "assistant", "content": reply}, {"role": "user", "content": reask}]
        raise GraderError(f"the LLM's reply was invalid twice ({problem})")

    def grade(self, question: str, answer: str, reference: Reference) -> Grade:
        """The `Grader` protocol: assess the cleaned answer and record where the grade came from."""
        cleaned = clean_answer(answer)
        assessment = self.assess(question, cleaned, reference)
        flags = [*assessment.flags, "truncated"] if cleaned.truncated else assessment.flags
        return Grade(
            **{**assessment.model_dump(), "flags": flags},
            grader=self.name,
            reference=ReferenceInfo(question_id=reference.question_id, sources=list(reference.sources)),
        )

    def check(self) -> str:
        """Send one tiny request and say what came back: the Settings page's connection test."""
        started = time.perf_counter()
        reply = self._complete([{"role": "user", "content": "Reply with the single word OK."}], structured=False)
        elapsed = (time.perf_counter() - started) * 1000
        return f"{self.settings.llm_model} at {self._client.base_url} answered in {elapsed:.0f} ms: {reply[:80]!r}"

    def follow_up(self, question: str, answer: str, missed: Sequence[str]) -> str:
        """One follow-up question about the missed key points."""
        user = render(
            self.settings.prompts_dir,
            "followup_user",
            question=question,
            missed="\n".join(f"- {point}" for point in missed),
            answer_excerpt=clean_answer(answer).text[:1500],
        )
        messages = [
            {"role": "system", "content": render(self.settings.prompts_dir, "followup_system")},
            {"role": "user", "content": user},
        ]
        text = self._complete(messages, structured=False).strip().strip('"')
        return text.splitlines()[0][:300] if text else ""
