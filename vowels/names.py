"""The names a user chooses among, importable at once (no NumPy): the command line offers them as
choices before any heavy library loads, and the modules that act on them import them from here, so
each list is written once. Bounds on numbers are in `vowels.limits`; the recipes' names in
`vowels.recipes`."""

__all__ = [
    "ARCHITECTURES",
    "DATA_FIGURES",
    "DSP_CHOICES",
    "ENGINES",
    "FEATURE_KINDS",
    "FIGURES",
    "FORMATS",
    "MODEL_FIGURES",
    "MODES",
    "RECORDING_FIGURES",
    "RECURRENT",
    "RUN_FIGURES",
    "UNKNOWN",
]


FEATURE_KINDS = ("mfcc", "lpcc")
"""Features of a recording (`vowels.features.FeatureConfig.kind`): MFCC, or the LPC cepstrum of the
Japanese Vowels analysis."""

MODES = ("matlab", "padded", "masked")
"""BiLSTM last-output semantics (`vowels.model.build_network`): MATLAB's (the backward LSTM's output at
the last padded time step), the state after the whole padded sequence, or each direction's state after
the true frames only."""

ARCHITECTURES = ("bilstm", "lstm", "dnn", "fcn")
"""Network families (`vowels.classifier.SpeakerClassifier`'s ``architecture``): the tutorial's
bidirectional LSTM; a forward-only LSTM, which can classify while frames arrive; a frame-level
network whose frames vote; Wang et al.'s fully convolutional network (a time-delay network)."""

RECURRENT = ("bilstm", "lstm")
"""The families that read a sequence step by step, and take ``mode`` and ``n_layers``."""

ENGINES = ("fast", "keras")
"""How a saved recordings model runs (`vowels.recordings.RecordingClassifier.load`): without TensorFlow
(`vowels.inference.FastClassifier`: the network in NumPy or ONNX Runtime, features by `vowels.dsp`), or
with Keras and librosa as in training."""

UNKNOWN = "unknown"
"""The answer for a recording of no enrolled speaker, so never a speaker's name."""

DSP_CHOICES = ("librosa", "numpy")
"""Who computes a recording's features (`vowels.features.compute_features`'s ``dsp``, `vowels.audio`'s
``backend``): librosa, or NumPy through `vowels.dsp` (the same numbers without importing librosa)."""

DATA_FIGURES = ("features", "lengths", "padding", "padding-cost")
"""Figures drawn from the bundled data (and the padding experiment shipped with the package) alone."""
RUN_FIGURES = ("training", "confusion")
"""Figures that need a trained model: a run folder (`--run`) or a model bundle (`--model`)."""
RECORDING_FIGURES = ("recording",)
"""Figures of one audio file (`--audio`)."""
MODEL_FIGURES = ("open-set", "stream")
"""Figures of a model trained on recordings: the open-set scores its threshold was calibrated on
(`--model`), and a forward-only model's answers as a recording arrives (`--model` and `--audio`)."""
FIGURES = DATA_FIGURES + RUN_FIGURES + RECORDING_FIGURES + MODEL_FIGURES
FORMATS = ("png", "svg", "pdf")
"""The file formats of `vowels plot`'s figures."""
