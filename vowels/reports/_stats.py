"""The uncertainty of an accuracy: the Wilson score interval, and the spread between seeds.

Two separate sources of variation: the interval covers the finite test set (a binomial
proportion), the spread covers the choice of seed (the initial weights) over a multi-seed run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..validation import check_int, check_number

__all__ = ["CONFIDENCE", "SeedSpread", "add_seed_intervals", "error_interval", "seed_spread", "wilson_interval"]

CONFIDENCE = 0.95
"""Confidence level of the accuracy interval."""


def wilson_interval(n_correct: int, n: int, *, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion (``scipy.stats.binomtest``).

    Parameters
    ----------
    n_correct : int
        Successes, 0 <= n_correct <= n.
    n : int
        Trials, n >= 1.
    confidence : float in (0, 1), default=0.95

    Returns
    -------
    low, high : float
        Bounds of the interval for the proportion, in [0, 1].
    """
    from scipy.stats import binomtest

    check_int(n, "n")
    check_int(n_correct, "n_correct", low=0, high=n)
    check_number(confidence, "confidence", low=0, high=1, low_open=True, high_open=True)
    ci = binomtest(int(n_correct), int(n)).proportion_ci(confidence_level=confidence, method="wilson")
    return float(ci.low), float(ci.high)


def error_interval(n_errors: int, n: int) -> tuple[float, float]:
    """`wilson_interval` of the accuracy of `n` scored utterances with `n_errors` wrong."""
    return wilson_interval(n - n_errors, n)


def add_seed_intervals(runs: list[dict]) -> None:
    """Give each run of a ``seeds.json`` its ``interval`` (a list [low, high]), in place.

    Raises KeyError, TypeError or ValueError (`ParameterError`) on a missing or invalid
    ``n_test`` or ``n_errors``; the caller names the file.
    """
    for entry in runs:
        n = int(entry["n_test"])
        entry["interval"] = list(error_interval(int(entry["n_errors"]), n))


@dataclass(frozen=True)
class SeedSpread:
    """How far the seeds of a multi-seed run lie apart, in test errors and accuracy.

    Attributes
    ----------
    n_test : int
        Test utterances of each run.
    errors : list of int
        Test errors of each run, in seed order.
    accuracy_range : float
        Best minus worst accuracy, in [0, 1].
    """

    n_test: int
    errors: list[int]
    accuracy_range: float

    @property
    def errors_range(self) -> int:
        """Most minus fewest errors."""
        return max(self.errors) - min(self.errors)

    @property
    def mean_errors(self) -> float:
        """Mean test errors over the seeds."""
        return float(np.mean(self.errors))


def seed_spread(seeds: dict) -> SeedSpread:
    """The `SeedSpread` of a ``seeds.json`` (its ``accuracy`` summary and ``runs``)."""
    acc, runs = seeds["accuracy"], seeds["runs"]
    return SeedSpread(
        n_test=int(runs[0]["n_test"]),
        errors=[int(r["n_errors"]) for r in runs],
        accuracy_range=acc["max"] - acc["min"],
    )
