"""Check the numbers an answer computes against the question's expected figures (`Figure:` lines in the bank).

Sizing questions ("how much KV cache for a 32k context?") have a right number, and a grader reading prose can
miss that the candidate's number is off by 8x. This module finds every number with a unit in the answer
(`10.7 GB`, `10,737,418,240 bytes`, `10 GiB`, `~330 KB/token`, `4 GPUs`, `1.2k tokens/s`), converts the ones of
the expected kind (bytes, time, rate, a counted noun such as GPUs) into the expected unit, and says whether one
of them is within the tolerance. A number of the right kind but more than `ATTEMPT_RATIO` away counts as a
different quantity (the per-token size next to the total), not a wrong attempt, so it does not make the figure
wrong. The check is added to the grade; it does not change the score, and a wrong figure is named in the
improvements.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, Field

from interviewer.knowledge import Figure

Verdict = Literal["right", "wrong", "missing"]
ATTEMPT_RATIO = 30.0
"""A number of the expected kind within this factor of the expected value is the candidate's attempt at it."""

_BYTES = {"b": 1, "byte": 1, "kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12, "pb": 1e15}
_BYTES |= {"kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
_BYTES |= {"kilobyte": 1e3, "megabyte": 1e6, "gigabyte": 1e9, "terabyte": 1e12}
_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "sec": 1, "second": 1, "min": 60, "minute": 60}
_SECONDS |= {"h": 3600, "hour": 3600, "millisecond": 1e-3, "microsecond": 1e-6}
_MULTIPLIERS = {"k": 1e3, "K": 1e3, "M": 1e6}
_PER_SECOND = re.compile(r"^(?P<head>.+?)\s*(?:/\s*s|/\s*sec|per\s+second)$", re.IGNORECASE)
_QUANTITY = re.compile(
    r"(?<![\w.,])(?P<dollar>\$\s?)?"
    r"(?P<number>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)"
    r"(?P<multiplier>[kKM](?![A-Za-z]))?\s*"
    r"(?P<unit>[A-Za-zµ]+(?:\s*/\s*[A-Za-z]+|\s+per\s+second)?)?"
)


class FigureCheck(BaseModel):
    """One expected figure and what the answer said about it."""

    label: str = Field(description="What the figure is, e.g. 'KV cache per token'.")
    expected: float
    unit: str
    tolerance: float = Field(description="Allowed error, in percent of the expected value.")
    found: float | None = Field(default=None, description="The answer's value, in the expected unit; None if none.")
    found_text: str | None = Field(default=None, description="That value as the answer wrote it.")
    verdict: Verdict
    working: str = Field(default="", description="How the expected figure is computed.")

    def describe(self) -> str:
        """One line for a person: the verdict, what was expected and what was found."""
        expected = _amount(self.expected, self.unit)
        if self.verdict == "missing":
            return f"{self.label}: not found in the answer (expected {expected})"
        mark = "right" if self.verdict == "right" else "wrong"
        return f"{self.label}: {self.found_text} is {mark} (expected {expected} ± {self.tolerance:g}%)"


def _amount(value: float, unit: str) -> str:
    """A value with its unit, as a person writes it."""
    number = f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"
    return f"${number} {unit[1:].strip()}" if unit.startswith("$") else " ".join(p for p in (number, unit) if p)


def unit_kind(unit: str) -> tuple[str, float]:
    """(kind, factor to the kind's base unit) for a unit as written: 'GiB' is ('bytes', 2**30), 'GPUs' ('gpu', 1).

    A rate is its unit's kind per second ('tokens/s' is ('token/s', 1)); money is '$'; a word that is no known
    unit is counted things, compared by its singular ('replicas' and 'replica' agree); no unit is a pure number.
    """
    text = unit.strip()
    if text.startswith("$"):
        return "$", 1.0
    if match := _PER_SECOND.match(text):
        kind, factor = unit_kind(match.group("head"))
        return f"{kind}/s", factor
    word = text.split("/")[0].strip()  # '330 KB/token' is a size: what it is per does not change its unit
    key = _singular(word.casefold()) if word not in ("B", "b") else "b"
    for table, kind in ((_BYTES, "bytes"), (_SECONDS, "seconds")):
        if key in table:
            return kind, float(table[key])
    return key, 1.0


def _singular(word: str) -> str:
    """'GPUs' -> 'gpus' -> 'gpu', 'bytes' -> 'byte'; short units ('ms', 's') stay as they are."""
    return word[:-1] if len(word) > 2 and word.endswith("s") and not word.endswith("ss") else word


def quantities(answer: str) -> list[tuple[float, str, str]]:
    """Every (value, unit, text as written) in the answer; k and M suffixes applied, thousands commas read."""
    found = []
    for match in _QUANTITY.finditer(answer):
        value = float(match.group("number").replace(",", ""))
        value *= _MULTIPLIERS.get(match.group("multiplier") or "", 1.0)
        if match.group("dollar"):  # '$0.42 per million tokens': the money is the unit, the rest is prose
            found.append((value, "$", "$" + match.group("number")))
        else:
            found.append((value, match.group("unit") or "", match.group(0).strip()))
    return found


def check_figure(figure: Figure, working: str, answer: str) -> FigureCheck:
    """Right when a number of the expected kind is within tolerance; wrong when the closest attempt is not."""
    kind, factor = unit_kind(figure.unit)
    attempts: list[tuple[float, str]] = []
    for value, unit, text in quantities(answer):
        found_kind, found_factor = unit_kind(unit)
        if found_kind != kind:
            continue
        converted = value * found_factor / factor
        if figure.value and converted and 1 / ATTEMPT_RATIO <= abs(converted / figure.value) <= ATTEMPT_RATIO:
            attempts.append((converted, text))
    common = {"label": figure.label, "expected": figure.value, "unit": figure.unit, "tolerance": figure.tolerance}
    if not attempts:
        return FigureCheck(**common, verdict="missing", working=working)
    value, text = min(attempts, key=lambda attempt: abs(attempt[0] - figure.value))
    right = abs(value - figure.value) <= abs(figure.value) * figure.tolerance / 100 + 1e-9
    return FigureCheck(**common, found=value, found_text=text, verdict="right" if right else "wrong", working=working)


def check_figures(figures: Iterable[Figure], working: str, answer: str) -> list[FigureCheck]:
    """A check per expected figure, in the bank's order."""
    return [check_figure(figure, working, answer) for figure in figures]


def wrong_figures_note(checks: Iterable[FigureCheck]) -> str:
    """The sentence added to a grade's improvements when a computed figure is wrong ("" when none is)."""
    wrong = [check for check in checks if check.verdict == "wrong"]
    if not wrong:
        return ""
    named = "; ".join(f"{check.label} should be about {_amount(check.expected, check.unit)}" for check in wrong)
    return f"Check your arithmetic: {named}."
