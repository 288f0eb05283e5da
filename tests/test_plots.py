"""The figures: the data behind each one, read back from the Figure's artists, and `vowels plot`."""

from __future__ import annotations

import importlib.util
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from vowels import plots
from vowels.batching import padding_stats
from vowels.bundle import write_metadata
from vowels.cli import main
from vowels.datasets import load_japanese_vowels
from vowels.errors import AudioError, DataError, ParameterError
from vowels.features import FeatureConfig, features_of_file
from vowels.preprocessing import Preprocessing, Standardization
from vowels.workflows.figures import figure_sources
from vowels.workflows.models import open_model

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "reports" / "padding_experiment.json"


def _write_figures(which, out, **given):
    """`vowels plot` as a library call: the figures' sources read, then drawn and written."""
    sources = figure_sources(which, **given)
    return plots.write_figures(sources, out), list(sources.skipped)


@pytest.fixture(scope="module")
def train():
    return load_japanese_vowels("train")


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """A real two-epoch `reproduce` run folder (metrics.json, history.json, model/)."""
    from vowels.tutorial import reproduce

    out = tmp_path_factory.mktemp("run")
    reproduce(epochs=2, out=out, verbose=0)
    return out


def _bar_heights(container) -> np.ndarray:
    return np.array([patch.get_height() for patch in container.patches])


F0, FORMANTS, SR = 120.0, (730.0, 1090.0, 2440.0), 16000  # an /a/ at 120 Hz


def write_vowel(path, *, sr=SR, seconds=0.5):
    """A 16-bit WAV of a pulse train at F0 (Hz) through resonators at FORMANTS (Hz), peak 0.5."""
    from scipy.signal import lfilter

    n = round(sr * seconds)
    y = lfilter([1.0], [1.0, -0.95], np.diff(np.floor(np.arange(1, n + 1) * F0 / sr), prepend=0.0))
    for formant, bandwidth in zip(FORMANTS, (80, 100, 120), strict=True):
        r, theta = np.exp(-np.pi * bandwidth / sr), 2 * np.pi * formant / sr
        y = lfilter([1 - r], [1, -2 * r * np.cos(theta), r * r], y)
    sf.write(path, (0.5 * y / np.max(np.abs(y))).astype(np.float32), sr, subtype="PCM_16")
    return path


# --- features -----------------------------------------------------------------------


@pytest.mark.parametrize("observation", [1, 137, 270])
def test_features_draw_each_coefficient_of_the_chosen_observation(train, observation):
    fig = plots.plot_features(train, observation=observation)
    ax = fig.axes[0]
    sequence = train.sequences[observation - 1]
    lines = ax.get_lines()
    assert len(lines) == 12
    for k, line in enumerate(lines):
        np.testing.assert_array_equal(line.get_xdata(), np.arange(1, len(sequence) + 1))
        np.testing.assert_allclose(line.get_ydata(), sequence[:, k])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [f"Feature {k}" for k in range(1, 13)]
    assert f"Training observation {observation}" in ax.get_title()
    assert "Frame" in ax.get_xlabel()
    assert any("ms" in other.get_xlabel() for other in ax.child_axes)


def test_features_time_axis_uses_the_6_4_ms_hop(train):
    fig = plots.plot_features(train, observation=1)
    ax = fig.axes[0]
    (top,) = ax.child_axes
    fig.savefig(io.BytesIO(), format="png")  # the secondary axis takes its limits when drawn
    assert ax.get_xlim() == (1, 20)
    assert top.get_xlim() == pytest.approx((0.0, 19 * 6.4))


@pytest.mark.parametrize("observation", [0, 271, 1.5, True])
def test_features_reject_an_observation_outside_1_to_n(train, observation):
    with pytest.raises(ParameterError, match="observation must be a whole number from 1 to 270"):
        plots.plot_features(train, observation=observation)


# --- lengths and padding ------------------------------------------------------------


def test_length_bars_are_the_lengths_before_and_after_sorting(train):
    before, after = plots.plot_sequence_lengths(train).axes
    np.testing.assert_array_equal(_bar_heights(before.containers[0]), train.lengths)
    np.testing.assert_array_equal(_bar_heights(after.containers[0]), np.sort(train.lengths))
    assert len(after.containers[0]) == 270


def test_padding_layout_of_a_small_example():
    layout = plots.padding_layout([3, 1, 2, 5, 4], batch_size=2, sort=True)
    np.testing.assert_array_equal(layout.order, [1, 2, 0, 4, 3])
    np.testing.assert_array_equal(layout.lengths, [1, 2, 3, 4, 5])
    np.testing.assert_array_equal(layout.padding, [1, 0, 1, 0, 0])
    np.testing.assert_array_equal(layout.batch_starts, [0, 2, 4])
    unsorted = plots.padding_layout([3, 1, 2, 5, 4], batch_size=2, sort=False)
    np.testing.assert_array_equal(unsorted.padding, [0, 2, 3, 0, 0])
    assert unsorted.stats.n_padded_frames == 5


def test_padding_figure_numbers_are_batching_statistics(train):
    fig = plots.plot_padding(train, batch_size=27)
    for ax, sort in zip(fig.axes, (False, True), strict=True):
        stats = padding_stats(train.lengths, batch_size=27, sort=sort)
        true_bars, pad_bars = ax.containers
        true, pad = _bar_heights(true_bars), _bar_heights(pad_bars)
        assert true.sum() == stats.n_frames == train.lengths.sum()
        assert pad.sum() == stats.n_padded_frames
        padded_lengths = (true + pad).reshape(10, 27)
        assert (padded_lengths == np.array(stats.batch_lengths)[:, None]).all()
        assert f"{100 * stats.padding_fraction:.1f} %" in ax.get_title()
        assert f"{stats.n_padded_frames} padding frames" in ax.get_title()
        boundaries = [line.get_xdata()[0] for line in ax.get_lines()]
        assert boundaries == [27 * k + 0.5 for k in range(1, 10)]
    assert "30.0 %" in fig.axes[0].get_title() and "5.2 %" in fig.axes[1].get_title()


# --- padding experiment -------------------------------------------------------------


def test_committed_padding_experiment_is_whole_and_consistent_with_batching(train):
    results = plots.load_padding_results()
    assert results["epochs"] == 100 and len(results["seeds"]) >= 3
    table = plots.padding_cost_table(results)
    assert {(r["order"], r["padding"]) for r in table} == {
        (o, p) for o in ("sorted", "unsorted", "file") for p in ("right", "left")
    }
    for row in table:
        assert row["seeds"] == results["seeds"]
        assert all(0.5 < a <= 1 for a in row["accuracies"])
    expected = {
        "sorted": padding_stats(train.lengths, batch_size=27, sort=True).n_padded_frames,
        "file": padding_stats(train.lengths, batch_size=27, sort=False).n_padded_frames,
    }
    for row in table:
        if row["order"] in expected:
            assert row["padded_frames"] == expected[row["order"]]
    for run in results["runs"]:
        if run["order"] == "unsorted":
            order = np.random.default_rng(run["seed"]).permutation(len(train))
            stats = padding_stats(train.lengths[order], batch_size=27, sort=False)
            assert run["train_padded_frames_per_epoch"] == stats.n_padded_frames


def test_padding_cost_figure_draws_the_table():
    results = plots.load_padding_results()
    table = plots.padding_cost_table(results)
    fig = plots.padding_cost(results)
    frames_ax, seconds_ax, accuracy_ax = fig.axes[:3]
    for ax, key in ((frames_ax, "padded_frames"), (seconds_ax, "epoch_seconds")):
        drawn = sorted(h for c in ax.containers if hasattr(c, "patches") for h in _bar_heights(c))
        assert drawn == pytest.approx(sorted(r[key] for r in table))
    dots = sorted(y for line in accuracy_ax.get_lines() for y in line.get_ydata())
    assert dots == pytest.approx(sorted(100 * a for r in table for a in r["accuracies"]))


def test_shipped_padding_experiment_is_the_committed_report_byte_for_byte():
    shipped = plots.default_padding_results()
    assert shipped == ROOT / "vowels" / "data" / "padding_experiment.json"
    assert shipped.read_bytes() == REPORT.read_bytes()
    assert plots.load_padding_results() == json.loads(REPORT.read_text())


def _padding_script():
    spec = importlib.util.spec_from_file_location("padding_experiment", ROOT / "scripts" / "padding_experiment.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_padding_script_writes_the_package_copy_with_the_committed_report(tmp_path, monkeypatch):
    script = _padding_script()
    assert script.REPORT == REPORT
    assert plots.default_padding_results() == script.PACKAGE_COPY
    report, copy = tmp_path / "reports" / "padding_experiment.json", tmp_path / "data" / "padding_experiment.json"
    report.parent.mkdir()
    copy.parent.mkdir()
    monkeypatch.setattr(script, "REPORT", report)
    monkeypatch.setattr(script, "PACKAGE_COPY", copy)
    results = json.loads(REPORT.read_text())
    assert script.write_results(results, report) == [report, copy]
    assert copy.read_bytes() == report.read_bytes() == REPORT.read_bytes()
    mine = tmp_path / "mine.json"
    copy.unlink()
    assert script.write_results(results, mine) == [mine]
    assert not copy.exists()


def test_padding_cost_labels_every_axis_and_says_whose_measurements():
    results = plots.load_padding_results()
    fig = plots.padding_cost(results)
    assert len(fig.axes) == 3
    for ax in fig.axes:
        assert ax.get_xlabel() == "Order of the training utterances"
    assert [ax.get_ylabel() for ax in fig.axes] == [
        "Padding frames per epoch",
        "Seconds per epoch",
        "Test accuracy (%)",
    ]
    assert fig.get_supxlabel() == (
        f"Measured by the vowels project on {results['machine']}, {results['created'][:10]}; "
        "reports/padding_experiment.json (shipped with vowels)"
    )
    assert results["machine"] == "2 CPU cores" and results["created"].startswith("2026-11-23")
    fig.savefig(io.BytesIO(), format="png")


def test_padding_cost_of_other_measurements_names_their_machine_and_command(tmp_path):
    results = plots.load_padding_results()
    results.update(machine="8 CPU cores", created="2027-01-02T03:04:05+00:00", command="python x.py --out mine.json")
    mine = tmp_path / "mine.json"
    mine.write_text(json.dumps(results))
    expected = "Measured on 8 CPU cores, 2027-01-02, by: python x.py --out mine.json"
    assert plots.padding_cost(results).get_supxlabel() == expected
    assert plots.padding_cost(plots.load_padding_results(mine)).get_supxlabel() == expected


def test_missing_shipped_padding_experiment_says_to_reinstall(tmp_path, monkeypatch):
    from vowels.plots import _padding_cost

    monkeypatch.setattr(_padding_cost, "default_padding_results", lambda: tmp_path / "padding_experiment.json")
    with pytest.raises(DataError, match="the padding experiment shipped with the package is missing; reinstall vowels"):
        plots.load_padding_results()


def test_padding_results_that_are_not_the_script_output_are_refused(tmp_path):
    bad = tmp_path / "other.json"
    bad.write_text(json.dumps({"runs": []}))
    with pytest.raises(DataError, match="not the output of scripts/padding_experiment.py"):
        plots.load_padding_results(bad)
    with pytest.raises(DataError, match="no padding experiment results there"):
        plots.load_padding_results(tmp_path / "missing.json")


# --- training progress --------------------------------------------------------------


def test_smooth_is_a_bias_corrected_moving_average():
    values = np.array([2.0, 4.0, 4.0, 10.0])
    np.testing.assert_allclose(plots.smooth(values, weight=0.0), values)
    np.testing.assert_allclose(plots.smooth(np.full(5, 3.0)), 3.0)
    smoothed = plots.smooth(values, weight=0.5)
    assert smoothed[0] == 2.0
    assert smoothed[1] == pytest.approx((0.5 * 2 * 0.5 + 0.5 * 4) / (1 - 0.25))
    with pytest.raises(ParameterError, match=r"weight must be a number in \[0, 1\)"):
        plots.smooth(values, weight=1.0)


def test_epoch_starts_are_one_based_iterations():
    np.testing.assert_array_equal(plots.epoch_starts([1, 1, 2, 2, 2, 3]), [1, 3, 6])
    assert plots.epoch_starts([]).size == 0


@pytest.mark.slow
def test_training_progress_draws_the_run_history(tiny_run):
    history = json.loads((tiny_run / "history.json").read_text())
    fig = plots.plot_training_progress(history)
    accuracy_ax, loss_ax = fig.axes[:2]
    raw_acc, smooth_acc = accuracy_ax.get_lines()[:2]
    raw_loss, smooth_loss = loss_ax.get_lines()[:2]
    n = len(history["iteration_loss"])
    assert n == 20  # 2 epochs of 270 / 27 mini-batches
    np.testing.assert_array_equal(raw_loss.get_xdata(), np.arange(1, n + 1))
    np.testing.assert_allclose(raw_loss.get_ydata(), history["iteration_loss"])
    np.testing.assert_allclose(raw_acc.get_ydata(), 100 * np.array(history["iteration_accuracy"]))
    np.testing.assert_allclose(smooth_loss.get_ydata(), plots.smooth(history["iteration_loss"]))
    epoch_lines = [line.get_xdata()[0] for line in loss_ax.get_lines()[2:]]
    assert epoch_lines == [10.5]
    assert "2 epochs, 20 iterations" in accuracy_ax.get_title()


def test_training_progress_of_an_empty_history_says_why():
    with pytest.raises(DataError, match="training history is empty"):
        plots.plot_training_progress({"iteration_loss": []})


# --- confusion ----------------------------------------------------------------------


def test_confusion_matrix_counts_the_370_test_utterances(tiny_run):
    metrics = json.loads((tiny_run / "metrics.json").read_text())
    fig = plots.plot_confusion(metrics)
    matrix_ax, recall_ax = fig.axes[:2]
    counts = np.asarray(metrics["evaluation"]["confusion"])
    rates = matrix_ax.get_images()[0].get_array()
    np.testing.assert_allclose(rates.filled(0), counts / counts.sum(axis=1, keepdims=True))
    assert counts.shape == (9, 9)
    assert counts.sum() == 370
    np.testing.assert_array_equal(counts.sum(axis=1), [31, 35, 88, 44, 29, 24, 40, 50, 29])
    texts = {(round(t.get_position()[1]), round(t.get_position()[0])): int(t.get_text()) for t in matrix_ax.texts}
    assert texts == {(int(i), int(j)): int(counts[i, j]) for i, j in zip(*np.nonzero(counts), strict=True)}
    recall = np.array([p.get_width() for p in recall_ax.containers[0].patches])
    np.testing.assert_allclose(recall, 100 * np.diag(counts) / counts.sum(axis=1))
    assert [t.get_text() for t in matrix_ax.get_yticklabels()] == [f"Speaker {k}" for k in range(1, 10)]
    correct = int(np.trace(counts))
    assert f"({correct}/370)" in matrix_ax.get_title()


def test_confusion_colours_row_rates_and_writes_counts():
    confusion = [[80, 3, 0, 5], [1, 30, 2, 0], [0, 0, 0, 0], [0, 1, 0, 3]]
    metrics = {
        "evaluation": {
            "speakers": ["1", "2", "3", "4"],
            "confusion": confusion,
            "per_speaker": {s: {"recall": r} for s, r in zip("1234", (80 / 88, 30 / 33, 0.0, 0.75), strict=True)},
            "accuracy": 113 / 125,
        }
    }
    data = plots.confusion_data(metrics)
    counts = np.asarray(confusion, dtype=float)
    expected = np.array([counts[0] / 88, counts[1] / 33, np.zeros(4), counts[3] / 4])
    np.testing.assert_allclose(data.rates, expected)
    np.testing.assert_allclose(data.rates.sum(axis=1), [1, 1, 0, 1])
    fig = plots.plot_confusion(metrics)
    matrix_ax, _, bar_ax = fig.axes
    image = matrix_ax.get_images()[0]
    np.testing.assert_array_equal(image.get_array().mask, counts == 0)
    np.testing.assert_allclose(image.get_array().filled(0), expected)
    assert (image.norm.vmin, image.norm.vmax) == (0, 1)
    texts = {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text() for t in matrix_ax.texts}
    assert texts == {(int(i), int(j)): str(confusion[i][j]) for i, j in zip(*np.nonzero(counts), strict=True)}
    assert bar_ax.get_ylabel() == "Fraction of the true speaker's utterances (cells: counts)"
    fig.savefig(io.BytesIO(), format="png")


@pytest.mark.parametrize("n", [2, 4, 9])
def test_each_recall_bar_lines_up_with_its_matrix_row(n):
    """On the drawn figure (display coordinates, after the layout), each speaker's recall bar is centred on
    that speaker's matrix row and no taller than it, and the recall panel and colour bar span the matrix's
    height."""
    confusion = np.diag(np.arange(10, 10 + n)) + 1
    speakers = [str(k) for k in range(1, n + 1)]
    recall = np.diag(confusion) / confusion.sum(axis=1)
    metrics = {
        "evaluation": {
            "speakers": speakers,
            "confusion": confusion.tolist(),
            "per_speaker": {s: {"recall": float(r)} for s, r in zip(speakers, recall, strict=True)},
            "accuracy": float(np.trace(confusion) / confusion.sum()),
        }
    }
    fig = plots.plot_confusion(metrics)
    fig.savefig(io.BytesIO(), format="png")
    matrix_ax, recall_ax, colour_ax = fig.axes
    rows = matrix_ax.transData.transform([(0, i) for i in range(n)])[:, 1]
    row_height = abs(rows[1] - rows[0])
    bars = [patch.get_window_extent() for patch in recall_ax.containers[0].patches]
    np.testing.assert_allclose([(b.y0 + b.y1) / 2 for b in bars], rows, atol=0.5)
    assert all(b.height <= row_height + 0.5 for b in bars)
    matrix_box, recall_box = matrix_ax.get_window_extent(), recall_ax.get_window_extent()
    colour_box = colour_ax.get_window_extent()
    for box in (recall_box, colour_box):
        np.testing.assert_allclose([box.y0, box.y1], [matrix_box.y0, matrix_box.y1], atol=0.5)
    assert matrix_box.x1 < recall_box.x0 < recall_box.x1 < colour_box.x0  # side by side, not over each other


def test_confusion_data_agrees_between_evaluation_and_metrics(tiny_run):
    from vowels.evaluation import evaluate_predictions

    test = load_japanese_vowels("test")
    rng = np.random.default_rng(0)
    guesses = rng.choice(np.array(test.speakers), size=len(test))
    evaluation = evaluate_predictions(test.labels, guesses, speakers=test.speakers)
    from_evaluation = plots.confusion_data(evaluation)
    from_metrics = plots.confusion_data({"evaluation": evaluation.to_dict()})
    np.testing.assert_array_equal(from_evaluation.confusion, from_metrics.confusion)
    np.testing.assert_allclose(from_evaluation.recall, from_metrics.recall)
    assert from_evaluation.confusion.sum() == 370


# --- writing and the command line ---------------------------------------------------


@pytest.mark.slow
def test_plot_with_no_which_writes_the_data_figures_without_training(tmp_path, capsys):
    assert main(["plot", "--out", str(tmp_path)]) == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["features.png", "lengths.png", "padding-cost.png", "padding.png"]
    for path in tmp_path.iterdir():
        assert path.read_bytes()[:8] == PNG_MAGIC
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [
        f"Wrote {tmp_path / n}" for n in ("features.png", "lengths.png", "padding.png", "padding-cost.png")
    ]
    assert captured.err.splitlines() == [
        "vowels plot: skipped 'training': needs --run RUNDIR "
        "(a 'vowels reproduce' folder; a model bundle keeps no history)",
        "vowels plot: skipped 'confusion': needs --run RUNDIR or --model BUNDLE",
        "vowels plot: skipped 'recording': needs --audio FILE (a recording)",
        "vowels plot: skipped 'open-set': needs --model BUNDLE of a model trained on recordings with a "
        "calibrated threshold",
        "vowels plot: skipped 'stream': needs --audio FILE and --model BUNDLE of a forward-only model "
        "('vowels train --architecture lstm')",
    ]


def test_plot_with_a_run_writes_training_and_confusion_as_svg(tmp_path, tiny_run, capsys):
    out = tmp_path / "figs"
    assert main(["plot", "training", "confusion", "--run", str(tiny_run), "--out", str(out), "--format", "svg"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["confusion.svg", "training.svg"]
    assert "<svg" in (out / "confusion.svg").read_text()[:500]
    assert capsys.readouterr().err == ""


def test_plot_confusion_from_a_model_bundle_rescores_the_test_set(tmp_path, tiny_run):
    written, skipped = _write_figures(["confusion"], tmp_path, model=tiny_run / "model")
    assert written == [tmp_path / "confusion.png"] and skipped == []
    metrics = json.loads((tiny_run / "metrics.json").read_text())
    rescored = open_model(tiny_run / "model").evaluate_test_set().evaluation
    np.testing.assert_array_equal(rescored.confusion, metrics["evaluation"]["confusion"])


def test_plot_figure_named_without_its_input_exits_2_with_one_line(tmp_path, capsys):
    assert main(["plot", "training", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err == (
        "vowels: error: figure 'training' needs --run RUNDIR (a 'vowels reproduce' folder; "
        "a model bundle keeps no history).\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_plot_with_a_missing_run_folder_exits_2_naming_it(tmp_path, capsys):
    missing = tmp_path / "no-such-run"
    assert main(["plot", "confusion", "--run", str(missing), "--out", str(tmp_path / "figs")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"vowels: error: {missing}: no run folder there")


def test_plot_all_with_a_bad_model_bundle_fails_before_writing_anything(tmp_path, capsys):
    out = tmp_path / "figs"
    assert main(["plot", "--model", str(tmp_path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == f"vowels: error: {tmp_path}: bundle is incomplete, metadata.json is missing; retrain or re-copy it.\n"
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["plot", "bogus"], "unknown figure 'bogus'; choose from"),
        (["plot", "--observation", "271"], "observation must be a whole number from 1 to 270; got 271"),
        (["plot", "--observation", "0"], "must be a whole number >= 1; got '0'"),
        (["plot", "--format", "gif"], "invalid choice: 'gif'"),
    ],
)
def test_plot_bad_arguments_exit_2_before_writing(tmp_path, capsys, args, message):
    out = tmp_path / "figs"
    assert main([*args, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
    assert not out.exists() or list(out.iterdir()) == []


@pytest.mark.slow
def test_figures_are_drawn_without_pyplot(tmp_path):
    wav = write_vowel(tmp_path / "a.wav")
    code = (
        "import sys, vowels.plots as p; from vowels.datasets import load_japanese_vowels; "
        "t = load_japanese_vowels('train'); p.plot_sequence_lengths(t); p.plot_padding(t); p.plot_features(t); "
        f"p.plot_recording(p.recording_data({str(wav)!r})); "
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot was imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --- recording ----------------------------------------------------------------------


def test_recording_waveform_holds_the_samples_of_the_file(tmp_path):
    wav = write_vowel(tmp_path / "a.wav")
    samples, sr = sf.read(wav, dtype="float32")
    config = FeatureConfig(kind="mfcc", trim_db=None)  # the file's rate, nothing trimmed: the file's samples
    fig = plots.plot_recording(plots.recording_data(wav, config))
    (line,) = fig.axes[0].get_lines()
    np.testing.assert_array_equal(line.get_ydata(), samples)
    np.testing.assert_allclose(line.get_xdata(), np.arange(len(samples)) / sr)
    assert fig.axes[0].get_xlim() == pytest.approx((0, 0.5))
    assert fig.axes[2].get_xlabel().startswith("Time (s")
    assert "a.wav: 0.50 s at 16 kHz" in fig.get_suptitle()


@pytest.mark.parametrize("kind", ["mfcc", "lpcc"])
def test_recording_features_panel_is_the_features_module_output(tmp_path, kind):
    wav = write_vowel(tmp_path / "a.wav")
    config = FeatureConfig(kind=kind)
    data = plots.recording_data(wav, config)
    expected = features_of_file(wav, config)
    np.testing.assert_array_equal(data.features, expected)
    np.testing.assert_allclose(data.shown, Standardization.fit([expected]).apply(expected))
    assert data.scaling == "recording"
    fig = plots.plot_recording(data)
    wave_ax, spec_ax, feat_ax = fig.axes[:3]
    np.testing.assert_array_equal(wave_ax.get_lines()[0].get_ydata(), data.y)
    np.testing.assert_allclose(feat_ax.get_images()[0].get_array(), data.shown.T)
    np.testing.assert_allclose(spec_ax.get_images()[0].get_array(), data.spectrogram_db)
    n_frames = len(expected)
    assert data.spectrogram_db.shape == (config.window_length // 2 + 1, n_frames)  # one spectrum per feature frame
    np.testing.assert_allclose(np.diff(data.frame_times), config.hop_ms / 1000)
    assert data.frame_times[0] == pytest.approx(config.window_ms / 2000)
    assert data.frequencies[-1] == config.sample_rate / 2
    assert data.spectrogram_db.max() == 0 and data.spectrogram_db.min() >= -80
    assert f"{n_frames} frames" in fig.get_suptitle()
    assert feat_ax.get_ylim() == (0.5, config.n_features + 0.5)


def test_recording_spectrogram_peaks_at_the_harmonic_nearest_the_first_formant(tmp_path):
    data = plots.recording_data(write_vowel(tmp_path / "a.wav"), FeatureConfig(kind="lpcc"))
    mean_db = data.spectrogram_db.mean(axis=1)
    peak_hz = data.frequencies[np.argmax(mean_db)]
    assert abs(peak_hz - 6 * F0) < 60  # the 6th harmonic, 720 Hz, is the closest to F1 = 730 Hz


def test_recording_with_raw_features_or_a_model_standardisation(tmp_path):
    wav = write_vowel(tmp_path / "a.wav")
    raw = plots.recording_data(wav, FeatureConfig(kind="lpcc", standardize=False))
    np.testing.assert_array_equal(raw.shown, raw.features)
    assert raw.scaling == "none"
    norm = Standardization(tuple(np.linspace(-1, 1, 12)), tuple(np.linspace(0.5, 2, 12)))
    seen = plots.recording_data(wav, FeatureConfig(kind="lpcc"), preprocessing=Preprocessing(standardization=norm))
    np.testing.assert_allclose(seen.shown, norm.apply(seen.features))
    fig = plots.plot_recording(seen)
    assert fig.axes[2].get_title(loc="left").startswith("Features as the model sees them: 12 LPC cepstrum")
    with pytest.raises(ParameterError, match="preprocessing standardises 12 features per frame; the config gives 13"):
        plots.recording_data(wav, FeatureConfig(kind="mfcc"), preprocessing=Preprocessing(standardization=norm))
    with_deltas = plots.recording_data(wav, FeatureConfig(kind="lpcc", deltas=True, standardize=False))
    assert with_deltas.features.shape[1] == 12 and with_deltas.shown.shape[1] == 24  # the deltas the model reads


def _recordings_bundle(folder, config, standardization, *, architecture="bilstm", delta_width=0):
    """A bundle of a recordings model with a threshold given by hand, as far as the recording figure reads
    it (metadata.json; the network files are placeholders)."""
    import hashlib

    from vowels.files import FORMAT_VERSION
    from vowels.openset import ThresholdChoice

    folder.mkdir()
    (folder / "model.keras").write_bytes(b"weights")
    (folder / "weights.npz").write_bytes(b"arrays")
    metadata = {
        "format": "vowels-model",
        "format_version": FORMAT_VERSION,
        "weights_sha256": hashlib.sha256(b"weights").hexdigest(),
        "numpy_weights_sha256": hashlib.sha256(b"arrays").hexdigest(),
        "classes": ["a", "b"],
        "n_features": config.n_features,
        "params": {"architecture": architecture, "mode": "masked"},
        "features": config.to_dict(),
        "preprocessing": Preprocessing(delta_width=delta_width, standardization=standardization).to_dict(),
        "unknown_threshold": 0.5,
        "open_set": {"operating_point": None, "threshold_choice": ThresholdChoice("given", 0.5).to_dict()},
    }
    write_metadata(folder, metadata)
    return folder


@pytest.mark.slow
def test_plot_recording_takes_the_features_of_a_recordings_model(tmp_path, capsys):
    wav = write_vowel(tmp_path / "a.wav")
    config = FeatureConfig(kind="lpcc", n_coefficients=10)
    norm = Standardization((0.5,) * 10, (2.0,) * 10)
    bundle = _recordings_bundle(tmp_path / "model", config, norm)
    recording = figure_sources(["recording"], model=bundle, audio=wav).recording
    assert recording == (wav, config, Preprocessing(standardization=norm))
    out = tmp_path / "figs"
    assert main(["plot", "--audio", str(wav), "--model", str(bundle), "--out", str(out), "-q"]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "features.png",
        "lengths.png",
        "padding-cost.png",
        "padding.png",
        "recording.png",
    ]
    err = capsys.readouterr().err.splitlines()
    assert err[-3:] == [
        f"vowels plot: skipped 'confusion': needs --run RUNDIR or --model BUNDLE of a Japanese "
        f"Vowels model ({bundle} was trained on recordings)",
        f"vowels plot: skipped 'open-set': needs --model BUNDLE of a model trained on recordings with a "
        f"calibrated threshold ({bundle}: its threshold was given by hand, so no calibration scores were kept)",
        f"vowels plot: skipped 'stream': needs --audio FILE and --model BUNDLE of a forward-only model "
        f"('vowels train --architecture lstm') ({bundle}: bilstm, trained on recordings)",
    ]
    assert (
        main(["plot", "recording", "--audio", str(wav), "--model", str(bundle), "--kind", "mfcc", "--out", str(out)])
        == 2
    )
    assert "conflicts with the model" in capsys.readouterr().err


def test_plot_stream_skips_a_forward_only_model_with_slopes_as_classify_refuses_it(tmp_path, capsys):
    wav = write_vowel(tmp_path / "a.wav")
    config = FeatureConfig(kind="mfcc")
    bundle = _recordings_bundle(tmp_path / "model", config, None, architecture="lstm", delta_width=3)
    out = tmp_path / "figs"
    assert main(["plot", "stream", "--audio", str(wav), "--model", str(bundle), "--out", str(out), "-q"]) == 2
    assert not out.exists()
    assert capsys.readouterr().err == (
        f"vowels: error: figure 'stream' needs --audio FILE and --model BUNDLE of a forward-only model "
        f"('vowels train --architecture lstm') ({bundle}: lstm, with appended slopes, which read frames ahead, "
        "trained on recordings).\n"
    )


def test_plot_recording_of_an_espeak_voice_writes_one_png(tmp_path, capsys):
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    wav = tmp_path / "ah.wav"
    subprocess.run(["espeak-ng", "-v", "en+m3", "-w", str(wav), "ah"], check=True)
    out = tmp_path / "figs"
    assert main(["plot", "recording", "--audio", str(wav), "--kind", "lpcc", "--out", str(out)]) == 0
    assert capsys.readouterr().out == f"Wrote {out / 'recording.png'}\n"
    assert [p.name for p in out.iterdir()] == ["recording.png"]
    assert (out / "recording.png").read_bytes()[:8] == PNG_MAGIC
    data = plots.recording_data(wav, FeatureConfig(kind="lpcc"))
    np.testing.assert_array_equal(data.features, features_of_file(wav, FeatureConfig(kind="lpcc")))


def test_plot_recording_without_audio_exits_2_with_one_line(tmp_path, capsys):
    assert main(["plot", "recording", "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err == "vowels: error: figure 'recording' needs --audio FILE (a recording).\n"
    assert main(["plot", "lengths", "--kind", "lpcc", "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (
        "vowels: error: kind='lpcc' sets the features of the recording figure; give its audio file too "
        "(--audio FILE).\n"
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("content", [b"", b"not audio at all", None])
def test_plot_recording_of_a_bad_file_names_it_before_writing_anything(tmp_path, capsys, content):
    bad = tmp_path / "bad.wav"
    if content is not None:
        bad.write_bytes(content)
    out = tmp_path / "figs"
    assert main(["plot", "lengths", "recording", "--audio", str(bad), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"vowels: error: {bad}: ")
    assert not out.exists()
    with pytest.raises(AudioError, match="bad.wav"):
        plots.recording_data(bad)


# --- open set -----------------------------------------------------------------------

ENROLLED, STRANGER = ("george", "jackson", "lucas", "nicolas"), "theo"


@pytest.fixture(scope="module")
def recordings_model(tmp_path_factory, copy_fsdd):
    """A small real model of 4 FSDD speakers (8 recordings each), its threshold calibrated, and its bundle."""
    from vowels.recordings import RecordingClassifier

    root = tmp_path_factory.mktemp("fsdd")
    train = copy_fsdd(root / "train", ENROLLED, range(8), [10])
    model = RecordingClassifier(
        n_hidden=8, max_epochs=3, mini_batch_size=8, learning_rate=0.01, random_state=0, calibration_folds=3
    ).fit(train)
    assert model.operating_point_ is not None
    return model.save(root / "model")


@pytest.fixture(scope="module")
def calibration(recordings_model):
    from vowels.recordings import RecordingClassifier

    return RecordingClassifier.load(recordings_model).operating_point_


def test_open_set_data_are_the_rates_of_vowels_openset(calibration):
    from sklearn.metrics import det_curve

    from vowels.openset import equal_error_rate, error_rates

    genuine, impostor, threshold = plots.calibration_scores(calibration)
    data = plots.open_set_data(genuine, impostor, threshold)
    assert (len(data.genuine), len(data.impostor)) == (len(calibration.genuine), len(calibration.impostor))
    assert (data.equal_error_rate, data.eer_threshold) == equal_error_rate(genuine, impostor)
    assert data.equal_error_rate == pytest.approx(calibration.equal_error_rate, abs=1e-12)
    assert data.equal_error_rate == pytest.approx((data.eer_false_accept + data.eer_false_reject) / 2)
    # the rates at the threshold are those the bundle recorded
    assert (data.false_accept_rate, data.false_reject_rate) == error_rates(genuine, impostor, threshold)
    assert data.false_accept_rate == pytest.approx(calibration.false_accept_rate, abs=1e-12)
    assert data.false_reject_rate == pytest.approx(calibration.false_reject_rate, abs=1e-12)
    far, frr, _ = det_curve(np.r_[np.ones(len(genuine)), np.zeros(len(impostor))], np.r_[genuine, impostor])
    np.testing.assert_array_equal(data.false_accept, far)
    np.testing.assert_array_equal(data.false_reject, frr)
    for scores, share in ((genuine, data.genuine_share), (impostor, data.impostor_share)):
        assert share.sum() == pytest.approx(100)
        counts, _ = np.histogram(scores, bins=data.edges)
        np.testing.assert_allclose(share, 100 * counts / len(scores))
    assert data.edges[0] <= min(genuine.min(), impostor.min(), threshold)
    assert data.edges[-1] >= max(genuine.max(), impostor.max(), threshold)


def test_open_set_figure_draws_both_panels_with_their_labels(calibration):
    from scipy.stats import norm

    genuine, impostor, threshold = plots.calibration_scores(calibration)
    data = plots.open_set_data(genuine, impostor, threshold)
    fig = plots.plot_open_set(genuine, impostor, threshold, title="Calibration")
    assert len(fig.axes) == 2
    scores_ax, det_ax = fig.axes
    assert scores_ax.get_xlabel() == "Open-set score (similarity to the speaker named)"
    assert scores_ax.get_ylabel() == "Recordings (% of each kind)"
    assert det_ax.get_xlabel() == "False acceptance rate (%): strangers accepted"
    assert det_ax.get_ylabel() == "False rejection rate (%): enrolled rejected"
    assert fig.get_suptitle() == "Calibration"
    legend = [t.get_text() for t in scores_ax.get_legend().get_texts()]
    assert legend == [
        f"enrolled speakers (genuine), n = {len(genuine)}",
        f"strangers (impostor), n = {len(impostor)}",
        f"threshold {threshold:.3f}",
    ]
    outlines = [p for p in scores_ax.patches if not p.get_fill()]
    for patch, share in zip(outlines, (data.genuine_share, data.impostor_share), strict=True):
        values, edges, _ = patch.get_data()
        np.testing.assert_allclose(values, share)
        np.testing.assert_allclose(edges, data.edges)
    (threshold_line,) = [line for line in scores_ax.get_lines() if len(line.get_xdata())]
    assert list(threshold_line.get_xdata()) == [threshold, threshold]
    diagonal, curve, point, eer = det_ax.get_lines()
    low, high = data.limit, 1 - data.limit
    np.testing.assert_allclose(curve.get_xdata(), norm.ppf(np.clip(data.false_accept, low, high)))
    np.testing.assert_allclose(curve.get_ydata(), norm.ppf(np.clip(data.false_reject, low, high)))
    assert point.get_xdata()[0] == pytest.approx(norm.ppf(np.clip(data.false_accept_rate, low, high)))
    assert eer.get_ydata()[0] == pytest.approx(norm.ppf(np.clip(data.eer_false_reject, low, high)))
    labels = [t.get_text() for t in det_ax.get_legend().get_texts()]
    assert f"FAR {100 * data.false_accept_rate:.1f} %, FRR {100 * data.false_reject_rate:.1f} %" in labels[2]
    assert labels[3].startswith(f"EER {100 * data.equal_error_rate:.1f} % at {data.eer_threshold:.3f}")
    ticks = [t.get_text() for t in det_ax.get_xticklabels()]
    assert {"1", "10", "40", "60", "90", "99"} <= set(ticks)  # normal-deviate axes, labelled in %
    np.testing.assert_allclose(det_ax.get_xticks(), norm.ppf(np.array([float(t) for t in ticks]) / 100))
    fig.savefig(io.BytesIO(), format="png")


def test_open_set_figure_of_enrolled_speakers_only_has_no_det_curve(calibration):
    genuine, _, threshold = plots.calibration_scores(calibration)
    data = plots.open_set_data(genuine, [], threshold)
    assert data.equal_error_rate is None and data.false_accept_rate is None and data.false_accept.size == 0
    assert data.false_reject_rate == pytest.approx(np.mean(genuine < threshold))
    fig = plots.plot_open_set(genuine, [], threshold)
    scores_ax, det_ax = fig.axes
    assert len(det_ax.get_lines()) == 1  # the diagonal only
    assert "needs strangers' (impostor)" in det_ax.texts[0].get_text()
    assert [t.get_text() for t in scores_ax.get_legend().get_texts()][0].endswith(f"n = {len(genuine)}")
    with pytest.raises(DataError, match="both the genuine and the impostor scores are empty"):
        plots.open_set_data([], [], threshold)


def test_plot_open_set_of_a_recordings_model_writes_its_calibration(tmp_path, recordings_model, calibration, capsys):
    out = tmp_path / "figs"
    assert main(["plot", "open-set", "--model", str(recordings_model), "--out", str(out)]) == 0
    assert capsys.readouterr().out == f"Wrote {out / 'open-set.png'}\n"
    assert (out / "open-set.png").read_bytes()[:8] == PNG_MAGIC
    written, skipped = _write_figures(None, tmp_path / "all", model=recordings_model)
    assert tmp_path / "all" / "open-set.png" in written
    assert not any("open-set" in line for line in skipped)


def test_plot_open_set_of_a_japanese_vowels_model_exits_2_with_one_line(tmp_path, tiny_run, capsys):
    model = tiny_run / "model"
    assert main(["plot", "open-set", "--model", str(model), "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (
        "vowels: error: figure 'open-set' needs --model BUNDLE of a model trained on recordings with a calibrated "
        f"threshold ({model}: it was trained on Japanese Vowels sequences, which have no open-set scores).\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_plot_open_set_of_a_threshold_given_by_hand_is_skipped_or_refused(tmp_path, recordings_model, capsys):
    bundle = tmp_path / "model"
    shutil.copytree(recordings_model, bundle)
    metadata = json.loads((bundle / "metadata.json").read_text())
    given = {"how": "given", "threshold": 0.5}  # as RecordingClassifier(threshold=0.5).fit leaves it
    metadata["open_set"].update(threshold_choice=given, operating_point=None)
    write_metadata(bundle, metadata)
    reason = f"({bundle}: its threshold was given by hand, so no calibration scores were kept)"
    written, skipped = _write_figures(["lengths"], tmp_path / "one", model=bundle)
    assert [p.name for p in written] == ["lengths.png"] and skipped == []
    written, skipped = _write_figures(None, tmp_path / "all", model=bundle)
    assert "open-set.png" not in {p.name for p in written}
    assert skipped[-2] == (
        "skipped 'open-set': needs --model BUNDLE of a model trained on recordings with a calibrated threshold "
        + reason
    )
    with pytest.raises(ParameterError, match="figure 'open-set' needs") as raised:
        _write_figures(["open-set"], tmp_path / "named", model=bundle)
    assert str(raised.value).endswith(reason + ".")
    assert not (tmp_path / "named").exists()
