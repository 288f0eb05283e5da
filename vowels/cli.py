"""The `vowels` command: one library function per command (`vowels.workflows`), its exit status returned. Each
command `vowels X` is `add_X`, its arguments (described by the function's docstring), beside `run_X`, its call."""

from __future__ import annotations

import argparse
import contextlib
import inspect
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, NoReturn

from .errors import UsageError, VowelsError
from .limits import MAX_SEED, MAX_SEEDS, SERVE_MAX_BYTES, SERVE_MAX_JOBS, SERVE_MAX_MODELS, SERVE_MAX_RECORDINGS
from .names import DATA_FIGURES, ENGINES, FEATURE_KINDS, FORMATS, MODES, RECORDING_FIGURES, RECURRENT, RUN_FIGURES
from .recipes import RECIPE_NAMES
from .serve.server import serve
from .validation import argument_type, check_int, check_number, check_threshold
from .workflows.classify import classify
from .workflows.console import Console, ExitStatus
from .workflows.evaluate import evaluate
from .workflows.reproduce import reproduce
from .workflows.train import enrol, extract, train

if TYPE_CHECKING:
    from typing import TypeAlias

    _Commands: TypeAlias = "argparse._SubParsersAction[_Parser]"

__all__ = ["ExitStatus", "main"]


class _CommandLineError(Exception):
    """Arguments argparse cannot parse, reported on one line."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser that reports errors as one line instead of usage and exit."""

    def error(self, message: str) -> NoReturn:
        raise _CommandLineError(f"{self.prog}: {message} (see '{self.prog} --help')")


def whole_number(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    """An argparse type for whole numbers in [`minimum`, `maximum`] (`vowels.validation.check_int`)."""
    return argument_type(int, check_int, low=minimum, high=maximum)


threshold_argument = argument_type(float, check_threshold)
threshold_or_auto_argument = argument_type(
    lambda text: text if text == "auto" else float(text), check_threshold, auto=True
)
fraction = argument_type(float, check_number, low=0, high=1, high_open=True)
seconds = argument_type(float, check_number, low=0.001, high=60, unit="s")


def operating_point(text: str) -> str:
    """An argparse type for ``eer`` or ``far=<rate>``."""
    from .openset import parse_operating_point

    try:
        parse_operating_point(text)
    except VowelsError:
        raise argparse.ArgumentTypeError(f"must be 'eer' or 'far=<rate>' with a rate in [0, 1); got {text!r}") from None
    return text


def _run(workflow: Callable[..., int], args: argparse.Namespace) -> int:
    """`workflow` called with a console (quiet with --quiet) and the command's options, named as its arguments."""
    options = {name: value for name, value in vars(args).items() if name not in _NOT_OPTIONS}
    return workflow(Console(quiet=args.quiet), **options)


_NOT_OPTIONS = ("command", "handler", "plots", "quiet", "verbose")
_HELP = {
    "--verbose": "also show TensorFlow's own log lines on stderr (CUDA probes and the like, hidden by default; "
    "a TF_CPP_MIN_LOG_LEVEL you set is kept)",
    "--workers": "parallel worker processes for feature extraction (default 1; at most the number of CPUs "
    "available, a larger count is lowered to it with a warning)",
    "--plots": "training-progress (MATLAB's Plots option): keep OUT-training-progress.png, beside OUT, up to date "
    "while training (loss and accuracy of every mini-batch), and show it in a window where a display exists "
    "(default none)",
    "--sample-rate": "analysis rate (default: 16000 for mfcc, 10000 for lpcc, or the folder's lowest recording "
    "rate if lower, down to 8000, so that nothing is upsampled)",
    "--data": "the data to score, as for 'vowels {}': for a model from 'vowels train', a folder "
    "DIR/<speaker>/* of recordings ({}); otherwise the folder of the UCI files (default: bundled copy)",
    "--threshold": "answer 'unknown' below this open-set score, in [-1, 1] (default: the model's)",
}


def _add_command(sub: _Commands, run: Callable[[argparse.Namespace], int], summary: str, about: object) -> _Parser:
    """The parser of the command of `run` (``run_NAME``), described by `about`, a text or a function's docstring."""
    common = _Parser(add_help=False)
    common.add_argument("--quiet", "-q", action="store_true", help="print only the result")
    common.add_argument("--verbose", "-v", action="store_true", help=_HELP["--verbose"])
    description = about if isinstance(about, str) else inspect.getdoc(about)
    parser = sub.add_parser(run.__name__.removeprefix("run_"), parents=[common], help=summary, description=description)
    parser.set_defaults(handler=run)
    return parser


def _add_workers(parser: argparse.ArgumentParser, *, when: str = "") -> None:
    parser.add_argument("--workers", type=whole_number(1), default=1, help=when + _HELP["--workers"])


def _add_training(parser: argparse.ArgumentParser, *, epochs: int | None, mode: str | None, helps: tuple) -> None:
    """--epochs, --seed and --mode, which `reproduce` and `train` share: `helps` of --epochs and --mode."""
    parser.add_argument("--epochs", type=whole_number(1), default=epochs, help=helps[0])
    seed_help = f"random seed, 0 to {MAX_SEED} (default 0)"
    parser.add_argument("--seed", type=whole_number(0, MAX_SEED), default=0, help=seed_help)
    parser.add_argument("--mode", choices=MODES, default=mode, help=helps[1])


def _add_plots(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--plots", choices=("none", "training-progress"), default="none", help=_HELP["--plots"])


def _training_plot(args: argparse.Namespace) -> contextlib.AbstractContextManager[object]:
    """--plots training-progress: the figure beside --out while training (`vowels.plots.training_progress_plot`)."""
    if args.plots != "training-progress":
        return contextlib.nullcontext()
    from .plots import display_available, progress_plot_path, training_progress_plot

    path = progress_plot_path(args.out)
    window = display_available()
    where = "and in a window" if window else "(no display, so no window)"
    Console(quiet=args.quiet).note(f"Training progress: {path}, redrawn every few seconds while training {where}.")
    return training_progress_plot(path, window=window)


def _add_features(parser: argparse.ArgumentParser, kind: str, *, default: str | None = None) -> None:
    """--kind, --sample-rate and --workers, of the commands that extract features."""
    from .bundle import MAX_SAMPLE_RATE, MIN_SAMPLE_RATE

    parser.add_argument("--kind", choices=FEATURE_KINDS, default=default, help=kind)
    rate = whole_number(MIN_SAMPLE_RATE, MAX_SAMPLE_RATE)
    parser.add_argument("--sample-rate", type=rate, metavar="HZ", help=_HELP["--sample-rate"])
    _add_workers(parser)


def add_reproduce(sub: _Commands) -> None:
    """The arguments of `vowels reproduce`."""
    p = _add_command(sub, run_reproduce, "reproduce the MATLAB tutorial on Japanese Vowels", reproduce)
    epochs_mode = (
        "training epochs (default: the recipe's; 100 for the tutorial, 2000 for fcn, 40 for dnn)",
        "BiLSTM last-output semantics (default: the recipe's; matlab for the faithful reproduction)",
    )
    helps = {
        "--seeds": f"train N seeds (--seed .. --seed+N-1, N at most {MAX_SEEDS}), each in OUT/seed-K/, summary in "
        "OUT/seeds.json",
        "--recipe": "matlab: the tutorial (default); best: 5 masked BiLSTMs averaged, standardised features with "
        "deltas, dropout, time-warp and noise augmentation (chosen by cross-validation); stacked: 2 BiLSTM "
        "layers; lstm: forward-only, can stream; dnn: a frame-level network; fcn: a fully convolutional "
        "network (dl-4-tsc; 2000 epochs, about 10 minutes); ensemble: mean of fcn and best "
        "(docs/architectures.md)",
    }
    _add_training(p, epochs=None, mode=None, helps=epochs_mode)
    p.add_argument("--seeds", type=whole_number(1, MAX_SEEDS), metavar="N", help=helps["--seeds"])
    p.add_argument("--recipe", choices=RECIPE_NAMES, default="matlab", help=helps["--recipe"])
    p.add_argument("--out", default="runs/reproduce", help="output folder (default runs/reproduce)")
    p.add_argument("--data", help="folder of the UCI files (default: bundled copy)")
    p.add_argument("--force", action="store_true", help="replace results of an earlier run in --out")
    _add_plots(p)


def run_reproduce(args: argparse.Namespace) -> int:
    """`vowels reproduce`: `vowels.workflows.reproduce.reproduce`."""
    with _training_plot(args):
        return _run(reproduce, args)


def add_evaluate(sub: _Commands) -> None:
    """The arguments of `vowels evaluate`."""
    p = _add_command(sub, run_evaluate, "score a saved model on the test set, or on a labelled folder DIR", evaluate)
    helps = {
        "DIR": "folder of recordings DIR/<speaker>/* to score a model from 'vowels train' on; the same as --data DIR",
        "--data": _HELP["--data"].format("report", "or give it as DIR"),
        "--json": "print every number, and each wrong answer, as JSON instead of text",
    }
    p.add_argument("--model", required=True, help="model bundle folder, e.g. runs/reproduce/model")
    p.add_argument("dir", nargs="?", metavar="DIR", help=helps["DIR"])
    p.add_argument("--data", metavar="DIR", help=helps["--data"])
    p.add_argument("--threshold", type=threshold_argument, help="with recordings: " + _HELP["--threshold"])
    _add_workers(p, when="with recordings: ")
    p.add_argument("--json", action="store_true", help=helps["--json"])


def run_evaluate(args: argparse.Namespace) -> int:
    """`vowels evaluate`: `vowels.workflows.evaluate.evaluate`."""
    return _run(evaluate, args)


def add_plot(sub: _Commands) -> None:
    """The arguments of `vowels plot`."""
    p = _add_command(
        sub,
        run_plot,
        "draw the tutorial's figures and a recording's",
        "Draw the tutorial's figures and write each to OUT/<name>.<format>, replacing older ones. With no WHICH: "
        "every figure whose input is given (see WHICH), the others skipped with a note on stderr. A figure named "
        "in WHICH whose input is missing is an error (exit 2).",
    )
    helps = {
        "WHICH": f"figures: {', '.join(DATA_FIGURES)} (bundled data); {', '.join(RUN_FIGURES)} "
        f"(need --run or --model); {', '.join(RECORDING_FIGURES)} (needs --audio); open-set (needs --model of a "
        "model trained on recordings with a calibrated threshold); stream (needs --audio and --model of a "
        "forward-only recordings model); default: all possible",
        "--model": "model bundle: a Japanese Vowels model's confusion matrix is recomputed on the test set; "
        "a model trained on recordings gives the recording figure its features and the open-set figure its "
        "calibration scores",
        "--observation": "training utterance of the features figure, from 1 (default 1)",
        "--padding-results": "JSON of scripts/padding_experiment.py (default: reports/padding_experiment.json)",
        "--audio": "recording of the recording figure: waveform, spectrogram and features",
        "--kind": "features of the recording figure (default mfcc, or those of a --model trained on recordings)",
    }
    p.add_argument("which", nargs="*", metavar="WHICH", help=helps["WHICH"])
    p.add_argument("--out", required=True, help="output folder; figures there are replaced")
    p.add_argument("--format", choices=FORMATS, default="png", help="file format (default png)")
    p.add_argument("--run", help="a 'vowels reproduce' folder (metrics.json, history.json)")
    p.add_argument("--model", help=helps["--model"])
    p.add_argument("--observation", type=whole_number(1), default=1, help=helps["--observation"])
    p.add_argument("--padding-results", help=helps["--padding-results"])
    p.add_argument("--audio", metavar="FILE", help=helps["--audio"])
    p.add_argument("--kind", choices=FEATURE_KINDS, help=helps["--kind"])


def run_plot(args: argparse.Namespace) -> int:
    """`vowels plot`: the tutorial's figures, written to --out (`vowels.plots.write_figures`)."""
    from .plots import write_figures
    from .workflows.figures import figure_sources
    from .workflows.models import refuse_voiceprints

    refuse_voiceprints(args.model, "figures are drawn of trained models")
    options = {k: getattr(args, k) for k in ("run", "model", "observation", "padding_results", "audio", "kind")}
    sources = figure_sources(args.which, **options)
    written = write_figures(sources, args.out, fmt=args.format)
    console = Console(quiet=args.quiet)
    console.problem(*(f"vowels plot: {note}" for note in sources.skipped))
    console.note(*(f"Wrote {path}" for path in written))
    return ExitStatus.SUCCESS


def add_report(sub: _Commands) -> None:
    """The arguments of `vowels report`."""
    p = _add_command(
        sub,
        run_report,
        "accuracy report (Markdown, HTML, JSON) of a run or a model",
        "Write REPORTDIR/report.md with its PNG figures, report.html (figures embedded, no external "
        "requests) and report.json: test accuracy with a 95% Wilson interval, per-speaker scores, "
        "confusion matrix, training curve, misclassified utterances, data, configuration, versions, "
        "machine and timing. The data scored is named by --data DIR, which 'vowels evaluate' takes too.",
    )
    source = p.add_mutually_exclusive_group(required=True)
    run_help = "a 'vowels reproduce' folder (one seed, or --seeds N: spread over seeds)"
    source.add_argument("--run", metavar="DIR", help=run_help)
    source.add_argument("--model", metavar="MODEL", help="model bundle, re-scored now")
    p.add_argument("--data", metavar="DIR", help=_HELP["--data"].format("evaluate", "required"))
    p.add_argument("--out", required=True, metavar="REPORTDIR", help="folder for the report")
    p.add_argument("--force", action="store_true", help="replace an existing report in REPORTDIR")


def run_report(args: argparse.Namespace) -> int:
    """`vowels report`: `vowels.reports.report`."""
    from .reports import report

    return _run(report, args)


def add_extract(sub: _Commands) -> None:
    """The arguments of `vowels extract`."""
    p = _add_command(sub, run_extract, "recordings DIR/<speaker>/* -> features file (.npz)", extract)
    p.add_argument("dir", metavar="DIR", help="folder with one subfolder of recordings per speaker")
    p.add_argument("--out", required=True, help="features file to write, e.g. feats.npz")
    _add_features(p, "mfcc: MFCC; lpcc: LPC cepstrum with the Japanese Vowels analysis (default mfcc)", default="mfcc")
    p.add_argument("--force", action="store_true", help="replace an existing --out file")


def run_extract(args: argparse.Namespace) -> int:
    """`vowels extract`: `vowels.workflows.train.extract`."""
    return _run(extract, args)


def add_train(sub: _Commands) -> None:
    """The arguments of `vowels train`."""
    p = _add_command(sub, run_train, "train a model on DIR/<speaker>/* or a features file", train)
    helps = {
        "--architecture": "bilstm (default) or lstm: forward-only, which can answer while a recording arrives "
        "('vowels classify --stream')",
        "--validation-fraction": "share of each speaker's recordings held out to measure accuracy and calibrate the "
        "threshold (default 0.2)",
        "--threshold": "answer 'unknown' below this open-set score in [-1, 1]; -1 always names a speaker "
        "(default auto: calibrated on the training folder, each speaker left out in turn as a stranger)",
        "eer": "where --threshold auto lies: eer (default; strangers accepted as often as enrolled "
        "speakers rejected) or far=0.05 (at most that share of strangers accepted)",
        "--keep-split": "save the network trained without the validation split (default: train it again on every "
        "recording)",
        "--no-encoder": "decide 'unknown' by the network's open-set score alone (default: fused with the pretrained "
        "speaker encoder's, weighted as the calibration chooses)",
        "--window": "cut recordings longer than this into overlapping windows, each a training sequence; a "
        "recording's answer is the mean of its windows' (default 3.0)",
        "--kind": "features when DIR is a folder (default mfcc); with a features file, must match it",
    }
    p.add_argument("source", metavar="DIR|FEATS", help="speaker folder, or a file written by 'vowels extract'")
    p.add_argument("--out", required=True, help="model bundle folder to write")
    epochs_mode = ("training epochs (default 30)", "BiLSTM semantics (default masked: padding is ignored)")
    _add_training(p, epochs=30, mode="masked", helps=epochs_mode)
    p.add_argument("--hidden", type=whole_number(1), default=100, help="hidden units per direction (default 100)")
    p.add_argument("--architecture", choices=RECURRENT, default="bilstm", help=helps["--architecture"])
    p.add_argument("--validation-fraction", type=fraction, default=0.2, help=helps["--validation-fraction"])
    p.add_argument("--threshold", type=threshold_or_auto_argument, default="auto", help=helps["--threshold"])
    p.add_argument("--operating-point", type=operating_point, default="eer", metavar="eer|far=RATE", help=helps["eer"])
    p.add_argument("--keep-split", action="store_true", help=helps["--keep-split"])
    p.add_argument("--no-encoder", action="store_true", help=helps["--no-encoder"])
    p.add_argument("--window", type=seconds, default=3.0, metavar="SECONDS", help=helps["--window"])
    hop_help = "time between windows (default 1.5)"
    p.add_argument("--window-hop", type=seconds, default=1.5, metavar="SECONDS", help=hop_help)
    p.add_argument("--whole", action="store_true", help="read every recording whole, in no windows")
    _add_features(p, helps["--kind"])
    p.add_argument("--force", action="store_true", help="replace an existing bundle at --out")
    _add_plots(p)


def run_train(args: argparse.Namespace) -> int:
    """`vowels train`: `vowels.workflows.train.train`."""
    with _training_plot(args):
        return _run(train, args)


def add_enrol(sub: _Commands) -> None:
    """The arguments of `vowels enrol`."""
    summary = "enrol speakers from DIR/<speaker>/* with the pretrained encoder (no training)"
    p = _add_command(sub, run_enrol, summary, enrol)
    threshold_help = (
        "answer 'unknown' below this cosine in [-1, 1] (default auto: fitted to the enrolment recordings, or "
        "a stated default when they are too few)"
    )
    paths_help = "speaker folder; with --add, the new speaker's recordings"
    p.add_argument("paths", nargs="*", metavar="DIR|FILE", help=paths_help)
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--out", help="model folder to write from DIR")
    target.add_argument("--model", help="model folder to change with --add or --remove")
    change = p.add_mutually_exclusive_group()
    change.add_argument("--add", metavar="NAME", help="with --model: enrol (or re-enrol) NAME from FILEs")
    change.add_argument("--remove", metavar="NAME", help="with --model: forget NAME")
    p.add_argument("--threshold", type=threshold_or_auto_argument, default="auto", help=threshold_help)
    p.add_argument("--force", action="store_true", help="replace an existing model at --out")


def run_enrol(args: argparse.Namespace) -> int:
    """`vowels enrol`: `vowels.workflows.train.enrol`."""
    return _run(enrol, args)


def add_classify(sub: _Commands) -> None:
    """The arguments of `vowels classify`."""
    p = _add_command(sub, run_classify, "name the speaker of each recording", classify)
    helps = {
        "--stream": "also print how the answer evolves as each recording arrives (a model trained with "
        "--architecture lstm)",
        "--windows": "with a model from 'vowels enrol': also list each 1.6 s window's speaker, with its start and "
        "end (who speaks when)",
        "--chunk": "with --stream: audio per answer, in seconds (default 0.1)",
        "--engine": "fast (default): the network in NumPy or ONNX Runtime and NumPy features, no TensorFlow "
        "start-up, the same answer; keras: Keras and librosa as in training",
    }
    p.add_argument("files", nargs="+", metavar="FILE|FOLDER", help="recordings, or folders of them, to classify")
    p.add_argument("--model", required=True, help="model folder written by 'vowels train' or 'vowels enrol'")
    p.add_argument("--threshold", type=threshold_argument, help=_HELP["--threshold"])
    output = p.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print a JSON list")
    output.add_argument("--csv", action="store_true", help="print CSV with a header row")
    output.add_argument("--stream", action="store_true", help=helps["--stream"])
    p.add_argument("--windows", action="store_true", help=helps["--windows"])
    p.add_argument("--chunk", type=seconds, metavar="SECONDS", help=helps["--chunk"])
    _add_workers(p)
    p.add_argument("--engine", choices=ENGINES, default="fast", help=helps["--engine"])


def run_classify(args: argparse.Namespace) -> int:
    """`vowels classify`: `vowels.workflows.classify.classify`."""
    return _run(classify, args)


def add_serve(sub: _Commands) -> None:
    """The arguments of `vowels serve`."""
    p = _add_command(sub, run_serve, "a local web page and HTTP API to enrol and identify speakers", serve)
    helps = {
        "--models": "models folder, one bundle folder per model; created if missing (default models/)",
        "--model": "model bundle the page opens with; its folder is the models folder",
        "--host": "address to listen on (default 127.0.0.1: this machine only; 0.0.0.0 lets other machines in)",
        "--port": "TCP port (default 8000; 0 picks a free one)",
        "--no-token": "off loopback, ask for no token (by default one is printed with the address); anyone who can "
        "reach the machine can then use the server",
        "--allow-host": "also answer to this host name (besides IP addresses, localhost and this machine's names); "
        "repeatable",
    }
    where = p.add_mutually_exclusive_group()
    where.add_argument("--models", metavar="DIR", help=helps["--models"])
    where.add_argument("--model", metavar="M", help=helps["--model"])
    p.add_argument("--host", default="127.0.0.1", help=helps["--host"])
    p.add_argument("--port", type=whole_number(0, 65535), default=8000, help=helps["--port"])
    p.add_argument("--no-token", action="store_true", help=helps["--no-token"])
    p.add_argument("--allow-host", action="append", metavar="NAME", help=helps["--allow-host"])
    limits = p.add_argument_group("limits (beyond them the server answers 429 or 507)")
    for flag, metavar, most, what in (
        ("--max-models", "N", 10_000, f"models (default {SERVE_MAX_MODELS})"),
        ("--max-recordings", "N", 100_000, f"recordings kept (default {SERVE_MAX_RECORDINGS})"),
        ("--max-disk", "MIB", 10**7, f"MiB the models folder holds (default {SERVE_MAX_BYTES // 1024**2})"),
        ("--max-jobs", "N", 100, f"trainings queued or running (default {SERVE_MAX_JOBS})"),
    ):
        limits.add_argument(flag, type=whole_number(1, most), default=None, metavar=metavar, help=what)


def run_serve(args: argparse.Namespace) -> int:
    """`vowels serve`: `vowels.serve.server.serve`."""
    return _run(serve, args)


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
    """Run the `vowels` command with `argv` (default: the process arguments); TensorFlow's log only with ``-v``."""
    from ._logs import hide_tensorflow_logs, show_tensorflow_logs

    parser, console = build_parser(), Console()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            raise _CommandLineError("vowels: a command is required (see 'vowels --help')")
        if args.verbose:
            show_tensorflow_logs()
        else:
            hide_tensorflow_logs()
        return int(args.handler(args))
    except _CommandLineError as exc:
        console.problem(exc)
    except UsageError as exc:
        console.problem(f"vowels {args.command}: {exc}")
    except VowelsError as exc:  # a library message as the command line says it: force=True is the flag --force
        console.problem(f"vowels: error: {str(exc).replace('pass force=True', 'pass --force')}")
    except KeyboardInterrupt:
        console.problem("vowels: interrupted; files already written are whole, nothing half-written was kept.")
        return ExitStatus.INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`vowels ... | head`): stdout to devnull, so that the last flush does not raise.
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return ExitStatus.PARTIAL_FAILURE
    return ExitStatus.ERROR
