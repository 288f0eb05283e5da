"""The tutorial's figures and a recording's, headless: each function returns a `matplotlib.figure.Figure`.

Figures are built on `Figure` directly (no pyplot), so nothing global changes and no display
is needed. Colours are the Okabe-Ito palette and matrices use cividis, both readable with
the common colour-vision deficiencies. The numbers behind each figure come from a function
of their own (`padding_layout`, `padding_cost_table`, `epoch_starts`, `smooth`,
`confusion_data`, `recording_data`, `open_set_data`), so they can be checked without reading pixels.

One module per source of data: ``_tutorial`` (the bundled Japanese Vowels data),
``_padding_cost`` (the padding experiment), ``_run`` (a trained run), ``_recording`` (one
audio file), ``_openset`` (open-set scores of enrolled speakers and strangers), ``_stream`` (a
forward-only LSTM's answers as frames arrive), ``_live`` (the training under way, kept up to
date by a `vowels.progress` monitor), ``_style`` (palette). `vowels.workflows.figures` reads what
`vowels plot` draws from.
"""

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._live import TrainingPlot, display_available, progress_plot_path, training_progress_plot
    from ._openset import OpenSetData, calibration_scores, open_set_data, plot_open_set
    from ._padding_cost import default_padding_results, load_padding_results, padding_cost, padding_cost_table
    from ._recording import RecordingData, plot_recording, recording_data
    from ._run import (
        ConfusionData,
        confusion_data,
        epoch_starts,
        plot_confusion,
        plot_training_progress,
        smooth,
    )
    from ._stream import StreamData, plot_stream, stream_data
    from ._style import OKABE_ITO
    from ._tutorial import (
        FRAME_HOP_MS,
        PaddingLayout,
        padding_layout,
        plot_features,
        plot_padding,
        plot_sequence_lengths,
    )
    from ._writing import write_figures

__all__ = [
    "FRAME_HOP_MS",
    "OKABE_ITO",
    "ConfusionData",
    "OpenSetData",
    "PaddingLayout",
    "RecordingData",
    "StreamData",
    "TrainingPlot",
    "calibration_scores",
    "confusion_data",
    "default_padding_results",
    "display_available",
    "epoch_starts",
    "load_padding_results",
    "open_set_data",
    "padding_cost",
    "padding_cost_table",
    "padding_layout",
    "plot_confusion",
    "plot_features",
    "plot_open_set",
    "plot_padding",
    "plot_recording",
    "plot_sequence_lengths",
    "plot_stream",
    "plot_training_progress",
    "progress_plot_path",
    "recording_data",
    "smooth",
    "stream_data",
    "training_progress_plot",
    "write_figures",
]

_LAZY = {
    "ConfusionData": "._run",
    "FRAME_HOP_MS": "._tutorial",
    "OKABE_ITO": "._style",
    "OpenSetData": "._openset",
    "PaddingLayout": "._tutorial",
    "RecordingData": "._recording",
    "StreamData": "._stream",
    "TrainingPlot": "._live",
    "calibration_scores": "._openset",
    "confusion_data": "._run",
    "default_padding_results": "._padding_cost",
    "display_available": "._live",
    "epoch_starts": "._run",
    "load_padding_results": "._padding_cost",
    "open_set_data": "._openset",
    "padding_cost": "._padding_cost",
    "padding_cost_table": "._padding_cost",
    "padding_layout": "._tutorial",
    "plot_confusion": "._run",
    "plot_features": "._tutorial",
    "plot_open_set": "._openset",
    "plot_padding": "._tutorial",
    "plot_recording": "._recording",
    "plot_sequence_lengths": "._tutorial",
    "plot_stream": "._stream",
    "plot_training_progress": "._run",
    "progress_plot_path": "._live",
    "recording_data": "._recording",
    "smooth": "._run",
    "stream_data": "._stream",
    "training_progress_plot": "._live",
    "write_figures": "._writing",
}
"""Where each figure function lives: loaded on first use, so that importing `vowels.plots` loads
neither NumPy nor matplotlib."""


def __getattr__(name: str) -> object:
    if name not in _LAZY:
        raise AttributeError(f"module 'vowels.plots' has no attribute {name!r}")
    return getattr(import_module(_LAZY[name], __name__), name)
