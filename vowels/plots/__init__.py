"""Every figure, headless: each function returns a `matplotlib.figure.Figure` built without pyplot.

Colours are the Okabe-Ito palette and matrices use cividis, readable with the common colour-vision
deficiencies. The numbers behind each figure come from a function of their own (`padding_layout`,
`confusion_data`, `open_set_data`, ...), so they can be checked without reading pixels.
"""

from ._live import TrainingPlot, display_available, progress_plot_path, training_progress_plot
from ._openset import OpenSetData, calibration_scores, open_set_data, plot_open_set
from ._padding_cost import default_padding_results, load_padding_results, padding_cost, padding_cost_table
from ._recording import RecordingData, plot_recording, recording_data
from ._run import ConfusionData, confusion_data, epoch_starts, plot_confusion, plot_training_progress, smooth
from ._stream import StreamData, plot_stream, stream_data
from ._style import OKABE_ITO
from ._tutorial import FRAME_HOP_MS, PaddingLayout, padding_layout, plot_features, plot_padding, plot_sequence_lengths
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
