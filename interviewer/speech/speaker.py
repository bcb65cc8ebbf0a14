"""The question read out by an endpoint's `/v1/audio/speech`, when the endpoint also transcribes.

Without an endpoint the browser's own speech synthesis reads the question (offline, in the page); with
`INTERVIEWER_TRANSCRIBER=endpoint` the same endpoint and key that transcribe answers also voice questions, so
audio in both directions goes to one place the person chose.
"""

from __future__ import annotations

from typing import Any

import openai

from interviewer.errors import TranscriberError
from interviewer.settings import Settings

VOICE = "alloy"
MAX_SPOKEN_CHARS = 4096
"""OpenAI's limit on one speech request; a question is far shorter."""


class EndpointSpeaker:
    """Asks the endpoint to speak a text; TranscriberError names the fault so the page can fall back."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        key = settings.llm_key
        self._authorization: dict[str, Any] = {
            "Authorization": f"Bearer {key.get_secret_value()}" if key else openai.omit
        }
        self._client = openai.OpenAI(
            base_url=settings.llm_endpoint, api_key="sent-per-request", timeout=settings.llm_timeout, max_retries=1
        )

    def speak(self, text: str) -> bytes:
        """MP3 audio of `text` read aloud."""
        try:
            response = self._client.audio.speech.create(
                model=self.settings.speech_model,
                voice=VOICE,
                input=text[:MAX_SPOKEN_CHARS],
                response_format="mp3",
                extra_headers=self._authorization,
            )
            return response.content
        except openai.APIStatusError as error:
            raise TranscriberError(f"the endpoint could not read it out (HTTP {error.status_code})") from error
        except openai.APIError as error:
            raise TranscriberError(f"the endpoint could not read it out ({error.__cause__ or error})") from error


def endpoint_speaker(settings: Settings) -> EndpointSpeaker | None:
    """The endpoint's speaker when the settings send audio to the endpoint; None: the browser reads questions."""
    return EndpointSpeaker(settings) if settings.transcriber == "endpoint" else None
