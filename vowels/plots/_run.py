"""Figures of a trained run (a `vowels reproduce` folder, read by `vowels.runs.load_run`): training
progress from its history, the test set's confusion matrix."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import DataError
from ..training import TrainingHistory
from ..validation import check_number
from ._style import MATRIX_CMAP, OKABE_ITO, new_figure

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.axes._base import _AxesBase
    from matplotlib.figure import Figure
    from matplotlib.transforms import Bbox

    from ..evaluation import Evaluation

__all__ = ["ConfusionData", "confusion_data", "epoch_starts", "plot_confusion", "plot_training_progress", "smooth"]


def smooth(values: Sequence[float] | np.ndarray, *, weight: float = 0.6) -> np.ndarray:
    """Exponential moving average with start-up bias correction (TensorBoard's smoothing, as MATLAB's plot
    smooths without saying how); ``weight`` in [0, 1), 0 returns the values unchanged."""
    from scipy.signal import lfilter

    check_number(weight, "weight", low=0, high=1, high_open=True)
    values = np.asarray(values, dtype=np.float64)
    return lfilter([1 - weight], [1, -weight], values) / (1 - weight ** np.arange(1, len(values) + 1))


def epoch_starts(iteration_epoch: Sequence[int] | np.ndarray) -> np.ndarray:
    """Iteration numbers (1-based) at which each epoch begins."""
    epochs = np.asarray(iteration_epoch)
    return np.flatnonzero(np.diff(epochs, prepend=epochs[:1] - 1)) + 1


def plot_training_progress(history: TrainingHistory | dict, *, weight: float = 0.6) -> Figure:
    """Mini-batch accuracy and loss of every iteration, raw and smoothed, epochs marked.

    Parameters
    ----------
    history : TrainingHistory or dict
        A `TrainingHistory`, or the content of a run's ``history.json``.
    weight : float, default=0.6
        Smoothing weight of `smooth`.

    Returns
    -------
    matplotlib.figure.Figure
        Axes 0 accuracy (%), axes 1 loss; in each, line 0 raw and line 1 smoothed, against the iteration (from 1).
    """
    history = history if isinstance(history, TrainingHistory) else TrainingHistory.from_dict(history)
    if not history.iteration_loss:
        raise DataError("the training history is empty; a model loaded from a bundle has none, use its run folder.")
    iterations = np.arange(1, len(history.iteration_loss) + 1)
    starts = epoch_starts(history.iteration_epoch)
    n_epochs = len(starts)
    fig = new_figure(10, 6)
    axes = fig.subplots(2, 1, sharex=True)
    series = (
        (axes[0], 100 * np.asarray(history.iteration_accuracy), "Mini-batch accuracy (%)", OKABE_ITO["blue"]),
        (axes[1], np.asarray(history.iteration_loss), "Loss (with L2 penalty)", OKABE_ITO["vermillion"]),
    )
    step = max(1, int(np.ceil(n_epochs / 20)))
    for ax, values, label, colour in series:
        ax.plot(iterations, values, color=colour, alpha=0.35, linewidth=0.8, label="raw")
        smoothed = smooth(values, weight=weight)
        ax.plot(iterations, smoothed, color=colour, linewidth=1.8, label=f"smoothed (EMA, weight {weight:g})")
        for k, start in enumerate(starts):
            if k % step == 0 and start > 1:
                ax.axvline(start - 0.5, color="0.75", linewidth=0.6, zorder=0)
        ax.set_ylabel(label)
        ax.legend(loc="center right", fontsize="small", framealpha=0.9)
        ax.grid(True, axis="y", color="0.92")
    axes[0].set_ylim(-2, 102)
    axes[1].set(ylim=(0, None), xlabel="Iteration (mini-batch)", xlim=(0.5, iterations[-1] + 0.5))
    marks = "every epoch" if step == 1 else f"every {step} epochs"
    axes[0].set_title(f"Training progress: {n_epochs} epochs, {len(iterations)} iterations (grey lines: {marks})")
    if n_epochs > 1:
        per_epoch = len(iterations) / n_epochs
        top = axes[0].secondary_xaxis("top", functions=(lambda i: (i - 0.5) / per_epoch, lambda e: e * per_epoch + 0.5))
        top.set_xlabel("Epoch")
    return fig


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

    @property
    def rates(self) -> np.ndarray:
        """Row-normalised confusion, shape (n_speakers, n_speakers): cell (i, j) is the fraction of speaker
        i's utterances named j (a row of zeros for a speaker without utterances)."""
        counts = np.asarray(self.confusion, dtype=np.float64)
        totals = counts.sum(axis=1, keepdims=True)
        return np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)


def confusion_data(source: Evaluation | dict) -> ConfusionData:
    """The confusion matrix of an `Evaluation` or a ``metrics.json`` dict."""
    from ..evaluation import Evaluation

    if isinstance(source, Evaluation):
        confusion, recall = np.asarray(source.confusion), np.asarray(source.recall)
        return ConfusionData(source.speakers, confusion, recall, float(source.accuracy))
    try:
        evaluation = source["evaluation"]
        speakers = tuple(str(s) for s in evaluation["speakers"])
        confusion = np.asarray(evaluation["confusion"], dtype=np.int64)
        recall = np.array([evaluation["per_speaker"][s]["recall"] for s in speakers], dtype=np.float64)
        accuracy = float(evaluation["accuracy"])
    except (KeyError, TypeError, ValueError) as exc:
        raise DataError(f"metrics lack the evaluation entry or part of it ({exc}); rerun vowels reproduce.") from None
    if confusion.shape != (len(speakers), len(speakers)):
        raise DataError(f"confusion matrix of shape {confusion.shape} does not match {len(speakers)} speakers.")
    return ConfusionData(speakers, confusion, recall, accuracy)


def _rows_of(matrix: Axes) -> Callable[[_AxesBase, Any], Bbox]:
    """An axes locator that keeps an axes' width from the layout and gives it the height `matrix` has once
    its square cells (``aspect="equal"``) have shrunk it, so that bars drawn at y = 0..n-1 line up with its rows."""
    from matplotlib.transforms import Bbox

    def locate(axes: _AxesBase, renderer: Any) -> Bbox:
        matrix.apply_aspect()
        slot, rows = axes.get_position(original=True), matrix.get_position(original=False)
        return Bbox.from_extents(slot.x0, rows.y0, slot.x1, rows.y1)

    return locate


def plot_confusion(source: Evaluation | dict, *, title: str = "Test set") -> Figure:
    """Confusion matrix (rows true speaker, columns predicted) with per-speaker recall; each cell coloured by its
    fraction of the true speaker's utterances and labelled with its count, empty ones blank (as ``confusionchart``).

    Parameters
    ----------
    source : Evaluation or dict
        What `confusion_data` reads: an `Evaluation` or a ``metrics.json`` dict.
    title : str, default="Test set"
        Start of the matrix's title, followed by the accuracy.

    Returns
    -------
    matplotlib.figure.Figure
        Axes 0 the matrix (an image of `ConfusionData.rates`, zero cells masked, counts as texts), axes 1
        each speaker's recall (%) as a bar centred on its row, axes 2 the colour bar (fraction, 0 to 1).
    """
    from matplotlib.colors import Normalize

    data = confusion_data(source)
    n = len(data.speakers)
    names = [f"Speaker {s}" if s.isdigit() else s for s in data.speakers]
    fig = new_figure(8.8, 6.2)
    grid = fig.add_gridspec(1, 3, width_ratios=[n, 3.2, 0.35])
    ax, ax_recall, ax_bar = fig.add_subplot(grid[0]), fig.add_subplot(grid[1]), fig.add_subplot(grid[2])
    norm = Normalize(0, 1)
    rates = data.rates
    image = ax.imshow(np.ma.masked_where(data.confusion == 0, rates), cmap=MATRIX_CMAP, norm=norm, aspect="equal")
    cmap = image.get_cmap()
    for (i, j), count in np.ndenumerate(data.confusion):
        if count == 0:
            continue
        red, green, blue, _ = cmap(norm(rates[i, j]))
        ink = "black" if 0.2126 * red + 0.7152 * green + 0.0722 * blue > 0.5 else "white"
        ax.text(j, i, str(count), ha="center", va="center", fontsize="small", color=ink)
    ax.set_xticks(range(n), names, rotation=45, ha="right", rotation_mode="anchor")
    ax.set_yticks(range(n), names)
    ax.set(xlabel="Predicted speaker", ylabel="True speaker")
    counts = f"{int(np.trace(data.confusion))}/{int(data.confusion.sum())}"
    ax.set_title(f"{title}: accuracy {100 * data.accuracy:.2f} % ({counts})")

    y = np.arange(n)
    ax_recall.barh(y, 100 * data.recall, color=OKABE_ITO["blue"], height=0.7)
    for yi, value in zip(y, data.recall, strict=True):
        ha, ink, x = ("right", "white", 100 * value - 2) if value > 0.45 else ("left", "black", 100 * value + 2)
        ax_recall.text(x, float(yi), f"{100 * value:.1f}", va="center", ha=ha, fontsize="small", color=ink)
    ax_recall.set(ylim=(n - 0.5, -0.5), axes_locator=_rows_of(ax), xlim=(0, 100), xlabel="Recall (%)")
    ax_recall.set_yticks(y, [""] * n)
    ax_recall.set_title("Per-speaker recall", fontsize="medium")
    fig.colorbar(image, cax=ax_bar, label="Fraction of the true speaker's utterances (cells: counts)")
    ax_bar.set_axes_locator(_rows_of(ax))
    return fig
