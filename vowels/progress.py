"""Training progress: one line per epoch on stderr (rewritten in place on a terminal, one output in a notebook,
plain lines elsewhere), the monitors a training tells (`monitoring`), and runs of several trainings
(`training_run`)."""

from __future__ import annotations

import contextlib
import math
import shutil
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from statistics import fmean
from typing import Any, Protocol, TextIO

from .errors import ParameterError
from .validation import check_choice, check_verbose

__all__ = [
    "EpochStatus",
    "ProgressMonitor",
    "RunStatus",
    "ProgressPrinter",
    "TrainingProgress",
    "clock",
    "monitoring",
    "report_every",
    "resolve_verbose",
    "run_networks",
    "training_run",
]

MAX_LINES = 20
"""About how many lines a training writes where lines cannot be rewritten (`report_every`)."""


def _ipython() -> Any:
    """The running IPython shell, None outside one (IPython is not imported for the asking)."""
    return sys.modules["IPython"].get_ipython() if "IPython" in sys.modules else None


def resolve_verbose(verbose: int | str) -> int:
    """`verbose` as 0 or 1; ``"auto"`` is 1 where someone watches (notebook, IPython, the prompt), else 0."""
    check_verbose(verbose)
    if verbose == "auto":
        return int(hasattr(sys, "ps1") or bool(sys.flags.interactive) or _ipython() is not None)
    return min(int(verbose), 1)


def clock(seconds: float) -> str:
    """`seconds` as ``m:ss``, or ``h:mm:ss`` from an hour."""
    hours, rest = divmod(max(0, round(seconds)), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@dataclass(frozen=True)
class RunStatus:
    """Where a run of several trainings (`training_run`) stands after an epoch: the network training (from 1)
    of `n_networks`, epochs done of `n_epochs` over them all, seconds `elapsed` since the run began and
    `remaining` (None until an epoch after a network's first is timed)."""

    network: int
    n_networks: int
    epochs_done: int
    n_epochs: int
    elapsed: float
    remaining: float | None

    def text(self) -> str:
        """``run 31% done, elapsed 1:02, left 2:31``."""
        done = f"run {100 * self.epochs_done // self.n_epochs}% done, elapsed {clock(self.elapsed)}"
        if self.epochs_done >= self.n_epochs:
            return f"{done}, finished"
        return done + (f", left {clock(self.remaining)}" if self.remaining is not None else "")


@dataclass(frozen=True)
class EpochStatus:
    """Where a training stands after epoch `epoch` (from 1) of `n_epochs`: `loss` and `accuracy`, means over
    the epoch's mini-batches (the loss with the L2 penalty, an ensemble's members summed); seconds `elapsed`
    since training began and `remaining` (estimated from the epochs after the first; None after the first);
    `run`, the whole run's progress in a `training_run`."""

    epoch: int
    n_epochs: int
    loss: float
    accuracy: float
    elapsed: float
    remaining: float | None
    run: RunStatus | None = None

    @property
    def done(self) -> bool:
        """Whether this was the last epoch."""
        return self.epoch >= self.n_epochs

    def line(self) -> str:
        """``Epoch 5/100  mean loss 0.8123  mean accuracy 72.3%  elapsed 0:03  left 0:58``; in a run,
        ``Network 2/7  Epoch 5/30  mean loss ...  run 19% done, elapsed 0:41, left 2:55``."""
        tail = "  done" if self.done else f"  left {clock(self.remaining)}" if self.remaining is not None else ""
        when = self.run.text() if self.run is not None else f"elapsed {clock(self.elapsed)}{tail}"
        return (
            f"{_epoch_words(self.epoch, self.n_epochs, self.run)}  mean loss {self.loss:.4f}  "
            f"mean accuracy {100 * self.accuracy:5.1f}%  {when}"
        )


def _epoch_words(epoch: int, n_epochs: int, run: RunStatus | _Run | None) -> str:
    """``Epoch 5/100``, after ``Network 2/7`` in a `training_run`."""
    network = "" if run is None else f"Network {run.network}/{run.n_networks}  "
    return f"{network}Epoch {epoch:>{len(str(n_epochs))}}/{n_epochs}"


class ProgressMonitor(Protocol):
    """What `TrainingProgress` tells: a training begins, an epoch ends (with the history so far), it ends."""

    def start(self, n_epochs: int, n_batches: int) -> None: ...

    def update(self, status: EpochStatus, history: Any) -> None: ...

    def close(self) -> None: ...


def report_every(n_epochs: int) -> int:
    """Epochs between two lines where lines cannot be rewritten: the smallest of 1, 2, 5, 10, 20, 50, ...
    giving at most `MAX_LINES` lines (every 5 for the tutorial's 100 epochs, as often as MATLAB's)."""
    step = 1
    while math.ceil(n_epochs / step) > MAX_LINES:
        step = step * 5 // 2 if str(step).startswith("2") else step * 2
    return step


class ProgressPrinter:
    """Epoch lines on `stream` (default: stderr when training starts), in the display that suits it.

    Parameters
    ----------
    stream : text stream, default=None
        Where lines go; None is ``sys.stderr`` as it is when training starts.
    display : {"terminal", "lines", "notebook"}, default=None
        Rewrite one line, write plain lines (`report_every`), or update one Jupyter output; None picks the
        stream's (a terminal, a kernel's stderr, else lines).
    """

    def __init__(self, stream: TextIO | None = None, *, display: str | None = None) -> None:
        check_choice(display, "display", ("terminal", "lines", "notebook", None))
        self.stream, self.display = stream, display
        self._width, self._open_line = 0, False
        self._cell: Any = None  # the Jupyter output a notebook display updates

    def _pick_display(self, stream: TextIO) -> str:
        """The display that suits `stream`: a terminal, a Jupyter kernel's stderr, else lines."""
        if getattr(stream, "isatty", lambda: False)():
            return "terminal"
        if stream is sys.stderr and "ipykernel" in sys.modules and hasattr(_ipython(), "kernel"):
            return "notebook"
        return "lines"

    def start(self, n_epochs: int, n_batches: int) -> None:
        stream = self.stream if self.stream is not None else sys.stderr
        self._stream, self._display = stream, self.display or self._pick_display(stream)
        self._every = report_every(n_epochs)
        every = f" (a line every {self._every} epochs)" if self._display == "lines" and self._every > 1 else ""
        self._header = (
            f"Training {n_epochs} epoch{'s' if n_epochs != 1 else ''}; loss and accuracy are each epoch's means over "
            f"its {n_batches} mini-batch{'es' if n_batches != 1 else ''}{every}."
        )
        run = _RUN.get()
        if self._display == "notebook":
            from IPython.display import display

            self._cell = display({"text/plain": self._header}, raw=True, display_id=True)
        elif run is None or run.network == 1:  # a run's later networks are told by the lines before them
            self._write(self._header + "\n")
        if self._display != "lines":
            self._show(f"{_epoch_words(1, n_epochs, run)}  running (the first epoch also builds the graph)")

    def _write(self, text: str) -> None:
        self._stream.write(text)
        self._stream.flush()

    def _show(self, line: str) -> None:
        """Replace the line in place (terminal, notebook)."""
        if self._display == "notebook":
            self._cell.update({"text/plain": f"{self._header}\n{line}"}, raw=True)
            return
        columns = shutil.get_terminal_size(fallback=(80, 24)).columns
        line = line[: max(20, columns - 1)]
        self._write("\r" + line.ljust(self._width))
        self._width, self._open_line = len(line), True

    def update(self, status: EpochStatus, history: Any) -> None:
        if self._display == "lines":
            if status.epoch == 1 or status.epoch % self._every == 0 or status.done:
                self._write(status.line() + "\n")
            return
        self._show(status.line())
        if status.done:
            self.close()

    def close(self) -> None:
        """End an open terminal line, so that what follows starts on a line of its own."""
        if self._open_line:
            self._write("\n")
            self._open_line, self._width = False, 0

    def files(self, what: str) -> Callable[[int, int], None]:
        """A progress callback ``(done, total)`` for work on files: files done, the rate from the first file done
        (whose time loads the audio libraries), time left; a bar redrawn at most 10 times a second on a terminal,
        else a plain line at each quarter."""
        stream = self.stream if self.stream is not None else sys.stderr
        self._stream, self._display = stream, "lines" if self._pick_display(stream) == "lines" else "terminal"
        start = time.monotonic()
        drawn, quarters, first = -1.0, 0, (start, 0)

        def show(done: int, total: int) -> None:
            nonlocal drawn, quarters, first
            now = time.monotonic()
            if total <= 0 or (self._display == "terminal" and done < total and now - drawn < 0.1):
                return
            rate = done / (now - start) if now > start else 0.0
            if first[1] == 0:
                first = (now, done)
            elif done < total and done > first[1] and now > first[0]:
                rate = (done - first[1]) / (now - first[0])
            if done >= total:
                timing = f"in {clock(now - start)}, start-up included ({rate:.1f} files/s overall)"
            else:
                timing = f"{rate:.1f} files/s, {clock((total - done) / rate) if rate else '?'} left"
            if self._display == "terminal":
                drawn, filled = now, 30 * done // total
                self._show(f"{what} [{'#' * filled}{'.' * (30 - filled)}] {done}/{total} files, {timing}")
                if done >= total:
                    self.close()
            elif 4 * done // total > quarters:
                quarters = 4 * done // total
                self._write(f"{what}: {done}/{total} files ({100 * done // total}%), {timing}\n")

        return show


_MONITORS: ContextVar[tuple[ProgressMonitor, ...]] = ContextVar("vowels_training_monitors", default=())


@contextlib.contextmanager
def monitoring(monitor: ProgressMonitor) -> Iterator[ProgressMonitor]:
    """While the block runs, every training in this context (this thread) also tells `monitor` how it goes.

    Parameters
    ----------
    monitor : ProgressMonitor
        Told ``start(n_epochs, n_batches)`` as each network's training begins, ``update(status, history)``
        after each epoch (an `EpochStatus`, the `vowels.training.TrainingHistory` so far), ``close()``
        at its end, also on failure; yielded by the block. Blocks nest.

    Examples
    --------
    >>> class Epochs:
    ...     def start(self, n_epochs, n_batches): print(f"{n_epochs} epochs")
    ...     def update(self, status, history): print(status.line())
    ...     def close(self): pass
    >>> with monitoring(Epochs()):  # doctest: +SKIP
    ...     clf.fit(train)
    """
    for method in ("start", "update", "close"):
        if not callable(getattr(monitor, method, None)):
            raise ParameterError(
                f"monitor must have start, update and close methods (vowels.progress.ProgressMonitor); "
                f"{type(monitor).__name__} has no {method}()."
            )
    token = _MONITORS.set((*_MONITORS.get(), monitor))
    try:
        yield monitor
    finally:
        _MONITORS.reset(token)


class _Run:
    """The count and timing of a `training_run`: networks started, epochs done, and how long they took."""

    def __init__(self, n_networks: int, n_epochs: int) -> None:
        self.n_networks, self.n_epochs = n_networks, n_epochs
        self.network = 0
        self.start = self._last = time.perf_counter()
        self.first_seconds: list[float] = []
        self.later_seconds: list[float] = []

    def network_started(self) -> None:
        self.network += 1
        self.n_networks = max(self.n_networks, self.network)

    def epoch_done(self, epoch: int, now: float) -> RunStatus:
        """Count an epoch ending at `now` (`time.perf_counter`); time left from the mean first epoch (timed from
        the previous network's end; the run's very first, which loads TensorFlow, dropped once another is
        timed) per network not past it, plus the mean later epoch per later epoch left."""
        (self.first_seconds if epoch == 1 else self.later_seconds).append(now - self._last)
        self._last = now
        done = len(self.first_seconds) + len(self.later_seconds)
        remaining = None
        if self.later_seconds:
            firsts, later = self.first_seconds[1:] or self.first_seconds, self.later_seconds
            later_left = max(0, self.n_networks * (self.n_epochs - 1) - len(later))
            remaining = (self.n_networks - len(self.first_seconds)) * fmean(firsts) + later_left * fmean(later)
        n_epochs = max(self.n_networks * self.n_epochs, done)
        return RunStatus(self.network, self.n_networks, done, n_epochs, now - self.start, remaining)


_RUN: ContextVar[_Run | None] = ContextVar("vowels_training_run", default=None)


def run_networks() -> tuple[int, int] | None:
    """``(network, n_networks)`` of the `training_run` in force (networks started, the run's count); None outside."""
    run = _RUN.get()
    return None if run is None else (run.network, run.n_networks)


@contextlib.contextmanager
def training_run(n_networks: int, n_epochs: int) -> Iterator[None]:
    """While the block runs, its trainings (`n_networks` of `n_epochs` epochs each) are one run: epoch lines
    show the run's `RunStatus` and the header is printed once."""
    token = _RUN.set(_Run(n_networks, n_epochs))
    try:
        yield
    finally:
        _RUN.reset(token)


class TrainingProgress:
    """The monitors of one training (a `ProgressPrinter` if `verbose`, every `monitoring` monitor), timing
    the epochs: a context manager around them, `epoch_done` called after each."""

    def __init__(self, n_epochs: int, n_batches: int, *, verbose: int | str = 1) -> None:
        self.n_epochs, self.n_batches = n_epochs, n_batches
        printer: list[ProgressMonitor] = [ProgressPrinter()] if resolve_verbose(verbose) else []
        self.monitors = [*printer, *_MONITORS.get()]

    def __enter__(self) -> TrainingProgress:
        self._run = _RUN.get()
        if self._run is not None:
            self._run.network_started()
        self._start = time.perf_counter()
        for monitor in self.monitors:
            monitor.start(self.n_epochs, self.n_batches)
        return self

    def epoch_done(self, epoch: int, losses: Sequence[float], accuracies: Sequence[float], history: Any) -> None:
        """Tell every monitor how epoch `epoch` (from 1) went: its mini-batch losses and accuracies."""
        if not self.monitors:
            return
        now = time.perf_counter()
        if epoch == 1:
            self._first_done = now
        remaining = (now - self._first_done) / (epoch - 1) * (self.n_epochs - epoch) if epoch > 1 else None
        loss, accuracy = float(sum(losses) / len(losses)), float(sum(accuracies) / len(accuracies))
        run = None if self._run is None else self._run.epoch_done(epoch, now)
        status = EpochStatus(epoch, self.n_epochs, loss, accuracy, now - self._start, remaining, run)
        for monitor in self.monitors:
            monitor.update(status, history)

    def __exit__(self, *exc: object) -> None:
        for monitor in self.monitors:
            monitor.close()
