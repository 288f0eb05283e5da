"""One open-set score from two: the trained network's and the pretrained speaker encoder's.

Each score is first put on a common scale by its calibration scores: 0 is the mean score of a
stranger for the nearest enrolled speaker, 1 the mean score of a speaker for themself. The
fused score is ``weight * network + (1 - weight) * encoder`` on that scale, the weight the one
of `WEIGHTS` whose fused calibration scores have the lowest equal error rate (ties go to the
weight nearest 0.5). Everything is chosen from the calibration folds of the training folder
(`vowels.recordings.RecordingClassifier`), and stored with the numbers it was chosen from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .openset import equal_error_rate

__all__ = ["WEIGHTS", "CalibrationFold", "ScoreFusion"]

WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)
"""The network's shares tried; 0 is the encoder alone, 1 the network alone."""
MIN_SEPARATION = 0.05
"""Smallest gap between a score's genuine and stranger means used to scale it: a handful of calibration
scores whose means (nearly) coincide must not blow the scale up."""


@dataclass(frozen=True)
class CalibrationFold:
    """Held-out recordings scored by a network trained without some speakers, and by the encoder.

    Attributes
    ----------
    network, encoder : np.ndarray of shape (n, n_known)
        Each recording's score for every speaker the fold's network knows.
    truth : np.ndarray of int, shape (n,)
        Column of the recording's speaker, or -1 for a speaker left out (a stranger).
    """

    network: np.ndarray
    encoder: np.ndarray
    truth: np.ndarray


def _genuine_and_impostor(scores: np.ndarray, truth: np.ndarray, *, named_by: np.ndarray | None = None) -> tuple:
    """Genuine scores (for the nearest speaker, or for the true one when `named_by` is None) and strangers' best."""
    known = truth >= 0
    column = truth if named_by is None else named_by
    genuine = scores[np.flatnonzero(known), column[known]]
    return genuine, scores[~known].max(axis=1)


@dataclass(frozen=True)
class ScoreFusion:
    """How the two scores are combined (module docstring).

    Attributes
    ----------
    weight : float
        The network's share.
    network, encoder : tuple of float
        (stranger mean, genuine mean) of each score on the calibration folds: 0 and 1 on the common scale.
    equal_error_rates : dict of str to float
        The fused calibration scores' equal error rate for each weight tried.
    """

    weight: float
    network: tuple[float, float]
    encoder: tuple[float, float]
    equal_error_rates: dict[str, float]

    @staticmethod
    def _scaled(scores: np.ndarray, means: tuple[float, float]) -> np.ndarray:
        stranger, genuine = means
        return (np.asarray(scores, dtype=np.float64) - stranger) / max(genuine - stranger, MIN_SEPARATION)

    def combine(self, network: np.ndarray, encoder: np.ndarray, *, weight: float | None = None) -> np.ndarray:
        """Fused scores (n, n_speakers) from the network's and the encoder's, speaker columns in the same order,
        clipped to [-1, 1] like every other open-set score (far beyond any threshold either way)."""
        w = self.weight if weight is None else weight
        fused = w * self._scaled(network, self.network) + (1 - w) * self._scaled(encoder, self.encoder)
        return np.clip(fused, -1.0, 1.0)

    @classmethod
    def choose(cls, folds: Sequence[CalibrationFold]) -> tuple[ScoreFusion, np.ndarray, np.ndarray]:
        """The fusion with the lowest equal error rate on `folds`, and its genuine and stranger scores."""
        means = {}
        for kind in ("network", "encoder"):
            pairs = [_genuine_and_impostor(getattr(f, kind), f.truth) for f in folds]
            genuine, impostor = (np.concatenate(parts) for parts in zip(*pairs, strict=True))
            means[kind] = (float(np.mean(impostor)), float(np.mean(genuine)))
        draft = cls(0.5, means["network"], means["encoder"], {})
        rates, scores = {}, {}
        # a score whose strangers score as high as the speakers themselves tells nothing: it gets no weight
        tried = [
            w
            for w in WEIGHTS
            if (w == 0 or means["network"][1] > means["network"][0])
            and (w == 1 or means["encoder"][1] > means["encoder"][0])
        ] or [0.5]
        for w in tried:
            pairs = []
            for f in folds:
                fused = draft.combine(f.network, f.encoder, weight=w)
                pairs.append(_genuine_and_impostor(fused, f.truth, named_by=fused.argmax(axis=1)))
            genuine, impostor = (np.concatenate(parts) for parts in zip(*pairs, strict=True))
            rates[w], scores[w] = equal_error_rate(genuine, impostor)[0], (genuine, impostor)
        best = min(tried, key=lambda w: (rates[w], abs(w - 0.5)))
        fusion = cls(best, means["network"], means["encoder"], {str(w): float(r) for w, r in rates.items()})
        return fusion, *scores[best]

    def to_dict(self) -> dict:
        """Plain JSON-ready values."""
        return {
            "weight": self.weight,
            "network": list(self.network),
            "encoder": list(self.encoder),
            "equal_error_rates": dict(self.equal_error_rates),
        }

    @classmethod
    def from_dict(cls, values: dict) -> ScoreFusion:
        """The inverse of `to_dict`."""
        network, encoder = (tuple(float(v) for v in values[k]) for k in ("network", "encoder"))
        if len(network) != 2 or len(encoder) != 2:
            raise ValueError("each score's means are (stranger, genuine)")
        rates = {str(k): float(v) for k, v in dict(values["equal_error_rates"]).items()}
        return cls(float(values["weight"]), network, encoder, rates)
