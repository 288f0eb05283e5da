"""Figures of the bundled Japanese Vowels data: one utterance's features, sequence lengths, padding."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..batching import PaddingStats, length_order, minibatch_indices, padding_stats
from ..datasets import Utterances
from ..validation import check_int, check_number
from ._style import LINE_COLOURS, OKABE_ITO, new_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["FRAME_HOP_MS", "PaddingLayout", "padding_layout", "plot_features", "plot_padding", "plot_sequence_lengths"]

FRAME_HOP_MS = 6.4
"""Hop between Japanese Vowels frames, in ms (25.6 ms windows at 10 kHz, Kudo et al. 1999)."""


def plot_features(utterances: Utterances, *, observation: int = 1, hop_ms: float = FRAME_HOP_MS) -> Figure:
    """The coefficients of one utterance over time, one line per feature (MATLAB's first figure).

    Parameters
    ----------
    utterances : Utterances
    observation : int, default=1
        Which utterance, counted from 1 as in MATLAB ("training observation 1").
    hop_ms : float, default=6.4
        Time between frames (ms), for the time axis on top.

    Returns
    -------
    matplotlib.figure.Figure
        One line per feature: x is the frame number (1-based), y the coefficient.
    """
    from matplotlib.ticker import MaxNLocator

    check_int(observation, "observation", high=len(utterances))
    check_number(hop_ms, "hop_ms", low=0, low_open=True, unit="ms")
    sequence = utterances.sequences[observation - 1]
    frames = np.arange(1, len(sequence) + 1)
    fig = new_figure(8.5, 4.2)
    ax = fig.add_subplot()
    for k in range(sequence.shape[1]):
        colour = OKABE_ITO[LINE_COLOURS[k % len(LINE_COLOURS)]]
        style = "-" if k < len(LINE_COLOURS) else "--"
        ax.plot(frames, sequence[:, k], style, color=colour, linewidth=1.6, label=f"Feature {k + 1}")
    speaker = utterances.labels[observation - 1]
    ax.set_title(f"Training observation {observation} (speaker {speaker}, {len(sequence)} frames)")
    ax.set(xlabel="Frame (time step)", ylabel="LPC cepstrum coefficient")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlim(frames[0], frames[-1] if len(frames) > 1 else frames[0] + 1)
    ax.grid(True, color="0.9")
    ms = (lambda f: (np.asarray(f) - 1) * hop_ms, lambda ms: np.asarray(ms) / hop_ms + 1)
    ax.secondary_xaxis("top", functions=ms).set_xlabel(f"Time (ms, frame start, {hop_ms:g} ms hop)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize="small")
    return fig


def plot_sequence_lengths(utterances: Utterances) -> Figure:
    """Bar charts of the sequence lengths (frames) before and after sorting by length.

    Returns
    -------
    matplotlib.figure.Figure
        Two axes: the lengths in the given order, then in `batching.length_order`.
    """
    lengths = utterances.lengths
    fig = new_figure(9, 5.2)
    axes = fig.subplots(2, 1, sharey=True)
    titles = ("Before sorting (as stored)", "After sorting by length")
    for ax, values, title in zip(axes, (lengths, lengths[length_order(lengths)]), titles):
        ax.bar(np.arange(1, len(values) + 1), values, width=1.0, color=OKABE_ITO["blue"], linewidth=0)
        ax.set(title=title, xlabel="Sequence", ylabel="Length (frames)", xlim=(0.5, len(values) + 0.5), axisbelow=True)
        ax.grid(True, axis="y", color="0.9")
    fig.suptitle(f"Lengths of the {len(lengths)} training sequences ({lengths.min()}–{lengths.max()} frames)")
    return fig


@dataclass(frozen=True)
class PaddingLayout:
    """Sequences in batching order, with the padding each gets.

    Attributes
    ----------
    order, lengths, padding : np.ndarray of int, shape (n_sequences,)
        Indices of the sequences in the order they are batched, their lengths and padding in frames.
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


def plot_padding(utterances: Utterances, *, batch_size: int = 27) -> Figure:
    """Mini-batches padded to their longest sequence, unsorted against sorted; dashed lines separate them.

    Returns
    -------
    matplotlib.figure.Figure
        Axes 0 unsorted (as stored), axes 1 sorted by length; each holds two bar containers, the true
        lengths then the padding stacked on them (frames), its title the padding's share of all frames.
    """
    fig = new_figure(9, 5.6)
    axes = fig.subplots(2, 1, sharey=True)
    for ax, sort, name in ((axes[0], False, "Unsorted (as stored)"), (axes[1], True, "Sorted by length")):
        layout = padding_layout(utterances.lengths, batch_size=batch_size, sort=sort)
        x = np.arange(1, len(layout.lengths) + 1)
        ax.bar(x, layout.lengths, width=1.0, color=OKABE_ITO["blue"], linewidth=0, label="true frames")
        orange = OKABE_ITO["orange"]
        ax.bar(x, layout.padding, bottom=layout.lengths, width=1.0, color=orange, linewidth=0, label="padding")
        for start in layout.batch_starts[1:]:
            ax.axvline(start + 0.5, color="black", linestyle="--", linewidth=0.8)
        stats = layout.stats
        processed = f"{100 * stats.padding_fraction:.1f} % of {stats.n_frames + stats.n_padded_frames} frames processed"
        ax.set_title(f"{name}: {stats.n_padded_frames} padding frames, {processed}")
        ax.set(xlabel=f"Sequence in batching order (dashed lines: mini-batches of {batch_size})", ylabel="Frames")
        ax.set_xlim(0.5, len(x) + 0.5)
    handles = axes[0].get_legend_handles_labels()
    fig.legend(*handles, loc="outside upper right", ncols=2, fontsize="small", frameon=False)
    fig.suptitle("Padding each mini-batch to its longest sequence")
    return fig
