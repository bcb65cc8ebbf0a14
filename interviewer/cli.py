"""`python -m interviewer`: thin subcommands over the package; known failures become one line on stderr."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from tqdm import tqdm

from interviewer.embeddings import SentenceTransformerEmbedder
from interviewer.engine import Interviewer, Outcome, Prompt, RoundOptions, Summary
from interviewer.errors import AudioError, InterviewerError, StoreError
from interviewer.evaluation import evaluate_dataset
from interviewer.export import grade_markdown, round_dict, round_json, round_markdown
from interviewer.grade import Grade
from interviewer.index import IndexReport, open_index
from interviewer.knowledge import LEVELS, load_bank, normalize_question
from interviewer.llm_grader import LLMGrader, llm_configured
from interviewer.models import LOCAL_OWNER, Reference, RoundRecord
from interviewer.retrieval import search
from interviewer.runtime import Runtime, build_runtime
from interviewer.settings import Settings, load_settings
from interviewer.speech.audio import AUDIO_SUFFIXES, read_recording
from interviewer.speech.transcribers import Progress, Transcript, TranscriptionService, configured_transcription
from interviewer.store import open_store
from interviewer.terminal import InertStream, inert
from interviewer.wording import counted


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
        report = open_index(
            settings.knowledge_dir,
            settings.index_dir,
            embedder,
            progress,
            force=force,
            uploads_dir=settings.uploads_dir,
        )
    finally:
        if bar is not None:
            bar.close()
    if report.problems and warn:
        for problem in report.problems:
            print(inert(f"warning: {problem}"), file=sys.stderr)
    return report, embedder


def _ingest_events(args: argparse.Namespace, settings: Settings) -> int:
    """Build or refresh the index, printing JSON lines for a program to follow: progress, then the outcome."""

    def progress(done: int, total: int) -> None:
        print(json.dumps({"event": "progress", "done": done, "total": total}), flush=True)

    embedder = SentenceTransformerEmbedder(settings.embedding_model)
    report = open_index(
        settings.knowledge_dir, settings.index_dir, embedder, progress, args.force, settings.uploads_dir
    )
    outcome = {
        "event": "done",
        "action": report.action,
        "documents": sorted(report.index.manifest.get("documents", {})),
        "problems": list(report.problems),
        "summary": report.summary(),
    }
    print(json.dumps(outcome, ensure_ascii=False), flush=True)
    return 0


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    """Build or refresh the index and say what happened."""
    if args.events:
        return _ingest_events(args, settings)
    report, _ = open_knowledge(settings, force=args.force, warn=False)
    print(report.summary())
    topics: dict[str, int] = {}
    for question in report.index.questions:
        topics[question.topic] = topics.get(question.topic, 0) + 1
    print("Topics: " + ", ".join(f"{topic} ({count})" for topic, count in topics.items()))
    return 0


def cmd_questions(args: argparse.Namespace, settings: Settings) -> int:
    """List the question bank, optionally one topic and some levels."""
    report, _ = open_knowledge(settings)
    questions = list(report.index.questions)
    if args.topic:
        questions = [q for q in questions if q.topic.casefold() == args.topic.casefold()]
        if not questions:
            topics = ", ".join(dict.fromkeys(q.topic for q in report.index.questions))
            raise InterviewerError(f"No questions with topic {args.topic!r}. Topics: {topics}.")
    if args.level:
        questions = [q for q in questions if q.level in args.level]
        if not questions:
            raise InterviewerError(f"No questions at level {' or '.join(args.level)}; try another level.")
    if args.json:
        keys = ("id", "question", "topic", "level", "reference_answer", "key_points", "sources", "source")
        _print_json([{key: q.to_dict()[key] for key in keys} for q in questions])
        return 0
    for question in questions:
        level = f" ({question.level})" if question.level else ""
        print(f"[{question.topic}]{level} {question.id}\n  {question.question}\n  ({question.source})")
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


def _grade_text(grade: Grade) -> str:
    """A grade as a person reads it in a terminal."""
    lines = grade_markdown(grade, escaped=False)
    return "\n".join(line for line in lines if not line.startswith(("<details", "</details")))


def _with_grader(settings: Settings, grader: str | None) -> Settings:
    """Settings with the grader a command asked for; asking for the LLM when none is configured is an error."""
    settings = settings.model_copy(update={"grader": grader}) if grader else settings
    if settings.grader == "llm" and not llm_configured(settings):
        LLMGrader(settings)  # raises the ConfigError that says how to configure one
    return settings


def cmd_grade(args: argparse.Namespace, settings: Settings) -> int:
    """Grade one answer to a freely worded question."""
    runtime = build_runtime(_with_grader(settings, args.grader), warm=False)
    reference = runtime.reference(args.question)
    grade = runtime.grading.grade(args.question, args.answer, reference)
    if args.json:
        _print_json(grade.model_dump())
    else:
        matched = reference.question.question if reference.question else "closest passages of the knowledge base"
        print(f"Graded against: {matched} ({', '.join(reference.sources)})\n")
        print(_grade_text(grade))
    return 0


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    """Grade every row of a human-graded CSV and print agreement figures."""
    runtime = build_runtime(_with_grader(settings, args.grader), warm=False)

    def grade(question: str, answer: str, reference: Reference) -> float:
        return runtime.grading.grade(question, answer, reference).score

    figures = evaluate_dataset(Path(args.dataset), grade, runtime.reference)
    if args.json:
        _print_json(figures)
    else:
        print(
            "  ".join(
                f"{key} {value:.3f}" if isinstance(value, float) else f"{key} {value}" for key, value in figures.items()
            )
        )
    return 0


def _transcribe_with_bar(service: TranscriptionService, data: bytes, hint: str) -> Transcript:
    """Transcribe with a progress bar on stderr (the model loads first, the bar follows the recording)."""
    with tqdm(total=100, desc="Transcribing", unit="%", file=sys.stderr, leave=False) as bar:

        def progress(share: float) -> None:
            bar.update(round(share * 100) - bar.n)

        reporter: Progress = progress
        return service.transcribe(data, hint, reporter)


def _transcript_text(transcript: Transcript) -> str:
    """A transcript and its delivery as a person reads them in a terminal."""
    lines = [f"Transcript ({transcript.transcriber}): {transcript.text}", f"Delivery: {transcript.delivery.summary()}"]
    if transcript.notice:
        lines.insert(0, f"note: {transcript.notice}")
    return "\n".join(lines)


def cmd_transcribe(args: argparse.Namespace, settings: Settings) -> int:
    """Transcribe a recording and print it with its delivery figures."""
    data = read_recording(Path(args.file))
    key_points: tuple[str, ...] = ()
    if args.question:
        wanted = normalize_question(args.question)
        bank = load_bank(settings.knowledge_dir, settings.uploads_dir).questions
        key_points = next((q.key_points for q in bank if normalize_question(q.question) == wanted), ())
    service = configured_transcription(settings)
    transcript = _transcribe_with_bar(service, data, service.hint(args.question or "", key_points))
    if args.json:
        _print_json(
            {
                "text": transcript.text,
                "transcriber": transcript.transcriber,
                "notice": transcript.notice,
                **transcript.delivery.to_dict(),
                "words": [{"word": w.text, "start": w.start, "end": w.end} for w in transcript.words],
            }
        )
    else:
        print(_transcript_text(transcript))
    return 0


COMMANDS = ("/skip", "/hint", "/end")


def _read_answer(stream: TextIO) -> str | None:
    """Lines up to an empty line (or the end of input); a command typed alone acts at once; None at the end of input.

    A command is taken only as the first line of an answer, so an answer may still mention "/skip" in its text.
    """
    lines: list[str] = []
    for line in stream:
        if not line.strip():
            if lines:
                break
            continue
        if not lines and line.strip() in COMMANDS:
            return line.strip()
        lines.append(line.rstrip("\n"))
    else:
        if not lines:
            return None
    return "\n".join(lines)


def _save(interviewer: Interviewer, prompt: Prompt, answer: str) -> Outcome | None:
    """Grade and save the answer (or the skip); while the store fails, say why and offer to try again."""
    while True:
        try:
            return interviewer.skip(prompt) if answer.strip() == "/skip" else interviewer.answer(prompt, answer)
        except StoreError as error:
            print(inert(f"error: {error}"), file=sys.stderr)
            print("Your answer is kept: press Enter to try saving it again, or type /end to stop.")
            line = sys.stdin.readline()
            if not line or line.strip() == "/end":
                return None


def _spoken_answer(runtime: Runtime, prompt: Prompt, answer: str) -> str | None:
    """An answer given as the path of a recording: transcribed, shown, then taken as heard or as corrected.

    Returns the answer text, None to ask the question again (the recording could not be used), or the answer
    unchanged when it is not a recording's path.
    """
    path = Path(answer.strip()).expanduser()
    if "\n" in answer.strip() or path.suffix.lower() not in AUDIO_SUFFIXES or not path.is_file():
        return answer
    try:
        data = read_recording(path)
        transcript = _transcribe_with_bar(
            runtime.transcription, data, runtime.decoder_hint(prompt.question, prompt.question_id)
        )
    except AudioError as error:
        print(f"error: {error}", file=sys.stderr)
        return None
    print(_transcript_text(transcript))
    print("Press Enter to answer with this transcript, or type a corrected answer (end it with an empty line).")
    lines: list[str] = []
    for line in sys.stdin:
        if not line.strip():
            break
        lines.append(line.rstrip("\n"))
    return "\n".join(lines) or transcript.text


def _resumable(args: argparse.Namespace, settings: Settings) -> RoundRecord | None:
    """The unfinished round that --resume names, checked before the model loads; None for a new round."""
    if not args.resume:
        return None
    if args.topic or args.focus or args.retry_weak or args.level or args.ramp:
        raise InterviewerError(
            "--resume continues a round with its own questions; drop --topic, --focus, --level, --ramp, --retry-weak."
        )
    record = open_store(settings).get_round(args.resume, owner=args.owner)
    if record.ended_at:
        raise InterviewerError(f"Round {record.id} has finished; `transcripts show {record.id}` shows it.")
    return record


def _say_focus_shortfall(interviewer: Interviewer, options: RoundOptions) -> None:
    """Before a focus round the bank cannot fill: how many questions match, and the command for the closest topic."""
    if not (options.focus and options.focus.strip()):
        return
    match = interviewer.match_focus(options)
    message = match.shortfall(options.count)
    if message and match.questions:
        command = f"python -m interviewer round --topic {shlex.quote(match.closest_topic or '')} --n {options.count}"
        print(message + (f" For a round on it: `{command}`." if match.closest_topic else ""))


def cmd_round(args: argparse.Namespace, settings: Settings) -> int:
    """An interview round in the terminal: answers end with an empty line; /skip, /hint, /end are commands."""
    resumed = _resumable(args, settings)
    runtime = build_runtime(settings)
    interviewer = runtime.interviewer.for_owner(args.owner)
    if resumed is None:
        options = RoundOptions(
            topics=tuple(args.topic or ()),
            focus=args.focus,
            count=args.n,
            mode=args.mode,
            retry_weak=args.retry_weak,
            levels=tuple(args.level or ()),
            ramp=args.ramp,
        )
        _say_focus_shortfall(interviewer, options)
        round_id, mode = interviewer.start(options), args.mode
        planned = len(interviewer.round(round_id).question_ids)
        print(f"Round {round_id}: {counted(planned, 'question')}, graded by {runtime.grading.describe()}.")
        print(f"If it is interrupted, continue it with `python -m interviewer round --resume {round_id}`.")
    else:
        round_id, mode = resumed.id, resumed.mode
        print(
            f"Resuming round {round_id} ({mode}): {len(resumed.turns)} answered, "
            f"{len(resumed.question_ids)} question(s) planned, graded by {runtime.grading.describe()}."
        )
    print("End each answer with an empty line. Commands, on a line of their own: /skip, /hint, /end.\n")
    prompt = interviewer.next_prompt(round_id)
    while prompt is not None:
        label = "Follow-up" if prompt.kind == "follow_up" else f"Question {prompt.number}/{prompt.total}"
        print(f"{label} [{prompt.topic}]: {prompt.question}")
        answer = _read_answer(sys.stdin)
        if answer is None or answer.strip() == "/end":
            break
        if answer.strip() == "/hint":
            print(
                interviewer.hint(prompt.question_id)
                if mode == "practice" and prompt.question_id
                else "No hints in a mock interview."
            )
            continue
        spoken = _spoken_answer(runtime, prompt, answer)
        if spoken is None:
            continue
        outcome = _save(interviewer, prompt, spoken)
        if outcome is None:
            print(f"Stopped. Every answer before this one is saved: `round --resume {round_id}` continues.")
            return 1
        if outcome.turn.grade and mode == "practice":
            print("\n" + _grade_text(outcome.turn.grade))
        prompt = outcome.next_prompt
    summary = interviewer.end(round_id)
    print(summary_text(summary))
    return 0


def summary_text(summary: Summary) -> str:
    """The end-of-round report for the terminal."""
    average = f"{summary.average:.1f}/5" if summary.average is not None else "no graded answers"
    lines = [f"Round {summary.round_id} finished: {average}, {summary.answered} graded, {summary.skipped} skipped."]
    lines += [f"  {topic.topic}: {topic.average:.1f}/5 over {topic.answered}" for topic in summary.by_topic]
    if summary.weakest_key_points:
        lines.append("Key points to work on:")
        lines += [f"  - {point}" for point, _ in summary.weakest_key_points]
    if summary.retry:
        lines.append("Worth retrying:")
        lines += [f"  - {turn.question}" for turn in summary.retry]
    return "\n".join(lines)


def cmd_transcripts(args: argparse.Namespace, settings: Settings) -> int:
    """Read the transcript store: list rounds, show one, export one."""
    store = open_store(settings)
    if args.action == "list":
        rounds = store.list_rounds(args.topic, owner=args.owner)
        if args.json:
            _print_json(
                [{k: v for k, v in round_dict(r).items() if k != "turns"} | {"turns": len(r.turns)} for r in rounds]
            )
            return 0
        if not rounds:
            print("No rounds yet: start one with `python -m interviewer round` or in the app.")
        for record in rounds:
            average = f"{record.average_score:.1f}/5" if record.average_score is not None else "-"
            topics = ", ".join(record.topics) or record.focus or "all topics"
            turns = counted(len(record.turns), "turn")
            print(f"{record.id}  {record.started_at}  {record.mode:8}  {average:6}  {turns:9}  {topics}")
        return 0
    if not args.id:
        raise InterviewerError(f"`transcripts {args.action}` needs a round id; `transcripts list` shows them.")
    record = store.get_round(args.id, owner=args.owner)
    if args.action == "export" and args.format == "json":
        print(round_json(record))
    else:
        print(round_markdown(record), end="")
    return 0


OWNER_HELP = f"whose rounds: a signed-in person's id in team mode (default {LOCAL_OWNER!r}, the local person)"


def build_parser() -> argparse.ArgumentParser:
    """The command-line grammar."""
    parser = argparse.ArgumentParser(prog="python -m interviewer", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    ingest = commands.add_parser("ingest", help="build or refresh the knowledge index")
    ingest.add_argument("--force", action="store_true", help="rebuild even when nothing changed")
    ingest.add_argument("--events", action="store_true", help="print progress and the outcome as JSON lines")
    ingest.set_defaults(handler=cmd_ingest)

    questions = commands.add_parser("questions", help="list the question bank")
    questions.add_argument("--topic", help="only this topic (case-insensitive)")
    questions.add_argument("--level", action="append", choices=LEVELS, help="only this level (repeat for several)")
    questions.add_argument("--json", action="store_true", help="print JSON")
    questions.set_defaults(handler=cmd_questions)

    search_cmd = commands.add_parser("search", help="search the knowledge base by meaning")
    search_cmd.add_argument("query")
    search_cmd.add_argument("--k", type=int, default=5, help="number of questions to return (default 5)")
    search_cmd.add_argument("--json", action="store_true", help="print JSON")
    search_cmd.set_defaults(handler=cmd_search)

    grade = commands.add_parser("grade", help="grade one answer")
    grade.add_argument("--question", required=True, help="the question, worded freely")
    grade.add_argument("--answer", required=True, help="the answer to grade")
    grade.add_argument("--grader", choices=["auto", "llm", "offline"], help="default: INTERVIEWER_GRADER, else auto")
    grade.add_argument("--json", action="store_true", help="print the grade object as JSON")
    grade.set_defaults(handler=cmd_grade)

    evaluate = commands.add_parser("eval", help="measure a grader against human scores in a CSV")
    evaluate.add_argument("--dataset", required=True, help="CSV with question, answer, score[, reference_answer]")
    evaluate.add_argument("--grader", choices=["auto", "llm", "offline"], help="default: INTERVIEWER_GRADER, else auto")
    evaluate.add_argument("--json", action="store_true", help="print pearson, spearman, rmse, qwk, n as JSON")
    evaluate.set_defaults(handler=cmd_eval)

    round_cmd = commands.add_parser("round", help="an interview round in the terminal")
    round_cmd.add_argument("--topic", action="append", help="a topic (repeat for several); default all")
    round_cmd.add_argument("--focus", help="free-text focus matched by meaning, e.g. quantization")
    round_cmd.add_argument("--n", type=int, default=5, help="number of questions (default 5)")
    round_cmd.add_argument("--mode", choices=["practice", "mock"], default="practice")
    round_cmd.add_argument("--retry-weak", action="store_true", help="prefer questions you scored low on")
    round_cmd.add_argument("--level", action="append", choices=LEVELS, help="only this level (repeat for several)")
    round_cmd.add_argument("--ramp", action="store_true", help="easier questions first, harder ones later")
    round_cmd.add_argument(
        "--resume", metavar="ROUND_ID", help="continue an unfinished round where it stopped (its own questions)"
    )
    round_cmd.add_argument("--owner", default=LOCAL_OWNER, help=OWNER_HELP)
    round_cmd.set_defaults(handler=cmd_round)

    transcribe = commands.add_parser("transcribe", help="transcribe a recorded answer and measure its delivery")
    transcribe.add_argument("file", help="a recording (wav, mp3, m4a, ogg, webm, flac)")
    transcribe.add_argument("--question", help="the question it answers (its words and key points guide the decoder)")
    transcribe.add_argument("--json", action="store_true", help="print text, duration_s, words_per_minute, ... as JSON")
    transcribe.set_defaults(handler=cmd_transcribe)

    transcripts = commands.add_parser("transcripts", help="past rounds: list, show ID, export ID")
    transcripts.add_argument("action", choices=["list", "show", "export"])
    transcripts.add_argument("id", nargs="?", help="round id (for show and export)")
    transcripts.add_argument("--format", choices=["md", "json"], default="md", help="export format")
    transcripts.add_argument("--topic", help="list only rounds with this topic")
    transcripts.add_argument("--json", action="store_true", help="list as JSON")
    transcripts.add_argument("--owner", default=LOCAL_OWNER, help=OWNER_HELP)
    transcripts.set_defaults(handler=cmd_transcripts)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse, run one command, turn InterviewerError into a one-line message and exit code 1."""
    args = build_parser().parse_args(argv)
    handler: Callable[[argparse.Namespace, Settings], int] = args.handler
    stdout = sys.stdout
    sys.stdout = InertStream(stdout)  # what an LLM, an answer or a document wrote cannot drive the terminal
    try:
        return handler(args, load_settings())
    except InterviewerError as error:
        print(inert(f"error: {error}"), file=sys.stderr)
        return 1
    finally:
        sys.stdout = stdout
