"""The MATLAB tutorial end to end: train on the 270 utterances, classify the sorted 370, save."""

from __future__ import annotations

import csv
import io
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .classifier import SpeakerClassifier
from .datasets import Utterances, load_japanese_vowels
from .ensemble import RecipeEnsemble
from .errors import ParameterError
from .evaluation import Evaluation, evaluate_predictions
from .files import FORMAT_VERSION, check_creatable, check_free, write_json
from .provenance import machine_summary
from .recipes import recipe_mode, recipe_params
from .runs import SEEDS_FILE, check_run_folder_free, write_run
from .validation import check_int, check_seed

__all__ = ["SeedsRun", "TutorialRun", "make_classifier", "reproduce", "reproduce_seeds", "evaluate_on_test_set"]


@dataclass(frozen=True)
class TutorialRun:
    """What `reproduce` measured and where it wrote it."""

    metrics: dict
    evaluation: Evaluation
    out: Path | None


def evaluate_on_test_set(clf: SpeakerClassifier, test: Utterances) -> tuple[Evaluation, np.ndarray, np.ndarray, float]:
    """Classify `test` (sorted by length, batched as in training) and score it: the evaluation, the predicted
    names, their probabilities and the seconds it took."""
    start = time.perf_counter()
    probabilities = clf.predict_proba(test)
    seconds = time.perf_counter() - start
    predicted = clf.classes_[np.argmax(probabilities, axis=1)]
    return evaluate_predictions(test.labels, predicted, speakers=test.speakers), predicted, probabilities, seconds


def predictions_csv(test: Utterances, predicted: np.ndarray, probabilities: np.ndarray) -> str:
    """One row per test utterance: index, source, frames, true, predicted, probability."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["index", "source", "n_frames", "true", "predicted", "probability"])
    for i, (source, label, guess, row) in enumerate(zip(test.sources, test.labels, predicted, probabilities)):
        writer.writerow([i, source, len(test.sequences[i]), label, guess, f"{row.max():.6f}"])
    return buffer.getvalue()


def make_classifier(recipe: str, *, mode: str | None = None, **settings: Any) -> SpeakerClassifier | RecipeEnsemble:
    """An unfitted estimator for `recipe` (a `SpeakerClassifier`, or a `RecipeEnsemble` of recipes) with
    `settings` (``random_state``, ``verbose``, and for a single network ``max_epochs`` etc.) but the Nones."""
    params = recipe_params(recipe, mode)
    given = {key: value for key, value in settings.items() if value is not None}
    if "recipes" in params:
        return RecipeEnsemble(**params, **{k: v for k, v in given.items() if k in ("random_state", "verbose")})
    return SpeakerClassifier(**{**params, **given})


def reproduce(
    *,
    epochs: int | None = None,
    seed: int = 0,
    mode: str | None = None,
    recipe: str = "matlab",
    out: str | os.PathLike[str] | None = "runs/reproduce",
    data: str | os.PathLike[str] | None = None,
    force: bool = False,
    verbose: int = 1,
) -> TutorialRun:
    """Train the tutorial's network (or a recipe's) on the training set and score the test set once.

    Parameters
    ----------
    epochs : int, default=None
        None: the recipe's (100, the tutorial's); the ``ensemble`` takes none.
    seed : int in [0, 2**32 - 1], default=0
    mode : {"matlab", "padded", "masked"}, default=None
        None: the recipe's mode (``matlab`` for the ``matlab`` recipe).
    recipe : str, default="matlab"
        A name in `vowels.recipes.RECIPES`.
    out : path-like or None, default="runs/reproduce"
        The run folder (`vowels.runs`), replaced only with `force`; None writes nothing.
    data : path-like, default=None
        Folder of the UCI files; None uses ``$VOWELS_DATA`` or the bundled copy.
    """
    check_seed(seed)
    params = recipe_params(recipe, mode)
    if epochs is not None and "recipes" in params:
        raise ParameterError(f"recipe {recipe!r} trains each member for its own recipe's epochs; give no epochs.")
    clf = make_classifier(recipe, mode=mode, max_epochs=epochs, random_state=seed, verbose=verbose)
    out_path = Path(out) if out is not None else None
    if out_path is not None:
        check_run_folder_free(out_path, force=force)
    train, test = load_japanese_vowels("train", path=data), load_japanese_vowels("test", path=data)
    start = time.perf_counter()
    clf.fit(train)
    train_seconds = time.perf_counter() - start
    evaluation, predicted, probabilities, predict_seconds = evaluate_on_test_set(clf, test)
    members = clf.members_ if isinstance(clf, RecipeEnsemble) else [clf]
    recorded = members[-1]  # whose history the run records: an ensemble's BiLSTM

    metrics = {
        "accuracy": evaluation.accuracy,
        "n_errors": evaluation.n_errors,
        "n_train": len(train),
        "n_test": len(test),
        "epochs": max(member.options_.max_epochs for member in members),
        "seed": seed,
        "mode": recipe_mode(recipe, mode),
        "recipe": recipe,
        "classifier": params,
        "train_seconds": round(train_seconds, 3),
        "predict_seconds": round(predict_seconds, 3),
        "final_training_loss": recorded.history_.epoch_loss[-1],
        "evaluation": evaluation.to_dict(),
        "options": recorded.options_.to_dict(),
        "machine": machine_summary(),
    }
    if out_path is not None:
        model_metrics = {k: metrics[k] for k in ("accuracy", "n_test", "mode")}
        metrics = write_run(
            out_path,
            metrics=metrics,
            history=recorded.history_.to_dict(),
            predictions_csv=predictions_csv(test, predicted, probabilities),
            save_model=lambda path, run_id: clf.save(path, metrics={**model_metrics, "run_id": run_id}),
            force=force,
        )
    return TutorialRun(metrics=metrics, evaluation=evaluation, out=out_path)


@dataclass(frozen=True)
class SeedsRun:
    """What `reproduce_seeds` measured: one `TutorialRun` per seed and their summary."""

    runs: tuple[TutorialRun, ...]
    summary: dict
    out: Path | None


def _seeds_summary(results: list[dict]) -> dict:
    """``n_seeds``, ``seeds`` and the mean, sample standard deviation (0 for one seed), min and max accuracy."""
    accuracies = np.array([r["accuracy"] for r in results], dtype=np.float64)
    return {
        "n_seeds": len(results),
        "seeds": [int(r["seed"]) for r in results],
        "mean": float(accuracies.mean()),
        "std": float(accuracies.std(ddof=1)) if len(accuracies) > 1 else 0.0,
        "min": float(accuracies.min()),
        "max": float(accuracies.max()),
    }


def reproduce_seeds(
    *,
    n_seeds: int,
    seed: int = 0,
    epochs: int | None = None,
    mode: str | None = None,
    recipe: str = "matlab",
    out: str | os.PathLike[str] | None = "runs/reproduce",
    data: str | os.PathLike[str] | None = None,
    force: bool = False,
    verbose: int = 1,
) -> SeedsRun:
    """`reproduce` for seeds ``seed .. seed + n_seeds - 1``, each run in ``out/seed-K/``, and ``out/seeds.json``
    (each seed's accuracy, errors, training seconds, and their mean, std, min and max); every output is checked first.

    Parameters
    ----------
    n_seeds : int >= 1
    seed : int in [0, 2**32 - 1], default=0
        The first seed; the last, ``seed + n_seeds - 1``, must not exceed 2**32 - 1.
    epochs, mode, recipe, data, force, verbose
        As for `reproduce`.
    out : path-like or None, default="runs/reproduce"
    """
    check_int(n_seeds, "n_seeds")
    check_seed(seed, n_seeds)
    seeds = list(range(seed, seed + n_seeds))
    recipe_params(recipe, mode)
    out_path = Path(out) if out is not None else None
    if out_path is not None:
        check_free(out_path / SEEDS_FILE, force=force, what="result of an earlier run")
        for s in seeds:
            check_run_folder_free(out_path / f"seed-{s}", force=force)
        check_creatable(out_path / SEEDS_FILE)
    settings: dict[str, Any] = {"epochs": epochs, "mode": mode, "recipe": recipe, "data": data, "force": force}
    runs = [reproduce(seed=s, out=out_path and out_path / f"seed-{s}", verbose=verbose, **settings) for s in seeds]
    keys = ("accuracy", "n_errors", "n_test", "train_seconds", "run_id")
    results = [
        {"seed": run.metrics["seed"], "folder": f"seed-{run.metrics['seed']}"}
        | {k: run.metrics[k] for k in keys if k in run.metrics}
        for run in runs
    ]
    summary = {
        "format": "vowels-seeds",
        "format_version": FORMAT_VERSION,
        "mode": runs[0].metrics["mode"],
        "recipe": recipe,
        "epochs": runs[0].metrics["epochs"],
        "accuracy": _seeds_summary(results),
        "runs": results,
    }
    if out_path is not None:
        write_json(out_path / SEEDS_FILE, summary)
    return SeedsRun(runs=tuple(runs), summary=summary, out=out_path)
