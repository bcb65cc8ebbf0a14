"""The Interview page's voice: a microphone beside the answer box, and the question read out on request.

A recording is transcribed (on this machine unless an endpoint is chosen for it) into the answer box, where the
person reads and corrects it before sending it like typed text; a bad recording gets a message and changes
nothing in the box. The question is read out by the browser's own speech synthesis (offline), or by the endpoint
when audio goes to one. Logic lives in `interviewer.speech`; this module only draws.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import streamlit as st
import streamlit.components.v1 as components

from app_pages.common import ANSWER_BOX, VOICE_DRAFT, disclosure
from interviewer.engine import Prompt
from interviewer.errors import InterviewerError
from interviewer.models import SpokenAnswer
from interviewer.runtime import Runtime
from interviewer.speech.transcribers import Transcript


@dataclass(frozen=True)
class VoiceDraft:
    """The last recording transcribed for a question: which recording, for which question, and what came of it."""

    file_id: str
    position: int
    audio: bytes
    transcript: Transcript | None
    """None when the recording could not be transcribed (the message was shown)."""

    def spoken(self, position: int) -> SpokenAnswer | None:
        """What goes with the answer sent for the question at `position`: this recording, if it was for it."""
        if self.transcript is None or position != self.position:
            return None
        return SpokenAnswer(self.audio, ".wav", self.transcript.delivery)


def script_string(text: str) -> str:
    """`text` as a JavaScript string literal safe inside a <script> element: JSON with every non-ASCII character
    escaped (so U+2028 cannot end a line), and <, > and & escaped so no tag or comment can close the script."""
    return json.dumps(text).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


BROWSER_READER = """
<button id="read" style="font: 14px sans-serif; padding: 4px 12px; cursor: pointer;">🔊 Read the question aloud</button>
<script>
const text = {text};
document.getElementById("read").onclick = () => {{
  window.speechSynthesis.cancel();
  window.speechSynthesis.speak(new SpeechSynthesisUtterance(text));
}};
</script>
"""


def read_aloud(runtime: Runtime, prompt: Prompt) -> None:
    """A button that reads the question out: the browser's speech synthesis, or the endpoint's voice."""
    if runtime.speaker is None:
        components.html(BROWSER_READER.format(text=script_string(prompt.question)), height=42)
        return
    if st.button("Read the question aloud", icon=":material/volume_up:", key=f"read-{prompt.position}"):
        try:
            with st.spinner("Asking the endpoint to read it..."):
                audio = runtime.speaker.speak(prompt.question)
        except InterviewerError as error:
            st.warning(f"{disclosure(runtime).text(str(error))}; the browser reads it instead.")
            components.html(BROWSER_READER.format(text=script_string(prompt.question)), height=42)
        else:
            st.audio(audio, format="audio/mpeg", autoplay=True)


def _transcribe(runtime: Runtime, prompt: Prompt, data: bytes) -> Transcript | None:
    """The recording's transcript, with progress while it runs; None after saying why it could not be had."""
    shown_to = disclosure(runtime)  # endpoint details are for admins only
    bar = st.progress(0.0, text=f"Transcribing your answer {shown_to.text(runtime.transcription.describe())}...")
    try:
        hint = runtime.decoder_hint(prompt.question, prompt.question_id)
        return runtime.transcription.transcribe(
            data, hint, lambda share: bar.progress(share, text=f"Transcribing your answer: {share:.0%}")
        )
    except InterviewerError as error:
        st.error(f"{shown_to.text(str(error))} Nothing in the answer box was changed.")
        return None
    finally:
        bar.empty()


def answer_aloud(runtime: Runtime, prompt: Prompt) -> None:
    """The microphone: a new recording is transcribed into the answer box, to be corrected and sent."""
    recording = st.audio_input(
        "Or answer aloud: record, then check the transcript in the answer box and send it",
        key=f"voice-{prompt.round_id}-{prompt.position}",
        sample_rate=16_000,
    )
    if recording is None:
        return
    draft: VoiceDraft | None = st.session_state.get(VOICE_DRAFT)
    if draft is None or (draft.file_id, draft.position) != (recording.file_id, prompt.position):
        data = recording.getvalue()
        transcript = _transcribe(runtime, prompt, data)
        draft = VoiceDraft(recording.file_id, prompt.position, data, transcript)
        st.session_state[VOICE_DRAFT] = draft
        if transcript is not None:
            st.session_state[ANSWER_BOX] = transcript.text
    if draft.transcript is not None:
        if draft.transcript.notice:
            st.warning(disclosure(runtime).text(draft.transcript.notice), icon=":material/info:")
        st.caption(f"Transcribed: it is in the answer box to correct and send. {draft.transcript.delivery.summary()}")
