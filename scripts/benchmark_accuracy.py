"""Test accuracy of this project's recipes beside aeon's classifiers, same split, one run.

Usage: pip install -e ".[bench]"; python scripts/benchmark_accuracy.py [--seeds 5] [--out reports]

Every classifier is fitted on the 270 training utterances and scores the 370 test
utterances once per seed; nothing is tuned here (``--recipe best`` was chosen beforehand by
cross-validation on the training set: scripts/cv_recipes.py). aeon's ROCKET family needs
equal lengths: every utterance is padded with zero frames to 29 frames (aeon's ``Padder``);
1-NN DTW reads the true lengths; Hydra runs on PyTorch (in the ``bench`` extra). One
invocation runs every classifier it reports: the files it writes hold this run's results
only. Writes reports/benchmarks.md and reports/benchmarks_accuracy.json.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _ours(recipe: str, **changes: object) -> Callable[[int], object]:
    from vowels.tutorial import recipe_params

    def make(seed: int) -> object:
        from vowels.classifier import SpeakerClassifier

        return SpeakerClassifier(**{**recipe_params(recipe), **changes}, random_state=seed)

    return make


def _aeon(name: str) -> Callable[[int], object]:
    def make(seed: int) -> object:
        from aeon.classification.convolution_based import (
            HydraClassifier,
            MiniRocketClassifier,
            MultiRocketClassifier,
            RocketClassifier,
        )
        from aeon.classification.distance_based import KNeighborsTimeSeriesClassifier

        return {
            "MiniRocket": lambda: MiniRocketClassifier(random_state=seed, n_jobs=2),
            "MultiRocket": lambda: MultiRocketClassifier(random_state=seed, n_jobs=2),
            "ROCKET": lambda: RocketClassifier(random_state=seed, n_jobs=2),
            "Hydra": lambda: HydraClassifier(random_state=seed, n_jobs=2),
            "1-NN DTW": lambda: KNeighborsTimeSeriesClassifier(n_neighbors=1, distance="dtw", n_jobs=2),
        }[name]()

    return make


CLASSIFIERS: dict[str, tuple[str, Callable[[int], object], bool]] = {
    # name: (input form, factory, deterministic)
    "vowels --recipe matlab": ("sequences", _ours("matlab"), False),
    "vowels --recipe best": ("sequences", _ours("best"), False),
    "vowels --recipe best, one network": ("sequences", _ours("best", n_members=1), False),
    "aeon MiniRocket": ("padded", _aeon("MiniRocket"), False),
    "aeon MultiRocket": ("padded", _aeon("MultiRocket"), False),
    "aeon Hydra": ("padded", _aeon("Hydra"), False),
    "aeon ROCKET": ("padded", _aeon("ROCKET"), False),
    "aeon 1-NN DTW": ("unequal", _aeon("1-NN DTW"), True),
}


def _inputs(form: str) -> tuple[object, object, np.ndarray, np.ndarray]:
    """Training and test inputs in the form a classifier reads, with their label codes."""
    from vowels.datasets import load_japanese_vowels

    train, test = load_japanese_vowels("train"), load_japanese_vowels("test")
    if form == "sequences":
        return train, test, train.labels, test.labels
    channels_first = [[s.T.astype(np.float64) for s in d.sequences] for d in (train, test)]
    if form == "unequal":
        return channels_first[0], channels_first[1], train.labels, test.labels
    from aeon.transformations.collection.unequal_length import Padder

    padder = Padder(padded_length=29).fit(channels_first[0])
    return padder.transform(channels_first[0]), padder.transform(channels_first[1]), train.labels, test.labels


def _check_bench_extra(names: list[str]) -> None:
    """Stop before any training if a library the chosen classifiers need is missing."""
    import importlib.util

    needed = {"aeon": any(n.startswith("aeon") for n in names), "torch": "aeon Hydra" in names}
    missing = [module for module, wanted in needed.items() if wanted and importlib.util.find_spec(module) is None]
    if missing:
        sys.exit(f'benchmark_accuracy: {", ".join(missing)} not installed; run pip install -e ".[bench]" first.')


def run(name: str, seeds: int) -> list[dict]:
    """Fit and score `name` once per seed (once in all if it is deterministic)."""
    form, make, deterministic = CLASSIFIERS[name]
    x_train, x_test, y_train, y_test = _inputs(form)
    results = []
    for seed in range(1 if deterministic else seeds):
        clf = make(seed)
        start = time.perf_counter()
        clf.fit(x_train, y_train)  # type: ignore[attr-defined]
        fit_seconds = time.perf_counter() - start
        start = time.perf_counter()
        predicted = np.asarray(clf.predict(x_test)).astype(str)  # type: ignore[attr-defined]
        predict_seconds = time.perf_counter() - start
        accuracy = float(np.mean(predicted == np.asarray(y_test).astype(str)))
        results.append(
            {"seed": seed, "accuracy": accuracy, "fit_seconds": fit_seconds, "predict_seconds": predict_seconds}
        )
        print(f"{name} seed {seed}: {100 * accuracy:.2f}%, fit {fit_seconds:.1f} s", flush=True)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--only", nargs="+", choices=list(CLASSIFIERS), default=list(CLASSIFIERS))
    parser.add_argument("--out", type=Path, default=ROOT / "reports")
    args = parser.parse_args(argv)

    from vowels.bundle import write_json, write_text
    from vowels.provenance import library_versions, machine_summary

    _check_bench_extra(args.only)
    results = {name: run(name, args.seeds) for name in args.only}

    versions = library_versions(("vowels", "tensorflow", "keras", "numpy", "scikit-learn", "aeon", "torch"))
    lines = [
        "# Accuracy on the Japanese Vowels test set, side by side",
        "",
        f"Generated by `python scripts/benchmark_accuracy.py --seeds {args.seeds}"
        + ("" if args.only == list(CLASSIFIERS) else " --only " + " ".join(f"'{n}'" for n in args.only))
        + "` (needs the `bench` extra), all rows in this one run. "
        "Every classifier fits the 270 training utterances and scores the 370 test utterances once per seed "
        "(one test error is 0.27 points); nothing was tuned on the test set. aeon's ROCKET family reads every "
        "utterance padded with zero frames to 29 frames; 1-NN DTW (deterministic, run once) reads true lengths. "
        "`vowels --recipe best, one network` is that recipe with `n_members=1`, to show what the ensemble adds; "
        "it played no part in choosing the recipe. "
        "Seconds are wall time on a shared 2-core machine (median over seeds).",
        "",
        "Machine: " + ", ".join(f"{k} {v}" for k, v in machine_summary().items()) + ".",
        "Libraries: " + ", ".join(f"{k} {v}" for k, v in versions.items()) + ".",
        "",
        "| classifier | seeds | mean accuracy | min | max | per seed | fit s | predict s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, runs in results.items():
        acc = [r["accuracy"] for r in runs]
        per_seed = ", ".join(f"{100 * a:.2f}" for a in acc)
        lines.append(
            f"| {name} | {len(runs)} | {100 * statistics.mean(acc):.2f}% | {100 * min(acc):.2f}% | "
            f"{100 * max(acc):.2f}% | {per_seed} | {statistics.median(r['fit_seconds'] for r in runs):.1f} | "
            f"{statistics.median(r['predict_seconds'] for r in runs):.2f} |"
        )
    lines += [
        "",
        "Published for reference (not run here): aeon's MiniRocket 98.4 % (mean of 3 seeds), MultiRocket "
        "98.65 %, Hydra 98.6 %, ROCKET 96.7 %, 1-NN DTW 94.9 %; ConvTran 98.9 %, InceptionTime 97.0 %.",
    ]
    args.out.mkdir(parents=True, exist_ok=True)
    write_text(args.out / "benchmarks.md", "\n".join(lines) + "\n")
    write_json(args.out / "benchmarks_accuracy.json", {"seeds": args.seeds, "classifiers": results})
    return 0


if __name__ == "__main__":
    sys.exit(main())
