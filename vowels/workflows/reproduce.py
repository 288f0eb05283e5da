"""`vowels reproduce`: MATLAB's tutorial on the Japanese Vowels data, one seed or several, said in lines."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..limits import MAX_SEED
from ..recipes import RECIPE_NETWORKS, recipe_mode, recipe_words
from .console import Console, ExitStatus

__all__ = ["reproduce", "reproduce_line"]

_MODES = {
    "matlab": "MATLAB semantics: the backward LSTM's output at the last padded time step",
    "padded": "backward LSTM state after the whole padded sequence",
    "masked": "each direction's state after the true frames only (--mode masked)",
}


def reproduce_line(metrics: dict, *, mode: str | None, recipe: str) -> str:
    """The result line `vowels reproduce` prints for a run's ``metrics.json``; README.md quotes it for the
    committed run (tests/test_docs.py)."""
    return (
        f"Test accuracy: {100 * metrics['accuracy']:.2f}% "
        f"({metrics['n_test'] - metrics['n_errors']}/{metrics['n_test']}), "
        f"{recipe_words(recipe, mode)}, {metrics['epochs']} epochs, seed {metrics['seed']}, "
        f"trained in {metrics['train_seconds']:.1f} s"
    )


def reproduce(
    console: Console,
    *,
    epochs: int | None,
    seed: int,
    seeds: int | None,
    mode: str | None,
    recipe: str,
    out: str,
    data: str | None,
    force: bool,
) -> int:
    """Train the BiLSTM of MATLAB's 'Sequence Classification Using Deep Learning' on the Japanese Vowels
    training set and score it on the test set. Writes OUT/metrics.json, history.json, predictions.csv and the
    model bundle OUT/model (with --seeds N: one such folder OUT/seed-K per seed, and OUT/seeds.json)."""
    from ..tutorial import reproduce as reproduce_one
    from ..tutorial import reproduce_seeds

    if seeds is not None and seed + seeds - 1 > MAX_SEED:
        raise UsageError(
            f"--seed {seed} with --seeds {seeds} reaches seed {seed + seeds - 1}, above the largest seed "
            f"{MAX_SEED}; lower --seed or --seeds (see 'vowels reproduce --help')"
        )
    mode = recipe_mode(recipe, mode)
    if mode is None:
        console.note(f"Recipe: {recipe} ({RECIPE_NETWORKS[recipe]}).")
    else:
        console.note(f"Recipe: {recipe}. Mode: {mode} ({_MODES[mode]}).")
    if mode == "matlab" and recipe == "matlab":
        console.note("Use --mode masked for the padding-free variant, --recipe best for the most accurate one.")
    settings: dict[str, Any] = dict(epochs=epochs, mode=mode, recipe=recipe, out=out, data=data, force=force)
    settings["verbose"] = 0 if console.quiet else 1
    if seeds is not None:
        done = reproduce_seeds(n_seeds=seeds, seed=seed, **settings)
        for run in done.runs:
            m = run.metrics
            console.note(
                f"Seed {m['seed']}: test accuracy {100 * m['accuracy']:.2f}% "
                f"({m['n_test'] - m['n_errors']}/{m['n_test']}), trained in {m['train_seconds']:.1f} s"
            )
        acc = done.summary["accuracy"]
        console.result(
            f"Test accuracy over {acc['n_seeds']} seeds ({acc['seeds'][0]}-{acc['seeds'][-1]}): mean "
            f"{100 * acc['mean']:.2f}%, standard deviation {100 * acc['std']:.2f} points, min {100 * acc['min']:.2f}%, "
            f"max {100 * acc['max']:.2f}%, {recipe_words(recipe, mode)}, {done.summary['epochs']} epochs"
        )
        seed_folders = os.path.join(out, "seed-K")
        console.note(f"Saved: {os.path.join(out, 'seeds.json')} and one run folder per seed ({seed_folders})")
        return ExitStatus.SUCCESS
    run = reproduce_one(seed=seed, **settings)
    console.result(reproduce_line(run.metrics, mode=mode, recipe=recipe))
    where = Path(out)
    console.note(
        f"Saved: {where / 'metrics.json'}, {where / 'history.json'}, {where / 'predictions.csv'}, "
        f"model bundle {where / 'model'}"
    )
    return ExitStatus.SUCCESS
