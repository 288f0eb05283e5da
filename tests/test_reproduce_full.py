"""The MATLAB recipe, in full: 100 epochs on the 270 training utterances, scored once on the 370."""

from __future__ import annotations

import json

import pytest

from vowels.tutorial import reproduce

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(("mode", "floor"), [("matlab", 0.91), ("masked", 0.94)])
def test_full_matlab_recipe_reaches_the_tutorial_accuracy(mode, floor, tmp_path):
    run = reproduce(epochs=100, seed=0, mode=mode, out=tmp_path, verbose=0)
    assert run.metrics["accuracy"] >= floor, run.metrics["accuracy"]
    assert run.metrics["n_train"] == 270 and run.metrics["n_test"] == 370
    assert len(json.loads((tmp_path / "history.json").read_text())["iteration_loss"]) == 100 * 10
