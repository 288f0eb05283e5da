"""The CLI's rough edges of issue 15: help texts, the data folder of evaluate and report, refusals in the
CLI's terms, evaluate's wrong answers, extraction progress, and one-line reprs of the data containers."""

from __future__ import annotations

import argparse
import gzip
import io
import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest

import vowels
from vowels import files
from vowels.cli import build_parser, main
from vowels.errors import BundleError
from vowels.progress import ProgressPrinter

ENROLLED, STRANGER = ("george", "jackson", "lucas"), "nicolas"


def run(capsys, *argv):
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def _help(capsys, *argv) -> str:
    with pytest.raises(SystemExit) as exit_:
        main([*argv, "--help"])
    assert exit_.value.code == 0
    return capsys.readouterr().out


# --- help -------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [[], *([name] for name in _subcommands())], ids=lambda c: " ".join(c) or "top")
def test_help_renders_without_format_escapes(command, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    text = _help(capsys, *command)
    assert "%%" not in text and "%(" not in text
    if command == ["report"]:
        assert "with a 95% Wilson interval" in text


@pytest.mark.parametrize("name", list(_subcommands()))
def test_every_command_describes_what_it_does_and_writes(name, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    parser = _subcommands()[name]
    assert parser.description and len(parser.description) > 80, name
    text = " ".join(_help(capsys, name).split())
    assert " ".join(parser.description.split()) in text
    assert re.search(r"\b([Ww]rites?|[Pp]rints?)\b", parser.description), parser.description


def test_top_level_help_lists_every_command_with_its_summary(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    text = _help(capsys)
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    summaries = {action.dest: action.help for action in sub._choices_actions}
    assert (
        set(summaries)
        == set(_subcommands())
        == {
            "reproduce",
            "evaluate",
            "plot",
            "report",
            "extract",
            "train",
            "enrol",
            "classify",
            "serve",
        }
    )
    for name, summary in summaries.items():
        assert summary and "\n" not in summary
        assert re.search(rf"^ +{name}\s+{re.escape(summary)}$", text, re.MULTILINE), name
    assert "Run 'vowels COMMAND --help'" in text


def _options_with_defaults():
    for name, parser in _subcommands().items():
        for action in parser._actions:
            if action.option_strings and action.nargs != 0 and not action.required:
                yield name, action


@pytest.mark.parametrize(
    ("command", "action"), list(_options_with_defaults()), ids=lambda x: getattr(x, "dest", x) if x else x
)
def test_every_default_and_choice_is_shown(command, action):
    if action.default not in (None, argparse.SUPPRESS):
        assert "default" in action.help, (command, action.option_strings)
        assert str(action.default).lower() in action.help.lower(), (command, action.option_strings)
    if action.choices is not None:
        assert action.metavar is None  # argparse then shows {a,b,c} beside the option
        formatter = argparse.HelpFormatter(f"vowels {command}")
        formatter.add_argument(action)
        assert "{" + ",".join(action.choices) + "}" in formatter.format_help()


def test_train_kind_shows_its_default(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    line = next(line for line in _help(capsys, "train").splitlines() if line.startswith("  --kind"))
    assert "--kind {mfcc,lpcc}" in line and "(default mfcc)" in line


# --- refusals: --force from the CLI, force=True from Python --------------------------------


def test_refusal_names_force_true_in_python(tmp_path):
    existing = tmp_path / "feats.npz"
    existing.write_bytes(b"x")
    with pytest.raises(BundleError) as refused:
        files.check_free(existing, force=False)
    assert str(refused.value) == f"{existing}: output already exists; pass force=True to replace it."
    with pytest.raises(BundleError, match="already exists; pass force=True to replace it") as refused:
        files.write_bytes(existing, b"y", force=False)
    assert "--force" not in str(refused.value) and existing.read_bytes() == b"x"


def test_refusal_names_the_flag_on_the_command_line(tmp_path, capsys):
    existing = tmp_path / "feats.npz"
    existing.write_bytes(b"x")
    status, out, err = run(capsys, "extract", tmp_path / "speakers", "--out", existing)
    assert (status, out) == (2, "")
    assert err == f"vowels: error: {existing}: output already exists; pass --force to replace it.\n"


# --- progress -------------------------------------------------------------------------------


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_on_a_terminal_is_one_line_redrawn_with_count_rate_and_time_left(monkeypatch):
    clock = iter([100.0, 101.0, 101.05, 102.0, 104.0])  # start, then one reading per call
    monkeypatch.setattr("time.monotonic", lambda: next(clock))
    monkeypatch.setattr("sys.stderr", _Terminal())
    monkeypatch.setenv("COLUMNS", "120")  # wide enough for the whole bar
    show = ProgressPrinter().files("Extracting features")
    show(10, 40)  # 10 files in 1 s
    show(11, 40)  # 0.05 s later: not redrawn
    show(20, 40)
    show(40, 40)
    written = __import__("sys").stderr.getvalue()
    frames = written.split("\r")[1:]
    assert len(frames) == 3 and written.endswith("\n") and written.count("\n") == 1
    bar = "Extracting features [{}]"
    assert frames[0] == bar.format("#" * 7 + "." * 23) + " 10/40 files, 10.0 files/s, 0:03 left"
    assert frames[1] == bar.format("#" * 15 + "." * 15) + " 20/40 files, 10.0 files/s, 0:02 left"
    assert (
        frames[2] == bar.format("#" * 30) + " 40/40 files, in 0:04, start-up included (10.0 files/s overall)\n"
    )  # one space blanks a longer line


def test_progress_in_a_log_is_a_few_plain_lines(monkeypatch):
    clock = iter([0.0, *np.arange(1, 301) / 50])  # 50 files a second
    monkeypatch.setattr("time.monotonic", lambda: next(clock))
    monkeypatch.setattr("sys.stderr", io.StringIO())
    show = ProgressPrinter().files("Extracting features")
    for done in range(1, 301):
        show(done, 300)
    lines = __import__("sys").stderr.getvalue().splitlines()
    assert lines == [
        "Extracting features: 75/300 files (25%), 50.0 files/s, 0:04 left",
        "Extracting features: 150/300 files (50%), 50.0 files/s, 0:03 left",
        "Extracting features: 225/300 files (75%), 50.0 files/s, 0:02 left",
        "Extracting features: 300/300 files (100%), in 0:06, start-up included (50.0 files/s overall)",
    ]


# --- evaluate: a Japanese Vowels model --------------------------------------------------------


@pytest.fixture(scope="module")
def jv_bundle(tmp_path_factory):
    """A weak Japanese Vowels model (4 hidden units, 1 epoch), so that the test set has errors."""
    from vowels.classifier import SpeakerClassifier
    from vowels.datasets import load_japanese_vowels
    from vowels.training import TrainingOptions

    train = load_japanese_vowels("train")
    clf = SpeakerClassifier(n_hidden=4, options=TrainingOptions(max_epochs=1)).fit(train.sequences, train.labels)
    return clf.save(tmp_path_factory.mktemp("jv") / "model")


def test_evaluate_lists_the_misclassified_test_utterances(jv_bundle, capsys):
    status, out, _ = run(capsys, "evaluate", "--model", jv_bundle, "--json")
    assert status == 0
    report = json.loads(out)
    assert report["n"] == 370 and report["model"] == str(jv_bundle) and report["data"] is None
    errors = report["errors"]
    assert len(errors) == report["n_errors"] > 0
    assert all(e["true"] != e["answer"] and 0 < e["probability"] <= 1 for e in errors)
    assert all(re.fullmatch(r"bundled ae\.test:\d+-\d+", e["source"]) for e in errors), errors[0]

    status, out, _ = run(capsys, "evaluate", "--model", jv_bundle)
    lines = out.splitlines()
    assert status == 0 and lines[0].startswith(f"Test accuracy: {100 * report['accuracy']:.2f}%")
    assert lines[1] == f"Misclassified: {len(errors)} of 370 test utterances:"
    assert lines[2:] == [
        f"  {e['source']}: true {e['true']}, answer {e['answer']} (p={e['probability']:.3f})" for e in errors
    ]
    status, quiet, _ = run(capsys, "evaluate", "--model", jv_bundle, "-q")
    assert quiet.splitlines() == lines[:1]


def test_evaluate_data_still_names_the_uci_folder_of_a_japanese_vowels_model(jv_bundle, tmp_path, capsys):
    bundled = Path(vowels.__file__).parent / "data" / "japanese_vowels"
    for name in ("ae.test", "size_ae.test"):
        packed = bundled / f"{name}.gz"
        data = gzip.decompress(packed.read_bytes()) if packed.exists() else (bundled / name).read_bytes()
        (tmp_path / name).write_bytes(data)
    status, out, _ = run(capsys, "evaluate", "--model", jv_bundle)
    assert status == 0 and "bundled ae.test:" in out
    from_folder = run(capsys, "evaluate", "--model", jv_bundle, "--data", tmp_path)
    assert from_folder[:2] == (0, out.replace("  bundled ae.test:", f"  {tmp_path / 'ae.test'}:"))


# --- evaluate: a model from `vowels train` on a folder of recordings --------------------------


@pytest.fixture(scope="module")
def recordings(tmp_path_factory, copy_fsdd):
    """A weak model from `vowels train` (3 FSDD speakers, 2 epochs) and a folder with a stranger to score."""
    root = tmp_path_factory.mktemp("fsdd")
    train = copy_fsdd(root / "train", ENROLLED, range(4), [10])
    folder = copy_fsdd(root / "test", (*ENROLLED, STRANGER), range(2), [11])
    model = root / "model"
    argv = ["train", train, "--out", model, "--epochs", 2, "--hidden", 4, "--validation-fraction", 0]
    assert main([str(a) for a in [*argv, "--threshold", "0.2", "-q"]]) == 0
    return model, folder


def test_evaluate_folder_lists_each_wrong_answer_as_in_its_json(recordings, capsys):
    from vowels.recordings import RecordingClassifier

    model, folder = recordings
    status, out, err = run(capsys, "evaluate", "--model", model, folder, "--json")
    assert status == 0
    report = json.loads(out)
    expected = RecordingClassifier.load(model, engine="fast").evaluate_folder(folder)[0]
    assert report["errors"] == json.loads(json.dumps(expected.errors))
    errors = report["errors"]
    assert errors and {e["outcome"] for e in errors} <= {"misnamed", "rejected", "stranger accepted"}

    status, out, _ = run(capsys, "evaluate", "--model", model, folder)
    assert status == 0
    lines = out.splitlines()
    start = lines.index(f"Wrong answers at threshold 0.200: {len(errors)} of 8 recordings:")
    listed = lines[start + 1 :]
    assert len(listed) == len(errors)
    for line, e in zip(listed, errors, strict=True):
        assert line.startswith(f"  {e['source']}: true {e['true']}, answer {e['answer']} ({e['outcome']}, ")
        assert f"score {e['score']:.3f}" in line
        assert (f", nearest {e['nearest']})" in line) == (e["answer"] == "unknown")


def test_evaluate_takes_the_folder_as_data_as_report_does(recordings, capsys):
    model, folder = recordings
    positional = run(capsys, "evaluate", "--model", model, folder)
    assert positional[0] == 0 and "Closed-set accuracy" in positional[1]
    assert run(capsys, "evaluate", "--model", model, "--data", folder)[:2] == positional[:2]
    assert run(capsys, "evaluate", "--model", model, folder, "--data", folder)[:2] == positional[:2]
    status, out, err = run(capsys, "evaluate", "--model", model, folder, "--data", folder / "george")
    assert (status, out) == (2, "")
    assert err == (
        f"vowels evaluate: DIR {folder} and --data {folder / 'george'} both name the data to score; give one "
        "(see 'vowels evaluate --help')\n"
    )


# --- reprs ------------------------------------------------------------------------------------


def test_utterances_print_on_one_line():
    from vowels.datasets import Utterances, load_japanese_vowels

    train = load_japanese_vowels("train")
    assert repr(train) == str(train) == "Utterances(270 sequences of 12 features, 7-26 frames, 9 speakers: '1'..'9')"
    assert repr(train.subset([0, 1])) == "Utterances(2 sequences of 12 features, 20-26 frames, 9 speakers: '1'..'9')"
    few = Utterances([np.zeros((3, 2))], np.array(["a"]), ("a", "b"), ("x",))
    assert repr(few) == "Utterances(1 sequences of 2 features, 3-3 frames, 2 speakers: 'a', 'b')"
    assert repr(Utterances([], np.array([]), (), ())) == "Utterances(0 sequences, 0 speakers)"


def test_extraction_evaluations_and_history_print_on_one_line():
    from vowels.datasets import Utterances
    from vowels.evaluation import evaluate_open_set, evaluate_predictions
    from vowels.extraction import Extraction, Failure
    from vowels.features import FeatureConfig
    from vowels.training import TrainingHistory

    u = Utterances([np.zeros((5, 13)), np.zeros((9, 13))], np.array(["a", "b"]), ("a", "b"), ("a/1.wav", "b/1.wav"))
    extraction = Extraction(u, FeatureConfig(), (Failure("c.wav", "c.wav: empty"),), {22050: 2})
    assert repr(extraction) == (
        "Extraction(mfcc at 16000 Hz, Utterances(2 sequences of 13 features, 5-9 frames, 2 speakers: 'a', 'b'), "
        "1 files skipped)"
    )
    closed = evaluate_predictions(["a", "b", "a"], ["a", "a", "a"], speakers=["a", "b"])
    assert repr(closed) == "Evaluation(accuracy 66.67% (2/3), 2 speakers: 'a', 'b')"
    open_set = evaluate_open_set(
        ["a", "b", "a", "z"], ["a", "a", "a", "b"], [0.9, 0.8, 0.1, 0.7], enrolled=["a", "b"], threshold=0.5
    )
    assert repr(open_set) == (
        "OpenSetEvaluation(threshold 0.500; 3 enrolled recordings: closed-set accuracy 66.67%, 33.33% named at "
        f"the threshold; 1 of strangers: 0.00% rejected; equal error rate {100 * open_set.equal_error_rate:.2f}%; "
        "3 wrong answers)"
    )
    history = TrainingHistory([1.0, 0.5, 0.2, 0.1], [0.5, 0.5, 1.0, 1.0], [0, 0, 1, 1], [1.0, 1.0])
    assert repr(history) == "TrainingHistory(2 epochs, 4 iterations, last epoch loss 0.1500, accuracy 1.0000)"
    assert repr(TrainingHistory()) == "TrainingHistory(0 epochs)"


def test_a_reader_that_goes_away_ends_the_command_quietly(monkeypatch, capsys, tmp_path):
    class ClosedPipe(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    assert main(["plot", "lengths", "--out", str(tmp_path)]) == 1
    assert capsys.readouterr().err == ""
    assert (tmp_path / "lengths.png").is_file()
