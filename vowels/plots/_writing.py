"""`vowels plot`: which figures can be drawn from what is given, and writing them to files.

Every input is read and checked before anything is drawn, so a bad one fails before any file
is written; each file is then written atomically (`vowels.bundle.write_bytes`).
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ParameterError
from ..training import TrainingOptions
from ..validation import check_choice
from ._names import DATA_FIGURES, FIGURES, FORMATS, MODEL_FIGURES, RECORDING_FIGURES, RUN_FIGURES
from ._openset import calibration_scores, plot_open_set
from ._padding_cost import load_padding_results, padding_cost
from ._recording import features_of, plot_recording, recording_data
from ._run import load_run, plot_confusion, plot_training_progress
from ._stream import plot_stream, stream_of_file
from ._tutorial import check_observation, plot_features, plot_padding, plot_sequence_lengths

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..bundle import BundleMetadata
    from ..evaluation import Evaluation
    from ..openset import OperatingPoint

__all__ = [
    "DATA_FIGURES",
    "FIGURES",
    "FORMATS",
    "MODEL_FIGURES",
    "RECORDING_FIGURES",
    "RUN_FIGURES",
    "write_figures",
]


def _evaluation_of_model(model: str | os.PathLike[str]) -> Evaluation:
    from ..datasets import load_japanese_vowels
    from ..ensemble import load_classifier
    from ..tutorial import score_on_test_set

    evaluation, *_ = score_on_test_set(load_classifier(model), load_japanese_vowels("test"))
    return evaluation


def _operating_point_of(metadata: BundleMetadata, model: str | os.PathLike[str]) -> tuple[OperatingPoint | None, str]:
    """The operating point in the metadata of bundle `model` (as `RecordingClassifier.load` reads it), or
    None and why not. No network is loaded."""
    from ..bundle import METADATA_FILE, bundle_entries
    from ..openset import OperatingPoint, ThresholdChoice

    if not metadata.trained_on_recordings:
        return None, "it was trained on Japanese Vowels sequences, which have no open-set scores"
    if not isinstance(metadata.entries.get("open_set"), dict):
        return None, "it was saved before open-set scoring; retrain it with 'vowels train DIR'"
    with bundle_entries(Path(model) / METADATA_FILE, "invalid open-set operating point or threshold choice"):
        point = metadata.open_set.get("operating_point")
        if point is not None:
            return OperatingPoint.from_dict(point), ""
        choice = ThresholdChoice.from_dict(metadata.open_set["threshold_choice"])
    if choice.how == "default":
        return None, f"its threshold was not calibrated ({choice.reason})"
    return None, "its threshold was given by hand, so no calibration scores were kept"


def write_figures(
    which: Sequence[str] | None,
    out: str | os.PathLike[str],
    *,
    fmt: str = "png",
    run: str | os.PathLike[str] | None = None,
    model: str | os.PathLike[str] | None = None,
    observation: int = 1,
    padding_results: str | os.PathLike[str] | None = None,
    audio: str | os.PathLike[str] | None = None,
    kind: str | None = None,
) -> tuple[list[Path], list[str]]:
    """Draw figures and write each to ``out/<name>.<fmt>`` atomically, replacing older ones.

    Parameters
    ----------
    which : sequence of str or None
        Names from `FIGURES`; None or empty means every figure possible with what is given:
        the data figures always, ``training`` with `run`, ``confusion`` with `run` or a
        Japanese Vowels `model`, ``recording`` with `audio`, ``open-set`` with a `model`
        trained on recordings whose threshold was calibrated.
    out : path-like
        Folder, created if needed.
    fmt : {"png", "svg", "pdf"}, default="png"
    run : path-like, default=None
        A `vowels reproduce` folder (``metrics.json``, ``history.json``).
    model : path-like, default=None
        A model bundle. Of a Japanese Vowels model: the confusion matrix is recomputed on the
        test set. Of a model trained on recordings: the recording figure uses its feature
        settings and normalisation, and the open-set figure draws the calibration scores its
        threshold was chosen from (held-out recordings of the training folder, each speaker
        left out in turn to play a stranger).
    observation : int, default=1
        Training utterance of the features figure, from 1.
    padding_results : path-like, default=None
        Output of ``scripts/padding_experiment.py``; None uses the project's, shipped with the package.
    audio : path-like, default=None
        The audio file of the recording figure.
    kind : {"mfcc", "lpcc"}, default=None
        Features of the recording figure, with `FeatureConfig` defaults; None is ``"mfcc"``,
        or the settings of a recordings `model`. Needs `audio`; not with a recordings `model`.

    Returns
    -------
    written : list of Path
    skipped : list of str
        One line per figure left out when drawing all, saying what it needs.

    Raises
    ------
    ParameterError
        An unknown name, format or kind, or a figure asked for by name whose input is missing.
    AudioError
        The audio file cannot be used (the message names it).
    """
    from ..bundle import check_writable, read_bundle, write_bytes
    from ..features import FeatureConfig

    check_choice(fmt, "format", FORMATS)
    unknown = [name for name in which or () if name not in FIGURES]
    if unknown:
        raise ParameterError(f"unknown figure {unknown[0]!r}; choose from {list(FIGURES)}.")
    if kind is not None and audio is None:
        raise ParameterError(
            f"kind={kind!r} sets the features of the recording figure; give its audio file too (--audio FILE)."
        )
    # Reading the bundle's metadata checks it (whole, untampered) before any figure is drawn.
    from ..ensemble import is_ensemble, read_ensemble_metadata

    ensemble = model is not None and is_ensemble(model)
    if ensemble:
        read_ensemble_metadata(Path(str(model)))  # checks every member before any figure is drawn
    metadata = read_bundle(model) if model is not None and not ensemble else None
    recordings_model = features_of(metadata, str(model)) if metadata is not None else None
    if kind is not None and recordings_model is not None:
        raise ParameterError(
            f"kind={kind!r} conflicts with the model {model}, trained on recordings: the recording "
            "figure uses the model's features; drop one of them (--kind or --model)."
        )
    explicit = bool(which)
    names = list(dict.fromkeys(which or ())) if explicit else list(FIGURES)
    jv_model = model is not None and recordings_model is None
    confusion_needs = "--run RUNDIR or --model BUNDLE"
    if recordings_model is not None:
        confusion_needs += f" of a Japanese Vowels model ({model} was trained on recordings)"
    point, missing_point = (None, "it is an ensemble")
    if metadata is not None:
        point, missing_point = _operating_point_of(metadata, str(model))
    open_set_needs = "--model BUNDLE of a model trained on recordings with a calibrated threshold"
    if model is not None and point is None:
        open_set_needs += f" ({model}: {missing_point})"
    architecture = metadata.architecture if metadata is not None else "ensemble"
    streams = recordings_model is not None and architecture == "lstm"
    stream_needs = "--audio FILE and --model BUNDLE of a forward-only model ('vowels train --architecture lstm')"
    if model is not None and not streams:
        stream_needs += f" ({model}: {architecture}, trained on {'recordings' if recordings_model else 'sequences'})"
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
            if explicit:
                raise ParameterError(f"figure {name!r} needs {needs[name][1]}.")
            skipped.append(f"skipped {name!r}: needs {needs[name][1]}")
            names.remove(name)
    # Read every input before drawing anything, so a bad one fails before any file is written.
    run_data = load_run(run) if run is not None else {}
    results = load_padding_results(padding_results) if "padding-cost" in names else None
    train = None
    if any(name in ("features", "lengths", "padding") for name in names):
        from ..datasets import load_japanese_vowels

        train = load_japanese_vowels("train")
        if "features" in names:
            check_observation(observation, len(train))
    recording = None
    if "recording" in names and audio is not None:
        config, preprocessing = recordings_model or (FeatureConfig(kind=kind or "mfcc"), None)
        recording = recording_data(audio, config, preprocessing=preprocessing)
    out = Path(out)
    check_writable(out)
    draw: dict[str, Callable[[], Figure]] = {
        "features": lambda: plot_features(train, observation=observation),
        "lengths": lambda: plot_sequence_lengths(train),
        "padding": lambda: plot_padding(train, batch_size=TrainingOptions().mini_batch_size),
        "padding-cost": lambda: padding_cost(results),
        "training": lambda: plot_training_progress(run_data["history"]),
        "confusion": lambda: plot_confusion(
            _evaluation_of_model(model) if model is not None and jv_model else run_data["metrics"]
        ),
    }
    if recording is not None:
        draw["recording"] = partial(plot_recording, recording)
    if "stream" in names and model is not None and audio is not None:
        draw["stream"] = partial(plot_stream, stream_of_file(model, audio))
    if point is not None:
        draw["open-set"] = partial(
            plot_open_set,
            *calibration_scores(point),
            title=f"Open-set calibration scores of {Path(str(model)).resolve().name} (threshold rule {point.rule})\n"
            "held-out recordings of the training folder, each speaker left out of training in turn "
            "to play a stranger",
        )
    written = []
    for name in names:
        figure = draw[name]()
        buffer = io.BytesIO()
        figure.savefig(buffer, format=fmt)
        path = out / f"{name}.{fmt}"
        write_bytes(path, buffer.getvalue())
        written.append(path)
    return written, skipped
