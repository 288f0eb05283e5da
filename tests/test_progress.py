"""Training progress (vowels.progress) and quiet TensorFlow (vowels._logs), down to what `vowels` prints."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from vowels.classifier import SpeakerClassifier
from vowels.datasets import load_japanese_vowels
from vowels.errors import ParameterError
from vowels.plots import display_available, progress_plot_path, training_progress_plot
from vowels.progress import (
    EpochStatus,
    ProgressPrinter,
    TrainingProgress,
    _Run,
    clock,
    monitoring,
    report_every,
    resolve_verbose,
    run_networks,
    training_run,
)
from vowels.training import TrainingOptions
from vowels.validation import check_verbose

CONTROL = re.compile("[\r\x08\x1b]")
HISTORY_KEYS = {
    "iteration_loss",
    "iteration_accuracy",
    "iteration_epoch",
    "epoch_seconds",
    "epoch_loss",
    "epoch_accuracy",
}


@pytest.fixture(scope="module")
def small_train():
    data = load_japanese_vowels("train")
    return data.subset(np.concatenate([np.arange(s * 30, s * 30 + 9) for s in range(3)]))  # 27, 3 speakers


def _fit(data, *, epochs=3, verbose=1):
    clf = SpeakerClassifier(
        mode="masked", n_hidden=4, options=TrainingOptions(max_epochs=epochs, mini_batch_size=9), verbose=verbose
    )
    return clf.fit(data)


# --- lines ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("n_epochs", "every"), [(1, 1), (10, 1), (20, 1), (30, 2), (100, 5), (101, 10), (1000, 50)])
def test_files_get_about_twenty_lines_a_training_at_round_epochs(n_epochs, every):
    assert report_every(n_epochs) == every


def test_a_line_says_which_epoch_its_means_elapsed_and_left():
    status = EpochStatus(epoch=5, n_epochs=100, loss=0.81234, accuracy=0.7234, elapsed=3.2, remaining=58.4)
    assert status.line() == "Epoch   5/100  mean loss 0.8123  mean accuracy  72.3%  elapsed 0:03  left 0:58"
    last = EpochStatus(epoch=100, n_epochs=100, loss=0.0117, accuracy=1.0, elapsed=3725, remaining=0.0)
    assert last.line() == "Epoch 100/100  mean loss 0.0117  mean accuracy 100.0%  elapsed 1:02:05  done"
    first = EpochStatus(epoch=1, n_epochs=100, loss=2.2, accuracy=0.1, elapsed=4.0, remaining=None)
    assert first.line().endswith("elapsed 0:04")  # the first epoch also builds the graph: no estimate
    assert clock(59.6) == "1:00"


def test_training_prints_each_epochs_own_means_not_a_running_mean(small_train, capsys):
    """What the issue saw: the bar's running mean over all epochs (0.1521) beside that epoch's 0.0117."""
    history = _fit(small_train, epochs=3).history_
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert lines[0] == "Training 3 epochs; loss and accuracy are each epoch's means over its 3 mini-batches."
    epochs = [line for line in lines if line.startswith("Epoch ")]
    assert len(epochs) == 3
    for line, loss, accuracy in zip(epochs, history.epoch_loss, history.epoch_accuracy):
        assert f"mean loss {loss:.4f}" in line and f"mean accuracy {100 * accuracy:5.1f}%" in line
    assert epochs[-1].endswith("done") and "left" in epochs[1]
    assert not CONTROL.search(err)


def test_progress_written_to_a_file_has_no_control_characters():
    stream = io.StringIO()
    printer = ProgressPrinter(stream)
    printer.start(100, 10)
    for epoch in range(1, 101):
        printer.update(EpochStatus(epoch, 100, 1 / epoch, epoch / 100, epoch * 0.3, (100 - epoch) * 0.3), None)
    printer.close()
    text = stream.getvalue()
    assert not CONTROL.search(text)
    lines = text.splitlines()
    assert lines[0].endswith("(a line every 5 epochs).")
    assert [line.split()[1] for line in lines[1:]] == ["1/100"] + [f"{e}/100" for e in range(5, 101, 5)]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_one_line_rewritten_in_place():
    stream = _Terminal()
    printer = ProgressPrinter(stream)
    printer.start(3, 2)
    for epoch in (1, 2, 3):
        printer.update(EpochStatus(epoch, 3, 0.5, 0.5, epoch, 3 - epoch), None)
    printer.close()
    header, rest = stream.getvalue().split("\n", 1)
    assert header.startswith("Training 3 epochs")
    assert rest.count("\r") == 4 and rest.count("\n") == 1  # "running", then epochs 1 to 3; a newline at the end
    assert rest.rstrip(" \n").endswith("done") and rest.endswith("\n")


def test_a_notebook_display_updates_one_output_in_place(capsys):
    from IPython.core.interactiveshell import InteractiveShell

    prompts = {name: getattr(sys, name) for name in ("ps1", "ps2") if hasattr(sys, name)}
    InteractiveShell.instance()  # a real shell publishes the display; its terminal publisher prints each version
    try:
        printer = ProgressPrinter(display="notebook")
        printer.start(3, 2)
        for epoch in (1, 2, 3):
            printer.update(EpochStatus(epoch, 3, 0.5, 0.5, epoch, 3 - epoch), None)
    finally:
        InteractiveShell.clear_instance()
        for name in ("ps1", "ps2"):  # the shell set the prompts, which would make later runs "interactive"
            if name in prompts:
                setattr(sys, name, prompts[name])
            elif hasattr(sys, name):
                delattr(sys, name)
    shown = capsys.readouterr().out.split("Training 3 epochs")[1:]
    assert len(shown) == 5  # the header, then "running" and epochs 1 to 3 replacing the line under it
    assert "running" in shown[1] and shown[-1].rstrip().endswith("done")


def test_verbose_is_checked_and_auto_is_silent_outside_notebooks(small_train):
    assert resolve_verbose("auto") == 0  # a test run, like a script: nobody watches
    assert resolve_verbose(1) == 1 and resolve_verbose(0) == 0
    check_verbose(True)
    for bad in (-1, "yes", 1.5, None):
        with pytest.raises(ParameterError, match=r"verbose must be 0 \(silent\), 1 \(progress\) or 'auto'; got"):
            check_verbose(bad)
    with pytest.raises(ParameterError, match="verbose must be 0 .* got 'loud'"):
        SpeakerClassifier(verbose="loud").fit(small_train)
    assert SpeakerClassifier().verbose == "auto"


# --- figure --------------------------------------------------------------------------------


def test_the_plot_goes_beside_the_output_folder(tmp_path):
    assert progress_plot_path("runs/reproduce") == progress_plot_path("runs/reproduce/")
    assert str(progress_plot_path("runs/reproduce")) == os.path.join("runs", "reproduce-training-progress.png")
    assert progress_plot_path(".").parent == progress_plot_path(os.getcwd()).parent


def test_no_display_means_no_window(monkeypatch):
    if not sys.platform.startswith("linux"):
        pytest.skip("DISPLAY decides only on Linux")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert not display_available()


def test_training_keeps_the_figure_up_to_date_in_a_png(small_train, tmp_path, capsys):
    path = tmp_path / "new" / "run-training-progress.png"
    with training_progress_plot(path, window=False, interval=0) as plot:
        assert path.parent.is_dir()  # created at once, so a bad folder fails before training
        history = _fit(small_train, epochs=2, verbose=0).history_
    assert capsys.readouterr().err == ""  # verbose=0 prints nothing; the figure does not either
    assert path.read_bytes().startswith(b"\x89PNG") and plot.n_renderings == 2  # after epoch 1 and the last
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # written atomically, nothing left over
    assert len(history.iteration_loss) == 2 * 3
    _fit(small_train, epochs=1, verbose=0)
    assert plot.n_renderings == 2  # the block ended: later trainings leave the file alone


class _Calls:
    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def start(self, n_epochs: int, n_batches: int) -> None:
        self.calls.append(("start", n_epochs, n_batches))

    def update(self, status: EpochStatus, history: object) -> None:
        self.calls.append(("update", status.epoch, status.n_epochs))

    def close(self) -> None:
        self.calls.append(("close",))


def test_a_monitor_of_ones_own_is_told_every_epoch_while_its_block_runs(small_train):
    outer, inner = _Calls(), _Calls()
    with monitoring(outer) as given:
        assert given is outer
        with monitoring(inner):
            _fit(small_train, epochs=2, verbose=0)
        _fit(small_train, epochs=1, verbose=0)
    _fit(small_train, epochs=1, verbose=0)
    first = [("start", 2, 3), ("update", 1, 2), ("update", 2, 2), ("close",)]
    assert inner.calls == first
    assert outer.calls == [*first, ("start", 1, 3), ("update", 1, 1), ("close",)]
    message = r"monitor must have start, update and close .* object has no start\(\)"
    with pytest.raises(ParameterError, match=message), monitoring(object()):  # type: ignore[arg-type]
        pass


# --- quiet TensorFlow ----------------------------------------------------------------------


def test_tensorflow_log_lines_below_the_level_are_dropped():
    from vowels._logs import filter_log_lines

    caught = (
        b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
        b"I0000 00:00:1796211842.686487   14005 cudart_stub.cc:31] Could not find cuda drivers\n"
        b"E0000 00:00:1796211853.301747   14005 cuda_platform.cc:52] failed call to cuInit: UNKNOWN ERROR (303)\n"
        b"To enable the following instructions: AVX2 FMA, in other operations, rebuild TensorFlow\n"
        b"Traceback (most recent call last):\n"
    )
    assert filter_log_lines(caught, 3) == b"Traceback (most recent call last):\n"
    assert filter_log_lines(caught, 2).startswith(b"E0000 ") and filter_log_lines(caught, 0) == caught


def _env(**changes):
    """The environment of a user who set nothing: none of the test run's TF_CPP_MIN_LOG_LEVEL, no display."""
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "DISPLAY", "WAYLAND_DISPLAY")}
    return {**env, "MPLBACKEND": "Agg", **changes}


def _vowels(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "vowels", *args], capture_output=True, text=True, env=_env(), cwd=cwd, timeout=600
    )


def _library_lines(stderr: str) -> list[str]:
    """TensorFlow's, absl's and CUDA's lines."""
    words = ("cuda", "onednn", "tensorflow", "absl", "xla")
    return [
        line
        for line in stderr.splitlines()
        if re.match(r"[IWEF]\d{4} ", line) or any(word in line.lower() for word in words)
    ]


def test_importing_vowels_changes_nothing_the_command_sets_a_quiet_level_unless_the_user_chose_one(tmp_path):
    imported = (
        "import os, sys, vowels; print(os.environ.get('TF_CPP_MIN_LOG_LEVEL'), "
        "[type(f).__module__ for f in sys.meta_path].count('vowels._logs'))"
    )
    out = subprocess.run([sys.executable, "-c", imported], capture_output=True, text=True, env=_env(), timeout=120)
    assert out.stdout.strip() == "None 0", out.stderr
    command = (
        "import os, sys; from vowels.cli import main; "
        f"main(['plot', 'lengths', '-q', '--out', {str(tmp_path)!r}]); "
        "print(os.environ['TF_CPP_MIN_LOG_LEVEL'], 'tensorflow' in sys.modules)"
    )
    for env, expected in ((_env(), "3 False"), (_env(TF_CPP_MIN_LOG_LEVEL="1"), "1 False")):
        out = subprocess.run([sys.executable, "-c", command], capture_output=True, text=True, env=env, timeout=120)
        assert out.stdout.strip() == expected, out.stderr


@pytest.mark.slow
def test_reproduce_prints_no_tensorflow_lines_and_honest_plain_progress(tmp_path):
    result = _vowels("reproduce", "--epochs", "1", "--out", str(tmp_path / "run"), "--plots", "training-progress")
    assert result.returncode == 0, result.stderr
    assert _library_lines(result.stderr) == []
    assert not CONTROL.search(result.stderr + result.stdout)
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert set(history) == HISTORY_KEYS  # the format history.json always had
    epoch_line = f"Epoch 1/1  mean loss {history['epoch_loss'][0]:.4f}  mean accuracy "
    assert [line for line in result.stderr.splitlines() if line.startswith("Epoch ")][0].startswith(epoch_line)
    png = tmp_path / "run-training-progress.png"
    assert png.read_bytes().startswith(b"\x89PNG")
    assert f"Training progress: {png}, redrawn every few seconds while training (no display" in result.stdout


@pytest.mark.slow
def test_train_prints_no_tensorflow_lines(tmp_path, copy_fsdd):
    data = copy_fsdd(tmp_path / "d", ["george", "jackson"], range(3), [10, 11])
    result = _vowels("train", str(data), "--out", str(tmp_path / "m"), "--epochs", "2")
    assert result.returncode == 0, result.stderr
    assert _library_lines(result.stderr) == []
    assert not CONTROL.search(result.stderr + result.stdout)
    assert (
        sum(re.match(r"Network [12]/2  Epoch 2/2  mean loss", line) is not None for line in result.stderr.splitlines())
        == 2
    )


def test_train_shows_one_progress_for_its_networks_and_ends_with_the_files_skipped(tmp_path, copy_fsdd):
    """`vowels train` trains five networks here (the split's, three calibration networks, the saved one): every
    epoch line names its network and the whole run's share done and time left, the header comes once, and
    the last line counts the files skipped (exit status 1)."""
    data = copy_fsdd(tmp_path / "d", ["george", "jackson", "lucas"], range(5), [10, 11])
    (data / "lucas" / "notes.wav").write_text("not audio")
    result = _vowels("train", str(data), "--out", str(tmp_path / "m"), "--epochs", "3", "--no-encoder")
    assert result.returncode == 1, result.stderr
    lines = result.stderr.splitlines()
    stages = [line.split(",")[0] for line in lines if line.startswith("Training network")]
    assert stages == [f"Training network {k}/5" for k in range(1, 6)]
    assert sum(line.startswith("Training 3 epochs;") for line in lines) == 1
    epochs = [
        re.match(r"Network (\d)/5  Epoch (\d)/3  .*  run (\d+)% done, elapsed [\d:]+(.*)$", line) for line in lines
    ]
    epochs = [m for m in epochs if m is not None]
    assert [(int(m[1]), int(m[2])) for m in epochs] == [(k, e) for k in range(1, 6) for e in range(1, 4)]
    shares = [int(m[3]) for m in epochs]
    assert shares == [100 * done // 15 for done in range(1, 16)]
    assert epochs[0][4] == "" and all(re.fullmatch(r", left \d+:\d\d", m[4]) for m in epochs[1:-1])
    assert epochs[-1][4] == ", finished"
    skipped = f"vowels: skipped: {data / 'lucas' / 'notes.wav'}: not an audio file (libsndfile: Format not recognised)."
    assert lines.index(skipped) < lines.index(next(line for line in lines if line.startswith("Training network")))
    assert lines[-1] == (
        "vowels train: skipped 1 file (named above, before training), so the exit status is 1; the model was "
        "trained on the other 30."
    )


def test_a_runs_time_left_counts_each_networks_first_epoch_and_the_others():
    """The estimate for the whole run: the mean first epoch (graph building, work between networks) for each
    network not yet past it, and the mean later epoch for each later epoch left; the first network's first
    epoch (which loads TensorFlow too) only until another's is timed. Times given, not measured."""
    run = _Run(n_networks=3, n_epochs=3)
    run.start = run._last = 100.0
    run.network_started()
    assert run.epoch_done(1, 105.0).remaining is None  # a first epoch alone says little
    status = run.epoch_done(2, 106.0)
    assert (status.epochs_done, status.n_epochs, status.remaining) == (2, 9, 2 * 5.0 + 5 * 1.0)
    run.epoch_done(3, 108.0)  # later epochs: 1 s and 2 s
    run.network_started()
    status = run.epoch_done(1, 111.0)  # 3 s since the first network ended
    assert (status.network, status.remaining, status.elapsed) == (2, 1 * 3.0 + 4 * 1.5, 11.0)
    assert status.text() == "run 44% done, elapsed 0:11, left 0:09"


def test_a_runs_networks_are_counted_once_for_every_monitor():
    """`run_networks` is the run's own count, which the server's job monitor and the recordings model read."""

    class Seen:
        def __init__(self) -> None:
            self.starts: list[tuple[int, int] | None] = []

        def start(self, n_epochs: int, n_batches: int) -> None:
            self.starts.append(run_networks())

        def update(self, status: EpochStatus, history: object) -> None: ...

        def close(self) -> None: ...

    assert run_networks() is None
    with monitoring(Seen()) as seen, training_run(3, 1):
        for _ in range(4):  # one more network than announced: the count grows with it
            with TrainingProgress(1, 1, verbose=0):
                pass
    assert seen.starts == [(1, 3), (2, 3), (3, 3), (4, 4)] and run_networks() is None


@pytest.mark.slow
def test_verbose_flag_brings_tensorflow_lines_back(tmp_path):
    result = _vowels("reproduce", "-v", "--epochs", "1", "--out", str(tmp_path / "run"), "--quiet")
    assert result.returncode == 0, result.stderr
    assert _library_lines(result.stderr), result.stderr  # e.g. the CUDA probe of a machine without a GPU
    assert "Epoch" not in result.stderr  # --quiet still silences the progress
