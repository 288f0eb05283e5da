"""What `vowels plot` draws its figures from: which figures can be drawn from what is given, and their data
(a run, the training set, a model's scores, a recording's settings), read and checked before anything is drawn."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import AudioError, ParameterError
from ..features import FeatureConfig
from ..names import FIGURES

if TYPE_CHECKING:
    from ..bundle import BundleMetadata
    from ..datasets import Utterances
    from ..evaluation import Evaluation
    from ..openset import OperatingPoint
    from ..preprocessing import Preprocessing

__all__ = ["FigureSources", "figure_sources", "stream_of_file"]


@dataclass(frozen=True)
class FigureSources:
    """The figures to draw (`names`), those left out when drawing all with what each needs (`skipped`), and
    what each is drawn from (None where it is not drawn): the training set, a run's history, metrics or an
    `Evaluation`, (audio, `FeatureConfig`, preprocessing), `stream_of_file`'s answers, an `OperatingPoint`."""

    names: tuple[str, ...]
    skipped: tuple[str, ...]
    train: Utterances | None = None
    observation: int = 1
    padding_results: str | os.PathLike[str] | None = None
    history: dict | None = None
    confusion: Evaluation | dict | None = None
    recording: tuple[str | os.PathLike[str], FeatureConfig, Preprocessing | None] | None = None
    stream: dict[str, Any] | None = None
    open_set: tuple[OperatingPoint, str] | None = None


def _features_of(metadata: BundleMetadata, path: str | os.PathLike[str]) -> tuple[FeatureConfig, Preprocessing] | None:
    """The feature settings and preprocessing of the bundle at `path`; None for a Japanese Vowels bundle."""
    from ..bundle import METADATA_FILE, bundle_entries
    from ..preprocessing import Preprocessing

    if metadata.feature_config is None:
        return None
    with bundle_entries(Path(path) / METADATA_FILE, "missing or invalid recording settings"):
        return FeatureConfig.from_dict(metadata.feature_config), Preprocessing.from_dict(metadata.preprocessing)


def stream_of_file(
    model: str | os.PathLike[str], audio: str | os.PathLike[str], *, chunk_seconds: float = 0.1
) -> dict[str, Any]:
    """The answers of a forward-only recordings `model` as `audio` arrives, every `chunk_seconds`: the
    arguments of `vowels.plots.stream_data`."""
    from ..extraction import extract_files
    from ..recordings import RecordingClassifier

    classifier = RecordingClassifier.load(model, engine="fast")
    (sequence,), failures = extract_files([audio], classifier.feature_config_, dsp=classifier.dsp_)
    if sequence is None:
        raise AudioError(failures[0].message)
    seconds, probabilities = classifier.stream(sequence, chunk_seconds=chunk_seconds)
    title = (
        f"{Path(audio).name} as it arrives, every {chunk_seconds:g} s ({Path(model).resolve().name}, forward-only LSTM)"
    )
    classes = [str(c) for c in classifier.classes_]
    return {"seconds": seconds, "probabilities": probabilities, "classes": classes, "title": title}


def _operating_point(metadata: BundleMetadata, model: str | os.PathLike[str]) -> tuple[OperatingPoint | None, str]:
    """The operating point in the metadata of bundle `model`, or None and why not; no network is loaded."""
    from ..bundle import METADATA_FILE, bundle_entries
    from ..openset import OperatingPoint, ThresholdChoice

    if not metadata.trained_on_recordings:
        return None, "it was trained on Japanese Vowels sequences, which have no open-set scores"
    with bundle_entries(Path(model) / METADATA_FILE, "invalid open-set operating point or threshold choice"):
        point = metadata.open_set.get("operating_point")
        if point is not None:
            return OperatingPoint.from_dict(point), ""
        choice = ThresholdChoice.from_dict(metadata.open_set["threshold_choice"])
    if choice.how == "default":
        return None, f"its threshold was not calibrated ({choice.reason})"
    return None, "its threshold was given by hand, so no calibration scores were kept"


def figure_sources(
    which: Sequence[str] | None,
    *,
    run: str | os.PathLike[str] | None = None,
    model: str | os.PathLike[str] | None = None,
    observation: int = 1,
    padding_results: str | os.PathLike[str] | None = None,
    audio: str | os.PathLike[str] | None = None,
    kind: str | None = None,
) -> FigureSources:
    """The figures `which` asks for and everything they are drawn from, read and checked.

    Parameters
    ----------
    which : sequence of str or None
        Names from `vowels.names.FIGURES`; None or empty: every figure possible with what is given.
    run : path-like, default=None
        A `vowels reproduce` folder (``metrics.json``, ``history.json``): ``training``, ``confusion``.
    model : path-like, default=None
        A model bundle: of Japanese Vowels, ``confusion`` recomputed on the test set; of recordings,
        the features of ``recording``, the calibration scores of ``open-set`` and, forward-only, ``stream``.
    observation : int, default=1
        Training utterance of the features figure, from 1.
    padding_results : path-like, default=None
        Output of ``scripts/padding_experiment.py``; None: the one shipped with the package.
    audio : path-like, default=None
    kind : {"mfcc", "lpcc"}, default=None
        Features of the recording figure of `audio` (None: ``"mfcc"``); not with a recordings `model`.

    Raises
    ------
    ParameterError
        An unknown name or kind, or a figure asked for by name whose input is missing.
    BundleError
        The model bundle is incomplete, tampered with or invalid.
    """
    from ..datasets import load_japanese_vowels
    from ..runs import load_run
    from .models import open_model

    unknown = [name for name in which or () if name not in FIGURES]
    if unknown:
        raise ParameterError(f"unknown figure {unknown[0]!r}; choose from {list(FIGURES)}.")
    if kind is not None and audio is None:
        raise ParameterError(
            f"kind={kind!r} sets the features of the recording figure; give its audio file too (--audio FILE)."
        )
    opened = open_model(model) if model is not None else None
    metadata = opened.metadata if opened is not None and opened.kind != "ensemble" else None
    recordings_model = _features_of(metadata, str(model)) if metadata is not None else None
    if kind is not None and recordings_model is not None:
        raise ParameterError(
            f"kind={kind!r} conflicts with the model {model}, trained on recordings: the recording "
            "figure uses the model's features; drop one of them (--kind or --model)."
        )
    names = list(dict.fromkeys(which)) if which else list(FIGURES)
    jv_model = model is not None and recordings_model is None
    confusion_needs = "--run RUNDIR or --model BUNDLE"
    if recordings_model is not None:
        confusion_needs += f" of a Japanese Vowels model ({model} was trained on recordings)"
    point, missing_point = _operating_point(metadata, str(model)) if metadata else (None, "it is an ensemble")
    open_set_needs = "--model BUNDLE of a model trained on recordings with a calibrated threshold"
    if model is not None and point is None:
        open_set_needs += f" ({model}: {missing_point})"
    streams = opened is not None and opened.streams
    stream_needs = "--audio FILE and --model BUNDLE of a forward-only model ('vowels train --architecture lstm')"
    if opened is not None and not streams:
        architecture = opened.architecture
        slopes = (
            ", with appended slopes, which read frames ahead" if architecture == "lstm" and recordings_model else ""
        )
        stream_needs += (
            f" ({model}: {architecture}{slopes}, trained on {'recordings' if recordings_model else 'sequences'})"
        )
    needs = {
        "training": (run is not None, "--run RUNDIR (a 'vowels reproduce' folder; a model bundle keeps no history)"),
        "stream": (streams and audio is not None, stream_needs),
        "confusion": (run is not None or jv_model, confusion_needs),
        "recording": (audio is not None, "--audio FILE (a recording)"),
        "open-set": (point is not None, open_set_needs),
    }
    skipped = []
    for name in list(names):
        if name in needs and not needs[name][0]:
            if which:
                raise ParameterError(f"figure {name!r} needs {needs[name][1]}.")
            skipped.append(f"skipped {name!r}: needs {needs[name][1]}")
            names.remove(name)
    run_data = load_run(run) if run is not None else {}
    recording = None
    if "recording" in names and audio is not None:
        config, preprocessing = recordings_model or (FeatureConfig(kind=kind or "mfcc"), None)
        recording = (audio, config, preprocessing)
    confusion = None
    if "confusion" in names:
        confusion = opened.evaluate_test_set().evaluation if opened is not None and jv_model else run_data["metrics"]
    return FigureSources(
        names=tuple(names),
        skipped=tuple(skipped),
        train=load_japanese_vowels("train") if {"features", "lengths", "padding"} & set(names) else None,
        observation=observation,
        padding_results=padding_results,
        history=run_data.get("history"),
        confusion=confusion,
        recording=recording,
        stream=stream_of_file(model, audio) if "stream" in names and model is not None and audio is not None else None,
        open_set=(point, Path(str(model)).resolve().name) if point is not None and "open-set" in names else None,
    )
