"""One open-set score from the trained network's and the pretrained speaker encoder's: each scaled so that 0 is a
stranger's mean and 1 a speaker's own on the calibration folds, then ``weight * network + (1 - weight) * encoder``
with the weight of `WEIGHTS` of lowest equal error rate (ties to the one nearest 0.5)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from .openset import equal_error_rate

__all__ = ["WEIGHTS", "CalibrationFold", "ScoreFusion"]

WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)
"""The network's shares tried; 0 is the encoder alone."""
MIN_SEPARATION = 0.05  # least genuine - stranger mean gap a score is scaled by, so near-equal means cannot blow it up


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


def _split(
    scores: Sequence[np.ndarray], folds: Sequence[CalibrationFold], *, named: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Genuine scores of each fold (the best-scoring speaker's if `named`, else the true one's) and strangers' best."""
    genuine, impostor = [], []
    for fold_scores, f in zip(scores, folds, strict=True):
        known = f.truth >= 0
        column = fold_scores.argmax(axis=1) if named else f.truth
        genuine.append(fold_scores[np.flatnonzero(known), column[known]])
        impostor.append(fold_scores[~known].max(axis=1))
    return np.concatenate(genuine), np.concatenate(impostor)


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
        splits = [_split([getattr(f, kind) for f in folds], folds, named=False) for kind in ("network", "encoder")]
        network, encoder = ((float(np.mean(impostor)), float(np.mean(genuine))) for genuine, impostor in splits)
        draft = cls(0.5, network, encoder, {})
        # a score whose strangers score as high as the speakers themselves tells nothing: it gets no weight
        network_tells, encoder_tells = (genuine > stranger for stranger, genuine in (network, encoder))
        tried = [w for w in WEIGHTS if (w == 0 or network_tells) and (w == 1 or encoder_tells)] or [0.5]
        scores = {w: _split([draft.combine(f.network, f.encoder, weight=w) for f in folds], folds) for w in tried}
        rates = {w: equal_error_rate(*scores[w])[0] for w in tried}
        best = min(tried, key=lambda w: (rates[w], abs(w - 0.5)))
        return cls(best, network, encoder, {str(w): float(r) for w, r in rates.items()}), *scores[best]

    def to_dict(self) -> dict:
        """Plain JSON-ready values."""
        return {**asdict(self), "network": list(self.network), "encoder": list(self.encoder)}

    @classmethod
    def from_dict(cls, values: dict) -> ScoreFusion:
        """The inverse of `to_dict`."""
        network, encoder = (tuple(float(v) for v in values[k]) for k in ("network", "encoder"))
        if len(network) != 2 or len(encoder) != 2:
            raise ValueError("each score's means are (stranger, genuine)")
        rates = {str(k): float(v) for k, v in dict(values["equal_error_rates"]).items()}
        return cls(float(values["weight"]), network, encoder, rates)
