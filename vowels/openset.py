"""Open-set identification: one of the enrolled speakers, or a stranger? The score is the mean of two WCCN cosines
to the nearest enrolment recording (network embedding, feature statistics); below a threshold calibrated on
speakers left out in turn (`choose_threshold`), the answer is ``unknown``. See docs/open-set.md.
"""

from __future__ import annotations

import contextlib
import io
import os
import zipfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any, cast

import numpy as np

from .errors import BundleError, DataError, ParameterError
from .validation import check_choice

__all__ = [
    "SCORING",
    "OpenSetScorer",
    "OperatingPoint",
    "SpeakerScorer",
    "ThresholdChoice",
    "choose_threshold",
    "error_rates",
    "gaussian_eer_threshold",
    "parse_operating_point",
    "utterance_statistics",
]

SCORING = "mean of nearest-reference WCCN cosines: network embedding, feature statistics"
"""The open-set score `OpenSetScorer` computes, as recorded in a bundle."""

_REGULARIZATION = 0.01  # share of the mean variance added to the within-speaker covariance


def _project(embeddings: np.ndarray, center: np.ndarray, transform: np.ndarray) -> np.ndarray:
    """Embeddings centred, whitened and of unit length, float32."""
    z = (np.asarray(embeddings, dtype=np.float64) - center) @ transform
    return (z / np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-12)).astype(np.float32)


@dataclass(frozen=True)
class SpeakerScorer:
    """Similarity of utterance embeddings to enrolled speakers (`classes`, in score-column order): the enrolment
    embeddings less their mean `center`, whitened by `transform` (n_dims, n_dims) and of unit length are the
    `references` (n_references, n_dims), of speakers `reference_labels` (indices into `classes`)."""

    classes: tuple[str, ...]
    center: np.ndarray
    transform: np.ndarray
    references: np.ndarray
    reference_labels: np.ndarray

    @classmethod
    def fit(
        cls,
        embeddings: np.ndarray,
        labels: Sequence[str] | np.ndarray,
        classes: Sequence[str] | np.ndarray,
        *,
        regularization: float = _REGULARIZATION,
    ) -> SpeakerScorer:
        """Learn the centring and whitening from enrolment `embeddings` (n_recordings, n_dims) of speakers `labels`
        (every one of `classes` needs at least two) and keep them as references; `regularization` (>= 0) is the share
        of the mean within-speaker variance added to every direction before whitening."""
        embeddings = np.asarray(embeddings, dtype=np.float64)
        labels = np.asarray(labels).astype(str)
        classes = tuple(str(c) for c in classes)
        few = sorted(c for c in classes if np.sum(labels == c) < 2)
        if few:
            raise DataError(f"speakers {few} need at least two enrolment recordings each for open-set scoring.")
        center = embeddings.mean(axis=0)
        deviations = np.concatenate([embeddings[labels == c] - embeddings[labels == c].mean(axis=0) for c in classes])
        within = deviations.T @ deviations / len(embeddings)
        within += regularization * np.trace(within) / len(within) * np.eye(len(within))
        transform = np.linalg.cholesky(np.linalg.inv(within))
        known = np.isin(labels, classes)
        references = _project(embeddings[known], center, transform)
        codes = np.array([classes.index(c) for c in labels[known]], dtype=np.int32)
        return cls(classes, center, transform, references, codes)

    def scores(self, embeddings: np.ndarray, *, neighbours: int = 1) -> np.ndarray:
        """Similarity (n, n_classes) in [-1, 1]: mean cosine to each speaker's `neighbours` nearest references."""
        similarity = _project(embeddings, self.center, self.transform) @ self.references.T
        out = np.full((len(similarity), len(self.classes)), -1.0, dtype=np.float32)
        for k in range(len(self.classes)):
            columns = self.reference_labels == k
            if columns.any():
                nearest = -np.sort(-similarity[:, columns], axis=1)[:, :neighbours]
                out[:, k] = nearest.mean(axis=1)
        return out

    def arrays(self, prefix: str) -> dict[str, np.ndarray]:
        """The scorer as named arrays (no objects), each name starting with `prefix`."""
        return {prefix + name: np.asarray(value) for name, value in vars(self).items()}

    @classmethod
    def from_arrays(cls, arrays: Any, prefix: str, *, where: str) -> SpeakerScorer:
        """The inverse of `arrays`; arrays that disagree are a `BundleError` naming `where`."""
        classes, center, transform, references, labels = (
            arrays[prefix + f.name].astype(t) for f, t in zip(fields(cls), (str, float, float, np.float32, np.int32))
        )
        n = len(center)
        if transform.shape != (n, n) or references.ndim != 2 or references.shape[1] != n:
            raise BundleError(f"{where}: open-set arrays disagree in shape; retrain the model.")
        if len(labels) != len(references) or (len(labels) and not 0 <= labels.min() <= labels.max() < len(classes)):
            raise BundleError(f"{where}: open-set references name speakers that are not there; retrain the model.")
        return cls(tuple(map(str, classes)), center, transform, references, labels)


def utterance_statistics(sequences: Sequence[np.ndarray]) -> np.ndarray:
    """Mean and standard deviation of each feature over each sequence's frames: (n, 2 * n_features)."""
    return np.stack([np.concatenate([s.mean(axis=0), s.std(axis=0)]) for s in sequences]).astype(np.float64)


@dataclass(frozen=True)
class OpenSetScorer:
    """The open-set score: the mean of a network-embedding and a feature-statistics `SpeakerScorer`."""

    network: SpeakerScorer
    statistics: SpeakerScorer

    @property
    def classes(self) -> tuple[str, ...]:
        """Enrolled speakers, in score-column order."""
        return self.network.classes

    @classmethod
    def fit(
        cls,
        embeddings: np.ndarray,
        sequences: Sequence[np.ndarray],
        labels: Sequence[str] | np.ndarray,
        classes: Sequence[str] | np.ndarray,
    ) -> OpenSetScorer:
        """Enrol recordings: their network `embeddings` and their standardised feature `sequences`."""
        return cls(
            SpeakerScorer.fit(embeddings, labels, classes),
            SpeakerScorer.fit(utterance_statistics(sequences), labels, classes),
        )

    def scores(self, embeddings: np.ndarray, sequences: Sequence[np.ndarray]) -> np.ndarray:
        """Open-set scores (n, n_classes) in [-1, 1] of recordings given as in `fit`."""
        return (self.network.scores(embeddings) + self.statistics.scores(utterance_statistics(sequences))) / 2

    def to_npz(self) -> bytes:
        """Both scorers' arrays as ``.npz`` bytes (no pickle), for the model bundle."""
        buffer = io.BytesIO()
        arrays = self.network.arrays("network_") | self.statistics.arrays("statistics_")
        cast(Any, np.savez_compressed)(buffer, **arrays)
        return buffer.getvalue()

    @classmethod
    def from_npz(cls, path: str | os.PathLike[str]) -> OpenSetScorer:
        """The inverse of `to_npz`, from a file; a damaged or inconsistent file is a `BundleError`."""
        where = str(path)
        try:
            with np.load(path, allow_pickle=False) as arrays:
                network = SpeakerScorer.from_arrays(arrays, "network_", where=where)
                statistics = SpeakerScorer.from_arrays(arrays, "statistics_", where=where)
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
            raise BundleError(f"{where}: not readable as open-set references ({exc}).") from None
        if network.classes != statistics.classes:
            raise BundleError(f"{where}: the two open-set scorers enrol different speakers; retrain the model.")
        return cls(network, statistics)


def error_rates(genuine: np.ndarray, impostor: np.ndarray, threshold: float) -> tuple[float, float]:
    """(false-accept rate, false-reject rate) at `threshold`: accepted means score >= threshold."""
    far = float(np.mean(np.asarray(impostor) >= threshold)) if len(impostor) else 0.0
    return far, float(np.mean(np.asarray(genuine) < threshold)) if len(genuine) else 0.0


def equal_error_rate(genuine: np.ndarray, impostor: np.ndarray) -> tuple[float, float]:
    """(equal error rate, its threshold): where false accepts and false rejects are closest (their mean there)."""
    from sklearn.metrics import det_curve

    if not len(genuine) or not len(impostor):
        raise DataError("the equal error rate needs both genuine and impostor scores.")
    truth = np.r_[np.ones(len(genuine)), np.zeros(len(impostor))]
    far, frr, thresholds = det_curve(truth, np.r_[genuine, impostor])
    best = int(np.argmin(np.abs(far - frr)))
    return float((far[best] + frr[best]) / 2), float(thresholds[best])


@dataclass(frozen=True)
class OperatingPoint:
    """A threshold and how it was chosen.

    Attributes
    ----------
    rule : str
        ``"eer"`` (false accepts and false rejects equal) or ``"far=<rate>"`` (the lowest threshold
        whose false-accept rate is at most that rate).
    threshold : float
    false_accept_rate, false_reject_rate, equal_error_rate : float
        Of the calibration scores `genuine` and `impostor` (the first two at `threshold`).
    genuine, impostor : tuple of float
    method : {"empirical", "normal fit"}
        "eer" among the scores, or where normal fits cross (`gaussian_eer_threshold`, fewer than `MIN_EMPIRICAL`).
    """

    rule: str
    threshold: float
    false_accept_rate: float
    false_reject_rate: float
    equal_error_rate: float
    genuine: tuple[float, ...]
    impostor: tuple[float, ...]
    method: str = "empirical"

    def to_dict(self) -> dict:
        """Plain JSON-ready values, every score as computed, so the stored rates can be recomputed."""
        scores = {"genuine": list(self.genuine), "impostor": list(self.impostor)}
        return {**asdict(self), **scores, "n_genuine": len(self.genuine), "n_impostor": len(self.impostor)}

    @classmethod
    def from_dict(cls, values: dict) -> OperatingPoint:
        """The inverse of `to_dict`."""
        scores: dict[str, Any] = {k: tuple(map(float, values[k])) for k in ("genuine", "impostor")}
        return cls(**{**{k: v for k, v in values.items() if k not in ("n_genuine", "n_impostor")}, **scores})


@dataclass(frozen=True)
class ThresholdChoice:
    """How a model's unknown-speaker threshold was chosen, with the numbers behind it (metadata ``threshold_choice``).

    ``how`` is ``"calibrated"`` (at ``rule``, by ``method``, from ``n_genuine`` and ``n_impostor`` scores, with
    their error rates), ``"default"`` (``reason`` says why) or ``"given"``; ``scale`` names what a score is when
    fitted to the speaker encoder's enrolment scores (`vowels.voiceprints`).
    """

    how: str
    threshold: float
    reason: str = ""
    rule: str = ""
    method: str = ""
    n_genuine: int = 0
    n_impostor: int = 0
    false_accept_rate: float | None = None
    false_reject_rate: float | None = None
    scale: str = ""

    def __post_init__(self) -> None:
        check_choice(self.how, "how", ("calibrated", "default", "given"))

    @classmethod
    def calibrated(cls, point: OperatingPoint) -> ThresholdChoice:
        """The choice of a network's threshold calibrated at `point`."""
        same = {name: getattr(point, name) for name in ("rule", "method", "false_accept_rate", "false_reject_rate")}
        return cls("calibrated", point.threshold, n_genuine=len(point.genuine), n_impostor=len(point.impostor), **same)

    def to_dict(self) -> dict:
        """Plain JSON-ready values."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> ThresholdChoice:
        """The inverse of `to_dict`; raises KeyError, TypeError or ValueError on a malformed entry."""
        return cls(**values)

    def describe(self) -> str:
        """The threshold and how it was chosen, in one line: ``threshold 0.375 (eer, calibrated ...): ...``."""
        head = f"threshold {self.threshold:.3f}"
        if self.how == "given":
            return f"{head} (given)"
        if self.how == "default" and self.threshold <= -1:
            return f"{head}, so every recording is named (not calibrated: {self.reason})"
        if self.how == "default":
            return f"{head} (the default: {self.reason})"
        if self.scale:
            return (
                f"{head} on the {self.scale} (fitted to {self.n_genuine} genuine and {self.n_impostor} stranger "
                "scores of the enrolment recordings)"
            )
        few = self.method == "normal fit"
        note = f"; only {self.n_genuine} + {self.n_impostor} calibration scores, so a normal fit to them" if few else ""
        return (
            f"{head} ({self.rule}{note}, calibrated with each speaker left out in turn): "
            f"{100 * (1 - (self.false_accept_rate or 0)):.1f}% of {self.n_impostor} held-out recordings of "
            f"left-out speakers rejected, {100 * (self.false_reject_rate or 0):.1f}% of {self.n_genuine} of "
            "enrolled speakers rejected"
        )


def parse_operating_point(rule: str) -> float | None:
    """The target false-accept rate of ``"far=<rate>"``, or None for ``"eer"``; anything else is an error."""
    if rule == "eer":
        return None
    with contextlib.suppress(ValueError):
        if rule.startswith("far=") and 0 <= float(rule[4:]) < 1:
            return float(rule[4:])
    raise ParameterError(f"operating point must be 'eer' or 'far=<rate>' with a rate in [0, 1); got {rule!r}.")


MIN_EMPIRICAL = 20
"""Fewest genuine and fewest stranger calibration scores from which the "eer" threshold is taken among them."""
MIN_SPREAD = 0.02  # floor of each fitted standard deviation, so that a few equal scores have a spread


def gaussian_eer_threshold(genuine: np.ndarray, impostor: np.ndarray) -> float:
    """Where normal fits of the two score sets cross in tail probability: ``(m_g s_i + m_i s_g) / (s_g + s_i)``,
    each spread at least `MIN_SPREAD`."""
    mg, mi = float(np.mean(genuine)), float(np.mean(impostor))
    sg, si = max(float(np.std(genuine)), MIN_SPREAD), max(float(np.std(impostor)), MIN_SPREAD)
    return (mg * si + mi * sg) / (sg + si)


def choose_threshold(genuine: np.ndarray, impostor: np.ndarray, rule: str = "eer") -> OperatingPoint:
    """The threshold at operating point `rule` (see `OperatingPoint`) of calibration scores."""
    genuine, impostor = np.asarray(genuine, dtype=float), np.asarray(impostor, dtype=float)
    target = parse_operating_point(rule)
    eer, eer_threshold = equal_error_rate(genuine, impostor)
    method = "empirical"
    if target is None and min(len(genuine), len(impostor)) < MIN_EMPIRICAL:
        threshold, method = gaussian_eer_threshold(genuine, impostor), "normal fit"
    elif target is None:
        threshold = eer_threshold
    else:
        # the smallest threshold that accepts at most `target` of the impostors
        ranked = np.sort(impostor)[::-1]
        allowed = int(np.floor(target * len(ranked)))
        threshold = float(np.nextafter(ranked[allowed], np.inf)) if allowed < len(ranked) else float(ranked[-1])
    far, frr = error_rates(genuine, impostor, threshold)
    scores = tuple(map(float, genuine)), tuple(map(float, impostor))
    return OperatingPoint(rule, threshold, far, frr, eer, *scores, method=method)
