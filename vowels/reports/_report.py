"""What an accuracy report states before it is rendered (`Report`, `Prediction`), and the Wilson interval."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field

from ..evaluation import Evaluation
from ..files import FORMAT_VERSION
from ..training import TrainingHistory
from ..validation import check_int, check_number

__all__ = ["CONFIDENCE", "Prediction", "Report", "wilson_interval"]

CONFIDENCE = 0.95
"""Confidence level of the accuracy interval."""


def wilson_interval(n_correct: int, n: int, *, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion (``scipy.stats.binomtest``).

    Parameters
    ----------
    n_correct, n : int
        Successes and trials, 0 <= n_correct <= n, n >= 1.
    confidence : float in (0, 1), default=0.95

    Returns
    -------
    low, high : float
        Bounds of the interval, in [0, 1].
    """
    from scipy.stats import binomtest

    check_int(n, "n")
    check_int(n_correct, "n_correct", low=0, high=n)
    check_number(confidence, "confidence", low=0, high=1, low_open=True, high_open=True)
    ci = binomtest(int(n_correct), int(n)).proportion_ci(confidence_level=confidence, method="wilson")
    return float(ci.low), float(ci.high)


@dataclass(frozen=True)
class Prediction:
    """One scored utterance.

    Attributes
    ----------
    index : int
        Position in the scored set (0-based; the test file's order for Japanese Vowels).
    source : str
        File and line range, or audio path.
    n_frames : int or None
        Length in frames; None for recordings.
    true, predicted : str
        Speaker names (``unknown`` for a stranger).
    probability : float
        The model's probability of the predicted speaker, in [0, 1].
    """

    index: int
    source: str
    n_frames: int | None
    true: str
    predicted: str
    probability: float


@dataclass(frozen=True)
class Report:
    """Everything an accuracy report states, before it is rendered.

    Attributes
    ----------
    title : str
    origin : dict
        ``kind`` ("run" or "model"), ``path``, ``data`` (as given, or None) and, for runs, the recipe to rerun it.
    evaluation : Evaluation
        Recomputed from `predictions`; of a recordings model, its enrolled speakers' recordings (closed set).
    interval : (float, float)
        95 % Wilson score interval of the accuracy, in [0, 1].
    predictions : tuple of Prediction
    history : TrainingHistory or None
        None for a model bundle (bundles keep no history).
    dataset : list of dict
        One row per split: ``split``, ``utterances``, ``speakers``, ``frames_min`` / ``_median`` / ``_max``
        (of recordings: ``seconds_...``), ``n_features``.
    configuration, versions, machine : dict
        The model's settings; ``"trained with"`` and ``"report written with"`` library versions;
        ``"trained on"`` and ``"report written on"`` machines.
    timing : dict
        Seconds (wall time) of training, predicting, epochs and the report; None where not recorded.
    seeds : dict or None
        The ``seeds.json`` of a multi-seed run, each run with its Wilson interval added.
    headline_seed : int or None
    open_set : dict or None
        For a recordings model: `vowels.evaluation.OpenSetEvaluation.to_dict` of the scored folder, plus
        ``counts``, ``genuine`` and ``impostor`` scores, ``threshold_choice``, ``operating_point``, ``skipped``.
    created : str
        ISO 8601 time the report was built (UTC).
    """

    title: str
    origin: dict
    evaluation: Evaluation
    interval: tuple[float, float]
    predictions: tuple[Prediction, ...]
    history: TrainingHistory | None
    dataset: list[dict]
    configuration: dict
    versions: dict
    machine: dict
    timing: dict
    seeds: dict | None = None
    headline_seed: int | None = None
    open_set: dict | None = None
    created: str = field(default_factory=lambda: _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))

    @property
    def misclassified(self) -> list[Prediction]:
        """The predictions whose speaker is wrong, in index order."""
        return [p for p in self.predictions if p.true != p.predicted]

    def to_dict(self) -> dict:
        """The report's numbers as plain JSON-ready values (written as ``report.json``)."""
        low, high = self.interval
        as_read = ("seeds", "open_set", "dataset", "configuration", "versions", "machine", "timing")
        return {
            "format": "vowels-report",
            "format_version": FORMAT_VERSION,
            **{name: getattr(self, name) for name in ("title", "created", "origin", "headline_seed")},
            "interval": {"method": "wilson", "confidence": CONFIDENCE, "low": low, "high": high},
            "evaluation": self.evaluation.to_dict(),
            "misclassified": [p.__dict__ for p in self.misclassified],
            **{name: getattr(self, name) for name in as_read},
        }
