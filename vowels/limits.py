"""Bounds on what a user may ask for, importable at once (no NumPy) so the command line checks them before any work;
the others sit beside the code they guard (`vowels.audio.MAX_SECONDS`, `vowels.datasets.MAX_LINE_BYTES`)."""

__all__ = [
    "MAX_SEED",
    "MAX_SEEDS",
    "SERVE_MAX_BYTES",
    "SERVE_MAX_JOBS",
    "SERVE_MAX_MODELS",
    "SERVE_MAX_RECORDINGS",
    "cap_workers",
]

MAX_SEED = 2**32 - 1
"""The largest seed NumPy and Keras accept."""
MAX_SEEDS = 1000
"""The most seeds one `vowels reproduce --seeds N` trains."""
SERVE_MAX_MODELS = 20
"""`vowels serve --max-models`: most models in the folder, trained or being enrolled."""
SERVE_MAX_RECORDINGS = 1000
"""`vowels serve --max-recordings`: most recordings kept for enrolment, over every model."""
SERVE_MAX_BYTES = 2 * 1024**3
"""`vowels serve --max-disk` (in MiB there): most bytes the models folder may hold, 2 GiB."""
SERVE_MAX_JOBS = 4
"""`vowels serve --max-jobs`: most training jobs queued or running at once."""


def cap_workers(n_jobs: int, *, asked: str | None = None) -> tuple[int, str | None]:
    """The worker processes to start for `n_jobs` (-1: every CPU): at most the CPUs available to this process.

    Parameters
    ----------
    n_jobs : int >= 1, or -1
    asked : str, default=None
        How the user wrote the request, for the message (``"--workers 8"``); None says ``n_jobs=8``.

    Returns
    -------
    n_jobs : int
    lowered : str or None
        Why the count was lowered (one sentence naming the request and the CPUs); None when it was not.
    """
    from .provenance import available_cpus

    cpus = available_cpus()
    if n_jobs == -1 or n_jobs <= cpus:
        return (cpus if n_jobs == -1 else n_jobs), None
    asked = f"n_jobs={n_jobs}" if asked is None else asked
    return cpus, f"{asked} is more than the {cpus} CPUs available to this process; using {cpus}."
