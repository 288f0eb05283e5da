from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from vowels.cli import main
from vowels.recipes import RECIPES


def _run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "vowels", *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def _one_line_error(result):
    lines = [line for line in result.stderr.splitlines() if line.startswith("vowels")]
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["reproduce", "--bogus"], "vowels: unrecognized arguments: --bogus"),
        (["reproduce", "--epochs", "ten"], "argument --epochs: must be a whole number >= 1; got 'ten'"),
        (["reproduce", "--epochs", "0"], "argument --epochs: must be a whole number >= 1; got '0'"),
        (["reproduce", "--mode", "last"], "argument --mode: invalid choice: 'last'"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["train", "d", "--out", "m", "--sample-rate", "1e9"], "from 4000 to 192000; got '1e9'"),
        (["train", "d", "--out", "m", "--threshold", "2"], "must be a score in [-1, 1] or 'auto'; got '2'"),
        (["train", "d", "--out", "m", "--operating-point", "far=2"], "must be 'eer' or 'far=<rate>'"),
        (["classify", "--model", "m", "f.wav", "--threshold", "x"], "must be a score in [-1, 1]; got 'x'"),
        (["evaluate", "--model", "m", "d", "--threshold", "-1.5"], "must be a score in [-1, 1]; got '-1.5'"),
        (["reproduce", "--seeds", "1000000000"], "argument --seeds: must be a whole number from 1 to 1000; got"),
        (["reproduce", "--seed", "4294967296"], "argument --seed: must be a whole number from 0 to 4294967295"),
        (["train", "d", "--out", "m", "--seed", "-1"], "argument --seed: must be a whole number from 0 to 4294967295"),
        (["extract", "d", "--out", "f.npz", "--workers", "0"], "argument --workers: must be a whole number >= 1"),
        ([], "vowels: a command is required"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(args, message):
    assert message in _one_line_error(_run(*args))


@pytest.mark.slow
def test_missing_model_and_data_folders_are_named(tmp_path):
    line = _one_line_error(_run("evaluate", "--model", str(tmp_path / "nowhere")))
    assert f"{tmp_path / 'nowhere'}: no model bundle there" in line
    line = _one_line_error(_run("reproduce", "--data", str(tmp_path / "nodata"), "--out", str(tmp_path / "o")))
    assert f"{tmp_path / 'nodata'}: not a folder" in line


@pytest.mark.slow
def test_unwritable_output_folder_is_refused_before_training(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("keep me")
    line = _one_line_error(_run("reproduce", "--out", str(blocker / "run")))
    assert f"{blocker / 'run'}: cannot be created, {blocker} is not a folder" in line
    assert blocker.read_text() == "keep me"


@pytest.mark.slow
def test_reproduce_writes_a_run_that_evaluate_rescores(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["reproduce", "--epochs", "2", "--seed", "1", "--mode", "masked", "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out.strip().splitlines()
    assert len(printed) == 1 and printed[0].startswith("Test accuracy: ")
    metrics = json.loads((out / "metrics.json").read_text())
    for key in ("accuracy", "n_train", "n_test", "epochs", "seed", "mode", "train_seconds"):
        assert key in metrics
    assert (metrics["n_train"], metrics["n_test"], metrics["epochs"], metrics["seed"], metrics["mode"]) == (
        270,
        370,
        2,
        1,
        "masked",
    )
    assert sum(map(sum, metrics["evaluation"]["confusion"])) == 370
    assert f"{100 * metrics['accuracy']:.2f}%" in printed[0]
    history = json.loads((out / "history.json").read_text())
    assert len(history["iteration_loss"]) == 2 * 10
    rows = (out / "predictions.csv").read_text().splitlines()
    assert len(rows) == 371
    assert sum(r.split(",")[3] == r.split(",")[4] for r in rows[1:]) == 370 - metrics["n_errors"]

    assert main(["evaluate", "--model", str(out / "model")]) == 0
    assert f"Test accuracy: {100 * metrics['accuracy']:.2f}%" in capsys.readouterr().out

    before = (out / "metrics.json").read_text()
    assert main(["reproduce", "--epochs", "1", "--out", str(out), "--quiet"]) == 2
    assert "already exists; pass --force" in capsys.readouterr().err
    assert (out / "metrics.json").read_text() == before


def test_best_recipe_is_one_flag_away_and_recorded(tmp_path, capsys):
    out = tmp_path / "best"
    assert main(["reproduce", "--recipe", "best", "--epochs", "1", "--out", str(out), "--quiet"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["recipe"] == "best" and metrics["mode"] == "masked"
    assert metrics["classifier"] == RECIPES["best"]
    bundle = json.loads((out / "model" / "metadata.json").read_text())
    assert bundle["params"]["n_members"] == 5 and bundle["params"]["time_warp"] == 0.2
    with np.load(out / "model" / "weights.npz") as weights:
        assert {name.split("_")[0] for name in weights.files} == {f"member{i}" for i in range(5)}
    assert bundle["preprocessing"]["delta_width"] == 3 and len(bundle["preprocessing"]["standardization"]["mean"]) == 24
