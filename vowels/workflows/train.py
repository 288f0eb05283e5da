"""`vowels extract`, `train` and `enrol`: a features file, a trained model or an enrolled one from a folder of
speaker folders, said in lines."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from ..errors import UsageError
from .console import Console, status

__all__ = ["enrol", "extract", "train"]


def extract(
    console: Console, *, dir: str, out: str, kind: str, sample_rate: int | None, workers: int, force: bool
) -> int:
    """Compute the features of every recording in DIR/<speaker>/* and write them, with the settings used,
    to one compressed .npz file (--out) that 'vowels train' reads, so that several trainings extract once.
    Files that cannot be used are named on stderr and skipped (exit 1)."""
    from ..extraction import check_features_out, load_speaker_folders, save_features
    from ..features import FeatureConfig

    check_features_out(out, force=force)
    extraction = load_speaker_folders(
        dir,
        FeatureConfig(kind=kind, sample_rate=sample_rate),  # type: ignore[arg-type]  # None: the kind's rate
        n_jobs=console.workers(workers),
        progress=console.progress("Extracting features"),
        match_rate=sample_rate is None,
    )
    console.skipped(extraction.failures)
    console.note(f"Recordings {extraction.describe_rates()}.")
    save_features(out, extraction, force=force)
    u, config = extraction.utterances, extraction.config
    console.result(
        f"Extracted {len(u)} recordings of {len(u.speakers)} speakers ({config.kind}, {config.n_features} features "
        f"per frame); {len(extraction.failures)} skipped; wrote {out}"
    )
    return status(extraction.failures)


def train(console: Console, *, source: str, out: str, sample_rate: int | None, kind: str | None, **options: Any) -> int:
    """Train a speaker model on a folder of recordings DIR/<speaker>/* or on a features file from
    'vowels extract', measure it on held-out recordings and calibrate the score below which it answers
    'unknown'. Writes a model bundle folder (--out) for 'vowels classify', 'evaluate' and 'report'."""
    from ..extraction import training_data
    from ..files import check_free, check_writable
    from ..recordings import RecordingClassifier

    check_free(Path(out), force=options["force"])
    check_writable(Path(out).parent)
    n_jobs = 1 if Path(source).is_file() else console.workers(options["workers"])  # a features file: no extraction
    progress = console.progress("Extracting features")
    data = training_data(source, kind=kind, sample_rate=sample_rate, n_jobs=n_jobs, progress=progress)
    console.skipped(data.failures)
    model = RecordingClassifier(
        mode=options["mode"],
        n_hidden=options["hidden"],
        architecture=options["architecture"],
        max_epochs=options["epochs"],
        validation_fraction=options["validation_fraction"],
        threshold=options["threshold"],
        operating_point=options["operating_point"],
        refit=not options["keep_split"],
        voice_encoder=not options["no_encoder"],
        window_seconds=None if options["whole"] else options["window"],
        window_hop_seconds=options["window_hop"],
        random_state=options["seed"],
        verbose=0 if console.quiet else 1,
    )
    u = data.utterances
    console.note(
        f"Training on {len(u)} recordings of {len(u.speakers)} speakers ({data.config.kind} features), "
        f"{model.architecture}, mode {model.mode}, {model.max_epochs} epochs, seed {model.random_state}.",
        f"Recordings {data.describe_rates()}.",
    )
    model.fit(data)
    v = model.validation_
    if "accuracy" in v:
        console.result(
            f"Validation accuracy: {100 * v['accuracy']:.2f}% ({v['n_correct']}/{v['n_validation']} held-out "
            "recordings, closed set)"
        )
    else:
        console.result("No validation split (--validation-fraction 0): accuracy not measured.")
    if model.fusion_ is not None:
        console.result(
            f"Open-set score: the network's weighted {model.fusion_.weight:g} and the pretrained speaker encoder's "
            f"{1 - model.fusion_.weight:g}, chosen on the calibration folds."
        )
    console.result(f"Unknown-speaker {model.threshold_choice_.describe()}.")
    if v["refit"]:
        console.note(f"The saved model was trained again on all {v['n_final_train']} recordings (--keep-split to not).")
    else:
        console.note(f"The saved model is the one trained on {v['n_final_train']} recordings.")
    model.save(out, force=options["force"])
    console.note(f"Saved model bundle {Path(out)} (trained in {v['train_seconds']:.1f} s)")
    if data.failures:
        n = len(data.failures)
        console.problem(
            f"vowels train: skipped {n} file{'s' if n != 1 else ''} (named above, before training), so the exit "
            f"status is 1; the model was trained on the other {len(u)}."
        )
    return status(data.failures)


def enrol(
    console: Console,
    *,
    paths: list[str],
    out: str | None,
    model: str | None,
    add: str | None,
    remove: str | None,
    threshold: float | str,
    force: bool,
) -> int:
    """Enrol every speaker of a folder DIR/<speaker>/* (recordings of any length and words) with the
    pretrained GE2E speaker encoder: a model ready in seconds, no network trained. Writes a model folder
    (--out) for 'vowels classify' and 'evaluate'. With --model, add a speaker from FILEs (--add NAME) or
    remove one (--remove NAME) in place, without touching the others."""
    from ..files import check_free, check_writable
    from ..voiceprints import VoiceprintClassifier

    start = time.perf_counter()
    if out is not None:
        if add or remove or len(paths) != 1:
            raise UsageError("give one speaker folder DIR with --out (see 'vowels enrol --help')")
        where = Path(out)
        check_free(where, force=force)
        check_writable(where.parent)
        enrolled = VoiceprintClassifier(threshold=threshold).fit(paths[0], progress=console.progress("Embedding"))
        failures = list(enrolled.failures_)
    else:
        where = Path(str(model))
        if not (add or remove) or (remove and paths) or (add and not paths):
            raise UsageError(
                "with --model, give --add NAME FILE [FILE ...] or --remove NAME (see 'vowels enrol --help')"
            )
        enrolled = VoiceprintClassifier.load(where)
        if threshold != "auto":
            enrolled.threshold = threshold
        failures = enrolled.add_speaker(add, paths) if add else []
        if remove:
            enrolled.remove_speaker(remove)
        force = True
    console.skipped(failures)
    counts = ", ".join(f"{s} ({int((enrolled.labels_ == s).sum())})" for s in enrolled.speakers_)
    console.result(
        f"Enrolled {len(enrolled.speakers_)} speakers (recordings): {counts}",
        f"Unknown-speaker {enrolled.threshold_choice_.describe()}.",
    )
    enrolled.save(where, force=force)
    console.note(f"Saved model {where} in {time.perf_counter() - start:.1f} s.")
    return status(failures)
