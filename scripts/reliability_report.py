"""Try to break vowels on purpose, the way issue 17 did, and write what each case does now to
reports/reliability.md (and reliability.json).

Usage: python scripts/reliability_report.py [--fsdd ../shared/data/fsdd] [--out reports]

Writing into reports/ also writes the documentation's copy, docs/reliability.md.

Every case runs the real command in a fresh process, in a scratch folder, and records its exit
code, the lines it printed on stderr that start with "vowels", its peak memory and what it left
on disk. Crashes mid-save (kill -9 at each step) and racing writers need controlled kill points:
those are the tests named in the table, run by the test suite.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf
from reliability_serve import hostile_flac, run_all, serve_markdown

ROOT = Path(__file__).resolve().parents[1]
ENV = os.environ | {"PYTHONIOENCODING": "utf-8:strict"}


@dataclass
class Case:
    """One way of breaking vowels: the issue's item, what is tried, how to set it up, the command."""

    item: str
    tried: str
    argv: list[str | bytes]
    setup: Callable[[Path], None] = lambda work: None
    after: Callable[[Path], str] = lambda work: ""
    as_nobody: bool = False
    show_stdout: bool = False
    tests: list[str] = field(default_factory=list)


def _copy_speakers(fsdd: Path, target: Path, speakers: list[str], digits: range, takes: list[int]) -> None:
    for speaker in speakers:
        (target / speaker).mkdir(parents=True, exist_ok=True)
        for d in digits:
            for t in takes:
                name = f"{d}_{speaker}_{t}.wav"
                shutil.copyfile(fsdd / speaker / name, target / speaker / name)


def _long_wav(path: Path, seconds: float, rate: int = 8000) -> None:
    noise = np.random.default_rng(0).normal(0, 0.01, round(seconds * rate)).astype(np.float32)
    sf.write(path, noise, rate, subtype="PCM_16")


def _edit_metadata(work: Path, key: str, value: object) -> None:
    shutil.copytree(work / "model", work / "edited")
    metadata = json.loads((work / "edited" / "metadata.json").read_text())
    metadata[key] = value
    (work / "edited" / "metadata.json").write_text(json.dumps(metadata))


def _uci_copy(work: Path, edit: Callable[[str], str]) -> None:
    target = work / "uci"
    shutil.copytree(ROOT.parent / "shared" / "data" / "japanese_vowels", target)
    train = target / "ae.train"
    train.write_text(edit(train.read_text()))


def _mixed_run(work: Path) -> None:
    for out, seed in (("run", "0"), ("other", "1")):
        subprocess.run(
            [sys.executable, "-m", "vowels", "reproduce", "--epochs", "1", "--seed", seed, "--out", out, "-q"],
            cwd=work,
            capture_output=True,
            check=True,
            env=ENV,
        )
    shutil.rmtree(work / "run" / "model")
    shutil.copytree(work / "other" / "model", work / "run" / "model")


def _left(*names: str) -> Callable[[Path], str]:
    def describe(w: Path) -> str:
        parts = []
        for name in names:
            path = w / name
            parts.append(f"{name} {'exists' if path.exists() else 'not created'}")
        hidden = sorted(p.name for p in w.iterdir() if p.name.startswith("."))
        parts.append(f"hidden leftovers: {', '.join(hidden) or 'none'}")
        return "; ".join(parts)

    return describe


def cases(fsdd: Path) -> list[Case]:
    """The cases of issue 17, in its order."""

    def speakers(work: Path) -> None:
        _copy_speakers(fsdd, work / "voices", ["george", "jackson"], range(3), [10, 11])

    def speakers_and_model(work: Path) -> None:
        speakers(work)
        shutil.copytree(MODEL, work / "model")

    def unreadable(work: Path) -> None:
        speakers_and_model(work)
        locked = work / "locked"
        locked.mkdir()
        shutil.copyfile(work / "voices" / "george" / "0_george_10.wav", locked / "ah.wav")
        os.chmod(locked / "ah.wav", 0)

    return [
        Case(
            "1",
            "`--workers 1000` on a 2-core machine",
            ["extract", "voices", "--out", "f.npz", "--workers", "1000", "-q"],
            speakers,
            tests=["test_reliability.py::test_extract_caps_workers_at_the_cpus_with_one_warning"],
        ),
        Case(
            "2",
            "`--seeds 1000000000`",
            ["reproduce", "--seeds", "1000000000", "--epochs", "1", "--out", "runs/sN"],
            after=_left("runs"),
            tests=["test_reliability.py::test_seed_range_overflow_is_refused_before_the_out_folder_exists"],
        ),
        Case(
            "3",
            "a file name that is not UTF-8, beside a good file",
            ["classify", "--model", "model", "good.wav", b"bad\xffbyte.wav"],
            lambda w: (
                speakers_and_model(w),
                shutil.copyfile(w / "voices" / "george" / "0_george_10.wav", w / "good.wav"),
                shutil.copyfile(
                    w / "voices" / "george" / "0_george_10.wav", os.path.join(os.fsencode(w), b"bad\xffbyte.wav")
                ),
            ),
            show_stdout=True,
            tests=["test_reliability.py::test_classify_reports_a_non_utf8_name_in_one_line_and_keeps_the_good_file"],
        ),
        Case(
            "4",
            "a run folder whose `model/` comes from another run",
            ["report", "--run", "run", "--out", "report"],
            _mixed_run,
            after=_left("report"),
            tests=[
                "test_atomic_writes.py::test_a_part_of_another_run_is_refused",
                "test_atomic_writes.py::test_kill_9_during_a_save_leaves_the_old_run_or_the_new_one (10 kill points)",
                "test_atomic_writes.py::test_a_second_writer_is_refused_while_the_first_writes",
                "test_atomic_writes.py::test_a_killed_writer_does_not_keep_the_path_locked",
            ],
        ),
        Case(
            "5",
            "a 21-minute WAV in a speaker folder",
            ["extract", "voices", "--out", "f.npz", "-q"],
            lambda w: (speakers(w), _long_wav(w / "voices" / "george" / "long.wav", 1260)),
            tests=["test_reliability.py::test_a_long_recording_is_a_failure_of_training_data_and_of_extraction"],
        ),
        Case(
            "23",
            "a 10-minute WAV in a speaker folder (16 kHz): analysed whole, read in windows",
            ["extract", "voices", "--out", "f.npz", "-q"],
            lambda w: (speakers(w), _long_wav(w / "voices" / "george" / "ten-minutes.wav", 600, 16000)),
            tests=["test_windowing.py::test_a_ten_minute_recording_is_classified_in_bounded_memory"],
        ),
        Case(
            "6",
            "`extract --out` in a read-only folder",
            ["extract", "voices", "--out", "read-only/f.npz"],
            lambda w: (speakers(w), (w / "read-only").mkdir(mode=0o555)),
            as_nobody=True,
            tests=["test_reliability.py::test_extract_out_in_an_unwritable_place_is_refused_before_extracting"],
        ),
        Case(
            "6",
            "`extract --out` naming a folder, with `--force`",
            ["extract", "voices", "--out", "voices", "--force"],
            speakers,
            tests=["test_reliability.py::test_extract_out_naming_a_folder_is_refused_before_extracting"],
        ),
        Case(
            "7",
            "`reproduce --seed 4294967296`",
            ["reproduce", "--seed", "4294967296", "--out", "run"],
            after=_left("run"),
            tests=["test_reliability.py::test_reproduce_refuses_a_bad_seed_before_creating_out"],
        ),
        Case(
            "8",
            "bundle with `unknown_threshold` 2 (checksum re-made by hand)",
            ["classify", "--model", "edited", "voices/george/0_george_10.wav"],
            lambda w: (speakers_and_model(w), _edit_metadata(w, "unknown_threshold", 2), _reseal(w / "edited")),
            tests=["test_reliability.py::test_bad_metadata_is_one_bundle_error_naming_the_file"],
        ),
        Case(
            "8",
            "bundle whose `metadata.json` was edited (classes swapped)",
            ["classify", "--model", "edited", "voices/george/0_george_10.wav"],
            lambda w: (speakers_and_model(w), _edit_metadata(w, "classes", ["jackson", "george"])),
            tests=["test_reliability.py::test_metadata_edited_by_hand_fails_its_checksum"],
        ),
        Case(
            "8",
            "bundle with deeply nested `metadata.json`",
            ["classify", "--model", "edited", "--engine", "keras", "voices/george/0_george_10.wav"],
            lambda w: (
                speakers_and_model(w),
                shutil.copytree(w / "model", w / "edited"),
                (w / "edited" / "metadata.json").write_text("[" * 200_000 + "]" * 200_000),
            ),
            tests=["test_reliability.py::test_deeply_nested_metadata_is_a_bundle_error"],
        ),
        Case(
            "9",
            "UCI file with `1e39` (beyond float32)",
            ["reproduce", "--data", "uci", "--epochs", "1", "--out", "run"],
            lambda w: _uci_copy(w, lambda text: text.replace("1.860936", "1e39", 1)),
            tests=["test_properties.py (mutated UCI files)"],
        ),
        Case(
            "9",
            "UCI training file of 200 MB on one line",
            ["reproduce", "--data", "uci", "--epochs", "1", "--out", "run"],
            lambda w: _uci_copy(w, lambda text: "1.0 " * 50_000_000),
            tests=["test_datasets.py (one-line file, peak memory)"],
        ),
        Case(
            "10",
            "an unreadable (mode 000) recording, read by a user without the right",
            ["classify", "--model", "model", "locked/ah.wav"],
            unreadable,
            as_nobody=True,
            tests=["test_audio.py (permission denied, as an unprivileged user)"],
        ),
        Case(
            "10",
            "`vowels train good.wav`",
            ["train", "voices/george/0_george_10.wav", "--out", "m"],
            speakers,
            tests=["test_messages.py"],
        ),
        Case(
            "10",
            "a symbolic link loop and a dangling link in a speaker folder",
            ["extract", "voices", "--out", "f.npz", "-q"],
            lambda w: (
                speakers(w),
                os.symlink("loop", w / "voices" / "george" / "loop"),
                os.symlink("missing.wav", w / "voices" / "george" / "dangling.wav"),
            ),
            tests=["test_messages.py"],
        ),
        Case(
            "10",
            "a newline in a file name",
            ["classify", "--model", "model", "two\nlines.wav"],
            lambda w: (
                speakers_and_model(w),
                shutil.copyfile(w / "voices" / "george" / "0_george_10.wav", w / "two\nlines.wav"),
            ),
            show_stdout=True,
            tests=["test_messages.py"],
        ),
        Case(
            "10",
            "`train --seed 10**30`",
            ["train", "voices", "--out", "m", "--seed", str(10**30)],
            speakers,
            tests=["test_messages.py", "test_reliability.py::test_a_library_seed_out_of_range_names_random_state"],
        ),
        Case(
            "25",
            "a FLAC at 655,350 Hz in 8 channels in a speaker folder (issue 25)",
            ["extract", "voices", "--out", "f.npz", "-q"],
            lambda w: (speakers(w), hostile_flac(w / "voices" / "george" / "fast.flac")),
            tests=["test_audio.py::test_channels_and_rate_beyond_the_limits_are_refused_before_decoding"],
        ),
    ]


def _reseal(bundle: Path) -> None:
    from vowels.bundle import write_metadata

    metadata = json.loads((bundle / "metadata.json").read_text())
    write_metadata(bundle, metadata)


MODEL: Path = Path()
MEASURE = (
    "import resource, subprocess, sys; code = subprocess.call(sys.argv[2:]); "
    "open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)); sys.exit(code)"
)
"""Runs a command and writes its peak resident memory (KiB): a small parent, so the figure is the command's own."""


def _train_model(fsdd: Path, root: Path) -> Path:
    _copy_speakers(fsdd, root / "voices", ["george", "jackson"], range(3), [10, 11])
    subprocess.run(
        [sys.executable, "-m", "vowels", "train", "voices", "--out", "model", "--epochs", "1", "--hidden", "4"]
        + ["--validation-fraction", "0", "--threshold", "-1", "-q"],
        cwd=root,
        capture_output=True,
        check=True,
        env=ENV,
    )
    return root / "model"


def run_case(case: Case, work: Path) -> dict:
    """Run `case` in the empty folder `work`; its exit code, stderr lines, peak memory and leftovers."""
    case.setup(work)
    command: list[str | bytes] = [sys.executable, "-m", "vowels", *case.argv]
    prefix: list[str] = []
    if case.as_nobody:
        os.chmod(work, 0o755)
        prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    start = time.perf_counter()
    peak_file = work.parent / f"{work.name}.peak"
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.run(
            [sys.executable, "-c", MEASURE, str(peak_file), *prefix, *command],
            cwd=work,
            stdout=out,
            stderr=err,
            env=ENV,
        )
        seconds = time.perf_counter() - start
        err.seek(0)
        stderr = err.read().decode("utf-8", "backslashreplace")
        out.seek(0)
        stdout = out.read().decode("utf-8", "backslashreplace")
    lines = [line for line in stderr.splitlines() if line.startswith("vowels")]
    if case.show_stdout:
        lines += [f"(stdout) {line}" for line in stdout.splitlines()]
    return {
        "item": case.item,
        "tried": case.tried,
        "command": "vowels " + " ".join(_shown(a) for a in case.argv),
        "exit_code": process.returncode,
        "stderr": lines,
        "stdout_lines": len(stdout.splitlines()),
        "traceback": "Traceback" in stderr,
        "peak_mb": round(int(peak_file.read_text()) / 1024, 1),
        "seconds": round(seconds, 1),
        "left": case.after(work),
        "note": "run as uid 65534 (root reads any file)" if case.as_nobody else "",
        "tests": case.tests,
    }


def _shown(arg: str | bytes) -> str:
    text = os.fsdecode(arg) if isinstance(arg, bytes) else arg
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace").replace("\n", "\\n")
    return f"$'{text}'" if "\\" in text else text


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(results: list[dict], when: str, serve: list[dict]) -> str:
    """The report: one row per case, then the `serve` section."""
    lines = [
        "# Reliability: what breaking vowels on purpose does now",
        "",
        f"Made by `python scripts/reliability_report.py` on {when}. Each case is the real command in a fresh",
        "process (issue 17's list, in its order): exit code (0 ok, 1 some inputs skipped, 2 refused), the",
        "lines it printed on stderr that start with `vowels` (paths are relative to a scratch folder), peak",
        "memory of the process, and whether a Python traceback appeared. Crashes during a save and racing",
        "writers need controlled kill points: the tests named in the last column do that, in CI.",
        "",
        "Limits: `--workers` at most the CPUs available (warning, then capped); `--seeds` at most 1000;",
        "seeds 0 to 2**32 - 1; recordings at most 20 minutes, 16 channels and 192 kHz, refused from the header",
        "before decoding, then decoded a block at a time; UCI lines at most 64 KiB, read in a stream; bundle",
        "metadata checked for types, ranges and its own sha256. `vowels serve`'s own limits are in its section.",
        "",
        "| item | tried | command | exit | what vowels says | traceback | peak MB | tests |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        said = "<br>".join(_cell(line) for line in r["stderr"]) or "(nothing)"
        if r["left"]:
            said += f"<br>*on disk:* {_cell(r['left'])}"
        if r["note"]:
            said += f"<br>*{_cell(r['note'])}*"
        tests = "<br>".join(_cell(t) for t in r["tests"])
        lines.append(
            f"| {r['item']} | {_cell(r['tried'])} | `{_cell(r['command'])}` | {r['exit_code']} | {said} | "
            f"{'yes' if r['traceback'] else 'no'} | {r['peak_mb']} | {tests} |"
        )
    lines.append("")
    return "\n".join([*lines, *serve_markdown(serve)])


def main() -> int:
    global MODEL
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fsdd", type=Path, default=ROOT.parent / "shared" / "data" / "fsdd")
    parser.add_argument("--out", type=Path, default=ROOT / "reports")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as scratch:
        MODEL = _train_model(args.fsdd, Path(scratch) / "trained")
        for number, case in enumerate(cases(args.fsdd)):
            work = Path(scratch) / f"case-{number}"
            work.mkdir()
            result = run_case(case, work)
            results.append(result)
            print(f"{result['item']:>3} {result['tried']}: exit {result['exit_code']}", file=sys.stderr)
        serve = run_all(args.fsdd, Path(scratch))
    when = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "reliability.json").write_text(
        json.dumps({"date": when, "cases": results, "serve": serve}, indent=2) + "\n"
    )
    (args.out / "reliability.md").write_text(markdown(results, when, serve))
    print(f"Wrote {args.out / 'reliability.md'}", file=sys.stderr)
    if args.out.resolve() == (ROOT / "reports").resolve():
        (ROOT / "docs" / "reliability.md").write_text(markdown(results, when, serve))
        print(f"Wrote {ROOT / 'docs' / 'reliability.md'} (the documentation's copy)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
