"""The key-point judge: a missing or broken model folder says what to do, decisions follow the evidence, and its
training data never puts one question on both sides of a fold."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bench.judge_data import INDOMAIN, folds, indomain_pairs, split, training_pairs
from interviewer.errors import ConfigError
from interviewer.judge import Judge, decide

FUSION = "Operator fusion merges ops into one kernel, saving memory traffic and launch overhead"


def test_missing_weights_say_how_to_restore_them(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"missing.*bench\.train_judge"):
        Judge(tmp_path).judge([FUSION], ["Fusion helps."])


def test_corrupt_weights_say_how_to_rebuild_them(tmp_path: Path) -> None:
    broken = tmp_path / "judge"
    broken.mkdir()
    (broken / "model.safetensors").write_bytes(b"not a model")
    with pytest.raises(ConfigError, match=r"Cannot load the key-point judge.*bench\.train_judge"):
        Judge(broken).judge([FUSION], ["Fusion helps."])


def test_a_confident_contradiction_outweighs_a_weaker_match() -> None:
    rows = np.array([[0.6, 0.3, 0.1], [0.05, 0.9, 0.05]])
    verdict = decide(FUSION, ["right", "wrong"], rows)
    assert (verdict.status, verdict.evidence) == ("contradicted", "wrong")


def test_a_point_is_made_by_its_strongest_passage_and_quotes_it() -> None:
    rows = np.array([[0.2, 0.1, 0.7], [0.8, 0.1, 0.1]])
    verdict = decide(FUSION, ["unrelated", "the one"], rows)
    assert (verdict.status, verdict.evidence) == ("made", "the one")
    assert verdict.strength == pytest.approx(0.8)


def test_a_point_nothing_states_is_missed_without_evidence() -> None:
    assert decide(FUSION, ["a", "b"], np.array([[0.3, 0.2, 0.5], [0.1, 0.4, 0.5]])).evidence is None
    assert decide(FUSION, [], np.zeros((0, 3))).status == "missed"


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
    pairs = indomain_pairs()
    for point in points[:20]:
        own = [pair for pair in pairs if pair.key_point == point["key_point"]]
        neither = {pair.text for pair in own if pair.label == "neither"}
        assert set(point["near_misses"]) <= neither  # its own words, no claim about it
        assert not neither & {*point["states"], *point["contradicts"], *point["mirrored"]}
        assert {pair.text for pair in own if pair.label == "states"} == {point["key_point"], *point["states"]}
        assert set(point["mirrored"]) <= {pair.text for pair in own if pair.label == "contradicts"}
