"""The names of the figures `vowels plot` draws, and its formats: importable without NumPy or matplotlib,
so the command line lists them at once."""

__all__ = ["DATA_FIGURES", "FIGURES", "FORMATS", "MODEL_FIGURES", "RECORDING_FIGURES", "RUN_FIGURES"]

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
