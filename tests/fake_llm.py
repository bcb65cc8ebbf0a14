"""A local HTTP server that speaks the OpenAI chat-completions protocol, with scripted replies and faults.

The graders are tested against it over real HTTP through the real `openai` client: nothing in the project is
patched. Each request takes the next step of the script (the last step repeats), or, in fault mode, the step a
`choose` function picks from the request itself (so concurrent clients each get their own scripted faults);
every request is recorded so tests can assert what was sent (the fenced answer, the reference, the temperature,
the key). `SilentEndpoint` is the other fault: a server that accepts connections and never answers.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from interviewer.models import Reference


@dataclass
class Step:
    """What the server does for one request."""

    content: str | None = None  # assistant message text
    content_for: Callable[[dict[str, Any]], str] | None = None  # or the text computed from the request body
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering
    reset: bool = False  # close the connection without answering
    truncate_body: bool = False  # send the headers and half the body, then close the connection
    error_body: dict[str, Any] | None = None
    body: bytes | None = None  # sent as it is instead of a chat completion (a proxy's page, a cut document)
    content_type: str = "application/json"


# The grading case the scripted replies are written for: `valid_assessment` lists these key points.
QUESTION = "How does dynamic batching work in a model server?"
REFERENCE = Reference(
    text="Dynamic batching groups concurrent requests into one batch, bounded by a max batch size and a queue delay.",
    key_points=("Groups requests into one batch", "Padding or bucketing for variable shapes"),
    sources=("21-curated-serving-optimization.md:1",),
    score=1.0,
)
ANSWER = "The server waits a few milliseconds to group requests into one batch, which raises GPU throughput."


def reply(data: dict[str, Any] | str, **kwargs: Any) -> Step:
    """A 200 reply whose assistant message is `data` (JSON-encoded when it is a dict)."""
    return Step(content=data if isinstance(data, str) else json.dumps(data), **kwargs)


def failure(status: int, **kwargs: Any) -> Step:
    """An HTTP error in the OpenAI error shape."""
    body = {"error": {"message": f"scripted {status}", "type": "server_error", "code": None}}
    return Step(status=status, error_body=body, **kwargs)


def completion(content: str | None, model: str = "fake") -> bytes:
    """The HTTP body of a chat completion whose assistant message is `content`."""
    return json.dumps(
        {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }
    ).encode()


def valid_assessment(score: float = 3.5, **changes: Any) -> dict[str, Any]:
    """A reply that passes validation for the tests' two-point batching reference; `changes` override fields.

    The criteria equal the score (capped at 5), so the overall score is consistent with them."""
    data: dict[str, Any] = {
        "reasoning": "The answer covers batching and its latency trade-off but not padding.",
        "key_points_covered": ["Groups requests into one batch"],
        "key_points_missed": ["Padding or bucketing for variable shapes"],
        "criteria": dict.fromkeys(("correctness", "completeness", "depth", "communication"), min(score, 5)),
        "score": score,
        "strengths": "You explained why batching raises throughput.",
        "improvements": "Say how variable-length inputs are padded or bucketed.",
        "model_answer": "Dynamic batching groups concurrent requests ...",
        "flags": [],
    }
    data.update(changes)
    return data


KEY_POINTS_HEADING = "Key points (trusted"
"""How the grading prompt (prompts/grade_user.md) introduces the key points it lists."""


def asked_key_points(body: dict[str, Any]) -> list[str]:
    """The key points a grading request lists, as the model reads them."""
    prompts = [str(message.get("content", "")) for message in body.get("messages", [])]
    user = next((text for text in prompts if KEY_POINTS_HEADING in text), None)  # a re-ask comes after it
    if user is None:
        return []
    listed = user.split(KEY_POINTS_HEADING, 1)[1].split("\n", 1)[1].split("\n\n", 1)[0]
    return [line[2:] for line in listed.splitlines() if line.startswith("- ")]


def assessment_for(body: dict[str, Any], score: float = 3.5, covered: int | None = 1, **changes: Any) -> str:
    """A valid reply to a grading request: its first `covered` key points covered (None: all), the rest missed."""
    points = asked_key_points(body)
    split = len(points) if covered is None else covered
    lists = {"key_points_covered": points[:split], "key_points_missed": points[split:]}
    return json.dumps(valid_assessment(score, **{**lists, **changes}))


def graded(score: float = 3.5, covered: int | None = 1, **changes: Any) -> Step:
    """A step that answers any grading request with `assessment_for` it."""
    return Step(content_for=lambda body: assessment_for(body, score, covered, **changes))


class FakeLLM:
    """The server, its script and its record of requests."""

    def __init__(self, *steps: Step, choose: Callable[[dict[str, Any]], Step] | None = None) -> None:
        """Play `steps` in order, or, when `choose` is given, call it (under a lock) with each request body."""
        self.script = list(steps) or [reply(valid_assessment())]
        self.choose = choose
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self._lock = threading.Lock()
        handler = self._handler()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        """What to put in the settings' `llm_base_url`."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def start(self) -> FakeLLM:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next_step(self, body: dict[str, Any], headers: dict[str, str]) -> Step:
        with self._lock:
            self.requests.append(body)
            self.headers.append(headers)
            if self.choose is not None:
                return self.choose(body)
            return self.script.pop(0) if len(self.script) > 1 else self.script[0]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                step = fake._next_step(body, {k.lower(): v for k, v in self.headers.items()})
                if step.delay:
                    time.sleep(step.delay)
                if step.reset:
                    self.close_connection = True
                    self.connection.close()
                    return
                if step.body is not None:
                    payload = step.body
                elif step.status != 200:
                    payload = json.dumps(step.error_body or {}).encode()
                else:
                    content = step.content_for(body) if step.content_for else step.content
                    payload = completion(content, body.get("model", "fake"))
                self.send_response(step.status)
                self.send_header("Content-Type", step.content_type)
                self.send_header("Content-Length", str(len(payload)))
                for name, value in step.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up
                    self.wfile.write(payload[: len(payload) // 2] if step.truncate_body else payload)
                if step.truncate_body:
                    self.close_connection = True
                    self.connection.close()

        return Handler


class SilentEndpoint:
    """A loopback server that accepts every connection and never answers: an LLM endpoint that hangs.

    It counts the connections it accepted, so a test can tell whether a client asked it at all.
    """

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=64)
        self._held: list[socket.socket] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def base_url(self) -> str:
        """What to put in the settings' `llm_base_url`."""
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}/v1"

    @property
    def connections(self) -> int:
        """How many connections it has accepted."""
        with self._lock:
            return len(self._held)

    def start(self) -> SilentEndpoint:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._listener.close()
        with self._lock:
            for connection in self._held:
                connection.close()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:  # closed by stop()
                return
            with self._lock:
                self._held.append(connection)
