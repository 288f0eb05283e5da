"""The padding experiment's figure: what padding costs in frames, seconds per epoch and accuracy.

The numbers come from ``scripts/padding_experiment.py``, which trains each variant and saves
its results as JSON (committed as ``reports/padding_experiment.json``); nothing is trained here.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import DataError
from ._style import OKABE_ITO, new_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["default_padding_results", "load_padding_results", "padding_cost", "padding_cost_table"]


def default_padding_results() -> Path:
    """``reports/padding_experiment.json`` of the source tree this package runs from."""
    return Path(__file__).resolve().parents[2] / "reports" / "padding_experiment.json"


def load_padding_results(path: str | os.PathLike[str] | None = None) -> dict:
    """Read the JSON written by ``scripts/padding_experiment.py`` (default: the committed one)."""
    path = Path(path) if path is not None else default_padding_results()
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(
            f"{path}: no padding experiment results there; run "
            "'python scripts/padding_experiment.py --out FILE' or pass the committed reports/padding_experiment.json."
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"{path}: cannot be read as JSON ({exc}).") from None
    if not isinstance(results, dict) or results.get("format") != "vowels-padding-experiment" or not results.get("runs"):
        raise DataError(f"{path}: not the output of scripts/padding_experiment.py (format or runs missing).")
    return results


def padding_cost_table(results: dict) -> list[dict]:
    """One row per (order, padding direction), aggregated over seeds.

    Returns
    -------
    list of dict
        Keys: ``order``, ``padding``, ``seeds``, ``padded_frames`` (mean padding frames per
        training epoch), ``padding_fraction``, ``epoch_seconds`` (mean of each run's median
        seconds per epoch) with ``epoch_seconds_min``/``_max``, ``accuracy`` (mean test
        accuracy in [0, 1]) with ``accuracies`` (one per seed).
    """
    rows: dict[tuple[str, str], list[dict]] = {}
    try:
        for run in results["runs"]:
            rows.setdefault((run["order"], run["padding"]), []).append(run)
        table = []
        for (order, padding), runs in rows.items():
            seconds = [r["median_epoch_seconds"] for r in runs]
            table.append(
                {
                    "order": order,
                    "padding": padding,
                    "seeds": [r["seed"] for r in runs],
                    "padded_frames": float(np.mean([r["train_padded_frames_per_epoch"] for r in runs])),
                    "padding_fraction": float(np.mean([r["train_padding_fraction"] for r in runs])),
                    "epoch_seconds": float(np.mean(seconds)),
                    "epoch_seconds_min": float(min(seconds)),
                    "epoch_seconds_max": float(max(seconds)),
                    "accuracy": float(np.mean([r["test_accuracy"] for r in runs])),
                    "accuracies": [float(r["test_accuracy"]) for r in runs],
                }
            )
    except (KeyError, TypeError) as exc:
        raise DataError(
            f"padding experiment results lack an entry ({exc}); rerun scripts/padding_experiment.py."
        ) from None
    return table


def padding_cost(results: dict | str | os.PathLike[str] | None = None) -> Figure:
    """What padding costs: padding frames, seconds per epoch and test accuracy per variant.

    Parameters
    ----------
    results : dict or path-like, default=None
        Output of ``scripts/padding_experiment.py``; None reads the committed
        ``reports/padding_experiment.json``.

    Returns
    -------
    matplotlib.figure.Figure
        Three axes (padding frames per epoch, s per epoch, test accuracy in %), one bar per
        order and padding direction, in the order of `padding_cost_table`.
    """
    if not isinstance(results, dict):
        results = load_padding_results(results)
    table = padding_cost_table(results)
    orders = list(dict.fromkeys(row["order"] for row in table))
    directions = list(dict.fromkeys(row["padding"] for row in table))
    colours = {"right": OKABE_ITO["blue"], "left": OKABE_ITO["orange"]}
    hatches = {"right": "", "left": "//"}
    markers = {"right": "o", "left": "s"}
    width = 0.8 / len(directions)
    fig = new_figure(11.5, 4.6)
    axes = fig.subplots(1, 3)
    for j, direction in enumerate(directions):
        rows = [next((r for r in table if r["order"] == o and r["padding"] == direction), None) for o in orders]
        x = np.arange(len(orders)) + (j - (len(directions) - 1) / 2) * width
        colour = colours.get(direction, OKABE_ITO["green"])
        style = {
            "width": width,
            "color": colour,
            "hatch": hatches.get(direction, ""),
            "edgecolor": "white",
            "linewidth": 0.5,
            "label": f"{direction} padding",
        }
        bars = axes[0].bar(x, [r["padded_frames"] if r else np.nan for r in rows], **style)
        axes[0].bar_label(
            bars, [f"{100 * r['padding_fraction']:.1f} %" if r else "" for r in rows], fontsize="x-small", padding=2
        )
        seconds = [r["epoch_seconds"] if r else np.nan for r in rows]
        axes[1].bar(x, seconds, **style)
        low = [r["epoch_seconds"] - r["epoch_seconds_min"] if r else 0 for r in rows]
        high = [r["epoch_seconds_max"] - r["epoch_seconds"] if r else 0 for r in rows]
        axes[1].errorbar(x, seconds, yerr=[low, high], fmt="none", ecolor="black", capsize=3, linewidth=1)
        for xi, r in zip(x, rows, strict=True):
            if r:
                accuracies = 100 * np.asarray(r["accuracies"])
                axes[2].plot(
                    np.full(len(accuracies), xi),
                    accuracies,
                    markers.get(direction, "^"),
                    color=colour,
                    markersize=5,
                    markeredgecolor="black",
                    markeredgewidth=0.5,
                    linestyle="none",
                )
                axes[2].hlines(100 * r["accuracy"], xi - width / 2.5, xi + width / 2.5, color="black", linewidth=1.5)
    names = {"sorted": "sorted\nby length", "unsorted": "unsorted\n(random order)", "file": "unsorted\n(file order)"}
    titles = (
        "Padding frames per epoch\n(label: % of frames processed)",
        "Training time per epoch (s)\nmedian over epochs 2+; whiskers: seeds' min–max",
        "Test accuracy (%)\ndots: seeds; line: mean",
    )
    for ax, title in zip(axes, titles, strict=True):
        ax.set_xticks(np.arange(len(orders)), [names.get(o, o) for o in orders])
        ax.set_title(title, fontsize="medium")
        ax.grid(True, axis="y", color="0.9")
        ax.set_axisbelow(True)
    axes[0].set_ylim(0, 1.15 * max(r["padded_frames"] for r in table))
    axes[0].legend(loc="upper left", fontsize="small")
    seeds = results.get("seeds", sorted({s for r in table for s in r["seeds"]}))
    fig.suptitle(
        f"What padding costs: {results.get('mode', '?')} mode, {results.get('epochs', '?')} epochs, "
        f"mini-batches of {results.get('mini_batch_size', '?')}, seeds {', '.join(map(str, seeds))}",
    )
    return fig
