"""`python -m interviewer`: thin subcommands over the package; known failures become one line on stderr."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence

from tqdm import tqdm

from interviewer.embeddings import SentenceTransformerEmbedder
from interviewer.errors import InterviewerError
from interviewer.index import IndexReport, open_index
from interviewer.retrieval import search
from interviewer.settings import Settings, load_settings


def _print_json(data: object) -> None:
    """JSON for scripts: UTF-8, indented."""
    print(json.dumps(data, ensure_ascii=False, indent=2))


def open_knowledge(
    settings: Settings, force: bool = False, warn: bool = True
) -> tuple[IndexReport, SentenceTransformerEmbedder]:
    """Open (or build) the index with a terminal progress bar; return the report and the embedder."""
    embedder = SentenceTransformerEmbedder(settings.embedding_model)
    bar: tqdm | None = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, desc="Embedding", unit="text", file=sys.stderr)
        bar.update(done - bar.n)

    try:
        report = open_index(settings.knowledge_dir, settings.index_dir, embedder, progress, force=force)
    finally:
        if bar is not None:
            bar.close()
    if report.problems and warn:
        for problem in report.problems:
            print(f"warning: {problem}", file=sys.stderr)
    return report, embedder


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    """Build or refresh the index and say what happened."""
    report, _ = open_knowledge(settings, force=args.force, warn=False)
    print(report.summary())
    topics: dict[str, int] = {}
    for question in report.index.questions:
        topics[question.topic] = topics.get(question.topic, 0) + 1
    print("Topics: " + ", ".join(f"{topic} ({count})" for topic, count in topics.items()))
    return 0


def cmd_questions(args: argparse.Namespace, settings: Settings) -> int:
    """List the question bank, optionally one topic."""
    report, _ = open_knowledge(settings)
    questions = list(report.index.questions)
    if args.topic:
        questions = [q for q in questions if q.topic.casefold() == args.topic.casefold()]
        if not questions:
            topics = ", ".join(dict.fromkeys(q.topic for q in report.index.questions))
            raise InterviewerError(f"No questions with topic {args.topic!r}. Topics: {topics}.")
    if args.json:
        keys = ("id", "question", "topic", "reference_answer", "key_points", "source")
        _print_json([{key: q.to_dict()[key] for key in keys} for q in questions])
        return 0
    for question in questions:
        print(f"[{question.topic}] {question.id}\n  {question.question}\n  ({question.source})")
    return 0


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    """Search the knowledge base by meaning."""
    report, embedder = open_knowledge(settings)
    hits = search(report.index, embedder, args.query, k=args.k, max_chars=settings.max_query_chars)
    if args.json:
        _print_json([hit.to_dict() for hit in hits])
        return 0
    for rank, hit in enumerate(hits, 1):
        passage = " ".join(hit.answer.split())
        print(f"{rank}. {hit.score:.3f} [{hit.question.topic}] {hit.question.question}")
        print(f"   {passage[:300]}{'...' if len(passage) > 300 else ''}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The command-line grammar."""
    parser = argparse.ArgumentParser(prog="python -m interviewer", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    ingest = commands.add_parser("ingest", help="build or refresh the knowledge index")
    ingest.add_argument("--force", action="store_true", help="rebuild even when nothing changed")
    ingest.set_defaults(handler=cmd_ingest)

    questions = commands.add_parser("questions", help="list the question bank")
    questions.add_argument("--topic", help="only this topic (case-insensitive)")
    questions.add_argument("--json", action="store_true", help="print JSON")
    questions.set_defaults(handler=cmd_questions)

    search_cmd = commands.add_parser("search", help="search the knowledge base by meaning")
    search_cmd.add_argument("query")
    search_cmd.add_argument("--k", type=int, default=5, help="number of questions to return (default 5)")
    search_cmd.add_argument("--json", action="store_true", help="print JSON")
    search_cmd.set_defaults(handler=cmd_search)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse, run one command, turn InterviewerError into a one-line message and exit code 1."""
    args = build_parser().parse_args(argv)
    handler: Callable[[argparse.Namespace, Settings], int] = args.handler
    try:
        return handler(args, load_settings())
    except InterviewerError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
