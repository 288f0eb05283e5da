"""The `vowels` command: parse arguments, call the library, print results; no logic of its own.

Each command `vowels X` is two functions side by side: `add_X` declares its arguments, `run_X` handles
them; `build_parser` calls the `add_X` in turn. Choices come from the library's constants
(`vowels.names`, `vowels.plots`), which import nothing heavy, so ``--help`` answers at once.

Exit codes: 0 success, 1 some inputs failed, 2 usage or input error, 130 interrupted.

File names that are not valid UTF-8 are printed with ``\\xNN`` for each byte that does not decode
(``bad\\xffbyte.wav``), in text and CSV output and on stderr; JSON output keeps JSON's own
``\\udcNN`` escapes, which `os.fsencode` turns back into the name's bytes. In text output and on
stderr, control characters in a name are escaped too (a newline as ``\\n``, escape as ``\\x1b``), so
that every result and message stays one line; CSV output keeps them, in quoted fields.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from enum import IntEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from .errors import VowelsError
from .limits import MAX_SEED, MAX_SEEDS, SERVE_MAX_BYTES, SERVE_MAX_JOBS, SERVE_MAX_MODELS, SERVE_MAX_RECORDINGS
from .names import ENGINES, FEATURE_KINDS, MODES, RECIPE_NAMES, RECURRENT
from .plots import DATA_FIGURES, FORMATS, RECORDING_FIGURES, RUN_FIGURES
from .validation import argument_type, check_int, check_number, check_threshold

if TYPE_CHECKING:
    from typing import TypeAlias

    from .extraction import Extraction, Failure

    _Commands: TypeAlias = "argparse._SubParsersAction[_Parser]"

__all__ = ["ExitStatus", "main"]


class ExitStatus(IntEnum):
    """What `vowels` returns to the shell."""

    SUCCESS = 0
    PARTIAL_FAILURE = 1
    ERROR = 2
    INTERRUPTED = 130


class UsageError(Exception):
    """Bad command-line arguments, reported on one line."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser that reports errors as one line instead of usage and exit."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message} (see '{self.prog} --help')")


def whole_number(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    """An argparse type for whole numbers in [`minimum`, `maximum`] (`vowels.validation.check_int`)."""
    return argument_type(int, check_int, low=minimum, high=maximum)


score = argument_type(float, check_threshold)
"""An argparse type for an open-set score threshold in [-1, 1]."""
score_or_auto = argument_type(lambda text: text if text == "auto" else float(text), check_threshold, auto=True)
"""An argparse type for a score threshold in [-1, 1], or the word ``auto``."""


def operating_point(text: str) -> str:
    """An argparse type for ``eer`` or ``far=<rate>``."""
    from .openset import parse_operating_point

    try:
        parse_operating_point(text)
    except VowelsError:
        raise argparse.ArgumentTypeError(f"must be 'eer' or 'far=<rate>' with a rate in [0, 1); got {text!r}") from None
    return text


fraction = argument_type(float, check_number, low=0, high=1, high_open=True)
"""An argparse type for a fraction in [0, 1)."""
seconds = argument_type(float, check_number, low=0.001, high=60, unit="s")
"""An argparse type for a duration in seconds, from 0.001 to 60."""


_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
"""Characters that would break a line or drive the terminal: C0 and C1 controls, DEL, Unicode line and
paragraph separators, and bidirectional overrides and isolates (which can reorder what is shown)."""
_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_control(match: re.Match[str]) -> str:
    char = match.group()
    if char in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[char]
    return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"


def _printable(text: str, *, controls: bool = True) -> str:
    """`text` with the undecodable bytes of a non-UTF-8 file name (surrogate escapes) shown as ``\\xNN``,
    and, if `controls`, each control character as an escape (``\\n``, ``\\t``, ``\\x1b``, ``\\u2028``)."""
    try:
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a lone surrogate that no file name decodes to
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return _CONTROLS.sub(_escape_control, text) if controls else text


def _print(*values: object, **kwargs: Any) -> None:
    """`print`, with every value made printable (`_printable`): no file name can crash the output or
    split a line. `sep` and `end` are printed as given."""
    print(*(_printable(str(v)) for v in values), **kwargs)


def _in_cli_terms(message: str) -> str:
    """A library message as the command line says it: the keyword argument ``force=True`` is the flag --force."""
    return message.replace("pass force=True", "pass --force")


def _print_csv(rows: list[dict], fields: list[str]) -> None:
    """`rows` as CSV with a header, `fields` only, every text field quoted (Python's csv module before 3.12
    leaves a carriage return unquoted) and printable (`_printable`, control characters kept)."""
    import csv

    writer = csv.DictWriter(sys.stdout, fieldnames=fields, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)
    writer.writeheader()
    writer.writerows(
        {k: _printable(v, controls=False) if isinstance(v, str) else v for k, v in row.items() if k in fields}
        for row in rows
    )


def _print_json(value: object) -> None:
    """`value` as indented JSON, whose escapes (``\\n``, ``\\udcff``) already keep every string on its line."""
    import json

    print(json.dumps(value, indent=2))


def _say(args: argparse.Namespace, *lines: str) -> None:
    if not args.quiet:
        _print(*lines, sep="\n", flush=True)


def _progress(args: argparse.Namespace, what: str) -> Callable[[int, int], None] | None:
    """Progress on stderr: files done of all, files per second and the time left (at the end, the time taken).

    The rate is measured from the first file done, whose time includes loading the audio libraries.
    On a terminal, one bar redrawn in place (at most ten times a second); otherwise one plain line
    at each quarter, so that a log gets four lines and no control characters.
    """
    if args.quiet:
        return None
    from .progress import clock

    live = sys.stderr.isatty()
    start = time.monotonic()
    drawn, quarters, width = -1.0, 0, 0
    first: tuple[float, int] | None = None

    def show(done: int, total: int) -> None:
        nonlocal drawn, quarters, width, first
        if total <= 0:
            return
        now = time.monotonic()
        elapsed, finished = now - start, done >= total
        rate = done / elapsed if elapsed > 0 else 0.0
        if first is None:
            first = (now, done)
        elif not finished and done > first[1] and now > first[0]:
            rate = (done - first[1]) / (now - first[0])
        if finished:
            timing = f"in {clock(elapsed)}, start-up included ({rate:.1f} files/s overall)"
        else:
            timing = f"{rate:.1f} files/s, {clock((total - done) / rate) if rate else '?'} left"
        if live:
            if not finished and now - drawn < 0.1:
                return
            drawn = now
            filled = 30 * done // total
            line = f"{what} [{'#' * filled}{'.' * (30 - filled)}] {done}/{total} files, {timing}"
            line, width = line.ljust(width), len(line)  # blank what a longer line left
            print("\r", end="", file=sys.stderr)
            _print(line, end="\n" if finished else "", file=sys.stderr, flush=True)
        elif 4 * done // total > quarters:
            quarters = 4 * done // total
            _print(f"{what}: {done}/{total} files ({100 * done // total}%), {timing}", file=sys.stderr, flush=True)

    return show


def _workers(args: argparse.Namespace) -> int:
    """--workers, capped at the CPUs available (`vowels.limits.cap_workers`), with one warning line on
    stderr when capped."""
    from .limits import cap_workers

    n_jobs, lowered = cap_workers(args.workers, asked=f"--workers {args.workers}")
    if lowered is not None:
        _print(f"vowels: warning: {lowered}", file=sys.stderr)
    return n_jobs


def _common_options() -> _Parser:
    """The options of every command, as a parent parser."""
    common = _Parser(add_help=False)
    common.add_argument("--quiet", "-q", action="store_true", help="print only the result")
    common.add_argument(
        "--verbose",
        "-v",
        action="store_true",
        help="also show TensorFlow's own log lines on stderr (CUDA probes and the like, hidden by default; "
        "a TF_CPP_MIN_LOG_LEVEL you set is kept)",
    )
    return common


def _add_command(
    sub: _Commands, name: str, handler: Callable[[argparse.Namespace], int], *, summary: str, description: str
) -> _Parser:
    """The parser of `vowels NAME`: the common options, and `handler` to call with the parsed arguments."""
    parser = sub.add_parser(name, parents=[_common_options()], help=summary, description=description)
    parser.set_defaults(handler=handler)
    return parser


def _add_workers(parser: argparse.ArgumentParser, *, when: str = "") -> None:
    parser.add_argument(
        "--workers",
        type=whole_number(1),
        default=1,
        help=f"{when}parallel worker processes for feature extraction (default 1; at most the number of CPUs "
        "available, a larger count is lowered to it with a warning)",
    )


def _add_plots(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--plots",
        choices=("none", "training-progress"),
        default="none",
        help="training-progress (MATLAB's Plots option): keep OUT-training-progress.png, beside OUT, up to date "
        "while training (loss and accuracy of every mini-batch), and show it in a window where a display exists "
        "(default none)",
    )


def _training_plot(args: argparse.Namespace) -> AbstractContextManager[object]:
    """--plots training-progress: the figure beside --out while training (`vowels.progress.training_progress_plot`)."""
    if args.plots != "training-progress":
        return nullcontext()
    from .progress import display_available, progress_plot_path, training_progress_plot

    path = progress_plot_path(args.out)
    window = display_available()
    where = "and in a window" if window else "(no display, so no window)"
    _say(args, f"Training progress: {path}, redrawn every few seconds while training {where}.")
    return training_progress_plot(path, window=window)


def _add_sample_rate(parser: argparse.ArgumentParser) -> None:
    from .bundle import MAX_SAMPLE_RATE, MIN_SAMPLE_RATE

    parser.add_argument(
        "--sample-rate",
        type=whole_number(MIN_SAMPLE_RATE, MAX_SAMPLE_RATE),
        default=None,
        metavar="HZ",
        help="analysis rate (default: 16000 for mfcc, 10000 for lpcc, or the folder's lowest recording "
        "rate if lower, down to 8000, so that nothing is upsampled)",
    )


def _refuse_voiceprints(model: str | None, command: str, why: str) -> None:
    """A model from `vowels enrol` given to a command that reads trained bundles only: one line saying so."""
    from .voiceprints import is_voiceprint_model

    if model is not None and is_voiceprint_model(model):
        raise UsageError(
            f"vowels {command}: {model} is a model from 'vowels enrol', and {why}; score it with "
            f"'vowels evaluate --model {model} DIR'"
        )


def _report_failures(failures: Sequence[Failure]) -> None:
    for failure in failures:
        _print(f"vowels: skipped: {failure.message}", file=sys.stderr)


def add_reproduce(sub: _Commands) -> None:
    """The arguments of `vowels reproduce`."""
    p = _add_command(
        sub,
        "reproduce",
        run_reproduce,
        summary="reproduce the MATLAB tutorial on Japanese Vowels",
        description="Train the BiLSTM of MATLAB's 'Sequence Classification Using Deep Learning' on the Japanese "
        "Vowels training set and score it on the test set. Writes OUT/metrics.json, history.json, "
        "predictions.csv and the model bundle OUT/model (with --seeds N: one such folder OUT/seed-K per seed, "
        "and OUT/seeds.json).",
    )
    p.add_argument(
        "--epochs",
        type=whole_number(1),
        default=None,
        help="training epochs (default: the recipe's; 100 for the tutorial, 2000 for fcn, 40 for dnn)",
    )
    p.add_argument(
        "--seed", type=whole_number(0, MAX_SEED), default=0, help=f"random seed, 0 to {MAX_SEED} (default 0)"
    )
    p.add_argument(
        "--seeds",
        type=whole_number(1, MAX_SEEDS),
        default=None,
        metavar="N",
        help=f"train N seeds (--seed .. --seed+N-1, N at most {MAX_SEEDS}), each in OUT/seed-K/, summary in "
        "OUT/seeds.json",
    )
    p.add_argument(
        "--mode",
        choices=MODES,
        default=None,
        help="BiLSTM last-output semantics (default: the recipe's; matlab for the faithful reproduction)",
    )
    p.add_argument(
        "--recipe",
        choices=RECIPE_NAMES,
        default="matlab",
        help="matlab: the tutorial (default); best: 5 masked BiLSTMs averaged, standardised features with "
        "deltas, dropout, time-warp and noise augmentation (chosen by cross-validation); stacked: 2 BiLSTM "
        "layers; lstm: forward-only, can stream; dnn: a frame-level network; fcn: a fully convolutional "
        "network (dl-4-tsc; 2000 epochs, about 10 minutes); ensemble: mean of fcn and best "
        "(docs/architectures.md)",
    )
    p.add_argument("--out", default="runs/reproduce", help="output folder (default runs/reproduce)")
    p.add_argument("--data", default=None, help="folder of the UCI files (default: bundled copy)")
    p.add_argument("--force", action="store_true", help="replace results of an earlier run in --out")
    _add_plots(p)


def run_reproduce(args: argparse.Namespace) -> int:
    """`vowels reproduce`: the MATLAB tutorial on the Japanese Vowels data."""
    from .tutorial import recipe_mode, reproduce

    if args.seeds is not None and args.seed + args.seeds - 1 > MAX_SEED:
        raise UsageError(
            f"vowels reproduce: --seed {args.seed} with --seeds {args.seeds} reaches seed "
            f"{args.seed + args.seeds - 1}, above the largest seed {MAX_SEED}; lower --seed or --seeds "
            f"(see 'vowels reproduce --help')"
        )
    args.mode = recipe_mode(args.recipe, args.mode)
    if args.mode is None:
        _say(args, f"Recipe: {args.recipe} ({_FAMILY_NAMES[args.recipe]}).")
    else:
        explanation = {
            "matlab": "MATLAB semantics: the backward LSTM's output at the last padded time step",
            "padded": "backward LSTM state after the whole padded sequence",
            "masked": "each direction's state after the true frames only (--mode masked)",
        }[args.mode]
        _say(args, f"Recipe: {args.recipe}. Mode: {args.mode} ({explanation}).")
    if args.mode == "matlab" and args.recipe == "matlab":
        _say(args, "Use --mode masked for the padding-free variant, --recipe best for the most accurate one.")
    with _training_plot(args):
        if args.seeds is not None:
            return _reproduce_seeds(args)
        run = reproduce(seed=args.seed, **_recipe(args))
    _print(reproduce_line(args, run.metrics))
    out = Path(args.out)
    _say(
        args,
        f"Saved: {out / 'metrics.json'}, {out / 'history.json'}, {out / 'predictions.csv'}, "
        f"model bundle {out / 'model'}",
    )
    return ExitStatus.SUCCESS


def reproduce_line(args: argparse.Namespace, metrics: dict) -> str:
    """The result line `vowels reproduce` prints for a run's ``metrics.json``; README.md quotes it for the
    committed run (tests/test_docs.py)."""
    return (
        f"Test accuracy: {100 * metrics['accuracy']:.2f}% "
        f"({metrics['n_test'] - metrics['n_errors']}/{metrics['n_test']}), {_recipe_words(args, metrics)}, "
        f"seed {metrics['seed']}, trained in {metrics['train_seconds']:.1f} s"
    )


_FAMILY_NAMES = {
    "dnn": "a frame-level network whose frames vote",
    "fcn": "Wang et al.'s fully convolutional network, trained as dl-4-tsc trains it",
    "ensemble": "the mean of the fcn and best recipes' probabilities",
}


def _recipe_words(args: argparse.Namespace, metrics: dict) -> str:
    """``mode matlab, 100 epochs`` for a (Bi)LSTM; ``recipe fcn, 2000 epochs`` for the others."""
    what = f"mode {args.mode}" if args.mode is not None else f"recipe {args.recipe}"
    return f"{what}, {metrics['epochs']} epochs"


def _recipe(args: argparse.Namespace) -> dict:
    """The `reproduce` arguments that one seed and several seeds share."""
    return {
        "epochs": args.epochs,
        "mode": args.mode,
        "recipe": args.recipe,
        "out": args.out,
        "data": args.data,
        "force": args.force,
        "verbose": 0 if args.quiet else 1,
    }


def _reproduce_seeds(args: argparse.Namespace) -> int:
    """`vowels reproduce --seeds N`: the tutorial for seeds S..S+N-1, each in --out/seed-K/."""
    from .tutorial import reproduce_seeds

    seeds = reproduce_seeds(n_seeds=args.seeds, seed=args.seed, **_recipe(args))
    for run in seeds.runs:
        m = run.metrics
        _say(
            args,
            f"Seed {m['seed']}: test accuracy {100 * m['accuracy']:.2f}% "
            f"({m['n_test'] - m['n_errors']}/{m['n_test']}), trained in {m['train_seconds']:.1f} s",
        )
    acc = seeds.summary["accuracy"]
    _print(
        f"Test accuracy over {acc['n_seeds']} seeds ({acc['seeds'][0]}-{acc['seeds'][-1]}): mean "
        f"{100 * acc['mean']:.2f}%, standard deviation {100 * acc['std']:.2f} points, min {100 * acc['min']:.2f}%, "
        f"max {100 * acc['max']:.2f}%, {_recipe_words(args, seeds.summary)}"
    )
    _say(
        args,
        f"Saved: {os.path.join(args.out, 'seeds.json')} and one run folder per seed "
        f"({os.path.join(args.out, 'seed-K')})",
    )
    return ExitStatus.SUCCESS


def add_evaluate(sub: _Commands) -> None:
    """The arguments of `vowels evaluate`."""
    p = _add_command(
        sub,
        "evaluate",
        run_evaluate,
        summary="score a saved model on the test set, or on a labelled folder DIR",
        description="Score a model bundle: one from 'vowels reproduce' on the Japanese Vowels test set, one from "
        "'vowels train' on a folder of recordings DIR/<speaker>/* (speakers it does not know should be answered "
        "'unknown'). Prints the accuracy and each wrong answer (--json: as JSON); writes nothing. The folder may "
        "be given as DIR or, as for 'vowels report', as --data DIR.",
    )
    p.add_argument("--model", required=True, help="model bundle folder, e.g. runs/reproduce/model")
    p.add_argument(
        "dir",
        nargs="?",
        default=None,
        metavar="DIR",
        help="folder of recordings DIR/<speaker>/* to score a model from 'vowels train' on; the same as --data DIR",
    )
    p.add_argument(
        "--data",
        default=None,
        metavar="DIR",
        help="the data to score, as for 'vowels report': for a model from 'vowels train', a folder "
        "DIR/<speaker>/* of recordings (or give it as DIR); otherwise the folder of the UCI files "
        "(default: bundled copy)",
    )
    p.add_argument(
        "--threshold",
        type=score,
        default=None,
        help="with recordings: answer 'unknown' below this open-set score, in [-1, 1] (default: the model's)",
    )
    _add_workers(p, when="with recordings: ")
    p.add_argument(
        "--json", action="store_true", help="print every number, and each wrong answer, as JSON instead of text"
    )


def run_evaluate(args: argparse.Namespace) -> int:
    """`vowels evaluate`: score a saved model on the Japanese Vowels test set, or on a folder of recordings
    given as DIR or, as for `vowels report`, as --data DIR."""
    from .bundle import read_bundle

    if args.dir is not None and args.data is not None and Path(args.dir) != Path(args.data):
        raise UsageError(
            f"vowels evaluate: DIR {args.dir} and --data {args.data} both name the data to score; give one "
            "(see 'vowels evaluate --help')"
        )
    from .ensemble import is_ensemble, load_classifier
    from .voiceprints import is_voiceprint_model

    if is_voiceprint_model(args.model):
        if args.dir is None and args.data is None:
            raise UsageError(
                f"vowels evaluate: {args.model} is a model from 'vowels enrol'; give a folder DIR of recordings "
                "to score"
            )
        args.dir = args.dir or args.data
        return _evaluate_folder(args)
    ensemble = is_ensemble(args.model)
    if args.dir is None and args.data is not None and not ensemble and read_bundle(args.model).trained_on_recordings:
        args.dir = args.data  # a model trained on recordings scores a folder of them, whichever way it is named
    if args.dir is not None:
        return _evaluate_folder(args)
    from .datasets import load_japanese_vowels
    from .tutorial import score_on_test_set

    clf = load_classifier(args.model)
    test = load_japanese_vowels("test", path=args.data)
    evaluation, predicted, probabilities, _ = score_on_test_set(clf, test)
    errors = [
        {"source": source, "true": str(true), "answer": str(answer), "probability": float(p.max())}
        for source, true, answer, p in zip(test.sources, test.labels, predicted, probabilities, strict=True)
        if answer != true
    ]
    if args.json:
        data = None if args.data is None else str(args.data)
        _print_json({"model": str(args.model), "data": data, **evaluation.to_dict(), "errors": errors})
        return ExitStatus.SUCCESS
    _print(
        f"Test accuracy: {100 * evaluation.accuracy:.2f}% "
        f"({evaluation.n - evaluation.n_errors}/{evaluation.n}), model {args.model}"
    )
    _say(
        args,
        f"Misclassified: {len(errors)} of {evaluation.n} test utterances{':' if errors else '.'}",
        *(f"  {e['source']}: true {e['true']}, answer {e['answer']} (p={e['probability']:.3f})" for e in errors),
    )
    return ExitStatus.SUCCESS


def _evaluate_folder(args: argparse.Namespace) -> int:
    """`vowels evaluate --model M DIR`: closed- and open-set scores on a labelled folder of recordings."""
    from .recordings import RecordingClassifier
    from .voiceprints import VoiceprintClassifier, is_voiceprint_model

    if is_voiceprint_model(args.model):
        evaluation, failures = VoiceprintClassifier.load(args.model).evaluate_folder(args.dir, threshold=args.threshold)
    else:
        evaluation, failures = RecordingClassifier.load(args.model, engine="auto").evaluate_folder(
            args.dir, threshold=args.threshold, n_jobs=_workers(args), progress=_progress(args, "Extracting features")
        )
    _report_failures(failures)
    if args.json:
        _print_json({"model": str(args.model), "folder": str(args.dir), **evaluation.to_dict()})
        return ExitStatus.PARTIAL_FAILURE if failures else ExitStatus.SUCCESS
    ev = evaluation
    strangers = ", ".join(ev.strangers) or "none"
    _say(
        args,
        f"Model {args.model}, folder {args.dir}: {ev.n_enrolled} recordings of enrolled speakers, "
        f"{ev.n_strangers} of speakers the model does not know ({strangers}).",
    )
    if ev.closed_set is not None:
        closed = ev.closed_set
        _print(
            f"Closed-set accuracy: {100 * closed.accuracy:.2f}% ({closed.n - closed.n_errors}/{closed.n} recordings "
            "of enrolled speakers named correctly, no threshold)"
        )
        for i, name in enumerate(closed.speakers):
            if closed.support[i]:
                _say(args, f"  {name}: recall {100 * closed.recall[i]:.1f}% of {closed.support[i]}")
        _print(
            f"At threshold {ev.threshold:.3f}: enrolled speakers' recordings named correctly "
            f"{100 * ev.identified:.2f}%, rejected as unknown {100 * ev.false_rejection:.2f}%, "
            f"misnamed {100 * ev.misnamed:.2f}%"
        )
    if ev.true_rejection is not None:
        rejected = sum(r for r, _ in ev.strangers.values())
        _print(f"Strangers rejected: {100 * ev.true_rejection:.2f}% ({rejected}/{ev.n_strangers} recordings)")
        for name, (r, n) in ev.strangers.items():
            _say(args, f"  {name}: {r}/{n} rejected")
    if ev.equal_error_rate is not None:
        _print(f"Equal error rate: {100 * ev.equal_error_rate:.2f}% (over every threshold)")
    errors = ev.errors
    _say(
        args,
        f"Wrong answers at threshold {ev.threshold:.3f}: {len(errors)} of {len(ev.rows)} recordings"
        f"{':' if errors else '.'}",
        *(
            f"  {e['source']}: true {e['true']}, answer {e['answer']} ({e['outcome']}, score {e['score']:.3f}"
            f"{'' if e['answer'] == e['nearest'] else ', nearest ' + e['nearest']})"
            for e in errors
        ),
    )
    return ExitStatus.PARTIAL_FAILURE if failures else ExitStatus.SUCCESS


def add_plot(sub: _Commands) -> None:
    """The arguments of `vowels plot`."""
    p = _add_command(
        sub,
        "plot",
        run_plot,
        summary="draw the tutorial's figures and a recording's",
        description="Draw the tutorial's figures and write each to OUT/<name>.<format>, replacing older ones. "
        "With no WHICH: every figure possible without training "
        "(the data figures, plus training/confusion when --run or --model is given, recording "
        "when --audio is, open-set when --model is a calibrated recordings model, and stream when --model is a "
        "forward-only recordings model and --audio is given; the others are "
        "skipped with a note on stderr). A figure named in WHICH "
        "whose input is missing is an error (exit 2).",
    )
    p.add_argument(
        "which",
        nargs="*",
        metavar="WHICH",
        help=f"figures: {', '.join(DATA_FIGURES)} (bundled data); {', '.join(RUN_FIGURES)} "
        f"(need --run or --model); {', '.join(RECORDING_FIGURES)} (needs --audio); open-set (needs --model of a "
        "model trained on recordings with a calibrated threshold); stream (needs --audio and --model of a "
        "forward-only recordings model); default: all possible",
    )
    p.add_argument("--out", required=True, help="output folder; figures there are replaced")
    p.add_argument("--format", choices=FORMATS, default="png", help="file format (default png)")
    p.add_argument("--run", default=None, help="a 'vowels reproduce' folder (metrics.json, history.json)")
    p.add_argument(
        "--model",
        default=None,
        help="model bundle: a Japanese Vowels model's confusion matrix is recomputed on the test set; "
        "a model trained on recordings gives the recording figure its features and the open-set figure its "
        "calibration scores",
    )
    p.add_argument(
        "--observation",
        type=whole_number(1),
        default=1,
        help="training utterance of the features figure, from 1 (default 1)",
    )
    p.add_argument(
        "--padding-results",
        default=None,
        help="JSON of scripts/padding_experiment.py (default: reports/padding_experiment.json)",
    )
    p.add_argument(
        "--audio",
        default=None,
        metavar="FILE",
        help="recording of the recording figure: waveform, spectrogram and features",
    )
    p.add_argument(
        "--kind",
        choices=FEATURE_KINDS,
        default=None,
        help="features of the recording figure (default mfcc, or those of a --model trained on recordings)",
    )


def run_plot(args: argparse.Namespace) -> int:
    """`vowels plot`: the tutorial's figures, written to --out."""
    from .plots import write_figures

    _refuse_voiceprints(args.model, "plot", "figures are drawn of trained models")
    written, skipped = write_figures(
        args.which,
        args.out,
        fmt=args.format,
        run=args.run,
        model=args.model,
        observation=args.observation,
        padding_results=args.padding_results,
        audio=args.audio,
        kind=args.kind,
    )
    for note in skipped:
        _print(f"vowels plot: {note}", file=sys.stderr)
    _say(args, *(f"Wrote {path}" for path in written))
    return ExitStatus.SUCCESS


def add_report(sub: _Commands) -> None:
    """The arguments of `vowels report`."""
    p = _add_command(
        sub,
        "report",
        run_report,
        summary="accuracy report (Markdown, HTML, JSON) of a run or a model",
        description="Write REPORTDIR/report.md with its PNG figures, report.html (figures embedded, no external "
        "requests) and report.json: test accuracy with a 95% Wilson interval, per-speaker scores, "
        "confusion matrix, training curve, misclassified utterances, data, configuration, versions, "
        "machine and timing. The data scored is named by --data DIR, which 'vowels evaluate' takes too.",
    )
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--run",
        default=None,
        metavar="DIR",
        help="a 'vowels reproduce' folder (one seed, or --seeds N: spread over seeds)",
    )
    source.add_argument("--model", default=None, metavar="MODEL", help="model bundle, re-scored now")
    p.add_argument(
        "--data",
        default=None,
        metavar="DIR",
        help="the data to score, as for 'vowels evaluate': for a model from 'vowels train', a folder "
        "DIR/<speaker>/* of recordings (required); otherwise the folder of the UCI files (default: bundled copy)",
    )
    p.add_argument("--out", required=True, metavar="REPORTDIR", help="folder for the report")
    p.add_argument("--force", action="store_true", help="replace an existing report in REPORTDIR")


def run_report(args: argparse.Namespace) -> int:
    """`vowels report`: an accuracy report (Markdown, PNG figures, self-contained HTML) of a run or model."""
    from .reports import check_report_free, report_from_model, report_from_run, write_report

    _refuse_voiceprints(args.model, "report", "reports are written of trained models")
    check_report_free(args.out, force=args.force)
    if args.run is not None:
        report = report_from_run(args.run, data=args.data)
    else:
        report = report_from_model(args.model, data=args.data)
    written = write_report(report, args.out, force=args.force)
    ev, (low, high) = report.evaluation, report.interval
    seeds = ""
    if report.seeds:
        acc = report.seeds["accuracy"]
        seeds = (
            f"; over {acc['n_seeds']} seeds mean {100 * acc['mean']:.2f}%, min {100 * acc['min']:.2f}%, "
            f"max {100 * acc['max']:.2f}% (headline: seed {report.headline_seed})"
        )
    _print(
        f"Test accuracy: {100 * ev.accuracy:.2f}% ({ev.n - ev.n_errors}/{ev.n}), 95% CI "
        f"{100 * low:.2f}-{100 * high:.2f}% (Wilson){seeds}"
    )
    _say(args, *(f"Wrote {path}" for path in written))
    return ExitStatus.SUCCESS


def add_extract(sub: _Commands) -> None:
    """The arguments of `vowels extract`."""
    p = _add_command(
        sub,
        "extract",
        run_extract,
        summary="recordings DIR/<speaker>/* -> features file (.npz)",
        description="Compute the features of every recording in DIR/<speaker>/* and write them, with the "
        "settings used, to one compressed .npz file (--out) that 'vowels train' reads, so that several "
        "trainings extract once. Files that cannot be used are named on stderr and skipped (exit 1).",
    )
    p.add_argument("dir", metavar="DIR", help="folder with one subfolder of recordings per speaker")
    p.add_argument("--out", required=True, help="features file to write, e.g. feats.npz")
    p.add_argument(
        "--kind",
        choices=FEATURE_KINDS,
        default="mfcc",
        help="mfcc: MFCC; lpcc: LPC cepstrum with the Japanese Vowels analysis (default mfcc)",
    )
    _add_sample_rate(p)
    _add_workers(p)
    p.add_argument("--force", action="store_true", help="replace an existing --out file")


def run_extract(args: argparse.Namespace) -> int:
    """`vowels extract`: features of a speaker folder to one compressed .npz file."""
    from .bundle import check_free, check_writable
    from .extraction import load_speaker_folders, save_features
    from .features import FeatureConfig

    out = Path(args.out)
    if out.is_dir():
        raise UsageError(
            f"vowels extract: --out {out} is a folder; name a features file to write, e.g. {out / 'features.npz'}"
        )
    check_free(out, force=args.force)
    check_writable(out.parent)
    extraction = load_speaker_folders(
        args.dir,
        FeatureConfig(kind=args.kind, sample_rate=args.sample_rate),
        n_jobs=_workers(args),
        progress=_progress(args, "Extracting features"),
        match_rate=args.sample_rate is None,
    )
    _report_failures(extraction.failures)
    _say(args, f"Recordings {extraction.describe_rates()}.")
    save_features(args.out, extraction, force=args.force)
    u = extraction.utterances
    _print(
        f"Extracted {len(u)} recordings of {len(u.speakers)} speakers ({extraction.config.kind}, "
        f"{extraction.config.n_features} features per frame); {len(extraction.failures)} skipped; wrote {args.out}"
    )
    return ExitStatus.PARTIAL_FAILURE if extraction.failures else ExitStatus.SUCCESS


def add_train(sub: _Commands) -> None:
    """The arguments of `vowels train`."""
    p = _add_command(
        sub,
        "train",
        run_train,
        summary="train a model on DIR/<speaker>/* or a features file",
        description="Train a speaker model on a folder of recordings DIR/<speaker>/* or on a features file from "
        "'vowels extract', measure it on held-out recordings and calibrate the score below which it answers "
        "'unknown'. Writes a model bundle folder (--out) for 'vowels classify', 'evaluate' and 'report'.",
    )
    p.add_argument("source", metavar="DIR|FEATS", help="speaker folder, or a file written by 'vowels extract'")
    p.add_argument("--out", required=True, help="model bundle folder to write")
    p.add_argument("--epochs", type=whole_number(1), default=30, help="training epochs (default 30)")
    p.add_argument(
        "--seed", type=whole_number(0, MAX_SEED), default=0, help=f"random seed, 0 to {MAX_SEED} (default 0)"
    )
    p.add_argument(
        "--mode",
        choices=MODES,
        default="masked",
        help="BiLSTM semantics (default masked: padding is ignored)",
    )
    p.add_argument("--hidden", type=whole_number(1), default=100, help="hidden units per direction (default 100)")
    p.add_argument(
        "--architecture",
        choices=RECURRENT,
        default="bilstm",
        help="bilstm (default) or lstm: forward-only, which can answer while a recording arrives "
        "('vowels classify --stream')",
    )
    p.add_argument(
        "--validation-fraction",
        type=fraction,
        default=0.2,
        help="share of each speaker's recordings held out to measure accuracy and calibrate the "
        "threshold (default 0.2)",
    )
    p.add_argument(
        "--threshold",
        type=score_or_auto,
        default="auto",
        help="answer 'unknown' below this open-set score in [-1, 1]; -1 always names a speaker "
        "(default auto: calibrated on the training folder, each speaker left out in turn as a stranger)",
    )
    p.add_argument(
        "--operating-point",
        type=operating_point,
        default="eer",
        metavar="eer|far=RATE",
        help="where --threshold auto lies: eer (default; strangers accepted as often as enrolled speakers "
        "rejected) or far=0.05 (at most that share of strangers accepted)",
    )
    p.add_argument(
        "--keep-split",
        action="store_true",
        help="save the network trained without the validation split (default: train it again on every recording)",
    )
    p.add_argument(
        "--no-encoder",
        action="store_true",
        help="decide 'unknown' by the network's open-set score alone (default: fused with the pretrained speaker "
        "encoder's, weighted as the calibration chooses)",
    )
    p.add_argument(
        "--window",
        type=seconds,
        default=3.0,
        metavar="SECONDS",
        help="cut recordings longer than this into overlapping windows, each a training sequence; a recording's "
        "answer is the mean of its windows' (default 3.0)",
    )
    p.add_argument(
        "--window-hop", type=seconds, default=1.5, metavar="SECONDS", help="time between windows (default 1.5)"
    )
    p.add_argument("--whole", action="store_true", help="read every recording whole, in no windows")
    p.add_argument(
        "--kind",
        choices=FEATURE_KINDS,
        default=None,
        help="features when DIR is a folder (default mfcc); with a features file, must match it",
    )
    _add_sample_rate(p)
    _add_workers(p)
    p.add_argument("--force", action="store_true", help="replace an existing bundle at --out")
    _add_plots(p)


def run_train(args: argparse.Namespace) -> int:
    """`vowels train`: a model bundle from a speaker folder or an extracted features file."""
    from .bundle import check_free, check_writable
    from .recordings import RecordingClassifier

    out = Path(args.out)
    check_free(out, force=args.force)
    check_writable(out.parent)
    data = _features_of_source(args)
    _report_failures(data.failures)
    model = RecordingClassifier(
        mode=args.mode,
        n_hidden=args.hidden,
        architecture=args.architecture,
        max_epochs=args.epochs,
        validation_fraction=args.validation_fraction,
        threshold=args.threshold,
        operating_point=args.operating_point,
        refit=not args.keep_split,
        voice_encoder=not args.no_encoder,
        window_seconds=None if args.whole else args.window,
        window_hop_seconds=args.window_hop,
        random_state=args.seed,
        verbose=0 if args.quiet else 1,
    )
    u = data.utterances
    _say(
        args,
        f"Training on {len(u)} recordings of {len(u.speakers)} speakers ({data.config.kind} features), "
        f"{args.architecture}, mode {args.mode}, {args.epochs} epochs, seed {args.seed}.",
        f"Recordings {data.describe_rates()}.",
    )
    with _training_plot(args):
        model.fit(data)
    v = model.validation_
    if "accuracy" in v:
        _print(
            f"Validation accuracy: {100 * v['accuracy']:.2f}% ({v['n_correct']}/{v['n_validation']} held-out "
            "recordings, closed set)"
        )
    else:
        _print("No validation split (--validation-fraction 0): accuracy not measured.")
    if model.fusion_ is not None:
        _print(
            f"Open-set score: the network's weighted {model.fusion_.weight:g} and the pretrained speaker encoder's "
            f"{1 - model.fusion_.weight:g}, chosen on the calibration folds."
        )
    _print(f"Unknown-speaker {model.threshold_choice_.describe()}.")
    if v["refit"]:
        _say(args, f"The saved model was trained again on all {v['n_final_train']} recordings (--keep-split to not).")
    else:
        _say(args, f"The saved model is the one trained on {v['n_final_train']} recordings.")
    model.save(out, force=args.force)
    _say(args, f"Saved model bundle {out} (trained in {v['train_seconds']:.1f} s)")
    if data.failures:
        n = len(data.failures)
        _print(
            f"vowels train: skipped {n} file{'s' if n != 1 else ''} (named above, before training), so the exit "
            f"status is 1; the model was trained on the other {len(u)}.",
            file=sys.stderr,
        )
    return ExitStatus.PARTIAL_FAILURE if data.failures else ExitStatus.SUCCESS


def _features_of_source(args: argparse.Namespace) -> Extraction:
    """`train`'s data: a features file (whose settings --kind and --sample-rate must match) or a folder."""
    from .extraction import is_audio_file, load_features, load_speaker_folders
    from .features import FeatureConfig

    source = Path(args.source)
    if is_audio_file(source):
        raise UsageError(
            f"vowels train: {source} is an audio file, not a features file; train takes a folder of speaker "
            "folders (DIR/<speaker>/<recordings>, e.g. DIR/alice/ah.wav) or a features .npz written by "
            "'vowels extract' (see 'vowels train --help')"
        )
    if not source.is_file():
        return load_speaker_folders(
            source,
            FeatureConfig(kind=args.kind or "mfcc", sample_rate=args.sample_rate),
            n_jobs=_workers(args),
            progress=_progress(args, "Extracting features"),
            match_rate=args.sample_rate is None,
        )
    data = load_features(source)
    asked = {"--kind": (args.kind, data.config.kind), "--sample-rate": (args.sample_rate, data.config.sample_rate)}
    for option, (wanted, found) in asked.items():
        if wanted is not None and wanted != found:
            raise UsageError(
                f"vowels train: {option} {wanted} does not match {source}, whose features were extracted with "
                f"{option} {found}; drop {option}, or run 'vowels extract' again with it."
            )
    return data


def add_enrol(sub: _Commands) -> None:
    """The arguments of `vowels enrol`."""
    p = _add_command(
        sub,
        "enrol",
        run_enrol,
        summary="enrol speakers from DIR/<speaker>/* with the pretrained encoder (no training)",
        description="Enrol every speaker of a folder DIR/<speaker>/* (recordings of any length and words) with "
        "the pretrained GE2E speaker encoder: a model ready in seconds, no network trained. Writes a model "
        "folder (--out) for 'vowels classify' and 'evaluate'. With --model, add a speaker from FILEs "
        "(--add NAME) or remove one (--remove NAME) in place, without touching the others.",
    )
    p.add_argument(
        "paths", nargs="*", metavar="DIR|FILE", help="speaker folder; with --add, the new speaker's recordings"
    )
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--out", help="model folder to write from DIR")
    target.add_argument("--model", help="model folder to change with --add or --remove")
    change = p.add_mutually_exclusive_group()
    change.add_argument("--add", metavar="NAME", help="with --model: enrol (or re-enrol) NAME from FILEs")
    change.add_argument("--remove", metavar="NAME", help="with --model: forget NAME")
    p.add_argument(
        "--threshold",
        type=score_or_auto,
        default="auto",
        help="answer 'unknown' below this cosine in [-1, 1] (default auto: fitted to the enrolment recordings, or "
        "a stated default when they are too few)",
    )
    p.add_argument("--force", action="store_true", help="replace an existing model at --out")


def run_enrol(args: argparse.Namespace) -> int:
    """`vowels enrol`: a voiceprint model from a speaker folder, or one speaker added to or removed from it."""
    from .bundle import check_free, check_writable
    from .voiceprints import VoiceprintClassifier

    start = time.perf_counter()
    if args.out is not None:
        if args.add or args.remove or len(args.paths) != 1:
            raise UsageError("vowels enrol: give one speaker folder DIR with --out (see 'vowels enrol --help')")
        out = Path(args.out)
        check_free(out, force=args.force)
        check_writable(out.parent)
        model = VoiceprintClassifier(threshold=args.threshold).fit(args.paths[0], progress=_progress(args, "Embedding"))
        failures = list(model.failures_)
    else:
        out = Path(args.model)
        if not (args.add or args.remove) or (args.remove and args.paths) or (args.add and not args.paths):
            raise UsageError(
                "vowels enrol: with --model, give --add NAME FILE [FILE ...] or --remove NAME "
                "(see 'vowels enrol --help')"
            )
        model = VoiceprintClassifier.load(out)
        if args.threshold != "auto":
            model.threshold = args.threshold
        failures = model.add_speaker(args.add, args.paths) if args.add else []
        if args.remove:
            model.remove_speaker(args.remove)
        args.force = True
    _report_failures(failures)
    counts = ", ".join(f"{s} ({int((model.labels_ == s).sum())})" for s in model.speakers_)
    _print(f"Enrolled {len(model.speakers_)} speakers (recordings): {counts}")
    _print(f"Unknown-speaker {model.threshold_choice_.describe()}.")
    model.save(out, force=args.force)
    _say(args, f"Saved model {out} in {time.perf_counter() - start:.1f} s.")
    return ExitStatus.PARTIAL_FAILURE if failures else ExitStatus.SUCCESS


def add_classify(sub: _Commands) -> None:
    """The arguments of `vowels classify`."""
    p = _add_command(
        sub,
        "classify",
        run_classify,
        summary="name the speaker of each recording",
        description="Name the speaker of each recording FILE with a model from 'vowels train' or 'vowels enrol', "
        "or answer 'unknown' when its score is below the model's threshold. A FOLDER stands for every audio file "
        "under it (subfolders too, sorted by path). Prints one line per file, named by its path (--json, --csv: "
        "every score); writes nothing. Files that cannot be read are named on stderr (exit 1).",
    )
    p.add_argument("files", nargs="+", metavar="FILE|FOLDER", help="recordings, or folders of them, to classify")
    p.add_argument("--model", required=True, help="model folder written by 'vowels train' or 'vowels enrol'")
    p.add_argument(
        "--threshold",
        type=score,
        default=None,
        help="answer 'unknown' below this open-set score, in [-1, 1] (default: the model's)",
    )
    output = p.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print a JSON list")
    output.add_argument("--csv", action="store_true", help="print CSV with a header row")
    output.add_argument(
        "--stream",
        action="store_true",
        help="also print how the answer evolves as each recording arrives (a model trained with --architecture lstm)",
    )
    p.add_argument(
        "--windows",
        action="store_true",
        help="with a model from 'vowels enrol': also list each 1.6 s window's speaker, with its start and end "
        "(who speaks when)",
    )
    p.add_argument(
        "--chunk",
        type=seconds,
        default=None,
        metavar="SECONDS",
        help="with --stream: audio per answer, in seconds (default 0.1)",
    )
    _add_workers(p)
    p.add_argument(
        "--engine",
        choices=ENGINES,
        default="auto",
        help="auto (default): NumPy network and features when the bundle has weights.npz (no "
        "TensorFlow start-up, same answer), else Keras and librosa as in training",
    )


def run_classify(args: argparse.Namespace) -> int:
    """`vowels classify`: who spoke each file (a folder: each audio file under it), as text, JSON or CSV; bad
    files on stderr."""
    from .extraction import extract_files, list_recordings
    from .recordings import Classification, RecordingClassifier
    from .voiceprints import is_voiceprint_model

    if args.chunk is not None and not args.stream:
        raise UsageError("vowels classify: --chunk sets the step of --stream; add --stream or drop --chunk")
    args.files, skipped = list_recordings(args.files)
    for failure in skipped:
        _print(f"vowels: error: {failure.message}", file=sys.stderr)
    if not args.files:
        raise UsageError("vowels classify: no audio files to classify in the folders given")
    if is_voiceprint_model(args.model):
        return max(_classify_by_voiceprint(args), ExitStatus.PARTIAL_FAILURE if skipped else ExitStatus.SUCCESS)
    model = RecordingClassifier.load(args.model, engine=args.engine)
    if args.windows:
        raise UsageError(f"vowels classify: --windows needs a model from 'vowels enrol'; {args.model} is trained")
    if args.stream and model.architecture != "lstm":
        raise UsageError(
            f"vowels classify: --stream needs a forward-only model; {args.model} is a {model.architecture} (its "
            "backward direction reads each recording from the end). Train one with 'vowels train DIR "
            "--architecture lstm'."
        )
    features, failures = extract_files(args.files, model.features_, n_jobs=_workers(args), dsp=model.dsp_)
    results = model.classify_features(args.files, features, threshold=args.threshold)
    for failure in failures:
        _print(f"vowels: error: {failure.message}", file=sys.stderr)
    rate = model.features_.sample_rate
    for r in results:
        if r.sample_rate is not None and r.sample_rate < rate:
            _print(
                f"vowels: note: {r.path}: recorded at {r.sample_rate} Hz, upsampled to the model's {rate} Hz; "
                "its answer is less reliable than for recordings like the model's.",
                file=sys.stderr,
            )
    if args.json:
        _print_json([r.to_dict() for r in results])
    elif args.csv:
        _print_csv([r.to_dict() for r in results], list(Classification.__dataclass_fields__))
    else:
        usable = [f for f in features if f is not None]
        streams = _streams(model, results, usable, args.chunk or 0.1) if args.stream else [[] for _ in results]
        for r, stream in zip(results, streams, strict=True):
            for line in stream:
                _print(line)
            if r.speaker != r.nearest:
                verdict = f"{r.speaker} (nearest {r.nearest}, score {r.score:.3f} < threshold {r.threshold:.3f})"
            else:
                verdict = f"{r.speaker} (score {r.score:.3f})"
            _print(
                f"{r.path}: {verdict} p={r.probability:.3f}; runner-up {r.runner_up} p={r.runner_up_probability:.3f}"
            )
    return ExitStatus.PARTIAL_FAILURE if failures or skipped else ExitStatus.SUCCESS


def _classify_by_voiceprint(args: argparse.Namespace) -> int:
    """`vowels classify` with a model from `vowels enrol`: text, JSON or CSV; --windows: who speaks when."""
    from .voiceprints import VoiceAnswer, VoiceprintClassifier

    if args.stream:
        raise UsageError(
            "vowels classify: --stream needs a model from 'vowels train --architecture lstm'; use --windows"
        )
    model = VoiceprintClassifier.load(args.model)
    answers, failures = model.classify_files(args.files, threshold=args.threshold)
    for failure in failures:
        _print(f"vowels: error: {failure.message}", file=sys.stderr)
    if args.json:
        _print_json([{k: v for k, v in a.to_dict().items() if args.windows or k != "windows"} for a in answers])
    elif args.csv:
        _print_csv([a.to_dict() for a in answers], [f for f in VoiceAnswer.__dataclass_fields__ if f != "windows"])
    else:
        for a in answers:
            if not a.speech:
                verdict = f"{a.speaker} (no speech found; nearest {a.nearest}, score {a.score:.3f})"
            elif a.speaker != a.nearest:
                verdict = f"{a.speaker} (nearest {a.nearest}, score {a.score:.3f} < threshold {a.threshold:.3f})"
            else:
                verdict = f"{a.speaker} (score {a.score:.3f})"
            runner_up = f"; runner-up {a.runner_up} {a.runner_up_score:.3f}" if a.runner_up else ""
            _print(f"{a.path}: {verdict}{runner_up}")
            for w in a.windows if args.windows else []:
                nearest = "" if w["speaker"] == w["nearest"] else f", nearest {w['nearest']}"
                _print(f"  {w['start']:7.2f}-{w['end']:7.2f} s  {w['speaker']} (score {w['score']:.3f}{nearest})")
    return ExitStatus.PARTIAL_FAILURE if failures else ExitStatus.SUCCESS


def _streams(model: Any, results: list, features: list, chunk_seconds: float) -> list[list[str]]:
    """For each classified file (and its features), lines naming the most probable speaker after every
    chunk of its audio."""
    streams = []
    for r, sequence in zip(results, features, strict=True):
        ends, probabilities = model.stream(sequence, chunk_seconds=chunk_seconds)
        lines = [f"{_printable(r.path)}, as it arrives:"]
        for end, row in zip(ends, probabilities, strict=True):
            best = int(row.argmax())
            lines.append(f"  {end:6.2f} s  {model.classes_[best]} p={row[best]:.3f}")
        streams.append(lines)
    return streams


def add_serve(sub: _Commands) -> None:
    """The arguments of `vowels serve`."""
    p = _add_command(
        sub,
        "serve",
        run_serve,
        summary="a local web page and HTTP API to enrol and identify speakers",
        description="Start a local web server: a page that records speakers with the browser's microphone, "
        "trains a model on them and names who is speaking, and the HTTP API behind it (schema at /openapi.json). "
        "Models are bundle folders in the models folder, as 'vowels train --out' writes them; models trained in "
        'the page are saved there. Needs the web extra: pip install "vowels[web]". Stop it with Ctrl+C.',
    )
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "--models",
        default=None,
        metavar="DIR",
        help="models folder, one bundle folder per model; created if missing (default models/)",
    )
    where.add_argument(
        "--model", default=None, metavar="M", help="model bundle the page opens with; its folder is the models folder"
    )
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this machine only; 0.0.0.0 lets other machines in)",
    )
    p.add_argument(
        "--port", type=whole_number(0, 65535), default=8000, help="TCP port (default 8000; 0 picks a free one)"
    )
    p.add_argument(
        "--no-token",
        action="store_true",
        help="off loopback, ask for no token (by default one is printed with the address); anyone who can "
        "reach the machine can then use the server",
    )
    p.add_argument(
        "--allow-host",
        action="append",
        metavar="NAME",
        help="also answer to this host name (besides IP addresses, localhost and this machine's names); repeatable",
    )
    limits = p.add_argument_group("limits (beyond them the server answers 429 or 507)")
    for flag, metavar, most, what in (
        ("--max-models", "N", 10_000, f"models (default {SERVE_MAX_MODELS})"),
        ("--max-recordings", "N", 100_000, f"recordings kept (default {SERVE_MAX_RECORDINGS})"),
        ("--max-disk", "MIB", 10**7, f"MiB the models folder holds (default {SERVE_MAX_BYTES // 1024**2})"),
        ("--max-jobs", "N", 100, f"trainings queued or running (default {SERVE_MAX_JOBS})"),
    ):
        limits.add_argument(flag, type=whole_number(1, most), default=None, metavar=metavar, help=what)


def run_serve(args: argparse.Namespace) -> int:
    """`vowels serve`: the page and the HTTP API over a models folder, until Ctrl+C."""
    import importlib.util

    missing = [name for name in ("fastapi", "uvicorn", "python_multipart") if importlib.util.find_spec(name) is None]
    if missing:
        raise UsageError(
            f'vowels serve: needs the web extra ({", ".join(missing)} not installed): pip install "vowels[web]"'
        )
    from .serve import serve

    if args.model is not None:
        model = Path(args.model)
        if not model.is_dir():
            raise UsageError(f"vowels serve: --model {model}: no model bundle folder there; check the path")
        folder, default = model.parent, model.name
    else:
        folder, default = Path(args.models or "models"), None
    settings = {
        "max_models": args.max_models,
        "max_recordings": args.max_recordings,
        "max_bytes": None if args.max_disk is None else args.max_disk * 1024**2,
        "max_jobs": args.max_jobs,
    }
    serve(
        folder,
        default_model=default,
        host=args.host,
        port=args.port,
        token=not args.no_token,
        allow_hosts=args.allow_host or (),
        settings={name: value for name, value in settings.items() if value is not None},
        say=lambda line: _print(line, flush=True),
    )
    return ExitStatus.SUCCESS


COMMANDS = (
    add_reproduce,
    add_evaluate,
    add_plot,
    add_report,
    add_extract,
    add_train,
    add_enrol,
    add_classify,
    add_serve,
)
"""Each command's argument builder, in the order ``vowels --help`` lists them."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    from . import __version__

    parser = _Parser(
        prog="vowels",
        description="Speaker classification from short voiced sounds: MATLAB's Japanese Vowels tutorial "
        "reproduced, and models of your own speakers trained on folders of recordings.",
        epilog="Run 'vowels COMMAND --help' for what a command does, what it writes and its options. Exit status: "
        "0 success, 1 some inputs failed (each named on stderr), 2 usage or input error, 130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"vowels {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for add_command in COMMANDS:
        add_command(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the `vowels` command with `argv` (default: the process arguments).

    TensorFlow's own log lines stay off stderr (importing `vowels` hides them, see `vowels._logs`)
    unless ``-v`` asks for them.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            raise UsageError("vowels: a command is required (see 'vowels --help')")
        if args.verbose:
            from ._logs import show_tensorflow_logs

            show_tensorflow_logs()
        handler: Callable[[argparse.Namespace], int] = args.handler
        return int(handler(args))
    except UsageError as exc:
        _print(exc, file=sys.stderr)
        return ExitStatus.ERROR
    except VowelsError as exc:
        _print(f"vowels: error: {_in_cli_terms(str(exc))}", file=sys.stderr)
        return ExitStatus.ERROR
    except KeyboardInterrupt:
        _print("vowels: interrupted; files already written are whole, nothing half-written was kept.", file=sys.stderr)
        return ExitStatus.INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`vowels ... | head`): as Python's documentation advises, point stdout
        # at devnull so that the interpreter's last flush does not raise again, and stop quietly.
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return ExitStatus.PARTIAL_FAILURE


if __name__ == "__main__":
    sys.exit(main())
