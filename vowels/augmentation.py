"""Training-time augmentation: each epoch sees every sequence stretched or squeezed in time and
with a little noise added, so the network learns a speaker's voice rather than one utterance's
exact timing. Nothing changes at prediction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .validation import check_int, check_number

__all__ = ["Augmentation", "time_warp"]


def time_warp(sequence: np.ndarray, n_frames: int) -> np.ndarray:
    """`sequence` (n_frames_in, n_features) resampled to `n_frames` frames by linear interpolation.

    The first and last frames are kept; a one-frame sequence is repeated.
    """
    check_int(n_frames, "n_frames")
    if len(sequence) == 1:
        return np.repeat(sequence, n_frames, axis=0).astype(np.float32)
    from scipy.interpolate import make_interp_spline  # imported here: 0.6 s that classifying never needs

    spline = make_interp_spline(np.arange(len(sequence)), sequence, k=1, axis=0)
    return spline(np.linspace(0, len(sequence) - 1, n_frames)).astype(np.float32)


@dataclass(frozen=True)
class Augmentation:
    """How each training sequence is varied, anew every epoch.

    Parameters
    ----------
    time_warp : float in [0, 1), default=0.0
        Each sequence's length is scaled by a factor drawn uniformly from
        ``[1 - time_warp, 1 + time_warp]`` (linear interpolation, at least 2 frames); 0 keeps it.
    noise : float >= 0, default=0.0
        Standard deviation of Gaussian noise added to every feature of every frame, in the
        units the network reads (standard deviations, when features are standardised).
    """

    time_warp: float = 0.0
    noise: float = 0.0

    def __post_init__(self) -> None:
        check_number(self.time_warp, "time_warp", low=0, high=1, high_open=True)
        check_number(self.noise, "noise", low=0)

    @property
    def is_identity(self) -> bool:
        """Whether sequences pass through unchanged."""
        return not self.time_warp and not self.noise

    def apply(self, sequences: Sequence[np.ndarray], rng: np.random.Generator) -> list[np.ndarray]:
        """New float32 copies of `sequences`, each warped and noised with draws from `rng`."""
        varied = []
        for sequence in sequences:
            out = np.asarray(sequence, dtype=np.float32)
            if self.time_warp:
                factor = rng.uniform(1 - self.time_warp, 1 + self.time_warp)
                out = time_warp(out, max(2, round(len(out) * factor)))
            if self.noise:
                out = out + rng.normal(0.0, self.noise, out.shape).astype(np.float32)
            varied.append(out)
        return varied
