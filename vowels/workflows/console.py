"""Where a command's lines go, and what it returns to the shell. Results go to stdout, notes to stdout unless
quiet, problems to stderr; every file name is printed on one line, its undecodable bytes as ``\\xNN`` and, in
text and on stderr, its control characters escaped (JSON keeps its own escapes, CSV quotes them)."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Sequence
from enum import IntEnum
from typing import Any, TextIO

from ..progress import ProgressPrinter

__all__ = ["Console", "ExitStatus", "printable", "status"]


class ExitStatus(IntEnum):
    """What `vowels` returns to the shell: 0 success, 1 some inputs failed (each named on stderr), 2 usage or
    input error, 130 interrupted."""

    SUCCESS = 0
    PARTIAL_FAILURE = 1
    ERROR = 2
    INTERRUPTED = 130


def status(*failures: object) -> ExitStatus:
    """Partial failure when any of `failures` (lists of inputs that could not be used) holds one, else success."""
    return ExitStatus.PARTIAL_FAILURE if any(failures) else ExitStatus.SUCCESS


_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
"""What would break a line or drive the terminal: controls, DEL, line separators, bidirectional overrides."""


def printable(text: str, *, controls: bool = True) -> str:
    """`text` with the undecodable bytes of a non-UTF-8 file name (surrogate escapes) shown as ``\\xNN``,
    and, if `controls`, each control character as an escape (``\\n``, ``\\t``, ``\\x1b``, ``\\u2028``)."""
    try:
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a lone surrogate that no file name decodes to
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return _CONTROLS.sub(lambda match: repr(match.group())[1:-1], text) if controls else text


class Console:
    """A command's output: `result` lines always, `note` lines unless `quiet`, `problem` lines on stderr,
    every value made printable (`printable`), so that no file name can crash the output or split a line."""

    def __init__(self, *, quiet: bool = False) -> None:
        self.quiet = quiet

    def result(self, *lines: object) -> None:
        """Lines on stdout, even when quiet."""
        self._print(lines, sys.stdout)

    def note(self, *lines: object) -> None:
        """Lines on stdout unless quiet."""
        if not self.quiet:
            self.result(*lines)

    def problem(self, *lines: object) -> None:
        """Lines on stderr."""
        self._print(lines, sys.stderr)

    @staticmethod
    def _print(lines: Sequence[object], stream: TextIO) -> None:
        if lines:
            print(*(printable(str(line)) for line in lines), sep="\n", file=stream, flush=True)

    def skipped(self, failures: Sequence[Any], *, word: str = "skipped") -> None:
        """One ``vowels: <word>: <message>`` line on stderr per file that could not be used."""
        for failure in failures:
            self.problem(f"vowels: {word}: {failure.message}")

    def json(self, value: object) -> None:
        """`value` as indented JSON, whose escapes (``\\n``, ``\\udcff``) already keep every string on its line."""
        import json

        print(json.dumps(value, indent=2))

    def csv(self, rows: Sequence[dict], fields: Sequence[str]) -> None:
        """`rows` as CSV with a header, `fields` only, every text field quoted (Python's csv module before 3.12
        leaves a carriage return unquoted) and printable (`printable`, control characters kept)."""
        import csv

        writer = csv.DictWriter(sys.stdout, fieldnames=fields, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)
        writer.writeheader()
        writer.writerows(
            {k: printable(v, controls=False) if isinstance(v, str) else v for k, v in row.items() if k in fields}
            for row in rows
        )

    def progress(self, what: str) -> Callable[[int, int], None] | None:
        """Progress over files on stderr (`vowels.progress.ProgressPrinter.files`); None when quiet."""
        return None if self.quiet else ProgressPrinter().files(what)

    def workers(self, workers: int) -> int:
        """--workers, capped at the CPUs available (`vowels.limits.cap_workers`) with a warning on stderr."""
        from ..limits import cap_workers

        n_jobs, lowered = cap_workers(workers, asked=f"--workers {workers}")
        if lowered is not None:
            self.problem(f"vowels: warning: {lowered}")
        return n_jobs
