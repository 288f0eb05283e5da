"""The padding experiment's figure: what padding costs in frames, seconds per epoch and accuracy, drawn
from the JSON of ``scripts/padding_experiment.py`` (the project's is committed as
``reports/padding_experiment.json`` and shipped byte for byte as ``vowels/data/padding_experiment.json``)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import DataError
from ._style import OKABE_ITO, new_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["default_padding_results", "load_padding_results", "padding_cost", "padding_cost_table"]

_PROJECT_RESULTS = "reports/padding_experiment.json"
"""Where the project's measurements are committed, relative to the repository root."""


def default_padding_results() -> Path:
    """The project's measurements as shipped in the package: ``vowels/data/padding_experiment.json``."""
    return Path(__file__).resolve().parents[1] / "data" / "padding_experiment.json"


def load_padding_results(path: str | os.PathLike[str] | None = None) -> dict:
    """Read the JSON written by ``scripts/padding_experiment.py``.

    Parameters
    ----------
    path : path-like, default=None
        None reads the project's measurements shipped with the package (`default_padding_results`).

    Raises
    ------
    DataError
        The file is missing, is not JSON, or is not the script's output.
    """
    shipped = path is None
    path = default_padding_results() if path is None else Path(path)
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        if shipped:
            raise DataError(
                f"{path}: the padding experiment shipped with the package is missing; reinstall vowels "
                "or pass the results of 'python scripts/padding_experiment.py --out FILE'."
            ) from None
        raise DataError(
            f"{path}: no padding experiment results there; run "
            f"'python scripts/padding_experiment.py --out FILE' or pass the committed {_PROJECT_RESULTS}."
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
        Keys: ``order``, ``padding``, ``seeds``, ``padded_frames`` (mean padding frames per training epoch),
        ``padding_fraction``, ``epoch_seconds`` (mean of the runs' median s per epoch) with
        ``epoch_seconds_min``/``_max``, ``accuracy`` (mean test accuracy in [0, 1]) with ``accuracies``.
    """
    rows: dict[tuple[str, str], list[dict]] = {}
    try:
        for run in results["runs"]:
            rows.setdefault((run["order"], run["padding"]), []).append(run)
        table = []
        for (order, padding), runs in rows.items():
            seconds, accuracies = [r["median_epoch_seconds"] for r in runs], [float(r["test_accuracy"]) for r in runs]
            row: dict[str, Any] = {"order": order, "padding": padding, "seeds": [r["seed"] for r in runs]}
            row["padded_frames"] = float(np.mean([r["train_padded_frames_per_epoch"] for r in runs]))
            row["padding_fraction"] = float(np.mean([r["train_padding_fraction"] for r in runs]))
            row |= {"epoch_seconds": float(np.mean(seconds)), "epoch_seconds_min": float(min(seconds))}
            row |= {"epoch_seconds_max": float(max(seconds)), "accuracy": float(np.mean(accuracies))}
            table.append({**row, "accuracies": accuracies})
    except (KeyError, TypeError) as exc:
        raise DataError(
            f"padding experiment results lack an entry ({exc}); rerun scripts/padding_experiment.py."
        ) from None
    return table


def padding_cost(results: dict) -> Figure:
    """What padding costs: padding frames, seconds per epoch and test accuracy per variant.

    Parameters
    ----------
    results : dict
        Output of ``scripts/padding_experiment.py``, as `load_padding_results` reads it.

    Returns
    -------
    matplotlib.figure.Figure
        Three axes (padding frames per epoch, s per epoch, test accuracy in %), one bar per order and padding
        direction as in `padding_cost_table`; ``get_supxlabel`` says whose measurements, on what machine, when.
    """
    table = padding_cost_table(results)
    orders = list(dict.fromkeys(row["order"] for row in table))
    directions = list(dict.fromkeys(row["padding"] for row in table))
    looks = {"right": (OKABE_ITO["blue"], "", "o"), "left": (OKABE_ITO["orange"], "//", "s")}
    width = 0.8 / len(directions)
    fig = new_figure(11.5, 5.0)
    axes = fig.subplots(1, 3)
    for j, direction in enumerate(directions):
        rows = [next((r for r in table if r["order"] == o and r["padding"] == direction), None) for o in orders]
        x = np.arange(len(orders)) + (j - (len(directions) - 1) / 2) * width
        colour, hatch, marker = looks.get(direction, (OKABE_ITO["green"], "", "^"))
        style = {"width": width, "color": colour, "hatch": hatch, "edgecolor": "white", "linewidth": 0.5}
        style["label"] = f"{direction} padding"
        bars = axes[0].bar(x, [r["padded_frames"] if r else np.nan for r in rows], **style)
        shares = [f"{100 * r['padding_fraction']:.1f} %" if r else "" for r in rows]
        axes[0].bar_label(bars, shares, fontsize="x-small", padding=2)
        seconds = [r["epoch_seconds"] if r else np.nan for r in rows]
        axes[1].bar(x, seconds, **style)
        low = [r["epoch_seconds"] - r["epoch_seconds_min"] if r else 0 for r in rows]
        high = [r["epoch_seconds_max"] - r["epoch_seconds"] if r else 0 for r in rows]
        axes[1].errorbar(x, seconds, yerr=[low, high], fmt="none", ecolor="black", capsize=3, linewidth=1)
        dots = {"markersize": 5, "markeredgecolor": "black", "markeredgewidth": 0.5, "linestyle": "none"}
        for xi, r in zip(x, rows, strict=True):
            if r:
                accuracies = 100 * np.asarray(r["accuracies"])
                axes[2].plot(np.full(len(accuracies), xi), accuracies, marker, color=colour, **dots)
                axes[2].hlines(100 * r["accuracy"], xi - width / 2.5, xi + width / 2.5, color="black", linewidth=1.5)
    names = {"sorted": "sorted\nby length", "unsorted": "unsorted\n(random order)", "file": "unsorted\n(file order)"}
    panels = (
        ("Padding added\nbar labels: % of the frames processed", "Padding frames per epoch"),
        ("Training time\nmedian over epochs 2+; whiskers: seeds' min–max", "Seconds per epoch"),
        ("Test accuracy\ndots: seeds; line: their mean", "Test accuracy (%)"),
    )
    for ax, (title, ylabel) in zip(axes, panels, strict=True):
        ax.set_xticks(np.arange(len(orders)), [names.get(o, o) for o in orders])
        ax.set(xlabel="Order of the training utterances", ylabel=ylabel, axisbelow=True)
        ax.set_title(title, fontsize="medium")
        ax.grid(True, axis="y", color="0.9")
    axes[0].set_ylim(0, 1.3 * max(r["padded_frames"] for r in table))
    axes[0].legend(loc="upper left", fontsize="small")
    seeds = results.get("seeds", sorted({s for r in table for s in r["seeds"]}))
    batches = f"mini-batches of {results.get('mini_batch_size', '?')}, seeds {', '.join(map(str, seeds))}"
    fig.suptitle(f"What padding costs: {results.get('mode', '?')} mode, {results.get('epochs', '?')} epochs, {batches}")
    machine = results.get("machine") or "an unrecorded machine"
    date = str(results.get("created") or "an unrecorded date")[:10]
    try:  # whose measurements: the project's shipped ones, or a machine's
        project = results == load_padding_results()
    except DataError:
        project = False
    measured = f"Measured by the vowels project on {machine}, {date}; {_PROJECT_RESULTS} (shipped with vowels)"
    if not project:
        measured = f"Measured on {machine}, {date}, by: {results.get('command') or 'an unrecorded command'}"
    fig.supxlabel(measured, fontsize="small", color="0.3")
    return fig
