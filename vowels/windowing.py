"""Long recordings as overlapping windows of feature frames, and one answer per recording: the mean of its
windows' (every window counting the same), so minutes of speech give many training sequences.
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
    pairs = [
        (s[start : start + length], i) for i, s in enumerate(sequences) for start in window_starts(len(s), length, hop)
    ]
    return [w for w, _ in pairs], np.array([i for _, i in pairs], dtype=int)


def combine(values: np.ndarray, owner: np.ndarray, n: int) -> np.ndarray:
    """The mean of the rows of `values` that belong to each of `n` recordings (`owner`), shape (n, ...)."""
    values = np.asarray(values, dtype=np.float64)
    sums = np.zeros((n, *values.shape[1:]))
    np.add.at(sums, owner, values)
    return sums / np.bincount(owner, minlength=n).reshape(-1, *([1] * (values.ndim - 1)))


def over_windows(
    function: Callable[[list[np.ndarray]], np.ndarray], sequences: Sequence[np.ndarray], window: tuple[int, int] | None
) -> np.ndarray:
    """`function` of every recording's windows (`window` = ``(length, hop)`` in frames), combined per recording;
    `function` of the recordings themselves when `window` is None."""
    if window is None:
        return np.asarray(function(list(sequences)))
    windows, owner = cut(sequences, *window)
    return combine(function(windows), owner, len(sequences))
