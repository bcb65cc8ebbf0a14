"""Exports: stored text (from a person, a document or an LLM) never becomes live HTML, a link or an image in the
Markdown export, reads as the same words, and stays as it is in the JSON export."""

from __future__ import annotations

import json

from markdown_it import MarkdownIt

from interviewer.export import grade_markdown, round_json, round_markdown
from interviewer.grade import CriterionScores, Grade
from interviewer.models import RoundRecord, Turn

HOSTILE = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(2)">',
    "[click me](https://evil.example/steal)",
    "![tracker](https://evil.example/pixel.png)",
    "<https://evil.example/auto>",
    "see https://evil.example/bare and www.evil.example",
    "# A heading\n- a list item\n1. numbered\n> quoted\n===",
    "| a | b |\n|---|---|\n| c | d |",
    "`code` and **bold** and &lt;entity&gt; and back\\slash",
]


def hostile(number: int) -> str:
    """A different hostile text for each field, so each field is checked."""
    return f"field{number} " + HOSTILE[number % len(HOSTILE)]


def hostile_round() -> RoundRecord:
    """A round in which every field the exporter did not write is hostile."""
    texts = iter(range(100))
    grade = Grade(
        reasoning=hostile(next(texts)),
        key_points_covered=[hostile(next(texts)), hostile(next(texts))],
        key_points_missed=[hostile(next(texts))],
        criteria=CriterionScores(correctness=3, completeness=3, depth=3, communication=3),
        score=3,
        strengths=hostile(next(texts)),
        improvements=hostile(next(texts)),
        model_answer="\n\n".join(hostile(next(texts)) for _ in HOSTILE),
        grader="llm:" + hostile(next(texts)),
        notice=hostile(next(texts)),
    )
    turns = [
        Turn(
            "r1",
            position,
            kind,
            "q1",
            hostile(next(texts)),
            hostile(next(texts)),
            hostile(next(texts)),
            False,
            grade,
            "",
        )
        for position, kind in enumerate(["question", "follow_up"])
    ]
    focus = hostile(next(texts))
    return RoundRecord("r1", "2026-11-29", None, "practice", [hostile(next(texts))], focus, ["q1"], None, turns)


def rendered_tokens(markdown: str) -> list[str]:
    """Every token type a CommonMark renderer (with tables and strikethrough) makes of the document."""
    parser = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    types = []
    for token in parser.parse(markdown):
        types.append(token.type)
        types += [child.type for child in token.children or []]
    return types


def test_the_markdown_export_has_no_html_links_or_images_from_stored_text() -> None:
    markdown = round_markdown(hostile_round())
    tokens = rendered_tokens(markdown)
    assert "link_open" not in tokens and "image" not in tokens
    assert "table_open" not in tokens and "s_open" not in tokens
    html = [token for token in tokens if token.startswith("html")]
    assert html == ["html_block", "html_block"] * 2  # only the exporter's own <details> around each model answer
    assert "https://" not in markdown and "www." not in markdown  # no bare URL for a GitHub-style renderer to link
    headings = [line for line in markdown.splitlines() if line.startswith("#")]
    assert [line.split(":")[0] for line in headings] == ["# Interview round r1", "### Question", "### Follow-up"]


def test_the_markdown_export_reads_as_the_same_words() -> None:
    rendered = MarkdownIt("commonmark").render(round_markdown(hostile_round()))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered  # shown as text, not run
    assert "[click me](https://evil.example/steal)" in rendered.replace("&quot;", '"')
    assert "**bold**" in rendered and "back\\slash" in rendered
    missing = [number for number in range(1, 25) if f"field{number} " not in rendered]
    assert missing == []  # every field but the grader's reasoning, which is not exported


def test_the_json_export_keeps_stored_text_as_it_is() -> None:
    record = hostile_round()
    data = json.loads(round_json(record))
    assert data["turns"][0]["answer"] == record.turns[0].answer
    assert data["turns"][0]["grade"]["model_answer"] == record.turns[0].grade.model_answer  # type: ignore[union-attr]
    assert data["focus"] == record.focus


def test_the_terminal_shows_the_grade_unescaped() -> None:
    grade = hostile_round().turns[0].grade
    assert grade is not None
    assert f"What to add: {grade.improvements}" in grade_markdown(grade, escaped=False)
