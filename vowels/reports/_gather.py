"""A report's numbers from a run folder (recomputed from its predictions, checked against its own
``metrics.json`` and ``seeds.json``) or a model bundle (re-scored now); a disagreement is a `DataError`."""

from __future__ import annotations

import csv
import os
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..bundle import BundleMetadata, read_bundle
from ..errors import DataError, ParameterError
from ..evaluation import Evaluation, evaluate_predictions
from ..provenance import library_versions, machine_summary
from ..recipes import recipe_words
from ..training import TrainingHistory
from ._report import Prediction, Report, wilson_interval

if TYPE_CHECKING:
    from ..datasets import Utterances
    from ..evaluation import OpenSetEvaluation
    from ..extraction import Failure
    from ..openset import OperatingPoint

__all__ = ["report_from_model", "report_from_run"]

REPORT_LIBRARIES = ("vowels", "keras", "tensorflow", "numpy", "scipy", "scikit-learn", "matplotlib")
"""The libraries whose versions a report records."""


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
            index, n_frames, probability = int(row["index"]), int(row["n_frames"]), float(row["probability"])
            out.append(Prediction(index, row["source"], n_frames, row["true"], row["predicted"], probability))
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(f"{path}, line {line}: missing or invalid value ({exc}).") from None
    if not out:
        raise DataError(f"{path}: holds no predictions.")
    return out


def _dataset_row(split: str, n: int, speakers: int, unit: str, values: list, n_features: int) -> dict:
    """A row of `Report.dataset`: the least, median and most of `values` in `unit` (None each without values)."""
    spread = (min(values), float(np.median(values)), max(values)) if values else (None, None, None)
    row = {"split": split, "utterances": n, "speakers": speakers}
    return {**row, **dict(zip((f"{unit}_min", f"{unit}_median", f"{unit}_max"), spread)), "n_features": n_features}


def _summarise(split: str, utterances: Utterances) -> dict:
    lengths = [int(n) for n in utterances.lengths]
    return _dataset_row(split, len(utterances), len(set(utterances.labels)), "frames", lengths, utterances.n_features)


def _seconds_of(path: str) -> float | None:
    """A recording's duration in s from its header; None when libsndfile cannot tell."""
    import soundfile as sf

    try:
        return float(sf.info(path).duration)
    except (sf.LibsndfileError, RuntimeError, OSError, ValueError):
        return None


def _summarise_recordings(scored: OpenSetEvaluation, n_features: int) -> list[dict]:
    """One row each for the enrolled speakers' recordings and the strangers' (when there are any)."""
    rows = []
    for split, strangers in (("enrolled speakers", False), ("strangers", True)):
        chosen = [r for r in scored.rows if r["outcome"].startswith("stranger") == strangers]
        if not chosen:
            continue
        seconds = [s for s in (_seconds_of(r["source"]) for r in chosen) if s is not None]
        rows.append(_dataset_row(split, len(chosen), len({r["true"] for r in chosen}), "seconds", seconds, n_features))
    return rows


def _recordings_headline(scored: OpenSetEvaluation) -> tuple[Evaluation, tuple[Prediction, ...]]:
    """The closed-set evaluation and predictions of the enrolled speakers' recordings, else of the answers."""
    from ..names import UNKNOWN

    closed = scored.closed_set
    named = "answer" if closed is None else "nearest"
    predictions = tuple(
        Prediction(i, r["source"], None, UNKNOWN if closed is None else r["true"], r[named], float(r["probability"]))
        for i, r in enumerate(scored.rows)
        if closed is None or r["true"] in closed.speakers
    )
    if closed is not None:
        return closed, predictions
    answers = [p.predicted for p in predictions]
    speakers = [UNKNOWN, *sorted(set(answers) - {UNKNOWN})]
    with warnings.catch_warnings():  # every stranger rejected: a 1 x 1 confusion matrix, as meant
        warnings.filterwarnings("ignore", message="A single label was found", category=UserWarning)
        evaluation = evaluate_predictions([UNKNOWN] * len(answers), answers, speakers=speakers)
    return evaluation, predictions


def _open_set(
    scored: OpenSetEvaluation, metadata: BundleMetadata, point: OperatingPoint | None, failures: list[Failure]
) -> dict:
    """`Report.open_set` of a folder scored by a recordings model."""
    outcomes = [r["outcome"] for r in scored.rows]
    kinds = ("correct", "misnamed", "rejected", "stranger rejected", "stranger accepted")
    return {
        **scored.to_dict(),
        "counts": {kind: outcomes.count(kind) for kind in kinds},
        "genuine": [float(x) for x in scored.genuine],
        "impostor": [float(x) for x in scored.impostor],
        "scoring": metadata.open_set.get("scoring"),
        "threshold_choice": metadata.open_set.get("threshold_choice"),
        "operating_point": None if point is None else point.to_dict(),
        "skipped": [{"path": f.path, "message": f.message} for f in failures],
    }


def _configuration(metadata: BundleMetadata | None, **known: Any) -> dict:
    config = {k: v for k, v in known.items() if v is not None}
    if metadata:
        params = metadata.params
        if metadata.architecture != "bilstm":
            config.setdefault("architecture", metadata.architecture)
        config.setdefault("mode", metadata.mode)
        config.setdefault("seed", params.get("random_state"))
        config |= {"hidden_units": params.get("n_hidden"), "sort_by_length": params.get("sort_by_length")}
        config |= {"n_features": metadata.n_features, "speakers": list(metadata.classes)}
        config.setdefault("options", params.get("options"))
        if metadata.feature_config is not None:
            from ..features import FeatureConfig

            config["features"] = FeatureConfig.from_dict(metadata.feature_config).to_dict()
            config["unknown_threshold"] = metadata.unknown_threshold
    return config


def _assemble(start: float, *, evaluation: Evaluation, timing: dict, trained: tuple, **fields: Any) -> Report:
    """The `Report` of `fields` plus its Wilson interval, versions and machines (`trained`, now) and times."""
    epochs = fields["history"].epoch_seconds if fields["history"] is not None else []
    timing = {
        **timing,
        "median_epoch_seconds": float(np.median(epochs)) if epochs else None,
        "first_epoch_seconds": float(epochs[0]) if epochs else None,
    }
    report = Report(
        evaluation=evaluation,
        interval=wilson_interval(evaluation.n - evaluation.n_errors, evaluation.n),
        versions={"trained with": trained[0], "report written with": library_versions(REPORT_LIBRARIES)},
        machine={"trained on": trained[1], "report written on": machine_summary()},
        timing=timing,
        **fields,
    )
    report.timing["report_seconds"] = round(time.perf_counter() - start, 3)
    return report


def report_from_run(run: str | os.PathLike[str], *, data: str | os.PathLike[str] | None = None) -> Report:
    """The report of a ``vowels reproduce`` folder (one seed, or ``--seeds N``).

    Parameters
    ----------
    run : path-like
        A folder with ``metrics.json``, ``history.json``, ``predictions.csv`` and ``model/``, or a multi-seed
        folder with ``seeds.json`` and one such folder per seed (the headline is the first seed's).
    data : path-like, default=None
        Folder of the UCI files the run used (its test set must match the run's predictions); None uses
        ``$VOWELS_DATA`` or the bundled copy.

    Raises
    ------
    DataError
        A file is missing or malformed, or the run's numbers disagree with its predictions.
    """
    from ..datasets import load_japanese_vowels
    from ..runs import check_seed_runs, load_run, read_run_json

    start = time.perf_counter()
    folder = Path(run)
    if not folder.is_dir():
        raise DataError(f"{folder}: no run folder there; make one with 'vowels reproduce --out {folder}'.")
    seeds, headline_seed, seed_folder = None, None, folder
    if (folder / "seeds.json").is_file():
        seeds = read_run_json(folder / "seeds.json", folder)
        try:
            headline_seed, seed_folder = int(seeds["runs"][0]["seed"]), folder / str(seeds["runs"][0]["folder"])
            for entry in seeds["runs"]:
                n = int(entry["n_test"])
                entry["interval"] = list(wilson_interval(n - int(entry["n_errors"]), n))
            check_seed_runs(folder, seeds)
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
            raise DataError(f"{folder / 'seeds.json'}: missing or invalid entry ({exc}).") from None
    loaded = load_run(seed_folder)
    metrics, history = loaded["metrics"], TrainingHistory.from_dict(loaded["history"])
    predictions = _read_predictions(seed_folder / "predictions.csv")
    try:
        speakers = metrics["evaluation"]["speakers"]
    except (KeyError, TypeError) as exc:
        raise DataError(f"{seed_folder / 'metrics.json'}: no evaluation entry ({exc}).") from None
    truth = [p.true for p in predictions]
    evaluation = evaluate_predictions(truth, [p.predicted for p in predictions], speakers=speakers)
    recorded, where = metrics["evaluation"], seed_folder / "metrics.json"
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
    if seeds is not None and not np.isclose(float(seeds["runs"][0]["accuracy"]), evaluation.accuracy, atol=1e-12):
        raise DataError(f"{folder / 'seeds.json'}: seed {headline_seed}'s accuracy differs from {seed_folder}.")

    train, test = load_japanese_vowels("train", path=data), load_japanese_vowels("test", path=data)
    if truth != list(test.labels) or [p.n_frames for p in predictions] != list(test.lengths):
        raise DataError(
            f"{seed_folder / 'predictions.csv'}: its utterances are not those of the test set loaded "
            f"({test.sources[0].split(':')[0]}); pass the --data folder the run used."
        )
    metadata = read_bundle(seed_folder / "model") if (seed_folder / "model").exists() else None
    return _assemble(
        start,
        title=f"Japanese Vowels, {recipe_words(metrics.get('recipe', 'matlab'), metrics.get('mode'))}",
        origin={
            "kind": "run",
            "path": str(run),
            "data": None if data is None else str(data),
            "n_seeds": len(seeds["runs"]) if seeds else None,
            "seed": headline_seed if seeds else metrics.get("seed"),
            "recipe": metrics.get("recipe", "matlab"),
            "epochs": None if "recipes" in (metrics.get("classifier") or {}) else metrics.get("epochs"),
            "mode": metrics.get("mode"),
        },
        evaluation=evaluation,
        predictions=tuple(predictions),
        history=history,
        dataset=[_summarise("training", train), _summarise("test", test)],
        configuration=_configuration(metadata, **{k: metrics.get(k) for k in ("mode", "seed", "epochs", "options")}),
        trained=(metadata.entries.get("library_versions") if metadata else None, metrics.get("machine")),
        timing={"train_seconds": metrics.get("train_seconds"), "predict_seconds": metrics.get("predict_seconds")},
        seeds=seeds,
        headline_seed=headline_seed,
    )


def report_from_model(model: str | os.PathLike[str], *, data: str | os.PathLike[str] | None = None) -> Report:
    """The report of a model bundle, re-scored now.

    Parameters
    ----------
    model : path-like
        A bundle written by ``vowels reproduce`` (Japanese Vowels) or ``vowels train`` (recordings).
    data : path-like, default=None
        For a Japanese Vowels bundle, the folder of the UCI files (None: ``$VOWELS_DATA`` or the bundled
        copy). For a recordings bundle (required), a folder ``DIR/<speaker>/*`` as for ``vowels evaluate``;
        speakers the model does not know are strangers (`Report.open_set`).
    """
    from ..workflows.models import open_model

    start = time.perf_counter()
    opened = open_model(model)
    ensemble, metadata = opened.ensemble, opened.metadata or read_bundle(model)  # voiceprints: "not a bundle"
    open_set = None
    if opened.kind == "recordings":
        if data is None:
            raise ParameterError(
                f"{model}: a model trained on recordings is scored on a folder of recordings; pass --data DIR "
                "(DIR/<speaker>/*)."
            )
        clf: Any = opened.load_recordings(engine="keras")
        t0 = time.perf_counter()
        scored_folder, failures = clf.evaluate_folder(data)
        predict_seconds = time.perf_counter() - t0
        evaluation, predictions = _recordings_headline(scored_folder)
        dataset = _summarise_recordings(scored_folder, clf.feature_config_.n_features)
        open_set = _open_set(scored_folder, metadata, clf.operating_point_, failures)
        title = f"Recordings in {data}"
    else:
        from ..datasets import load_japanese_vowels

        scored, evaluation, predicted, probabilities, predict_seconds = opened.evaluate_test_set(data)
        dataset = [_summarise("training", load_japanese_vowels("train", path=data)), _summarise("test", scored)]
        network = f"{metadata.mode} mode" if metadata.mode is not None else f"{metadata.architecture} network"
        title = f"Japanese Vowels, model bundle ({network})"
        if ensemble:
            title = f"Japanese Vowels, ensemble of recipes {' and '.join(ensemble['recipes'])} ({ensemble['rule']})"
        predictions = tuple(
            Prediction(i, source, len(sequence), str(label), str(predicted[i]), float(probabilities[i].max()))
            for i, (source, sequence, label) in enumerate(zip(scored.sources, scored.sequences, scored.labels))
        )
    return _assemble(
        start,
        title=title,
        origin={"kind": "model", "path": str(model), "data": None if data is None else str(data)},
        evaluation=evaluation,
        predictions=predictions,
        history=None,
        dataset=dataset,
        configuration=_configuration(metadata, epochs=metadata.options.get("max_epochs"))
        if ensemble is None
        else {"ensemble": ensemble["recipes"], "rule": ensemble["rule"], "seed": ensemble["random_state"]},
        trained=(metadata.entries.get("library_versions"), metadata.entries.get("machine")),
        timing={"train_seconds": metadata.metrics.get("train_seconds"), "predict_seconds": round(predict_seconds, 3)},
        open_set=open_set,
    )
