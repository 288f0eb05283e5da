"""Accuracy reports: ``report.md`` with its PNG figures beside it, and one self-contained ``report.html``.

A report is built from a run folder of ``vowels reproduce`` (one seed, or ``--seeds N``) or
from a model bundle re-scored on data. Its numbers are recomputed from the per-utterance
predictions and checked against the run's own ``metrics.json``, so a report never shows a
number its evidence does not give. The test accuracy carries a 95 % Wilson score interval for
a binomial proportion (the uncertainty from the finite test set); over several seeds the
report gives the spread between seeds as well, a separate source of variation.

The document is a list of blocks rendered twice: to Markdown (figures as PNG files linked
relatively) and to HTML (figures as ``data:`` URIs, CSS inline, a Content-Security-Policy
that forbids any request), so the two always say the same thing.
"""

from __future__ import annotations

import base64
import csv
import datetime as _dt
import html
import io
import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .bundle import check_free, check_writable, read_bundle_metadata, write_bytes, write_json, write_text
from .errors import DataError, ParameterError
from .evaluation import Evaluation, evaluate_predictions
from .provenance import library_versions, machine_summary
from .training import TrainingHistory

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .datasets import Utterances

__all__ = [
    "CONFIDENCE",
    "REPORT_FILES",
    "Prediction",
    "Report",
    "check_report_free",
    "render_html",
    "render_markdown",
    "report_from_model",
    "report_from_run",
    "wilson_interval",
    "write_report",
]

CONFIDENCE = 0.95
"""Confidence level of the accuracy interval."""
REPORT_FILES = ("report.md", "report.html", "report.json")
"""The files a report writes (plus one PNG per figure)."""
REPORT_LIBRARIES = ("vowels", "keras", "tensorflow", "numpy", "scipy", "scikit-learn", "matplotlib")


def wilson_interval(n_correct: int, n: int, *, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion (``scipy.stats.binomtest``).

    Parameters
    ----------
    n_correct : int
        Successes, 0 <= n_correct <= n.
    n : int
        Trials, n >= 1.
    confidence : float in (0, 1), default=0.95

    Returns
    -------
    low, high : float
        Bounds of the interval for the proportion, in [0, 1].
    """
    from scipy.stats import binomtest

    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ParameterError(f"n must be a whole number >= 1; got {n!r}.")
    if isinstance(n_correct, bool) or not isinstance(n_correct, (int, np.integer)) or not 0 <= n_correct <= n:
        raise ParameterError(f"n_correct must be a whole number from 0 to n={n}; got {n_correct!r}.")
    if not 0 < confidence < 1:
        raise ParameterError(f"confidence must be in (0, 1); got {confidence!r}.")
    ci = binomtest(int(n_correct), int(n)).proportion_ci(confidence_level=confidence, method="wilson")
    return float(ci.low), float(ci.high)


@dataclass(frozen=True)
class Prediction:
    """One scored utterance.

    Attributes
    ----------
    index : int
        Position in the scored set (0-based; the test file's order for Japanese Vowels).
    source : str
        Where it came from (file and line range, or audio path).
    n_frames : int
        Length in frames.
    true, predicted : str
        Speaker names.
    probability : float
        The model's probability of the predicted speaker, in [0, 1].
    """

    index: int
    source: str
    n_frames: int
    true: str
    predicted: str
    probability: float


@dataclass(frozen=True)
class Report:
    """Everything an accuracy report states, before it is rendered.

    Attributes
    ----------
    title : str
    origin : dict
        ``kind`` ("run" or "model"), ``path``, ``data`` (as given, or None) and, for runs, the
        recipe to rerun it (``n_seeds``, ``seed``, ``epochs``, ``mode``).
    evaluation : Evaluation
        Recomputed from `predictions`.
    interval : (float, float)
        95 % Wilson score interval of the accuracy, in [0, 1].
    predictions : tuple of Prediction
    history : TrainingHistory or None
        None for a model bundle (bundles keep no history).
    dataset : list of dict
        One row per split: ``split``, ``utterances``, ``speakers``, ``frames_min``,
        ``frames_median``, ``frames_max``, ``n_features``.
    configuration : dict
        Mode, seed, hidden units, sorting, training options, feature configuration.
    versions : dict
        ``{"trained with": {...}, "report written with": {...}}``.
    machine : dict
        ``{"trained on": {...} or None, "report written on": {...}}``.
    timing : dict
        Seconds (wall time): ``train_seconds``, ``predict_seconds``, ``median_epoch_seconds``,
        ``first_epoch_seconds``, ``report_seconds``; None where not recorded.
    seeds : dict or None
        The ``seeds.json`` of a multi-seed run, each run with its Wilson interval added.
    headline_seed : int or None
    created : str
        ISO 8601 time the report was built (UTC).
    """

    title: str
    origin: dict
    evaluation: Evaluation
    interval: tuple[float, float]
    predictions: tuple[Prediction, ...]
    history: TrainingHistory | None
    dataset: list[dict]
    configuration: dict
    versions: dict
    machine: dict
    timing: dict
    seeds: dict | None = None
    headline_seed: int | None = None
    created: str = field(default_factory=lambda: _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))

    @property
    def misclassified(self) -> list[Prediction]:
        """The predictions whose speaker is wrong, in index order."""
        return [p for p in self.predictions if p.true != p.predicted]

    def to_dict(self) -> dict:
        """The report's numbers as plain JSON-ready values (written as ``report.json``)."""
        return {
            "format": "vowels-report",
            "format_version": 1,
            "title": self.title,
            "created": self.created,
            "origin": self.origin,
            "headline_seed": self.headline_seed,
            "interval": {
                "method": "wilson",
                "confidence": CONFIDENCE,
                "low": self.interval[0],
                "high": self.interval[1],
            },
            "evaluation": self.evaluation.to_dict(),
            "misclassified": [p.__dict__ for p in self.misclassified],
            "seeds": self.seeds,
            "dataset": self.dataset,
            "configuration": self.configuration,
            "versions": self.versions,
            "machine": self.machine,
            "timing": self.timing,
        }


# --- building ---------------------------------------------------------------------------


def _read_json(path: Path, what: str) -> dict:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"{path}: missing; {what}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"{path}: cannot be read as JSON ({exc}).") from None
    if not isinstance(value, dict):
        raise DataError(f"{path}: expected a JSON object.")
    return value


def _read_predictions(path: Path) -> list[Prediction]:
    """Rows of a run's ``predictions.csv`` (written by `vowels.tutorial.predictions_csv`)."""
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
    except FileNotFoundError:
        raise DataError(f"{path}: missing; the run folder is incomplete, rerun 'vowels reproduce'.") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"{path}: cannot be read as CSV ({exc}).") from None
    out = []
    for line, row in enumerate(rows, start=2):
        try:
            out.append(
                Prediction(
                    int(row["index"]),
                    row["source"],
                    int(row["n_frames"]),
                    row["true"],
                    row["predicted"],
                    float(row["probability"]),
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(f"{path}, line {line}: missing or invalid value ({exc}).") from None
    if not out:
        raise DataError(f"{path}: holds no predictions.")
    return out


def _summarise(split: str, utterances: Utterances) -> dict:
    lengths = utterances.lengths
    return {
        "split": split,
        "utterances": len(utterances),
        "speakers": len(set(utterances.labels)),
        "frames_min": int(lengths.min()),
        "frames_median": float(np.median(lengths)),
        "frames_max": int(lengths.max()),
        "n_features": utterances.n_features,
    }


def _configuration(metadata: dict | None, **known: Any) -> dict:
    config = {k: v for k, v in known.items() if v is not None}
    if metadata:
        params = metadata.get("params", {})
        config.setdefault("mode", params.get("mode"))
        config.setdefault("seed", params.get("random_state"))
        config["hidden_units"] = params.get("n_hidden")
        config["sort_by_length"] = params.get("sort_by_length")
        config["n_features"] = metadata.get("n_features")
        config["speakers"] = metadata.get("classes")
        config.setdefault("options", params.get("options"))
        if "features" in metadata:
            config["features"] = metadata["features"]
            config["unknown_threshold"] = metadata.get("unknown_threshold")
    return config


def _check_same(evaluation: Evaluation, recorded: dict, where: Path) -> None:
    """The evaluation recomputed from predictions.csv must equal the one metrics.json recorded."""
    try:
        same = (
            np.isclose(evaluation.accuracy, float(recorded["accuracy"]), rtol=0, atol=1e-12)
            and np.array_equal(evaluation.confusion, np.asarray(recorded["confusion"]))
            and list(evaluation.speakers) == list(recorded["speakers"])
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise DataError(f"{where}: the evaluation entry is missing or invalid ({exc}).") from None
    if not same:
        raise DataError(
            f"{where}: the recorded accuracy {recorded.get('accuracy')!r} or confusion matrix does not match "
            f"predictions.csv beside it (accuracy {evaluation.accuracy!r}); the run folder was edited or mixed "
            "up with another run, rerun 'vowels reproduce'."
        )


def _history_timing(history: TrainingHistory | None) -> dict:
    if history is None or not history.epoch_seconds:
        return {"median_epoch_seconds": None, "first_epoch_seconds": None}
    return {
        "median_epoch_seconds": float(np.median(history.epoch_seconds)),
        "first_epoch_seconds": float(history.epoch_seconds[0]),
    }


def report_from_run(run: str | os.PathLike[str], *, data: str | os.PathLike[str] | None = None) -> Report:
    """The report of a ``vowels reproduce`` folder (one seed, or ``--seeds N``).

    Parameters
    ----------
    run : path-like
        A folder with ``metrics.json``, ``history.json``, ``predictions.csv`` and ``model/``,
        or a multi-seed folder with ``seeds.json`` and one such folder per seed. The headline
        of a multi-seed report is the first seed (fixed before training, not chosen by result).
    data : path-like, default=None
        Folder of the UCI files the run used; None uses ``$VOWELS_DATA`` or the bundled copy.
        Its test set must match the run's predictions.

    Raises
    ------
    DataError
        A file is missing or malformed, or the run's numbers disagree with its predictions.
    """
    from .datasets import load_japanese_vowels
    from .plots import load_run

    start = time.perf_counter()
    folder = Path(run)
    if not folder.is_dir():
        raise DataError(f"{folder}: no run folder there; make one with 'vowels reproduce --out {folder}'.")
    seeds = None
    headline_seed = None
    if (folder / "seeds.json").is_file():
        seeds = _read_json(folder / "seeds.json", "")
        try:
            runs = seeds["runs"]
            headline = runs[0]
            headline_seed = int(headline["seed"])
            for entry in runs:
                k, n = int(entry["n_test"]) - int(entry["n_errors"]), int(entry["n_test"])
                entry["interval"] = list(wilson_interval(k, n))
            seed_folder = folder / str(headline["folder"])
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise DataError(f"{folder / 'seeds.json'}: missing or invalid entry ({exc}).") from None
    else:
        seed_folder = folder
    loaded = load_run(seed_folder)
    metrics, history = loaded["metrics"], TrainingHistory.from_dict(loaded["history"])
    predictions = _read_predictions(seed_folder / "predictions.csv")
    try:
        speakers = metrics["evaluation"]["speakers"]
    except (KeyError, TypeError) as exc:
        raise DataError(f"{seed_folder / 'metrics.json'}: no evaluation entry ({exc}).") from None
    evaluation = evaluate_predictions(
        [p.true for p in predictions], [p.predicted for p in predictions], speakers=speakers
    )
    _check_same(evaluation, metrics["evaluation"], seed_folder / "metrics.json")
    if seeds is not None and not np.isclose(float(seeds["runs"][0]["accuracy"]), evaluation.accuracy, atol=1e-12):
        raise DataError(f"{folder / 'seeds.json'}: seed {headline_seed}'s accuracy differs from {seed_folder}.")

    train, test = load_japanese_vowels("train", path=data), load_japanese_vowels("test", path=data)
    if [p.true for p in predictions] != list(test.labels) or [p.n_frames for p in predictions] != list(test.lengths):
        raise DataError(
            f"{seed_folder / 'predictions.csv'}: its utterances are not those of the test set loaded "
            f"({test.sources[0].split(':')[0]}); pass the --data folder the run used."
        )
    metadata = read_bundle_metadata(seed_folder / "model") if (seed_folder / "model").exists() else None
    configuration = _configuration(
        metadata,
        mode=metrics.get("mode"),
        seed=metrics.get("seed"),
        epochs=metrics.get("epochs"),
        options=metrics.get("options"),
    )
    timing = {
        "train_seconds": metrics.get("train_seconds"),
        "predict_seconds": metrics.get("predict_seconds"),
        **_history_timing(history),
    }
    origin = {
        "kind": "run",
        "path": str(run),
        "data": None if data is None else str(data),
        "n_seeds": len(seeds["runs"]) if seeds else None,
        "seed": headline_seed if seeds else metrics.get("seed"),
        "epochs": metrics.get("epochs"),
        "mode": metrics.get("mode"),
    }
    report = Report(
        title=f"Japanese Vowels, MATLAB recipe ({metrics.get('mode')} mode)",
        origin=origin,
        evaluation=evaluation,
        interval=wilson_interval(evaluation.n - evaluation.n_errors, evaluation.n),
        predictions=tuple(predictions),
        history=history,
        dataset=[_summarise("training", train), _summarise("test", test)],
        configuration=configuration,
        versions={
            "trained with": (metadata or {}).get("library_versions"),
            "report written with": library_versions(REPORT_LIBRARIES),
        },
        machine={"trained on": metrics.get("machine"), "report written on": machine_summary()},
        timing=timing,
        seeds=seeds,
        headline_seed=headline_seed,
    )
    report.timing["report_seconds"] = round(time.perf_counter() - start, 3)
    return report


def report_from_model(model: str | os.PathLike[str], *, data: str | os.PathLike[str] | None = None) -> Report:
    """The report of a model bundle, re-scored now.

    Parameters
    ----------
    model : path-like
        A bundle written by ``vowels reproduce`` (Japanese Vowels) or ``vowels train``
        (recordings; its metadata holds a feature configuration).
    data : path-like, default=None
        For a Japanese Vowels bundle: the folder of the UCI files (None: ``$VOWELS_DATA`` or the
        bundled copy), whose test set is scored. For a recordings bundle (required): a folder
        ``DIR/<speaker>/*`` of recordings of enrolled speakers, as for ``vowels evaluate``.
    """
    start = time.perf_counter()
    metadata = read_bundle_metadata(Path(model))
    recordings = "features" in metadata
    if recordings:
        from .recordings import RecordingClassifier, load_speaker_folders

        if data is None:
            raise ParameterError(
                f"{model}: a model trained on recordings is scored on a folder of recordings; pass --data DIR "
                "(DIR/<speaker>/*)."
            )
        clf = RecordingClassifier.load(model)
        scored = load_speaker_folders(data, clf.features_, min_speakers=1).utterances
        strangers = sorted(set(scored.speakers) - set(clf.classes_))
        if strangers:
            raise DataError(f"{data}: speakers {strangers} are not enrolled in {model} ({list(clf.classes_)}).")
        t0 = time.perf_counter()
        probabilities = clf.predict_proba(scored.sequences)
        predict_seconds = time.perf_counter() - t0
        predicted = clf.answer(probabilities)
        speakers = [str(s) for s in clf.classes_]
        if "unknown" in set(predicted):
            speakers.append("unknown")
        evaluation = evaluate_predictions(scored.labels, predicted, speakers=speakers)
        dataset = [_summarise("scored", scored)]
        title = f"Recordings in {data}"
    else:
        from .classifier import SpeakerClassifier
        from .datasets import load_japanese_vowels
        from .tutorial import score_on_test_set

        scored = load_japanese_vowels("test", path=data)
        evaluation, predicted, probabilities, predict_seconds = score_on_test_set(SpeakerClassifier.load(model), scored)
        dataset = [_summarise("training", load_japanese_vowels("train", path=data)), _summarise("test", scored)]
        title = f"Japanese Vowels, model bundle ({metadata.get('params', {}).get('mode')} mode)"
    predictions = tuple(
        Prediction(
            i,
            scored.sources[i],
            len(scored.sequences[i]),
            str(scored.labels[i]),
            str(predicted[i]),
            float(probabilities[i].max()),
        )
        for i in range(len(scored))
    )
    bundle_metrics = metadata.get("metrics", {})
    report = Report(
        title=title,
        origin={"kind": "model", "path": str(model), "data": None if data is None else str(data)},
        evaluation=evaluation,
        interval=wilson_interval(evaluation.n - evaluation.n_errors, evaluation.n),
        predictions=predictions,
        history=None,
        dataset=dataset,
        configuration=_configuration(metadata, epochs=metadata.get("params", {}).get("options", {}).get("max_epochs")),
        versions={
            "trained with": metadata.get("library_versions"),
            "report written with": library_versions(REPORT_LIBRARIES),
        },
        machine={"trained on": metadata.get("machine"), "report written on": machine_summary()},
        timing={
            "train_seconds": bundle_metrics.get("train_seconds"),
            "predict_seconds": round(predict_seconds, 3),
            **_history_timing(None),
        },
    )
    report.timing["report_seconds"] = round(time.perf_counter() - start, 3)
    return report


# --- the document -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Figure:
    name: str
    png: bytes
    alt: str
    caption: str


Block = tuple[str, Any]


def _pct(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{100 * value:.{digits}f} %"


def _seconds(value: float | None) -> str:
    return "not recorded" if value is None else f"{value:.3f} s" if value < 1 else f"{value:.1f} s"


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _commands(report: Report, out: Path) -> list[str]:
    o = report.origin
    data = f" --data {o['data']}" if o.get("data") else ""
    if o["kind"] == "model":
        return [f"vowels report --model {o['path']}{data} --out {out} --force"]
    seeds = f" --seeds {o['n_seeds']}" if o.get("n_seeds") else ""
    reproduce = (
        f"vowels reproduce{seeds} --seed {o['seed']} --epochs {o['epochs']} --mode {o['mode']}{data} "
        f"--out {o['path']} --force"
    )
    return [f"{reproduce} && vowels report --run {o['path']}{data} --out {out} --force"]


def _seed_blocks(report: Report) -> list[Block]:
    seeds = report.seeds
    if not seeds:
        return []
    acc, runs = seeds["accuracy"], seeds["runs"]
    n_test = int(runs[0]["n_test"])
    errors = [int(r["n_errors"]) for r in runs]
    spread = acc["max"] - acc["min"]
    text = (
        f"**Seeds differ.** The same recipe trained with {acc['n_seeds']} seeds "
        f"({acc['seeds'][0]}–{acc['seeds'][-1]}) reached a mean test accuracy of {_pct(acc['mean'])}, standard "
        f"deviation {100 * acc['std']:.2f} points (sample, n − 1), from {_pct(acc['min'])} to {_pct(acc['max'])}: "
        f"a range of {100 * spread:.2f} points, {max(errors) - min(errors)} of the {n_test} test utterances "
        f"({min(errors)}–{max(errors)} errors). The seed changes only the initial weights (the batches are "
        f"sorted, never shuffled). The headline above is seed {report.headline_seed}, the first seed, fixed "
        "before training, not the best one."
    )
    rows = [
        [
            str(r["seed"]),
            _pct(r["accuracy"]),
            str(r["n_errors"]),
            f"{_pct(r['interval'][0], 1)} – {_pct(r['interval'][1], 1)}",
            _seconds(r.get("train_seconds")),
        ]
        for r in runs
    ]
    rows.append(["mean ± sd", f"{_pct(acc['mean'])} ± {100 * acc['std']:.2f} points", f"{np.mean(errors):.1f}", "", ""])
    return [
        ("h2", "Spread over seeds"),
        ("p", text),
        ("table", (["seed", "test accuracy", "errors", "95 % CI (Wilson)", "training time"], rows, "lrrrr")),
    ]


def _key_values(values: dict, prefix: str = "") -> list[list[str]]:
    rows = []
    for key, value in values.items():
        if isinstance(value, dict):
            rows += _key_values(value, f"{prefix}{key}.")
        elif isinstance(value, list):
            rows.append([f"{prefix}{key}", ", ".join(map(str, value))])
        else:
            rows.append([f"{prefix}{key}", "—" if value is None else str(value)])
    return rows


def _document(report: Report, out: Path) -> list[Block]:
    """The report as blocks: ("h1"|"h2"|"p"|"code", text), ("table", (header, rows, align)), ("figure", _Figure)."""
    from .plots import plot_confusion, plot_training_progress

    ev = report.evaluation
    low, high = report.interval
    o = report.origin
    what = (
        f"run folder `{o['path']}`"
        if o["kind"] == "run"
        else f"model bundle `{o['path']}`, re-scored when the report was written"
    )
    blocks: list[Block] = [
        ("h1", f"Accuracy report: {report.title}"),
        (
            "p",
            f"Written by `vowels report` (vowels {report.versions['report written with'].get('vowels')}) on "
            f"{report.created} from the {what}.",
        ),
        ("h2", "Result"),
        (
            "p",
            f"**Test accuracy: {_pct(ev.accuracy)}** ({ev.n - ev.n_errors} of {ev.n} utterances named "
            f"correctly, **{ev.n_errors} errors**). 95 % confidence interval: **{_pct(low)} – {_pct(high)}** "
            f"(Wilson score interval for a binomial proportion; it covers the finite test set, not the "
            f"choice of seed{' — see the spread over seeds below' if report.seeds else ''}).",
        ),
    ]
    blocks += _seed_blocks(report)
    per_speaker = [
        [name, f"{ev.precision[i]:.3f}", f"{ev.recall[i]:.3f}", f"{ev.f1[i]:.3f}", str(int(ev.support[i]))]
        for i, name in enumerate(ev.speakers)
    ]
    per_speaker.append(
        [
            "macro average",
            f"{np.mean(ev.precision):.3f}",
            f"{np.mean(ev.recall):.3f}",
            f"{np.mean(ev.f1):.3f}",
            str(int(np.sum(ev.support))),
        ]
    )
    blocks += [
        ("h2", "Per speaker"),
        (
            "p",
            "Precision: of the utterances given to this speaker, the share that were theirs. Recall: of this "
            "speaker's utterances, the share named correctly. Support: their utterances in the scored set.",
        ),
        ("table", (["speaker", "precision", "recall", "F1", "support"], per_speaker, "lrrrr")),
        ("h2", "Confusion matrix"),
        (
            "figure",
            _Figure(
                "confusion",
                _png(plot_confusion(ev, title="Test set")),
                "Confusion matrix",
                "Rows: true speaker; columns: predicted speaker; blank cells are zero. Right: per-speaker recall.",
            ),
        ),
        (
            "table",
            (
                ["true \\ predicted", *ev.speakers, "total"],
                [
                    [name, *(str(int(c)) for c in ev.confusion[i]), str(int(ev.confusion[i].sum()))]
                    for i, name in enumerate(ev.speakers)
                ],
                "l" + "r" * (len(ev.speakers) + 1),
            ),
        ),
        ("h2", "Training curve"),
    ]
    if report.history is not None and report.history.iteration_loss:
        h = report.history
        blocks += [
            (
                "figure",
                _Figure(
                    "training",
                    _png(plot_training_progress(h)),
                    "Training progress",
                    "Loss and mini-batch accuracy of every iteration, raw and smoothed.",
                ),
            ),
            (
                "p",
                f"Last epoch: mean loss {h.epoch_loss[-1]:.4f}, mean mini-batch accuracy "
                f"{_pct(h.epoch_accuracy[-1])} on the training batches.",
            ),
        ]
    else:
        blocks.append(
            (
                "p",
                "Not available: a model bundle keeps no training history. Report on the run folder "
                "(`vowels report --run DIR`) to see it.",
            )
        )
    wrong = report.misclassified
    blocks += [
        ("h2", f"Misclassified utterances ({len(wrong)})"),
        (
            "p",
            "Index: position in the scored set, from 0, in the order of the data file. Probability: what the "
            "model gave the speaker it chose.",
        ),
        (
            "table",
            (
                ["index", "source", "true", "predicted", "probability", "frames"],
                [[str(p.index), p.source, p.true, p.predicted, f"{p.probability:.3f}", str(p.n_frames)] for p in wrong],
                "rlllrr",
            ),
        )
        if wrong
        else ("p", "None."),
        ("h2", "Data set"),
        (
            "table",
            (
                ["split", "utterances", "speakers", "frames (min / median / max)", "features per frame"],
                [
                    [
                        d["split"],
                        str(d["utterances"]),
                        str(d["speakers"]),
                        f"{d['frames_min']} / {d['frames_median']:g} / {d['frames_max']}",
                        str(d["n_features"]),
                    ]
                    for d in report.dataset
                ],
                "lrrrr",
            ),
        ),
    ]
    if o["kind"] == "run" or "features" not in report.configuration:
        blocks.append(
            (
                "p",
                "Japanese Vowels (Kudo, Toyama and Shimbo 1999; UCI, CC BY 4.0): 12 LPC cepstrum "
                "coefficients per 6.4 ms frame. The test set is scored once; nothing was chosen on it.",
            )
        )
    blocks += [
        ("h2", "Configuration"),
        ("table", (["setting", "value"], _key_values(report.configuration), "ll")),
        ("h2", "Software"),
    ]
    trained = report.versions.get("trained with") or {}
    now = report.versions["report written with"]
    names = list(dict.fromkeys([*trained, *now]))
    blocks.append(
        (
            "table",
            (
                ["library", "trained with", "report written with"],
                [[n, trained.get(n, "not recorded"), now.get(n, "—")] for n in names],
                "lll",
            ),
        )
    )
    machine_then = report.machine.get("trained on") or {}
    machine_now = report.machine["report written on"]
    keys = list(dict.fromkeys([*machine_then, *machine_now]))
    t = report.timing
    blocks += [
        ("h2", "Machine and timing"),
        (
            "table",
            (
                ["", "trained on", "report written on"],
                [
                    [k, str(machine_then.get(k, "not recorded")) or "—", str(machine_now.get(k, "—")) or "—"]
                    for k in keys
                ],
                "lll",
            ),
        ),
        (
            "table",
            (
                ["what", "wall time"],
                [
                    ["training", _seconds(t.get("train_seconds"))],
                    ["one epoch (median)", _seconds(t.get("median_epoch_seconds"))],
                    ["first epoch (includes building the graph)", _seconds(t.get("first_epoch_seconds"))],
                    ["classifying the scored set", _seconds(t.get("predict_seconds"))],
                    ["building this report (without drawing)", _seconds(t.get("report_seconds"))],
                ],
                "lr",
            ),
        ),
        (
            "p",
            "Seconds are wall time and vary with the machine's load; accuracies repeat exactly for a seed on "
            "one machine and may differ slightly on another.",
        ),
        ("h2", "Regenerate"),
        (
            "p",
            "Retrain and rewrite this report, from the repository's root:"
            if o["kind"] == "run"
            else "Rewrite this report:",
        ),
    ]
    blocks += [("code", command) for command in _commands(report, out)]
    return blocks


# --- rendering --------------------------------------------------------------------------


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(blocks: list[Block]) -> str:
    """Markdown of the blocks; each figure is linked as ``<name>.png`` beside the file."""
    lines: list[str] = []
    for kind, value in blocks:
        if kind in ("h1", "h2"):
            lines += [f"{'#' * int(kind[1])} {value}", ""]
        elif kind == "p":
            lines += [value, ""]
        elif kind == "code":
            lines += ["```", value, "```", ""]
        elif kind == "figure":
            lines += [f"![{value.alt}]({value.name}.png)", "", f"*{value.caption}*", ""]
        elif kind == "table":
            header, rows, align = value
            lines.append("| " + " | ".join(_md_cell(h) for h in header) + " |")
            lines.append("|" + "|".join("---:" if a == "r" else "---" for a in align) + "|")
            lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _inline(text: str) -> str:
    """Escape `text` for HTML, then render ``code`` and **bold**."""
    escaped = html.escape(text, quote=False)
    escaped = re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped)
    return re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", escaped)


_CSS = """
body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1a1a1a;
       max-width: 62rem; margin: 2rem auto; padding: 0 1.5rem; }
h1 { font-size: 1.7rem; border-bottom: 2px solid #0072B2; padding-bottom: .3rem; }
h2 { font-size: 1.25rem; margin-top: 2.2rem; border-bottom: 1px solid #ddd; padding-bottom: .2rem; }
table { border-collapse: collapse; margin: .8rem 0 1.2rem; font-size: .92rem; }
th, td { border: 1px solid #d0d0d0; padding: .25rem .6rem; vertical-align: top; }
th { background: #f2f5f8; text-align: left; }
td.r, th.r { text-align: right; font-variant-numeric: tabular-nums; }
td.r { white-space: nowrap; }
tr:nth-child(even) td { background: #fafafa; }
code, pre { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: .88em; }
code { background: #f2f2f2; padding: 0 .2em; border-radius: 3px; }
pre { background: #f6f6f6; border: 1px solid #e0e0e0; padding: .7rem; white-space: pre-wrap;
      overflow-wrap: break-word; }
pre code { background: none; padding: 0; }
figure { margin: 1rem 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: .9rem; color: #555; }
""".strip()


def render_html(blocks: list[Block]) -> str:
    """One self-contained HTML page: CSS inline, figures as ``data:image/png;base64`` URIs.

    A Content-Security-Policy allowing only inline styles and ``data:`` images keeps a browser
    from making any request, even if a later edit slipped a link in.
    """
    title = next((v for k, v in blocks if k == "h1"), "vowels report")
    body: list[str] = []
    for kind, value in blocks:
        if kind in ("h1", "h2"):
            body.append(f"<{kind}>{_inline(value)}</{kind}>")
        elif kind == "p":
            body.append(f"<p>{_inline(value)}</p>")
        elif kind == "code":
            body.append(f"<pre><code>{html.escape(value, quote=False)}</code></pre>")
        elif kind == "figure":
            data = base64.b64encode(value.png).decode("ascii")
            body.append(
                f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(value.alt)}">'
                f"<figcaption>{_inline(value.caption)}</figcaption></figure>"
            )
        elif kind == "table":
            header, rows, align = value
            cls = [' class="r"' if a == "r" else "" for a in align]
            head = "".join(f"<th{c}>{_inline(h)}</th>" for h, c in zip(header, cls))
            rows_html = "".join(
                "<tr>" + "".join(f"<td{c}>{html.escape(cell, quote=False)}</td>" for cell, c in zip(row, cls)) + "</tr>"
                for row in rows
            )
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows_html}</tbody></table>")
    policy = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{policy}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(re.sub(r'[`*]', '', title))}</title>\n<style>\n{_CSS}\n</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


# --- writing ----------------------------------------------------------------------------


def check_report_free(out: str | os.PathLike[str], *, force: bool = False) -> Path:
    """Refuse an existing report in `out` unless `force`; prove `out` is writable. Returns `out`."""
    out = Path(out)
    for name in REPORT_FILES:
        check_free(out / name, force=force, what="report")
    check_writable(out)
    return out


def write_report(report: Report, out: str | os.PathLike[str], *, force: bool = False) -> list[Path]:
    """Write ``report.md`` with its PNG figures, ``report.json`` and ``report.html`` into `out`.

    Every file is written atomically; figures first, so the Markdown never links a missing one.
    An existing report is replaced only with `force`.

    Returns
    -------
    list of Path
        The files written.
    """
    out = check_report_free(out, force=force)
    blocks = _document(report, out)
    written = []
    for kind, value in blocks:
        if kind == "figure":
            write_bytes(out / f"{value.name}.png", value.png)
            written.append(out / f"{value.name}.png")
    write_json(out / "report.json", report.to_dict())
    write_text(out / "report.md", render_markdown(blocks))
    write_text(out / "report.html", render_html(blocks))
    return [*written, out / "report.json", out / "report.md", out / "report.html"]
