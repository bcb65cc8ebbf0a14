"""Parse the Markdown Q&A documents in `knowledge/` into one deduplicated question bank.

A document is a run of entries, each opened by a line starting with `Q:` (outside code fences). Right after
that line an entry may carry metadata (`Topic:`, `Level:`, `Sources:`, `Key points:` with a `Probe:` under each
point, `STAR:`, `Figure:`, `Working:`); the rest, up to the next `Q:`, is the reference answer. A metadata line
that cannot be read (an unknown level, a figure without a number) is an error naming the file and line, so a
typo never silently drops what the author meant. An entry whose answer holds numbered questions under `###`
headings is a question list (the source document's first entry): each listed question becomes a bank question
with the heading as its topic and any words after its question mark as hints. Entries with the same question,
in any file, are merged: so a curated file can give a topic, key points or an answer to a question that another
document only lists, without that document being edited. Uploaded documents are the exception: one may add
questions but never change a shipped one (`_claim`). The format is documented in `knowledge/README.md`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from interviewer.documents import Document, find_documents
from interviewer.errors import KnowledgeError

DEFAULT_TOPIC = "Other"
BEHAVIORAL_TOPIC = "Behavioral"
STAR_PARTS = ("Situation", "Task", "Action", "Result")
LEVELS = ("junior", "mid", "senior", "staff")  # easiest first: the order a ramp-up round follows

_QUESTION_LINE = re.compile(r"^Q:\s*(.*)$")
_META_LINE = re.compile(r"^(Topic|Level|Sources|Key points|STAR|Figure|Working):\s*(.*)$", re.IGNORECASE)
_ITEM_LINE = re.compile(r"^\s*[-*]\s+(.*)$")
_PROBE_LINE = re.compile(r"^\s*Probe:\s*(.*)$", re.IGNORECASE)
_SOURCE_ITEM = re.compile(r"^(?P<title>.*?\S)\s*:\s+(?P<url>https?://\S+)$")
_FIGURE = re.compile(
    r"^(?P<label>.*?\S)\s*=\s*(?P<value>[-+]?(?:\d[\d,]*)?\.?\d+(?:[eE][-+]?\d+)?)\s*(?P<unit>.*?)\s*"
    r"(?:±|\+/-|\+-)\s*(?P<tolerance>\d+(?:\.\d+)?)\s*%$"
)
_HEADING_LINE = re.compile(r"^#{2,4}\s+(.*?)\s*#*\s*$")
_NUMBERED_LINE = re.compile(r"^\s*\d+[.)]\s+(.*\?)(.*)$")
_FENCE_LINE = re.compile(r"^\s*(```|~~~)")


@dataclass(frozen=True)
class Source:
    """A primary source (official docs, a paper, release notes) that a reference answer rests on."""

    title: str
    url: str

    def to_dict(self) -> dict[str, str]:
        """The JSON shape of `questions --json` and the stored bank."""
        return {"title": self.title, "url": self.url}


@dataclass(frozen=True)
class Figure:
    """A number the candidate is expected to compute; `tolerance` is in percent of `value`."""

    label: str
    value: float
    unit: str
    tolerance: float

    def __str__(self) -> str:
        amount = " ".join(part for part in (f"{self.value:,.10g}", self.unit) if part)
        return f"{self.label} = {amount} ± {self.tolerance:g}%"

    def to_dict(self) -> dict[str, object]:
        """The JSON shape of the stored bank."""
        return {"label": self.label, "value": self.value, "unit": self.unit, "tolerance": self.tolerance}


@dataclass(frozen=True)
class Question:
    """One bank question with everything a grader needs to judge an answer to it.

    `probes` is aligned with `key_points` (and `star_probes` with `star`): the follow-up that asks for that
    point without stating it, "" where the author gave none. `source` is where the question is written
    (`file:line`); `sources` are the primary sources its answer rests on.
    """

    id: str
    question: str
    topic: str
    reference_answer: str
    key_points: tuple[str, ...]
    source: str
    reference_source: str | None = None
    star: tuple[str, ...] = ()
    hints: tuple[str, ...] = ()
    level: str | None = None
    sources: tuple[Source, ...] = ()
    probes: tuple[str, ...] = ()
    star_probes: tuple[str, ...] = ()
    figures: tuple[Figure, ...] = ()
    working: str = ""

    def __post_init__(self) -> None:
        # Keep every probe beside its point, whatever a caller passed: "" stands for "no probe".
        object.__setattr__(self, "probes", _aligned(self.probes, self.key_points))
        object.__setattr__(self, "star_probes", _aligned(self.star_probes, self.star))

    def probe_for(self, point: str) -> str:
        """The follow-up that asks for a key point without stating it; "" when the author gave none."""
        return next((probe for key, probe in zip(self.key_points, self.probes, strict=True) if key == point), "")

    @property
    def is_behavioral(self) -> bool:
        """Behavioral questions are judged on the STAR rubric rather than a technical reference."""
        return bool(self.star) or self.topic.casefold() == BEHAVIORAL_TOPIC.casefold()

    def to_dict(self) -> dict[str, object]:
        """The JSON shape used by the command line and the stored bank."""
        return {
            "id": self.id,
            "question": self.question,
            "topic": self.topic,
            "reference_answer": self.reference_answer,
            "key_points": list(self.key_points),
            "source": self.source,
            "reference_source": self.reference_source,
            "star": list(self.star),
            "hints": list(self.hints),
            "level": self.level,
            "sources": [source.to_dict() for source in self.sources],
            "probes": list(self.probes),
            "star_probes": list(self.star_probes),
            "figures": [figure.to_dict() for figure in self.figures],
            "working": self.working,
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Question:
        """Inverse of `to_dict`."""
        return cls(
            id=str(data["id"]),
            question=str(data["question"]),
            topic=str(data["topic"]),
            reference_answer=str(data["reference_answer"]),
            key_points=tuple(data.get("key_points") or ()),  # type: ignore[arg-type]
            source=str(data["source"]),
            reference_source=data.get("reference_source"),  # type: ignore[arg-type]
            star=tuple(data.get("star") or ()),  # type: ignore[arg-type]
            hints=tuple(data.get("hints") or ()),  # type: ignore[arg-type]
            level=data.get("level"),  # type: ignore[arg-type]
            sources=tuple(Source(**item) for item in data.get("sources") or ()),  # type: ignore[attr-defined]
            probes=tuple(data.get("probes") or ()),  # type: ignore[arg-type]
            star_probes=tuple(data.get("star_probes") or ()),  # type: ignore[arg-type]
            figures=tuple(Figure(**item) for item in data.get("figures") or ()),  # type: ignore[attr-defined]
            working=str(data.get("working") or ""),
        )


def _aligned(probes: tuple[str, ...], points: tuple[str, ...]) -> tuple[str, ...]:
    """Probes padded with "" (or cut) to one per point."""
    return tuple(probes[: len(points)]) + ("",) * (len(points) - len(probes))


@dataclass
class Entry:
    """What one document says about one question; entries are merged into `Question`s."""

    question: str
    source: str
    topic: str | None = None
    answer: str = ""
    key_points: list[str] = field(default_factory=list)
    star: list[str] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)
    level: str | None = None
    sources: list[Source] = field(default_factory=list)
    probes: list[str] = field(default_factory=list)
    star_probes: list[str] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    working: str = ""


@dataclass(frozen=True)
class Problem:
    """A document that could not be used, with a message that names it."""

    path: Path
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Duplicate:
    """An uploaded entry for a question the bank already has, which was not taken."""

    question: str
    source: str
    """Where the duplicate is (`uploads/mine.md:3`)."""
    kept: str
    """Where the bank's own entry is."""

    @property
    def document(self) -> str:
        """The label of the document the duplicate is in."""
        return self.source.rsplit(":", 1)[0]


@dataclass(frozen=True)
class Bank:
    """The merged question bank plus what went wrong on the way."""

    questions: tuple[Question, ...]
    problems: tuple[Problem, ...] = ()
    notes: tuple[str, ...] = ()
    duplicates: tuple[Duplicate, ...] = ()

    def by_id(self) -> dict[str, Question]:
        """Questions keyed by their stable id."""
        return {question.id: question for question in self.questions}

    def topics(self) -> list[str]:
        """Topics in the order they first appear."""
        return list(dict.fromkeys(question.topic for question in self.questions))


def normalize_question(text: str) -> str:
    """The key under which two wordings of the same question are merged (case, quotes, spacing ignored)."""
    text = text.casefold().replace("`", "")
    text = re.sub(r"[^\w\s]", " ", text)
    return " ".join(text.split())


def question_id(text: str) -> str:
    """A stable, readable id: the first words of the question and a short hash of its normal form."""
    normal = normalize_question(text)
    slug = "-".join(normal.split()[:6])[:48].strip("-") or "q"
    digest = hashlib.sha1(normal.encode("utf-8")).hexdigest()[:6]
    return f"{slug}-{digest}"


def topic_from_heading(heading: str) -> str:
    """'TensorFlow-Specific Questions' -> 'TensorFlow'; the list's headings name the topics."""
    topic = re.sub(r"\s*questions\s*$", "", heading.strip(), flags=re.IGNORECASE)
    topic = re.sub(r"-specific$", "", topic, flags=re.IGNORECASE)
    return topic.strip() or DEFAULT_TOPIC


def read_document(path: Path, label: str | None = None) -> str:
    """Read a document as UTF-8; name the file (or `label`) and the byte offset when it is not."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")  # a byte-order mark, as some editors write, is not part of the text
    except UnicodeDecodeError as error:
        raise KnowledgeError(
            f"{label or path.name}: not UTF-8 text (bad byte at offset {error.start}); save it as UTF-8 and retry."
        ) from error


def _split_entries(lines: list[str]) -> list[tuple[int, int]]:
    """(start, end) line ranges of the entries, ignoring `Q:` inside code fences."""
    starts: list[int] = []
    in_fence = False
    for number, line in enumerate(lines):
        if _FENCE_LINE.match(line):
            in_fence = not in_fence
        elif not in_fence and _QUESTION_LINE.match(line):
            starts.append(number)
    return list(zip(starts, [*starts[1:], len(lines)], strict=False))


def _read_level(value: str, where: str) -> str:
    """A level name, lower-cased; anything else is an error that lists the levels."""
    level = value.strip().casefold()
    if level not in LEVELS:
        raise KnowledgeError(f"{where}: unknown level {value.strip()!r}; use one of {', '.join(LEVELS)}.")
    return level


def _read_source(text: str, where: str) -> Source:
    """`Title: URL`; a source without a link cannot be checked, so it is an error."""
    match = _SOURCE_ITEM.match(text)
    if not match:
        raise KnowledgeError(f"{where}: a source must read '- Title: https://...', not {text!r}.")
    return Source(match.group("title"), match.group("url"))


def _read_figure(text: str, where: str) -> Figure:
    """`<what> = <number> <unit> ± <tolerance>%`, e.g. `KV cache per token = 327680 bytes ± 2%`."""
    match = _FIGURE.match(text.strip())
    if not match:
        raise KnowledgeError(
            f"{where}: a figure must read '<what> = <number> <unit> ± <tolerance>%' "
            f"(e.g. 'KV cache per token = 327680 bytes ± 2%'), not {text.strip()!r}."
        )
    value = float(match.group("value").replace(",", ""))
    return Figure(match.group("label"), value, match.group("unit"), float(match.group("tolerance")))


def _read_metadata(lines: list[str], start: int, end: int, entry: Entry, label: str) -> int:
    """Fill the entry from the metadata lines after the `Q:` line; return where the answer starts."""
    section: str | None = None  # the list that `- ` items belong to: "sources", "key points" or "star"
    number = start
    while number < end:
        line, where = lines[number], f"{label}:{number + 1}"
        meta = _META_LINE.match(line)
        item = _ITEM_LINE.match(line)
        probe = _PROBE_LINE.match(line)
        if meta:
            name, value = meta.group(1).casefold(), meta.group(2).strip()
            section = name if name in ("sources", "key points", "star") else None
            if name == "topic":
                entry.topic = value or None
            elif name == "level":
                entry.level = _read_level(value, where)
            elif name == "figure":
                entry.figures.append(_read_figure(value, where))
            elif name == "working":
                entry.working = value
        elif probe and section in ("key points", "star"):
            _attach_probe(entry, section, probe.group(1).strip(), where)
        elif probe:
            raise KnowledgeError(f"{where}: a 'Probe:' line must sit under a key point or STAR line it asks about.")
        elif item and section == "sources":
            entry.sources.append(_read_source(item.group(1).strip(), where))
        elif item and section == "key points":
            entry.key_points.append(item.group(1).strip())
            entry.probes.append("")
        elif item and section == "star":
            entry.star.append(item.group(1).strip())
            entry.star_probes.append("")
        else:
            break
        number += 1
    return number


def _attach_probe(entry: Entry, section: str, probe: str, where: str) -> None:
    """Give the last key point (or STAR part) its probe; one probe per point."""
    probes = entry.probes if section == "key points" else entry.star_probes
    if not probes:
        raise KnowledgeError(f"{where}: a 'Probe:' line must follow the point it asks about, not the heading.")
    if probes[-1]:
        raise KnowledgeError(f"{where}: this point already has a probe; give each point one 'Probe:' line.")
    if not probe:
        raise KnowledgeError(f"{where}: an empty 'Probe:' line; write the follow-up question or remove the line.")
    probes[-1] = probe


def _listed_questions(lines: list[str], start: int, end: int, location: str) -> list[Entry]:
    """Numbered questions under `###` headings in an answer: the question-list form."""
    found: list[Entry] = []
    heading: str | None = None
    in_fence = False
    for number in range(start, end):
        line = lines[number]
        if _FENCE_LINE.match(line):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        if match := _HEADING_LINE.match(line):
            heading = match.group(1)
        elif heading and (match := _NUMBERED_LINE.match(line)):
            hints = [hint.strip() for hint in match.group(2).split(",") if hint.strip()]
            found.append(
                Entry(
                    question=match.group(1).strip(),
                    source=f"{location}:{number + 1}",
                    topic=topic_from_heading(heading),
                    hints=hints,
                )
            )
    return found


def parse_document(path: Path, label: str | None = None) -> list[Entry]:
    """Every entry of one document; raise KnowledgeError naming the file when it holds none."""
    label = label or path.name
    text = read_document(path, label)
    if not text.strip():
        raise KnowledgeError(f"{label}: the file is empty; add questions as 'Q: ...' lines or remove it.")
    lines = text.splitlines()
    entries: list[Entry] = []
    for start, end in _split_entries(lines):
        question = _QUESTION_LINE.match(lines[start]).group(1).strip()  # type: ignore[union-attr]
        entry = Entry(question=question, source=f"{label}:{start + 1}")
        body_start = _read_metadata(lines, start + 1, end, entry, label)
        listed = _listed_questions(lines, body_start, end, label)
        if listed:
            entries.extend(listed)
            continue
        if not question:
            raise KnowledgeError(f"{label}:{start + 1}: a 'Q:' line with no question after it.")
        entry.answer = "\n".join(lines[body_start:end]).strip()
        entries.append(entry)
    if not entries:
        raise KnowledgeError(
            f"{label}: no question found; each question must start a line with 'Q: ' (see knowledge/README.md)."
        )
    return entries


def _star_reference(star: list[str]) -> str:
    """The STAR rubric written out as the reference a behavioral answer is graded against."""
    lines = ["A strong answer tells one real story in STAR form:"]
    lines += [f"- {part}" for part in star]
    return "\n".join(lines)


def _merge(entries: list[Entry]) -> tuple[list[Question], list[str]]:
    """Merge entries by normalized question; the first document to say a thing wins, later ones fill gaps."""
    groups: dict[str, list[Entry]] = {}
    for entry in entries:
        groups.setdefault(normalize_question(entry.question), []).append(entry)
    questions: list[Question] = []
    notes: list[str] = []
    for group in groups.values():
        first = group[0]
        answered = [entry for entry in group if entry.answer]
        if len(answered) > 1:
            ignored = ", ".join(entry.source for entry in answered[1:])
            notes.append(f"{first.question!r} is answered more than once; using {answered[0].source}, not {ignored}.")
        star_from = next((entry for entry in group if entry.star), None)
        star = star_from.star if star_from else []
        hints = next((entry.hints for entry in group if entry.hints), [])
        points_from = next((entry for entry in group if entry.key_points), None)
        figures_from = next((entry for entry in group if entry.figures), None)
        answer = answered[0].answer if answered else (_star_reference(star) if star else "")
        questions.append(
            Question(
                id=question_id(first.question),
                question=first.question,
                topic=next((entry.topic for entry in group if entry.topic), DEFAULT_TOPIC),
                reference_answer=answer,
                key_points=tuple(points_from.key_points if points_from else hints),
                source=first.source,
                reference_source=answered[0].source if answered else None,
                star=tuple(star),
                hints=tuple(hints),
                level=next((entry.level for entry in group if entry.level), None),
                sources=tuple(next((entry.sources for entry in group if entry.sources), [])),
                probes=tuple(points_from.probes if points_from else ()),
                star_probes=tuple(star_from.star_probes if star_from else ()),
                figures=tuple(figures_from.figures if figures_from else ()),
                working=figures_from.working if figures_from else "",
            )
        )
    return questions, notes


def _canonical_topics(questions: list[Question]) -> list[Question]:
    """Spell each topic the way it first appears, so 'performance optimization' joins its group."""
    spelling: dict[str, str] = {}
    result = []
    for question in questions:
        topic = spelling.setdefault(question.topic.casefold(), question.topic)
        result.append(question if topic == question.topic else _replace_topic(question, topic))
    return result


def _replace_topic(question: Question, topic: str) -> Question:
    """A copy of the question under another spelling of its topic."""
    data = question.to_dict()
    data["topic"] = topic
    return Question.from_dict(data)


def _claim(parsed: list[tuple[Document, list[Entry]]]) -> tuple[list[Entry], list[Duplicate]]:
    """Decide whose entries a question takes; the entries of everyone else for it are duplicates.

    A question belongs to the first owner that has it. The shipped documents are one owner, so their entries merge
    with each other as the format says; each upload is an owner of its own, taken oldest first. So an upload can
    add questions, but never replace, fill in or shadow a shipped question, nor another person's upload.
    """
    owners: dict[str, tuple[str, str]] = {}  # normalized question -> (owner, where it first appears)
    kept: list[Entry] = []
    duplicates: list[Duplicate] = []
    for document, entries in parsed:
        owner = "shipped" if document.shipped else document.label
        for entry in entries:
            claimed, first = owners.setdefault(normalize_question(entry.question), (owner, entry.source))
            if claimed == owner:
                kept.append(entry)
            else:
                duplicates.append(Duplicate(entry.question, entry.source, first))
    return kept, duplicates


def _duplicate_notes(duplicates: list[Duplicate]) -> list[str]:
    """One note per document that repeats questions of the bank, naming them."""
    by_document: dict[str, list[Duplicate]] = {}
    for duplicate in duplicates:
        by_document.setdefault(duplicate.document, []).append(duplicate)
    return [
        f"{document}: skipped {len(found)} question(s) the bank already has: "
        + "; ".join(f"{d.question!r} (already at {d.kept})" for d in found)
        for document, found in by_document.items()
    ]


def load_bank(knowledge_dir: Path, uploads_dir: Path | None = None) -> Bank:
    """Parse every document, shipped and uploaded; broken ones become problems, the rest still make a bank."""
    documents = find_documents(knowledge_dir, uploads_dir)
    if not documents:
        raise KnowledgeError(f"No knowledge documents (*.md) in {knowledge_dir}; add one (see knowledge/README.md).")
    parsed: list[tuple[Document, list[Entry]]] = []
    problems: list[Problem] = []
    for document in documents:
        try:
            parsed.append((document, parse_document(document.path, document.label)))
        except KnowledgeError as error:
            problems.append(Problem(document.path, str(error)))
    entries, duplicates = _claim(parsed)
    if not entries:
        raise KnowledgeError("No usable question in any knowledge document: " + "; ".join(map(str, problems)))
    questions, notes = _merge(entries)
    notes += _duplicate_notes(duplicates)
    unanswered = [question.source for question in questions if not question.reference_answer]
    if unanswered:
        shown = ", ".join(unanswered[:3]) + (", ..." if len(unanswered) > 3 else "")
        notes.append(
            f"{len(unanswered)} question(s) have no reference answer yet ({shown}); "
            "they are graded against the closest passages of the knowledge base."
        )
    return Bank(tuple(_canonical_topics(questions)), tuple(problems), tuple(notes), tuple(duplicates))
