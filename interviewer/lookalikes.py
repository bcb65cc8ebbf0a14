"""Fold look-alike letters to the Latin letters they imitate, so the injection screen reads what a person sees.

"іgnоrе" written with Cyrillic і and о, or "ѕcore" with Cyrillic ѕ, looks like English to a person (and to an
LLM) but not to a pattern. Only the screen reads the folded text: the grader and the transcript keep the answer
as written. Folding is letter for letter (the result has the same length), and it applies only to words whose
every non-Latin letter has a Latin look-alike, so Russian or Greek prose stays what it is. Accents on Latin
letters are dropped too ("ïgnörë" reads "ignore"), and digits of other scripts read as ASCII digits ("٥" is 5).
The table is a small one of Cyrillic, Greek and Armenian letters that pass for one Latin letter, after Unicode's
confusables list (UTS #39); NFKC, done when the answer is cleaned, already folds full-width and mathematical
letters.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

_LOOKALIKES = {
    # Cyrillic
    "а": "a", "в": "b", "с": "c", "ԁ": "d", "е": "e", "һ": "h", "і": "i", "ј": "j", "к": "k", "ӏ": "l",
    "м": "m", "о": "o", "р": "p", "ԛ": "q", "г": "r", "ѕ": "s", "т": "t", "џ": "u", "ѵ": "v", "ԝ": "w",
    "х": "x", "у": "y", "ү": "y", "ь": "b", "ɡ": "g", "ԍ": "g",
    "А": "A", "В": "B", "С": "C", "Е": "E", "Н": "H", "І": "I", "Ј": "J", "К": "K", "М": "M", "О": "O",
    "Р": "P", "Ԛ": "Q", "Ѕ": "S", "Т": "T", "Ԝ": "W", "Х": "X", "У": "Y", "Ү": "Y", "Ӏ": "I", "Ԍ": "G",
    # Greek
    "α": "a", "ϲ": "c", "ε": "e", "ι": "i", "ϳ": "j", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t",
    "υ": "u", "χ": "x", "γ": "y", "ω": "w",
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O",
    "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
    # Armenian
    "օ": "o", "ս": "u", "հ": "h", "ո": "n", "ց": "g", "զ": "q", "Օ": "O", "Ս": "U",
    # Latin letters that look like other Latin letters
    "ı": "i", "ȷ": "j", "ɑ": "a", "ʏ": "y", "ǀ": "l",
}  # fmt: skip
_WORD = re.compile(r"\w+")


@cache
def _latin(char: str) -> str | None:
    """The plain Latin letter a character shows as, or None when it shows as something else."""
    if char.isascii():
        return char
    if char.isdecimal():
        return str(unicodedata.decimal(char))
    if char in _LOOKALIKES:
        return _LOOKALIKES[char]
    base = unicodedata.normalize("NFD", char)[0]
    if base.isascii() and base.isalpha() and "LATIN" in unicodedata.name(char, ""):
        return base  # an accented Latin letter: é, ï, ō
    return None


def _fold_word(match: re.Match[str]) -> str:
    """The word in plain Latin letters when every letter of it has a Latin look-alike, else unchanged."""
    word = match.group(0)
    folded = [_latin(char) for char in word]
    if any(letter is None for letter in folded):
        return word
    return "".join(letter or "" for letter in folded)


def fold_lookalikes(text: str) -> str:
    """The text as a reader of Latin letters sees it; same length, same positions."""
    return _WORD.sub(_fold_word, text)
