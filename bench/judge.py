"""Key-point judge benchmark: cross-validated agreement, the paraphrase set, and latency beside the bi-encoder.

Run: `flock /work/cpu.lock .venv/bin/python -m bench.judge` (it trains one judge per fold: minutes on idle cores, far
longer on shared ones). It prints

- SemEval-2013 and our in-domain pairs, cross-validated by question (`--folds` folds; each fold trains a judge the
  way `bench.train_judge` does on the other folds' questions and scores its own): SemEval 2-way AUC (correct vs
  the rest, on P(states)) and 3-way macro-F1; in-domain contradictions detected, stated points credited and
  'neither' pairs wrongly credited, each on pairs whose question the judge never saw;
- the judge in `interviewer/data/judge/` on `bench/data/paraphrases/key_point_paraphrases.json` (answers it never
  saw): key points made that it credits and key points not made that it credits, beside today's offline grader on
  the same answers; and on the development half of the in-domain benchmark (never the held-out half);
- judging a 132-word answer against 7 key points, timed beside the bi-encoder encoding the same texts.

`--no-cv` skips the training folds; `--cv-only` runs only them. Figures go to the model card and docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy.stats import rankdata

from bench.grading import load_paraphrases, paraphrase_credit
from bench.indomain_data import load_dev
from bench.judge_data import Pair, folds, split, training_pairs
from bench.train_judge import SEED, Recipe, add_recipe_options, recipe_of, train
from interviewer.embeddings import SentenceTransformerEmbedder
from interviewer.judge import JUDGE_PATH, LABELS, Judge, decide, pair_probabilities
from interviewer.knowledge import Question, load_bank
from interviewer.offline_grader import OfflineGrader
from interviewer.point_grading import passages
from interviewer.settings import load_settings

FOLDS = 3
LATENCY_RUNS = 20
ANSWER_WORDS = 132


def auc(scores: Sequence[float], positive: Sequence[bool]) -> float:
    """Area under the ROC curve: the chance that a random positive scores above a random negative."""
    ranks = rankdata(scores)
    hits = np.asarray(positive, bool)
    n_pos, n_neg = hits.sum(), (~hits).sum()
    return float((ranks[hits].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def macro_f1(predicted: Sequence[int], actual: Sequence[int]) -> float:
    """The F1 of each label, averaged with equal weight."""
    predicted, actual = np.asarray(predicted), np.asarray(actual)
    scores = []
    for label in range(len(LABELS)):
        tp = np.sum((predicted == label) & (actual == label))
        denominator = np.sum(predicted == label) + np.sum(actual == label)
        scores.append(2 * tp / denominator if denominator else 0.0)
    return float(np.mean(scores))


def out_of_fold(pairs: Sequence[Pair], k: int, recipe: Recipe) -> tuple[list[Pair], np.ndarray]:
    """Every pair scored by a judge trained without its question; pairs in fold order."""
    scored_all: list[Pair] = []
    rows = []
    for number, held_out in enumerate(folds(pairs, k, seed=SEED), 1):
        fitted, scored = split(pairs, held_out)
        print(f"fold {number}/{k}: training on {len(fitted)} pairs, scoring {len(scored)}", flush=True)
        model = train(fitted, recipe, log=False)
        rows.append(pair_probabilities(model, [(pair.text, pair.key_point) for pair in scored]))
        scored_all += scored
    return scored_all, np.vstack(rows)


def status(pair_rows: np.ndarray) -> str:
    """The judge's decision for one passage against one key point."""
    return decide("", ["passage"], pair_rows[None, :]).status


def cross_validation_report(pairs: Sequence[Pair], probabilities: np.ndarray, k: int) -> str:
    """SemEval agreement and in-domain detection, all out of fold."""
    semeval = [i for i, pair in enumerate(pairs) if pair.source == "semeval"]
    indomain = [i for i, pair in enumerate(pairs) if pair.source == "indomain"]
    actual = [pairs[i].label_id for i in semeval]
    area = auc(probabilities[semeval, 0], [label == 0 for label in actual])
    f1 = macro_f1(probabilities[semeval].argmax(axis=1), actual)
    statuses = {label: [status(probabilities[i]) for i in indomain if pairs[i].label == label] for label in LABELS}

    def share(label: str, wanted: str) -> str:
        hits = sum(found == wanted for found in statuses[label])
        return f"{hits} of {len(statuses[label])} ({hits / max(len(statuses[label]), 1):.0%})"

    return "\n".join(
        [
            f"cross-validated by question, {k} folds (no question both fitted and scored):",
            f"- SemEval-2013 ({len(semeval)} answers): 2-way AUC {area:.3f}, 3-way macro-F1 {f1:.3f}",
            f"- in-domain contradictions detected: {share('contradicts', 'contradicted')}; "
            f"judged made instead: {share('contradicts', 'made')}",
            f"- in-domain stated key points credited: {share('states', 'made')}; "
            f"judged contradicted: {share('states', 'contradicted')}",
            f"- in-domain 'neither' pairs credited as made: {share('neither', 'made')}; "
            f"as contradicted: {share('neither', 'contradicted')}",
        ]
    )


def paraphrase_report(judge: Judge, grader: OfflineGrader, questions: Sequence[Question]) -> str:
    """Key points made and not made that the judge credits, beside today's offline grader on the same answers."""
    made: list[bool] = []
    not_made: list[bool] = []
    for case in load_paraphrases(questions):
        for position, verdict in enumerate(judge.judge(case.question.key_points, list(passages(case.answer)))):
            (made if position in case.makes else not_made).append(verdict.status == "made")
    before_made, before_not = paraphrase_credit(grader, questions)

    def line(name: str, hits: list[bool], misses: list[bool]) -> str:
        return (
            f"- {name}: {sum(hits)} of {len(hits)} key points made credited ({np.mean(hits):.0%}); "
            f"{sum(misses)} of {len(misses)} not made credited ({np.mean(misses):.0%})"
        )

    return "\n".join(
        [
            "paraphrase set (key_point_paraphrases.json):",
            line("judge", made, not_made),
            line("today's offline grader", before_made, before_not),
        ]
    )


def dev_report(judge: Judge, questions: Sequence[Question]) -> str:
    """Key points made, contradicted and not addressed on the in-domain benchmark's development half.

    Never the held-out half: no figure of it may steer the judge (bench/data/indomain/README.md).
    """
    by_id = {question.id: question for question in questions}
    found: dict[str, list[str]] = {"made": [], "contradicted": [], "neither": []}
    for answer in load_dev():
        question = by_id.get(answer.question_id)
        if question is None or question.is_behavioral or not answer.answer.strip():
            continue
        for verdict in judge.judge(question.key_points, list(passages(answer.answer))):
            truth = (
                "made"
                if verdict.key_point in answer.makes
                else "contradicted"
                if verdict.key_point in answer.contradicts
                else "neither"
            )
            found[truth].append(verdict.status)

    def share(truth: str, status: str) -> str:
        hits = sum(found_status == status for found_status in found[truth])
        return f"{hits} of {len(found[truth])} ({hits / max(len(found[truth]), 1):.0%})"

    return "\n".join(
        [
            "in-domain benchmark, development half (bench/data/indomain/dev.jsonl, technical questions):",
            f"- key points made, credited: {share('made', 'made')}; "
            f"judged contradicted: {share('made', 'contradicted')}",
            f"- key points contradicted, detected: {share('contradicted', 'contradicted')}; "
            f"credited as made: {share('contradicted', 'made')}",
            f"- key points not addressed, credited: {share('neither', 'made')}; "
            f"judged contradicted: {share('neither', 'contradicted')}",
        ]
    )


def percentiles(seconds: Sequence[float]) -> tuple[float, float]:
    """p50 and p95 in milliseconds."""
    p50, p95 = np.percentile(np.array(seconds) * 1000, [50, 95])
    return float(p50), float(p95)


def latency_report(judge: Judge, embedder: SentenceTransformerEmbedder, questions: Sequence[Question]) -> str:
    """Judging one interview-length answer against seven key points, beside encoding the same texts, interleaved."""
    question = next(q for q in questions if len(q.key_points) == 7 and len(q.reference_answer.split()) > 200)
    answer = " ".join(question.reference_answer.split()[:ANSWER_WORDS])
    units = list(passages(answer))
    judge.judge(question.key_points, units)
    embedder.encode([*units, *question.key_points])
    judged, encoded = [], []
    for _ in range(LATENCY_RUNS):
        start = time.perf_counter()
        judge.judge(question.key_points, units)
        judged.append(time.perf_counter() - start)
        start = time.perf_counter()
        embedder.encode([*units, *question.key_points])
        encoded.append(time.perf_counter() - start)
    (j50, j95), (e50, e95) = percentiles(judged), percentiles(encoded)
    return (
        f"latency: a {len(answer.split())}-word answer ({len(units)} sentences and clauses) against "
        f"{len(question.key_points)} key points, {LATENCY_RUNS} runs interleaved, load average "
        f"{os.getloadavg()[0]:.2f}:\n"
        f"- judge ({len(units) * len(question.key_points)} pairs, one batch): p50 {j50:.0f} ms, p95 {j95:.0f} ms\n"
        f"- bi-encoder encoding the same {len(units) + len(question.key_points)} texts: "
        f"p50 {e50:.0f} ms, p95 {e95:.0f} ms\n"
        f"- ratio judge / bi-encoder: p50 {j50 / e50:.1f}x, p95 {j95 / e95:.1f}x"
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Print every figure of the judge benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folds", type=int, default=FOLDS)
    parser.add_argument("--model", type=Path, default=JUDGE_PATH, help="the judge's folder (default: the shipped one)")
    add_recipe_options(parser)
    parts = parser.add_mutually_exclusive_group()
    parts.add_argument("--no-cv", action="store_true", help="skip the cross-validation (no training)")
    parts.add_argument("--cv-only", action="store_true", help="only the cross-validation (no shipped model needed)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    if not args.no_cv:
        recipe = recipe_of(args)
        print(f"cross-validating the recipe {recipe}", flush=True)
        scored, probabilities = out_of_fold(training_pairs(recipe.semeval_share, seed=SEED), args.folds, recipe)
        print(cross_validation_report(scored, probabilities, args.folds), flush=True)
    if args.cv_only:
        return
    settings = load_settings()
    embedder = SentenceTransformerEmbedder(settings.embedding_model)
    judge = Judge(args.model)
    print(f"judge: {args.model}")
    questions = [q for q in load_bank(settings.knowledge_dir).questions if q.reference_answer and q.key_points]
    print(paraphrase_report(judge, OfflineGrader(embedder), questions))
    print(dev_report(judge, questions))
    print(latency_report(judge, embedder, questions))
    print(f"\n(all in {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
