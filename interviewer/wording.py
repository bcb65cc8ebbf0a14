"""Plain-text helpers for grading: sentences, content words and stems, with no model and no dependencies.

The offline grader compares an answer with a reference sentence by sentence and word by word. Both sides must be
cut and normalised the same way, so the cutting lives here once: what counts as a sentence, which words carry
content (not stop words, not punctuation) and when two spellings count as the same word.
"""

from __future__ import annotations

import re

_STOPWORD_TEXT = """a about above after again against all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each either else etc few for from further had has
    have having he her here hers him his how i if in into is it its itself just let me more most much must my no
    nor not now of off on once only or other our ours out over own per same shall she should so some such than
    that the their theirs them then there these they this those through thus to too under until up upon us very
    via was we were what when where whether which while who whom why will with within without would yes yet you
    your yours"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())
"""English function words: they carry no content, so they earn no credit and count in no overlap."""

MAX_SENTENCE_WORDS = 40
MAX_SENTENCE_CHARS = 240
"""Longer sentences are cut into pieces: the model reads at most 256 word pieces, and a batch is padded to its
longest text, so short pieces keep every word seen and the encode fast (code lines tokenize into many pieces)."""

MIN_CLAUSE_WORDS = 3
_CLAUSE_BREAK = re.compile(
    r"\s*[,;:()\u2013\u2014]\s*|\s+(?=(?:so|which|because|but|while|whereas|then)\s)", re.IGNORECASE
)
_FENCE = re.compile(r"^\s*(```|~~~)[\w+-]*\s*$")
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+(?=\S)")
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")
_MARKUP = re.compile(r"\*\*|__|^#+\s*")
_WORD = re.compile(r"[^\W_]+(?:[-'_.][^\W_]+)*")
_SUFFIXES = (
    "izations",
    "ization",
    "ational",
    "fulness",
    "ousness",
    "iveness",
    "ations",
    "ation",
    "ments",
    "ment",
    "ness",
    "ings",
    "ing",
    "ies",
    "ied",
    "ers",
    "er",
    "ed",
    "es",
    "ly",
    "s",
)


def stem(word: str) -> str:
    """A crude suffix-stripping stem, so 'quantized', 'quantizes' and 'quantizing' count as one word."""
    word = word.casefold()
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def is_content(word: str) -> bool:
    """A word that can carry meaning: has a letter or digit and is not a stop word."""
    return any(char.isalnum() for char in word) and word.casefold() not in STOPWORDS


def words(text: str) -> list[str]:
    """The words of a text, punctuation dropped, inner hyphens, dots and underscores kept ('torch.compile')."""
    return _WORD.findall(text)


def content_stems(text: str) -> set[str]:
    """The stems of a text's content words, and of their parts ('torch.no_grad' also gives 'torch' and 'grad')."""
    found = {stem(word) for word in words(text) if is_content(word)}
    parts = {stem(part) for word in words(text) for part in re.split(r"[^\w]|_", word) if part and is_content(part)}
    return found | parts


def _cut_long(sentence: str) -> list[str]:
    """Cut a sentence into pieces of at most MAX_SENTENCE_WORDS words and MAX_SENTENCE_CHARS characters."""
    pieces: list[str] = []
    current: list[str] = []
    for token in sentence.split():
        if current and (len(current) == MAX_SENTENCE_WORDS or len(" ".join([*current, token])) > MAX_SENTENCE_CHARS):
            pieces.append(" ".join(current))
            current = []
        current.append(token)
    return [*pieces, " ".join(current)] if current else pieces


def sentences(text: str, drop_code: bool = False) -> list[str]:
    """Sentences and list items of a text; each line of a code block is its own unit unless `drop_code`."""
    units: list[str] = []
    in_fence = False
    for line in text.splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence and drop_code:
            continue
        line = _MARKUP.sub("", _BULLET.sub("", line)).strip()
        for piece in _SENTENCE_END.split(line) if not in_fence else [line]:
            if any(char.isalnum() for char in piece):
                units.extend(_cut_long(piece.strip()))
    return units


def clauses(sentence: str) -> list[str]:
    """The clauses of one sentence (cut at commas, semicolons, dashes and "so", "which", "because", ...).

    An interview answer packs several points into one sentence, and its vector is the average of them all, far
    from any one key point: "the server bounds the wait with a maximum batch size and a maximum queue delay, so
    each request pays a little latency" matches neither of the two key points it makes; its clauses come much
    closer to each. Pieces under MIN_CLAUSE_WORDS words (items of a list) are dropped; a one-clause sentence gives
    none.
    """
    pieces = [piece.strip() for piece in _CLAUSE_BREAK.split(sentence) if piece and piece.strip()]
    kept = [piece for piece in pieces if len(piece.split()) >= MIN_CLAUSE_WORDS]
    return kept if len(kept) > 1 else []


def first_words(text: str, limit: int) -> str:
    """The leading whole sentences of `text` (code dropped) that fit in `limit` words, or its first `limit` words."""
    kept: list[str] = []
    count = 0
    for sentence in sentences(text, drop_code=True):
        size = len(sentence.split())
        if count + size > limit:
            break
        kept.append(sentence)
        count += size
    if kept:
        return " ".join(kept)
    return " ".join(text.split()[:limit])


def counted(count: int, noun: str) -> str:
    """A count with its noun ("1 turn", "3 turns"), for lists a person reads."""
    return f"{count} {noun}" + ("" if count == 1 else "s")
