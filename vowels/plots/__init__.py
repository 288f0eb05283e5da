"""Every figure, headless: each function returns a `matplotlib.figure.Figure` built without pyplot, in the
Okabe-Ito palette and cividis (readable with the common colour-vision deficiencies); the numbers behind each
come from a function of their own (`padding_layout`, `confusion_data`, ...), checkable without reading pixels."""

from ._live import TrainingPlot, display_available, progress_plot_path, training_progress_plot
from ._openset import OpenSetData, calibration_scores, open_set_data, plot_open_set
from ._padding_cost import default_padding_results, load_padding_results, padding_cost, padding_cost_table
from ._recording import RecordingData, StreamData, plot_recording, plot_stream, recording_data, stream_data
from ._run import ConfusionData, confusion_data, epoch_starts, plot_confusion, plot_training_progress, smooth
from ._tutorial import FRAME_HOP_MS, PaddingLayout, padding_layout, plot_features, plot_padding, plot_sequence_lengths
from ._writing import write_figures

__all__ = ["TrainingPlot", "display_available", "progress_plot_path", "training_progress_plot"]
__all__ += ["OpenSetData", "calibration_scores", "open_set_data", "plot_open_set"]
__all__ += ["default_padding_results", "load_padding_results", "padding_cost", "padding_cost_table"]
__all__ += ["RecordingData", "StreamData", "plot_recording", "plot_stream", "recording_data", "stream_data"]
__all__ += ["ConfusionData", "confusion_data", "epoch_starts", "plot_confusion", "plot_training_progress", "smooth"]
__all__ += ["write_figures"]
__all__ += ["FRAME_HOP_MS", "PaddingLayout", "padding_layout", "plot_features", "plot_padding", "plot_sequence_lengths"]
