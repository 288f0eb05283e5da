"""Run the README's example commands on the folders it describes; write what they printed to
reports/readme_samples.{md,json} and the README's sample blocks from it.

Usage: python scripts/readme_samples.py [--fsdd ../shared/data/fsdd] [--librispeech ../shared/data/librispeech]
       python scripts/readme_samples.py --readme-only   # README.md's sample blocks from the committed JSON

The folders, made in a scratch working folder so that the printed paths are the README's:

- ``voices/``: four speakers of the Free Spoken Digit Dataset (george, jackson, lucas, nicolas),
  the digits 0-9 of repetitions 10-15 each: 60 recordings a speaker.
- ``held-out/``: the same four and theo, never enrolled, the digits 0-9 of repetitions 40-41: 20
  recordings a speaker, later takes than those of voices/.
- ``people/`` and ``new/``: eleven LibriSpeech readers, one utterance each. In the order of their
  speaker IDs, the first six women and the first four men whose utterance lasts at least
  `MIN_SECONDS` are named alice, carol, erin, grace, heidi, judy and bob, dave, frank, ivan: the
  first 60 % of the utterance, cut in three equal parts, is people/NAME/1-3.flac, the rest is
  new/NAME.flac. The next reader of at least `MIN_SECONDS` is new/visitor.flac, whole, enrolled
  under no name.

Each command of a README example block runs as a new process (``python -m vowels``, this
checkout first on the path) in that working folder, in the README's order. The report keeps each
command's exit code, stdout and stderr exactly. A README sample block is the stdout of its
commands (stderr has only the progress lines, whose times change every run), the first
`MAX_LINES` - 1 lines and ``...`` when it is longer than `MAX_LINES` lines.

Then ``vowels serve --models models/ --port 0`` starts in that folder (loopback, a free port), on the
models the README's commands made, and each command of a docs/serve.md example block (`SERVE_BLOCKS`,
curl with the doc's ``127.0.0.1:8000`` replaced by the server's address) runs in bash there, in
order; a request for a job waits until the job has ended. ``alice/`` and ``bob/`` are espeak-ng
voices (`TEAM`) saying the vowels of `TAKES`, one WAV a vowel. A docs/serve.md sample block is the
stdout of its commands, the same way, and each line longer than `WIDTH` characters cut after its
last comma within them, at ``...``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
SERVE_DOC = ROOT / "docs" / "serve.md"
VOICES, STRANGER = ("george", "jackson", "lucas", "nicolas"), "theo"
TRAIN_TAKES, HELD_OUT_TAKES = range(10, 16), range(40, 42)
WOMEN, MEN = ("alice", "carol", "erin", "grace", "heidi", "judy"), ("bob", "dave", "frank", "ivan")
MIN_SECONDS, ENROL_SHARE, PIECES = 10.0, 0.6, 3
MAX_LINES, WIDTH = 16, 240
ELIDED = "..."
TEAM, TAKES = {"alice": ("en+f2", 50), "bob": ("en+m3", 25)}, ("ah", "ee", "oh", "oo", "eh")
DOC_ADDRESS = "http://127.0.0.1:8000"

# Each README example block: its commands, in order, as the README shows them.
BLOCKS: tuple[tuple[str, ...], ...] = (
    (
        "vowels enrol people/ --out models/people",
        "vowels classify --model models/people new/alice.flac new/bob.flac new/visitor.flac",
    ),
    ("vowels train voices/ --out models/voices",),
    (
        "vowels classify --model models/voices held-out/george/3_george_40.wav held-out/lucas/7_lucas_41.wav "
        "held-out/theo/5_theo_40.wav",
    ),
    ("vowels evaluate --model models/voices held-out/",),
)


# Each docs/serve.md example block: its commands, in order, as the doc shows them.
SERVE_BLOCKS: tuple[tuple[str, ...], ...] = (
    (
        f"curl -s -w '\\n' {DOC_ADDRESS}/api/models",
        f"curl -s -w '\\n' -F file=@held-out/theo/5_theo_40.wav {DOC_ADDRESS}/api/models/voices/classify",
    ),
    (
        *(
            f"for take in {' '.join(TAKES)}; do curl -s -w '\\n' -F file=@{name}/$take.wav "
            f"{DOC_ADDRESS}/api/models/team/enrolment/{name}; done"
            for name in TEAM
        ),
        f"curl -s -w '\\n' -H 'content-type: application/json' -d '{{\"epochs\": 30}}' "
        f"{DOC_ADDRESS}/api/models/team/train",
        f"curl -s -w '\\n' {DOC_ADDRESS}/api/jobs/1",
    ),
)


def digits_folders(fsdd: Path, work: Path) -> None:
    """voices/ and held-out/ of the FSDD recordings, copied."""
    for folder, speakers, takes in (
        ("voices", VOICES, TRAIN_TAKES),
        ("held-out", (*VOICES, STRANGER), HELD_OUT_TAKES),
    ):
        for speaker in speakers:
            (work / folder / speaker).mkdir(parents=True)
            for digit in range(10):
                for take in takes:
                    name = f"{digit}_{speaker}_{take}.wav"
                    shutil.copyfile(fsdd / speaker / name, work / folder / speaker / name)


def readers(librispeech: Path) -> dict[str, Path]:
    """The utterance of each name (and of ``visitor``), chosen as the module docstring says."""
    import soundfile

    sexes = {}
    for line in (librispeech / "SPEAKERS.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith(";"):
            speaker, sex = (cell.strip() for cell in line.split("|")[:2])
            sexes[speaker] = sex
    files = sorted((librispeech / "recordings").glob("*.flac"), key=lambda p: int(p.name.split("-")[0]))
    names = {"F": list(WOMEN), "M": list(MEN)}
    chosen: dict[str, Path] = {}
    for path in files:
        if soundfile.info(str(path)).duration < MIN_SECONDS:
            continue
        free = names[sexes[path.name.split("-")[0]]]
        if free:
            chosen[free.pop(0)] = path
        elif not names["F"] and not names["M"]:
            chosen["visitor"] = path
            break
    return chosen


def speech_folders(librispeech: Path, work: Path) -> dict[str, str]:
    """people/ and new/ (FLAC); which LibriSpeech file each name is."""
    import numpy as np
    import soundfile

    (work / "new").mkdir()
    chosen = readers(librispeech)
    for name, path in chosen.items():
        samples, rate = soundfile.read(path, dtype="float32")
        if name == "visitor":
            shutil.copyfile(path, work / "new" / "visitor.flac")
            continue
        cut = int(ENROL_SHARE * len(samples))
        bounds = np.linspace(0, cut, PIECES + 1).astype(int)
        (work / "people" / name).mkdir(parents=True)
        for k in range(PIECES):
            soundfile.write(work / "people" / name / f"{k + 1}.flac", samples[bounds[k] : bounds[k + 1]], rate)
        soundfile.write(work / "new" / f"{name}.flac", samples[cut:], rate)
    return {name: path.name for name, path in sorted(chosen.items())}


def team_folders(work: Path) -> None:
    """alice/ and bob/: each `TEAM` voice saying each of `TAKES`, rendered by espeak-ng."""
    for name, (voice, pitch) in TEAM.items():
        (work / name).mkdir()
        for take in TAKES:
            argv = ["espeak-ng", "-v", voice, "-p", str(pitch), "-w", str(work / name / f"{take}.wav"), take]
            subprocess.run(argv, check=True, capture_output=True)


def run(command: str, work: Path) -> dict:
    """`command` (``vowels ...``) as a new process in `work`: exit code, stdout, stderr, seconds."""
    env = os.environ | {"PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    env["PYTHONIOENCODING"] = "utf-8:strict"
    argv = [sys.executable, "-m", "vowels", *command.split()[1:]]
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=work, env=env, capture_output=True, text=True, encoding="utf-8")
    seconds = time.perf_counter() - start
    print(f"{command}: exit {done.returncode} in {seconds:.0f} s", file=sys.stderr, flush=True)
    return {
        "command": command,
        "exit_code": done.returncode,
        "stdout": done.stdout,
        "stderr": done.stderr,
        "seconds": round(seconds, 1),
    }


def serve(work: Path) -> list[dict]:
    """`SERVE_BLOCKS`' commands against ``vowels serve`` started in `work`: as `run` records them."""
    env = os.environ | {"PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    argv = [sys.executable, "-m", "vowels", "serve", "--models", "models/", "--port", "0"]
    server = subprocess.Popen(argv, cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = server.stdout.readline() if server.stdout else ""
        if not line.startswith("Serving vowels at http://"):
            raise RuntimeError(f"vowels serve did not start: {line!r}")
        address = line.split()[3].rstrip("/")
        results = []
        for command in (c for block in SERVE_BLOCKS for c in block):
            job = re.search(r"/api/jobs/(\w+)$", command)
            while job and json.loads(urllib.request.urlopen(f"{address}/api/jobs/{job[1]}").read())["state"] in (
                "queued",
                "running",
            ):
                time.sleep(1)
            start = time.perf_counter()
            done = subprocess.run(
                ["bash", "-c", command.replace(DOC_ADDRESS, address)], cwd=work, capture_output=True, text=True
            )
            print(f"{command}: exit {done.returncode}", file=sys.stderr, flush=True)
            results.append(
                {
                    "command": command,
                    "exit_code": done.returncode if '"detail"' not in done.stdout else 1,
                    "stdout": done.stdout,
                    "stderr": done.stderr,
                    "seconds": round(time.perf_counter() - start, 1),
                }
            )
        return results
    finally:
        server.terminate()
        server.wait(timeout=120)


def cut(line: str) -> str:
    """`line`, or when longer than `WIDTH` its first characters up to the last comma within them, and `ELIDED`."""
    return line if len(line) <= WIDTH else line[: line.rindex(",", 0, WIDTH) + 1] + ELIDED


def sample(block: tuple[str, ...], results: list[dict]) -> list[str]:
    """The lines README shows under `block`: its commands' stdout, lines cut at `WIDTH`, elided past `MAX_LINES`."""
    by_command = {r["command"]: r for r in results}
    lines = [cut(line) for command in block for line in by_command[command]["stdout"].splitlines()]
    return lines if len(lines) <= MAX_LINES else [*lines[: MAX_LINES - 1], ELIDED]


def text_block_after(text: str, block: tuple[str, ...]) -> re.Match[str]:
    """The ``text`` fence that follows the command fence holding exactly `block`'s commands."""
    start = text.find("```\n" + "\n".join(block) + "\n```\n")
    found = re.compile(r"^```text\n(.*?)^```$", re.S | re.M).search(text, start) if start >= 0 else None
    if found is None:
        raise ValueError(f"no command block {block[0]!r} followed by a ```text block")
    return found


def with_samples(readme: str, results: list[dict], blocks: tuple[tuple[str, ...], ...] = BLOCKS) -> str:
    """`readme` with the ``text`` block of each of `blocks` replaced by what the report's run printed."""
    for block in blocks:
        found = text_block_after(readme, block)
        body = "".join(line + "\n" for line in sample(block, results))
        readme = readme[: found.start(1)] + body + readme[found.end(1) :]
    return readme


def markdown(report: dict) -> str:
    """The report: the folders, the machine, and each command's exit code, stdout and stderr."""
    machine = report["machine"]
    versions = ", ".join(f"{k} {v}" for k, v in report["libraries"].items())
    lines = [
        "# The README's example outputs",
        "",
        f"Made by `python scripts/readme_samples.py` on {report['date']}, on {machine['platform']} "
        f"({machine['machine']}, {machine['cpus_available']} of {machine['cpu_count']} CPUs available); {versions}.",
        "README.md's sample blocks of `vowels enrol`, `train`, `classify` and `evaluate` are the stdout below",
        f"(longer than {MAX_LINES} lines: the first {MAX_LINES - 1} and `...`). The folders, as the script's "
        "docstring says:",
        "FSDD repetitions 10-15 of george, jackson, lucas and nicolas in `voices/`, 40-41 of them and of theo",
        "in `held-out/`; LibriSpeech readers in `people/` and `new/`: "
        + ", ".join(f"{name} {file}" for name, file in report["librispeech"].items())
        + ".",
        "Then `vowels serve --models models/ --port 0` in that folder, and docs/serve.md's curl commands "
        "against it (its port for 8000);",
        f"their lines longer than {WIDTH} characters are cut in docs/serve.md after their last comma within them, "
        "at `...`; `alice/` and `bob/` are espeak-ng voices "
        + " and ".join(f"{voice} (pitch {pitch})" for voice, pitch in TEAM.values())
        + ".",
        "Another run differs in its times always, and on another machine or with other library versions",
        "perhaps in a score's last digits and in the answer for a recording or two near the threshold.",
        "",
    ]
    for r in report["commands"] + report["serve"]:
        lines += [f"## `{r['command']}`", "", f"Exit code {r['exit_code']}, {r['seconds']} s.", ""]
        for stream in ("stdout", "stderr"):
            lines += [f"{stream}:", "", "```text", *r[stream].splitlines(), "```", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from vowels.files import write_json, write_text
    from vowels.provenance import library_versions, machine_summary

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fsdd", type=Path, default=ROOT.parent / "shared" / "data" / "fsdd")
    parser.add_argument("--librispeech", type=Path, default=ROOT.parent / "shared" / "data" / "librispeech")
    parser.add_argument("--out", type=Path, default=ROOT / "reports")
    parser.add_argument("--readme-only", action="store_true", help="rewrite README.md from the committed JSON")
    args = parser.parse_args(argv)
    if args.readme_only:
        report = json.loads((args.out / "readme_samples.json").read_text(encoding="utf-8"))
    else:
        with tempfile.TemporaryDirectory() as scratch:
            work = Path(scratch)
            digits_folders(args.fsdd, work)
            chosen = speech_folders(args.librispeech, work)
            results = [run(command, work) for block in BLOCKS for command in block]
            team_folders(work)
            served = serve(work)
        report = {
            "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d"),
            "machine": machine_summary(),
            "libraries": library_versions(),
            "librispeech": chosen,
            "commands": results,
            "serve": served,
        }
        args.out.mkdir(parents=True, exist_ok=True)
        write_json(args.out / "readme_samples.json", report)
        write_text(args.out / "readme_samples.md", markdown(report))
        print(f"Wrote {args.out / 'readme_samples.md'} and {args.out / 'readme_samples.json'}", file=sys.stderr)
    failed = [r["command"] for r in report["commands"] + report["serve"] if r["exit_code"] != 0]
    if failed:
        print(f"README.md not rewritten: {', '.join(failed)} failed (see the report)", file=sys.stderr)
        return 1
    write_text(README, with_samples(README.read_text(encoding="utf-8"), report["commands"]))
    write_text(SERVE_DOC, with_samples(SERVE_DOC.read_text(encoding="utf-8"), report["serve"], SERVE_BLOCKS))
    print(f"Wrote the sample blocks of {README} and {SERVE_DOC}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
