"""Bounds on what a user may ask for, importable at once (no NumPy): the command line checks them
before any work. The others sit beside the code they guard: `vowels.audio.MAX_SECONDS`,
`vowels.datasets.MAX_LINE_BYTES`, the sample rates and feature count of `vowels.bundle`."""

__all__ = ["MAX_SEED", "MAX_SEEDS"]

MAX_SEED = 2**32 - 1
"""The largest seed NumPy and Keras accept."""

MAX_SEEDS = 1000
"""The most seeds one `vowels reproduce --seeds N` trains."""
