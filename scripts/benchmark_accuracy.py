"""Test accuracy of this project's recipes beside aeon's classifiers, same split, one run.

Usage: pip install -e ".[bench]"; python scripts/benchmark_accuracy.py [--seeds 5] [--out reports]
       python scripts/benchmark_accuracy.py --render   (rewrites the markdown from the JSON, no training)
       python scripts/benchmark_accuracy.py --combine  (adds the ensemble row from the saved probabilities)

Every classifier is fitted on the 270 training utterances and scores the 370 test
utterances once per seed; nothing is tuned here (``--recipe best`` was chosen beforehand by
cross-validation on the training set: scripts/cv_recipes.py; the other families' recipes were
fixed before this script first scored them: vowels.recipes.RECIPES). The ensemble row is
`vowels.ensemble.RecipeEnsemble`'s rule (the mean of its families' probabilities of the same
seed, the families chosen by cross-validation on the training set: scripts/cv_ensemble.py),
computed from those rows' test probabilities: the same numbers fitting the ensemble anew would
give, without training its members twice. Every row's test probabilities are saved
(reports/benchmarks_probabilities.npz), so that ``--combine`` can add the ensemble row to a run
that did not include it, training nothing. aeon's ROCKET family needs
equal lengths: every utterance is padded with zero frames to 29 frames (aeon's ``Padder``);
1-NN DTW reads the true lengths; Hydra runs on PyTorch (in the ``bench`` extra). One
invocation runs every classifier it reports: the files it writes hold this run's results
only. Writes reports/benchmarks.md and reports/benchmarks_accuracy.json.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _ours(recipe: str, **changes: object) -> Callable[[int], object]:
    def make(seed: int) -> object:
        from vowels.tutorial import make_classifier

        return make_classifier(recipe, random_state=seed, verbose=0, **changes)

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


FIXED = "fixed in advance"
CHOSEN = "chosen by cross-validation on the training set"

CLASSIFIERS: dict[str, tuple[str, Callable[[int], object], bool, str]] = {
    # name: (input form, factory, deterministic, how its settings were decided)
    "vowels --recipe matlab": ("sequences", _ours("matlab"), False, "MATLAB's tutorial"),
    "vowels --recipe best": ("sequences", _ours("best"), False, CHOSEN),
    "vowels --recipe best, one network": ("sequences", _ours("best", n_members=1), False, CHOSEN),
    "vowels --recipe stacked": ("sequences", _ours("stacked"), False, FIXED),
    "vowels --recipe lstm": ("sequences", _ours("lstm"), False, FIXED),
    "vowels --recipe dnn": ("sequences", _ours("dnn"), False, FIXED),
    "vowels --recipe fcn": ("sequences", _ours("fcn"), False, FIXED + " (dl-4-tsc's FCN)"),
    "vowels --recipe ensemble": ("sequences", _ours("ensemble"), False, f"{FIXED}, then {CHOSEN} (cv_ensemble.py)"),
    "aeon MiniRocket": ("padded", _aeon("MiniRocket"), False, "aeon's defaults"),
    "aeon MultiRocket": ("padded", _aeon("MultiRocket"), False, "aeon's defaults"),
    "aeon Hydra": ("padded", _aeon("Hydra"), False, "aeon's defaults"),
    "aeon ROCKET": ("padded", _aeon("ROCKET"), False, "aeon's defaults"),
    "aeon 1-NN DTW": ("unequal", _aeon("1-NN DTW"), True, "aeon's defaults"),
}
ENSEMBLE = "vowels --recipe ensemble"
PROBABILITIES_FILE = "benchmarks_probabilities.npz"


def _ensemble_members() -> tuple[str, ...]:
    """The rows whose mean is the ensemble row: its recipe's families."""
    from vowels.recipes import RECIPES

    return tuple(f"vowels --recipe {r}" for r in RECIPES["ensemble"]["recipes"])


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


def _n_parameters(clf: object) -> int | None:
    """Trainable and other weights of our networks (None for aeon's classifiers)."""
    members = getattr(clf, "members_", None) or [clf]
    models = [getattr(m, "model_", None) for m in members]
    return sum(int(m.count_params()) for m in models) if all(m is not None for m in models) else None


def _result(seed: int, probabilities: np.ndarray, classes: np.ndarray, y_test: np.ndarray, **more: object) -> dict:
    predicted = classes[np.argmax(probabilities, axis=1)]
    truth = np.asarray(y_test).astype(str)
    wrong = np.flatnonzero(predicted != truth)
    return {
        "seed": seed,
        "accuracy": float(np.mean(predicted == truth)),
        "wrong": [int(i) for i in wrong],
        "wrong_as": [str(predicted[i]) for i in wrong],
        **more,
    }


def run(name: str, seeds: int, done: dict[str, list[dict]], probabilities: dict[str, list[np.ndarray]]) -> list[dict]:
    """Fit and score `name` once per seed (once in all if it is deterministic)."""
    form, make, deterministic, _ = CLASSIFIERS[name]
    members = _ensemble_members() if name == ENSEMBLE else ()
    if members and all(m in probabilities for m in members):
        return _combined(members, done, probabilities)
    x_train, x_test, y_train, y_test = _inputs(form)
    results = []
    for seed in range(1 if deterministic else seeds):
        clf = make(seed)
        start = time.perf_counter()
        clf.fit(x_train, y_train)  # type: ignore[attr-defined]
        fit_seconds = time.perf_counter() - start
        start = time.perf_counter()
        p = np.asarray(clf.predict_proba(x_test))  # type: ignore[attr-defined]
        predict_seconds = time.perf_counter() - start
        probabilities.setdefault(name, []).append(p)
        classes = np.asarray(clf.classes_).astype(str)  # type: ignore[attr-defined]
        results.append(
            _result(
                seed,
                p,
                classes,
                y_test,
                fit_seconds=fit_seconds,
                predict_seconds=predict_seconds,
                n_parameters=_n_parameters(clf),
            )
        )
        _print_result(name, results[-1])
    return results


def _combined(
    members: tuple[str, ...], done: dict[str, list[dict]], probabilities: dict[str, list[np.ndarray]]
) -> list[dict]:
    """The ensemble row: per seed, the mean of its members' test probabilities; their seconds and weights summed."""
    from vowels.datasets import load_japanese_vowels

    classes = np.array(load_japanese_vowels("train").speakers)
    y_test = load_japanese_vowels("test").labels
    results = []
    for seed in range(min(len(probabilities[m]) for m in members)):
        mean = np.mean([probabilities[m][seed] for m in members], axis=0)
        summed = {k: sum(done[m][seed][k] for m in members) for k in ("fit_seconds", "predict_seconds")}
        n_parameters = sum(done[m][seed]["n_parameters"] for m in members)
        results.append(_result(seed, mean, classes, y_test, **summed, n_parameters=n_parameters))
        _print_result(ENSEMBLE, results[-1])
    return results


def _print_result(name: str, result: dict) -> None:
    accuracy, seconds = 100 * result["accuracy"], result["fit_seconds"]
    print(f"{name} seed {result['seed']}: {accuracy:.2f}%, fit {seconds:.1f} s", flush=True)


def _wrong_lines(results: dict[str, list[dict]]) -> list[str]:
    """Which test utterances each family gets wrong, in how many seeds, and which every family misses."""
    from vowels.datasets import load_japanese_vowels

    test = load_japanese_vowels("test")
    lines = [
        "## Test utterances each classifier gets wrong",
        "",
        "Test utterance index (0-based, in the UCI file's order) with its true speaker; ×k: wrong in k of the "
        "seeds. An utterance every classifier misses in every seed is hard for all of them; one that some "
        "get right is where an ensemble of families can gain.",
        "",
        "| classifier | wrong (index: speaker ×seeds) |",
        "|---|---|",
    ]
    always: dict[str, set[int]] = {}
    for name, runs in results.items():
        counts: dict[int, int] = {}
        for r in runs:
            for i in r.get("wrong", []):
                counts[i] = counts.get(i, 0) + 1
        always[name] = {i for i, k in counts.items() if k == len(runs)}
        shown = ", ".join(f"{i}: {test.labels[i]} ×{k}" for i, k in sorted(counts.items()))
        lines.append(f"| {name} | {shown or 'none'} |")

    def missed_by(names: list[str]) -> str:
        common = set.intersection(*(always[n] for n in names)) if names else set()
        return ", ".join(f"{i} (speaker {test.labels[i]}, {len(test.sequences[i])} frames)" for i in sorted(common))

    ours = [name for name in results if name.startswith("vowels")]
    lines += [
        "",
        f"Missed by every classifier in every seed: {missed_by(list(results)) or 'none'}.",
        f"Missed by every `vowels` recipe in every seed: {missed_by(ours) or 'none'}.",
    ]
    return lines


def render(data: dict) -> str:
    """The markdown report of a benchmark run's JSON."""
    results, command = data["classifiers"], data["command"]
    run_words = (
        f"Generated by `{command}` (needs the `bench` extra); {data['combined']}."
        if "combined" in data
        else f"Generated by `{command}` (needs the `bench` extra), all rows in this one run."
    )
    families = " and ".join(f"`{m.removeprefix('vowels --recipe ')}`" for m in data.get("ensemble_of", []))
    lines = [
        "# Accuracy on the Japanese Vowels test set, side by side",
        "",
        f"{run_words} "
        "Every classifier fits the 270 training utterances and scores the 370 test utterances once per seed "
        "(one test error is 0.27 points); nothing was tuned on the test set. aeon's ROCKET family reads every "
        "utterance padded with zero frames to 29 frames; 1-NN DTW (deterministic, run once) reads true lengths. "
        "`vowels --recipe best, one network` is that recipe with `n_members=1`, to show what the ensemble adds; "
        f"it played no part in choosing the recipe. The ensemble is the mean of the {families} probabilities of "
        "one seed: of every mean of two or more families, the one cross-validation on the training set chose "
        "(scripts/cv_ensemble.py, reports/cv_ensemble.md). Its row is computed from those rows' test "
        f"probabilities (saved in {PROBABILITIES_FILE}), and its seconds and parameters are theirs summed. "
        "Seconds are wall time on a shared 2-core machine (median over seeds).",
        "",
        "Machine: " + ", ".join(f"{k} {v}" for k, v in data["machine"].items()) + ".",
        "Libraries: " + ", ".join(f"{k} {v}" for k, v in data["libraries"].items()) + ".",
        "",
        "| classifier | settings | seeds | mean accuracy | min | max | per seed | parameters | fit s | predict s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, runs in results.items():
        acc = [r["accuracy"] for r in runs]
        per_seed = ", ".join(f"{100 * a:.2f}" for a in acc)
        n_parameters = runs[0].get("n_parameters")
        how = CLASSIFIERS[name][3] if name in CLASSIFIERS else ""
        lines.append(
            f"| {name} | {how} | {len(runs)} | {100 * statistics.mean(acc):.2f}% | {100 * min(acc):.2f}% | "
            f"{100 * max(acc):.2f}% | {per_seed} | {'' if n_parameters is None else f'{n_parameters:,}'} | "
            f"{statistics.median(r['fit_seconds'] for r in runs):.1f} | "
            f"{statistics.median(r['predict_seconds'] for r in runs):.2f} |"
        )
    lines += [
        "",
        "Published for reference (not run here): aeon's MiniRocket 98.4 % (mean of 3 seeds), MultiRocket "
        "98.65 %, Hydra 98.6 %, ROCKET 96.7 %, 1-NN DTW 94.9 %; ConvTran 98.9 %, InceptionTime 97.0 %; "
        "dl-4-tsc's FCN 99.3 ± 0.2 % and ResNet 99.2 ± 0.3 % (10 runs, Ismail Fawaz et al. 2019).",
        "",
        *_wrong_lines(results),
    ]
    return "\n".join(lines) + "\n"


def _combine(data: dict, out: Path) -> dict:
    """The saved run `data` with its ensemble row (re)computed from the saved test probabilities of its members."""
    with np.load(out / PROBABILITIES_FILE) as saved:
        probabilities = {name: list(saved[name]) for name in saved.files}
    members = _ensemble_members()
    missing = [m for m in members if m not in probabilities]
    if missing:
        sys.exit(f"benchmark_accuracy: {out / PROBABILITIES_FILE} has no {', '.join(missing)}; run them first.")
    done = data["classifiers"]
    done[ENSEMBLE] = _combined(members, done, probabilities)
    data["classifiers"] = {name: done[name] for name in CLASSIFIERS if name in done}
    data["ensemble_of"] = list(members)
    data["combined"] = (
        f"the `{ENSEMBLE}` row was added by `python scripts/benchmark_accuracy.py --combine` from this run's saved "
        "test probabilities, after scripts/cv_ensemble.py had chosen its families"
    )
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--only", nargs="+", choices=list(CLASSIFIERS), default=list(CLASSIFIERS))
    parser.add_argument("--out", type=Path, default=ROOT / "reports")
    parser.add_argument("--render", action="store_true", help="rewrite benchmarks.md from the JSON; train nothing")
    parser.add_argument(
        "--combine", action="store_true", help="add the ensemble row from the saved probabilities; train nothing"
    )
    args = parser.parse_args(argv)

    from vowels.files import write_bytes, write_json, write_text
    from vowels.provenance import library_versions, machine_summary

    json_file = args.out / "benchmarks_accuracy.json"
    if args.render or args.combine:
        import json

        needed = [json_file] + ([args.out / PROBABILITIES_FILE] if args.combine else [])
        missing = [str(f) for f in needed if not f.is_file()]
        if missing:
            sys.exit(f"benchmark_accuracy: missing {', '.join(missing)}; run the benchmark first.")

        data = json.loads(json_file.read_text())
        if args.combine:
            data = _combine(data, args.out)
        write_json(json_file, data)
        write_text(args.out / "benchmarks.md", render(data))
        return 0
    _check_bench_extra(args.only)
    done: dict[str, list[dict]] = {}
    probabilities: dict[str, list[np.ndarray]] = {}
    for name in args.only:
        done[name] = run(name, args.seeds, done, probabilities)
    command = f"python scripts/benchmark_accuracy.py --seeds {args.seeds}" + (
        "" if args.only == list(CLASSIFIERS) else " --only " + " ".join(f"'{n}'" for n in args.only)
    )
    versions = library_versions(
        ("vowels", "tensorflow", "keras", "numpy", "scikit-learn", "onnxruntime", "aeon", "torch")
    )
    data = {
        "seeds": args.seeds,
        "command": command,
        "machine": machine_summary(),
        "libraries": versions,
        "classifiers": done,
        "ensemble_of": list(_ensemble_members()),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **{name: np.stack(p) for name, p in probabilities.items()})
    write_bytes(args.out / PROBABILITIES_FILE, buffer.getvalue())
    write_json(json_file, data)
    write_text(args.out / "benchmarks.md", render(data))
    return 0


if __name__ == "__main__":
    sys.exit(main())
