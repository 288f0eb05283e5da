"""The streaming figure: each speaker's probability as the frames of one utterance arrive, the answers of a
forward-only LSTM after every chunk (`vowels.inference.FastClassifier.stream_proba`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..errors import ParameterError
from ._style import LINE_COLOURS, OKABE_ITO, new_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["StreamData", "plot_stream", "stream_data"]

SHOWN_SPEAKERS = len(LINE_COLOURS)
"""Speakers drawn in colour, those with the highest probability at any point; the rest are grey."""


@dataclass(frozen=True)
class StreamData:
    """The numbers behind `plot_stream`.

    Attributes
    ----------
    seconds : np.ndarray of float, shape (n_chunks,)
        Time at the end of each chunk, from the utterance's start.
    probabilities : np.ndarray of float, shape (n_chunks, n_classes)
        Each speaker's probability after that chunk.
    classes : tuple of str
    title : str
    """

    seconds: np.ndarray
    probabilities: np.ndarray
    classes: tuple[str, ...]
    title: str

    @property
    def answers(self) -> list[str]:
        """The most probable speaker after each chunk."""
        return [self.classes[i] for i in np.argmax(self.probabilities, axis=1)]

    @property
    def settled_at(self) -> float:
        """The time from which the answer no longer changes (the first chunk's end if it never does)."""
        changes = np.flatnonzero(np.diff(np.argmax(self.probabilities, axis=1)))
        return float(self.seconds[changes[-1] + 1 if len(changes) else 0])


def stream_data(seconds: np.ndarray, probabilities: np.ndarray, classes: Sequence[str], *, title: str) -> StreamData:
    """`StreamData` from the times answers were given and `stream_proba`'s rows, checked to fit together."""
    seconds = np.asarray(seconds, dtype=float)
    probabilities = np.asarray(probabilities, dtype=float)
    if probabilities.ndim != 2 or probabilities.shape[1] != len(classes) or not len(probabilities):
        raise ParameterError(
            f"probabilities must have shape (n_chunks, {len(classes)}) with at least one chunk; "
            f"got {probabilities.shape}."
        )
    if seconds.shape != (len(probabilities),) or np.any(np.diff(seconds) <= 0):
        raise ParameterError(f"seconds must be {len(probabilities)} increasing times, one per answer.")
    return StreamData(seconds, probabilities, tuple(str(c) for c in classes), title)


def plot_stream(data: StreamData) -> Figure:
    """Each speaker's probability against time, the final answer and when it settled marked."""
    fig = new_figure(7.5, 3.8)
    ax = fig.add_subplot()
    peak = data.probabilities.max(axis=0)
    shown = list(np.argsort(-peak, kind="stable")[:SHOWN_SPEAKERS])
    for k, name in enumerate(data.classes):
        if k in shown:
            colour = OKABE_ITO[LINE_COLOURS[shown.index(k)]]
            ax.step(data.seconds, data.probabilities[:, k], where="post", color=colour, lw=1.8, label=name)
            ax.plot(data.seconds, data.probabilities[:, k], "o", color=colour, ms=3)
        else:
            ax.step(data.seconds, data.probabilities[:, k], where="post", color="#BBBBBB", lw=0.8)
    ax.axvline(data.settled_at, color=OKABE_ITO["black"], ls=":", lw=1)
    late = data.settled_at > 0.6 * data.seconds[-1]
    ax.annotate(
        f"answer {data.answers[-1]} from {data.settled_at:.2f} s",
        xy=(data.settled_at, 0.5),
        xytext=(-4 if late else 4, 0),
        textcoords="offset points",
        ha="right" if late else "left",
        fontsize=8,
        bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": "none", "alpha": 0.8},
    )
    ax.set(xlim=(0, data.seconds[-1] * 1.02), ylim=(0, 1.05), ylabel="probability")
    ax.set_xlabel("time since the start of the recording (s)")
    hidden = len(data.classes) - len(shown)
    ax.set_title(data.title + (f" ({hidden} more speakers in grey)" if hidden > 0 else ""), fontsize=10)
    ax.legend(title="speaker", fontsize=8, title_fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    ax.grid(alpha=0.3)
    return fig
