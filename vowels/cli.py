"""The `vowels` command: parse arguments, call the library, print results; no logic of its own.

Exit codes: 0 success, 1 some inputs failed, 2 usage or input error, 130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from enum import IntEnum

from .errors import VowelsError

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

    def error(self, message: str):  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message} (see '{self.prog} --help')")


def whole_number(minimum: int) -> Callable[[str], int]:
    """An argparse type for whole numbers >= `minimum`, with a message naming the value."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be a whole number >= {minimum}; got {text!r}")
        return value

    parse.__name__ = f"whole number >= {minimum}"
    return parse


def _say(args: argparse.Namespace, *lines: str) -> None:
    if not args.quiet:
        print(*lines, sep="\n", flush=True)


def run_reproduce(args: argparse.Namespace) -> int:
    """`vowels reproduce`: the MATLAB tutorial on the Japanese Vowels data."""
    from .tutorial import reproduce

    explanation = {
        "matlab": "MATLAB semantics: the backward LSTM's output at the last padded time step",
        "padded": "backward LSTM state after the whole padded sequence",
        "masked": "each direction's state after the true frames only (--mode masked)",
    }[args.mode]
    _say(args, f"Mode: {args.mode} ({explanation}).")
    if args.mode == "matlab":
        _say(args, "Use --mode masked for the padding-free variant.")
    run = reproduce(
        epochs=args.epochs,
        seed=args.seed,
        mode=args.mode,
        out=args.out,
        data=args.data,
        force=args.force,
        verbose=0 if args.quiet else 1,
    )
    metrics = run.metrics
    print(
        f"Test accuracy: {100 * metrics['accuracy']:.2f}% "
        f"({metrics['n_test'] - metrics['n_errors']}/{metrics['n_test']}), mode {args.mode}, "
        f"{args.epochs} epochs, seed {args.seed}, trained in {metrics['train_seconds']:.1f} s"
    )
    _say(args, f"Saved: {run.out / 'metrics.json'}, {run.out / 'history.json'}, "
               f"{run.out / 'predictions.csv'}, model bundle {run.out / 'model'}")
    return ExitStatus.SUCCESS


def run_evaluate(args: argparse.Namespace) -> int:
    """`vowels evaluate`: score a saved model on the Japanese Vowels test set."""
    from .classifier import SpeakerClassifier
    from .datasets import load_japanese_vowels
    from .tutorial import score_on_test_set

    clf = SpeakerClassifier.load(args.model)
    test = load_japanese_vowels("test", path=args.data)
    evaluation, *_ = score_on_test_set(clf, test)
    print(
        f"Test accuracy: {100 * evaluation.accuracy:.2f}% "
        f"({evaluation.n - evaluation.n_errors}/{evaluation.n}), model {args.model}"
    )
    return ExitStatus.SUCCESS


def run_plot(args: argparse.Namespace) -> int:
    """`vowels plot`: the tutorial's figures, written to --out."""
    from .plots import write_figures

    written, skipped = write_figures(
        args.which,
        args.out,
        fmt=args.format,
        run=args.run,
        model=args.model,
        observation=args.observation,
        padding_results=args.padding_results,
    )
    for note in skipped:
        print(f"vowels plot: {note}", file=sys.stderr)
    _say(args, *(f"Wrote {path}" for path in written))
    return ExitStatus.SUCCESS


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    from . import __version__

    parser = _Parser(prog="vowels", description="Speaker classification from short voiced sounds.")
    parser.add_argument("--version", action="version", version=f"vowels {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    common = _Parser(add_help=False)
    common.add_argument("--quiet", "-q", action="store_true", help="print only the result")

    p = sub.add_parser("reproduce", parents=[common], help="reproduce the MATLAB tutorial on Japanese Vowels")
    p.add_argument("--epochs", type=whole_number(1), default=100, help="training epochs (default 100)")
    p.add_argument("--seed", type=whole_number(0), default=0, help="random seed (default 0)")
    p.add_argument("--mode", choices=("matlab", "padded", "masked"), default="matlab",
                   help="BiLSTM last-output semantics (default matlab, the faithful reproduction)")
    p.add_argument("--out", default="runs/reproduce", help="output folder (default runs/reproduce)")
    p.add_argument("--data", default=None, help="folder of the UCI files (default: bundled copy)")
    p.add_argument("--force", action="store_true", help="replace results of an earlier run in --out")
    p.set_defaults(handler=run_reproduce)

    p = sub.add_parser("evaluate", parents=[common], help="score a saved model on the test set")
    p.add_argument("--model", required=True, help="model bundle folder, e.g. runs/reproduce/model")
    p.add_argument("--data", default=None, help="folder of the UCI files (default: bundled copy)")
    p.set_defaults(handler=run_evaluate)

    from .plots import DATA_FIGURES, FORMATS, RUN_FIGURES

    p = sub.add_parser(
        "plot", parents=[common], help="draw the tutorial's figures",
        description="Draw the tutorial's figures. With no WHICH: every figure possible without training "
                    "(the data figures, plus training/confusion when --run or --model is given; the others "
                    "are skipped with a note on stderr). A figure named in WHICH whose input is missing is an "
                    "error (exit 2).",
    )
    p.add_argument("which", nargs="*", metavar="WHICH",
                   help=f"figures: {', '.join(DATA_FIGURES)} (bundled data); {', '.join(RUN_FIGURES)} "
                        "(need --run or --model); default: all possible")
    p.add_argument("--out", required=True, help="output folder; figures there are replaced")
    p.add_argument("--format", choices=FORMATS, default="png", help="file format (default png)")
    p.add_argument("--run", default=None, help="a 'vowels reproduce' folder (metrics.json, history.json)")
    p.add_argument("--model", default=None, help="model bundle: confusion matrix recomputed on the test set")
    p.add_argument("--observation", type=whole_number(1), default=1,
                   help="training utterance of the features figure, from 1 (default 1)")
    p.add_argument("--padding-results", default=None,
                   help="JSON of scripts/padding_experiment.py (default: reports/padding_experiment.json)")
    p.set_defaults(handler=run_plot)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the `vowels` command with `argv` (default: the process arguments)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            raise UsageError("vowels: a command is required (see 'vowels --help')")
        handler: Callable[[argparse.Namespace], int] = args.handler
        return int(handler(args))
    except UsageError as exc:
        print(exc, file=sys.stderr)
        return ExitStatus.ERROR
    except VowelsError as exc:
        print(f"vowels: error: {exc}", file=sys.stderr)
        return ExitStatus.ERROR
    except KeyboardInterrupt:
        print("vowels: interrupted; files already written are whole, nothing half-written was kept.",
              file=sys.stderr)
        return ExitStatus.INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
