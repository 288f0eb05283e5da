"""The names a user chooses among, each list written once and importable at once (no NumPy), so the command line
offers them before any heavy library loads; bounds on numbers are in `vowels.limits`."""

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
"""Features of a recording (`vowels.features.FeatureConfig.kind`): MFCC, or the LPC cepstrum."""

MODES = ("matlab", "padded", "masked")
"""BiLSTM last-output semantics (`vowels.model.build_network`): MATLAB's (the backward LSTM at the last padded step),
the state after the whole padded sequence, or each direction's state after the true frames only."""

ARCHITECTURES = ("bilstm", "lstm", "dnn", "fcn")
"""Network architectures (`vowels.classifier.SpeakerClassifier`'s ``architecture``): the tutorial's BiLSTM, a
forward-only LSTM, a frame-level network whose frames vote, Wang et al.'s fully convolutional network."""

RECURRENT = ("bilstm", "lstm")
"""The architectures that read a sequence step by step, and take ``mode`` and ``n_layers``."""

ENGINES = ("fast", "keras")
"""How a saved recordings model runs (`vowels.recordings.RecordingClassifier.load`): without TensorFlow
(`vowels.inference.FastClassifier`), or with Keras and librosa as in training."""

UNKNOWN = "unknown"
"""The answer for a recording of no enrolled speaker, so never a speaker's name."""

DSP_CHOICES = ("librosa", "numpy")
"""Who computes a recording's features (every ``dsp`` parameter): librosa, or `vowels.dsp` (the same numbers)."""

DATA_FIGURES = ("features", "lengths", "padding", "padding-cost")
"""Figures drawn from the bundled data (and the padding experiment shipped with the package) alone."""
RUN_FIGURES = ("training", "confusion")
"""Figures that need a trained model: a run folder (`--run`) or a model bundle (`--model`)."""
RECORDING_FIGURES = ("recording",)
"""Figures of one audio file (`--audio`)."""
MODEL_FIGURES = ("open-set", "stream")
"""Figures of a recordings model (`--model`): its open-set scores, a forward-only model's answers as audio arrives."""
FIGURES = DATA_FIGURES + RUN_FIGURES + RECORDING_FIGURES + MODEL_FIGURES
FORMATS = ("png", "svg", "pdf")
"""The file formats of `vowels plot`'s figures."""
