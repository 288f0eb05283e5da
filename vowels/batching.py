"""MATLAB-style mini-batches: sort by length, cut into batches, pad each to its longest."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import ParameterError
from .validation import check_choice, check_int

__all__ = [
    "PADDING_DIRECTIONS",
    "PaddingStats",
    "batching_of",
    "length_order",
    "minibatch_indices",
    "pad_batch",
    "padded_batches",
    "predict_in_batches",
    "padding_stats",
]

PADDING_DIRECTIONS = ("right", "left")


def batching_of(options: Mapping[str, Any]) -> dict[str, Any]:
    """Batch size, padding side and value of training options (`vowels.training.TrainingOptions.to_dict`,
    a bundle's ``options``), checked, as `padded_batches` and `predict_in_batches` take them."""
    check_int(options["mini_batch_size"], "batch_size")
    check_choice(options["sequence_padding_direction"], "padding", PADDING_DIRECTIONS)
    return {
        "batch_size": options["mini_batch_size"],
        "padding": options["sequence_padding_direction"],
        "value": float(options["sequence_padding_value"]),
    }


def length_order(lengths: Sequence[int] | np.ndarray) -> np.ndarray:
    """Indices that sort sequences by ascending length, ties kept in their order (MATLAB `sort`)."""
    return np.argsort(np.asarray(lengths), kind="stable")


def minibatch_indices(n: int, batch_size: int, *, drop_last: bool = False) -> list[np.ndarray]:
    """Consecutive index ranges of `batch_size`; the short last one is kept unless `drop_last` (as MATLAB's
    `trainNetwork` drops it; prediction keeps it)."""
    check_int(batch_size, "batch_size")
    stop = n - n % batch_size if drop_last else n
    return [np.arange(start, min(start + batch_size, stop)) for start in range(0, stop, batch_size)]


def pad_batch(
    sequences: Sequence[np.ndarray],
    *,
    padding: str = "right",
    value: float = 0.0,
    length: int | None = None,
) -> np.ndarray:
    """Stack sequences of shape (n_frames, n_features) into one float32 array (batch, length, n_features).

    Parameters
    ----------
    sequences : sequence of np.ndarray
    padding : {"right", "left"}, default="right"
        Where the padding frames go: after the sequence (MATLAB's default) or before it.
    value : float, default=0.0
    length : int, default=None
        Frames per padded sequence; None pads to the longest in the batch. Longer sequences
        are truncated on the same side as the padding (MATLAB's ``SequenceLength``).
    """
    check_choice(padding, "padding", PADDING_DIRECTIONS)
    if not sequences:
        raise ParameterError("pad_batch needs at least one sequence; got an empty batch.")
    target = max(len(s) for s in sequences) if length is None else int(length)
    out = np.full((len(sequences), target, sequences[0].shape[1]), value, dtype=np.float32)
    for row, seq in enumerate(sequences):
        if padding == "right":
            out[row, : min(len(seq), target)] = seq[:target]
        else:
            out[row, target - min(len(seq), target) :] = seq[max(0, len(seq) - target) :]
    return out


def padded_batches(
    sequences: Sequence[np.ndarray],
    *,
    batch_size: int,
    padding: str = "right",
    value: float = 0.0,
    sort: bool = True,
    drop_last: bool = False,
    order: np.ndarray | None = None,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each mini-batch's original indices and padded array, in `order` if given, else by ascending length
    when `sort`, else as given."""
    if order is None:
        order = length_order([len(s) for s in sequences]) if sort else np.arange(len(sequences))
    return [
        (order[positions], pad_batch([sequences[i] for i in order[positions]], padding=padding, value=value))
        for positions in minibatch_indices(len(order), batch_size, drop_last=drop_last)
    ]


def predict_in_batches(
    predict: Callable[[np.ndarray], np.ndarray],
    sequences: Sequence[np.ndarray],
    *,
    n_outputs: int,
    batch_size: int,
    padding: str = "right",
    value: float = 0.0,
    sort: bool = True,
) -> np.ndarray:
    """`predict` (a padded batch -> its rows of `n_outputs`) over `padded_batches`, rows in input order (MATLAB's
    ``classify(net, X, MiniBatchSize=..., SequenceLength="longest")``)."""
    out = np.zeros((len(sequences), n_outputs), dtype=np.float32)
    for indices, batch in padded_batches(sequences, batch_size=batch_size, padding=padding, value=value, sort=sort):
        out[indices] = np.asarray(predict(batch))
    return out


@dataclass(frozen=True)
class PaddingStats:
    """How much padding a batching adds: true frames over all sequences, padding frames added over all batches,
    padding over all frames processed, and each mini-batch's padded length in frames."""

    n_frames: int
    n_padded_frames: int
    padding_fraction: float
    batch_lengths: tuple[int, ...]


def padding_stats(lengths: Sequence[int] | np.ndarray, *, batch_size: int, sort: bool = True) -> PaddingStats:
    """Padding added when sequences of `lengths` are batched, sorted by length or as given."""
    lengths = np.asarray(lengths, dtype=np.int64)
    ordered = lengths[length_order(lengths)] if sort else lengths
    batches = [ordered[positions] for positions in minibatch_indices(len(ordered), batch_size)]
    total = int(lengths.sum())
    padded = sum(int(batch.max()) * len(batch) for batch in batches) - total
    fraction = padded / (total + padded) if total + padded else 0.0
    return PaddingStats(total, padded, fraction, tuple(int(batch.max()) for batch in batches))
