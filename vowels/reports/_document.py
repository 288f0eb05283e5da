"""The report as a document: blocks that the Markdown and HTML renderers both read, so both say the same."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ._report import Report

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["Block", "ReportFigure", "document"]


@dataclass(frozen=True)
class ReportFigure:
    """A figure of the document: its file stem, PNG bytes, alt text and caption."""

    name: str
    png: bytes
    alt: str
    caption: str


Block = tuple[str, Any]
"""``(kind, value)``: ("h1"|"h2"|"p"|"code", text), ("table", (header, rows, align)), ("figure", ReportFigure)."""


def _pct(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{100 * value:.{digits}f} %"


def _seconds(value: float | None) -> str:
    return "not recorded" if value is None else f"{value:.3f} s" if value < 1 else f"{value:.1f} s"


def _count(k: int, n: int) -> str:
    return f"{k} of {n}" if n else "none"


def _p(text: str) -> Block:
    return ("p", text)


def _figure(name: str, figure: Figure, alt: str, caption: str) -> Block:
    """A figure block holding `figure` as PNG."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return ("figure", ReportFigure(name, buffer.getvalue(), alt, caption))


def _command(report: Report, out: Path) -> str:
    o = report.origin
    data = f" --data {o['data']}" if o.get("data") else ""
    if o["kind"] == "model":
        return f"vowels report --model {o['path']}{data} --out {out} --force"
    seeds = f" --seeds {o['n_seeds']}" if o.get("n_seeds") else ""
    recipe = f" --recipe {o['recipe']}" if o.get("recipe", "matlab") != "matlab" else ""
    epochs = f" --epochs {o['epochs']}" if o.get("epochs") is not None else ""
    mode = f" --mode {o['mode']}" if o.get("mode") is not None else ""
    reproduce = f"vowels reproduce{recipe}{seeds} --seed {o['seed']}{epochs}{mode}{data} --out {o['path']} --force"
    return f"{reproduce} && vowels report --run {o['path']}{data} --out {out} --force"


def _seed_blocks(report: Report) -> list[Block]:
    if not report.seeds:
        return []
    acc, runs = report.seeds["accuracy"], report.seeds["runs"]
    errors = [int(r["n_errors"]) for r in runs]
    text = (
        f"**Seeds differ.** The same recipe trained with {acc['n_seeds']} seeds "
        f"({acc['seeds'][0]}–{acc['seeds'][-1]}) reached a mean test accuracy of {_pct(acc['mean'])}, standard "
        f"deviation {100 * acc['std']:.2f} points (sample, n − 1), from {_pct(acc['min'])} to {_pct(acc['max'])}: "
        f"a range of {100 * (acc['max'] - acc['min']):.2f} points, {max(errors) - min(errors)} of the "
        f"{int(runs[0]['n_test'])} test utterances ({min(errors)}–{max(errors)} errors). The seed changes only "
        "the initial weights (the batches are sorted, never shuffled). The headline above is seed "
        f"{report.headline_seed}, the first seed, fixed before training, not the best one."
    )
    intervals = [f"{_pct(r['interval'][0], 1)} – {_pct(r['interval'][1], 1)}" for r in runs]
    rows = [
        [str(r["seed"]), _pct(r["accuracy"]), str(r["n_errors"]), ci, _seconds(r.get("train_seconds"))]
        for r, ci in zip(runs, intervals)
    ]
    rows.append(["mean ± sd", f"{_pct(acc['mean'])} ± {100 * acc['std']:.2f} points", f"{np.mean(errors):.1f}", "", ""])
    header = ["seed", "test accuracy", "errors", "95 % CI (Wilson)", "training time"]
    return [("h2", "Spread over seeds"), ("p", text), ("table", (header, rows, "lrrrr"))]


def _threshold_text(open_set: dict) -> str:
    """How the threshold was chosen and, when it was calibrated, where the calibration scores came from."""
    from ..openset import MIN_EMPIRICAL, ThresholdChoice

    text = f"**Unknown-speaker {ThresholdChoice.from_dict(open_set['threshold_choice']).describe()}.**"
    point = open_set.get("operating_point")
    if point is None:
        return text
    few = (
        f" Those are few (fewer than {MIN_EMPIRICAL} of a kind), too few to put the threshold at one of them: it "
        "lies where normal distributions fitted to each kind are equally likely to be wrong."
    )
    return (
        f"{text} Networks trained on the training folder with each speaker left out in turn scored held-out "
        "recordings of the left-out speakers (strangers) and of the others (enrolled); on those scores the equal "
        f"error rate is {_pct(point['equal_error_rate'])}.{few if point.get('method') == 'normal fit' else ''}"
    )


def _open_set_blocks(report: Report) -> Iterator[Block]:
    """The section of a recordings model: the threshold, the rates at it on the folder, the score figures."""
    from ..names import UNKNOWN
    from ..openset import OperatingPoint
    from ..plots import calibration_scores, plot_open_set

    s = report.open_set
    if s is None:
        return
    counts, n_enrolled, n_strangers = s["counts"], s["n_enrolled"], s["n_strangers"]
    rows = [
        [f"enrolled speakers' recordings {what}", _pct(s[share]) if n_enrolled else "—", _count(counts[k], n_enrolled)]
        for what, share, k in (
            ("named correctly", "identified", "correct"),
            ("rejected (false rejections)", "false_rejection", "rejected"),
            ("taken for another enrolled speaker", "misnamed", "misnamed"),
        )
    ]
    rejected = _count(counts["stranger rejected"], n_strangers)
    rows.append([f'strangers\' recordings rejected (answered "{UNKNOWN}")', _pct(s["true_rejection"]), rejected])
    rows += [
        [f"stranger {name}: recordings rejected", _pct(v["rejected"] / v["n"]), _count(v["rejected"], v["n"])]
        for name, v in s["strangers"].items()
    ]
    rows.append(["equal error rate on this folder (over every threshold)", _pct(s["equal_error_rate"]), ""])
    data, scoring = report.origin.get("data"), s.get("scoring")
    recorded = f" (the bundle records its scoring as “{scoring}”; see `vowels.openset`)" if scoring else ""
    score = (
        "the network's probability, from 0 to 1, of the speaker it names (the bundle keeps no references)"
        if scoring == "probability"
        else "a similarity, from −1 to 1, between the recording and the enrolment recordings of the speaker "
        f"the network names{recorded}"
    )
    only = " Only strangers in this folder: only their scores, and no DET curve." if not n_enrolled else ""
    if not n_strangers:
        only = " No strangers in this folder: only the enrolled speakers' scores, and no DET curve."
    caption = (
        "Left: share of each kind of score per bin, with the threshold (dashed). Right: detection error "
        "trade-off over every threshold, both rates on normal-deviate axes (0 % and 100 % drawn at the ends), "
        "the threshold's rates (ring) and the point the equal error rate is taken at (diamond) marked."
    )
    title = f"Open-set scores of the recordings in {data}"
    scored = plot_open_set(s["genuine"], s["impostor"], s["threshold"], title=title)
    yield ("h2", "Open set (unknown speakers)")
    yield _p(
        f"Every recording gets an open-set score: {score}. Below the threshold the answer is `unknown`: "
        "right for a stranger (a speaker the model does not know), a false rejection for an enrolled speaker."
    )
    yield ("p", _threshold_text(s))
    yield _p(
        f"At that threshold, on the {n_enrolled} recordings of enrolled speakers and the {n_strangers} of "
        f"strangers in `{data}` (— where a share has no recordings to count, or the equal error rate "
        "needs both kinds):"
    )
    yield ("table", (["answers at the threshold", "share", "recordings"], rows, "lrr"))
    yield _figure("open-set-scores", scored, "Open-set scores of the scored folder", caption + only)
    if s.get("operating_point") is not None:
        title = (
            "Calibration scores the threshold was chosen from: held-out recordings of the training folder,\n"
            "each speaker left out of training in turn to play a stranger"
        )
        figure = plot_open_set(*calibration_scores(OperatingPoint.from_dict(s["operating_point"])), title=title)
        caption = "The scores the threshold was chosen from, stored in the model bundle. " + caption
        yield _figure("open-set-calibration", figure, "Open-set calibration scores", caption)
    else:
        yield ("p", "No calibration figure: the bundle keeps no calibration scores.")
    errors = s["errors"]
    yield _p(
        f"**Open-set errors ({len(errors)})**: enrolled speakers' recordings rejected or taken for another "
        "enrolled speaker, and strangers' recordings accepted. Nearest: the speaker the network names."
    )
    header = ["source", "true", "answer", "nearest", "score", "outcome"]
    rows = [[e["source"], e["true"], e["answer"], e["nearest"], f"{e['score']:.3f}", e["outcome"]] for e in errors]
    yield ("table", (header, rows, "llllrl")) if errors else ("p", "None.")


def _result_note(report: Report) -> Iterator[Block]:
    """For a recordings model: what the headline counts, and what it leaves to the open-set section."""
    s = report.open_set
    if s is None or not s["n_enrolled"]:
        return
    n = len(s["strangers"])
    left_out = f" The folder's {s['n_strangers']} recordings of {n} stranger{'s' if n != 1 else ''} are left out of it."
    yield _p(
        f"Closed set: the {s['n_enrolled']} recordings of enrolled speakers in `{report.origin.get('data')}`, "
        f"each named by the network's most probable speaker, with no unknown-speaker threshold."
        f"{left_out if s['n_strangers'] else ''} "
        "The answers at the threshold are in the open-set section below."
    )


def _dataset_table(report: Report) -> Block:
    frames = all("frames_min" in d for d in report.dataset)

    def spread(d: dict) -> str:
        if frames:
            return f"{d['frames_min']} / {d['frames_median']:g} / {d['frames_max']}"
        if d.get("seconds_min") is None:
            return "not readable"
        return f"{d['seconds_min']:.2f} / {d['seconds_median']:.2f} / {d['seconds_max']:.2f}"

    header = ["split", "utterances", "speakers", "frames (min / median / max)"]
    if not frames:
        header = ["recordings of", "recordings", "speakers", "duration in s (min / median / max)"]
    rows = [
        [d["split"], str(d["utterances"]), str(d["speakers"]), spread(d), str(d["n_features"])] for d in report.dataset
    ]
    return ("table", ([*header, "features per frame"], rows, "lrrrr"))


def _key_values(values: dict, prefix: str = "") -> list[list[str]]:
    rows = []
    for key, value in values.items():
        if isinstance(value, dict):
            rows += _key_values(value, f"{prefix}{key}.")
        else:
            text = ", ".join(map(str, value)) if isinstance(value, list) else "—" if value is None else str(value)
            rows.append([f"{prefix}{key}", text])
    return rows


def _then_and_now(header: list[str], values: dict) -> Block:
    """Each key's value when trained (``values[header[1]]``) beside its value now (``values[header[2]]``)."""
    then, now = values.get(header[1]) or {}, values[header[2]]
    rows = [[k, str(then.get(k, "not recorded")) or "—", str(now.get(k, "—")) or "—"] for k in {**then, **now}]
    return ("table", (header, rows, "lll"))


def _headline(report: Report) -> str:
    ev, (low, high) = report.evaluation, report.interval
    interval = f"95 % confidence interval: **{_pct(low)} – {_pct(high)}**"
    if report.open_set is not None and not report.open_set["n_enrolled"]:
        return (
            f"**Strangers rejected: {_pct(ev.accuracy)}** ({ev.n - ev.n_errors} of {ev.n} recordings answered "
            f"`unknown`, **{ev.n_errors} errors**: taken for an enrolled speaker). {interval} (Wilson score "
            "interval for a binomial proportion). The folder holds only speakers the model does not know, so there "
            "is no closed-set accuracy: the right answer to every recording is `unknown`, and the tables below count "
            "it so."
        )
    return (
        f"**Test accuracy: {_pct(ev.accuracy)}** ({ev.n - ev.n_errors} of {ev.n} utterances named correctly, "
        f"**{ev.n_errors} errors**). {interval} (Wilson score interval for a binomial proportion; it covers the "
        f"finite test set, not the choice of seed{' — see the spread over seeds below' if report.seeds else ''})."
    )


def _closing_blocks(report: Report) -> Iterator[Block]:
    """Training curve, misclassified utterances, data set, skipped files, configuration, software, machine, timing."""
    from ..plots import plot_training_progress

    h = report.history
    yield ("h2", "Training curve")
    if h is not None and h.iteration_loss:
        caption = "Loss and mini-batch accuracy of every iteration, raw and smoothed."
        yield _figure("training", plot_training_progress(h), "Training progress", caption)
        yield _p(
            f"Last epoch: mean loss {h.epoch_loss[-1]:.4f}, mean mini-batch accuracy "
            f"{_pct(h.epoch_accuracy[-1])} on the training batches."
        )
    else:
        yield _p(
            "Not available: a model bundle keeps no training history. Report on the run folder "
            "(`vowels report --run DIR`) to see it."
        )
    wrong = report.misclassified
    n = 6 if any(p.n_frames is not None for p in report.predictions) else 5
    rows = [[str(p.index), p.source, p.true, p.predicted, f"{p.probability:.3f}", str(p.n_frames)][:n] for p in wrong]
    yield ("h2", f"Misclassified utterances ({len(wrong)})")
    yield _p(
        "Index: position in the scored set, from 0, in the order of the data file. Probability: what the "
        "model gave the speaker it chose."
    )
    header = ["index", "source", "true", "predicted", "probability", "frames"][:n]
    yield ("table", (header, rows, "rlllrr"[:n])) if wrong else ("p", "None.")
    yield ("h2", "Data set")
    yield _dataset_table(report)
    skipped = (report.open_set or {}).get("skipped") or []
    if skipped:
        s = "file could not be used and was" if len(skipped) == 1 else "files could not be used and were"
        yield ("p", f"{len(skipped)} {s} skipped:")
        yield ("table", (["file", "why"], [[f["path"], f["message"]] for f in skipped], "ll"))
    if report.origin["kind"] == "run" or "features" not in report.configuration:
        yield _p(
            "Japanese Vowels (Kudo, Toyama and Shimbo 1999; UCI, CC BY 4.0): 12 LPC cepstrum "
            "coefficients per 6.4 ms frame. The test set is scored once; nothing was chosen on it."
        )
    yield ("h2", "Configuration")
    yield ("table", (["setting", "value"], _key_values(report.configuration), "ll"))
    yield ("h2", "Software")
    yield _then_and_now(["library", "trained with", "report written with"], report.versions)
    yield ("h2", "Machine and timing")
    yield _then_and_now(["", "trained on", "report written on"], report.machine)
    t = report.timing
    timing = [
        ["training", _seconds(t.get("train_seconds"))],
        ["one epoch (median)", _seconds(t.get("median_epoch_seconds"))],
        ["first epoch (includes building the graph)", _seconds(t.get("first_epoch_seconds"))],
        ["classifying the scored set", _seconds(t.get("predict_seconds"))],
        ["building this report (without drawing)", _seconds(t.get("report_seconds"))],
    ]
    yield ("table", (["what", "wall time"], timing, "lr"))
    yield _p(
        "Seconds are wall time and vary with the machine's load; accuracies repeat exactly for a seed on "
        "one machine and may differ slightly on another."
    )


def document(report: Report, out: Path) -> list[Block]:
    """The report as blocks (see `Block`), in reading order; `out` is the folder the commands name."""
    from ..plots import plot_confusion

    ev, o = report.evaluation, report.origin
    what = f"model bundle `{o['path']}`, re-scored when the report was written"
    what = f"run folder `{o['path']}`" if o["kind"] == "run" else what
    per_speaker = [
        [name, f"{ev.precision[i]:.3f}", f"{ev.recall[i]:.3f}", f"{ev.f1[i]:.3f}", str(int(ev.support[i]))]
        for i, name in enumerate(ev.speakers)
    ]
    means = [f"{np.mean(values):.3f}" for values in (ev.precision, ev.recall, ev.f1)]
    per_speaker.append(["macro average", *means, str(int(np.sum(ev.support)))])
    confusion = [
        [name, *(str(int(c)) for c in ev.confusion[i]), str(int(ev.confusion[i].sum()))]
        for i, name in enumerate(ev.speakers)
    ]
    regenerate = "Retrain and rewrite this report, from the repository's root:"
    return [
        ("h1", f"Accuracy report: {report.title}"),
        _p(
            f"Written by `vowels report` (vowels {report.versions['report written with'].get('vowels')}) on "
            f"{report.created} from the {what}."
        ),
        ("h2", "Result"),
        ("p", _headline(report)),
        *_result_note(report),
        *_seed_blocks(report),
        ("h2", "Per speaker"),
        _p(
            "Precision: of the utterances given to this speaker, the share that were theirs. Recall: of this "
            "speaker's utterances, the share named correctly. Support: their utterances in the scored set."
        ),
        ("table", (["speaker", "precision", "recall", "F1", "support"], per_speaker, "lrrrr")),
        ("h2", "Confusion matrix"),
        _figure(
            "confusion",
            plot_confusion(ev, title="Test set"),
            "Confusion matrix",
            "Rows: true speaker; columns: predicted speaker; blank cells are zero. Right: per-speaker recall.",
        ),
        ("table", (["true \\ predicted", *ev.speakers, "total"], confusion, "l" + "r" * (len(ev.speakers) + 1))),
        *_open_set_blocks(report),
        *_closing_blocks(report),
        ("h2", "Regenerate"),
        ("p", regenerate if o["kind"] == "run" else "Rewrite this report:"),
        ("code", _command(report, out)),
    ]
