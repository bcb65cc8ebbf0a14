"""How an answer was spoken, from its words' timestamps: speaking time, pace, fillers, long pauses, restarts.

These figures are feedback on delivery only. They never reach a grader or change a score: the technical grade of a
spoken answer is the grade of its transcript, like typed text.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

LONG_PAUSE_S = 2.0
"""A silence between two words at least this long counts as a long pause."""
FILLERS = ("um", "umm", "uh", "uhm", "erm", "er", "ah", "hmm", "mm")
"""Sounds that are fillers wherever they occur."""
FILLER_PHRASES = ("you know", "i mean", "sort of", "kind of", "like")
"""Words that are fillers only when set apart (by commas or a pause), since "models like BERT", "a kind of cache"
and "I mean the median" are plain speech."""
SET_APART_PAUSE_S = 0.3
TOKEN = re.compile(r"[a-z0-9']+")


@dataclass(frozen=True)
class Word:
    """A transcribed word with when it was said (seconds from the start of the recording)."""

    text: str
    start: float
    end: float


@dataclass(frozen=True)
class Pause:
    """A long silence: after which word, when, and how long."""

    after: str
    at_s: float
    length_s: float


@dataclass(frozen=True)
class Delivery:
    """The delivery figures of one spoken answer."""

    duration_s: float
    """The whole recording."""
    speaking_s: float
    """From the first word to the last."""
    word_count: int
    words_per_minute: float
    fillers: dict[str, int]
    long_pauses: tuple[Pause, ...]
    repeated_starts: tuple[str, ...]
    """Words or short phrases said twice in a row ("the the", "we use, we use")."""

    @property
    def filler_words(self) -> int:
        """How many fillers, all kinds together."""
        return sum(self.fillers.values())

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape the CLI prints and the store keeps."""
        data = asdict(self)
        data["filler_words"] = self.filler_words
        data["long_pauses"] = [asdict(pause) for pause in self.long_pauses]
        data["repeated_starts"] = list(self.repeated_starts)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Delivery:
        """Inverse of `to_dict`."""
        return cls(
            float(data["duration_s"]),
            float(data["speaking_s"]),
            int(data["word_count"]),
            float(data["words_per_minute"]),
            {str(k): int(v) for k, v in data.get("fillers", {}).items()},
            tuple(Pause(p["after"], float(p["at_s"]), float(p["length_s"])) for p in data.get("long_pauses", [])),
            tuple(data.get("repeated_starts", [])),
        )

    def summary(self) -> str:
        """One line for a grade card or a terminal."""
        fillers = ", ".join(f"{word} ×{count}" for word, count in sorted(self.fillers.items(), key=lambda i: -i[1]))
        parts = [
            f"{self.speaking_s:.0f} s speaking",
            f"{self.words_per_minute:.0f} words/min",
            f"{self.filler_words} filler{'s' if self.filler_words != 1 else ''}" + (f" ({fillers})" if fillers else ""),
            f"{len(self.long_pauses)} long pause{'s' if len(self.long_pauses) != 1 else ''}",
            f"{len(self.repeated_starts)} repeated start{'s' if len(self.repeated_starts) != 1 else ''}",
        ]
        return " · ".join(parts)


def _tokens(words: Sequence[Word]) -> list[tuple[str, int]]:
    """Each spoken token (lower case, punctuation gone) with the index of the word it came from."""
    return [(token, index) for index, word in enumerate(words) for token in TOKEN.findall(word.text.lower())]


def _set_apart(words: Sequence[Word], first: int, last: int) -> bool:
    """The words first..last are set apart by punctuation or a pause on either side."""
    before = first == 0 or words[first - 1].text.rstrip().endswith((",", ".", "?", "!", "-", "…"))
    before = before or words[first].start - words[first - 1].end >= SET_APART_PAUSE_S
    after = words[last].text.rstrip().endswith((",", ".", "?", "!", "-", "…")) or last + 1 == len(words)
    after = after or words[last + 1].start - words[last].end >= SET_APART_PAUSE_S
    return before and after


def count_fillers(words: Sequence[Word]) -> dict[str, int]:
    """Filler sounds everywhere, and filler phrases where they are set apart from the sentence."""
    tokens = _tokens(words)
    found: Counter[str] = Counter()
    position = 0
    while position < len(tokens):
        token, index = tokens[position]
        if token in FILLERS:
            found[token] += 1
            position += 1
            continue
        for phrase in FILLER_PHRASES:
            parts = phrase.split()
            window = tokens[position : position + len(parts)]
            if [t for t, _ in window] == parts and _set_apart(words, index, window[-1][1]):
                found[phrase] += 1
                position += len(parts) - 1
                break
        position += 1
    return dict(found)


def repeated_starts(words: Sequence[Word], longest: int = 3) -> tuple[str, ...]:
    """Phrases of one to `longest` words said twice in a row, longest first at each place, fillers aside."""
    tokens = [token for token, _ in _tokens(words) if token not in FILLERS]
    found: list[str] = []
    position = 0
    while position < len(tokens):
        for size in range(longest, 0, -1):
            phrase = tokens[position : position + size]
            if len(phrase) == size and phrase == tokens[position + size : position + 2 * size]:
                found.append(" ".join(phrase))
                position += size
                break
        else:
            position += 1
    return tuple(found)


def measure(words: Sequence[Word], duration_s: float) -> Delivery:
    """The delivery figures of a transcript's words over a recording of `duration_s` seconds."""
    spoken = [word for word in words if TOKEN.search(word.text.lower())]
    speaking = spoken[-1].end - spoken[0].start if spoken else 0.0
    pauses = tuple(
        Pause(TOKEN.findall(before.text.lower())[-1], round(before.end, 2), round(after.start - before.end, 2))
        for before, after in itertools.pairwise(spoken)
        if after.start - before.end >= LONG_PAUSE_S
    )
    count = len(_tokens(spoken))
    pace = count / (speaking / 60) if speaking > 0 else 0.0
    return Delivery(
        round(duration_s, 2),
        round(speaking, 2),
        count,
        round(pace, 1),
        count_fillers(spoken),
        pauses,
        repeated_starts(spoken),
    )
