"""Every sequence stretched or squeezed to one length by a not-a-knot cubic spline, as the FCN reads them
(dl-4-tsc's ``interp1d(kind="cubic")``), as one matrix per length in NumPy so classifying imports no SciPy.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from .validation import check_int

__all__ = ["resample", "resampling_matrix"]


@lru_cache(maxsize=256)
def resampling_matrix(n_frames: int, length: int) -> np.ndarray:
    """The (`length`, `n_frames`) matrix taking a sequence's frames to its resampled frames.

    Row i evaluates the spline through the frames at i / (`length` - 1) of the way from first to last;
    below four frames, the polynomial of degree n - 1 (``make_interp_spline(k=n - 1)``).
    """
    t = np.linspace(0, n_frames - 1, length)
    if n_frames < 4:  # Lagrange: the Vandermonde matrix at t times the inverse of that at the frames
        vander = np.vander(np.arange(n_frames), n_frames, increasing=True)
        return np.vander(t, n_frames, increasing=True) @ np.linalg.inv(vander)
    n = n_frames  # second derivatives M of the spline: M[i-1] + 4 M[i] + M[i+1] = 6 (y[i-1] - 2 y[i] + y[i+1]) inside;
    # not-a-knot ends (third derivative continuous at the second and the last-but-one frame).
    system = np.zeros((n, n))
    second_difference = np.zeros((n, n))
    system[0, :3] = (1, -2, 1)
    system[-1, -3:] = (1, -2, 1)
    for i in range(1, n - 1):
        system[i, i - 1 : i + 2] = (1, 4, 1)
        second_difference[i, i - 1 : i + 2] = (6, -12, 6)
    curvature = np.linalg.solve(system, second_difference)  # M = curvature @ y
    left = np.minimum(np.floor(t).astype(int), n - 2)
    b = t - left
    a = 1 - b
    rows = np.arange(length)
    matrix = (a**3 - a)[:, None] / 6 * curvature[left] + (b**3 - b)[:, None] / 6 * curvature[left + 1]
    matrix[rows, left] += a
    matrix[rows, left + 1] += b
    return matrix


def resample(sequences: Sequence[np.ndarray], length: int) -> list[np.ndarray]:
    """Each (n_frames, n_features) sequence resampled to (`length`, n_features), first and last frames kept."""
    check_int(length, "length", unit="frames")
    return [
        (resampling_matrix(len(s), int(length)) @ np.asarray(s, dtype=np.float64)).astype(np.float32) for s in sequences
    ]
