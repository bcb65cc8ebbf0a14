"""A stored round as Markdown (to read or share) or JSON (to process): the same for the app and the CLI."""

from __future__ import annotations

import json

from interviewer.grade import Grade
from interviewer.models import RoundRecord, Turn


def grade_markdown(grade: Grade) -> list[str]:
    """The grade of one turn as Markdown lines."""
    criteria = ", ".join(f"{name} {value:g}" for name, value in grade.criteria)
    lines = [f"**Score: {grade.score:g}/5** ({criteria}) - graded by `{grade.grader}`", ""]
    if grade.notice:
        lines += [f"> {grade.notice}", ""]
    if grade.flags:
        lines += ["Flags: " + ", ".join(grade.flag_labels), ""]
    if grade.key_points_covered:
        lines += ["Covered:", *[f"- {point}" for point in grade.key_points_covered], ""]
    if grade.key_points_missed:
        lines += ["Missed:", *[f"- {point}" for point in grade.key_points_missed], ""]
    lines += [f"What was good: {grade.strengths}", "", f"What to add: {grade.improvements}", ""]
    lines += ["<details><summary>Model answer</summary>", "", grade.model_answer, "", "</details>", ""]
    return lines


def _quote(text: str) -> list[str]:
    """Candidate text as a Markdown blockquote, so it cannot form headings or HTML of the document."""
    return [f"> {line}" if line.strip() else ">" for line in text.replace("<", "&lt;").splitlines()] or [">"]


def _turn_markdown(turn: Turn) -> list[str]:
    label = "Follow-up" if turn.kind == "follow_up" else "Question"
    lines = [f"### {label}: {turn.question}", "", f"*{turn.topic}*", ""]
    if turn.skipped:
        return [*lines, "_Skipped._", ""]
    lines += ["**Your answer:**", "", *_quote(turn.answer or ""), ""]
    return lines + (grade_markdown(turn.grade) if turn.grade else [])


def round_markdown(record: RoundRecord) -> str:
    """The whole graded transcript of a round."""
    average = record.average_score
    header = [
        f"# Interview round {record.id}",
        "",
        f"- Started: {record.started_at}" + (f", ended: {record.ended_at}" if record.ended_at else " (not finished)"),
        f"- Mode: {record.mode}",
        f"- Topics: {', '.join(record.topics) or 'all'}" + (f"; focus: {record.focus}" if record.focus else ""),
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
            }
            for turn in record.turns
        ],
    }


def round_json(record: RoundRecord) -> str:
    """`round_dict` as indented JSON."""
    return json.dumps(round_dict(record), ensure_ascii=False, indent=2)
