"""The exceptions a user can cause; the CLI prints them on one line and exits 2."""

__all__ = [
    "VowelsError",
    "ParameterError",
    "UsageError",
    "DataError",
    "AudioError",
    "BundleError",
    "NotFittedError",
    "unreadable",
]


class VowelsError(Exception):
    """Base of every error a user can cause by what they pass in."""


class ParameterError(VowelsError, ValueError):
    """An argument has a value outside what is allowed."""


class UsageError(ParameterError):
    """Options of a command that do not fit together, in the command line's words (``vowels train: ...``)."""


class DataError(VowelsError, ValueError):
    """A data file or array is malformed; the message names the file and line."""


class AudioError(DataError):
    """A recording cannot be used: missing, empty, not audio, truncated, silent, too short, ..."""


class BundleError(VowelsError, OSError):
    """A model bundle is missing, incomplete, tampered with, or would be overwritten."""


class NotFittedError(VowelsError, ValueError, AttributeError):
    """A classifier was used before `fit` or `load`."""


def unreadable(path: object, exc: OSError, error: type[DataError] = DataError) -> DataError:
    """The `error` for a file the system would not let us read, with what to do if permission was denied."""
    if isinstance(exc, PermissionError):
        return error(f"{path}: cannot be read: permission denied; give your user read access to it.")
    return error(f"{path}: cannot be read ({exc.strerror or exc}).")
