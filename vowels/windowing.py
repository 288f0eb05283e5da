"""Long recordings as overlapping windows of feature frames, and one answer per recording from its windows'.

A recording longer than a window is cut into windows of ``length`` frames every ``hop`` frames,
the last one ending where the recording ends; a recording no longer than a window stays whole.
A recording's answer comes from the mean over its windows (`combine`): each speaker's
probability and open-set score are averaged, every window counting the same, and the speaker
with the highest mean is named. A few minutes of speech so give many training sequences, and
a long recording is never read by the network in one piece.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

__all__ = ["combine", "cut", "frames_of", "over_windows", "window_starts"]


def frames_of(seconds: float, hop_ms: float) -> int:
    """Feature frames (at least one) in `seconds` of audio analysed every `hop_ms` ms."""
    return max(1, round(seconds * 1000 / hop_ms))


def window_starts(n_frames: int, length: int, hop: int) -> np.ndarray:
    """First frame of each window: every `hop` frames, the last window ending at `n_frames`; ``[0]`` (the whole
    recording) when it is no longer than `length`."""
    if n_frames <= length:
        return np.zeros(1, dtype=int)
    starts = np.arange(0, n_frames - length + 1, hop)
    if starts[-1] + length < n_frames:
        starts = np.append(starts, n_frames - length)
    return starts


def cut(sequences: Sequence[np.ndarray], length: int, hop: int) -> tuple[list[np.ndarray], np.ndarray]:
    """The windows of every sequence (n_frames, n_features), in order, and the index of the sequence each is from."""
    windows: list[np.ndarray] = []
    owner: list[int] = []
    for i, sequence in enumerate(sequences):
        for start in window_starts(len(sequence), length, hop):
            windows.append(sequence[start : start + length])
            owner.append(i)
    return windows, np.array(owner, dtype=int)


def combine(values: np.ndarray, owner: np.ndarray, n: int) -> np.ndarray:
    """The mean of the rows of `values` that belong to each of `n` recordings (`owner`), shape (n, ...)."""
    values = np.asarray(values, dtype=np.float64)
    counts = np.bincount(owner, minlength=n).astype(np.float64)
    sums = np.zeros((n, *values.shape[1:]))
    np.add.at(sums, owner, values)
    return sums / counts.reshape(-1, *([1] * (values.ndim - 1)))


def over_windows(
    function: Callable[[list[np.ndarray]], np.ndarray], sequences: Sequence[np.ndarray], window: tuple[int, int] | None
) -> np.ndarray:
    """`function` of every recording's windows (`window` = ``(length, hop)`` in frames), combined per recording;
    `function` of the recordings themselves when `window` is None."""
    if window is None:
        return np.asarray(function(list(sequences)))
    windows, owner = cut(sequences, *window)
    return combine(function(windows), owner, len(sequences))
