"""The key-point judge: a missing or broken model folder says what to do, decisions follow the evidence, and its
training data never puts one question on both sides of a fold."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bench.judge_data import INDOMAIN, folds, indomain_pairs, split, training_pairs
from interviewer.errors import ConfigError
from interviewer.judge import Judge, PointEvidence

FUSION = "Operator fusion merges ops into one kernel, saving memory traffic and launch overhead"


def test_missing_weights_say_how_to_restore_them(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"missing.*bench\.train_judge"):
        Judge(tmp_path).read([FUSION], [["Fusion helps."]])


def test_corrupt_weights_say_how_to_rebuild_them(tmp_path: Path) -> None:
    broken = tmp_path / "judge"
    broken.mkdir()
    (broken / "model.safetensors").write_bytes(b"not a model")
    with pytest.raises(ConfigError, match=r"Cannot load the key-point judge.*bench\.train_judge"):
        Judge(broken).read([FUSION], [["Fusion helps."]])


def test_the_evidence_is_the_likeliest_passage_for_each_label() -> None:
    rows = np.array([[0.6, 0.3, 0.1], [0.05, 0.9, 0.05], [0.2, 0.1, 0.7]])
    evidence = PointEvidence.of(FUSION, ["right", "wrong", "unrelated"], rows)
    assert (evidence.stating_passage, evidence.states) == ("right", pytest.approx(0.6))
    assert (evidence.contradicting_passage, evidence.contradicts) == ("wrong", pytest.approx(0.9))


def test_an_answer_with_nothing_to_read_gives_no_evidence() -> None:
    evidence = PointEvidence.of(FUSION, [], np.zeros((0, 3)))
    assert (evidence.states, evidence.stating_passage, evidence.contradicting_passage) == (0.0, None, None)


def test_no_question_is_both_fitted_and_scored() -> None:
    pairs = training_pairs(semeval_share=0.25)
    chosen = folds(pairs, 3)
    assert set().union(*chosen) == {pair.group for pair in pairs}
    for held_out in chosen:
        fitted, scored = split(pairs, held_out)
        assert {pair.group for pair in fitted}.isdisjoint({pair.group for pair in scored})
        assert {pair.source for pair in scored} == {"semeval", "indomain"}


def test_every_key_point_of_the_in_domain_data_has_sentences_of_each_kind_and_neither_pairs() -> None:
    data = json.loads(INDOMAIN.read_text(encoding="utf-8"))
    points = [point for question in data["questions"] for point in question["key_points"]]
    assert all(point["states"] and point["contradicts"] and point["near_misses"] for point in points)
    assert all(len(point["kept"]) == 3 and point["key_point"] not in point["kept"] for point in points)
    pairs, with_kept = indomain_pairs(), indomain_pairs(kept=True)
    for point in points[:20]:
        own = [pair for pair in pairs if pair.key_point == point["key_point"]]
        neither = {pair.text for pair in own if pair.label == "neither"}
        assert set(point["near_misses"]) <= neither  # its own words, no claim about it
        assert not neither & {*point["states"], *point["contradicts"], *point["mirrored"]}
        assert {pair.text for pair in own if pair.label == "states"} == {point["key_point"], *point["states"]}
        assert set(point["mirrored"]) <= {pair.text for pair in own if pair.label == "contradicts"}
        stating = {pair.text for pair in with_kept if pair.key_point == point["key_point"] and pair.label == "states"}
        assert stating == {point["key_point"], *point["states"], *point["kept"]}
