"""The names a user chooses among, importable at once (no NumPy): the command line offers them as
choices before any heavy library loads, and the modules that act on them import them from here, so
each list is written once. The figure names and formats of `vowels plot` are in
`vowels.plots._names`; bounds on numbers are in `vowels.limits`."""

__all__ = ["DSP_CHOICES", "ENGINES", "FEATURE_KINDS", "MODES", "RECIPE_NAMES"]

FEATURE_KINDS = ("mfcc", "lpcc")
"""Features of a recording (`vowels.features.FeatureConfig.kind`): MFCC, or the LPC cepstrum of the
Japanese Vowels analysis."""

MODES = ("matlab", "padded", "masked")
"""BiLSTM last-output semantics (`vowels.model.build_network`): MATLAB's (the backward LSTM's output at
the last padded time step), the state after the whole padded sequence, or each direction's state after
the true frames only."""

RECIPE_NAMES = ("matlab", "best")
"""The names of `vowels.tutorial.RECIPES`, in its order; the settings themselves are written there only."""

ENGINES = ("keras", "numpy", "auto")
"""How a saved recordings model runs (`vowels.recordings.RecordingClassifier.load`): Keras and librosa,
NumPy alone, or NumPy when the bundle holds its weights file and Keras otherwise."""

DSP_CHOICES = ("librosa", "numpy")
"""Who computes a recording's features (`vowels.features.compute_features`'s ``dsp``, `vowels.audio`'s
``backend``): librosa, or NumPy through `vowels.dsp` (the same numbers without importing librosa)."""
