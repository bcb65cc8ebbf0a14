"""Errors meant for people: each message says what went wrong and what to do next.

Inside the package we raise these `from` their cause; the command line prints the message on one line and
exits non-zero, the app shows it with `st.error`. Anything else is a bug and is allowed to surface.
"""


class InterviewerError(Exception):
    """Base of every error whose message is shown to the user as it is."""


class ConfigError(InterviewerError):
    """A setting is missing or invalid."""


class KnowledgeError(InterviewerError):
    """A knowledge document or the index cannot be used."""


class QueryError(InterviewerError):
    """A search query or question text that cannot be used (empty, too long)."""


class GraderError(InterviewerError):
    """A grader could not produce a grade."""


class AudioError(InterviewerError):
    """A recording that cannot be transcribed: empty, not audio, too long, or without speech."""


class TranscriberError(InterviewerError):
    """A transcriber could not transcribe a recording (an endpoint fault, a missing model)."""


class StoreError(InterviewerError):
    """The transcript store cannot be read or written."""


class RoundNotFoundError(StoreError):
    """The round is not in the store (deleted, or never there)."""


class SignInError(InterviewerError):
    """A sign-in that cannot be used to tell people apart (the provider left out who they are)."""


class StaleAnswerError(InterviewerError):
    """An answer was written for a question the round has moved past (another tab or process answered it)."""


class DatasetError(InterviewerError):
    """A file of graded answers (for evaluation or calibration) cannot be used."""
