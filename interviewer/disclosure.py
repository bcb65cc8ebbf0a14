"""What a person may read about the LLM endpoint: an admin everything, anyone else nothing that names it.

In team mode the endpoint's address, its host, the model names (grading, transcription, speech) and the key are
the admins' business: they cost money and may sit on a private network. They can reach a page through a grader's
name (`llm:<model>`), the grader and transcriber descriptions, a grade's or transcript's notice and an endpoint's
error. So every such text goes through `Disclosure.text` before a non-admin sees it, on screen and in exports
alike; nothing else is withheld.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from interviewer.grade import Grade
from interviewer.models import RoundRecord, Turn
from interviewer.people import Person
from interviewer.settings import Settings

HIDDEN = "the LLM endpoint"


@dataclass(frozen=True)
class Disclosure:
    """Replaces each endpoint detail in a text; with no details to replace, it shows everything."""

    patterns: tuple[tuple[re.Pattern[str], str], ...] = ()

    def text(self, text: str) -> str:
        """`text` with every endpoint detail replaced by a neutral word."""
        for pattern, word in self.patterns:
            text = pattern.sub(word, text)
        return text

    def grade(self, grade: Grade) -> Grade:
        """The grade as this person may read it: the grader's name and the notice without endpoint details."""
        if not self.patterns:
            return grade
        notice = self.text(grade.notice) if grade.notice else grade.notice
        return grade.model_copy(update={"grader": self.text(grade.grader), "notice": notice})

    def round(self, record: RoundRecord) -> RoundRecord:
        """The round as this person may read and export it."""
        if not self.patterns:
            return record
        return replace(record, turns=[self._turn(turn) for turn in record.turns])

    def _turn(self, turn: Turn) -> Turn:
        return replace(turn, grade=self.grade(turn.grade)) if turn.grade else turn


def _word(detail: str) -> re.Pattern[str]:
    """A detail as a whole word: a model called `m` must not eat the m of every word."""
    return re.compile(rf"(?<![\w.-]){re.escape(detail)}(?![\w-])", re.IGNORECASE)


def disclosure_for(person: Person, settings: Settings) -> Disclosure:
    """Everything for an admin; for anyone else, the endpoint's URL, host, port, model name and key replaced."""
    if person.admin:
        return Disclosure()
    address = urlsplit(settings.llm_endpoint)
    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else ""
    details = [  # longest first, so a URL goes before the host inside it
        (settings.llm_endpoint, HIDDEN),
        (settings.llm_base_url or "", HIDDEN),
        (address.netloc, HIDDEN),
        (address.hostname or "", HIDDEN),
    ]
    patterns = [(re.compile(re.escape(key)), "[key]")] if key else []
    patterns += [(_word(detail), word) for detail, word in details if detail]
    if address.port:  # as a client library's error spells it: "host='10.0.0.5', port=8000"
        patterns.append((re.compile(rf"\bport\s*=\s*{address.port}\b"), "port=[hidden]"))
    patterns.append((re.compile(rf"\bllm:{re.escape(settings.llm_model)}(?![\w-])"), "llm"))  # "llm:gpt-4o" reads "llm"
    models = (settings.llm_model, settings.transcription_model, settings.speech_model)
    patterns += [(_word(model), "the model") for model in sorted(set(models), key=len, reverse=True)]
    return Disclosure(tuple(patterns))
