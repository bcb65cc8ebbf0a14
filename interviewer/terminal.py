"""Printing text from outside the program (an LLM's reply, an answer, a document) in a terminal, inert.

A terminal obeys what it is sent: `ESC [2J` clears the screen, OSC 8 draws a link to anywhere, OSC 52 writes the
clipboard, a carriage return lets a later "Score: 5" print over an earlier one, and bidirectional overrides or
invisible tag characters make a line read differently from what it contains. Such characters are printed as their
visible `\\uXXXX` escape instead, which is also how JSON spells them, so JSON output stays valid and nothing is lost.
"""

from __future__ import annotations

import re
from typing import TextIO

_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f"  # control characters but tab and line feed (C0, DEL, C1)
    "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"  # bidirectional marks, embeddings, overrides and isolates
    "\U000e0000-\U000e007f]"  # tag characters, invisible
)


def _escape(match: re.Match[str]) -> str:
    encoded = match.group().encode("utf-16-be")
    return "".join(f"\\u{int.from_bytes(encoded[at : at + 2]):04x}" for at in range(0, len(encoded), 2))


def inert(text: str) -> str:
    """`text` with every character a terminal would act on, rather than show, written as its escape."""
    return _UNSAFE.sub(_escape, text)


class InertStream:
    """A text stream that writes through `inert`: every command's output, whoever wrote the text in it."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(inert(text))
        return len(text)

    def __getattr__(self, name: str) -> object:
        return getattr(self._stream, name)
