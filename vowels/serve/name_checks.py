"""Model and speaker names from the web: checked, so that every path built from one stays in the models folder."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from ..errors import ParameterError
from ..names import UNKNOWN

__all__ = ["MAX_NAME_BYTES", "check_name", "child", "name_key"]

MAX_NAME_BYTES = 64
"""Longest model or speaker name, in bytes of UTF-8 (a file name may have 255): ``𝐀`` takes 4."""

_NAME = re.compile(r"[^\W_](?:[\w .-]*[^\W_])?")
"""Letters, digits, ``_``, ``-``, ``.`` and inner spaces, starting and ending with a letter or digit."""


_SCRIPTS_TOGETHER = ({"CJK", "HIRAGANA", "KATAKANA", "KATAKANA-HIRAGANA"}, {"CJK", "HANGUL"}, {"CJK", "BOPOMOFO"})
"""Scripts one name may mix, besides Latin (Unicode TS 39's "highly restrictive" level)."""


def name_key(name: str) -> str:
    """What two names that read alike share: NFKC-normalised (``ｕｎｋｎｏｗｎ`` and ``𝐮nknown`` are
    ``unknown``), then case-folded. Reserved words and duplicates are checked on it."""
    return unicodedata.normalize("NFKC", name).casefold()


def check_name(name: str, *, what: str) -> str:
    """`name` if it is a valid model or speaker name (`what`); else a `ParameterError` saying what is allowed.
    Its length is counted in bytes of UTF-8; letters of scripts that may be confused (outside
    `_SCRIPTS_TOGETHER`) and a speaker name that reads as ``unknown`` (`name_key`) are refused."""
    shown = name if len(name) <= MAX_NAME_BYTES + 10 else name[: MAX_NAME_BYTES + 7] + "..."
    size = len(name.encode("utf-8", "surrogatepass"))
    if not 1 <= size <= MAX_NAME_BYTES or not _NAME.fullmatch(name) or ".." in name:
        raise ParameterError(
            f"{what} name {shown!r} is not allowed: use letters, digits, '_', '-', '.' or inner spaces, starting "
            f"and ending with a letter or digit, {MAX_NAME_BYTES} bytes at most in UTF-8 (e.g. 'alice' or 'team-2')."
        )
    scripts = {unicodedata.name(c, "UNKNOWN").split()[0] for c in name_key(name) if c.isalpha()}  # LATIN, ...
    if len(scripts) > 1 and not any(scripts - {"LATIN"} <= allowed for allowed in _SCRIPTS_TOGETHER):
        raise ParameterError(
            f"{what} name {shown!r} is not allowed: it mixes {' and '.join(sorted(scripts)).lower()} letters, which "
            "can look alike; write it in one script."
        )
    if what == "speaker" and name_key(name) == UNKNOWN:
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
