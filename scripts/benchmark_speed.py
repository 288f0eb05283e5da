"""Speed benchmarks of vowels, each against its baseline in the same run; writes
reports/benchmarks_speed.md and reports/benchmarks_speed.json.

Usage: python scripts/benchmark_speed.py [--only training classify_latency classify_batch help families_cold_start]
       [--runs 7]
       [--n-recordings 1000] [--out reports]

One function per benchmark (``BENCHMARKS``); each returns a section: a title, Markdown lines
and the numbers behind them. Sections of benchmarks not selected are kept from the previous
JSON, so one benchmark can be re-run alone. Timings on a shared machine are noisy: read the
medians and the ratios measured in the same run.

training          the MATLAB recipe, 100 epochs: `SpeakerClassifier` (sorted batches padded per
                  batch, one TensorFlow graph per epoch) against a straightforward Keras
                  baseline (every utterance padded to 29 frames, Masking + BiLSTM, model.fit,
                  shuffled, default compile), each in a fresh process, runs interleaved.
classify_latency  `vowels classify --model M ONE.wav` as a new process, wall time from start
                  to printed answer, NumPy engine (the default) against ``--engine keras``,
                  runs alternated; the answers must agree within 1e-5.
classify_batch    the same command on N recordings at once (synthetic vowels at 22.05 kHz, so
                  each is resampled): recordings per second for each engine, start-up included.
help              `vowels --help` as a new process, against `python -c pass` in the same run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the voices and synthetic vowels of the recordings tests

VOICES_WORDS = ["ah", "ee", "oh", "hello", "water", "seven", "morning", "yellow", "open", "river", "garden", "people"]
ENV = os.environ | {"TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONWARNINGS": "ignore"}


class Workspace:
    """A temporary folder with espeak-ng voices and a model bundle trained on them (built once)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._bundle: Path | None = None

    @property
    def bundle(self) -> Path:
        if self._bundle is None:
            from test_recordings import render_voices

            from vowels.recordings import RecordingClassifier

            render_voices(self.root / "voices", VOICES_WORDS)
            # The default recipe (MFCC, masked BiLSTM of 100 units); few epochs: speed does not depend on them.
            model = RecordingClassifier(max_epochs=5, validation_fraction=0, random_state=0)
            self._bundle = model.fit(self.root / "voices").save(self.root / "model")
        return self._bundle

    def probe(self) -> Path:
        """One short recording of a known voice (espeak-ng, 22.05 kHz, about 0.4 s)."""
        path = self.root / "probe.wav"
        if not path.exists():
            subprocess.run(["espeak-ng", "-v", "en+f2", "-p", "50", "-w", str(path), "ah"], check=True)
        return path


CLI_ENGINE = {"numpy": "fast", "keras": "keras"}
"""The report's engine names -> `vowels classify --engine`: the fast engine runs this BiLSTM in NumPy."""


def _classify(bundle: Path, files: list[Path], engine: str) -> tuple[float, list[dict]]:
    """Wall seconds of `vowels classify` as a new process, and its JSON answer."""
    command = [sys.executable, "-m", "vowels", "classify", "--model", str(bundle), *map(str, files), "--json"]
    start = time.perf_counter()
    done = subprocess.run(
        [*command, "--engine", CLI_ENGINE[engine]], capture_output=True, text=True, env=ENV, check=False
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"vowels classify --engine {CLI_ENGINE[engine]} failed: {done.stderr[-2000:]}")
    return seconds, json.loads(done.stdout)


def _agreement(a: list[dict], b: list[dict]) -> dict:
    same = all(x["path"] == y["path"] and x["speaker"] == y["speaker"] for x, y in zip(a, b, strict=True))
    diff = max(
        max(abs(x["probability"] - y["probability"]), abs(x["runner_up_probability"] - y["runner_up_probability"]))
        for x, y in zip(a, b, strict=True)
    )
    return {"same_speakers": same, "max_probability_difference": diff}


def _spread(times: list[float]) -> dict:
    return {
        "median_s": statistics.median(times),
        "min_s": min(times),
        "max_s": max(times),
        "runs_s": [round(t, 4) for t in times],
    }


def _timing_table(first: str, rows: list[tuple[str, dict]], *, digits: int = 3) -> list[str]:
    """A Markdown table of median, min and max seconds, a row per (name, `_spread`)."""
    lines = [f"| {first} | median (s) | min (s) | max (s) |", "|---|---|---|---|"]
    for name, st in rows:
        lines.append(f"| {name} | {st['median_s']:.{digits}f} | {st['min_s']:.{digits}f} | {st['max_s']:.{digits}f} |")
    return lines


def bench_classify_latency(ws: Workspace, args: argparse.Namespace) -> dict:
    """`vowels classify` on one short recording as a new process: NumPy engine against Keras."""
    bundle, probe = ws.bundle, ws.probe()
    times: dict[str, list[float]] = {"numpy": [], "keras": []}
    answers: dict[str, list[dict]] = {}
    _classify(bundle, [probe], "numpy")  # warm the file cache once, untimed
    for _ in range(args.runs):
        for engine in times:
            seconds, answers[engine] = _classify(bundle, [probe], engine)
            times[engine].append(seconds)
    stats = {engine: _spread(t) for engine, t in times.items()}
    ratio = stats["keras"]["median_s"] / stats["numpy"]["median_s"]
    agreement = _agreement(answers["numpy"], answers["keras"])
    lines = [
        f"`vowels classify --model MODEL probe.wav --json` as a new process, {args.runs} runs per engine, "
        'alternated; wall time from start to printed answer. Probe: espeak-ng `en+f2` saying "ah" '
        "(22.05 kHz, resampled to 16 kHz); model: MFCC, masked BiLSTM(100), 5 speakers.",
        "",
        *_timing_table(
            "engine",
            [
                ("numpy (default: vowels.inference + vowels.dsp)", stats["numpy"]),
                ("keras (`--engine keras`: Keras + librosa)", stats["keras"]),
            ],
        ),
        "",
        f"NumPy engine {ratio:.1f}x faster (median against median). Same speaker: "
        f"{'yes' if agreement['same_speakers'] else 'NO'}; largest probability difference "
        f"{agreement['max_probability_difference']:.2e} (limit 1e-5).",
    ]
    return {
        "title": "Classifying one recording, new process",
        "lines": lines,
        "data": {"engines": stats, "speedup": ratio, "agreement": agreement, "runs": args.runs},
    }


def bench_classify_batch(ws: Workspace, args: argparse.Namespace) -> dict:
    """`vowels classify` on N recordings as one new process: recordings per second per engine."""
    import soundfile as sf
    from test_recordings import SYNTHETIC_SPEAKERS, VOWEL_FORMANTS, synthetic_vowel

    bundle = ws.bundle
    folder = ws.root / "batch"
    folder.mkdir(exist_ok=True)
    rng = np.random.default_rng(0)
    files = []
    speakers, vowels = list(SYNTHETIC_SPEAKERS.values()), list(VOWEL_FORMANTS.values())
    for i in range(args.n_recordings):
        f0, scale = speakers[i % len(speakers)]
        y = synthetic_vowel(
            f0, np.array(vowels[i % len(vowels)]) * scale, rng=rng, sr=22050, seconds=rng.uniform(0.25, 0.6)
        )
        files.append(folder / f"{i:04d}.wav")
        sf.write(files[-1], y, 22050)
    seconds_of_audio = sum(sf.info(str(f)).duration for f in files)
    times: dict[str, list[float]] = {"numpy": [], "keras": []}
    answers: dict[str, list[dict]] = {}
    for _ in range(args.batch_runs):
        for engine in times:
            seconds, answers[engine] = _classify(bundle, files, engine)
            times[engine].append(seconds)
    stats = {
        engine: _spread(t) | {"recordings_per_s": len(files) / statistics.median(t)} for engine, t in times.items()
    }
    agreement = _agreement(answers["numpy"], answers["keras"])
    ratio = stats["numpy"]["recordings_per_s"] / stats["keras"]["recordings_per_s"]
    lines = [
        f"`vowels classify --model MODEL` on {len(files)} recordings at once (synthetic vowels, 0.25-0.6 s, "
        f"{seconds_of_audio:.0f} s of audio in all, 22.05 kHz), one worker, new process, start-up included; "
        f"{args.batch_runs} runs per engine, median.",
        "",
        "| engine | median (s) | recordings / s |",
        "|---|---|---|",
        f"| numpy (default) | {stats['numpy']['median_s']:.2f} | {stats['numpy']['recordings_per_s']:.0f} |",
        f"| keras (`--engine keras`) | {stats['keras']['median_s']:.2f} | {stats['keras']['recordings_per_s']:.0f} |",
        "",
        f"NumPy engine {ratio:.1f}x the throughput. All {len(files)} answers the same speaker: "
        f"{'yes' if agreement['same_speakers'] else 'NO'}; largest probability difference "
        f"{agreement['max_probability_difference']:.2e}.",
    ]
    return {
        "title": f"Classifying {len(files)} recordings",
        "lines": lines,
        "data": {
            "engines": stats,
            "throughput_ratio": ratio,
            "agreement": agreement,
            "n_recordings": len(files),
            "audio_seconds": seconds_of_audio,
        },
    }


def baseline_fit(epochs: int, seed: int, jit_compile: object) -> dict:
    """The straightforward Keras way: all utterances padded to one length, model.fit, shuffled."""
    import keras
    import numpy as np

    from vowels.batching import pad_batch
    from vowels.datasets import load_japanese_vowels
    from vowels.training import TrainingOptions, seed_everything

    train, test = load_japanese_vowels("train"), load_japanese_vowels("test")
    longest = int(max(train.lengths.max(), test.lengths.max()))
    x, x_test = pad_batch(train.sequences, length=longest), pad_batch(test.sequences, length=longest)
    seed_everything(seed)
    l2 = keras.regularizers.L2(5e-5)
    inputs = keras.Input((longest, 12))
    hidden = keras.layers.Masking()(inputs)
    hidden = keras.layers.Bidirectional(keras.layers.LSTM(100, kernel_regularizer=l2, recurrent_regularizer=l2))(hidden)
    outputs = keras.layers.Dense(9, activation="softmax", kernel_regularizer=l2)(hidden)
    model = keras.Model(inputs, outputs)
    model.compile(
        optimizer=TrainingOptions().optimizer(),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        jit_compile=jit_compile,
    )
    start = time.perf_counter()
    model.fit(x, train.codes, batch_size=27, epochs=epochs, shuffle=True, verbose=0)
    seconds = time.perf_counter() - start
    predicted = np.argmax(model.predict(x_test, batch_size=27, verbose=0), axis=1)
    return {"train_seconds": seconds, "accuracy": float(np.mean(predicted == test.codes))}


def recipe_fit(epochs: int, seed: int, mode: str, loop: str) -> dict:
    """The MATLAB recipe: sorted mini-batches of 27 padded per batch, trained by `loop` (`vowels.training.LOOPS`)."""
    import numpy as np

    from vowels.batching import batching_of, predict_in_batches
    from vowels.datasets import load_japanese_vowels
    from vowels.model import build_network
    from vowels.training import TrainingOptions, seed_everything, train_network

    train, test = load_japanese_vowels("train"), load_japanese_vowels("test")
    order = np.argsort(train.lengths, kind="stable")
    options = TrainingOptions(max_epochs=epochs)
    seed_everything(seed)
    model = build_network(12, 9, mode=mode)
    start = time.perf_counter()
    train_network(
        model,
        [train.sequences[i] for i in order],
        train.codes[order],
        options,
        seed=seed,
        verbose=0,
        loop=loop,
    )
    seconds = time.perf_counter() - start
    probabilities = predict_in_batches(
        model.predict_on_batch, test.sequences, n_outputs=len(test.speakers), **batching_of(options.to_dict())
    )
    return {"train_seconds": seconds, "accuracy": float(np.mean(probabilities.argmax(axis=1) == test.codes))}


def run_variant(name: str, epochs: int, seed: int) -> dict:
    """One variant, in this process."""
    if name == "baseline-fit":
        return baseline_fit(epochs, seed, "auto")
    if name == "baseline-fit-nojit":
        return baseline_fit(epochs, seed, False)
    _, loop, mode = name.split("-")
    return recipe_fit(epochs, seed, mode, loop)


def _measure_training(name: str, epochs: int, seed: int) -> dict:
    """One variant in a fresh process, so no run inherits another's traced graphs or threads."""
    code = (
        f"import json, sys; sys.path.insert(0, {str(ROOT / 'scripts')!r}); "
        "from benchmark_speed import run_variant; "
        f"print('RESULT', json.dumps(run_variant({name!r}, {epochs}, {seed})))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
    return json.loads(line.removeprefix("RESULT "))


TRAINING_VARIANTS = {
    "baseline-fit": "model.fit, all padded to 29 frames, Masking + BiLSTM, shuffled, default compile (XLA)",
    "baseline-fit-nojit": "the same with jit_compile=False",
    "ours-batch-matlab": "MATLAB recipe (sorted batches padded per batch) through train_on_batch",
    "ours-graph-matlab": "MATLAB recipe, one TensorFlow graph per epoch (the package default), matlab mode",
    "ours-graph-masked": "the same, masked mode",
}


def bench_training(ws: Workspace, args: argparse.Namespace) -> dict:
    """Training the MATLAB recipe (100 epochs) against a straightforward Keras baseline."""
    runs: dict[str, list[dict]] = {name: [] for name in TRAINING_VARIANTS}
    for _ in range(args.training_runs):
        for name in TRAINING_VARIANTS:  # interleaved, each in a fresh process
            runs[name].append(_measure_training(name, args.epochs, seed=0))
    medians = {name: statistics.median(r["train_seconds"] for r in results) for name, results in runs.items()}
    baseline = medians["baseline-fit"]
    lines = [
        f"{args.epochs} epochs on the 270 training utterances, seed 0, batch size 27, the same Adam (clipnorm 1, "
        f"epsilon 1e-8) and L2; each run a fresh process, variants interleaved, median of {args.training_runs} "
        "runs. Test accuracy on the 370 test utterances (deterministic for seed 0, the same in every repeat).",
        "",
        "| variant | what | median train s | runs (s) | test accuracy | speed-up vs baseline-fit |",
        "|---|---|---|---|---|---|",
    ]
    for name, results in runs.items():
        seconds = ", ".join(f"{r['train_seconds']:.1f}" for r in results)
        lines.append(
            f"| {name} | {TRAINING_VARIANTS[name]} | {medians[name]:.2f} | {seconds} | "
            f"{100 * results[0]['accuracy']:.2f}% | {baseline / medians[name]:.2f}x |"
        )
    return {
        "title": "Training the MATLAB recipe, 100 epochs",
        "lines": lines,
        "runs": runs,
        "median_seconds": medians,
    }


def _wall(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, capture_output=True, check=True, env=ENV)
    return time.perf_counter() - start


def bench_help(ws: Workspace, args: argparse.Namespace) -> dict:
    """`vowels --help` as a new process, against the bare interpreter starting (``python -c pass``)."""
    commands = {
        "vowels --help": [sys.executable, "-m", "vowels", "--help"],
        "python -c pass": [sys.executable, "-c", "pass"],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, command in commands.items():
            times[name].append(_wall(command))
    stats = {name: _spread(t) for name, t in times.items()}
    own = stats["vowels --help"]["median_s"] - stats["python -c pass"]["median_s"]
    lines = [
        f"`vowels --help` as a new process against the interpreter alone, {args.runs} runs each, alternated.",
        "",
        "| command | median (s) | min (s) | max (s) |",
        "|---|---|---|---|",
        *(f"| `{name}` | {s['median_s']:.3f} | {s['min_s']:.3f} | {s['max_s']:.3f} |" for name, s in stats.items()),
        "",
        f"vowels' own share: {own:.3f} s (median against median); goal: the whole command within 0.3 s.",
    ]
    return {"title": "vowels --help, new process", "lines": lines, "data": {"commands": stats, "own_s": own}}


FAMILY_SETTINGS = {
    "stacked": {"n_layers": 2, "mode": "masked"},
    "lstm": {"architecture": "lstm", "mode": "masked"},
    "dnn": {"architecture": "dnn", "standardize": True},
    "fcn": {"architecture": "fcn"},
}
"""The families' recipes (`vowels.recipes.RECIPES`), trained 3 epochs: speed does not depend on epochs."""

_PREDICT_ONE = (
    "import json, sys\n"
    "from vowels.datasets import load_japanese_vowels\n"
    "from vowels.{module} import {cls} as C\n"
    "clf = C.load(sys.argv[1])\n"
    "print(json.dumps(clf.predict_proba(load_japanese_vowels('test').sequences[:1]).tolist()))\n"
)


def _predict_one(bundle: Path, engine: str) -> tuple[float, list]:
    """Wall seconds of a new process that loads `bundle` and classifies one test utterance, and its answer."""
    module, cls = ("inference", "FastClassifier") if engine == "fast" else ("classifier", "SpeakerClassifier")
    command = [sys.executable, "-c", _PREDICT_ONE.format(module=module, cls=cls), str(bundle)]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=ENV, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{engine} prediction failed: {done.stderr[-2000:]}")
    return seconds, json.loads(done.stdout)


def bench_families_cold_start(ws: Workspace, args: argparse.Namespace) -> dict:
    """Each family's bundle classifying one utterance as a new process: the fast path against Keras."""
    from vowels.classifier import SpeakerClassifier
    from vowels.datasets import load_japanese_vowels

    train = load_japanese_vowels("train")
    rows, data = [], {}
    for name, settings in FAMILY_SETTINGS.items():
        bundle = SpeakerClassifier(**settings, max_epochs=3, verbose=0).fit(train).save(ws.root / f"family-{name}")
        times: dict[str, list[float]] = {"fast": [], "keras": []}
        answers: dict[str, list] = {}
        _predict_one(bundle, "fast")  # warm the file cache once, untimed
        for _ in range(args.runs):
            for engine in times:
                seconds, answers[engine] = _predict_one(bundle, engine)
                times[engine].append(seconds)
        stats = {engine: _spread(t) for engine, t in times.items()}
        diff = float(max(abs(a - b) for a, b in zip(answers["fast"][0], answers["keras"][0], strict=True)))
        engine = "NumPy" if (bundle / "weights.npz").exists() else "ONNX Runtime"
        ratio = stats["keras"]["median_s"] / stats["fast"]["median_s"]
        rows.append(
            f"| {name} | {engine} | {stats['fast']['median_s']:.3f} | {stats['keras']['median_s']:.3f} | "
            f"{ratio:.1f}x | {diff:.1e} |"
        )
        data[name] = {"engine": engine, "engines": stats, "speedup": ratio, "max_probability_difference": diff}
    lines = [
        "A new process loads a Japanese Vowels bundle of each family (`vowels.recipes.RECIPES`, trained 3 "
        f"epochs) and classifies one test utterance, {args.runs} runs per engine, alternated; wall time from "
        "start to printed probabilities. Fast: `FastClassifier.load` (NumPy for the one-layer LSTM, ONNX "
        "Runtime for the others; no TensorFlow); Keras: `SpeakerClassifier.load`. Goal: within 1.5 s, and "
        "probabilities within 1e-5 of Keras.",
        "",
        "| family | fast path | fast median (s) | Keras median (s) | speed-up | largest probability difference |",
        "|---|---|---|---|---|---|",
        *rows,
    ]
    return {
        "title": "Every family's bundle, new process",
        "lines": lines,
        "data": {"families": data, "runs": args.runs},
    }


LIBRISPEECH = ROOT.parent / "shared" / "data" / "librispeech" / "recordings"
ENCODER_SPEAKERS, ENCODER_FILES = 10, 3


def _speech_folder(root: Path) -> tuple[Path, Path]:
    """10 'speakers' of three LibriSpeech utterances each (about 45 s a speaker; for timing, whose voice each
    utterance is does not matter), and one 10 s recording of another utterance."""
    import soundfile

    files = sorted(LIBRISPEECH.glob("*.flac"))
    if len(files) < ENCODER_SPEAKERS * ENCODER_FILES + 1:
        raise SystemExit(f"{LIBRISPEECH}: the LibriSpeech excerpt is needed for the encoder benchmark")
    folder = root / "speech"
    for k in range(ENCODER_SPEAKERS):
        (folder / f"speaker{k:02d}").mkdir(parents=True, exist_ok=True)
        for f in files[k * ENCODER_FILES : (k + 1) * ENCODER_FILES]:
            target = folder / f"speaker{k:02d}" / f.name
            if not target.exists():
                target.symlink_to(f)
    samples, rate = soundfile.read(files[-1], dtype="float32")
    probe = root / "ten_seconds.wav"
    soundfile.write(probe, samples[: 10 * rate], rate)
    return folder, probe


def _timed(command: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=ENV, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[2:5])} failed: {done.stderr[-2000:]}")
    return time.perf_counter() - start


def bench_encoder(ws: Workspace, args: argparse.Namespace) -> dict:
    """Enrolling speakers with the pretrained encoder against training the network on the same folder, and
    classifying one 10 s recording as a new process with each kind of model."""
    folder, probe = _speech_folder(ws.root)
    vowels = [sys.executable, "-m", "vowels"]
    import soundfile

    seconds = sum(soundfile.info(str(f)).duration for f in folder.glob("*/*.flac")) / ENCODER_SPEAKERS
    enrol = [
        _timed([*vowels, "enrol", str(folder), "--out", str(ws.root / "voices"), "--force"]) for _ in range(args.runs)
    ]
    n_train = max(1, min(3, args.runs))
    fused, alone = [], []
    for _ in range(n_train):
        fused.append(_timed([*vowels, "train", str(folder), "--out", str(ws.root / "fused"), "--force"]))
        alone.append(_timed([*vowels, "train", str(folder), "--out", str(ws.root / "net"), "--force", "--no-encoder"]))
    models = {
        "encoder (vowels enrol)": "voices",
        "network fused with the encoder": "fused",
        "network alone (today's path)": "net",
    }
    classify: dict[str, list[float]] = {name: [] for name in models}
    for _ in range(args.runs):
        for name, model in models.items():
            classify[name].append(_timed([*vowels, "classify", "--model", str(ws.root / model), str(probe)]))
    stats = {
        "enrol": _spread(enrol),
        "train_fused": _spread(fused),
        "train_network": _spread(alone),
        "classify": {name: _spread(t) for name, t in classify.items()},
    }
    ratio_enrol = stats["train_network"]["median_s"] / stats["enrol"]["median_s"]
    today = stats["classify"]["network alone (today's path)"]["median_s"]
    lines = [
        f"{ENCODER_SPEAKERS} speakers of {ENCODER_FILES} LibriSpeech utterances each ({seconds:.0f} s a speaker on "
        "average), each command a new process, wall time. Enrolment: `vowels enrol DIR` "
        f"({args.runs} runs) against `vowels train DIR` with and without the encoder ({n_train} runs each). "
        f"Classifying: `vowels classify --model M ten_seconds.wav` (10 s of another speaker), {args.runs} runs "
        "per model, alternated. Goals: enrolment within 30 s, classifying within 1.5 s.",
        "",
        *_timing_table(
            "command",
            [
                ("`vowels enrol` (encoder)", stats["enrol"]),
                ("`vowels train` (network fused with the encoder)", stats["train_fused"]),
                ("`vowels train --no-encoder` (network alone)", stats["train_network"]),
                *((f"`vowels classify`, {name}", st) for name, st in stats["classify"].items()),
            ],
            digits=2,
        ),
        "",
        f"Enrolling is {ratio_enrol:.0f}x faster than training the network alone; classifying with the encoder "
        f"takes {stats['classify']['encoder (vowels enrol)']['median_s'] / today:.2f}x the time of today's path.",
    ]
    return {
        "title": "Enrolling with the speaker encoder, and classifying 10 s",
        "lines": lines,
        "data": {**stats, "seconds_per_speaker": seconds, "runs": args.runs, "train_runs": n_train},
    }


BENCHMARKS: dict[str, Callable[[Workspace, argparse.Namespace], dict]] = {
    "training": bench_training,
    "classify_latency": bench_classify_latency,
    "classify_batch": bench_classify_batch,
    "help": bench_help,
    "families_cold_start": bench_families_cold_start,
    "encoder": bench_encoder,
}


def _environment() -> dict:
    from vowels.provenance import library_versions, machine_summary

    libraries = (
        "vowels",
        "numpy",
        "scipy",
        "soundfile",
        "soxr",
        "librosa",
        "numba",
        "keras",
        "tensorflow",
        "scikit-learn",
        "onnxruntime",
    )
    return {"machine": machine_summary(), "libraries": library_versions(libraries)}


def write_report(out: Path, sections: dict, environment: dict) -> None:
    """Write benchmarks_speed.json and .md in `out` from every section measured so far."""
    from vowels.files import write_json, write_text

    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "benchmarks_speed.json", {"environment": environment, "benchmarks": sections})
    m, libs = environment["machine"], environment["libraries"]
    lines = [
        "# Speed benchmarks",
        "",
        "Written by `python scripts/benchmark_speed.py`; each comparison is measured in one run, its "
        "baseline beside it. The machine is shared, so single timings are noisy: read medians and ratios.",
        "",
        f"Machine: {m['platform']}, {m['machine']}, {m['cpus_available']} of {m['cpu_count']} CPUs available, "
        f"{m['python']}.",
        "Libraries: " + ", ".join(f"{k} {v}" for k, v in libs.items()) + ".",
        "",
    ]
    for name, section in sections.items():
        lines += [f"## {section['title']}", "", f"`{name}`, measured {section['measured']}.", "", *section["lines"], ""]
    write_text(out / "benchmarks_speed.md", "\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=list(BENCHMARKS), default=list(BENCHMARKS))
    parser.add_argument("--runs", type=int, default=9, help="new processes per engine for classify_latency")
    parser.add_argument("--n-recordings", type=int, default=1000, help="recordings for classify_batch")
    parser.add_argument("--batch-runs", type=int, default=3, help="runs per engine for classify_batch")
    parser.add_argument("--epochs", type=int, default=100, help="epochs for training")
    parser.add_argument("--training-runs", type=int, default=3, help="runs per variant for training")
    parser.add_argument("--out", type=Path, default=ROOT / "reports")
    args = parser.parse_args(argv)
    if shutil.which("espeak-ng") is None:
        parser.error("espeak-ng is needed for the voices (apt-get install espeak-ng)")

    previous = args.out / "benchmarks_speed.json"
    sections = json.loads(previous.read_text())["benchmarks"] if previous.is_file() else {}
    with tempfile.TemporaryDirectory(prefix="vowels-bench-") as tmp:
        ws = Workspace(Path(tmp))
        for name in args.only:
            print(f"running {name} ...", file=sys.stderr)
            section = BENCHMARKS[name](ws, args)
            section["measured"] = dt.date.today().isoformat()
            sections[name] = section
            print("\n".join(section["lines"]), file=sys.stderr)
    order = [n for n in BENCHMARKS if n in sections] + [n for n in sections if n not in BENCHMARKS]
    write_report(args.out, {name: sections[name] for name in order}, _environment())
    return 0


if __name__ == "__main__":
    sys.exit(main())
