"""The training-progress figure while a network trains: a `vowels.progress` monitor that keeps MATLAB's
figure in a PNG file and, where a display exists, in a live window."""

from __future__ import annotations

import contextlib
import io
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..files import check_writable, write_bytes
from ..progress import EpochStatus, clock, monitoring
from ..training import TrainingHistory
from ..validation import check_number
from ._run import plot_training_progress
from ._style import figure_bytes

__all__ = ["TrainingPlot", "display_available", "progress_plot_path", "training_progress_plot"]

PLOT_INTERVAL = 5.0
"""Least time (s) between two renderings of the training-progress figure."""
PLOT_OVERHEAD = 0.1
"""Most of the training time that rendering the figure may take: renderings are spaced to keep it below."""
_NON_INTERACTIVE = {"agg", "cairo", "pdf", "pgf", "ps", "svg", "template"}


def display_available() -> bool:
    """Whether a plot window can open: an interactive Matplotlib backend and, on Linux and the
    BSDs, a ``DISPLAY`` or ``WAYLAND_DISPLAY`` to show it on."""
    headless = not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    if headless and sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        return False
    import matplotlib

    backend = str(matplotlib.get_backend()).lower()
    return backend not in _NON_INTERACTIVE and "inline" not in backend and not backend.startswith("module://")


def progress_plot_path(out: str | os.PathLike[str]) -> Path:
    """Where `vowels reproduce` and `vowels train --out OUT` keep the figure: ``OUT-training-progress.png``
    beside OUT, since OUT itself appears only once written whole (`vowels.bundle.atomic_folder`)."""
    out = Path(os.path.abspath(out)) if Path(out).name in ("", ".", "..") else Path(out)
    return out.with_name(f"{out.name}-training-progress.png")


class TrainingPlot:
    """The training-progress figure of the training under way, in a PNG file (written atomically) and maybe a
    window: rendered after the first epoch, then at most every `interval` s (further apart if rendering would
    take more than `PLOT_OVERHEAD` of the time) and after the last epoch.

    Parameters
    ----------
    path : path-like
        PNG file, replaced on each rendering; its folder is checked at once.
    window : bool or None, default=None
        Also show the figure in a window; None opens one where `display_available`.
    interval : float, default=PLOT_INTERVAL
        Least time between two renderings, in s.
    """

    def __init__(
        self, path: str | os.PathLike[str], *, window: bool | None = None, interval: float = PLOT_INTERVAL
    ) -> None:
        check_number(interval, "interval", low=0, unit="s")
        self.path = Path(path)
        check_writable(self.path.parent)
        self.window = display_available() if window is None else bool(window)
        self.interval = float(interval)
        self.n_trainings = 0
        self.n_renderings = 0
        self._figure: Any = None
        self._image: Any = None
        self._due = 0.0

    def start(self, n_epochs: int, n_batches: int) -> None:
        self.n_trainings += 1
        self._due = 0.0

    def update(self, status: EpochStatus, history: TrainingHistory) -> None:
        if time.perf_counter() < self._due and not status.done:
            if self.window and self._figure is not None:
                try:  # keep the window responsive between renderings
                    self._figure.canvas.flush_events()
                except Exception:  # closed or broken: the file goes on
                    self.window = False
            return
        began = time.perf_counter()
        self.render(status, history)
        self._due = time.perf_counter() + max(self.interval, (time.perf_counter() - began) / PLOT_OVERHEAD)

    def render(self, status: EpochStatus, history: TrainingHistory) -> bytes:
        """Draw the figure of `history` now, write it to `path` and the window; returns the PNG."""
        figure = plot_training_progress(history)
        which = f"Training {self.n_trainings} " if self.n_trainings > 1 else "Training "
        if status.done:
            title = f"{which}finished: {status.n_epochs} epochs in {clock(status.elapsed)}"
        else:
            title = f"{which}under way: epoch {status.epoch} of {status.n_epochs}, {clock(status.elapsed)} elapsed"
            if status.remaining is not None:
                title += f", about {clock(status.remaining)} left"
        figure.suptitle(title, fontsize="medium")
        data = figure_bytes(figure)
        write_bytes(self.path, data)
        self.n_renderings += 1
        if self.window:
            self._show(data)
        return data

    def _show(self, png: bytes) -> None:
        import matplotlib.image
        import matplotlib.pyplot as plt

        pixels = matplotlib.image.imread(io.BytesIO(png), format="png")
        try:
            if self._figure is None:
                self._figure = plt.figure("vowels: training progress", figsize=(10, 6))
                axes = self._figure.add_axes((0, 0, 1, 1))
                axes.set_axis_off()
                self._image = axes.imshow(pixels)
                plt.show(block=False)
            elif not plt.fignum_exists(self._figure.number):
                self.window = False  # closed by the user: the file goes on
                return
            else:
                self._image.set_data(pixels)
            self._figure.canvas.draw_idle()
            self._figure.canvas.flush_events()
        except Exception as exc:  # any GUI toolkit's failure: the file goes on without a window
            self.window = False
            why = f"cannot show the training-progress window ({type(exc).__name__}: {exc})"
            print(f"vowels: note: {why}; the figure is still written to {self.path}.", file=sys.stderr, flush=True)

    def close(self) -> None:
        """Nothing to release between trainings: the window stays until the process ends."""


@contextlib.contextmanager
def training_progress_plot(
    path: str | os.PathLike[str], *, window: bool | None = None, interval: float = PLOT_INTERVAL
) -> Iterator[TrainingPlot]:
    """While the block runs, every training keeps its training-progress figure in `path` (MATLAB's
    ``Plots="training-progress"``), and in a window where one can open (see `TrainingPlot`).

    Examples
    --------
    >>> from vowels.plots import training_progress_plot
    >>> with training_progress_plot("runs/progress.png") as plot:  # doctest: +SKIP
    ...     clf.fit(train)
    """
    plot = TrainingPlot(path, window=window, interval=interval)
    with monitoring(plot):
        yield plot
