"""Model and speaker names from the web: checked once, so that every path built from one stays
inside the models folder."""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import ParameterError

__all__ = ["MAX_NAME_LENGTH", "RESERVED_SPEAKER", "check_name", "child"]

MAX_NAME_LENGTH = 64
"""Longest model or speaker name, in characters."""

RESERVED_SPEAKER = "unknown"
"""The answer for no match (`vowels.recordings.UNKNOWN`), so never a speaker's name."""

_NAME = re.compile(r"[^\W_](?:[\w .-]*[^\W_])?")
"""Letters, digits, ``_``, ``-``, ``.`` and inner spaces, starting and ending with a letter or digit: no
path separator, no leading dot (hidden files, ``..``), nothing a shell or a file system treats specially."""


def check_name(name: str, *, what: str) -> str:
    """`name` if it is a valid model or speaker name (`what`); else a `ParameterError` saying what is allowed."""
    shown = name if len(name) <= MAX_NAME_LENGTH + 10 else name[: MAX_NAME_LENGTH + 7] + "..."
    if not 1 <= len(name) <= MAX_NAME_LENGTH or not _NAME.fullmatch(name) or ".." in name:
        raise ParameterError(
            f"{what} name {shown!r} is not allowed: use 1 to {MAX_NAME_LENGTH} letters, digits, '_', '-', '.' or "
            "inner spaces, starting and ending with a letter or digit (e.g. 'alice' or 'team-2')."
        )
    if what == "speaker" and name.casefold() == RESERVED_SPEAKER:
        raise ParameterError(
            f"speaker name {name!r} is not allowed: it is the answer for a voice the model does not know; "
            "choose another name."
        )
    return name


def child(root: Path, name: str, *, what: str) -> Path:
    """The path ``root / name`` for a checked `name`, proven to lie directly inside `root`."""
    path = root / check_name(name, what=what)
    if path.resolve().parent != root.resolve():
        raise ParameterError(f"{what} name {name!r} leads outside {root}; choose another name.")
    return path
