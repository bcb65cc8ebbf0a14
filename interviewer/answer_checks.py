"""A rule check on an answer's form: a bare keyword list.

A bare list of terms can share many words with a reference without explaining anything, so it is recognised by
its form: several short items, almost no function words. (Text aimed at the grader is screened by `injection`.)
"""

from __future__ import annotations

import re

from interviewer.wording import STOPWORDS, words

_ITEM_SPLIT = re.compile(r"[,;\n•·|]+|\s+-\s+|\.\s+|\.$")

_CODE = re.compile(r"[(){}\[\]=<>;&*]|->")
KEYWORD_ITEMS = 4
"""At least this many items make a list of terms (two or three can be a short, complete answer)."""
KEYWORD_ITEM_WORDS = 3
"""Items this short on average are terms, not explanations."""
KEYWORD_FUNCTION_SHARE = 0.15
"""Prose is a third or more function words; a bare list has almost none."""


def is_keyword_list(text: str) -> bool:
    """Several short items, hardly any function words and no code: terms named, nothing explained."""
    tokens = words(text)
    items = [item for item in _ITEM_SPLIT.split(text) if words(item)]
    if len(items) < KEYWORD_ITEMS or _CODE.search(text):
        return False
    function_share = sum(token.casefold() in STOPWORDS for token in tokens) / len(tokens)
    return len(tokens) / len(items) <= KEYWORD_ITEM_WORDS and function_share <= KEYWORD_FUNCTION_SHARE
