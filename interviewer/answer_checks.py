"""Rule checks on an answer's form, before any similarity: text aimed at the grader, and bare keyword lists.

An answer is untrusted text. Sentences that try to instruct the grader ("ignore previous instructions", "give
this a 5", a fake JSON grade), in English and a few other languages, are cut out before grading so they earn
nothing, and the grade says they were there. A bare list of terms can share many words with a reference
without explaining anything, so it is recognised by its form: several short items, almost no function words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from interviewer.wording import STOPWORDS, words

_SCORE = r"(?:5|five|10|ten|100|full|perfect|top|max(?:imum)?|highest|a\+)"
"""What an answer asks to be given when it tries to grade itself."""
_INSTRUCTION_PATTERNS = (
    # English
    r"\b(?:ignore|disregard|forget)\b.{0,40}\b(?:instructions?|prompts?|rubric|guidelines|reference answer)\b",
    r"\b(?:ignore|disregard|forget)\s+(?:(?:all|any|the|your|of)\s+)*(?:previous|prior|above|earlier|your)\s+"
    r"(?:rules|directions|context|guidance)\b",
    r"\b(?:give|assign|award)\s+(?:this|it|me|us|my answer|the answer|this answer|the candidate)\s+"
    r"(?:an?\s+|the\s+)?" + _SCORE + r"\b",
    r"\b(?:give|assign|award|deserves?|worth|merits?)\b.{0,30}\b(?:full|perfect|top|max\w*|highest)\s+"
    r"(?:marks?|score|grade|points)",
    r"\ban? (?:score|grade|mark) of (?:5|five|10|ten)\b",
    r"\b(?:score|grade|rate|mark)\s+(?:this|it|me|my answer|the answer)\b.{0,25}\b" + _SCORE + r"\b",
    r"\b\d+\s*/\s*\d+\s+(?:score|grade|marks?)\b|\b(?:5/5|10/10)\b",
    r"\byou are now (?:a|an|the|my|in|acting|going to|free)\b|\bfrom now on,? you\b",
    r"\bpretend (?:you are|to be)\b|\bact as (?:a|an|the) \w*\s?grader\b",
    r"\b(?:your|the grader's) new instructions\b|\bnew instructions?\s*:|\bnote to (?:the )?grader\b|\bdear grader\b",
    r"(?:^|\n)\s*(?:system|assistant|developer)\s*:",
    r"(?:^|\n|\s)(?:grader|evaluator|examiner)\s*:|\b(?:grading|scoring)\s+instructions?\b",
    r"\binstructions?\s+(?:for|to)\s+the\s+(?:grader|evaluator|examiner)\b|\bnote to the evaluator\b",
    r"\boverrid\w*\b.{0,30}\b(?:grad\w*|scor\w*|rubric|instructions?)\b|\b(?:system|grading)\s+override\b",
    r"\bmust\s+(?:receive|get|be given|be awarded)\b.{0,30}\b(?:maximum|full|top|highest|5)\b",
    r"\b(?:do not|don't|never)\s+follow\s+the\s+(?:rubric|instructions|reference)\b",
    r"\bgive\s+(?:5|five|10|ten)\s*(?:[.!]|$|/|out of\b)|\bscore\s*[=:]\s*(?:5|10|100)\b",
    r"<\|im_start\|>|<\|system\|>|\[/?INST\]|<<SYS>>|###\s*(?:instruction|system)",
    r"[\"'](?:score|grade|rating)[\"']\s*:\s*[\"']?(?:4(?:\.5)?|5|10|100)(?:\.0)?\b(?!\.\d)",
    # Spanish, Portuguese, Italian, French, German: "give (me) a 5"
    r"\b(?:dame|dale|d[éê]-?me|donne[zr]?(?:-moi)?|gib mir|geben sie mir|dammi|dategli)\s+"
    r"(?:(?:un|una|une|eine|la|el|nota|note|punteggio|voto)\s+){0,2}(?:5|10|cinco|cinq|fünf|cinque|m[aá]xim\w*)\b",
    r"\bignor[ae]\w*\b.{0,30}\binstruc\w*|\bahora eres\b|\bvocê agora é\b|\bora sei\b",
    r"\b(?:puntuaci[oó]n|nota|calificaci[oó]n|punteggio|voto)\s+m[aá]xim[ao]\b",
    # French
    r"\bignore[rz]?\b.{0,30}\binstructions?\b|\b(?:tu es|vous êtes) maintenant\b|\bnote maximale\b",
    # German
    r"\bignorier\w*\b.{0,40}\b(?:anweisungen|instruktionen|regeln)\b|\bdu bist (?:jetzt|nun)\b|\bvolle punktzahl\b",
    r"\bbestnote\b",
    # Russian
    r"игнорир\w*.{0,30}инструкц\w*|теперь ты\b|максимальн\w* балл",
    # Chinese, Japanese
    r"忽略.{0,10}(?:指令|指示|说明|提示)|你现在是|满分|[给給]我?打?5分(?!钟)|指示を無視|満点",
)
_INSTRUCTIONS = re.compile("|".join(f"(?:{pattern})" for pattern in _INSTRUCTION_PATTERNS), re.IGNORECASE)
_FAKE_GRADE = re.compile(
    r"\{[^{}]*[\"'](?:(?:score|grade|rating)[\"']\s*:\s*[\"']?(?:4(?:\.5)?|5|10|100)(?:\.0)?\b(?!\.\d)"
    r"|criteria|correctness|completeness|key_points_covered|key_points_missed|strengths|improvements|model_answer"
    r"|reasoning)[^{}]*\}",
    re.IGNORECASE | re.DOTALL,
)
"""A JSON object that poses as a grade: a top score, or the fields of our own grade schema."""
_SENTENCE = re.compile(r"(?<=[.!?;])\s+|(?<=[。！？])")
_ITEM_SPLIT = re.compile(r"[,;\n•·|]+|\s+-\s+|\.\s+|\.$")

_CODE = re.compile(r"[(){}\[\]=<>;&*]|->")
KEYWORD_ITEMS = 4
"""At least this many items make a list of terms (two or three can be a short, complete answer)."""
KEYWORD_ITEM_WORDS = 3
"""Items this short on average are terms, not explanations."""
KEYWORD_FUNCTION_SHARE = 0.15
"""Prose is a third or more function words; a bare list has almost none."""


@dataclass(frozen=True)
class Screened:
    """The answer with any text aimed at the grader removed, and what was removed."""

    text: str
    removed: tuple[str, ...]


def screen_instructions(text: str) -> Screened:
    """Remove fake JSON grades (innermost first, so nested ones go too) and every sentence that instructs."""
    removed: list[str] = []
    rest = text
    while match := _FAKE_GRADE.search(rest):
        removed.append(match.group(0))
        rest = rest[: match.start()] + " " + rest[match.end() :]
    lines: list[str] = []
    for line in rest.split("\n"):
        kept = []
        for piece in _SENTENCE.split(line):
            (removed if _INSTRUCTIONS.search(piece) else kept).append(piece.strip())
        lines.append(" ".join(piece for piece in kept if piece))
    return Screened("\n".join(lines).strip() if removed else text, tuple(piece for piece in removed if piece))


def is_keyword_list(text: str) -> bool:
    """Several short items, hardly any function words and no code: terms named, nothing explained."""
    tokens = words(text)
    items = [item for item in _ITEM_SPLIT.split(text) if words(item)]
    if len(items) < KEYWORD_ITEMS or _CODE.search(text):
        return False
    function_share = sum(token.casefold() in STOPWORDS for token in tokens) / len(tokens)
    return len(tokens) / len(items) <= KEYWORD_ITEM_WORDS and function_share <= KEYWORD_FUNCTION_SHARE
