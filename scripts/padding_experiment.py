"""What padding costs: train the tutorial's recipe with sorted and unsorted batches, right and left padding.

Each variant is a real 100-epoch run of `SpeakerClassifier` (MATLAB mode, batches of 27, no
shuffling between epochs) on the 270 Japanese Vowels training utterances, scored on the 370
test utterances batched the same way. Orders:

``sorted``    sorted by length (the tutorial; ``sort_by_length=True``)
``unsorted``  one random order per seed, fixed for training and prediction
              (``sort_by_length=False`` on sequences passed in that order): isolates padding
``file``      the order of the UCI files (``sort_by_length=False`` as is): 30 utterances per
              speaker in a row, so batches are nearly single-speaker as well as padded

The results (padded frames per epoch, training seconds, test accuracy per run) go to a JSON
file that `vowels.plots.padding_cost` draws without training:

    python scripts/padding_experiment.py --out reports/padding_experiment.json

Written to the committed report (the default), they are also copied byte for byte to the
package data, ``vowels/data/padding_experiment.json``, which an installed `vowels` draws.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ORDERS = ("sorted", "unsorted", "file")
DIRECTIONS = ("right", "left")
REPOSITORY = Path(__file__).resolve().parents[1]
REPORT = REPOSITORY / "reports" / "padding_experiment.json"
"""The project's committed measurements."""
PACKAGE_COPY = REPOSITORY / "vowels" / "data" / "padding_experiment.json"
"""Their copy shipped in the wheel (`vowels.plots.default_padding_results`)."""


def _order(order: str, n: int, seed: int) -> np.ndarray:
    """Positions to pass the utterances in; the classifier sorts them itself for "sorted"."""
    if order == "unsorted":
        return np.random.default_rng(seed).permutation(n)
    return np.arange(n)


def run_variant(order: str, padding: str, seed: int, *, epochs: int, mode: str) -> dict:
    """Train and score one variant; return its measurements."""
    from vowels.batching import padding_stats
    from vowels.classifier import SpeakerClassifier
    from vowels.datasets import load_japanese_vowels
    from vowels.training import TrainingOptions

    train = load_japanese_vowels("train")
    test = load_japanese_vowels("test")
    train = train.subset(_order(order, len(train), seed))
    test = test.subset(_order(order, len(test), seed + 1000))
    options = TrainingOptions(max_epochs=epochs, sequence_padding_direction=padding)
    clf = SpeakerClassifier(mode=mode, options=options, sort_by_length=order == "sorted", random_state=seed)
    start = time.perf_counter()
    clf.fit(train)
    train_seconds = time.perf_counter() - start
    accuracy = float(clf.score(test))
    sort = order == "sorted"
    train_stats = padding_stats(train.lengths, batch_size=options.mini_batch_size, sort=sort)
    test_stats = padding_stats(test.lengths, batch_size=options.mini_batch_size, sort=sort)
    epoch_seconds = clf.history_.epoch_seconds
    return {
        "order": order,
        "padding": padding,
        "seed": seed,
        "train_frames_per_epoch": train_stats.n_frames,
        "train_padded_frames_per_epoch": train_stats.n_padded_frames,
        "train_padding_fraction": train_stats.padding_fraction,
        "train_batch_lengths": list(train_stats.batch_lengths),
        "test_padded_frames": test_stats.n_padded_frames,
        "test_padding_fraction": test_stats.padding_fraction,
        "train_seconds": round(train_seconds, 3),
        "first_epoch_seconds": round(epoch_seconds[0], 4),
        "median_epoch_seconds": round(statistics.median(epoch_seconds[1:] or epoch_seconds), 4),
        "final_training_loss": clf.history_.epoch_loss[-1],
        "test_accuracy": accuracy,
    }


def write_results(results: dict, out: Path) -> list[Path]:
    """Write `results` as JSON to `out`, and to `PACKAGE_COPY` too when `out` is the committed `REPORT`.

    Returns
    -------
    list of Path
        The files written; the package copy holds the same bytes as the report.
    """
    from vowels.files import write_bytes, write_json

    write_json(out, results)
    if out.resolve() != REPORT.resolve():
        return [out]
    write_bytes(PACKAGE_COPY, out.read_bytes())
    return [out, PACKAGE_COPY]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--mode", default="matlab", choices=("matlab", "padded", "masked"))
    parser.add_argument("--orders", nargs="+", default=list(ORDERS), choices=ORDERS)
    parser.add_argument(
        "--out",
        type=Path,
        default=REPORT,
        help=f"JSON file (default {REPORT.relative_to(REPOSITORY)}, copied to the package)",
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

    from vowels.provenance import library_versions
    from vowels.training import TrainingOptions

    runs = []
    for seed in args.seeds:
        for order in args.orders:
            for padding in DIRECTIONS:
                result = run_variant(order, padding, seed, epochs=args.epochs, mode=args.mode)
                runs.append(result)
                print(
                    f"seed {seed} {order:8s} {padding:5s}: padding {100 * result['train_padding_fraction']:5.1f}% "
                    f"train {result['train_seconds']:6.1f} s (median epoch {result['median_epoch_seconds']:.3f} s) "
                    f"test accuracy {100 * result['test_accuracy']:.2f}%",
                    flush=True,
                )
    written = write_results(
        {
            "format": "vowels-padding-experiment",
            "format_version": 1,
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "command": "python scripts/padding_experiment.py " + " ".join(argv if argv is not None else sys.argv[1:]),
            "mode": args.mode,
            "epochs": args.epochs,
            "seeds": args.seeds,
            "mini_batch_size": TrainingOptions().mini_batch_size,
            "orders": {
                "sorted": "sorted by length (the tutorial)",
                "unsorted": "one random order per seed for training and test",
                "file": "the UCI files' order: 30 utterances per speaker in a row",
            },
            "machine": f"{os.cpu_count()} CPU cores",
            "library_versions": library_versions(),
            "runs": runs,
        },
        args.out,
    )
    for path in written:
        print(f"Saved {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
