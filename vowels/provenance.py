"""Where a result came from: library versions and a summary of the machine, saved with every bundle and run."""

from __future__ import annotations

import os
import platform
from collections.abc import Sequence
from importlib import metadata as _metadata

__all__ = ["LIBRARIES", "available_cpus", "library_versions", "machine_summary"]

LIBRARIES = ("vowels", "keras", "tensorflow", "numpy", "scikit-learn")
"""The distributions whose versions a model bundle records."""


def library_versions(names: Sequence[str] = LIBRARIES) -> dict[str, str]:
    """Installed versions of Python and of the distributions `names`, as pip names them (``"scikit-learn"``):
    ``{"python": "3.11.7", "keras": "3.15.1", ...}``, ``"not installed"`` for a missing one."""
    versions = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = _metadata.version(name)
        except _metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS tells it, else all), at least 1."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def machine_summary() -> dict[str, str | int | None]:
    """The machine this process runs on, without names that identify a person or host.

    Returns
    -------
    dict
        ``platform`` (OS and release), ``machine`` (architecture), ``processor`` (may be empty), ``cpu_count``
        (logical CPUs), ``cpus_available`` (those this process may use; None if unknown), ``python``.
    """
    try:
        available: int | None = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on every OS
        available = None
    return {
        "platform": platform.platform(terse=True),
        "machine": platform.machine(),
        "processor": platform.processor(),
        "cpu_count": os.cpu_count(),
        "cpus_available": available,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
    }
