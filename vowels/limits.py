"""Bounds on what a user may ask for, importable at once (no NumPy): the command line checks them
before any work. The others sit beside the code they guard: `vowels.audio.MAX_SECONDS`,
`vowels.datasets.MAX_LINE_BYTES`, the sample rates and feature count of `vowels.bundle`."""

__all__ = ["MAX_SEED", "MAX_SEEDS", "cap_workers"]

MAX_SEED = 2**32 - 1
"""The largest seed NumPy and Keras accept."""

MAX_SEEDS = 1000
"""The most seeds one `vowels reproduce --seeds N` trains."""


def cap_workers(n_jobs: int, *, asked: str | None = None) -> tuple[int, str | None]:
    """The worker processes to start for `n_jobs` (-1: every CPU): at most the CPUs available to this
    process (`vowels.provenance.available_cpus`), so that a typo cannot start hundreds of processes.

    Parameters
    ----------
    n_jobs : int >= 1, or -1
    asked : str, default=None
        How the caller's user wrote the request, for the message (``"--workers 8"``); None
        says ``n_jobs=8``.

    Returns
    -------
    n_jobs : int
    lowered : str or None
        Why the count was lowered, one sentence naming the request and the CPUs; None when it was not.
    """
    from .provenance import available_cpus

    cpus = available_cpus()
    if n_jobs == -1 or n_jobs <= cpus:
        return (cpus if n_jobs == -1 else n_jobs), None
    asked = f"n_jobs={n_jobs}" if asked is None else asked
    return cpus, f"{asked} is more than the {cpus} CPUs available to this process; using {cpus}."
