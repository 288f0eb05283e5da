"""TensorFlow's own log lines off stderr, for the `vowels` command unless ``-v``: `hide_tensorflow_logs`, called
before TensorFlow loads, sets ``TF_CPP_MIN_LOG_LEVEL=3`` unless the user set it, drops the C++ lines below that level
that TensorFlow writes while it loads (the CUDA probe logs before absl reads the level), then puts its Python and absl
loggers at ERROR unless their level was set; `show_tensorflow_logs` undoes it if TensorFlow has not loaded yet."""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import logging
import os
import re
import sys
import tempfile
from collections.abc import Sequence
from types import ModuleType
from typing import Any

__all__ = ["hide_tensorflow_logs", "show_tensorflow_logs"]

LEVEL_VARIABLE, QUIET_LEVEL = "TF_CPP_MIN_LOG_LEVEL", "3"
_SEVERITY = re.compile(rb"^([IWEF])\d{4} \d\d:\d\d:\d\d")  # absl's prefix: severity, month and day, time
_PREAMBLE = (
    b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    b"To enable the following instructions:",
)
_LEVELS = {b"I": 0, b"W": 1, b"E": 2, b"F": 3}

_state: dict[str, Any] = {"set_level": False, "finder": None}


def _min_level() -> int:
    """The C++ log level in force: ``TF_CPP_MIN_LOG_LEVEL``, 0 if unset or not a number."""
    try:
        return int(os.environ.get(LEVEL_VARIABLE, "0"))
    except ValueError:
        return 0


def filter_log_lines(data: bytes, min_level: int) -> bytes:
    """`data` without the C++ log lines below `min_level` (0 info, 1 warning, 2 error, 3 fatal), nor, above 0, the
    lines TensorFlow writes around them without a severity (`_PREAMBLE`)."""

    def kept(line: bytes) -> bool:
        match = _SEVERITY.match(line)
        below = match is not None and _LEVELS[match.group(1)] < min_level
        return not below and not (min_level > 0 and line.rstrip().startswith(_PREAMBLE))

    return b"".join(line for line in data.splitlines(keepends=True) if kept(line))


class _QuietTensorFlowImport(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds ``tensorflow`` once and runs its ``__init__`` with stderr caught, then writes back what is kept of it."""

    loader: Any = None  # TensorFlow's own loader, which this one stands in for

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != "tensorflow":
            return None
        _remove_finder()
        spec = importlib.util.find_spec(fullname)
        if spec is not None and spec.loader is not None:
            self.loader, spec.loader = spec.loader, self
        return spec

    def exec_module(self, module: ModuleType) -> None:
        module.__loader__ = self.loader
        if module.__spec__ is not None:
            module.__spec__.loader = self.loader
        try:
            saved = os.dup(2)
        except OSError:  # no stderr to guard
            self.loader.exec_module(module)
        else:
            with tempfile.TemporaryFile() as caught:
                sys.stderr.flush()
                os.dup2(caught.fileno(), 2)
                try:
                    self.loader.exec_module(module)
                finally:
                    sys.stderr.flush()
                    os.dup2(saved, 2)
                    os.close(saved)
                    caught.seek(0)
                    rest = filter_log_lines(caught.read(), _min_level())
                    if rest:
                        os.write(2, rest)
        # TensorFlow's Python logger and absl's at ERROR, unless a level was set (TensorFlow sets INFO in a REPL).
        get_logger = getattr(module, "get_logger", None)
        if get_logger is not None and get_logger().level in (logging.NOTSET, logging.INFO):
            get_logger().setLevel(logging.ERROR)
        if "absl.logging" in sys.modules and logging.getLogger("absl").level == logging.NOTSET:
            logging.getLogger("absl").setLevel(logging.ERROR)

    def __getattr__(self, name: str) -> Any:
        if self.loader is None:
            raise AttributeError(name)
        return getattr(self.loader, name)


def _remove_finder() -> None:
    """Take the import hook of `hide_tensorflow_logs` out of ``sys.meta_path``."""
    finder = _state["finder"]
    if finder is not None and finder in sys.meta_path:
        sys.meta_path.remove(finder)
    _state["finder"] = None


def hide_tensorflow_logs() -> None:
    """Keep TensorFlow's log lines off stderr (see the module docstring); nothing if it is loaded already."""
    if "tensorflow" in sys.modules or _state["finder"] is not None:
        return
    if LEVEL_VARIABLE not in os.environ:
        os.environ[LEVEL_VARIABLE] = QUIET_LEVEL
        _state["set_level"] = True
    if _min_level() > 0:
        finder = _QuietTensorFlowImport()
        _state["finder"] = finder
        sys.meta_path.insert(0, finder)


def show_tensorflow_logs() -> None:
    """Undo `hide_tensorflow_logs` (``vowels -v``) before TensorFlow loads; a ``TF_CPP_MIN_LOG_LEVEL`` the user set
    is kept."""
    _remove_finder()
    if _state["set_level"] and os.environ.get(LEVEL_VARIABLE) == QUIET_LEVEL:
        del os.environ[LEVEL_VARIABLE]
    _state["set_level"] = False
