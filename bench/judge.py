"""Key-point judge benchmark: cross-validated agreement of pairs, and grading latency beside today's grader.

Run: `flock /work/cpu.lock .venv/bin/python -m bench.judge` (it trains one judge per fold: minutes on idle cores, far
longer on shared ones). It prints

- SemEval-2013 and our in-domain pairs, cross-validated by question (`--folds` folds; each fold trains a judge the
  way `bench.train_judge` does on the other folds' questions and scores its own): SemEval 2-way AUC (correct vs
  the rest, on P(states)) and 3-way macro-F1; in-domain contradictions detected, stated points credited and
  'neither' pairs wrongly credited, each on pairs whose question the judge never saw;
- grading 132-word answers with the judge, timed beside today's grader (without it) on the same answers.

`--no-cv` skips the training folds; `--cv-only` runs only them. Figures go to the model card and docs/BENCHMARKS.md.
How the grade uses the judge (key points credited in the paraphrase set and the in-domain benchmark, beside the
grader before it) is measured by `bench.indomain`; the calibration's own out-of-fold figures by `bench.fit_points`.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy.stats import rankdata

from bench.grading import bank_reference
from bench.judge_data import Pair, folds, split, training_pairs
from bench.train_judge import SEED, Recipe, add_recipe_options, recipe_of, train
from interviewer.embeddings import SentenceTransformerEmbedder
from interviewer.judge import JUDGE_PATH, LABELS, Judge, pair_probabilities
from interviewer.knowledge import Question, load_bank
from interviewer.offline_grader import OfflineGrader
from interviewer.settings import load_settings

VERDICTS = {"states": "made", "contradicts": "contradicted", "neither": "missed"}
FOLDS = 3
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
        rows.append(pair_probabilities(model.tokenizer, model.model.eval(), [(p.text, p.key_point) for p in scored]))
        scored_all += scored
    return scored_all, np.vstack(rows)


def status(pair_rows: np.ndarray) -> str:
    """The judge's own decision for one passage against one key point: its likeliest label, as a verdict."""
    return VERDICTS[LABELS[int(pair_rows.argmax())]]


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


def percentiles(seconds: Sequence[float]) -> tuple[float, float]:
    """p50 and p95 in milliseconds."""
    p50, p95 = np.percentile(np.array(seconds) * 1000, [50, 95])
    return float(p50), float(p95)


def latency_report(judge: Judge, embedder: SentenceTransformerEmbedder, questions: Sequence[Question]) -> str:
    """Grading interview-length answers with the judge and without it (today's grader), interleaved, references
    cached as in the app (the engine encodes a question's reference while the person reads it)."""
    technical = [q for q in questions if not q.is_behavioral and len(q.reference_answer.split()) >= ANSWER_WORDS]
    answers = [(q.question, " ".join(q.reference_answer.split()[:ANSWER_WORDS]), bank_reference(q)) for q in technical]
    graders = {"with the judge": OfflineGrader(embedder, judge=judge), "today's grader": OfflineGrader(embedder)}
    timings: dict[str, list[float]] = {name: [] for name in graders}
    for grader in graders.values():
        for item in answers[:3]:
            grader.grade(*item)  # loads the models
    for item in answers:
        for name, grader in graders.items():
            grader.reference_vectors(item[0], item[2])
            start = time.perf_counter()
            grader.grade(*item)
            timings[name].append(time.perf_counter() - start)
    (j50, j95), (t50, t95) = (percentiles(timings[name]) for name in graders)
    return (
        f"latency: {len(answers)} bank answers of {ANSWER_WORDS} words, reference cached, graded with and without "
        f"the judge interleaved, load average {os.getloadavg()[0]:.2f}:\n"
        f"- with the judge: p50 {j50:.0f} ms, p95 {j95:.0f} ms\n"
        f"- today's grader: p50 {t50:.0f} ms, p95 {t95:.0f} ms\n"
        f"- ratio: p50 {j50 / t50:.2f}x, p95 {j95 / t95:.2f}x (target p95 <= 2x)"
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
        scored, probabilities = out_of_fold(
            training_pairs(recipe.semeval_share, recipe.kept, seed=SEED), args.folds, recipe
        )
        print(cross_validation_report(scored, probabilities, args.folds), flush=True)
    if args.cv_only:
        return
    settings = load_settings()
    embedder = SentenceTransformerEmbedder(settings.embedding_model)
    judge = Judge(args.model)
    print(f"judge: {args.model}")
    questions = [q for q in load_bank(settings.knowledge_dir).questions if q.reference_answer and q.key_points]
    print(latency_report(judge, embedder, questions))
    print(f"\n(all in {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
