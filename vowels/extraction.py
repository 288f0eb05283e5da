"""Features of folders of recordings (``DIR/<speaker>/*.wav``, .flac, .mp3, ...): finding the files, extracting
in parallel through joblib (so ``joblib.parallel_config(backend="dask")`` moves it onto a cluster), the ``.npz``
format. A file that cannot be used is reported and skipped; it never stops the rest.
"""

from __future__ import annotations

import errno
import io
import json
import os
import stat
import sys
import warnings
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from tokenize import TokenError

import numpy as np

from .audio import readable_extensions, sample_rate_of
from .datasets import Utterances
from .errors import DataError, UsageError, VowelsError, unreadable
from .features import FeatureConfig, features_of_file
from .files import FORMAT_VERSION, check_format_version, check_free, check_writable, write_bytes
from .limits import cap_workers
from .validation import check_int

__all__ = [
    "Extraction",
    "Failure",
    "analysis_rate",
    "check_features_out",
    "extract_files",
    "list_recordings",
    "list_speaker_files",
    "load_features",
    "load_speaker_folders",
    "save_features",
    "training_data",
]

FEATURES_FORMAT = "vowels-features"
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Failure:
    """A file that could not be used, and why (a one-line message naming it)."""

    path: str
    message: str


@dataclass(frozen=True)
class Extraction:
    """Features of recordings (before deltas and standardisation), their `config`, the files skipped
    (`failures`) and how many files were recorded at each sample rate in Hz (`source_rates`); the
    `utterances` hold one (n_frames, n_features) sequence per usable file, sources are paths."""

    utterances: Utterances
    config: FeatureConfig
    failures: tuple[Failure, ...] = ()
    source_rates: dict[int, int] = field(default_factory=dict)

    def __repr__(self) -> str:
        """One line, not the arrays."""
        return (
            f"Extraction({self.config.kind} at {self.config.sample_rate} Hz, {self.utterances!r}, "
            f"{len(self.failures)} files skipped)"
        )

    def describe_rates(self) -> str:
        """E.g. "recorded at 8000 Hz (2400 files); features computed at 8000 Hz"."""
        source_rates, rate = self.source_rates, self.config.sample_rate
        if not source_rates:
            return f"features computed at {rate} Hz"
        found = ", ".join(f"{r} Hz ({n} file{'s' if n != 1 else ''})" for r, n in sorted(source_rates.items()))
        above = sum(n for r, n in source_rates.items() if r > rate)
        below = sum(n for r, n in source_rates.items() if r < rate)
        notes = [f"{above} resampled down"] if above else []
        notes += [f"{below} upsampled, so their features above {min(source_rates) // 2} Hz are empty"] if below else []
        return f"recorded at {found}; features computed at {rate} Hz" + (f" ({'; '.join(notes)})" if notes else "")


def analysis_rate(config: FeatureConfig, rates: Iterable[int]) -> FeatureConfig:
    """`config` at the lowest of `rates` in Hz (not below 8000 Hz) when that is below its own, so that no mel band
    describes an upsampler; windows and hops in ms are unchanged."""
    rate = max(min(rates, default=config.sample_rate), 8000)
    return replace(config, sample_rate=rate) if rate < config.sample_rate else config


AUDIO_SUFFIXES = (".aac", ".amr", ".m4a", ".mp4", ".opus", ".webm", ".wma")  # ffmpeg reads them, not libsndfile


def _is_audio_file(path: str | os.PathLike[str]) -> bool:
    """Whether `path` is a regular file that is, or is named like, a recording (by its header or extension)."""
    suffix = Path(path).suffix.lower()
    return Path(path).is_file() and (
        suffix in readable_extensions() or suffix in AUDIO_SUFFIXES or sample_rate_of(path) is not None
    )


def _not_a_folder(folder: Path) -> DataError:
    """The error for a data folder that is not one, saying what it is."""
    expected = "expected a folder of speaker folders, DIR/<speaker>/<recordings>"
    if _is_audio_file(folder):
        use = "to name the speaker of single recordings, use 'vowels classify'"
        return DataError(f"{folder}: an audio file, not a folder; {expected} ({use}).")
    if not folder.exists():
        what = f"{_unusable_entry(folder)}, not a folder" if folder.is_symlink() else "not found"
    else:
        what = "a file, not a folder" if folder.is_file() else "not a folder"
    return DataError(f"{folder}: {what}; {expected}.")


def _unusable_entry(path: Path) -> str:
    """What `path` is, when it is neither a regular file nor a folder once links are followed."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        if not path.is_symlink():
            return f"unreadable ({exc.strerror})"
        if exc.errno == errno.ELOOP:
            return "a symbolic link loop (following it never reaches a file)"
        reason = "does not exist" if exc.errno == errno.ENOENT else f"cannot be reached: {exc.strerror}"
        return f"a broken symbolic link (its target {os.readlink(path)} {reason})"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return {stat.S_IFIFO: "a named pipe", stat.S_IFSOCK: "a socket"}.get(stat.S_IFMT(mode), "not a regular file")


def _recordings_of(speaker: Path) -> tuple[list[Path], list[Failure]]:
    """The files under `speaker` (hidden ones left out, links to folders not followed), and the entries skipped."""
    files: list[Path] = []
    skipped: list[Failure] = []
    linked = "symbolic link to a folder, which is not followed; move or copy the recordings into the speaker folder."

    def skip(path: object, message: str) -> None:
        skipped.append(Failure(str(path), f"{path}: {message}"))

    def unlistable(exc: OSError) -> None:
        skip(exc.filename or speaker, f"cannot list this folder ({exc.strerror}); skipped.")

    for root, dirs, names in os.walk(speaker, onerror=unlistable):
        here = Path(root)
        for link in sorted(here / d for d in dirs if not d.startswith(".") and (here / d).is_symlink()):
            skip(link, linked)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not (here / d).is_symlink())
        for path in (here / name for name in names if not name.startswith(".")):
            if path.is_file():
                files.append(path)
            else:
                fix = "fix or remove the link" if path.is_symlink() else "recordings must be regular files"
                skip(path, f"{_unusable_entry(path)}, not a recording; {fix}.")
    return sorted(files), sorted(skipped, key=lambda f: f.path)


def _find_speaker_files(
    folder: str | os.PathLike[str], *, min_speakers: int = 2
) -> tuple[list[tuple[str, Path]], list[Failure]]:
    """`list_speaker_files`, and a `Failure` for each entry skipped but hidden ones and files directly in `folder`."""
    folder = Path(folder)
    if not folder.is_dir():
        raise _not_a_folder(folder)
    entries = [e for e in sorted(folder.iterdir()) if not e.name.startswith(".")]
    speakers = [e for e in entries if e.is_dir()]
    skipped = [
        Failure(str(e), f"{e}: {_unusable_entry(e)}, not read as a speaker folder; fix or remove the link.")
        for e in entries
        if not e.is_dir() and e.is_symlink() and not e.exists()
    ]
    if len(speakers) < min_speakers:
        found = f"{len(speakers)} ({', '.join(p.name for p in speakers)})" if speakers else "none"
        also = f" Skipped: {skipped[0].message}" if skipped else ""
        n = sum(map(_is_audio_file, entries))
        if n and not speakers:
            also = (
                f" It holds {n} recording{'s' if n != 1 else ''} itself, like one speaker's folder: give the folder "
                f"above it ({folder.parent}), which holds a folder per speaker.{also}"
            )
        raise DataError(
            f"{folder}: needs at least {min_speakers} speaker subfolder{'s' if min_speakers != 1 else ''} "
            f"(DIR/<speaker>/*.wav); found {found}.{also}"
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
    """(speaker, file) for every recording under ``folder/<speaker>/``, speakers sorted by name; hidden entries,
    files directly in `folder` and entries that cannot be recordings (broken or looping links, links to folders,
    special files; `load_speaker_folders` reports these) are left out.

    Raises
    ------
    DataError
        `folder` is not a folder, has fewer than `min_speakers` speaker subfolders, or a speaker folder holds no files.
    """
    return _find_speaker_files(folder, min_speakers=min_speakers)[0]


def list_recordings(paths: Iterable[str | os.PathLike[str]]) -> tuple[list[str], list[Failure]]:
    """The recordings `paths` name, in order: each file as given, each folder replaced by the audio files under it
    (by header or name, sorted); and a `Failure` for each folder without audio and each entry that cannot be one."""
    found: list[str] = []
    skipped: list[Failure] = []
    for path in paths:
        if not Path(path).is_dir():
            found.append(str(path))
            continue
        files, not_files = _recordings_of(Path(path))
        audio = [str(f) for f in files if _is_audio_file(f)]
        skipped.extend(not_files)
        if not audio:
            others = f" ({len(files)} other file{'s' if len(files) != 1 else ''} left out)" if files else ""
            skipped.append(Failure(str(path), f"{path}: folder holds no audio files{others}; skipped."))
        found.extend(audio)
    return found, skipped


def _features_or_failure(path: str, config: dict, dsp: str) -> tuple[np.ndarray | None, str | None]:
    """Worker: the features of one file, or the one-line reason it cannot be used."""
    try:
        path.encode(sys.getfilesystemencoding())  # as libsndfile's Python binding does, strictly
        return features_of_file(path, FeatureConfig.from_dict(config), dsp=dsp), None
    except UnicodeEncodeError:
        return None, f"{path}: file name is not valid UTF-8, which the audio decoder cannot open; rename it."
    except VowelsError as exc:
        return None, str(exc)


def _cap_jobs(n_jobs: int) -> int:
    """`n_jobs` (-1: every CPU) capped to the CPUs available with a `RuntimeWarning`; left alone on a remote backend."""
    if n_jobs != -1 or not isinstance(n_jobs, int):
        check_int(n_jobs, "n_jobs", hint="or -1 for every CPU")
    from joblib.parallel import get_active_backend

    backend, _ = get_active_backend()
    if type(backend).__name__ not in ("LokyBackend", "MultiprocessingBackend", "ThreadingBackend", "SequentialBackend"):
        return n_jobs
    n_jobs, lowered = cap_workers(n_jobs)
    if lowered is not None:
        warnings.warn(lowered, RuntimeWarning, stacklevel=3)
    return n_jobs


def extract_files(
    paths: Sequence[str | os.PathLike[str]],
    config: FeatureConfig,
    *,
    n_jobs: int = 1,
    progress: Progress | None = None,
    dsp: str = "librosa",
) -> tuple[list[np.ndarray | None], list[Failure]]:
    """Features of many files, in parallel; a bad file gives None and a `Failure`, not an error.

    Parameters
    ----------
    paths : sequence of path-like
    config : FeatureConfig
    n_jobs : int, default=1
        Parallel jobs through joblib (-1: every CPU, more than there are lowered with a `RuntimeWarning`).
    progress : callable(done, total), default=None
        Called after each file.
    dsp : {"librosa", "numpy"}, default="librosa"
        Signal processing by librosa or by `vowels.dsp`.

    Returns
    -------
    features : list of (np.ndarray of shape (n_frames, n_features)) or None, in `paths` order
    failures : list of Failure, in `paths` order
    """
    n_jobs = _cap_jobs(n_jobs) if n_jobs != 1 else 1
    names, settings = [str(p) for p in paths], config.to_dict()
    results: Iterable[tuple[np.ndarray | None, str | None]] = (_features_or_failure(n, settings, dsp) for n in names)
    if n_jobs != 1 and len(names) > 1:
        from joblib import Parallel, delayed

        results = Parallel(n_jobs=min(n_jobs, len(names)) if n_jobs > 0 else n_jobs, return_as="generator")(
            delayed(_features_or_failure)(n, settings, dsp) for n in names
        )
    features: list[np.ndarray | None] = []
    failures = []
    for done, (name, (feature, problem)) in enumerate(zip(names, results, strict=True), start=1):
        features.append(feature)
        failures += [Failure(name, problem)] if problem is not None else []
        if progress is not None:
            progress(done, len(names))
    return features, failures


def load_speaker_folders(
    folder: str | os.PathLike[str],
    config: FeatureConfig | None = None,
    *,
    n_jobs: int = 1,
    progress: Progress | None = None,
    min_speakers: int = 2,
    dsp: str = "librosa",
    match_rate: bool = False,
) -> Extraction:
    """Features of every recording under ``folder/<speaker>/``, labelled by speaker.

    Parameters
    ----------
    folder : path-like
    config : FeatureConfig, default=None
        None means ``FeatureConfig()`` (MFCC).
    n_jobs, progress, dsp
        As in `extract_files`.
    min_speakers : int, default=2
        Fewest speaker folders accepted.
    match_rate : bool, default=False
        Compute features at the folder's lowest sample rate when below ``config.sample_rate`` (`analysis_rate`).

    Raises
    ------
    DataError
        Too few speakers, a speaker folder with no files, or one whose every file failed.
    """
    config = FeatureConfig() if config is None else config
    pairs, skipped = _find_speaker_files(folder, min_speakers=min_speakers)
    rates = dict(sorted(Counter(r for r in map(sample_rate_of, (p for _, p in pairs)) if r is not None).items()))
    if match_rate:
        config = analysis_rate(config, rates)
    features, failures = extract_files([p for _, p in pairs], config, n_jobs=n_jobs, progress=progress, dsp=dsp)
    speakers = tuple(sorted({s for s, _ in pairs}))
    kept = [i for i, f in enumerate(features) if f is not None]
    problems = {f.path: f.message for f in failures}
    for speaker in sorted(set(speakers) - {pairs[i][0] for i in kept}):
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
    """Write features (concatenated ``frames`` and their ``lengths``), labels, speakers, sources and the config to
    one compressed ``.npz`` that loads without pickle, atomically; an existing file is replaced only if `force`."""
    path = Path(path)
    u = extraction.utterances
    frames = np.concatenate(u.sequences, axis=0) if len(u) else np.zeros((0, extraction.config.n_features))
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        format=np.array(FEATURES_FORMAT),
        format_version=np.array(FORMAT_VERSION),
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


def check_features_out(path: str | os.PathLike[str], *, force: bool = False) -> None:
    """Refuse, before any feature is computed, a features file `path` that is a folder, exists (unless `force`) or
    cannot be written."""
    path = Path(path)
    if path.is_dir():
        raise UsageError(f"--out {path} is a folder; name a features file to write, e.g. {path / 'features.npz'}")
    check_free(path, force=force)
    check_writable(path.parent)


def training_data(
    source: str | os.PathLike[str],
    *,
    kind: str | None = None,
    sample_rate: int | None = None,
    n_jobs: int = 1,
    progress: Progress | None = None,
) -> Extraction:
    """What a model is trained on: a features file from `save_features`, whose settings `kind` and
    `sample_rate` must match where given, or the features of a folder of speaker folders (`kind` default
    ``"mfcc"``; no `sample_rate`: the folder's lowest rate if below the kind's, `load_speaker_folders`)."""
    source = Path(source)
    if _is_audio_file(source):
        raise UsageError(
            f"{source} is an audio file, not a features file; train takes a folder of speaker folders "
            "(DIR/<speaker>/<recordings>, e.g. DIR/alice/ah.wav) or a features .npz written by 'vowels extract' "
            "(see 'vowels train --help')"
        )
    if not source.is_file():
        config = FeatureConfig(kind=kind or "mfcc", sample_rate=sample_rate)  # type: ignore[arg-type]  # None: the kind's rate
        return load_speaker_folders(source, config, n_jobs=n_jobs, progress=progress, match_rate=sample_rate is None)
    data = load_features(source)
    asked = {"--kind": (kind, data.config.kind), "--sample-rate": (sample_rate, data.config.sample_rate)}
    for option, (wanted, found) in asked.items():
        if wanted is not None and wanted != found:
            raise UsageError(
                f"{option} {wanted} does not match {source}, whose features were extracted with {option} "
                f"{found}; drop {option}, or run 'vowels extract' again with it."
            )
    return data


_WRITE_FEATURES = (
    "features files are written by 'vowels extract DIR --out FILE.npz' from a folder of speaker folders DIR, "
    "which 'vowels train' also takes itself"
)


def _not_an_archive(path: Path) -> str | None:
    """What `path` is when it is not a zip archive (as every .npz is), "damaged" for a broken one, else None."""
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
    if _is_audio_file(path):
        return "an audio file"
    return "not an .npz archive at all"


def load_features(path: str | os.PathLike[str]) -> Extraction:
    """Read a file written by `save_features` (no pickle is ever loaded).

    Raises
    ------
    DataError
        `path` is missing, not a features file or damaged; the message says which.
    """
    damaged = (OSError, ValueError, TypeError, LookupError, EOFError, MemoryError, RuntimeError, SyntaxError)
    path = Path(path)
    try:
        what = _not_an_archive(path)
    except FileNotFoundError:
        raise DataError(f"{path}: file not found.") from None
    except OSError as exc:
        raise unreadable(path, exc) from None
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
            check_format_version(int(data["format_version"]), path, "vowels extract", error=DataError)
            frames, lengths = data["frames"], data["lengths"]
            labels, speakers, sources = data["labels"], data["speakers"], data["sources"]
            config = FeatureConfig.from_dict(json.loads(str(data["config"])))
            rates = {int(r): int(n) for r, n in data["source_rates"]}
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
    except (*damaged, TokenError, zlib.error, zipfile.BadZipFile) as exc:
        if isinstance(exc, ValueError) and "allow_pickle" in str(exc):
            raise DataError(
                f"{path}: not a vowels features file (it holds pickled Python objects, which vowels never "
                f"loads); {_WRITE_FEATURES}."
            ) from None
        raise DataError(
            f"{path}: damaged vowels features file ({exc}); run 'vowels extract' again to rewrite it."
        ) from None
    return Extraction(utterances, config, source_rates=rates)
