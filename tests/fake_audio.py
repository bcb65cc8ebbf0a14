"""A local HTTP server speaking OpenAI's audio protocol: `/v1/audio/transcriptions` (multipart in, JSON out) and
`/v1/audio/speech` (JSON in, audio out), with scripted replies and faults.

The endpoint transcriber is tested against it through the real `openai` client over real HTTP, as the graders are
against `fake_llm.FakeLLM`. Every request is recorded: its form fields, the uploaded file's bytes and its headers.
"""

from __future__ import annotations

import contextlib
import json
import threading
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class AudioStep:
    """What the server does for one request: a JSON reply (or raw bytes) with a status."""

    reply: dict[str, Any] | None = None
    status: int = 200
    body: bytes | None = None
    content_type: str = "application/json"


def verbose_transcription(text: str, duration: float, seconds_per_word: float = 0.4) -> dict[str, Any]:
    """A `verbose_json` reply with word timestamps, one word every `seconds_per_word`."""
    words = [
        {"word": word, "start": i * seconds_per_word, "end": (i + 1) * seconds_per_word - 0.05}
        for i, word in enumerate(text.split())
    ]
    return {"task": "transcribe", "language": "english", "duration": duration, "text": text, "words": words}


def failure(status: int) -> AudioStep:
    """An HTTP error in the OpenAI error shape."""
    return AudioStep({"error": {"message": f"scripted {status}", "type": "server_error", "code": None}}, status)


@dataclass
class Received:
    """One request as the server saw it."""

    path: str
    headers: dict[str, str]
    fields: dict[str, list[str]] = field(default_factory=dict)
    file: bytes | None = None
    json: dict[str, Any] | None = None


class FakeAudioEndpoint:
    """The server, its script (the last step repeats) and its record of requests."""

    def __init__(self, *steps: AudioStep) -> None:
        self.script = list(steps) or [AudioStep(verbose_transcription("hello", 1.0))]
        self.requests: list[Received] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        """What to put in the settings' `llm_base_url`."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def start(self) -> FakeAudioEndpoint:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next(self, received: Received) -> AudioStep:
        with self._lock:
            self.requests.append(received)
            return self.script.pop(0) if len(self.script) > 1 else self.script[0]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                received = Received(self.path, headers)
                if headers.get("content-type", "").startswith("multipart/form-data"):
                    message = BytesParser(policy=HTTP).parsebytes(
                        f"Content-Type: {headers['content-type']}\r\n\r\n".encode() + raw
                    )
                    for part in message.iter_parts():
                        name = part.get_param("name", header="content-disposition")
                        payload = part.get_payload(decode=True) or b""
                        if part.get_filename():
                            received.file = payload
                        else:
                            received.fields.setdefault(str(name), []).append(payload.decode())
                else:
                    received.json = json.loads(raw or b"{}")
                step = fake._next(received)
                payload = step.body if step.body is not None else json.dumps(step.reply or {}).encode()
                self.send_response(step.status)
                self.send_header("Content-Type", step.content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(payload)

        return Handler
