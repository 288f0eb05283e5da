"""Training progress: one line per epoch on stderr, and the monitors a training tells.

Each epoch reports the mean mini-batch loss and mini-batch accuracy over that epoch's
mini-batches (``TrainingHistory.epoch_loss`` and ``epoch_accuracy``, as ``history.json``
records them), the time since training began and an estimate of the time left. MATLAB's
training progress shows single mini-batches; with sorted, unshuffled batches the last
mini-batch of an epoch always holds the longest utterances, so one batch would not speak for
the epoch.

Where the lines go (`ProgressPrinter`):

- a terminal: one line on stderr, rewritten in place each epoch;
- a Jupyter notebook: one output, updated in place (only its last state is kept in the file);
- anything else (a file, a pipe, a CI log): plain lines on stderr with no control characters,
  for the first epoch, every `report_every` epochs (about 20 lines a training) and the last.

`monitoring` tells a monitor of one's own (a `ProgressMonitor`) about every epoch: the
training-progress figure (`vowels.plots.training_progress_plot`) is one, and `vowels serve`
shows a training job's progress with another. `training_run` makes the trainings of several
networks one run (`vowels train` trains up to seven), whose epoch lines then say which network
is training and the time left for the whole run.
"""

from __future__ import annotations

import contextlib
import math
import shutil
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol, TextIO

from .errors import ParameterError
from .validation import check_verbose

__all__ = [
    "EpochStatus",
    "ProgressMonitor",
    "RunStatus",
    "ProgressPrinter",
    "TrainingProgress",
    "clock",
    "in_notebook",
    "monitoring",
    "report_every",
    "resolve_verbose",
    "run_networks",
    "training_run",
]

MAX_LINES = 20
"""About how many lines a training writes where lines cannot be rewritten (`report_every`)."""


# --- verbose -------------------------------------------------------------------------------


def in_notebook() -> bool:
    """True inside a Jupyter kernel (IPython's ``ZMQInteractiveShell`` or a subclass)."""
    if "ipykernel" not in sys.modules or "IPython" not in sys.modules:
        return False
    from IPython import get_ipython

    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")


def _interactive() -> bool:
    """A notebook, an IPython shell or the Python prompt."""
    if hasattr(sys, "ps1") or sys.flags.interactive:
        return True
    if "IPython" not in sys.modules:
        return False
    from IPython import get_ipython

    return get_ipython() is not None


def resolve_verbose(verbose: int | str) -> int:
    """`verbose` as 0 or 1: ``"auto"`` is 1 where someone watches (a notebook, IPython, the Python
    prompt), 0 elsewhere (scripts, tests, services)."""
    check_verbose(verbose)
    if verbose == "auto":
        return int(_interactive())
    return min(int(verbose), 1)


# --- one epoch ----------------------------------------------------------------------------


def clock(seconds: float) -> str:
    """`seconds` as ``m:ss``, or ``h:mm:ss`` from an hour."""
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@dataclass(frozen=True)
class RunStatus:
    """Where a run of several trainings (`training_run`) stands after an epoch.

    Attributes
    ----------
    network, n_networks : int
        The network training (from 1) and the networks of the run.
    epochs_done, n_epochs : int
        Epochs done and in all, over every network of the run.
    elapsed : float
        Seconds since the run began.
    remaining : float or None
        Estimated seconds left for the whole run (`training_run`); None until an epoch after a
        network's first has been timed.
    """

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
    """Where a training stands after an epoch.

    Attributes
    ----------
    epoch, n_epochs : int
        Epochs done (from 1) and in all.
    loss : float
        Mean loss of the epoch's mini-batches (with the L2 penalty; an ensemble's members summed).
    accuracy : float in [0, 1]
        Mean mini-batch accuracy of the epoch's mini-batches.
    elapsed : float
        Seconds since training began.
    remaining : float or None
        Estimated seconds left: the mean time of the epochs after the first times the epochs
        left; None after the first epoch, whose time (it also builds the graph) says little.
    run : RunStatus or None
        The whole run's progress, when this training is one of a `training_run`.
    """

    epoch: int
    n_epochs: int
    loss: float
    accuracy: float
    elapsed: float
    remaining: float | None
    run: RunStatus | None = None

    @property
    def done(self) -> bool:
        return self.epoch >= self.n_epochs

    def line(self) -> str:
        """``Epoch 5/100  mean loss 0.8123  mean accuracy 72.3%  elapsed 0:03  left 0:58``; in a run,
        ``Network 2/7  Epoch 5/30  mean loss ...  run 19% done, elapsed 0:41, left 2:55``."""
        if self.run is not None:
            when = self.run.text()
        else:
            when = f"elapsed {clock(self.elapsed)}"
            if self.done:
                when += "  done"
            elif self.remaining is not None:
                when += f"  left {clock(self.remaining)}"
        network = "" if self.run is None else f"Network {self.run.network}/{self.run.n_networks}  "
        return (
            f"{network}Epoch {self.epoch:>{len(str(self.n_epochs))}}/{self.n_epochs}  mean loss {self.loss:.4f}  "
            f"mean accuracy {100 * self.accuracy:5.1f}%  {when}"
        )


class ProgressMonitor(Protocol):
    """What `TrainingProgress` tells: a training begins, an epoch ends (with the `TrainingHistory` so far,
    passed on unread), the training ends (or fails)."""

    def start(self, n_epochs: int, n_batches: int) -> None: ...

    def update(self, status: EpochStatus, history: Any) -> None: ...

    def close(self) -> None: ...


# --- lines --------------------------------------------------------------------------------


def report_every(n_epochs: int) -> int:
    """Epochs between two lines where lines cannot be rewritten: the smallest of 1, 2, 5, 10, 20,
    50, ... that gives at most `MAX_LINES` lines, besides the first epoch's. For the tutorial's
    100 epochs that is every 5, as often as MATLAB's verbose output (every 50 iterations, 10 an epoch)."""
    step = 1
    while math.ceil(n_epochs / step) > MAX_LINES:
        step = _next_round(step)
    return step


def _next_round(step: int) -> int:
    """1, 2, 5, 10, 20, 50, ...: the round number after `step`."""
    magnitude = 10 ** (len(str(step)) - 1)
    leading = step // magnitude
    return {1: 2, 2: 5}.get(leading, 10) * magnitude


class ProgressPrinter:
    """Epoch lines on `stream` (default: stderr when training starts), in the mode that suits it.

    Parameters
    ----------
    stream : text stream, default=None
        Where lines go; None is ``sys.stderr`` as it is when training starts.
    mode : {"terminal", "lines", "notebook"}, default=None
        ``terminal`` rewrites one line with carriage returns; ``lines`` writes plain lines (see
        `report_every`); ``notebook`` updates one Jupyter output. None picks ``terminal`` for a
        terminal, ``notebook`` in a Jupyter kernel writing to its own stderr, else ``lines``.
    """

    MODES = ("terminal", "lines", "notebook")

    def __init__(self, stream: TextIO | None = None, *, mode: str | None = None) -> None:
        if mode is not None and mode not in self.MODES:
            raise ParameterError(f"mode must be one of {list(self.MODES)} or None; got {mode!r}.")
        self.stream = stream
        self.mode = mode
        self._width = 0
        self._open_line = False
        self._display: Any = None
        self._header = ""

    def _pick_mode(self, stream: TextIO) -> str:
        isatty = getattr(stream, "isatty", None)
        if isatty is not None and isatty():
            return "terminal"
        if stream is sys.stderr and in_notebook():
            return "notebook"
        return "lines"

    def start(self, n_epochs: int, n_batches: int) -> None:
        stream = self.stream if self.stream is not None else sys.stderr
        self._stream, self._mode = stream, self.mode or self._pick_mode(stream)
        self._every = report_every(n_epochs)
        batches = f"{n_batches} mini-batch{'es' if n_batches != 1 else ''}"
        self._header = (
            f"Training {n_epochs} epoch{'s' if n_epochs != 1 else ''}; loss and accuracy are each epoch's means "
            f"over its {batches}"
            + (f" (a line every {self._every} epochs)." if self._mode == "lines" and self._every > 1 else ".")
        )
        run = _RUN.get()
        if self._mode == "notebook":
            from IPython.display import display

            self._display = display({"text/plain": self._header}, raw=True, display_id=True)
        elif run is None or run.network == 1:  # a run's later networks are told by the lines before them
            self._write(self._header + "\n")
        if self._mode != "lines":
            network = "" if run is None else f"Network {run.network}/{run.n_networks}  "
            self._show(
                f"{network}Epoch {1:>{len(str(n_epochs))}}/{n_epochs}  running (the first epoch also builds the graph)"
            )

    def _write(self, text: str) -> None:
        self._stream.write(text)
        self._stream.flush()

    def _show(self, line: str) -> None:
        """Replace the line in place (terminal, notebook)."""
        if self._mode == "notebook":
            self._display.update({"text/plain": f"{self._header}\n{line}"}, raw=True)
            return
        columns = shutil.get_terminal_size(fallback=(80, 24)).columns
        line = line[: max(20, columns - 1)]
        self._write("\r" + line.ljust(self._width))
        self._width, self._open_line = len(line), True

    def update(self, status: EpochStatus, history: Any) -> None:
        if self._mode == "lines":
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
        """A progress callback ``(done, total)`` for work on files: files done, files per second and the time
        left (at the end, the time taken), measured from the first file done, whose time includes loading
        the audio libraries. On a terminal one bar redrawn in place at most ten times a second, otherwise a
        plain line at each quarter (a log gets four lines, no control characters)."""
        stream = self.stream if self.stream is not None else sys.stderr
        self._stream, self._mode = stream, "lines" if self._pick_mode(stream) == "lines" else "terminal"
        start = time.monotonic()
        drawn, quarters, first = -1.0, 0, (start, 0)

        def show(done: int, total: int) -> None:
            nonlocal drawn, quarters, first
            now = time.monotonic()
            if total <= 0 or (self._mode == "terminal" and done < total and now - drawn < 0.1):
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
            if self._mode == "terminal":
                drawn, filled = now, 30 * done // total
                self._show(f"{what} [{'#' * filled}{'.' * (30 - filled)}] {done}/{total} files, {timing}")
                if done >= total:
                    self.close()
            elif 4 * done // total > quarters:
                quarters = 4 * done // total
                self._write(f"{what}: {done}/{total} files ({100 * done // total}%), {timing}\n")

        return show


# --- monitors of one's own --------------------------------------------------------------

_MONITORS: ContextVar[tuple[ProgressMonitor, ...]] = ContextVar("vowels_training_monitors", default=())


@contextlib.contextmanager
def monitoring(monitor: ProgressMonitor) -> Iterator[ProgressMonitor]:
    """While the block runs, every training in this context also tells `monitor` how it goes.

    `monitor` is anything with the methods of `ProgressMonitor`: ``start(n_epochs, n_batches)``
    when a network's training begins, ``update(status, history)`` after each epoch (an
    `EpochStatus` and the `vowels.training.TrainingHistory` so far) and ``close()`` when it ends,
    also on failure. A fit that trains several networks (`vowels.recordings.RecordingClassifier.fit`
    trains one to measure accuracy, maybe some to calibrate the threshold, then the final one)
    starts it once for each. Blocks nest; the monitors are per thread (a `contextvars.ContextVar`),
    so a training on another thread is not told.

    Parameters
    ----------
    monitor : ProgressMonitor

    Yields
    ------
    ProgressMonitor
        `monitor` itself.

    Examples
    --------
    >>> from vowels.progress import monitoring
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


# --- a run of several trainings ---------------------------------------------------------


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
        """Count an epoch ending at `now` (a `time.perf_counter` reading), and where the run stands.

        A network's first epoch is timed from the end of the previous network's last epoch (or the
        run's start), so it carries the work between trainings and the graph building; the estimate
        of the time left is the mean of such times for each network not yet past its first epoch,
        plus the mean of the other epochs for each such epoch left. The first network's first epoch
        also loads TensorFlow, so once a later network's has been timed it no longer counts.
        """
        (self.first_seconds if epoch == 1 else self.later_seconds).append(now - self._last)
        self._last = now
        done = len(self.first_seconds) + len(self.later_seconds)
        remaining = None
        if self.later_seconds:
            later_left = self.n_networks * (self.n_epochs - 1) - len(self.later_seconds)
            firsts = self.first_seconds[1:] or self.first_seconds
            remaining = (self.n_networks - len(self.first_seconds)) * sum(firsts) / len(firsts) + max(
                0, later_left
            ) * sum(self.later_seconds) / len(self.later_seconds)
        return RunStatus(
            network=self.network,
            n_networks=self.n_networks,
            epochs_done=done,
            n_epochs=max(self.n_networks * self.n_epochs, done),
            elapsed=now - self.start,
            remaining=remaining,
        )


_RUN: ContextVar[_Run | None] = ContextVar("vowels_training_run", default=None)


def run_networks() -> tuple[int, int] | None:
    """``(network, n_networks)`` of the `training_run` in force: the networks started so far and the run's
    count (the one count of a run, which callers read instead of keeping their own); None outside a run."""
    run = _RUN.get()
    return None if run is None else (run.network, run.n_networks)


@contextlib.contextmanager
def training_run(n_networks: int, n_epochs: int) -> Iterator[None]:
    """While the block runs, its trainings (`n_networks` of `n_epochs` epochs each) are one run: each
    epoch's `EpochStatus` carries the run's `RunStatus` (network, epochs done of all, time left for the
    whole run), which the epoch lines show, and the header is printed once."""
    token = _RUN.set(_Run(n_networks, n_epochs))
    try:
        yield
    finally:
        _RUN.reset(token)


# --- what train_network uses --------------------------------------------------------------


class TrainingProgress:
    """The monitors of one training: a `ProgressPrinter` if `verbose`, and every active
    `monitoring` monitor; times the epochs and tells each monitor.

    Use as a context manager around the epochs, calling `epoch_done` after each.
    """

    def __init__(self, n_epochs: int, n_batches: int, *, verbose: int | str = 1) -> None:
        self.n_epochs, self.n_batches = n_epochs, n_batches
        printer: Sequence[ProgressMonitor] = [ProgressPrinter()] if resolve_verbose(verbose) else []
        self.monitors: list[ProgressMonitor] = [*printer, *_MONITORS.get()]

    def __enter__(self) -> TrainingProgress:
        self._run = _RUN.get()
        if self._run is not None:
            self._run.network_started()
        self._start = time.perf_counter()
        self._first_done = self._start
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
        per_epoch = (now - self._first_done) / (epoch - 1) if epoch > 1 else None
        status = EpochStatus(
            epoch=epoch,
            n_epochs=self.n_epochs,
            loss=float(sum(losses) / len(losses)),
            accuracy=float(sum(accuracies) / len(accuracies)),
            elapsed=now - self._start,
            remaining=None if per_epoch is None else per_epoch * (self.n_epochs - epoch),
            run=None if self._run is None else self._run.epoch_done(epoch, now),
        )
        for monitor in self.monitors:
            monitor.update(status, history)

    def __exit__(self, *exc: object) -> None:
        for monitor in self.monitors:
            monitor.close()
