"""The tutorial's figures, headless: each function returns a `matplotlib.figure.Figure`.

Figures are built on `Figure` directly (no pyplot), so nothing global changes and no display
is needed. Colours are the Okabe-Ito palette and matrices use cividis, both readable with
the common colour-vision deficiencies. The numbers behind each figure come from a function
of their own (`padding_layout`, `padding_cost_table`, `epoch_starts`, `smooth`,
`confusion_data`), so they can be checked without reading pixels.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from .batching import PaddingStats, length_order, minibatch_indices, padding_stats
from .datasets import Utterances
from .errors import DataError, ParameterError
from .training import TrainingHistory, TrainingOptions

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .evaluation import Evaluation

__all__ = [
    "DATA_FIGURES",
    "FIGURES",
    "FORMATS",
    "FRAME_HOP_MS",
    "OKABE_ITO",
    "RUN_FIGURES",
    "ConfusionData",
    "PaddingLayout",
    "confusion_data",
    "default_padding_results",
    "epoch_starts",
    "load_padding_results",
    "load_run",
    "padding_cost",
    "padding_cost_table",
    "padding_layout",
    "plot_confusion",
    "plot_features",
    "plot_padding",
    "plot_sequence_lengths",
    "plot_training_progress",
    "smooth",
    "write_figures",
]

FRAME_HOP_MS = 6.4
"""Hop between Japanese Vowels frames, in ms (25.6 ms windows at 10 kHz, Kudo et al. 1999)."""

OKABE_ITO = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "green": "#009E73",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "sky": "#56B4E9",
    "yellow": "#F0E442",
    "black": "#000000",
}
"""Okabe & Ito (2008) colours, distinguishable with the common colour-vision deficiencies."""

_LINE_COLOURS = ("blue", "orange", "green", "vermillion", "purple", "sky")
MATRIX_CMAP = "cividis"
DPI = 150

DATA_FIGURES = ("features", "lengths", "padding", "padding-cost")
"""Figures drawn from the bundled data (and the committed padding experiment) alone."""
RUN_FIGURES = ("training", "confusion")
"""Figures that need a trained model: a run folder (`--run`) or a model bundle (`--model`)."""
FIGURES = DATA_FIGURES + RUN_FIGURES
FORMATS = ("png", "svg", "pdf")


def _figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def _training_set(utterances: Utterances | None) -> Utterances:
    from .datasets import load_japanese_vowels

    return load_japanese_vowels("train") if utterances is None else utterances


# --- features ---------------------------------------------------------------------------


def _check_observation(observation: int, n: int) -> None:
    if isinstance(observation, bool) or not isinstance(observation, (int, np.integer)) or not 1 <= observation <= n:
        raise ParameterError(f"observation must be a whole number from 1 to {n}; got {observation!r}.")


def plot_features(
    utterances: Utterances | None = None, *, observation: int = 1, hop_ms: float = FRAME_HOP_MS
) -> Figure:
    """The coefficients of one utterance over time, one line per feature (MATLAB's first figure).

    Parameters
    ----------
    utterances : Utterances, default=None
        None loads the Japanese Vowels training set.
    observation : int, default=1
        Which utterance, counted from 1 as in MATLAB ("training observation 1").
    hop_ms : float, default=6.4
        Time between frames, in ms, for the time axis on top.

    Returns
    -------
    matplotlib.figure.Figure
        One line per feature: x is the frame number (1-based), y the coefficient.
    """
    from matplotlib.ticker import MaxNLocator

    utterances = _training_set(utterances)
    _check_observation(observation, len(utterances))
    if not hop_ms > 0:
        raise ParameterError(f"hop_ms must be a number > 0 (ms); got {hop_ms!r}.")
    sequence = utterances.sequences[observation - 1]
    frames = np.arange(1, len(sequence) + 1)
    fig = _figure(8.5, 4.2)
    ax = fig.add_subplot()
    for k in range(sequence.shape[1]):
        colour = OKABE_ITO[_LINE_COLOURS[k % len(_LINE_COLOURS)]]
        style = "-" if k < len(_LINE_COLOURS) else "--"
        ax.plot(frames, sequence[:, k], style, color=colour, linewidth=1.6, label=f"Feature {k + 1}")
    speaker = utterances.labels[observation - 1]
    ax.set_title(f"Training observation {observation} (speaker {speaker}, {len(sequence)} frames)")
    ax.set_xlabel("Frame (time step)")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("LPC cepstrum coefficient")
    ax.set_xlim(frames[0], frames[-1] if len(frames) > 1 else frames[0] + 1)
    ax.grid(True, color="0.9")

    def frame_to_ms(frame: ArrayLike) -> np.ndarray:
        return (np.asarray(frame) - 1) * hop_ms

    def ms_to_frame(ms: ArrayLike) -> np.ndarray:
        return np.asarray(ms) / hop_ms + 1

    top = ax.secondary_xaxis("top", functions=(frame_to_ms, ms_to_frame))
    top.set_xlabel(f"Time (ms, frame start, {hop_ms:g} ms hop)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize="small")
    return fig


# --- sequence lengths -------------------------------------------------------------------


def plot_sequence_lengths(utterances: Utterances | None = None) -> Figure:
    """Bar charts of the sequence lengths (frames) before and after sorting by length.

    Returns
    -------
    matplotlib.figure.Figure
        Two axes: "before" bars are the lengths in the given order, "after" bars the same
        lengths in `batching.length_order`.
    """
    utterances = _training_set(utterances)
    lengths = utterances.lengths
    fig = _figure(9, 5.2)
    axes = fig.subplots(2, 1, sharey=True)
    for ax, values, title in (
        (axes[0], lengths, "Before sorting (as stored)"),
        (axes[1], lengths[length_order(lengths)], "After sorting by length"),
    ):
        ax.bar(np.arange(1, len(values) + 1), values, width=1.0, color=OKABE_ITO["blue"], linewidth=0)
        ax.set_title(title)
        ax.set_xlabel("Sequence")
        ax.set_ylabel("Length (frames)")
        ax.set_xlim(0.5, len(values) + 0.5)
        ax.grid(True, axis="y", color="0.9")
        ax.set_axisbelow(True)
    fig.suptitle(f"Lengths of the {len(lengths)} training sequences ({lengths.min()}–{lengths.max()} frames)")
    return fig


# --- padding ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PaddingLayout:
    """Sequences in batching order, with the padding each gets.

    Attributes
    ----------
    order : np.ndarray of int, shape (n_sequences,)
        Indices of the sequences in the order they are batched.
    lengths : np.ndarray of int, shape (n_sequences,)
        True length of each sequence in that order, in frames.
    padding : np.ndarray of int, shape (n_sequences,)
        Padding frames added to each, in that order.
    batch_starts : np.ndarray of int
        Position of the first sequence of each mini-batch.
    stats : PaddingStats
        From `batching.padding_stats`.
    """

    order: np.ndarray
    lengths: np.ndarray
    padding: np.ndarray
    batch_starts: np.ndarray
    stats: PaddingStats


def padding_layout(lengths: Sequence[int] | np.ndarray, *, batch_size: int = 27, sort: bool = True) -> PaddingLayout:
    """Where the padding goes when sequences of `lengths` (frames) are cut into mini-batches.

    Parameters
    ----------
    lengths : array-like of int, shape (n_sequences,)
    batch_size : int, default=27
    sort : bool, default=True
        Sort by length first (the tutorial), or batch in the given order.
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    stats = padding_stats(lengths, batch_size=batch_size, sort=sort)
    order = length_order(lengths) if sort else np.arange(len(lengths))
    ordered = lengths[order]
    batches = minibatch_indices(len(order), batch_size)
    padding = np.zeros_like(ordered)
    for positions, longest in zip(batches, stats.batch_lengths, strict=True):
        padding[positions] = longest - ordered[positions]
    starts = np.array([int(b[0]) for b in batches], dtype=np.int64)
    return PaddingLayout(order, ordered, padding, starts, stats)


def plot_padding(utterances: Utterances | None = None, *, batch_size: int = 27) -> Figure:
    """Mini-batches padded to their longest sequence, unsorted against sorted.

    Each bar is one sequence: its true length (frames) and, stacked on it, the padding its
    mini-batch adds; dashed lines separate the mini-batches. Each panel's title gives the
    padding as a fraction of all frames processed (`batching.padding_stats`).

    Returns
    -------
    matplotlib.figure.Figure
        Axes 0 unsorted (as stored), axes 1 sorted by length; each holds two bar containers,
        true lengths then padding.
    """
    utterances = _training_set(utterances)
    fig = _figure(9, 5.6)
    axes = fig.subplots(2, 1, sharey=True)
    for ax, sort, name in ((axes[0], False, "Unsorted (as stored)"), (axes[1], True, "Sorted by length")):
        layout = padding_layout(utterances.lengths, batch_size=batch_size, sort=sort)
        x = np.arange(1, len(layout.lengths) + 1)
        ax.bar(x, layout.lengths, width=1.0, color=OKABE_ITO["blue"], linewidth=0, label="true frames")
        ax.bar(x, layout.padding, bottom=layout.lengths, width=1.0, color=OKABE_ITO["orange"], linewidth=0,
               label="padding")
        for start in layout.batch_starts[1:]:
            ax.axvline(start + 0.5, color="black", linestyle="--", linewidth=0.8)
        stats = layout.stats
        ax.set_title(
            f"{name}: {stats.n_padded_frames} padding frames, "
            f"{100 * stats.padding_fraction:.1f} % of {stats.n_frames + stats.n_padded_frames} frames processed"
        )
        ax.set_xlabel(f"Sequence in batching order (dashed lines: mini-batches of {batch_size})")
        ax.set_ylabel("Frames")
        ax.set_xlim(0.5, len(x) + 0.5)
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside upper right", ncols=2, fontsize="small",
               frameon=False)
    fig.suptitle("Padding each mini-batch to its longest sequence")
    return fig


def default_padding_results() -> Path:
    """``reports/padding_experiment.json`` of the source tree this package runs from."""
    return Path(__file__).resolve().parent.parent / "reports" / "padding_experiment.json"


def load_padding_results(path: str | os.PathLike[str] | None = None) -> dict:
    """Read the JSON written by ``scripts/padding_experiment.py`` (default: the committed one)."""
    path = Path(path) if path is not None else default_padding_results()
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(
            f"{path}: no padding experiment results there; run "
            "'python scripts/padding_experiment.py --out FILE' or pass the committed reports/padding_experiment.json."
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"{path}: cannot be read as JSON ({exc}).") from None
    if not isinstance(results, dict) or results.get("format") != "vowels-padding-experiment" or not results.get("runs"):
        raise DataError(f"{path}: not the output of scripts/padding_experiment.py (format or runs missing).")
    return results


def padding_cost_table(results: dict) -> list[dict]:
    """One row per (order, padding direction), aggregated over seeds.

    Returns
    -------
    list of dict
        Keys: ``order``, ``padding``, ``seeds``, ``padded_frames`` (mean padding frames per
        training epoch), ``padding_fraction``, ``epoch_seconds`` (mean of each run's median
        seconds per epoch) with ``epoch_seconds_min``/``_max``, ``accuracy`` (mean test
        accuracy in [0, 1]) with ``accuracies`` (one per seed).
    """
    rows: dict[tuple[str, str], list[dict]] = {}
    try:
        for run in results["runs"]:
            rows.setdefault((run["order"], run["padding"]), []).append(run)
        table = []
        for (order, padding), runs in rows.items():
            seconds = [r["median_epoch_seconds"] for r in runs]
            table.append({
                "order": order,
                "padding": padding,
                "seeds": [r["seed"] for r in runs],
                "padded_frames": float(np.mean([r["train_padded_frames_per_epoch"] for r in runs])),
                "padding_fraction": float(np.mean([r["train_padding_fraction"] for r in runs])),
                "epoch_seconds": float(np.mean(seconds)),
                "epoch_seconds_min": float(min(seconds)),
                "epoch_seconds_max": float(max(seconds)),
                "accuracy": float(np.mean([r["test_accuracy"] for r in runs])),
                "accuracies": [float(r["test_accuracy"]) for r in runs],
            })
    except (KeyError, TypeError) as exc:
        raise DataError(
            f"padding experiment results lack an entry ({exc}); rerun scripts/padding_experiment.py."
        ) from None
    return table


def padding_cost(results: dict | str | os.PathLike[str] | None = None) -> Figure:
    """What padding costs: padding frames, seconds per epoch and test accuracy per variant.

    Parameters
    ----------
    results : dict or path-like, default=None
        Output of ``scripts/padding_experiment.py``; None reads the committed
        ``reports/padding_experiment.json``.

    Returns
    -------
    matplotlib.figure.Figure
        Three axes (padding frames per epoch, s per epoch, test accuracy in %), one bar per
        order and padding direction, in the order of `padding_cost_table`.
    """
    if not isinstance(results, dict):
        results = load_padding_results(results)
    table = padding_cost_table(results)
    orders = list(dict.fromkeys(row["order"] for row in table))
    directions = list(dict.fromkeys(row["padding"] for row in table))
    colours = {"right": OKABE_ITO["blue"], "left": OKABE_ITO["orange"]}
    hatches = {"right": "", "left": "//"}
    markers = {"right": "o", "left": "s"}
    width = 0.8 / len(directions)
    fig = _figure(11.5, 4.6)
    axes = fig.subplots(1, 3)
    for j, direction in enumerate(directions):
        rows = [next((r for r in table if r["order"] == o and r["padding"] == direction), None) for o in orders]
        x = np.arange(len(orders)) + (j - (len(directions) - 1) / 2) * width
        colour = colours.get(direction, OKABE_ITO["green"])
        label = f"{direction} padding"
        frames = [r["padded_frames"] if r else np.nan for r in rows]
        bars = axes[0].bar(x, frames, width=width, color=colour, hatch=hatches.get(direction, ""),
                           edgecolor="white", linewidth=0.5, label=label)
        axes[0].bar_label(bars, [f"{100 * r['padding_fraction']:.1f} %" if r else "" for r in rows],
                          fontsize="x-small", padding=2)
        seconds = [r["epoch_seconds"] if r else np.nan for r in rows]
        axes[1].bar(x, seconds, width=width, color=colour, hatch=hatches.get(direction, ""),
                    edgecolor="white", linewidth=0.5, label=label)
        low = [r["epoch_seconds"] - r["epoch_seconds_min"] if r else 0 for r in rows]
        high = [r["epoch_seconds_max"] - r["epoch_seconds"] if r else 0 for r in rows]
        axes[1].errorbar(x, seconds, yerr=[low, high], fmt="none", ecolor="black", capsize=3, linewidth=1)
        for xi, r in zip(x, rows, strict=True):
            if r:
                accuracies = 100 * np.asarray(r["accuracies"])
                axes[2].plot(np.full(len(accuracies), xi), accuracies, markers.get(direction, "^"), color=colour,
                             markersize=5, markeredgecolor="black", markeredgewidth=0.5, linestyle="none")
                axes[2].hlines(100 * r["accuracy"], xi - width / 2.5, xi + width / 2.5, color="black", linewidth=1.5)
    names = {"sorted": "sorted\nby length", "unsorted": "unsorted\n(random order)", "file": "unsorted\n(file order)"}
    titles = ("Padding frames per epoch\n(label: % of frames processed)", "Training time per epoch (s)\n"
              "median over epochs 2+; whiskers: seeds' min–max", "Test accuracy (%)\ndots: seeds; line: mean")
    for ax, title in zip(axes, titles, strict=True):
        ax.set_xticks(np.arange(len(orders)), [names.get(o, o) for o in orders])
        ax.set_title(title, fontsize="medium")
        ax.grid(True, axis="y", color="0.9")
        ax.set_axisbelow(True)
    axes[0].set_ylim(0, 1.15 * max(r["padded_frames"] for r in table))
    axes[0].legend(loc="upper left", fontsize="small")
    seeds = results.get("seeds", sorted({s for r in table for s in r["seeds"]}))
    fig.suptitle(
        f"What padding costs: {results.get('mode', '?')} mode, {results.get('epochs', '?')} epochs, "
        f"mini-batches of {results.get('mini_batch_size', '?')}, seeds {', '.join(map(str, seeds))}",
    )
    return fig


# --- training progress ------------------------------------------------------------------


def smooth(values: Sequence[float] | np.ndarray, *, weight: float = 0.6) -> np.ndarray:
    """Exponential moving average with start-up bias correction (TensorBoard's smoothing).

    MATLAB's training plot smooths too without documenting how; this is the common choice.
    ``weight`` in [0, 1): 0 returns the values unchanged.
    """
    if not 0 <= weight < 1:
        raise ParameterError(f"weight must be in [0, 1); got {weight!r}.")
    values = np.asarray(values, dtype=np.float64)
    out = np.empty_like(values)
    average = 0.0
    for i, value in enumerate(values):
        average = weight * average + (1 - weight) * value
        out[i] = average / (1 - weight ** (i + 1))
    return out


def epoch_starts(iteration_epoch: Sequence[int] | np.ndarray) -> np.ndarray:
    """Iteration numbers (1-based) at which each epoch begins."""
    epochs = np.asarray(iteration_epoch)
    if epochs.size == 0:
        return np.array([], dtype=np.int64)
    return np.flatnonzero(np.r_[True, epochs[1:] != epochs[:-1]]) + 1


def _history(source: TrainingHistory | dict | str | os.PathLike[str]) -> TrainingHistory:
    if isinstance(source, TrainingHistory):
        return source
    if isinstance(source, dict):
        return TrainingHistory.from_dict(source)
    return TrainingHistory.from_dict(load_run(source)["history"])


def plot_training_progress(history: TrainingHistory | dict | str | os.PathLike[str], *, weight: float = 0.6) -> Figure:
    """Mini-batch accuracy and loss of every iteration, raw and smoothed, epochs marked.

    Parameters
    ----------
    history : TrainingHistory, dict or path-like
        A `TrainingHistory`, the content of a run's ``history.json``, or a run folder.
    weight : float, default=0.6
        Smoothing weight of `smooth`.

    Returns
    -------
    matplotlib.figure.Figure
        Axes 0 accuracy (%), axes 1 loss; in each, line 0 is raw and line 1 smoothed, against
        the iteration number (1-based).
    """
    history = _history(history)
    if not history.iteration_loss:
        raise DataError("the training history is empty; a model loaded from a bundle has none, use its run folder.")
    iterations = np.arange(1, len(history.iteration_loss) + 1)
    starts = epoch_starts(history.iteration_epoch)
    n_epochs = len(starts)
    fig = _figure(10, 6)
    axes = fig.subplots(2, 1, sharex=True)
    series = (
        (axes[0], 100 * np.asarray(history.iteration_accuracy), "Mini-batch accuracy (%)", OKABE_ITO["blue"]),
        (axes[1], np.asarray(history.iteration_loss), "Loss (with L2 penalty)", OKABE_ITO["vermillion"]),
    )
    step = max(1, int(np.ceil(n_epochs / 20)))
    for ax, values, label, colour in series:
        ax.plot(iterations, values, color=colour, alpha=0.35, linewidth=0.8, label="raw")
        ax.plot(iterations, smooth(values, weight=weight), color=colour, linewidth=1.8,
                label=f"smoothed (EMA, weight {weight:g})")
        for k, start in enumerate(starts):
            if k % step == 0 and start > 1:
                ax.axvline(start - 0.5, color="0.75", linewidth=0.6, zorder=0)
        ax.set_ylabel(label)
        ax.legend(loc="center right", fontsize="small", framealpha=0.9)
        ax.grid(True, axis="y", color="0.92")
    axes[0].set_ylim(-2, 102)
    axes[1].set_ylim(bottom=0)
    axes[1].set_xlabel("Iteration (mini-batch)")
    axes[1].set_xlim(0.5, iterations[-1] + 0.5)
    marks = "every epoch" if step == 1 else f"every {step} epochs"
    axes[0].set_title(
        f"Training progress: {n_epochs} epochs, {len(iterations)} iterations (grey lines: {marks})"
    )
    if n_epochs > 1:
        per_epoch = len(iterations) / n_epochs
        top = axes[0].secondary_xaxis(
            "top", functions=(lambda i: (i - 0.5) / per_epoch, lambda e: e * per_epoch + 0.5)
        )
        top.set_xlabel("Epoch")
    return fig


# --- confusion matrix -------------------------------------------------------------------


@dataclass(frozen=True)
class ConfusionData:
    """A confusion matrix with its speaker names and per-speaker recall.

    Attributes
    ----------
    speakers : tuple of str
    confusion : np.ndarray of int, shape (n_speakers, n_speakers)
        Rows true speakers, columns predicted.
    recall : np.ndarray of float, shape (n_speakers,)
        Fraction of each speaker's utterances named correctly.
    accuracy : float
    """

    speakers: tuple[str, ...]
    confusion: np.ndarray
    recall: np.ndarray
    accuracy: float


def confusion_data(source: Evaluation | dict | str | os.PathLike[str]) -> ConfusionData:
    """The confusion matrix of an `Evaluation`, a ``metrics.json`` dict, or a run folder."""
    from .evaluation import Evaluation

    if isinstance(source, Evaluation):
        return ConfusionData(source.speakers, np.asarray(source.confusion), np.asarray(source.recall),
                             float(source.accuracy))
    metrics = source if isinstance(source, dict) else load_run(source)["metrics"]
    try:
        evaluation = metrics["evaluation"]
        speakers = tuple(str(s) for s in evaluation["speakers"])
        confusion = np.asarray(evaluation["confusion"], dtype=np.int64)
        recall = np.array([evaluation["per_speaker"][s]["recall"] for s in speakers], dtype=np.float64)
        accuracy = float(evaluation["accuracy"])
    except (KeyError, TypeError, ValueError) as exc:
        raise DataError(f"metrics lack the evaluation entry or part of it ({exc}); rerun vowels reproduce.") from None
    if confusion.shape != (len(speakers), len(speakers)):
        raise DataError(f"confusion matrix of shape {confusion.shape} does not match {len(speakers)} speakers.")
    return ConfusionData(speakers, confusion, recall, accuracy)


def plot_confusion(source: Evaluation | dict | str | os.PathLike[str], *, title: str = "Test set") -> Figure:
    """Confusion matrix (counts; rows true speaker, columns predicted) with per-speaker recall.

    Returns
    -------
    matplotlib.figure.Figure
        Axes 0 the matrix (an image of the counts, a text on each non-zero cell), axes 1 the recall of
        each speaker as horizontal bars (%), axes 2 the colour bar.
    """
    from matplotlib.colors import Normalize

    data = confusion_data(source)
    n = len(data.speakers)
    names = [f"Speaker {s}" if s.isdigit() else s for s in data.speakers]
    fig = _figure(8.8, 6.2)
    grid = fig.add_gridspec(1, 3, width_ratios=[n, 3.2, 0.35])
    ax, ax_recall, ax_bar = fig.add_subplot(grid[0]), fig.add_subplot(grid[1]), fig.add_subplot(grid[2])
    norm = Normalize(0, max(1, int(data.confusion.max())))
    image = ax.imshow(data.confusion, cmap=MATRIX_CMAP, norm=norm, aspect="equal")
    cmap = image.get_cmap()
    for (i, j), count in np.ndenumerate(data.confusion):
        if count == 0:
            continue  # blank, as MATLAB's confusionchart: the errors stand out
        red, green, blue, _ = cmap(norm(count))
        luminance = 0.2126 * red + 0.7152 * green + 0.0722 * blue
        ax.text(j, i, str(count), ha="center", va="center", fontsize="small",
                color="black" if luminance > 0.5 else "white")
    ax.set_xticks(range(n), names, rotation=45, ha="right", rotation_mode="anchor")
    ax.set_yticks(range(n), names)
    ax.set_xlabel("Predicted speaker")
    ax.set_ylabel("True speaker")
    total = int(data.confusion.sum())
    correct = int(np.trace(data.confusion))
    ax.set_title(f"{title}: accuracy {100 * data.accuracy:.2f} % ({correct}/{total})")

    y = np.arange(n)
    ax_recall.barh(y, 100 * data.recall, color=OKABE_ITO["blue"], height=0.7)
    for yi, value in zip(y, data.recall, strict=True):
        inside = value > 0.45
        ax_recall.text(100 * value + (-2 if inside else 2), float(yi), f"{100 * value:.1f}", va="center",
                       ha="right" if inside else "left", fontsize="small", color="white" if inside else "black")
    ax_recall.set_ylim(n - 0.5, -0.5)
    ax_recall.set_yticks(y, [""] * n)
    ax_recall.set_xlim(0, 100)
    ax_recall.set_xlabel("Recall (%)")
    ax_recall.set_title("Per-speaker recall", fontsize="medium")
    fig.colorbar(image, cax=ax_bar, label="Utterances")
    return fig


# --- run folders and writing ------------------------------------------------------------


def load_run(path: str | os.PathLike[str]) -> dict:
    """Read ``metrics.json`` and ``history.json`` of a `vowels reproduce` run folder.

    Returns
    -------
    dict
        ``{"metrics": ..., "history": ...}``.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise DataError(f"{folder}: no run folder there; make one with 'vowels reproduce --out {folder}'.")
    out = {}
    for key in ("metrics", "history"):
        file = folder / f"{key}.json"
        try:
            out[key] = json.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise DataError(f"{file}: missing; {folder} is not a complete 'vowels reproduce' run folder.") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DataError(f"{file}: cannot be read as JSON ({exc}).") from None
    return out


def _evaluation_of_model(model: str | os.PathLike[str]) -> Evaluation:
    from .classifier import SpeakerClassifier
    from .datasets import load_japanese_vowels
    from .tutorial import score_on_test_set

    evaluation, *_ = score_on_test_set(SpeakerClassifier.load(model), load_japanese_vowels("test"))
    return evaluation


def write_figures(
    which: Sequence[str] | None,
    out: str | os.PathLike[str],
    *,
    fmt: str = "png",
    run: str | os.PathLike[str] | None = None,
    model: str | os.PathLike[str] | None = None,
    observation: int = 1,
    padding_results: str | os.PathLike[str] | None = None,
) -> tuple[list[Path], list[str]]:
    """Draw figures and write each to ``out/<name>.<fmt>`` atomically, replacing older ones.

    Parameters
    ----------
    which : sequence of str or None
        Names from `FIGURES`; None or empty means every figure possible with what is given:
        the data figures always, ``training`` with `run`, ``confusion`` with `run` or `model`.
    out : path-like
        Folder, created if needed.
    fmt : {"png", "svg", "pdf"}, default="png"
    run : path-like, default=None
        A `vowels reproduce` folder (``metrics.json``, ``history.json``).
    model : path-like, default=None
        A model bundle; the confusion matrix is then recomputed on the test set.
    observation : int, default=1
        Training utterance of the features figure, from 1.
    padding_results : path-like, default=None
        Output of ``scripts/padding_experiment.py``; None uses the committed one.

    Returns
    -------
    written : list of Path
    skipped : list of str
        One line per figure left out when drawing all, saying what it needs.

    Raises
    ------
    ParameterError
        An unknown name or format, or a figure asked for by name whose input is missing.
    """
    from .bundle import check_writable, read_bundle_metadata, write_bytes

    if fmt not in FORMATS:
        raise ParameterError(f"format must be one of {list(FORMATS)}; got {fmt!r}.")
    unknown = [name for name in which or () if name not in FIGURES]
    if unknown:
        raise ParameterError(f"unknown figure {unknown[0]!r}; choose from {list(FIGURES)}.")
    explicit = bool(which)
    names = list(dict.fromkeys(which or ())) if explicit else list(FIGURES)
    needs = {
        "training": (run is not None, "--run RUNDIR (a 'vowels reproduce' folder; a model bundle keeps no history)"),
        "confusion": (run is not None or model is not None, "--run RUNDIR or --model BUNDLE"),
    }
    skipped = []
    for name in list(names):
        if name in needs and not needs[name][0]:
            if explicit:
                raise ParameterError(f"figure {name!r} needs {needs[name][1]}.")
            skipped.append(f"skipped {name!r}: needs {needs[name][1]}")
            names.remove(name)
    if "padding-cost" in names and not explicit and padding_results is None and not default_padding_results().is_file():
        skipped.append(f"skipped 'padding-cost': {default_padding_results()} not found; pass --padding-results FILE")
        names.remove("padding-cost")
    # Read every input before drawing anything, so a bad one fails before any file is written.
    run_data = load_run(run) if run is not None else {}
    if model is not None:
        read_bundle_metadata(Path(model))
    results = load_padding_results(padding_results) if "padding-cost" in names else None
    train = None
    if any(name in ("features", "lengths", "padding") for name in names):
        from .datasets import load_japanese_vowels

        train = load_japanese_vowels("train")
        if "features" in names:
            _check_observation(observation, len(train))
    out = Path(out)
    check_writable(out)
    draw = {
        "features": lambda: plot_features(train, observation=observation),
        "lengths": lambda: plot_sequence_lengths(train),
        "padding": lambda: plot_padding(train, batch_size=TrainingOptions().mini_batch_size),
        "padding-cost": lambda: padding_cost(results),
        "training": lambda: plot_training_progress(run_data["history"]),
        "confusion": lambda: plot_confusion(_evaluation_of_model(model) if model is not None else run_data["metrics"]),
    }
    written = []
    for name in names:
        figure = draw[name]()
        buffer = io.BytesIO()
        figure.savefig(buffer, format=fmt)
        path = out / f"{name}.{fmt}"
        write_bytes(path, buffer.getvalue())
        written.append(path)
    return written, skipped
