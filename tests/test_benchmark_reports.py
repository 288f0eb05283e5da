"""The accuracy benchmark and the choice of the ensemble's families, read back from their committed reports:
the ensemble recipe is the rule cross-validation chose, that choice follows from the held-out probabilities
it stored, and every row of the benchmark follows from the test probabilities the run saved."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from vowels.datasets import load_japanese_vowels
from vowels.ensemble import RecipeEnsemble
from vowels.recipes import RECIPES

ROOT = Path(__file__).resolve().parents[1]
REPORTS = ROOT / "reports"


def _script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def cv_ensemble():
    return _script("cv_ensemble")


@pytest.fixture(scope="module")
def chosen() -> dict:
    return json.loads((REPORTS / "cv_ensemble.json").read_text())


def test_rules_rank_by_errors_then_log_loss_then_fewer_families(cv_ensemble):
    truth = np.array([0, 1, 0, 1])
    sure = np.array([[0.9, 0.1], [0.1, 0.9], [0.9, 0.1], [0.1, 0.9]])
    hesitant = np.array([[0.6, 0.4], [0.4, 0.6], [0.6, 0.4], [0.4, 0.6]])
    wrong_once = np.array([[0.9, 0.1], [0.1, 0.9], [0.9, 0.1], [0.9, 0.1]])
    ranked = cv_ensemble.rank_rules({"a": sure, "b": sure, "c": hesitant, "d": wrong_once}, truth)
    assert len(ranked) == 11  # every subset of two or more of four families
    assert ranked[0]["members"] == ["a", "b"]  # no errors, the lowest log loss, two families
    assert ranked[0]["errors"] == 0 and ranked[0]["log_loss"] == pytest.approx(-np.log(0.9))
    assert [r["errors"] for r in ranked] == sorted(r["errors"] for r in ranked)
    assert ranked[-1]["errors"] == 1 and "d" in ranked[-1]["members"]


def test_the_ensemble_recipe_is_the_rule_cross_validation_chose(cv_ensemble, chosen):
    train = load_japanese_vowels("train")
    families = cv_ensemble._families()
    assert sorted(chosen["families"]) == sorted(families)
    probabilities = {f: np.asarray(chosen["families"][f]["probabilities"]) for f in families}
    for p in probabilities.values():
        assert p.shape == (len(train), len(train.speakers))
        np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-4)
    ranked = cv_ensemble.rank_rules(probabilities, train.codes)
    assert ranked[0]["members"] == chosen["chosen"]
    assert sorted(RECIPES["ensemble"]["recipes"]) == sorted(chosen["chosen"])
    assert sorted(RecipeEnsemble().recipes) == sorted(chosen["chosen"])


def test_every_benchmark_row_follows_from_the_saved_test_probabilities():
    results = json.loads((REPORTS / "benchmarks_accuracy.json").read_text())["classifiers"]
    test = load_japanese_vowels("test")
    classes = np.array(load_japanese_vowels("train").speakers)
    with np.load(REPORTS / "benchmarks_probabilities.npz") as saved:
        probabilities = {name: saved[name] for name in saved.files}
    members = [f"vowels --recipe {r}" for r in RECIPES["ensemble"]["recipes"]]
    probabilities["vowels --recipe ensemble"] = np.mean([probabilities[m] for m in members], axis=0)
    assert set(probabilities) == set(results)
    for name, runs in results.items():
        assert probabilities[name].shape == (len(runs), len(test), len(classes)), name
        for run, p in zip(runs, probabilities[name], strict=True):
            predicted = classes[p.argmax(axis=1)]
            wrong = np.flatnonzero(predicted != test.labels)
            assert run["wrong"] == wrong.tolist(), (name, run["seed"])
            assert run["accuracy"] == pytest.approx(1 - len(wrong) / len(test)), (name, run["seed"])
