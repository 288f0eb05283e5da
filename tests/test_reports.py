"""Accuracy reports: numbers against their evaluation, self-contained HTML, bad inputs, the committed report."""

from __future__ import annotations

import base64
import contextlib
import io
import json
import math
import re
import shutil
import statistics
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from vowels.cli import main
from vowels.errors import DataError, ParameterError
from vowels.reports import report_from_model, report_from_run, wilson_interval, write_report

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "reports" / "japanese_vowels"


def _wilson_by_hand(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson (1927) score interval, closed form, with the normal quantile from the standard library."""
    z = statistics.NormalDist().inv_cdf(0.5 + confidence / 2)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


@pytest.mark.parametrize(("k", "n"), [(347, 370), (351, 370), (0, 10), (10, 10), (5, 9), (1, 1)])
def test_wilson_interval_matches_the_closed_form(k, n):
    low, high = wilson_interval(k, n)
    expected = _wilson_by_hand(k, n)
    assert low == pytest.approx(expected[0], abs=1e-9) and high == pytest.approx(expected[1], abs=1e-9)
    assert 0 <= low <= k / n <= high <= 1


def test_wilson_interval_matches_a_published_value():
    # Newcombe (1998), Statistics in Medicine 17:857, table I: 0/10 -> 0.0000 to 0.2775 (score method).
    low, high = wilson_interval(0, 10)
    assert low == pytest.approx(0.0, abs=1e-9) and high == pytest.approx(0.2775, abs=5e-5)


@pytest.mark.parametrize(
    ("k", "n", "message"), [(1, 0, "n must be"), (5, 4, "n_correct must be"), (-1, 4, "n_correct")]
)
def test_wilson_interval_rejects_impossible_counts(k, n, message):
    with pytest.raises(ParameterError, match=message):
        wilson_interval(k, n)


@pytest.fixture(scope="module")
def seeds_run(tmp_path_factory) -> tuple[Path, str]:
    """A real two-seed run (seeds 1 and 2, one epoch each), made through the CLI."""
    out = tmp_path_factory.mktemp("seeds") / "run"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        status = main(
            [
                "reproduce",
                "--seeds",
                "2",
                "--seed",
                "1",
                "--epochs",
                "1",
                "--mode",
                "masked",
                "--out",
                str(out),
                "--quiet",
            ]
        )
    assert status == 0
    return out, printed.getvalue()


@pytest.mark.slow
def test_reproduce_seeds_writes_each_seed_and_the_spread(seeds_run):
    out, printed = seeds_run
    summary = json.loads((out / "seeds.json").read_text())
    accuracies = [json.loads((out / f"seed-{s}" / "metrics.json").read_text())["accuracy"] for s in (1, 2)]
    assert [r["seed"] for r in summary["runs"]] == [1, 2]
    assert [r["accuracy"] for r in summary["runs"]] == accuracies
    acc = summary["accuracy"]
    assert acc["mean"] == pytest.approx(statistics.mean(accuracies))
    assert acc["std"] == pytest.approx(statistics.stdev(accuracies))
    assert (acc["min"], acc["max"]) == (min(accuracies), max(accuracies))
    for seed in (1, 2):
        assert json.loads((out / f"seed-{seed}" / "metrics.json").read_text())["seed"] == seed
        assert (out / f"seed-{seed}" / "model" / "metadata.json").is_file()
    assert printed.strip().splitlines() == [
        f"Test accuracy over 2 seeds (1-2): mean {100 * acc['mean']:.2f}%, standard deviation "
        f"{100 * acc['std']:.2f} points, min {100 * acc['min']:.2f}%, max {100 * acc['max']:.2f}%, "
        "MATLAB recipe (masked mode), 1 epochs"
    ]


def test_reproduce_seeds_refuses_to_replace_a_run_before_training(seeds_run, capsys):
    out, _ = seeds_run
    before = (out / "seeds.json").read_text()
    assert main(["reproduce", "--seeds", "2", "--seed", "1", "--epochs", "1", "--out", str(out), "--quiet"]) == 2
    assert "seeds.json: result of an earlier run already exists; pass --force" in capsys.readouterr().err
    assert (out / "seeds.json").read_text() == before


def test_report_numbers_are_the_evaluation_of_the_headline_seed(seeds_run):
    out, _ = seeds_run
    metrics = json.loads((out / "seed-1" / "metrics.json").read_text())
    rows = (out / "seed-1" / "predictions.csv").read_text().splitlines()[1:]
    report = report_from_run(out)
    ev = report.evaluation
    assert report.headline_seed == 1
    assert ev.accuracy == metrics["accuracy"] and ev.n_errors == metrics["n_errors"] and ev.n == 370
    assert ev.confusion.tolist() == metrics["evaluation"]["confusion"]
    assert int(ev.confusion.sum()) == 370 and int(np.trace(ev.confusion)) == 370 - ev.n_errors
    assert ev.confusion.sum(axis=1).tolist() == ev.support.tolist()
    support = {name: v["support"] for name, v in metrics["evaluation"]["per_speaker"].items()}
    assert dict(zip(ev.speakers, ev.support.tolist(), strict=True)) == support
    assert sum(support.values()) == 370
    assert report.interval == pytest.approx(_wilson_by_hand(370 - ev.n_errors, 370), abs=1e-9)
    wrong = [r.split(",") for r in rows if r.split(",")[3] != r.split(",")[4]]
    assert [(p.index, p.true, p.predicted) for p in report.misclassified] == [(int(r[0]), r[3], r[4]) for r in wrong]
    assert len(report.misclassified) == ev.n_errors
    assert report.seeds["accuracy"]["n_seeds"] == 2
    assert report.configuration["mode"] == "masked" and report.configuration["options"]["max_epochs"] == 1


def test_written_report_states_the_numbers_it_was_built_from(seeds_run, tmp_path):
    out, _ = seeds_run
    report = report_from_run(out)
    written = write_report(report, tmp_path / "report")
    markdown = (tmp_path / "report" / "report.md").read_text()
    ev, (low, high) = report.evaluation, report.interval
    assert f"**Test accuracy: {100 * ev.accuracy:.2f} %** ({370 - ev.n_errors} of 370" in markdown
    assert f"**{ev.n_errors} errors**" in markdown
    assert f"**{100 * low:.2f} % – {100 * high:.2f} %** (Wilson score interval" in markdown
    acc = report.seeds["accuracy"]
    assert "**Seeds differ.**" in markdown
    assert f"from {100 * acc['min']:.2f} % to {100 * acc['max']:.2f} %" in markdown
    assert f"a range of {100 * (acc['max'] - acc['min']):.2f} points" in markdown
    for i, name in enumerate(ev.speakers):  # per-speaker rows: precision, recall, F1, support
        row = f"| {name} | {ev.precision[i]:.3f} | {ev.recall[i]:.3f} | {ev.f1[i]:.3f} | {ev.support[i]} |"
        assert row in markdown
    confusion_rows = [line for line in markdown.splitlines() if re.match(r"\| \d \| (\d+ \| ){10}$", line + " ")]
    assert [int(line.split("|")[-2]) for line in confusion_rows] == ev.support.tolist()
    assert f"## Misclassified utterances ({ev.n_errors})" in markdown
    linked = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", markdown)
    assert sorted(linked) == ["confusion.png", "training.png"]
    for name in linked:
        assert (tmp_path / "report" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"vowels reproduce --seeds 2 --seed 1 --epochs 1 --mode masked --out {out} --force" in markdown
    saved = json.loads((tmp_path / "report" / "report.json").read_text())
    assert saved["evaluation"]["accuracy"] == ev.accuracy and saved["interval"]["method"] == "wilson"
    assert saved["open_set"] is None and "Open set" not in markdown
    assert [line for line in markdown.splitlines() if line.startswith("## ")] == [
        "## Result",
        "## Spread over seeds",
        "## Per speaker",
        "## Confusion matrix",
        "## Training curve",
        f"## Misclassified utterances ({ev.n_errors})",
        "## Data set",
        "## Configuration",
        "## Software",
        "## Machine and timing",
        "## Regenerate",
    ]
    assert {p.name for p in written} == {"confusion.png", "training.png", "report.md", "report.html", "report.json"}


class _Requests(HTMLParser):
    """Every URL-bearing attribute, every tag name, and the text of <style> elements."""

    URL_ATTRIBUTES = {"src", "href", "srcset", "poster", "data", "action", "formaction", "background", "cite"}

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.urls: list[tuple[str, str, str]] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self._in_style = tag == "style"
        for name, value in attrs:
            if name in self.URL_ATTRIBUTES or name == "style":
                self.urls.append((tag, name, value or ""))

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.styles.append(data)


def test_html_report_makes_no_external_request(seeds_run, tmp_path):
    out, _ = seeds_run
    write_report(report_from_run(out), tmp_path)
    page = (tmp_path / "report.html").read_text()
    parsed = _Requests()
    parsed.feed(page)
    assert not {"script", "link", "iframe", "object", "embed", "base", "frame", "audio", "video"} & set(parsed.tags)
    images = [value for tag, name, value in parsed.urls if tag == "img" and name == "src"]
    assert len(images) == 2
    for value in images:
        assert value.startswith("data:image/png;base64,")
        assert base64.b64decode(value.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    others = [(tag, name, value) for tag, name, value in parsed.urls if not (tag == "img" and name == "src")]
    assert all(not re.match(r"\s*([a-z][a-z0-9+.-]*:|//)", value, re.I) for _, _, value in others), others
    css = "\n".join(parsed.styles)
    assert css and "url(" not in css and "@import" not in css and "@font-face" not in css
    assert "default-src 'none'" in page  # the Content-Security-Policy forbids requests outright


@pytest.mark.slow
def test_report_of_a_model_bundle_rescores_the_test_set(seeds_run, tmp_path):
    out, _ = seeds_run
    metrics = json.loads((out / "seed-2" / "metrics.json").read_text())
    report = report_from_model(out / "seed-2" / "model")
    assert report.evaluation.accuracy == metrics["accuracy"]
    assert report.evaluation.confusion.tolist() == metrics["evaluation"]["confusion"]
    assert report.history is None and report.seeds is None
    write_report(report, tmp_path)
    markdown = (tmp_path / "report.md").read_text()
    assert "Not available: a model bundle keeps no training history" in markdown
    assert not (tmp_path / "training.png").exists()


def test_single_seed_run_folder_has_no_seed_section(seeds_run):
    out, _ = seeds_run
    report = report_from_run(out / "seed-2")
    assert report.seeds is None and report.configuration["seed"] == 2


def test_edited_run_folder_is_refused(seeds_run, tmp_path):
    out, _ = seeds_run
    copy = tmp_path / "run"
    shutil.copytree(out / "seed-1", copy)
    metrics = json.loads((copy / "metrics.json").read_text())
    metrics["evaluation"]["accuracy"] = 0.99
    (copy / "metrics.json").write_text(json.dumps(metrics))
    with pytest.raises(DataError, match="does not match predictions.csv"):
        report_from_run(copy)


def _one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["report", "--out", "x"], "one of the arguments --run --model is required"),
        (["report", "--run", "a", "--model", "b", "--out", "x"], "not allowed with argument"),
        (["report", "--run", "a"], "the following arguments are required: --out"),
    ],
)
def test_report_usage_errors_exit_2_with_one_line(args, message):
    result = subprocess.run([sys.executable, "-m", "vowels", *args], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert message in _one_line(result.stderr)


def test_report_input_errors_exit_2_with_one_line(seeds_run, tmp_path, capsys):
    out, _ = seeds_run
    cases = [
        (["--run", str(tmp_path / "nowhere")], f"{tmp_path / 'nowhere'}: no run folder there"),
        (["--model", str(tmp_path / "nowhere")], f"{tmp_path / 'nowhere'}: no model bundle there"),
        (["--run", str(out / "seed-1" / "model")], "metrics.json: missing"),
        (["--run", str(out), "--data", str(tmp_path / "nodata")], f"{tmp_path / 'nodata'}: not a folder"),
    ]
    for args, message in cases:
        assert main(["report", *args, "--out", str(tmp_path / "r")]) == 2
        line = _one_line(capsys.readouterr().err)
        assert line.startswith("vowels: error: ") and message in line, line
    assert not (tmp_path / "r" / "report.md").exists()


def test_report_is_not_replaced_without_force(seeds_run, tmp_path, capsys):
    out, _ = seeds_run
    target = tmp_path / "report"
    assert main(["report", "--run", str(out), "--out", str(target), "--quiet"]) == 0
    assert capsys.readouterr().out.startswith("Test accuracy: ")
    (target / "report.md").write_text("keep me")
    assert main(["report", "--run", str(out), "--out", str(target), "--quiet"]) == 2
    assert "report.md: report already exists; pass --force" in _one_line(capsys.readouterr().err)
    assert (target / "report.md").read_text() == "keep me"
    assert main(["report", "--run", str(out), "--out", str(target), "--quiet", "--force"]) == 0
    assert (target / "report.md").read_text().startswith("# Accuracy report")


def _percent(pattern: str, text: str) -> str:
    found = re.search(pattern, text)
    assert found, (pattern, text[:500])
    return found.group(1)


@pytest.mark.slow
def test_committed_report_accuracy_is_what_vowels_evaluate_prints():
    markdown = (COMMITTED / "report.md").read_text()
    headline = _percent(r"\*\*Test accuracy: (\d+\.\d\d) %\*\*", markdown)
    seeds = json.loads((COMMITTED / "run" / "seeds.json").read_text())
    bundle = COMMITTED / "run" / seeds["runs"][0]["folder"] / "model"
    result = subprocess.run(
        [sys.executable, "-m", "vowels", "evaluate", "--model", str(bundle)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert _percent(r"Test accuracy: (\d+\.\d\d)%", result.stdout) == headline
    assert "vowels report --run reports/japanese_vowels/run --out reports/japanese_vowels --force" in markdown
    readme = (ROOT / "README.md").read_text()
    assert "reports/japanese_vowels/report.md" in readme
    assert f"sums up: {headline} % for seed 0" in readme


def test_committed_report_agrees_with_its_run_folder():
    report = report_from_run(COMMITTED / "run")
    saved = json.loads((COMMITTED / "report.json").read_text())
    assert saved["evaluation"] == json.loads(json.dumps(report.evaluation.to_dict()))
    assert saved["seeds"]["accuracy"] == report.seeds["accuracy"]
    assert (saved["origin"]["mode"], saved["origin"]["epochs"], saved["origin"]["n_seeds"]) == ("matlab", 100, 5)


# --- a model trained on recordings: closed-set headline, open-set section ---------------------------

ENROLLED, STRANGER = ("george", "jackson", "lucas", "nicolas"), "theo"


@pytest.fixture(scope="module")
def fsdd_model(tmp_path_factory, copy_fsdd) -> dict:
    """A small real model of 4 FSDD speakers (8 recordings each, threshold calibrated) and folders to score:
    ``mixed`` (3 new recordings of each enrolled speaker and 3 of a stranger) and ``strangers`` (the stranger's)."""
    from vowels.recordings import RecordingClassifier

    root = tmp_path_factory.mktemp("fsdd")
    train = copy_fsdd(root / "train", ENROLLED, range(8), [10])
    model = RecordingClassifier(
        n_hidden=8, max_epochs=3, mini_batch_size=8, learning_rate=0.01, random_state=0, calibration_folds=3
    ).fit(train)
    mixed = copy_fsdd(root / "mixed", (*ENROLLED, STRANGER), range(3), [11])
    strangers = copy_fsdd(root / "strangers", (STRANGER,), range(3), [11])
    return {"model": model.save(root / "model"), "mixed": mixed, "strangers": strangers}


def test_report_of_a_recordings_model_holds_evaluate_folders_numbers(fsdd_model, tmp_path):
    from vowels.evaluation import evaluate_predictions
    from vowels.recordings import RecordingClassifier

    bundle, folder = fsdd_model["model"], fsdd_model["mixed"]
    scored, failures = RecordingClassifier.load(bundle).evaluate_folder(folder)
    assert failures == [] and (scored.n_enrolled, scored.n_strangers) == (12, 3)
    report = report_from_model(bundle, data=folder)
    # headline: the closed set of the enrolled speakers' recordings, recomputed from the predictions
    ev = report.evaluation
    assert ev.n == 12 and ev.accuracy == scored.closed_set.accuracy
    np.testing.assert_array_equal(ev.confusion, scored.closed_set.confusion)
    again = evaluate_predictions(
        [p.true for p in report.predictions], [p.predicted for p in report.predictions], speakers=ev.speakers
    )
    np.testing.assert_array_equal(again.confusion, ev.confusion)
    assert STRANGER not in {p.true for p in report.predictions} and len(report.misclassified) == ev.n_errors
    write_report(report, tmp_path)
    saved = json.loads((tmp_path / "report.json").read_text())
    expected = json.loads(json.dumps(scored.to_dict()))
    assert {key: saved["open_set"][key] for key in expected} == expected
    assert saved["open_set"]["genuine"] == scored.genuine.tolist()
    assert saved["open_set"]["impostor"] == scored.impostor.tolist()
    counts = saved["open_set"]["counts"]
    assert sum(counts.values()) == 15 and counts["stranger rejected"] + counts["stranger accepted"] == 3
    assert counts["correct"] == round(scored.identified * 12)
    point = saved["open_set"]["operating_point"]
    assert point == json.loads((bundle / "metadata.json").read_text())["open_set"]["operating_point"]
    assert saved["evaluation"]["accuracy"] == scored.closed_set.accuracy

    markdown = (tmp_path / "report.md").read_text()
    assert "## Open set (unknown speakers)" in markdown
    assert f"**Unknown-speaker threshold {scored.threshold:.3f} (eer; only " in markdown
    assert f"of {point['n_impostor']} held-out recordings of left-out speakers rejected" in markdown
    assert point["method"] == "normal fit"  # 8 held-out recordings: too few to put the threshold at one of them
    assert "too few to put the threshold at one of them" in markdown
    assert f"{100 * point['false_reject_rate']:.1f}% of {point['n_genuine']} of enrolled speakers rejected" in markdown
    n_rejected = counts["stranger rejected"]
    assert (
        f'| strangers\' recordings rejected (answered "unknown") | {100 * scored.true_rejection:.2f} % '
        f"| {n_rejected} of 3 |" in markdown
    )
    assert (
        f"| stranger {STRANGER}: recordings rejected | {100 * n_rejected / 3:.2f} % | {n_rejected} of 3 |" in markdown
    )
    assert f"| {100 * scored.equal_error_rate:.2f} % |" in markdown
    assert "The folder's 3 recordings of 1 stranger are left out of it." in markdown
    linked = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", markdown)
    assert linked == ["confusion.png", "open-set-scores.png", "open-set-calibration.png"]
    for name in linked:
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "| enrolled speakers | 12 | 4 |" in markdown and "| strangers | 3 | 1 |" in markdown
    html_page = (tmp_path / "report.html").read_text()
    assert "Open set (unknown speakers)" in html_page and html_page.count('<img src="data:image/png;base64,') == 3


def test_report_of_a_folder_of_strangers_only_heads_with_the_share_rejected(fsdd_model, tmp_path, capsys):
    from vowels.recordings import RecordingClassifier

    bundle, folder = fsdd_model["model"], tmp_path / "strangers"
    shutil.copytree(fsdd_model["strangers"], folder)
    (folder / STRANGER / "broken.wav").write_bytes(b"not audio at all")
    scored, failures = RecordingClassifier.load(bundle).evaluate_folder(folder)
    assert scored.closed_set is None and [f.path for f in failures] == [str(folder / STRANGER / "broken.wav")]
    report = report_from_model(bundle, data=folder)
    assert report.evaluation.accuracy == scored.true_rejection and report.evaluation.n == 3
    assert {p.true for p in report.predictions} == {"unknown"}
    assert [p.predicted for p in report.predictions] == [r["answer"] for r in scored.rows]
    assert report.open_set["n_enrolled"] == 0 and report.open_set["identified"] == 0.0
    out = tmp_path / "report"
    assert main(["report", "--model", str(bundle), "--data", str(folder), "--out", str(out), "--quiet"]) == 0
    assert capsys.readouterr().err == ""
    markdown = (out / "report.md").read_text()
    assert f"**Strangers rejected: {100 * scored.true_rejection:.2f} %**" in markdown
    assert "| enrolled speakers' recordings named correctly | — | none |" in markdown
    assert "| equal error rate on this folder (over every threshold) | — |  |" in markdown
    assert "Only strangers in this folder" in markdown
    assert "1 file could not be used and was skipped:" in markdown and f"| {failures[0].path} | " in markdown
    saved = json.loads((out / "report.json").read_text())["open_set"]
    assert saved["closed_set"] is None and saved["skipped"] == [
        {"path": failures[0].path, "message": failures[0].message}
    ]
