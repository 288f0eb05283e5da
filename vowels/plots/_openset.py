"""The open-set figure: the scores of enrolled speakers (genuine) and of strangers (impostor) about a
threshold, and their detection error trade-off (DET) curve on normal-deviate axes (Martin et al., 1997)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..errors import DataError
from ._style import OKABE_ITO, new_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..openset import OperatingPoint

__all__ = ["OpenSetData", "calibration_scores", "open_set_data", "plot_open_set"]

_RATE_TICKS = (
    *(0.1, 0.9, 0.01, 0.99, 0.001, 0.999, 0.0001, 0.9999),
    *(0.4, 0.6, 0.2, 0.8, 0.05, 0.95, 0.02, 0.98, 0.005, 0.995, 0.002, 0.998, 0.0005, 0.9995, 0.0002, 0.9998),
)
"""Rates the DET axes may carry a tick at, most wanted first (decades, then the steps between)."""


THRESHOLD_COLOUR = OKABE_ITO["black"]


@dataclass(frozen=True)
class OpenSetData:
    """The numbers behind `plot_open_set`.

    Attributes
    ----------
    genuine, impostor : np.ndarray of float
        Scores of enrolled speakers' and of strangers' recordings; either may be empty.
    threshold : float
        Accepted means score >= threshold (as `vowels.openset.error_rates`).
    edges : np.ndarray of float, shape (n_bins + 1,)
        Bin edges shared by both histograms.
    genuine_share, impostor_share : np.ndarray of float, shape (n_bins,)
        Share (%) of each kind's scores in each bin; each sums to 100 (all zeros when empty).
    false_accept, false_reject, det_thresholds : np.ndarray of float
        The DET curve (`sklearn.metrics.det_curve`); empty unless both kinds are present.
    equal_error_rate, eer_threshold, eer_false_accept, eer_false_reject : float or None
        `vowels.openset.equal_error_rate` and the DET point it is the mean of (None unless both kinds are present).
    false_accept_rate, false_reject_rate : float or None
        At `threshold`; None without impostor, or genuine, scores.
    limit : float
        Rates are drawn within [limit, 1 - limit] on the DET axes (the normal deviate of 0 and 1 is infinite).
    """

    genuine: np.ndarray
    impostor: np.ndarray
    threshold: float
    edges: np.ndarray
    genuine_share: np.ndarray
    impostor_share: np.ndarray
    false_accept: np.ndarray
    false_reject: np.ndarray
    det_thresholds: np.ndarray
    equal_error_rate: float | None
    eer_threshold: float | None
    eer_false_accept: float | None
    eer_false_reject: float | None
    false_accept_rate: float | None
    false_reject_rate: float | None
    limit: float


def _scores(values: Sequence[float] | np.ndarray, what: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1 or not np.all(np.isfinite(array)):
        raise DataError(f"{what} scores must be a flat sequence of finite numbers; got shape {array.shape}.")
    return array


_BIN_WIDTHS = (0.01, 0.02, 0.025, 0.05, 0.1, 0.2, 0.25, 0.5)


def _edges(values: np.ndarray, threshold: float) -> np.ndarray:
    """Shared bins over the scores and the threshold: about 2 sqrt(n) of them (10 to 40), of a round
    width from `_BIN_WIDTHS`, edges on multiples of it."""
    low, high = float(min(values.min(), threshold)), float(max(values.max(), threshold))
    if high - low < 0.1:
        middle = (high + low) / 2
        low, high = middle - 0.05, middle + 0.05
    target = float(np.clip(2 * np.ceil(np.sqrt(len(values))), 10, 40))
    width = min(_BIN_WIDTHS, key=lambda w: abs((high - low) / w - target))
    if (high - low) / width > 2 * target:  # scores far outside [-1, 1]: no round width fits
        width = (high - low) / target
    first, last = np.floor(low / width + 1e-9), np.ceil(high / width - 1e-9)
    return np.round(np.arange(first, max(last, first + 1) + 1) * width, 12)


def _share(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    counts, _ = np.histogram(np.clip(values, edges[0], edges[-1]), bins=edges)
    return 100 * counts / len(values) if len(values) else np.zeros(len(edges) - 1)


def open_set_data(
    genuine: Sequence[float] | np.ndarray, impostor: Sequence[float] | np.ndarray, threshold: float
) -> OpenSetData:
    """The histograms, DET curve, equal error rate and error rates at `threshold` of two score sets.

    Raises
    ------
    DataError
        Both sets are empty, or a score or the threshold is not a finite number.
    """
    from sklearn.metrics import det_curve

    from ..openset import equal_error_rate, error_rates

    genuine, impostor = _scores(genuine, "genuine"), _scores(impostor, "impostor")
    if not len(genuine) and not len(impostor):
        raise DataError("no scores to draw: both the genuine and the impostor scores are empty.")
    if not np.isfinite(threshold):
        raise DataError(f"the threshold must be a finite number; got {threshold!r}.")
    threshold = float(threshold)
    edges = _edges(np.r_[genuine, impostor], threshold)
    far, frr = error_rates(genuine, impostor, threshold)
    det: tuple[np.ndarray, np.ndarray, np.ndarray] = (np.zeros(0),) * 3
    eer: tuple[float | None, float | None, float | None, float | None] = (None,) * 4
    if len(genuine) and len(impostor):
        det = det_curve(np.r_[np.ones(len(genuine)), np.zeros(len(impostor))], np.r_[genuine, impostor])
        closest = int(np.argmin(np.abs(det[0] - det[1])))  # as equal_error_rate picks it
        eer = (*equal_error_rate(genuine, impostor), float(det[0][closest]), float(det[1][closest]))
    return OpenSetData(
        genuine,
        impostor,
        threshold,
        edges,
        _share(genuine, edges),
        _share(impostor, edges),
        *det,
        *eer,
        far if len(impostor) else None,
        frr if len(genuine) else None,
        float(np.clip(0.5 / max(len(genuine), len(impostor)), 1e-4, 0.01)),
    )


def calibration_scores(point: OperatingPoint) -> tuple[np.ndarray, np.ndarray, float]:
    """The genuine and impostor scores an operating point was chosen from, and its threshold."""
    return np.asarray(point.genuine, dtype=float), np.asarray(point.impostor, dtype=float), float(point.threshold)


def _percent(rate: float) -> str:
    return f"{100 * rate:.1f} %"


def plot_open_set(
    genuine: Sequence[float] | np.ndarray,
    impostor: Sequence[float] | np.ndarray,
    threshold: float,
    *,
    title: str = "Open-set scores",
) -> Figure:
    """Score distributions of enrolled speakers and strangers with the threshold, and the DET curve.

    Parameters
    ----------
    genuine, impostor : sequence of float
        Open-set scores of recordings of enrolled speakers (against the speaker named) and of strangers.
    threshold : float
        Score below which the answer is ``unknown``.
    title : str, default="Open-set scores"
        Above both panels.

    Returns
    -------
    matplotlib.figure.Figure
        Axes 0: each kind's share per bin (steps of `OpenSetData`) and the threshold. Axes 1: the DET curve (lines:
        diagonal, curve, threshold's point, EER's point) on normal-deviate axes in %; with one kind, why it is empty.
    """
    from scipy.stats import norm

    data = open_set_data(genuine, impostor, threshold)
    fig = new_figure(11, 5)
    ax, det = fig.subplots(1, 2, width_ratios=[1.25, 1])

    kinds = (
        (data.genuine, data.genuine_share, OKABE_ITO["blue"], "enrolled speakers (genuine)"),
        (data.impostor, data.impostor_share, OKABE_ITO["vermillion"], "strangers (impostor)"),
    )
    for scores, share, colour, label in kinds:
        if len(scores):
            ax.stairs(share, data.edges, fill=True, color=colour, alpha=0.25, linewidth=0)
            ax.stairs(share, data.edges, color=colour, linewidth=1.6, label=f"{label}, n = {len(scores)}")
    dashed = {"color": THRESHOLD_COLOUR, "linestyle": "--", "linewidth": 1.2}
    ax.axvline(data.threshold, **dashed)
    ax.plot([], [], **dashed, label=f"threshold {data.threshold:.3f}")
    ax.set(xlim=(data.edges[0], data.edges[-1]), xlabel="Open-set score (similarity to the speaker named)")
    top = 1.35 * max(data.genuine_share.max(), data.impostor_share.max())
    ax.set(ylim=(0, top), ylabel="Recordings (% of each kind)", axisbelow=True)
    ax.set_title("Score distributions", fontsize="medium")
    ax.legend(loc="upper left", fontsize="small", framealpha=0.9)
    ax.grid(True, axis="y", color="0.92")

    low, high = data.limit, 1 - data.limit

    def deviate(rate: float | np.ndarray) -> np.ndarray:
        return norm.ppf(np.clip(rate, low, high))

    edge = float(deviate(high)) + 0.2
    det.plot([-edge, edge], [-edge, edge], color="0.6", linestyle=":", linewidth=1, label="equal rates")
    if data.equal_error_rate is not None:
        n_kinds = f"{len(data.genuine)} genuine, {len(data.impostor)} impostor"
        curve = deviate(data.false_accept), deviate(data.false_reject)
        det.plot(*curve, color=OKABE_ITO["green"], linewidth=1.8, label=f"DET curve ({n_kinds})")
        assert data.false_accept_rate is not None and data.false_reject_rate is not None
        assert data.eer_false_accept is not None and data.eer_false_reject is not None
        rates = f"FAR {_percent(data.false_accept_rate)}, FRR {_percent(data.false_reject_rate)}"
        point = deviate(data.false_accept_rate), deviate(data.false_reject_rate)
        ring = {"markerfacecolor": "none", "markeredgewidth": 1.8, "markersize": 12, "zorder": 3}
        det.plot(*point, "o", color=THRESHOLD_COLOUR, **ring, label=f"threshold {data.threshold:.3f}: {rates}")
        eer_label = f"EER {_percent(data.equal_error_rate)} at {data.eer_threshold:.3f}"
        if data.eer_false_accept != data.eer_false_reject:  # the EER is the mean of the two
            eer_label += f": FAR {_percent(data.eer_false_accept)}, FRR {_percent(data.eer_false_reject)}"
        point = deviate(data.eer_false_accept), deviate(data.eer_false_reject)
        diamond = {"markeredgecolor": "black", "markeredgewidth": 0.6, "markersize": 6, "zorder": 4}
        det.plot(*point, "D", color=OKABE_ITO["orange"], **diamond, label=eer_label)
        det.legend(loc="best", fontsize="small", framealpha=0.9)
    else:
        missing = "strangers' (impostor)" if not len(data.impostor) else "enrolled speakers' (genuine)"
        box = {"facecolor": "white", "edgecolor": "0.8", "boxstyle": "round,pad=0.5"}
        note = f"No DET curve:\nit needs {missing}\nscores too."
        det.text(0.5, 0.5, note, transform=det.transAxes, ha="center", va="center", color="0.3", bbox=box)
    ticks: list[float] = []  # the rates of _RATE_TICKS in [low, high] whose deviates lie 6 % of the axis apart
    for rate in _RATE_TICKS:
        if low <= rate <= high and all(abs(norm.ppf(rate) - norm.ppf(t)) >= 0.06 * 2 * edge for t in ticks):
            ticks.append(rate)
    ticks.sort()
    det.set_xticks(deviate(np.array(ticks)), [f"{100 * t:g}" for t in ticks])
    det.set_yticks(deviate(np.array(ticks)), [f"{100 * t:g}" for t in ticks])
    det.set(xlim=(-edge, edge), ylim=(-edge, edge), aspect="equal", axisbelow=True)
    det.set_xlabel("False acceptance rate (%): strangers accepted")
    det.set_ylabel("False rejection rate (%): enrolled rejected")
    det.set_title("Detection error trade-off", fontsize="medium")
    det.grid(True, color="0.92")
    fig.suptitle(title)
    return fig
