"""`vowels classify`: who spoke each recording, as lines, JSON or CSV; files that cannot be used on stderr."""

from __future__ import annotations

from typing import Any

from ..errors import UsageError
from .console import Console, status
from .models import open_model

__all__ = ["classify"]


def classify(
    console: Console,
    *,
    files: list[str],
    model: str,
    threshold: float | None,
    json: bool,
    csv: bool,
    stream: bool,
    windows: bool,
    chunk: float | None,
    workers: int,
    engine: str,
) -> int:
    """Name the speaker of each recording FILE with a model from 'vowels train' or 'vowels enrol', or
    answer 'unknown' when its score is below the model's threshold. A FOLDER stands for every audio file
    under it (subfolders too, sorted by path). Prints one line per file, named by its path (--json, --csv:
    every score); writes nothing. Files that cannot be read are named on stderr (exit 1)."""
    from ..extraction import extract_files, list_recordings
    from ..recordings import Classification

    if chunk is not None and not stream:
        raise UsageError("--chunk sets the step of --stream; add --stream or drop --chunk")
    files, skipped = list_recordings(files)
    console.skipped(skipped, word="error")
    if not files:
        raise UsageError("no audio files to classify in the folders given")
    opened = open_model(model)
    if opened.kind == "voiceprints":
        if stream:
            raise UsageError("--stream needs a model from 'vowels train --architecture lstm'; use --windows")
        from ..voiceprints import VoiceAnswer

        voices: Any = opened.load_recordings()
        answers, failures = voices.classify_files(files, threshold=threshold)
        console.skipped(failures, word="error")
        if json:
            console.json([{k: v for k, v in a.to_dict().items() if windows or k != "windows"} for a in answers])
        elif csv:
            console.csv([a.to_dict() for a in answers], [f for f in VoiceAnswer.__dataclass_fields__ if f != "windows"])
        for a in answers if not (json or csv) else []:
            verdict = (
                _verdict(a) if a.speech else f"{a.speaker} (no speech found; nearest {a.nearest}, score {a.score:.3f})"
            )
            runner_up = f"; runner-up {a.runner_up} {a.runner_up_score:.3f}" if a.runner_up else ""
            console.result(f"{a.path}: {verdict}{runner_up}")
            for w in a.windows if windows else []:
                nearest = "" if w["speaker"] == w["nearest"] else f", nearest {w['nearest']}"
                console.result(
                    f"  {w['start']:7.2f}-{w['end']:7.2f} s  {w['speaker']} (score {w['score']:.3f}{nearest})"
                )
        return status(failures, skipped)
    recognizer: Any = opened.load_recordings(engine=engine)
    if windows:
        raise UsageError(f"--windows needs a model from 'vowels enrol'; {model} is trained")
    if stream and not opened.streams:
        why = "its backward direction reads each recording from the end"
        if opened.architecture == "lstm":
            why = "its appended slopes read frames that have not arrived yet"
        raise UsageError(
            f"--stream needs a forward-only model; {model} is a {opened.architecture} ({why}). Train one with "
            "'vowels train DIR --architecture lstm'."
        )
    features, failures = extract_files(
        files, recognizer.feature_config_, n_jobs=console.workers(workers), dsp=recognizer.dsp_
    )
    results = recognizer.classify_features(files, features, threshold=threshold)
    console.skipped(failures, word="error")
    rate = recognizer.feature_config_.sample_rate
    for r in results:
        if r.sample_rate is not None and r.sample_rate < rate:
            console.problem(
                f"vowels: note: {r.path}: recorded at {r.sample_rate} Hz, upsampled to the model's {rate} Hz; "
                "its answer is less reliable than for recordings like the model's."
            )
    if json:
        console.json([r.to_dict() for r in results])
    elif csv:
        console.csv([r.to_dict() for r in results], list(Classification.__dataclass_fields__))
    usable = iter(f for f in features if f is not None)
    for r in results if not (json or csv) else []:
        if stream:
            ends, probabilities = recognizer.stream(next(usable), chunk_seconds=chunk or 0.1)
            console.result(f"{r.path}, as it arrives:")
            for end, row in zip(ends, probabilities):
                console.result(f"  {end:6.2f} s  {recognizer.classes_[int(row.argmax())]} p={row.max():.3f}")
        runner_up = f"runner-up {r.runner_up} p={r.runner_up_probability:.3f}"
        console.result(f"{r.path}: {_verdict(r)} p={r.probability:.3f}; {runner_up}")
    return status(failures, skipped)


def _verdict(a: Any) -> str:
    """The answer `a`, with its nearest speaker where it is 'unknown' (a score below the threshold)."""
    if a.speaker != a.nearest:
        return f"{a.speaker} (nearest {a.nearest}, score {a.score:.3f} < threshold {a.threshold:.3f})"
    return f"{a.speaker} (score {a.score:.3f})"
