"""Clean a candidate's answer before any grader sees it: the answer is untrusted text of any size.

Both graders take the `CleanAnswer` this module makes, so control characters, huge pastes and empty input are
handled once, the same way, and the person is told what happened (the `truncated` flag). Invisible characters
(zero-width spaces and joiners, soft hyphens, direction marks, tag characters, variation selectors) are removed
outright: placed inside a word they hide it from a reader ("ig\u200bnore" is "ignore" on screen), and they carry
nothing an answer needs. NFKC turns full-width and mathematical letters into plain ones.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from interviewer.wording import sentences

MAX_ANSWER_CHARS = 6000
"""Longer answers are cut before grading: a spoken interview answer is a few hundred words."""

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_VARIATION_SELECTORS = re.compile(r"[\ufe00-\ufe0f\U000e0100-\U000e01ef]")


def _visible(text: str) -> str:
    """The text without format characters (Unicode category Cf) and variation selectors, which show nothing."""
    text = "".join(char for char in text if unicodedata.category(char) != "Cf")
    return _VARIATION_SELECTORS.sub("", text)


@dataclass(frozen=True)
class CleanAnswer:
    """The answer as graded, and whether it had to be cut."""

    text: str
    truncated: bool
    original_chars: int

    @property
    def is_empty(self) -> bool:
        """Nothing but whitespace, control characters or symbols."""
        return not any(char.isalnum() for char in self.text)


def clean_answer(answer: str, max_chars: int = MAX_ANSWER_CHARS) -> CleanAnswer:
    """Drop invisible and control characters, normalise Unicode, cut to `max_chars` on a word bound."""
    text = unicodedata.normalize("NFKC", _visible(answer))
    text = _CONTROL.sub(" ", text).replace("\r\n", "\n").strip()
    truncated = len(text) > max_chars
    if truncated:
        cut = text[:max_chars]
        text = cut[: cut.rfind(" ")] if " " in cut[-200:] else cut
    return CleanAnswer(text=text, truncated=truncated, original_chars=len(answer))


REPEATED_SHARE = 0.5
"""Share of an answer's sentences that are copies of earlier ones from which the answer counts as repeated."""


@dataclass(frozen=True)
class Deduplicated:
    """An answer with each sentence kept once, and whether repetition was most of it."""

    text: str
    repeated: bool


def drop_repeats(text: str) -> Deduplicated:
    """Keep the first copy of each sentence (compared without case and spacing): repeating text earns nothing.

    A paragraph pasted 48 times once scored 4.1; graded once, it scores what one copy is worth. The text is only
    rewritten when a sentence repeats, so the line structure of an ordinary answer (code blocks) is untouched.
    """
    units = sentences(text)
    kept = list(dict.fromkeys(" ".join(unit.lower().split()) for unit in units))
    if len(kept) == len(units):
        return Deduplicated(text, False)
    first = {" ".join(unit.lower().split()): unit for unit in reversed(units)}
    return Deduplicated("\n".join(first[key] for key in kept), 1 - len(kept) / len(units) >= REPEATED_SHARE)
