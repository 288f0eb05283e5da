"""`vowels plot`'s figures drawn from what `vowels.workflows.figures.figure_sources` read, each
written to a file atomically (`vowels.files.write_bytes`)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ..files import check_writable, write_bytes
from ..names import FORMATS
from ..validation import check_choice, check_int
from ._openset import calibration_scores, plot_open_set
from ._padding_cost import load_padding_results, padding_cost
from ._recording import plot_recording, plot_stream, recording_data, stream_data
from ._run import plot_confusion, plot_training_progress
from ._style import figure_bytes
from ._tutorial import plot_features, plot_padding, plot_sequence_lengths

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..workflows.figures import FigureSources

__all__ = ["write_figures"]


def write_figures(sources: FigureSources, out: str | os.PathLike[str], *, fmt: str = "png") -> list[Path]:
    """Draw the figures of `sources` and write each to ``out/<name>.<fmt>`` atomically, replacing older ones.

    The audio file and the padding results are read, and the observation checked, before any figure is drawn."""
    check_choice(fmt, "format", FORMATS)
    names, train = sources.names, sources.train
    draw: dict[str, Callable[[], Figure]] = {}
    if "padding-cost" in names:
        results = load_padding_results(sources.padding_results)
        draw["padding-cost"] = lambda: padding_cost(results)
    if train is not None:
        if "features" in names:
            check_int(sources.observation, "observation", high=len(train))
        draw["features"] = lambda: plot_features(train, observation=sources.observation)
        draw["lengths"] = lambda: plot_sequence_lengths(train)
        draw["padding"] = lambda: plot_padding(train)
    if (history := sources.history) is not None:
        draw["training"] = lambda: plot_training_progress(history)
    if (confusion := sources.confusion) is not None:
        draw["confusion"] = lambda: plot_confusion(confusion)
    if sources.recording is not None:
        audio, config, preprocessing = sources.recording
        recording = recording_data(audio, config, preprocessing=preprocessing)
        draw["recording"] = lambda: plot_recording(recording)
    if sources.stream is not None:
        stream = stream_data(**sources.stream)
        draw["stream"] = lambda: plot_stream(stream)
    if sources.open_set is not None:
        point, model = sources.open_set
        title = f"Open-set calibration scores of {model} (threshold rule {point.rule})\nheld-out recordings of the "
        title += "training folder, each speaker left out of training in turn to play a stranger"
        draw["open-set"] = lambda: plot_open_set(*calibration_scores(point), title=title)
    out = Path(out)
    check_writable(out)
    for name in names:
        write_bytes(out / f"{name}.{fmt}", figure_bytes(draw[name](), fmt))
    return [out / f"{name}.{fmt}" for name in names]
