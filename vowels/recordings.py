"""Recordings of known speakers: folders -> features -> a trained `RecordingClassifier`.

A data folder holds one subfolder per speaker, named after them, with their recordings
(``DIR/<speaker>/*.wav``, also .flac, .ogg, .mp3, ...; subfolders below a speaker folder are
read too, hidden files are skipped, files directly in ``DIR`` are ignored). A file that
cannot be used is reported and skipped; it never stops the rest.
"""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .datasets import Utterances
from .errors import BundleError, DataError, ParameterError, VowelsError
from .features import FeatureConfig, Normalization, features_of_file
from .provenance import available_cpus

if TYPE_CHECKING:
    from .evaluation import OpenSetEvaluation
    from .openset import OpenSetScorer

__all__ = [
    "ENGINES",
    "UNKNOWN",
    "Classification",
    "Extraction",
    "Failure",
    "Identification",
    "RecordingClassifier",
    "analysis_rate",
    "extract_files",
    "is_audio_file",
    "list_speaker_files",
    "load_features",
    "load_speaker_folders",
    "save_features",
]

UNKNOWN = "unknown"
"""The answer when the recording's open-set score is below the threshold."""

OPENSET_FILE = "openset.npz"
"""The bundle file holding the open-set references (`vowels.openset.SpeakerScorer`)."""

ENGINES = ("keras", "numpy", "auto")
"""How `RecordingClassifier.load` runs a saved model: Keras and librosa (as trained), or
`vowels.inference` and `vowels.dsp` (the same numbers, no TensorFlow, librosa or scikit-learn
imported), or "auto": NumPy when the bundle holds its weights file, else Keras."""

FEATURES_FORMAT = "vowels-features"
FEATURES_VERSION = 1
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Failure:
    """A file that could not be used, and why (a one-line message naming it)."""

    path: str
    message: str


@dataclass(frozen=True)
class Extraction:
    """Features of recordings, before normalisation, and how they were computed.

    Attributes
    ----------
    utterances : Utterances
        One sequence of shape (n_frames, config.n_features) per usable file; sources are paths.
    config : FeatureConfig
    failures : tuple of Failure
        The files skipped.
    source_rates : dict of int to int
        How many files were recorded at each sample rate (Hz), as their headers say.
    """

    utterances: Utterances
    config: FeatureConfig
    failures: tuple[Failure, ...] = ()
    source_rates: dict[int, int] = field(default_factory=dict)

    def describe_rates(self) -> str:
        """One line: the recordings' own sample rates and the rate features were computed at."""
        return describe_rates(self.source_rates, self.config.sample_rate)


MIN_ANALYSIS_RATE = 8000
"""Lowest rate (Hz) `analysis_rate` moves the features to; rarer, lower-rate files are upsampled."""


def analysis_rate(config: FeatureConfig, rates: Iterable[int]) -> FeatureConfig:
    """`config` at the lowest of `rates` (but not below `MIN_ANALYSIS_RATE`) when that is below its own.

    Recordings at 8 kHz hold nothing above 4 kHz: upsampled for 16 kHz features, half the mel
    bands would describe the resampler. Computing every feature at the lowest rate in the
    folder resamples the others down instead, and changes no window or hop in ms.
    """
    lowest = min(rates, default=config.sample_rate)
    rate = max(lowest, MIN_ANALYSIS_RATE)
    return replace(config, sample_rate=rate) if rate < config.sample_rate else config


def describe_rates(source_rates: dict[int, int], rate: int) -> str:
    """E.g. "recorded at 8000 Hz (2400 files); features computed at 8000 Hz"."""
    if not source_rates:
        return f"features computed at {rate} Hz"
    found = ", ".join(f"{r} Hz ({n} file{'s' if n != 1 else ''})" for r, n in sorted(source_rates.items()))
    notes = []
    above, below = (
        sum(n for r, n in source_rates.items() if r > rate),
        sum(n for r, n in source_rates.items() if r < rate),
    )
    if above:
        notes.append(f"{above} resampled down")
    if below:
        notes.append(f"{below} upsampled, so their features above {min(source_rates) // 2} Hz are empty")
    return f"recorded at {found}; features computed at {rate} Hz" + (f" ({'; '.join(notes)})" if notes else "")


def survey_rates(paths: Iterable[str | os.PathLike[str]]) -> dict[int, int]:
    """How many of `paths` were recorded at each sample rate (files whose header cannot be read are left out)."""
    from collections import Counter

    from .audio import sample_rate_of

    return dict(sorted(Counter(r for r in map(sample_rate_of, paths) if r is not None).items()))


AUDIO_SUFFIXES = (".aac", ".amr", ".m4a", ".mp4", ".opus", ".webm", ".wma")
"""Extensions of audio formats that libsndfile may not read but ffmpeg does (see `vowels.audio`)."""


def is_audio_file(path: str | os.PathLike[str]) -> bool:
    """Whether `path` is a regular file that is, or is named like, a recording (by its header or extension)."""
    from .audio import readable_extensions, sample_rate_of

    path = Path(path)
    if not path.is_file():
        return False
    suffix = path.suffix.lower()
    return suffix in readable_extensions() or suffix in AUDIO_SUFFIXES or sample_rate_of(path) is not None


def _not_a_folder(folder: Path) -> DataError:
    expected = "expected a folder of speaker folders, DIR/<speaker>/<recordings>"
    if folder.is_symlink() and not folder.exists():
        return DataError(f"{folder}: {_unusable_entry(folder)}, not a folder; {expected}.")
    if not folder.exists():
        return DataError(f"{folder}: not found; {expected}.")
    if is_audio_file(folder):
        return DataError(
            f"{folder}: an audio file, not a folder; {expected} (to name the speaker of single "
            "recordings, use 'vowels classify')."
        )
    if folder.is_file():
        return DataError(f"{folder}: a file, not a folder; {expected}.")
    return DataError(f"{folder}: not a folder; {expected}.")


def _unusable_entry(path: Path) -> str:
    """What `path` is, when it is neither a regular file nor a folder once links are followed."""
    import errno
    import stat

    try:
        mode = path.stat().st_mode
    except OSError as exc:
        if not path.is_symlink():
            return f"unreadable ({exc.strerror})"
        if exc.errno == errno.ELOOP:
            return "a symbolic link loop (following it never reaches a file)"
        try:
            target = os.readlink(path)
        except OSError:
            target = "?"
        reason = "does not exist" if exc.errno == errno.ENOENT else f"cannot be reached: {exc.strerror}"
        return f"a broken symbolic link (its target {target} {reason})"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def _recordings_of(speaker: Path) -> tuple[list[Path], list[Failure]]:
    """The files under `speaker` (hidden ones left out, links to folders not followed), and the entries skipped."""
    files: list[Path] = []
    skipped: list[Failure] = []

    def unlistable(exc: OSError) -> None:
        where = exc.filename if exc.filename is not None else str(speaker)
        skipped.append(Failure(str(where), f"{where}: cannot list this folder ({exc.strerror}); skipped."))

    for root, dirs, names in os.walk(speaker, onerror=unlistable):
        here = Path(root)
        for name in sorted(d for d in dirs if not d.startswith(".") and (here / d).is_symlink()):
            link = here / name
            skipped.append(
                Failure(
                    str(link),
                    f"{link}: symbolic link to a folder, which is not followed; move or copy the recordings "
                    "into the speaker folder.",
                )
            )
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not (here / d).is_symlink())
        for name in names:
            path = here / name
            if name.startswith("."):
                continue
            if path.is_file():
                files.append(path)
            else:
                fix = "fix or remove the link" if path.is_symlink() else "recordings must be regular files"
                skipped.append(Failure(str(path), f"{path}: {_unusable_entry(path)}, not a recording; {fix}."))
    return sorted(files), sorted(skipped, key=lambda f: f.path)


def _find_speaker_files(
    folder: str | os.PathLike[str], *, min_speakers: int = 2
) -> tuple[list[tuple[str, Path]], list[Failure]]:
    """`list_speaker_files`, and a `Failure` for each entry skipped other than hidden ones and files
    directly in `folder` (a broken link, a link loop, a link to a folder, a special file, a folder
    that cannot be listed)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise _not_a_folder(folder)
    speakers: list[Path] = []
    skipped: list[Failure] = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            speakers.append(entry)
        elif entry.is_symlink() and not entry.exists():
            message = f"{entry}: {_unusable_entry(entry)}, not read as a speaker folder; fix or remove the link."
            skipped.append(Failure(str(entry), message))
    if len(speakers) < min_speakers:
        found = ", ".join(p.name for p in speakers) or "none"
        also = f" Skipped: {skipped[0].message}" if skipped else ""
        raise DataError(
            f"{folder}: needs at least {min_speakers} speaker subfolders (DIR/<speaker>/*.wav); "
            f"found {len(speakers)} ({found}).{also}"
        )
    pairs: list[tuple[str, Path]] = []
    for speaker in speakers:
        files, not_files = _recordings_of(speaker)
        skipped.extend(not_files)
        if not files:
            also = f" Skipped: {not_files[0].message}" if not_files else ""
            raise DataError(f"{speaker}: speaker folder holds no recordings; add some or remove the folder.{also}")
        pairs.extend((speaker.name, f) for f in files)
    return pairs, skipped


def list_speaker_files(folder: str | os.PathLike[str], *, min_speakers: int = 2) -> list[tuple[str, Path]]:
    """(speaker, file) for every recording under ``folder/<speaker>/``, speakers sorted by name.

    Hidden files and folders, and files directly in `folder`, are left out. So are entries
    that cannot be recordings (broken symbolic links, link loops, links to folders, which are
    not followed, named pipes and other special files); `load_speaker_folders` reports them
    as failures.

    Raises
    ------
    DataError
        `folder` is not a folder, has fewer than `min_speakers` speaker subfolders, or a
        speaker folder holds no files.
    """
    return _find_speaker_files(folder, min_speakers=min_speakers)[0]


def _features_or_failure(path: str, config: dict, backend: str) -> tuple[np.ndarray | None, str | None]:
    """Worker: the features of one file, or the one-line reason it cannot be used."""
    try:
        return features_of_file(path, FeatureConfig.from_dict(config), backend=backend), None
    except VowelsError as exc:
        return None, str(exc)


def extract_files(
    paths: Sequence[str | os.PathLike[str]],
    config: FeatureConfig,
    *,
    workers: int = 1,
    progress: Progress | None = None,
    backend: str = "librosa",
) -> tuple[list[np.ndarray | None], list[Failure]]:
    """Features of many files, in parallel; a bad file gives None and a `Failure`, not an error.

    Parameters
    ----------
    paths : sequence of path-like
    config : FeatureConfig
    workers : int >= 1, default=1
        Worker processes; 1 works in this process. A count above the CPUs available to this
        process (`vowels.provenance.available_cpus`) is lowered to that
        number with a `RuntimeWarning`, so that a typo cannot start hundreds of processes.
    progress : callable(done, total), default=None
        Called after each file.
    backend : {"librosa", "numpy"}, default="librosa"
        Signal processing by librosa or by `vowels.dsp` (see `vowels.features.compute_features`).

    Returns
    -------
    features : list of (np.ndarray of shape (n_frames, n_features)) or None, in `paths` order
    failures : list of Failure, in `paths` order
        Includes each file whose name is not valid UTF-8 (the audio decoders cannot open it).
    """
    import sys
    import warnings

    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ParameterError(f"workers must be a whole number >= 1; got {workers!r}.")
    cpus = available_cpus()
    if workers > cpus:
        warnings.warn(
            f"workers={workers} is more than the {cpus} CPUs available to this process; using {cpus}.",
            RuntimeWarning,
            stacklevel=2,
        )
        workers = cpus
    names = [str(p) for p in paths]
    results: list[tuple[np.ndarray | None, str | None]] = [(None, None)] * len(names)
    todo = []
    for i, name in enumerate(names):
        try:
            name.encode(sys.getfilesystemencoding())  # as libsndfile's Python binding does, strictly
            todo.append(i)
        except UnicodeEncodeError:
            results[i] = (
                None,
                f"{name}: file name is not valid UTF-8, which the audio decoder cannot open; rename it.",
            )
    settings = config.to_dict()
    if workers == 1 or len(todo) <= 1:
        for done, i in enumerate(todo, start=len(names) - len(todo) + 1):
            results[i] = _features_or_failure(names[i], settings, backend)
            if progress is not None:
                progress(done, len(names))
    else:
        # "spawn": never fork a process that may hold TensorFlow's threads.
        with ProcessPoolExecutor(max_workers=min(workers, len(todo)), mp_context=get_context("spawn")) as pool:
            futures = {pool.submit(_features_or_failure, names[i], settings, backend): i for i in todo}
            for done, future in enumerate(as_completed(futures), start=len(names) - len(todo) + 1):
                results[futures[future]] = future.result()
                if progress is not None:
                    progress(done, len(names))
    if names and not todo and progress is not None:
        progress(len(names), len(names))
    features = [r[0] for r in results]
    failures = [Failure(name, r[1]) for name, r in zip(names, results, strict=True) if r[1] is not None]
    return features, failures


def load_speaker_folders(
    folder: str | os.PathLike[str],
    config: FeatureConfig | None = None,
    *,
    workers: int = 1,
    progress: Progress | None = None,
    min_speakers: int = 2,
    backend: str = "librosa",
    match_rate: bool = False,
) -> Extraction:
    """Features of every recording under ``folder/<speaker>/``, labelled by speaker.

    Parameters
    ----------
    folder : path-like
    config : FeatureConfig, default=None
        None means ``FeatureConfig()`` (MFCC).
    workers : int >= 1, default=1
    progress : callable(done, total), default=None
    min_speakers : int, default=2
        Fewest speaker folders accepted (1 to score a folder of a single speaker).
    backend : {"librosa", "numpy"}, default="librosa"
        As in `extract_files`.
    match_rate : bool, default=False
        Compute features at the folder's lowest sample rate when it is below
        ``config.sample_rate`` (`analysis_rate`), rather than upsample; for training. A model
        scores recordings at its own rate.

    Returns
    -------
    Extraction
        Speakers are the subfolder names, sorted; unusable files, and entries that cannot be
        recordings (`list_speaker_files`), are in ``failures``.

    Raises
    ------
    DataError
        Too few speakers, a speaker folder with no files, or one whose every file failed.
    """
    config = FeatureConfig() if config is None else config
    pairs, skipped = _find_speaker_files(folder, min_speakers=min_speakers)
    rates = survey_rates(p for _, p in pairs)
    if match_rate:
        config = analysis_rate(config, rates)
    features, failures = extract_files(
        [p for _, p in pairs], config, workers=workers, progress=progress, backend=backend
    )
    speakers = tuple(sorted({s for s, _ in pairs}))
    kept = [i for i, f in enumerate(features) if f is not None]
    usable = {pairs[i][0] for i in kept}
    problems = {f.path: f.message for f in failures}
    for speaker in speakers:
        if speaker not in usable:
            first = next(problems[str(p)] for s, p in pairs if s == speaker)
            raise DataError(
                f"{Path(folder) / speaker}: none of this speaker's recordings could be used (first problem: {first})."
            )
    utterances = Utterances(
        sequences=[f for f in features if f is not None],
        labels=np.array([pairs[i][0] for i in kept]),
        speakers=speakers,
        sources=tuple(str(pairs[i][1]) for i in kept),
    )
    return Extraction(utterances, config, (*skipped, *failures), rates)


def save_features(path: str | os.PathLike[str], extraction: Extraction, *, force: bool = False) -> Path:
    """Write features, labels, speakers, sources and the config to one compressed ``.npz``.

    Sequences are stored concatenated (``frames``) with their ``lengths``, so the file loads
    with ``allow_pickle=False``. Written atomically; an existing file is replaced only if `force`.
    """
    from .bundle import write_bytes

    path = Path(path)
    u = extraction.utterances
    frames = np.concatenate(u.sequences, axis=0) if len(u) else np.zeros((0, extraction.config.n_features))
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        format=np.array(FEATURES_FORMAT),
        format_version=np.array(FEATURES_VERSION),
        frames=frames.astype(np.float32),
        lengths=u.lengths,
        labels=np.asarray(u.labels, dtype=str),
        speakers=np.array(u.speakers, dtype=str),
        sources=np.array(u.sources, dtype=str),
        config=np.array(json.dumps(extraction.config.to_dict())),
        source_rates=np.array(list(extraction.source_rates.items()), dtype=np.int64).reshape(-1, 2),
    )
    if path.parent and not path.parent.exists():
        path.parent.mkdir(parents=True)
    write_bytes(path, buffer.getvalue(), force=force)
    return path


_WRITE_FEATURES = (
    "features files are written by 'vowels extract DIR --out FILE.npz' from a folder of speaker folders DIR, "
    "which 'vowels train' also takes itself"
)


def _not_an_archive(path: Path) -> str | None:
    """What `path` is when it is not a zip archive (as every .npz is), "damaged" for a broken one, else None."""
    import zipfile

    if path.is_dir():
        return "a folder"
    if path.exists() and not path.is_file():
        return _unusable_entry(path)
    if zipfile.is_zipfile(path):
        return None
    with open(path, "rb") as file:
        head = file.read(6)
    if head.startswith(b"PK"):
        return "damaged"
    if head == b"\x93NUMPY":
        return "a single NumPy .npy array"
    if is_audio_file(path):
        return "an audio file"
    return "not an .npz archive at all"


def load_features(path: str | os.PathLike[str]) -> Extraction:
    """Read a file written by `save_features` (no pickle is ever loaded).

    Raises
    ------
    DataError
        `path` is missing, not a features file (an audio file, another .npz, ...) or damaged;
        the message says which.
    """
    import zipfile
    import zlib
    from tokenize import TokenError

    path = Path(path)
    try:
        what = _not_an_archive(path)
    except FileNotFoundError:
        raise DataError(f"{path}: file not found.") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror or exc}).") from None
    try:
        if what == "damaged":
            raise DataError(f"{path}: damaged or truncated .npz archive; run 'vowels extract' again to rewrite it.")
        if what is not None:
            raise DataError(f"{path}: not a vowels features file ({what}); {_WRITE_FEATURES}.")
        with np.load(path, allow_pickle=False) as data:
            if "format" not in data.files or data["format"].shape != () or str(data["format"]) != FEATURES_FORMAT:
                raise DataError(
                    f"{path}: not a vowels features file (an .npz archive whose 'format' entry is missing or not "
                    f"{FEATURES_FORMAT!r}); {_WRITE_FEATURES}."
                )
            if int(data["format_version"]) != FEATURES_VERSION:
                raise DataError(
                    f"{path}: features format version {int(data['format_version'])} is not supported "
                    f"(this vowels reads {FEATURES_VERSION}); run 'vowels extract' again."
                )
            frames, lengths = data["frames"], data["lengths"]
            labels, speakers, sources = data["labels"], data["speakers"], data["sources"]
            config = FeatureConfig.from_dict(json.loads(str(data["config"])))
            rates = {int(r): int(n) for r, n in data["source_rates"]} if "source_rates" in data.files else {}
        if lengths.sum() != len(frames) or frames.ndim != 2 or frames.shape[1] != config.n_features:
            raise DataError(f"{path}: frames and lengths disagree; the file is damaged.")
        sequences = np.split(frames, np.cumsum(lengths)[:-1]) if len(lengths) else []
        utterances = Utterances(
            sequences=[np.ascontiguousarray(s) for s in sequences],
            labels=labels.astype(str),
            speakers=tuple(speakers.astype(str)),
            sources=tuple(sources.astype(str)),
        )
    except DataError:
        raise
    except (
        OSError,
        ValueError,
        TypeError,
        KeyError,
        IndexError,
        EOFError,
        MemoryError,
        NotImplementedError,
        RuntimeError,
        SyntaxError,
        TokenError,
        zlib.error,
        zipfile.BadZipFile,
    ) as exc:
        if isinstance(exc, ValueError) and "allow_pickle" in str(exc):
            raise DataError(
                f"{path}: not a vowels features file (it holds pickled Python objects, which vowels never "
                f"loads); {_WRITE_FEATURES}."
            ) from None
        raise DataError(
            f"{path}: damaged vowels features file ({exc}); run 'vowels extract' again to rewrite it."
        ) from None
    return Extraction(utterances, config, source_rates=rates)


@dataclass(frozen=True)
class Classification:
    """Who spoke one recording.

    Attributes
    ----------
    path : str
    speaker : str
        The answer: the most probable enrolled speaker, or `UNKNOWN` if its score is below
        the threshold.
    probability : float
        The network's probability of the most probable enrolled speaker, in [0, 1].
    nearest : str
        The most probable enrolled speaker, even when the answer is `UNKNOWN`.
    runner_up : str
    runner_up_probability : float
    score : float
        How much the recording sounds like `nearest`: the open-set similarity (in [-1, 1],
        see `vowels.openset`), or the probability for a model saved without open-set references.
    threshold : float
        The score below which the answer is `UNKNOWN`.
    sample_rate : int or None
        The recording's own rate in Hz, as its header says (None when it cannot tell).
    """

    path: str
    speaker: str
    probability: float
    nearest: str
    runner_up: str
    runner_up_probability: float
    score: float
    threshold: float
    sample_rate: int | None = None

    def to_dict(self) -> dict:
        """Plain JSON-ready values."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class Identification:
    """Probabilities, the named speaker and its open-set score for several sequences.

    Attributes
    ----------
    probabilities : np.ndarray of shape (n, n_speakers)
    nearest : np.ndarray of int, shape (n,)
        Column of the most probable speaker.
    scores : np.ndarray of float, shape (n,)
        Open-set score of that speaker (see `Classification.score`).
    """

    probabilities: np.ndarray
    nearest: np.ndarray
    scores: np.ndarray


@dataclass
class RecordingClassifier:
    """Features + normalisation + `SpeakerClassifier` + open-set scoring, trained on speaker folders.

    Parameters
    ----------
    features : FeatureConfig, default=None
        How to analyse recordings; None means ``FeatureConfig()`` (MFCC). Recordings of a
        lower rate than the config's are analysed at their own rate (`analysis_rate`) unless
        `match_rate` is False. Ignored by `fit` on an `Extraction`, which brings its own.
    mode : {"masked", "matlab", "padded"}, default="masked"
        BiLSTM semantics (see `vowels.model`); ``masked`` ignores padding, which recordings
        of very different lengths need.
    n_hidden : int, default=100
        Hidden units per direction.
    epochs : int, default=30
    batch_size : int, default=32
        Utterances per mini-batch (sorted by length, padded to the longest, kept every epoch);
        32 was as accurate as 16 on held-out development recordings, in about half the time.
    learn_rate : float, default=1e-3
        Adam's learning rate.
    validation_fraction : float in [0, 1), default=0.2
        Share of each speaker's utterances held out (stratified, seeded) to measure accuracy
        and calibrate the unknown-speaker threshold; 0 trains on everything and calibrates nothing.
    threshold : float in [-1, 1] or "auto", default="auto"
        Open-set score below which the answer is `UNKNOWN`; -1 always names a speaker.
        "auto" calibrates it on the training data at `operating_point` (see `vowels.openset`).
    operating_point : str, default="eer"
        Where "auto" puts the threshold: ``"eer"`` (as many strangers accepted as enrolled
        speakers rejected) or ``"far=0.05"`` (at most that share of strangers accepted).
    calibration_folds : int >= 2, default=5
        Networks trained, each with a group of enrolled speakers left out to play strangers,
        to calibrate "auto" (every speaker is left out once; at most one group per speaker).
    refit : bool, default=True
        After validation and calibration, train the saved network again on every recording.
    match_rate : bool, default=True
        Analyse a folder of lower-rate recordings at their rate instead of upsampling them.
    random_state : int, default=0
    verbose : int, default=0
        1 prints each training stage and a progress bar on stderr.
    """

    features: FeatureConfig | None = None
    mode: str = "masked"
    n_hidden: int = 100
    epochs: int = 30
    batch_size: int = 32
    learn_rate: float = 1e-3
    validation_fraction: float = 0.2
    threshold: float | str = "auto"
    operating_point: str = "eer"
    calibration_folds: int = 5
    refit: bool = True
    match_rate: bool = True
    random_state: int = 0
    verbose: int = 0
    validation_: dict = field(default_factory=dict, init=False, repr=False)
    feature_backend_: str = field(default="librosa", init=False, repr=False)

    def _check_params(self) -> None:
        from .openset import parse_operating_point
        from .training import check_seed

        check_seed(self.random_state, name="random_state")
        if not 0 <= self.validation_fraction < 1:
            raise ParameterError(f"validation_fraction must be in [0, 1); got {self.validation_fraction!r}.")
        number = isinstance(self.threshold, (int, float)) and not isinstance(self.threshold, bool)
        if self.threshold != "auto" and not (number and -1 <= float(self.threshold) <= 1):
            raise ParameterError(f"threshold must be a score in [-1, 1] or 'auto'; got {self.threshold!r}.")
        parse_operating_point(self.operating_point)
        folds = self.calibration_folds
        if isinstance(folds, bool) or not isinstance(folds, int) or folds < 2:
            raise ParameterError(f"calibration_folds must be a whole number >= 2; got {folds!r}.")

    def _say(self, message: str) -> None:
        if self.verbose:
            import sys

            print(message, file=sys.stderr, flush=True)

    def _train(self, utterances: Utterances, what: str, *, verbose: int = 0) -> Any:
        """A `SpeakerClassifier` trained on normalised `utterances`."""
        from .classifier import SpeakerClassifier
        from .training import TrainingOptions

        options = TrainingOptions(
            max_epochs=self.epochs, mini_batch_size=self.batch_size, initial_learn_rate=self.learn_rate, drop_last=False
        )
        self._say(f"Training {what}: {len(utterances)} recordings of {len(set(utterances.labels))} speakers.")
        classifier = SpeakerClassifier(
            mode=self.mode, n_hidden=self.n_hidden, options=options, random_state=self.random_state, verbose=verbose
        )
        return classifier.fit(self._normalized(utterances.sequences), utterances.labels)

    def fit(
        self, data: Extraction | str | os.PathLike[str], *, workers: int = 1, progress: Progress | None = None
    ) -> RecordingClassifier:
        """Train on an `Extraction` or a speaker folder: validate, calibrate, then refit on everything.

        1. Hold out `validation_fraction` of each speaker's recordings; train on the rest and
           measure closed-set accuracy on the held-out part (``validation_``).
        2. With "auto" and at least three speakers, calibrate the threshold: train
           `calibration_folds` networks, each without a group of speakers, and score the
           held-out recordings of the speakers it knows (genuine) and of those it does not
           (strangers); pick the threshold at `operating_point` (``operating_point_``).
        3. With `refit`, train the saved network on every recording; its enrolment references
           for open-set scoring are every recording's embedding.

        Sets ``features_``, ``source_rates_``, ``normalization_``, ``classifier_``, ``scorer_``,
        ``operating_point_``, ``threshold_``, ``validation_``, ``failures_``.
        """
        from sklearn.model_selection import train_test_split

        from .openset import OpenSetScorer

        self._check_params()
        if not isinstance(data, Extraction):
            data = load_speaker_folders(
                data, self.features, workers=workers, progress=progress, match_rate=self.match_rate
            )
        u = data.utterances
        if UNKNOWN in u.speakers:
            raise DataError(f"a speaker may not be named {UNKNOWN!r}: that is the answer for no match; rename it.")
        if len(u.speakers) < 2:
            raise DataError(f"training needs at least 2 speakers; got {[str(s) for s in u.speakers]}.")
        indices = np.arange(len(u))
        validation = np.array([], dtype=int)
        if self.validation_fraction > 0:
            try:
                indices, validation = train_test_split(
                    indices, test_size=self.validation_fraction, stratify=u.labels, random_state=self.random_state
                )
            except ValueError as exc:
                raise DataError(
                    f"cannot hold out validation_fraction={self.validation_fraction} of {len(u)} utterances "
                    f"of {len(u.speakers)} speakers with every speaker in both parts ({exc}); add "
                    "recordings or pass a different fraction (0 for none)."
                ) from None
        train, held = u.subset(np.sort(indices)), u.subset(np.sort(validation))
        self.features_, self.source_rates_, self.failures_ = data.config, dict(data.source_rates), data.failures
        self.normalization_ = (
            Normalization.fit(train.sequences) if data.config.normalize else Normalization.identity(u.n_features)
        )
        start = time.perf_counter()
        final_on_all = self.refit and len(held) > 0
        stages = 1 + int(final_on_all)
        self.classifier_ = self._train(train, f"1/{stages} (validation split held out)", verbose=self.verbose)
        self.validation_ = {"n_train": len(train)}
        if len(held):
            predicted = self.classifier_.to_numpy().predict(self._normalized(held.sequences))
            correct = predicted == held.labels
            self.validation_.update(
                accuracy=float(correct.mean()), n_correct=int(correct.sum()), n_validation=int(len(held))
            )
        self.operating_point_ = None
        self.validation_["open_set"] = "not calibrated"
        if self.threshold == "auto":
            reason = self._calibration_obstacle(u, held)
            if reason is None:
                self.operating_point_ = self._calibrate(train, held)
                self.validation_["open_set"] = "calibrated"
            else:
                self.validation_["open_set"] = f"not calibrated: {reason}"
                self._say(f"Unknown-speaker threshold not calibrated ({reason}); every recording is named.")
        if final_on_all:
            self.classifier_ = self._train(u, f"2/{stages} (the saved model, on every recording)", verbose=self.verbose)
        enrolled = u if final_on_all else train
        self.validation_.update(
            train_seconds=round(time.perf_counter() - start, 3),
            refit=bool(final_on_all),
            n_final_train=len(enrolled),
        )
        normalized = self._normalized(enrolled.sequences)
        self.scorer_: OpenSetScorer | None = OpenSetScorer.fit(
            self.classifier_.to_numpy().embed(normalized), normalized, enrolled.labels, self.classifier_.classes_
        )
        if self.threshold == "auto":
            self.threshold_ = self.operating_point_.threshold if self.operating_point_ is not None else -1.0
        else:
            self.threshold_ = float(self.threshold)
        return self

    def _calibration_obstacle(self, u: Utterances, held: Utterances) -> str | None:
        """Why the threshold cannot be calibrated on these data, or None."""
        if len(u.speakers) < 3:
            return "needs at least 3 speakers, so that each left-out group leaves 2 to train on"
        if not len(held):
            return "needs a validation split (validation_fraction > 0)"
        if any(np.sum(held.labels == s) < 1 for s in u.speakers):
            return "every speaker needs a held-out recording"
        return None

    def _calibrate(self, train: Utterances, held: Utterances) -> Any:
        """Genuine and stranger scores of networks trained without each group of speakers, and the threshold."""
        from .openset import OpenSetScorer, choose_threshold

        speakers = np.array(train.speakers)
        n_folds = min(self.calibration_folds, len(speakers))
        order = np.random.default_rng(self.random_state).permutation(len(speakers))
        groups = [speakers[np.sort(g)] for g in np.array_split(order, n_folds)]
        if any(len(speakers) - len(g) < 2 for g in groups):
            groups = [np.array([s]) for s in speakers]
        held_sequences = self._normalized(held.sequences)
        genuine: list[np.ndarray] = []
        impostor: list[np.ndarray] = []
        for k, strangers in enumerate(groups, start=1):
            known_train = train.subset(np.flatnonzero(~np.isin(train.labels, strangers)))
            classifier = self._train(
                known_train, f"calibration network {k}/{len(groups)} (strangers: {', '.join(strangers)})"
            ).to_numpy()
            known = self._normalized(known_train.sequences)
            scorer = OpenSetScorer.fit(classifier.embed(known), known, known_train.labels, classifier.classes_)
            nearest = np.argmax(classifier.predict_proba(held_sequences), axis=1)
            scores = scorer.scores(classifier.embed(held_sequences), held_sequences)[np.arange(len(held)), nearest]
            is_stranger = np.isin(held.labels, strangers)
            genuine.append(scores[~is_stranger])
            impostor.append(scores[is_stranger])
        return choose_threshold(np.concatenate(genuine), np.concatenate(impostor), self.operating_point)

    def _check_fitted(self) -> None:
        if not hasattr(self, "classifier_"):
            from .errors import NotFittedError

            raise NotFittedError("this RecordingClassifier is not fitted; call fit or RecordingClassifier.load.")

    @property
    def classes_(self) -> np.ndarray:
        """Enrolled speakers, in the order of `predict_proba`'s columns."""
        self._check_fitted()
        return self.classifier_.classes_

    def _normalized(self, sequences: Iterable[np.ndarray]) -> list[np.ndarray]:
        return [self.normalization_.apply(s) for s in sequences]

    def predict_proba(self, sequences: Sequence[np.ndarray]) -> np.ndarray:
        """Speaker probabilities (n_sequences, n_speakers) of raw feature sequences."""
        self._check_fitted()
        return self.classifier_.predict_proba(self._normalized(sequences))

    def identify(self, sequences: Sequence[np.ndarray]) -> Identification:
        """Probabilities, most probable speaker and its open-set score, for raw feature sequences."""
        self._check_fitted()
        normalized = self._normalized(sequences)
        probabilities = self.classifier_.predict_proba(normalized)
        nearest = np.argmax(probabilities, axis=1)
        if self.scorer_ is None:
            scores = probabilities.max(axis=1)
        else:
            scores = self.scorer_.scores(self.classifier_.embed(normalized), normalized)
            scores = scores[np.arange(len(nearest)), nearest]
        return Identification(probabilities, nearest, scores.astype(float))

    def answer(self, identification: Identification, *, threshold: float | None = None) -> np.ndarray:
        """Speaker names; `UNKNOWN` where the open-set score is below `threshold` (default the model's)."""
        threshold = self.threshold_ if threshold is None else threshold
        names = self.classes_[identification.nearest].astype(object)
        names[identification.scores < threshold] = UNKNOWN
        return names.astype(str)

    def _check_threshold(self, threshold: float | None) -> None:
        low = 0.0 if self.scorer_ is None else -1.0
        if threshold is not None and not low <= threshold <= 1:
            raise ParameterError(f"threshold must be a score in [{low:g}, 1] for this model; got {threshold!r}.")

    def classify_files(
        self,
        paths: Sequence[str | os.PathLike[str]],
        *,
        threshold: float | None = None,
        workers: int = 1,
    ) -> tuple[list[Classification], list[Failure]]:
        """Who spoke each file; unusable files come back as failures, in input order.

        Parameters
        ----------
        paths : sequence of path-like
        threshold : float, default=None
            Open-set score below which the answer is `UNKNOWN`; None uses the model's (``threshold_``).
        workers : int >= 1, default=1
        """
        from .audio import sample_rate_of

        self._check_fitted()
        self._check_threshold(threshold)
        features, failures = extract_files(paths, self.features_, workers=workers, backend=self.feature_backend_)
        good = [i for i, f in enumerate(features) if f is not None]
        if not good:
            return [], failures
        identification = self.identify([f for f in features if f is not None])
        names = self.answer(identification, threshold=threshold)
        used = self.threshold_ if threshold is None else threshold
        results = []
        for row, score, i, name in zip(identification.probabilities, identification.scores, good, names, strict=True):
            first, second = np.argsort(row)[::-1][:2]
            results.append(
                Classification(
                    path=str(paths[i]),
                    speaker=str(name),
                    probability=float(row[first]),
                    nearest=str(self.classes_[first]),
                    runner_up=str(self.classes_[second]),
                    runner_up_probability=float(row[second]),
                    score=float(score),
                    threshold=float(used),
                    sample_rate=sample_rate_of(paths[i]),
                )
            )
        return results, failures

    def evaluate_folder(
        self,
        folder: str | os.PathLike[str],
        *,
        threshold: float | None = None,
        workers: int = 1,
        progress: Progress | None = None,
    ) -> tuple[OpenSetEvaluation, list[Failure]]:
        """Score the model on a labelled folder ``folder/<speaker>/``; speakers it does not know are strangers.

        Returns
        -------
        evaluation : vowels.evaluation.OpenSetEvaluation
            Closed-set accuracy on the enrolled speakers' recordings, and at the threshold
            the shares of them rejected and misnamed, of strangers rejected, and the equal
            error rate when both kinds are present.
        failures : list of Failure
        """
        from .evaluation import evaluate_open_set

        self._check_fitted()
        self._check_threshold(threshold)
        data = load_speaker_folders(
            folder, self.features_, workers=workers, progress=progress, min_speakers=1, backend=self.feature_backend_
        )
        u = data.utterances
        identification = self.identify(u.sequences)
        evaluation = evaluate_open_set(
            u.labels,
            self.classes_[identification.nearest],
            identification.scores,
            enrolled=list(self.classes_),
            threshold=self.threshold_ if threshold is None else threshold,
            sources=u.sources,
            probabilities=identification.probabilities.max(axis=1),
        )
        return evaluation, list(data.failures)

    def save(self, path: str | os.PathLike[str], *, force: bool = False) -> Path:
        """Write the model bundle: the network, and in metadata.json the feature config, normalisation,
        open-set operating point and threshold; the open-set references in ``openset.npz``."""
        self._check_fitted()
        if not hasattr(self.classifier_, "save"):
            raise ParameterError("a model loaded with engine='numpy' cannot be saved; load it with engine='keras'.")
        from .openset import SCORING

        extra = {
            "features": self.features_.to_dict(),
            "source_rates": {str(r): n for r, n in self.source_rates_.items()},
            "normalization": self.normalization_.to_dict(),
            "unknown_threshold": self.threshold_,
            "open_set": {
                "scoring": SCORING if self.scorer_ is not None else "probability",
                "threshold": self.threshold_,
                "threshold_source": "calibrated" if self.operating_point_ is not None else "given",
                "operating_point": None if self.operating_point_ is None else self.operating_point_.to_dict(),
            },
            "validation": self.validation_,
        }
        files = {OPENSET_FILE: self.scorer_.to_npz()} if self.scorer_ is not None else {}
        return self.classifier_.save(path, force=force, metrics=self.validation_, extra=extra, extra_files=files)

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, engine: str = "keras") -> RecordingClassifier:
        """Load a bundle written by `save`, checked as `SpeakerClassifier.load` checks it.

        Parameters
        ----------
        path : path-like
        engine : {"keras", "numpy", "auto"}, default="keras"
            "keras": the Keras model and librosa features, as in training. "numpy":
            `vowels.inference.NumpyClassifier` and `vowels.dsp` features, the same
            probabilities (within 1e-5) without importing TensorFlow, librosa or scikit-learn,
            so a new process answers in well under a second; the model cannot be re-saved.
            "auto": "numpy" if the bundle holds ``weights.npz``, else "keras".
        """
        from .bundle import METADATA_FILE
        from .openset import OpenSetScorer, OperatingPoint

        if engine not in ENGINES:
            raise ParameterError(f"engine must be one of {list(ENGINES)}; got {engine!r}.")
        if engine == "auto":
            from .inference import has_numpy_weights

            engine = "numpy" if has_numpy_weights(path) else "keras"
        classifier: Any
        if engine == "numpy":
            from .inference import NumpyClassifier

            classifier = NumpyClassifier.load(path)
        else:
            from .classifier import SpeakerClassifier

            classifier = SpeakerClassifier.load(path)
        metadata = classifier.metadata_
        if "features" not in metadata:
            raise BundleError(
                f"{Path(path)}: this model was trained on Japanese Vowels sequences, not recordings "
                "(no feature configuration in metadata.json); train one with 'vowels train DIR'."
            )
        where = Path(path) / METADATA_FILE
        try:
            model = cls(
                features=FeatureConfig.from_dict(metadata["features"]),
                mode=classifier.mode,
                n_hidden=classifier.n_hidden,
                random_state=classifier.random_state,
            )
            model.features_ = FeatureConfig.from_dict(metadata["features"])
            model.source_rates_ = {int(r): int(n) for r, n in metadata.get("source_rates", {}).items()}
            model.normalization_ = Normalization.from_dict(metadata["normalization"])
            model.threshold_ = float(metadata["unknown_threshold"])
            model.validation_ = dict(metadata.get("validation", {}))
            point = (metadata.get("open_set") or {}).get("operating_point")
            model.operating_point_ = None if point is None else OperatingPoint.from_dict(point)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise BundleError(f"{where}: missing or invalid recording settings ({exc}).") from None
        if len(model.normalization_.mean) != classifier.n_features_in_:
            raise BundleError(f"{where}: normalisation does not match the model's features.")
        model.scorer_ = None
        if OPENSET_FILE in metadata.get("extra_files", {}):
            scorer = OpenSetScorer.from_npz(Path(path) / OPENSET_FILE)
            if list(scorer.classes) != [str(c) for c in classifier.classes_]:
                raise BundleError(f"{Path(path) / OPENSET_FILE}: enrolled speakers differ from the model's classes.")
            model.scorer_ = scorer
        low = -1.0 if model.scorer_ is not None else 0.0
        if not low <= model.threshold_ <= 1:
            raise BundleError(f"{where}: unknown_threshold {model.threshold_} is outside [{low:g}, 1].")
        model.classifier_ = classifier
        model.failures_ = ()
        model.feature_backend_ = "numpy" if engine == "numpy" else "librosa"
        return model
