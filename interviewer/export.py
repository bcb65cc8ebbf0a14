"""A stored round as Markdown (to read or share) or JSON (to process): the same for the app and the CLI.

Everything in a round that the exporter did not write itself (the question, the topic, the focus, the answer,
and every part of the grade: key points, feedback, model answer, notice, grader name) comes from a person, a
knowledge document or an LLM, so the Markdown export escapes it: it reads as the same words but can never
form HTML, a link, an image, a heading or a list of the document. The JSON export is data and keeps the text
as it is.
"""

from __future__ import annotations

import json
import re

from interviewer.grade import Grade
from interviewer.models import RoundRecord, Turn

_INLINE_MARKUP = re.compile(r"([\\`*_\[\]<>&|~])")
"""Characters that make Markdown (or HTML) wherever they stand: emphasis, code, links and images, tags, entities,
tables, strikethrough. A backslash before them makes them plain characters."""
_LINE_START_MARKUP = re.compile(r"^(\s*)([#>+=-]|\d+[.)])")
"""What makes a heading, a quote, a list or a setext underline only at the start of a line."""
_BARE_LINK = re.compile(r"(?i)(?<=[a-z0-9])(:)(//)|\b(www)(\.)")
"""Bare URLs, which GitHub-flavoured renderers turn into links without any markup."""


def _escape_line(line: str) -> str:
    """One line of stored text as Markdown that shows exactly its characters."""
    line = _INLINE_MARKUP.sub(r"\\\1", line)
    line = _BARE_LINK.sub(lambda m: f"{m[1]}\\/\\/" if m[1] else f"{m[3]}\\.", line)
    return _LINE_START_MARKUP.sub(lambda m: m[1] + "".join(f"\\{c}" if not c.isdigit() else c for c in m[2]), line)


def markdown_text(text: str) -> str:
    """Stored text as inert Markdown on one line (a title, a key point, a topic)."""
    return _escape_line(" ".join(text.split()))


def markdown_block(text: str) -> list[str]:
    """Stored text of several lines as inert Markdown lines; its line breaks and paragraphs are kept."""
    lines = [_escape_line(line.strip()) for line in text.strip().splitlines()]  # indented, a line would be code
    breaks = [bool(line and following) for line, following in zip(lines, [*lines[1:], ""], strict=True)]
    return [line + "  " if hard else line for line, hard in zip(lines, breaks, strict=True)]  # a hard line break


KEY_POINT_HEADINGS = {"made": "Covered", "contradicted": "Stated falsely", "missed": "Missed"}


def key_point_sections(grade: Grade) -> list[tuple[str, list[str]]]:
    """The key points under their headings (covered, stated falsely, missed), each with the answer's words that
    show it when the grader quoted them; grades saved before verdicts were recorded list covered and missed."""
    if not grade.key_points:
        listed = [("Covered", grade.key_points_covered), ("Missed", grade.key_points_missed)]
        return [(heading, points) for heading, points in listed if points]
    sections = []
    for status, heading in KEY_POINT_HEADINGS.items():
        points = [
            f"{verdict.key_point} (you said: \u201c{verdict.evidence}\u201d)" if verdict.evidence else verdict.key_point
            for verdict in grade.key_points
            if verdict.status == status
        ]
        if points:
            sections.append((heading, points))
    return sections


def grade_markdown(grade: Grade, escaped: bool = True) -> list[str]:
    """The grade of one turn as Markdown lines; unescaped, the plain text a terminal shows."""
    escape, block = (markdown_text, markdown_block) if escaped else (str, str.splitlines)
    criteria = ", ".join(f"{name} {value:g}" for name, value in grade.criteria)
    lines = [f"**Score: {grade.score:g}/5** ({criteria}) - graded by {escape(grade.grader)}", ""]
    if grade.notice:
        lines += [f"> {escape(grade.notice)}", ""]
    if grade.flags:
        lines += ["Flags: " + ", ".join(grade.flag_labels), ""]
    for heading, points in key_point_sections(grade):
        lines += [f"{heading}:", *[f"- {escape(point)}" for point in points], ""]
    if grade.figures:
        lines += ["Figures:", *[f"- {escape(check.describe())}" for check in grade.figures]]
        working = grade.figures[0].working
        lines += [*([f"- Working: {escape(working)}"] if working else []), ""]
    lines += [f"What was good: {escape(grade.strengths)}", "", f"What to add: {escape(grade.improvements)}", ""]
    lines += ["<details><summary>Model answer</summary>", "", *block(grade.model_answer), "", "</details>", ""]
    return lines


def _quote(text: str) -> list[str]:
    """The candidate's answer as a blockquote of inert lines."""
    return [f"> {line}" if line else ">" for line in markdown_block(text)] or [">"]


def _turn_markdown(turn: Turn) -> list[str]:
    label = "Follow-up" if turn.kind == "follow_up" else "Question"
    lines = [f"### {label}: {markdown_text(turn.question)}", "", f"*{markdown_text(turn.topic)}*", ""]
    if turn.skipped:
        return [*lines, "_Skipped._", ""]
    lines += ["**Your answer:**", "", *_quote(turn.answer or ""), ""]
    if turn.delivery is not None:
        lines += [f"Delivery (spoken; not part of the score): {markdown_text(turn.delivery.summary())}", ""]
    return lines + (grade_markdown(turn.grade) if turn.grade else [])


def round_markdown(record: RoundRecord) -> str:
    """The whole graded transcript of a round."""
    average = record.average_score
    topics = ", ".join(markdown_text(topic) for topic in record.topics) or "all"
    header = [
        f"# Interview round {record.id}",
        "",
        f"- Started: {record.started_at}" + (f", ended: {record.ended_at}" if record.ended_at else " (not finished)"),
        f"- Mode: {record.mode}",
        f"- Topics: {topics}" + (f"; focus: {markdown_text(record.focus)}" if record.focus else ""),
        f"- Average score: {average:.1f}/5" if average is not None else "- Average score: none yet",
        "",
    ]
    body = [line for turn in record.turns for line in _turn_markdown(turn)]
    return "\n".join(header + body).rstrip() + "\n"


def round_dict(record: RoundRecord) -> dict[str, object]:
    """The round as plain data: every turn with its full grade."""
    return {
        "id": record.id,
        "started_at": record.started_at,
        "ended_at": record.ended_at,
        "mode": record.mode,
        "topics": record.topics,
        "focus": record.focus,
        "average_score": record.average_score,
        "turns": [
            {
                "position": turn.position,
                "kind": turn.kind,
                "question_id": turn.question_id,
                "topic": turn.topic,
                "question": turn.question,
                "answer": turn.answer,
                "skipped": turn.skipped,
                "created_at": turn.created_at,
                "grade": turn.grade.model_dump() if turn.grade else None,
                "delivery": turn.delivery.to_dict() if turn.delivery else None,
            }
            for turn in record.turns
        ],
    }


def round_json(record: RoundRecord) -> str:
    """`round_dict` as indented JSON."""
    return json.dumps(round_dict(record), ensure_ascii=False, indent=2)
