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
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .datasets import Utterances
from .errors import BundleError, DataError, ParameterError, VowelsError
from .features import FeatureConfig, Normalization, features_of_file

if TYPE_CHECKING:
    from .evaluation import Evaluation

__all__ = [
    "ENGINES",
    "UNKNOWN",
    "Classification",
    "Extraction",
    "Failure",
    "RecordingClassifier",
    "extract_files",
    "list_speaker_files",
    "load_features",
    "load_speaker_folders",
    "save_features",
]

UNKNOWN = "unknown"
"""The answer when no enrolled speaker reaches the probability threshold."""

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
    """

    utterances: Utterances
    config: FeatureConfig
    failures: tuple[Failure, ...] = ()


def list_speaker_files(folder: str | os.PathLike[str], *, min_speakers: int = 2) -> list[tuple[str, Path]]:
    """(speaker, file) for every recording under ``folder/<speaker>/``, speakers sorted by name.

    Raises
    ------
    DataError
        `folder` is not a folder, has fewer than `min_speakers` speaker subfolders, or a
        speaker folder holds no files.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: not a folder; expected DIR/<speaker>/<recordings>.")
    speakers = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if len(speakers) < min_speakers:
        found = ", ".join(p.name for p in speakers) or "none"
        raise DataError(
            f"{folder}: needs at least {min_speakers} speaker subfolders (DIR/<speaker>/*.wav); "
            f"found {len(speakers)} ({found})."
        )
    pairs: list[tuple[str, Path]] = []
    for speaker in speakers:
        files = sorted(
            p
            for p in speaker.rglob("*")
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(speaker).parts)
        )
        if not files:
            raise DataError(f"{speaker}: speaker folder holds no recordings; add some or remove the folder.")
        pairs.extend((speaker.name, f) for f in files)
    return pairs


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
        Worker processes; 1 works in this process.
    progress : callable(done, total), default=None
        Called after each file.
    backend : {"librosa", "numpy"}, default="librosa"
        Signal processing by librosa or by `vowels.dsp` (see `vowels.features.compute_features`).

    Returns
    -------
    features : list of (np.ndarray of shape (n_frames, n_features)) or None, in `paths` order
    failures : list of Failure, in `paths` order
    """
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ParameterError(f"workers must be a whole number >= 1; got {workers!r}.")
    names = [str(p) for p in paths]
    results: list[tuple[np.ndarray | None, str | None]] = [(None, None)] * len(names)
    settings = config.to_dict()
    if workers == 1 or len(names) <= 1:
        for i, name in enumerate(names):
            results[i] = _features_or_failure(name, settings, backend)
            if progress is not None:
                progress(i + 1, len(names))
    else:
        # "spawn": never fork a process that may hold TensorFlow's threads.
        with ProcessPoolExecutor(max_workers=min(workers, len(names)), mp_context=get_context("spawn")) as pool:
            futures = {pool.submit(_features_or_failure, name, settings, backend): i for i, name in enumerate(names)}
            for done, future in enumerate(as_completed(futures), start=1):
                results[futures[future]] = future.result()
                if progress is not None:
                    progress(done, len(names))
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

    Returns
    -------
    Extraction
        Speakers are the subfolder names, sorted; unusable files are in ``failures``.

    Raises
    ------
    DataError
        Too few speakers, a speaker folder with no files, or one whose every file failed.
    """
    config = FeatureConfig() if config is None else config
    pairs = list_speaker_files(folder, min_speakers=min_speakers)
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
    return Extraction(utterances, config, tuple(failures))


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
    )
    if path.parent and not path.parent.exists():
        path.parent.mkdir(parents=True)
    write_bytes(path, buffer.getvalue(), force=force)
    return path


def load_features(path: str | os.PathLike[str]) -> Extraction:
    """Read a file written by `save_features` (no pickle is ever loaded)."""
    import zipfile

    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            if str(data["format"]) != FEATURES_FORMAT:
                raise DataError(f"{path}: not a vowels features file (format {str(data['format'])!r}).")
            if int(data["format_version"]) != FEATURES_VERSION:
                raise DataError(
                    f"{path}: features format version {int(data['format_version'])} is not supported "
                    f"(this vowels reads {FEATURES_VERSION}); run 'vowels extract' again."
                )
            frames, lengths = data["frames"], data["lengths"]
            labels, speakers, sources = data["labels"], data["speakers"], data["sources"]
            config = FeatureConfig.from_dict(json.loads(str(data["config"])))
    except FileNotFoundError:
        raise DataError(f"{path}: file not found.") from None
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, json.JSONDecodeError) as exc:
        raise DataError(f"{path}: not a readable vowels features file ({exc}).") from None
    if lengths.sum() != len(frames) or frames.ndim != 2 or frames.shape[1] != config.n_features:
        raise DataError(f"{path}: frames and lengths disagree; the file is damaged.")
    sequences = np.split(frames, np.cumsum(lengths)[:-1]) if len(lengths) else []
    utterances = Utterances(
        sequences=[np.ascontiguousarray(s) for s in sequences],
        labels=labels.astype(str),
        speakers=tuple(speakers.astype(str)),
        sources=tuple(sources.astype(str)),
    )
    return Extraction(utterances, config)


@dataclass(frozen=True)
class Classification:
    """Who spoke one recording.

    Attributes
    ----------
    path : str
    speaker : str
        The answer: the most probable speaker, or `UNKNOWN` if below the threshold.
    probability : float
        Probability of the most probable enrolled speaker, in [0, 1].
    nearest : str
        The most probable enrolled speaker, even when the answer is `UNKNOWN`.
    runner_up : str
    runner_up_probability : float
    """

    path: str
    speaker: str
    probability: float
    nearest: str
    runner_up: str
    runner_up_probability: float

    def to_dict(self) -> dict:
        """Plain JSON-ready values."""
        return dict(self.__dict__)


@dataclass
class RecordingClassifier:
    """Features + normalisation + `SpeakerClassifier`, trained on speaker folders.

    Parameters
    ----------
    features : FeatureConfig, default=None
        How to analyse recordings; None means ``FeatureConfig()`` (MFCC). Ignored by `fit`
        on an `Extraction`, which brings its own.
    mode : {"masked", "matlab", "padded"}, default="masked"
        BiLSTM semantics (see `vowels.model`); ``masked`` ignores padding, which recordings
        of very different lengths need.
    n_hidden : int, default=100
        Hidden units per direction.
    epochs : int, default=30
    batch_size : int, default=16
        Utterances per mini-batch (sorted by length, padded to the longest, kept every epoch).
    learn_rate : float, default=1e-3
        Adam's learning rate.
    validation_fraction : float in [0, 1), default=0.2
        Share of each speaker's utterances held out (stratified, seeded) to report accuracy
        and suggest a threshold; 0 trains on everything.
    threshold : float in [0, 1] or "auto", default=0.0
        Below this winning probability the answer is `UNKNOWN`; 0 always names a speaker;
        "auto" takes `suggested_threshold_` from the validation split.
    random_state : int, default=0
    verbose : int, default=0
    """

    features: FeatureConfig | None = None
    mode: str = "masked"
    n_hidden: int = 100
    epochs: int = 30
    batch_size: int = 16
    learn_rate: float = 1e-3
    validation_fraction: float = 0.2
    threshold: float | str = 0.0
    random_state: int = 0
    verbose: int = 0
    validation_: dict = field(default_factory=dict, init=False, repr=False)
    feature_backend_: str = field(default="librosa", init=False, repr=False)

    def _check_params(self) -> None:
        if not 0 <= self.validation_fraction < 1:
            raise ParameterError(f"validation_fraction must be in [0, 1); got {self.validation_fraction!r}.")
        if self.threshold != "auto" and not (isinstance(self.threshold, (int, float)) and 0 <= self.threshold <= 1):
            raise ParameterError(f"threshold must be a probability in [0, 1] or 'auto'; got {self.threshold!r}.")

    def fit(
        self, data: Extraction | str | os.PathLike[str], *, workers: int = 1, progress: Progress | None = None
    ) -> RecordingClassifier:
        """Train on an `Extraction` or a speaker folder; hold out the validation split.

        Sets ``features_``, ``normalization_``, ``classifier_`` (a `SpeakerClassifier`),
        ``validation_`` (accuracy, n, suggested threshold), ``threshold_``, ``failures_``.
        """
        from sklearn.model_selection import train_test_split

        from .classifier import SpeakerClassifier
        from .training import TrainingOptions

        self._check_params()
        options = TrainingOptions(
            max_epochs=self.epochs, mini_batch_size=self.batch_size, initial_learn_rate=self.learn_rate, drop_last=False
        )
        if not isinstance(data, Extraction):
            data = load_speaker_folders(data, self.features, workers=workers, progress=progress)
        u = data.utterances
        if UNKNOWN in u.speakers:
            raise DataError(f"a speaker may not be named {UNKNOWN!r}: that is the answer for no match; rename it.")
        if len(u.speakers) < 2:
            raise DataError(f"training needs at least 2 speakers; got {list(u.speakers)}.")
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
        train = u.subset(np.sort(indices))
        self.features_ = data.config
        self.failures_ = data.failures
        self.normalization_ = (
            Normalization.fit(train.sequences) if data.config.normalize else Normalization.identity(u.n_features)
        )
        self.classifier_ = SpeakerClassifier(
            mode=self.mode,
            n_hidden=self.n_hidden,
            options=options,
            random_state=self.random_state,
            verbose=self.verbose,
        )
        start = time.perf_counter()
        self.classifier_.fit(self._normalized(train.sequences), train.labels)
        self.validation_ = {"train_seconds": round(time.perf_counter() - start, 3), "n_train": len(train)}
        if len(validation):
            held = u.subset(np.sort(validation))
            probabilities = self.predict_proba(held.sequences)
            predicted = self.classifier_.classes_[np.argmax(probabilities, axis=1)]
            correct = predicted == held.labels
            top = probabilities.max(axis=1)
            self.validation_.update(
                accuracy=float(correct.mean()),
                n_correct=int(correct.sum()),
                n_validation=int(len(held)),
                # keeps 95 % of the validation utterances the model names correctly
                suggested_threshold=float(np.quantile(top[correct], 0.05)) if correct.any() else 0.0,
            )
        self.threshold_ = (
            self.validation_.get("suggested_threshold", 0.0) if self.threshold == "auto" else float(self.threshold)
        )
        return self

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

    def answer(self, probabilities: np.ndarray, *, threshold: float | None = None) -> np.ndarray:
        """Speaker names for rows of probabilities; `UNKNOWN` where the best is below `threshold`."""
        threshold = self.threshold_ if threshold is None else threshold
        names = self.classes_[np.argmax(probabilities, axis=1)].astype(object)
        names[probabilities.max(axis=1) < threshold] = UNKNOWN
        return names.astype(str)

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
        threshold : float in [0, 1], default=None
            None uses the model's (``threshold_``).
        workers : int >= 1, default=1
        """
        self._check_fitted()
        if threshold is not None and not 0 <= threshold <= 1:
            raise ParameterError(f"threshold must be a probability in [0, 1]; got {threshold!r}.")
        features, failures = extract_files(paths, self.features_, workers=workers, backend=self.feature_backend_)
        good = [i for i, f in enumerate(features) if f is not None]
        if not good:
            return [], failures
        probabilities = self.predict_proba([f for f in features if f is not None])
        names = self.answer(probabilities, threshold=threshold)
        results = []
        for row, i, name in zip(probabilities, good, names, strict=True):
            first, second = np.argsort(row)[::-1][:2]
            results.append(
                Classification(
                    path=str(paths[i]),
                    speaker=str(name),
                    probability=float(row[first]),
                    nearest=str(self.classes_[first]),
                    runner_up=str(self.classes_[second]),
                    runner_up_probability=float(row[second]),
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
    ) -> tuple[Evaluation, list[Failure]]:
        """Score the model on a labelled folder ``folder/<speaker>/`` of enrolled speakers.

        Returns
        -------
        evaluation : vowels.evaluation.Evaluation
        failures : list of Failure
        """
        from .evaluation import evaluate_predictions

        self._check_fitted()
        data = load_speaker_folders(
            folder, self.features_, workers=workers, progress=progress, min_speakers=1, backend=self.feature_backend_
        )
        strangers = sorted(set(data.utterances.speakers) - set(self.classes_))
        if strangers:
            raise DataError(
                f"{folder}: speakers {strangers} are not enrolled in this model (it knows "
                f"{list(self.classes_)}); remove or rename those folders."
            )
        predicted = self.answer(self.predict_proba(data.utterances.sequences), threshold=threshold)
        speakers = [*self.classes_, UNKNOWN] if UNKNOWN in predicted else list(self.classes_)
        return evaluate_predictions(data.utterances.labels, predicted, speakers=speakers), list(data.failures)

    def save(self, path: str | os.PathLike[str], *, force: bool = False) -> Path:
        """Write the model bundle, with the feature config, normalisation and threshold in metadata.json."""
        self._check_fitted()
        if not hasattr(self.classifier_, "save"):
            raise ParameterError("a model loaded with engine='numpy' cannot be saved; load it with engine='keras'.")
        extra = {
            "features": self.features_.to_dict(),
            "normalization": self.normalization_.to_dict(),
            "unknown_threshold": self.threshold_,
            "validation": self.validation_,
        }
        return self.classifier_.save(path, force=force, metrics=self.validation_, extra=extra)

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
        try:
            model = cls(
                features=FeatureConfig.from_dict(metadata["features"]),
                mode=classifier.mode,
                n_hidden=classifier.n_hidden,
                random_state=classifier.random_state,
            )
            model.features_ = FeatureConfig.from_dict(metadata["features"])
            model.normalization_ = Normalization.from_dict(metadata["normalization"])
            model.threshold_ = float(metadata["unknown_threshold"])
            model.validation_ = dict(metadata.get("validation", {}))
        except (KeyError, TypeError, ValueError) as exc:
            raise BundleError(f"{Path(path) / METADATA_FILE}: missing or invalid recording settings ({exc}).") from None
        if len(model.normalization_.mean) != classifier.n_features_in_:
            raise BundleError(f"{Path(path) / METADATA_FILE}: normalisation does not match the model's features.")
        model.classifier_ = classifier
        model.failures_ = ()
        model.feature_backend_ = "numpy" if engine == "numpy" else "librosa"
        return model
