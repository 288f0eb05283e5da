"""The documentation site builds without a warning, and every measured number in the README, the
site and the notebook's text is the one in the committed report it is quoted from.

How the numbers are checked: `claims` builds, from the report files in ``reports/``, each
passage of the documents that states a measured number (a table row, a sentence), and each
must appear verbatim. So a report that changes, or a document edited by hand, fails until the
two agree again. Then every figure in the documents (a percentage, seconds, a speed-up, an
"N-fold") must lie inside one of those passages, inside a passage listed in `NOT_FROM_REPORTS`
(a constant, a limit, a number published elsewhere), or inside a fenced ``text`` block (output
of one run shown as an example, not a measurement): a new number cannot be added without
saying where it comes from.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

from vowels.cli import main
from vowels.workflows.reproduce import reproduce_line

ROOT = Path(__file__).resolve().parents[1]
REPORTS = ROOT / "reports"
NOTEBOOK = "notebooks/japanese_vowels.ipynb"
Z95 = 1.959963984540054  # two-sided 95 % normal quantile, as vowels.reports uses for the Wilson interval

WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine", 10: "ten"}
FRACTIONS = {2: "a half", 3: "a third", 4: "a quarter", 5: "a fifth"}

# A figure in a document: a percentage (or a range of them), seconds, a speed-up, "N-fold", a rate.
FIGURE = re.compile(
    r"\d+(?:\.\d+)?(?:\s?[–-]\s?\d+(?:\.\d+)?)?\s?%"
    r"|\b\d+(?:\.\d+)?\s?s\b"
    r"|\b\d+(?:\.\d+)?x\b"
    r"|\b[a-z]+-fold\b"
    r"|\b\d+(?:\.\d+)? recordings(?:/s| per second)"
)
TEXT_BLOCK = re.compile(r"^```text\n.*?^```", re.S | re.M)

# Figures that are not measurements of this project, each in the passage that says what it is.
NOT_FROM_REPORTS: dict[str, list[str]] = {
    "README.md": [
        "published run printed 95.41 %",  # MATLAB's documentation page
        "its 95 % confidence interval",  # the confidence level
        "(95 % interval",  # the confidence level
    ],
    "docs/tutorial.md": [
        "published run of the example (50 epochs) printed 95.41 %",
        "the 95 % Wilson interval",
    ],
    "docs/modes.md": ["(50 epochs) printed 95.41 %"],
    "docs/reports.md": ["its 95 % Wilson score interval", "(95 % Wilson interval"],
    "docs/recordings.md": [
        "pauses longer than about 0.4 s dropped",  # vowels.voice_activity's smoothing and dilation, as Resemblyzer's
        "longer than 3 s of frames is cut into windows of 3 s every 1.5 s",  # train's --window defaults
        "at least 90 % with a small network",  # the bound tests/test_recordings.py asserts
    ],
    "docs/benchmarks.md": [
        "short of the 99.2 % (at most 3 errors)",  # the goal: 367 of 370
        "the 99.3 % dl-4-tsc reports for the FCN over ten runs",  # published elsewhere
        "better than about 98.9 %",  # 267 of the 270 training utterances: three always missed
    ],
    "docs/architectures.md": [
        "the answer after every 0.1 s of audio",  # the default of classify --chunk
        "dl-4-tsc reports 99.3 ± 0.2 % on this data",  # published elsewhere
        "which dl-4-tsc reports at 99.2 ± 0.3 %",  # published elsewhere
    ],
    "docs/figures.md": ["probability after every 0.1 s of audio"],  # the figure's default chunk
    "docs/speech.md": [
        "enrolled from the first 60 % of their one utterance",  # the protocol, fixed beforehand
        "the issue's goal of 5 %",  # a goal, not a measurement
    ],
    NOTEBOOK: ["printed 95.41 %"],
}

# A page generated from a report: every figure on it must appear in that report.
GENERATED = {"docs/reliability.md": "reports/reliability.md"}


def _report(name: str) -> dict:
    return json.loads((REPORTS / name).read_text(encoding="utf-8"))


def pct(x: float, digits: int = 2) -> str:
    return f"{100 * x:.{digits}f}"


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def spread(values: list[float], digits: int = 2) -> tuple[str, str, str]:
    return pct(statistics.fmean(values), digits), pct(min(values), digits), pct(max(values), digits)


def _mean_over(rows: list[dict], key: str) -> str:
    return pct(statistics.fmean(row[key] for row in rows), 1)


def claims() -> dict[str, list[str]]:
    """Each document's passages that state a measured number, built from the committed reports."""
    report = _report("japanese_vowels/report.json")  # the committed report of the MATLAB recipe, seeds 0-4
    seeds = report["seeds"]["accuracy"]
    n_test = report["evaluation"]["n"]
    report_seed0 = pct(report["evaluation"]["accuracy"])
    report_k = n_test - report["evaluation"]["n_errors"]
    report_low, report_high = pct(report["interval"]["low"]), pct(report["interval"]["high"])
    report_mean, report_min, report_max = pct(seeds["mean"]), pct(seeds["min"]), pct(seeds["max"])
    training, test = (next(d for d in report["dataset"] if d["split"] == s) for s in ("training", "test"))

    accuracy = _report("benchmarks_accuracy.json")["classifiers"]
    matlab = [run["accuracy"] for run in accuracy["vowels --recipe matlab"]]
    seed0 = next(run["accuracy"] for run in accuracy["vowels --recipe matlab"] if run["seed"] == 0)
    k0 = round(seed0 * n_test)
    best = [run["accuracy"] for run in accuracy["vowels --recipe best"]]
    best_errors = [round((1 - a) * n_test) for a in best]
    ensemble = [run["accuracy"] for run in accuracy["vowels --recipe ensemble"]]
    ensemble_errors = [round((1 - a) * n_test) for a in ensemble]
    fcn = [run["accuracy"] for run in accuracy["vowels --recipe fcn"]]

    def benchmark_row(label: str, name: str) -> str:
        runs = accuracy[name]
        mean, low, high = spread([run["accuracy"] for run in runs])
        seconds = statistics.median(run["fit_seconds"] for run in runs)
        return f"| {label} | {mean} % | {low} – {high} % | {seconds:.1f} |"

    seeds_by_mode = _report("reproduce_seeds.json")

    padding = _report("padding_experiment.json")
    rows: dict[tuple[str, str], list[dict]] = {}
    for run in padding["runs"]:
        rows.setdefault((run["order"], run["padding"]), []).append(run)

    def padding_row(order: str, label: str, side: str) -> str:
        runs = sorted(rows[order, side], key=lambda run: run["seed"])
        frames = statistics.fmean(run["train_padded_frames_per_epoch"] for run in runs)
        fraction = statistics.fmean(run["train_padding_fraction"] for run in runs)
        seconds = statistics.fmean(run["median_epoch_seconds"] for run in runs)
        accuracies = [run["test_accuracy"] for run in runs]
        each = ", ".join(pct(a) for a in accuracies)
        return (
            f"| {label} | {side} | {frames:.0f} ({pct(fraction, 1)} %) | {seconds:.3f} | "
            f"{pct(statistics.fmean(accuracies))} % ({each}) |"
        )

    def padding_mean(order: str, key: str) -> float:
        return statistics.fmean(run[key] for run in rows[order, "right"])

    sorted_frames = padding_mean("sorted", "train_padded_frames_per_epoch")
    file_frames = padding_mean("file", "train_padded_frames_per_epoch")
    fold = WORDS[round(file_frames / sorted_frames)]
    cut = FRACTIONS[
        round(1 / (1 - padding_mean("sorted", "median_epoch_seconds") / padding_mean("file", "median_epoch_seconds")))
    ]
    file_accuracies = [run["test_accuracy"] for run in rows["file", "right"]]
    file_spread = int(100 * (max(file_accuracies) - min(file_accuracies)))

    recordings = _report("recordings.json")
    closed = {row["name"]: row for row in recordings["closed_set"]}
    mfcc, lpcc = closed["vowels, mfcc"], closed["vowels, lpcc"]
    svm = closed["baseline: MFCC mean + std, RBF SVM"]
    ours, baseline = recordings["open_set"]["vowels"], recordings["open_set"]["baseline"]
    choice = recordings["scoring_choice"]
    hardest = min(ours, key=lambda row: row["true_rejection"])
    others = [row["true_rejection"] for row in ours if row is not hardest]

    def open_set_cells(rows: list[dict]) -> str:
        return " | ".join(
            f"{_mean_over(rows, key)} %"
            for key in ("true_rejection", "false_rejection", "misnamed", "equal_error_rate")
        )

    cv = _report("cv_recipes.json")["candidates"]
    augmented = "masked+standardize+deltas3+dropout0.3+warp0.2+noise0.05"

    def cv_mean(name: str) -> str:
        return pct(cv[name]["accuracy_mean"])

    cv_ensemble = _report("cv_ensemble.json")
    cv_rules = cv_ensemble["rules"]
    cv_alone = {rule["members"][0]: rule["errors"] for rule in cv_ensemble["alone"]}
    speed = _report("benchmarks_speed.json")["benchmarks"]
    medians = speed["training"]["median_seconds"]
    runs = speed["training"]["runs"]
    fit, graph, masked = medians["baseline-fit"], medians["ours-graph-matlab"], medians["ours-graph-masked"]
    latency = speed["classify_latency"]["data"]["engines"]
    batch = speed["classify_batch"]["data"]
    help_ = speed["help"]["data"]
    families = speed["families_cold_start"]["data"]

    speech_rows = recordings["librispeech"]["rows"]
    development = _report("encoder_development.json")
    placement_eers = [
        pct(row["equal_error_rate"], 1)
        for placement in ("resemblyzer", "four placements")
        for row in development["fsdd"]
        if (row["placement"], row["scoring"], row["regularization"], row["neighbours"]) == (placement, "wccn", 1.0, 5)
    ] + [
        pct(development["librispeech"][placement][key], 1)
        for key in ("equal_error_rate", "strangers_rejected")
        for placement in ("resemblyzer", "four placements")
    ]
    short_rows = {system: _mean_rates(rows) for system, rows in recordings["fsdd50"].items()}
    encoder_speed = speed["encoder"]["data"]
    encoder_row = next(row for row in speech_rows if row["system"].startswith("encoder"))
    short_encoder = next(rates for system, rates in short_rows.items() if system.startswith("encoder"))

    run_seed0 = json.loads((REPORTS / "japanese_vowels/run/seed-0/metrics.json").read_text(encoding="utf-8"))
    report_row = f"{report_seed0} % test accuracy (95 % interval {report_low} – {report_high} %)"
    open_set_row = (
        f"{_mean_over(ours, 'true_rejection')} % of the stranger's recordings rejected; of the enrolled speakers' "
        f"{_mean_over(ours, 'false_rejection')} % rejected and {_mean_over(ours, 'misnamed')} % misnamed; "
        f"equal error rate {_mean_over(ours, 'equal_error_rate')} %"
    )
    return {
        "README.md": [
            reproduce_line(run_seed0, mode="matlab", recipe="matlab"),
            f"Test accuracy: {report_seed0}% ({report_k}/{n_test}), 95% CI {report_low}-{report_high}% (Wilson)",
            f"sums up: {report_seed0} % for seed 0 and {report_mean} % over seeds 0–4 ({report_min} – {report_max} %)",
            f"`reports/benchmarks_accuracy.json`, has {pct(seed0)} % for seed 0",
            f"| the tutorial's recipe, seed 0 | {report_row} |",
            f"| the same, seeds 0–4 | {report_mean} % on average ({report_min} – {report_max} %) |",
            "| `--recipe best`, seeds 0–4 | {} % on average ({} – {} %) |".format(*spread(best)),
            "| `--recipe ensemble` (the FCN and `best` averaged), seeds 0–4 | {} % on average ({} – {} %) |".format(
                *spread(ensemble)
            ),
            f"| recordings, six speakers enrolled, the network alone | {pct(mfcc['accuracy'], 1)} % test accuracy |",
            f"| {open_set_row} |",
            f"the network alone (`--no-encoder`) names {pct(mfcc['accuracy'], 1)} % of the test recordings of six "
            "speakers",
            f"| speech of any words, 20 speakers enrolled with `vowels enrol` from three short recordings each, 171 "
            f"strangers | {pct(encoder_row['closed_set_accuracy'], 1)} % named; "
            f"{pct(encoder_row['true_rejection'], 1)} % of the strangers and "
            f"{pct(encoder_row['false_rejection'], 1)} % of the enrolled speakers' recordings rejected; equal error "
            f"rate {pct(encoder_row['equal_error_rate'], 1)} % |",
            "| short clips of the same digits, five speakers enrolled with `vowels enrol` from 50 recordings each, "
            f"each speaker of FSDD the stranger in turn | {pct(short_encoder['closed_set_accuracy'], 1)} % named; "
            f"{pct(short_encoder['true_rejection'], 1)} % of the strangers and "
            f"{pct(short_encoder['false_rejection'], 1)} % of the enrolled speakers' recordings rejected; equal error "
            f"rate {pct(short_encoder['equal_error_rate'], 1)} % |",
            *_sample_claims(),
        ],
        "docs/speech.md": [
            "the equal error rate fell from {} % to {} % on FSDD and from {} % to {} % on LibriSpeech, but at the "
            "automatic threshold LibriSpeech strangers rejected fell from {} % to {} %".format(*placement_eers),
            *(_speech_row(row) for row in speech_rows),
            *(_speech_row({"system": system, **rates}) for system, rates in short_rows.items()),
            f"| `vowels enrol`, 10 speakers, {encoder_speed['seconds_per_speaker']:.0f} s a speaker | "
            f"{encoder_speed['enrol']['median_s']:.1f} s |",
            "| `vowels train`, the network fused with the encoder | "
            f"{encoder_speed['train_fused']['median_s']:.0f} s |",
            f"| `vowels train --no-encoder`, the network alone | {encoder_speed['train_network']['median_s']:.0f} s |",
            *(
                f"| `vowels classify` on 10 s of speech, {name} | {st['median_s']:.2f} s |"
                for name, st in encoder_speed["classify"].items()
            ),
        ],
        "docs/tutorial.md": [
            f"seed 0 scored {report_seed0} %, and seeds 0–4 scored {report_mean} % on average, "
            f"from {report_min} % to {report_max} %.",
            "seed 0 scored {} %, and seeds 0–4 scored {} % on average, from {} % to {} %.".format(
                pct(seed0), *spread(matlab)
            ),
            f"One test error is {100 / n_test:.2f} points of the {n_test} utterances, so the two differ by "
            f"{WORDS[abs(report_k - k0)]} utterance{'s' if abs(report_k - k0) != 1 else ''}",
            f"the 95 % Wilson interval of seed 0 in the report ({report_low} – {report_high} %)",
        ],
        "docs/modes.md": [
            "| `{}` | {} % | {} – {} % |".format(mode, *spread([run["accuracy"] for run in seeds_by_mode[mode]]))
            for mode in ("matlab", "padded", "masked")
        ],
        "docs/figures.md": [
            f"as stored, {pct(padding_mean('file', 'train_padding_fraction'), 1)} % of the frames processed are "
            f"padding. Bottom: sorted by length, {pct(padding_mean('sorted', 'train_padding_fraction'), 1)} %.",
        ],
        "docs/padding.md": [
            padding_row(order, label, side)
            for order, label in (("sorted", "sorted"), ("unsorted", "random"), ("file", "file"))
            for side in ("right", "left")
        ]
        + [
            f"Sorting cuts the padding about {fold}-fold ({sorted_frames:.0f} frames an epoch against "
            f"{file_frames:.0f} in the files' order) and the time per epoch by about {cut}.",
            f"the spread between seeds, over {file_spread} points in the files' order",
        ],
        "docs/recordings.md": [
            f"| closed set, six speakers, `--kind mfcc` | {pct(mfcc['accuracy'], 1)} % | {mfcc['train_seconds']:.0f} |",
            f"| closed set, `--kind lpcc` | {pct(lpcc['accuracy'], 1)} % | {lpcc['train_seconds']:.0f} |",
            "| baseline: each recording's MFCC mean and standard deviation, RBF SVM | "
            f"{pct(svm['accuracy'], 1)} % | {svm['train_seconds']:.0f} |",
        ],
        "docs/open-set.md": [
            f"equal error rate {_mean_over(choice, 'mean of both (chosen)')} % for the mean, against "
            f"{_mean_over(choice, 'network embedding')} % for the embedding alone, "
            f"{_mean_over(choice, 'feature statistics')} % for the statistics alone and "
            f"{_mean_over(choice, 'softmax probability')} % for the softmax probability",
            f"| `vowels` | {open_set_cells(ours)} |",
            "| baseline: cosine to each speaker's mean feature statistics, thresholded the same way | "
            f"{open_set_cells(baseline)} |",
            f"with {hardest['stranger']} as the stranger only {pct(hardest['true_rejection'], 1)} % of his "
            f"recordings were rejected (equal error rate {pct(hardest['equal_error_rate'], 1)} %), with each of the "
            f"other five {pct(min(others), 1)} – {pct(max(others), 1)} %.",
        ],
        "docs/reports.md": [
            f"Seed 0 scored {report_seed0} % (95 % Wilson interval {report_low} – {report_high} %); over the five "
            f"seeds the test accuracy was {report_mean} % on average, from {report_min} % to {report_max} %.",
        ],
        "docs/benchmarks.md": [
            f"{cv_mean(augmented + '+members5')} % held out, against "
            f"{cv_mean('masked+standardize+deltas3+dropout0.3+members5')} % for five networks without augmentation, "
            f"{cv_mean('masked+standardize+deltas3+dropout0.3')} % for the single network that was `--recipe best` "
            f"before, and {cv_mean(augmented)} % for one augmented network; ten augmented networks tied with five "
            f"({cv_mean(augmented + '+members10')} %)",
            benchmark_row(
                "`vowels reproduce --recipe ensemble` (`fcn` and `best` averaged)", "vowels --recipe ensemble"
            ),
            benchmark_row("`vowels reproduce --recipe fcn` (dl-4-tsc's FCN)", "vowels --recipe fcn"),
            benchmark_row("`vowels reproduce --recipe best`", "vowels --recipe best"),
            benchmark_row("the same recipe with one network (`n_members=1`)", "vowels --recipe best, one network"),
            benchmark_row("aeon MultiRocket", "aeon MultiRocket"),
            benchmark_row("aeon MiniRocket", "aeon MiniRocket"),
            benchmark_row("aeon Hydra", "aeon Hydra"),
            benchmark_row("`vowels reproduce --recipe dnn` (frame-level network)", "vowels --recipe dnn"),
            benchmark_row("`vowels reproduce --recipe stacked` (two BiLSTM layers)", "vowels --recipe stacked"),
            benchmark_row("aeon ROCKET", "aeon ROCKET"),
            f"| aeon 1-NN DTW (deterministic, one run) | {pct(accuracy['aeon 1-NN DTW'][0]['accuracy'])} % | | |",
            benchmark_row("`vowels reproduce --recipe lstm` (forward-only)", "vowels --recipe lstm"),
            benchmark_row("`vowels reproduce` (the MATLAB recipe)", "vowels --recipe matlab"),
            f"The ensemble of the FCN and `best` makes {statistics.fmean(ensemble_errors):.1f} test errors on average "
            f"({min(ensemble_errors)} to {max(ensemble_errors)})",
            f"(the FCN alone {spread(fcn)[0]} %, `best` alone {statistics.fmean(best_errors):.1f} errors)",
            f"| training the MATLAB recipe, 100 epochs | {graph:.2f} s ({fit / graph:.2f}x faster) | {fit:.2f} s: "
            "`model.fit` on utterances padded to 29 frames |",
            f"| the same in `masked` mode | {masked:.2f} s ({fit / masked:.2f}x), test accuracy "
            f"{pct(runs['ours-graph-masked'][0]['accuracy'])} % | "
            f"test accuracy {pct(runs['baseline-fit'][0]['accuracy'])} % |",
            f"| `vowels classify` on one recording, as a new process | {latency['numpy']['median_s']:.3f} s | "
            f"{latency['keras']['median_s']:.3f} s through Keras and librosa |",
            f"| `vowels classify` on {batch['n_recordings']} recordings, one process | "
            f"{batch['engines']['numpy']['recordings_per_s']:.0f} recordings/s | "
            f"{batch['engines']['keras']['recordings_per_s']:.0f} recordings/s |",
            f"| `vowels --help`, as a new process | {help_['commands']['vowels --help']['median_s']:.3f} s | "
            f"{help_['commands']['python -c pass']['median_s']:.3f} s: the interpreter alone (`python -c pass`) |",
        ],
        "docs/architectures.md": [
            "The mean of `{}` came first with {} held-out errors ({} % held out), against {} for `best` alone "
            "({} %) and {} for `fcn` alone ({} %), and the next rule made {}".format(
                "` and `".join(cv_ensemble["chosen"]),
                cv_rules[0]["errors"],
                pct(1 - cv_rules[0]["errors"] / 270),
                cv_alone["best"],
                pct(1 - cv_alone["best"] / 270),
                cv_alone["fcn"],
                pct(1 - cv_alone["fcn"] / 270),
                cv_rules[1]["errors"],
            ),
            f"medians of {families['runs']} runs",
            *(
                f"| `{name}` | {row['engine']} | {row['engines']['fast']['median_s']:.3f} s | "
                f"{row['engines']['keras']['median_s']:.3f} s |"
                for name, row in families["families"].items()
            ),
        ],
        NOTEBOOK: [
            f"Training utterances last {training['frames_min']} to {training['frames_max']} frames "
            f"(test utterances up to {test['frames_max']}).",
            f"Sorting cuts the padding about {fold}-fold.",
        ],
    }


def _printed(command: str) -> str:
    """What `command` printed on stdout in reports/readme_samples.json, the run of README's examples."""
    return next(r["stdout"] for r in _report("readme_samples.json")["commands"] if r["command"] == command)


def _sample_claims() -> list[str]:
    """README's sentences on its example outputs, built from the run that printed them."""
    train = _printed("vowels train voices/ --out models/voices")
    evaluate = _printed("vowels evaluate --model models/voices held-out/")
    classify = _printed(next(c for block in _script("readme_samples").BLOCKS[2:3] for c in block))
    promised, held_out = re.search(r"([\d.]+)% of (\d+) of enrolled speakers rejected", train).groups()
    rejected = re.search(r"rejected as unknown ([\d.]+)%", evaluate).group(1)
    whose: dict[str, int] = {}
    for speaker in re.findall(r"^  held-out/(\w+)/\S+: true \1, answer unknown", evaluate, re.M):
        whose[speaker] = whose.get(speaker, 0) + 1
    recordings = dict(re.findall(r"^  (\w+): recall [\d.]+% of (\d+)$", evaluate, re.M))
    of_each = ", ".join(f"{k} of {speaker}'s {recordings[speaker]}" for speaker, k in whose.items())
    nearest, p = re.search(r"^held-out/theo/\S+: unknown \(nearest (\w+),.*?\) p=([\d.]+)", classify, re.M).groups()
    return [
        f"Calibration promised that {promised} % of the enrolled speakers' recordings would be rejected "
        f"({held_out} held out), and here {rejected} % were ({of_each} recordings)",
        f"The network gave the stranger {p} probability of being {nearest}",
    ]


def _script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _mean_rates(rows: list[dict]) -> dict:
    keys = ("closed_set_accuracy", "false_rejection", "true_rejection", "equal_error_rate", "seconds")
    return {key: statistics.fmean(row[key] for row in rows) for key in keys}


def _speech_row(row: dict) -> str:
    """A row of docs/speech.md's tables: a system's rates at its automatic threshold, and its seconds."""
    return (
        f"| {row['system']} | {pct(row['closed_set_accuracy'], 1)} % | {pct(row['false_rejection'], 1)} % | "
        f"{pct(row['true_rejection'], 1)} % | {pct(row['equal_error_rate'], 1)} % | {row['seconds']:.0f} s |"
    )


def documents() -> dict[str, str]:
    """README.md, every page of docs/ and the notebook's Markdown cells, by path from the repository root."""
    texts = {"README.md": (ROOT / "README.md").read_text(encoding="utf-8")}
    for page in sorted((ROOT / "docs").rglob("*.md")):
        texts[page.relative_to(ROOT).as_posix()] = page.read_text(encoding="utf-8")
    notebook = json.loads((ROOT / NOTEBOOK).read_text(encoding="utf-8"))
    texts[NOTEBOOK] = "\n\n".join("".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "markdown")
    return texts


def flat(text: str) -> str:
    """Whitespace runs as one space: Markdown wraps its lines anywhere."""
    return " ".join(text.split())


def spans(text: str, passages: list[str]) -> list[tuple[int, int]]:
    found = []
    for passage in passages:
        start = text.find(passage)
        while start >= 0:
            found.append((start, start + len(passage)))
            start = text.find(passage, start + 1)
    return found


def test_every_number_quoted_from_a_report_agrees_with_it():
    texts = {path: flat(text) for path, text in documents().items()}
    stale = [
        f"{path}: {passage!r}"
        for path, passages in claims().items()
        for passage in passages
        if flat(passage) not in texts[path]
    ]
    assert not stale, "not found (stale, or reworded without updating tests/test_docs.py):\n" + "\n".join(stale)


def test_every_figure_in_the_documents_is_accounted_for():
    passages = claims()
    assert set(NOT_FROM_REPORTS) | set(GENERATED) <= set(documents())
    unexplained = []
    for path, text in documents().items():
        if path in GENERATED:
            continue
        text = flat(TEXT_BLOCK.sub(" ", text))  # example output of one run, not a measurement
        unexplained += [
            f"{path}: NOT_FROM_REPORTS lists {p!r}, not there"
            for p in NOT_FROM_REPORTS.get(path, [])
            if flat(p) not in text
        ]
        covered = spans(text, [flat(p) for p in passages.get(path, []) + NOT_FROM_REPORTS.get(path, [])])
        for match in FIGURE.finditer(text):
            if not any(start <= match.start() and match.end() <= end for start, end in covered):
                unexplained.append(
                    f"{path}: {match.group()!r} in {text[max(0, match.start() - 60) : match.end() + 20]!r}"
                )
    assert not unexplained, (
        "figures that neither a claim (built from a committed report) nor NOT_FROM_REPORTS explains:\n"
        + "\n".join(unexplained)
    )


def test_a_page_generated_from_a_report_states_only_its_numbers():
    texts = documents()
    for page, source in GENERATED.items():
        figures = {flat(m.group()) for m in FIGURE.finditer(texts[page])}
        report = ROOT / source
        stated = (
            {flat(m.group()) for m in FIGURE.finditer(report.read_text(encoding="utf-8"))} if report.exists() else set()
        )
        assert figures <= stated, f"{page} states {sorted(figures - stated)}, which {source} does not"


def test_the_claims_check_would_catch_a_stale_number():
    """The check is not vacuous: a README whose seed-0 accuracy is off by one test error is caught."""
    readme = flat(documents()["README.md"])
    seed0 = next(p for p in claims()["README.md"] if p.startswith("| the tutorial's recipe, seed 0 |"))
    assert flat(seed0) in readme
    number = re.search(r"\d+\.\d+", seed0).group()
    stale = readme.replace(flat(seed0), flat(seed0).replace(number, f"{float(number) - 100 / 370:.2f}", 1))
    assert flat(seed0) not in stale


def _text_block_after(text: str, command: str) -> list[str]:
    """The lines of the ``text`` block that follows the fenced block holding `command` alone."""
    start = text.index(f"```\n{command}\n```\n")
    block = TEXT_BLOCK.search(text, start)
    assert block is not None, command
    return block.group().splitlines()[1:-1]


def test_the_readme_samples_of_reproduce_and_report_are_the_committed_runs_output(tmp_path, monkeypatch, capsys):
    """README's `vowels reproduce` sample is what the command prints for seed 0 of the committed run it
    cites, and its `vowels report` sample is what `vowels report` prints, run now, on that run."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    run = REPORTS / "japanese_vowels/run/seed-0"
    metrics = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    assert "reports/japanese_vowels/run/" in readme and "`seed-0/metrics.json`" in readme
    assert _text_block_after(readme, "vowels reproduce") == [
        reproduce_line(metrics, mode="matlab", recipe="matlab"),
        "Saved: runs/reproduce/metrics.json, runs/reproduce/history.json, runs/reproduce/predictions.csv, "
        "model bundle runs/reproduce/model",
    ]
    monkeypatch.chdir(tmp_path)
    assert main(["report", "--run", str(run), "--out", "runs/report/"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert _text_block_after(readme, "vowels report --run runs/reproduce --out runs/report/") == printed
    assert "vowels report --run reports/japanese_vowels/run/seed-0 --out runs/report/" in flat(readme)


def test_the_readme_samples_of_enrol_train_classify_and_evaluate_are_the_committed_runs_output():
    """Each README example of `vowels enrol`, `train`, `classify` and `evaluate` shows what its commands printed
    on stdout in reports/readme_samples.json (scripts/readme_samples.py ran them on the folders README describes),
    whole, or its first lines and "..." ."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    report = _report("readme_samples.json")
    blocks = _script("readme_samples").BLOCKS
    assert [r["command"] for r in report["commands"]] == [command for block in blocks for command in block]
    assert all(r["exit_code"] == 0 for r in report["commands"])
    for block in blocks:
        shown = _text_block_after(readme, "\n".join(block))
        printed = [line for command in block for line in _printed(command).splitlines()]
        if shown[-1] == "...":
            assert shown[:-1] == printed[: len(shown) - 1] and len(printed) >= len(shown), block
        else:
            assert shown == printed, block
    assert "[reports/readme_samples.md](reports/readme_samples.md)" in readme
    limit = _script("readme_samples").MAX_LINES
    assert f"an output longer than {limit} lines is cut after its first {limit - 1}, at `...`" in flat(readme)


def test_the_serve_doc_samples_are_the_committed_runs_answers():
    """Each docs/serve.md curl example shows what its commands printed in reports/readme_samples.json (the
    script ran them against `vowels serve` on the README's models), each line whole or cut after its last
    comma within the script's width, at "..."; the classify answer is the README's model's and the job ended."""
    doc = (ROOT / "docs" / "serve.md").read_text(encoding="utf-8")
    samples = _script("readme_samples")
    served = _report("readme_samples.json")["serve"]
    assert [r["command"] for r in served] == [command for block in samples.SERVE_BLOCKS for command in block]
    assert all(r["exit_code"] == 0 for r in served)
    printed = {r["command"]: r["stdout"] for r in served}
    for block in samples.SERVE_BLOCKS:
        shown = _text_block_after(doc, "\n".join(block))
        lines = [line for command in block for line in printed[command].splitlines()]
        assert len(shown) == len(lines), block
        for line, full in zip(shown, lines, strict=True):
            if line != full:
                kept = line.removesuffix(",...") + ","
                assert line.endswith(",...") and len(full) > samples.WIDTH and full.startswith(kept), line
                assert len(kept) <= samples.WIDTH and "," not in full[len(kept) : samples.WIDTH], line
    models, classify = (json.loads(printed[command]) for command in samples.SERVE_BLOCKS[0])
    assert classify["model"] == "voices" and classify["file"] == "5_theo_40.wav"
    voices = next(m for m in models["models"] if m["name"] == "voices")
    assert classify["threshold"] == voices["threshold"]
    assert json.loads(printed[samples.SERVE_BLOCKS[1][-1]])["state"] == "succeeded"
    assert f"a line longer than {samples.WIDTH} characters is cut after its last comma" in flat(doc)


def test_the_samples_script_rewrites_a_stale_block_and_nothing_else():
    """scripts/readme_samples.py replaces an example's output, elides a long one, and leaves the rest as it was."""
    samples = _script("readme_samples")
    block = samples.BLOCKS[-1]
    stale = f"Intro\n\n```\n{block[0]}\n```\n\n```text\nold output\n```\n\nAfter.\n"
    results = [{"command": block[0], "stdout": "".join(f"line {i}\n" for i in range(samples.MAX_LINES + 5))}]
    with pytest.raises(ValueError, match="no command block 'vowels enrol people/"):
        samples.with_samples(stale, results)  # a README without one of the examples is refused
    rewritten = samples.with_samples(stale, results, blocks=(block,))
    assert rewritten.startswith(f"Intro\n\n```\n{block[0]}\n```\n\n```text\nline 0\n")
    assert rewritten.endswith(f"line {samples.MAX_LINES - 2}\n...\n```\n\nAfter.\n")
    assert samples.with_samples(rewritten, results, blocks=(block,)) == rewritten


def command_blocks(text: str) -> list[str]:
    """The bodies of the fenced blocks without a language (commands, in README and docs), in order."""
    blocks, body, info = [], None, ""
    for line in text.splitlines(keepends=True):
        if line.startswith("```"):
            if body is None:
                body, info = [], line[3:].strip()
            else:
                if not info:
                    blocks.append("".join(body))
                body = None
        elif body is not None:
            body.append(line)
    return blocks


def test_the_install_page_has_the_readmes_commands():
    """docs/install.md cannot drift from README.md: each of its command blocks is one of the README's,
    and each block of the README's Install section is on the page."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    page = (ROOT / "docs/install.md").read_text(encoding="utf-8")
    readme_blocks = set(command_blocks(readme))
    page_blocks = command_blocks(page)
    assert [block for block in page_blocks if block not in readme_blocks] == []
    install = readme[readme.index("## Install\n") : readme.index("\n## ", readme.index("## Install\n") + 1)]
    assert command_blocks(install) and all(block in page_blocks for block in command_blocks(install))
    assert "install.md" in (ROOT / "mkdocs.yml").read_text(encoding="utf-8")


def test_no_example_command_writes_into_the_repositorys_own_folders():
    """Following README or the docs in a clone leaves `git status` clean: no example's --out (or --models)
    is in reports/, docs/, vowels/, tests/ or notebooks/, which the repository tracks."""
    tracked = ("reports", "docs", "vowels", "tests", "notebooks")
    writes = re.compile(r"\bvowels\b[^\n]*?--(?:out|models)[ =](\S+)")
    found = [
        f"{path}: --out {target}"
        for path, text in documents().items()
        for block in command_blocks(text)
        for target in writes.findall(block)
        if Path(target).parts[0] in tracked
    ]
    assert found == []


def _mkdocs(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    if importlib.util.find_spec("mkdocs") is None:
        message = 'mkdocs is not installed: pip install -e ".[docs]" (the dev extra includes it)'
        if os.environ.get("CI"):  # CI installs the dev extra: every test must run there
            pytest.fail(message)
        pytest.skip(message)
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def _warnings(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in (result.stdout + result.stderr).splitlines() if line.startswith(("WARNING", "ERROR"))]


def test_the_documentation_site_builds_strictly_without_a_warning(tmp_path):
    result = _mkdocs("build", "--strict", "--site-dir", str(tmp_path / "site"))
    assert result.returncode == 0 and not _warnings(result), result.stdout + result.stderr
    api = (tmp_path / "site" / "api" / "tutorial" / "index.html").read_text(encoding="utf-8")
    assert 'id="vowels.classifier.SpeakerClassifier"' in api  # the reference is generated from the docstrings
    assert (tmp_path / "site" / "reliability" / "index.html").is_file()


def test_the_strict_build_fails_on_a_broken_reference(tmp_path):
    """With the project's own configuration, a page with a broken link or API reference fails the build."""
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    nav = config.index("\nnav:")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text(
        "# Broken\n\n[a page](missing.md), [an object][vowels.no_such_thing]\n",
        encoding="utf-8",
    )
    paths = f"paths: [{json.dumps(str(ROOT))}]"
    assert "paths: [.]" in config
    (tmp_path / "mkdocs.yml").write_text(
        config[:nav].replace("paths: [.]", paths) + "\nnav:\n  - Home: index.md\n", encoding="utf-8"
    )
    result = _mkdocs("build", "--strict", "--site-dir", str(tmp_path / "site"), cwd=tmp_path)
    assert result.returncode != 0
    output = "\n".join(_warnings(result))
    assert "missing.md" in output and "vowels.no_such_thing" in output
