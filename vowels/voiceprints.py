"""Speakers enrolled by the pretrained encoder (`vowels.speaker_encoder`) in seconds, with no network to train: a
recording's score for a speaker is a similarity of its embedding to theirs (`choose_scoring`), the answer the
best-scoring speaker or ``unknown`` below a threshold fitted to the enrolment recordings alone (`calibration_scores`,
`vowels.openset.gaussian_eer_threshold`). docs/speech.md tells how each choice was measured.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .audio import MAX_SECONDS, read_audio
from .bundle import ModelFolder, bundle_entries, metadata_digest, read_folder_metadata, write_metadata
from .errors import BundleError, DataError, NotFittedError, VowelsError
from .extraction import Failure, Progress, list_speaker_files
from .files import FORMAT_VERSION, atomic_folder, sha256_of
from .names import UNKNOWN
from .openset import SpeakerScorer, ThresholdChoice, gaussian_eer_threshold
from .speaker_encoder import SAMPLE_RATE, Embedding, load_encoder, provenance
from .validation import check_choice, check_seconds, check_threshold
from .voice_activity import has_speech

__all__ = [
    "DEFAULT_THRESHOLD",
    "MIN_CALIBRATION",
    "VOICEPRINT_FORMAT",
    "VoiceAnswer",
    "VoiceprintClassifier",
    "VoiceprintScorer",
    "calibration_scores",
    "choose_scoring",
    "embed_paths",
]

VOICEPRINT_FORMAT = "vowels-voiceprints"
VOICEPRINTS_FILE = "voiceprints.npz"
VOICEPRINT_MODEL = ModelFolder(
    VOICEPRINT_FORMAT, "voiceprint model", "model", "enrol one with 'vowels enrol DIR'", "enrol again", "vowels enrol"
)
DEFAULT_THRESHOLD = 0.75
"""Cosine below which a recording is a stranger when the enrolment is too small to calibrate: the low end of the
thresholds fitted on LibriSpeech development partitions (0.75-0.79)."""
MIN_CALIBRATION = 10
"""Fewest genuine and fewest stranger calibration scores from which a threshold is fitted."""
COHORT_MIN_SPEAKERS = 10  # cohort normalisation helped with 10-20 speakers, hurt with 3-5
WCCN_MIN_RECORDINGS = 3  # per speaker, so that each calibration fold leaves two
WCCN_REGULARIZATION = 1.0  # chosen on FSDD repetitions 30-39, five speakers enrolled on 10-14 (0.01-10 tried)
WCCN_NEIGHBOURS = 5  # a speaker's nearest enrolment recordings, whose whitened cosines are averaged
CALIBRATION_FOLDS = 5
SCORINGS = ("cosine", "cohort", "wccn")
SCALES = {
    "cosine": "cosine",
    "cohort": "cosine less the mean cosine to the other speakers",
    "wccn": f"cosine after whitening the within-speaker variation, to the {WCCN_NEIGHBOURS} nearest recordings",
}
"""What a score of each scoring is, as `vowels.openset.ThresholdChoice.describe` says it."""


def choose_scoring(counts: Mapping[str, int]) -> str:
    """The scoring (`SCORINGS`) for speakers enrolled with ``counts[speaker]`` recordings each: ``cohort`` from
    `COHORT_MIN_SPEAKERS` speakers, ``wccn`` when every one has `WCCN_MIN_RECORDINGS`, else ``cosine``."""
    if len(counts) >= COHORT_MIN_SPEAKERS:
        return "cohort"
    if len(counts) >= 2 and min(counts.values()) >= WCCN_MIN_RECORDINGS:
        return "wccn"
    return "cosine"


@dataclass(frozen=True)
class VoiceprintScorer:
    """Scores of encoder embeddings for enrolled speakers, by one of `SCORINGS` (`choose_scoring`).

    Attributes
    ----------
    scoring : str
    speakers : tuple of str
        In score-column order.
    voiceprints : np.ndarray of shape (n_speakers, 256)
        Each speaker's L2-normed mean embedding.
    wccn : SpeakerScorer or None
        The whitened references, for ``wccn`` scoring.
    embeddings : np.ndarray of shape (n, 256), labels : np.ndarray of str, shape (n,)
        The enrolment recordings it was fitted to, from which it is fitted again when read back.
    """

    scoring: str
    speakers: tuple[str, ...]
    voiceprints: np.ndarray
    wccn: SpeakerScorer | None
    embeddings: np.ndarray
    labels: np.ndarray

    @classmethod
    def fit(
        cls,
        embeddings: np.ndarray,
        labels: Sequence[str] | np.ndarray,
        speakers: Sequence[str] | np.ndarray,
        scoring: str,
    ) -> VoiceprintScorer:
        """Voiceprints of `speakers` from their recordings' `embeddings` (n, 256) and `labels`."""
        check_choice(scoring, "scoring", SCORINGS)
        speakers = tuple(str(s) for s in speakers)
        embeddings = np.asarray(embeddings, dtype=np.float32)
        labels = np.asarray(labels).astype(str)
        means = np.array([embeddings[labels == s].mean(axis=0) for s in speakers], dtype=np.float32)
        means = means.reshape(-1, embeddings.shape[1])
        voiceprints = means / np.maximum(np.linalg.norm(means, axis=-1, keepdims=True), 1e-12)
        wccn = None
        if scoring == "wccn":
            wccn = SpeakerScorer.fit(embeddings, labels, speakers, regularization=WCCN_REGULARIZATION)
        return cls(scoring, speakers, voiceprints, wccn, embeddings, labels)

    def scores(self, vectors: np.ndarray) -> np.ndarray:
        """Scores (n, n_speakers) of embeddings (n, 256), in ``speakers`` order."""
        vectors = np.asarray(vectors, dtype=np.float32)
        if self.wccn is not None:
            return self.wccn.scores(vectors, neighbours=WCCN_NEIGHBOURS)
        cosines = vectors @ self.voiceprints.T
        if self.scoring != "cohort" or len(self.speakers) < 2:
            return cosines
        return cosines - (cosines.sum(axis=-1, keepdims=True) - cosines) / (len(self.speakers) - 1)


def calibration_scores(
    embeddings: np.ndarray, labels: Sequence[str] | np.ndarray, scoring: str
) -> tuple[np.ndarray, np.ndarray]:
    """Genuine and stranger scores of enrolment recordings, as new recordings would score.

    Genuine: each recording for its own speaker, by voiceprints made without its fold (speaker's i-th recording in
    fold i mod `CALIBRATION_FOLDS`). Stranger: each recording's best score among the other speakers' voiceprints
    (none with a single speaker)."""
    labels = np.asarray(labels).astype(str)
    speakers = sorted(set(labels.tolist()))
    rank = np.zeros(len(labels), dtype=int)
    for speaker in speakers:
        rank[labels == speaker] = np.arange(np.sum(labels == speaker))
    genuine: list[float] = []
    for fold in range(CALIBRATION_FOLDS):
        held = rank % CALIBRATION_FOLDS == fold
        known = sorted(set(labels[~held].tolist()))
        rows = np.flatnonzero(held & np.isin(labels, known))
        if len(rows):
            scores = VoiceprintScorer.fit(embeddings[~held], labels[~held], known, scoring).scores(embeddings[rows])
            genuine += [float(scores[i, known.index(labels[r])]) for i, r in enumerate(rows)]
    impostor: list[float] = []
    for speaker in speakers if len(speakers) >= 2 else ():
        own = labels == speaker
        others = [s for s in speakers if s != speaker]
        scorer = VoiceprintScorer.fit(embeddings[~own], labels[~own], others, scoring)
        impostor += scorer.scores(embeddings[own]).max(axis=1).tolist()
    return np.array(genuine), np.array(impostor)


@dataclass(frozen=True)
class VoiceAnswer:
    """Who spoke one recording, by voiceprint.

    Attributes
    ----------
    path : str
    speaker : str
        `nearest`, or ``unknown`` below the threshold or without speech.
    nearest, runner_up : str
        The best and second-best enrolled speakers ("" when only one is enrolled).
    score, runner_up_score : float
        Their scores (`VoiceprintClassifier.scores`), in [-1, 1] (None for no runner-up).
    threshold : float
    speech : bool
        False when no speech was found (noise, a tone); the answer is then ``unknown``.
    seconds : float
        Length of the recording as read, in s.
    windows : list of dict
        Each 1.6 s window's ``start`` and ``end`` in s, ``nearest`` speaker, answer (``speaker``) and ``score``.
    """

    path: str
    speaker: str
    nearest: str
    score: float
    runner_up: str
    runner_up_score: float | None
    threshold: float
    speech: bool
    seconds: float
    windows: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        """Plain JSON-ready values."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class Heard:
    """One recording as read: its embedding (None for silence), whether it holds speech, its length in s."""

    embedding: Embedding | None
    speech: bool
    seconds: float


@dataclass
class VoiceprintClassifier:
    """Enrol speakers from recordings with the pretrained encoder; name the speaker of new ones.

    Parameters
    ----------
    threshold : float in [-1, 1] or "auto", default="auto"
        Score below which the answer is ``unknown``, on the scale of ``scoring_`` (`SCALES`); -1 always
        names a speaker. "auto" fits it to the enrolment recordings, or is `DEFAULT_THRESHOLD` when too few.
    max_seconds : float > 0, default=`MAX_SECONDS`
        Longest recording read, in s.
    """

    threshold: float | str = "auto"
    max_seconds: float = MAX_SECONDS
    speakers_: tuple[str, ...] = field(default=(), init=False)
    embeddings_: np.ndarray = field(default_factory=lambda: np.zeros((0, 256), np.float32), init=False, repr=False)
    labels_: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=str), init=False, repr=False)
    sources_: tuple[str, ...] = field(default=(), init=False, repr=False)
    calibration_: dict = field(default_factory=dict, init=False, repr=False)

    def _check_params(self) -> None:
        check_threshold(self.threshold, auto=True)
        check_seconds(self.max_seconds, "max_seconds")

    def embed_files(
        self, paths: Sequence[str | os.PathLike[str]], *, progress: Progress | None = None
    ) -> tuple[list[Heard | None], list[Failure]]:
        """What the encoder hears in each file, up to `max_seconds` long, in `paths` order: None for a file that
        cannot be read, with a `Failure` naming it. Silence is heard, as no speech."""
        encoder = load_encoder()
        results: list[Heard | None] = []
        failures = []
        for done, path in enumerate(paths, start=1):
            try:
                samples = read_audio(path, sr=SAMPLE_RATE, dsp="numpy", max_seconds=self.max_seconds, silence_ok=True)
                speech = len(samples) > 0 and has_speech(samples, SAMPLE_RATE)
                embedding = encoder.embed_samples(samples) if len(samples) else None
                results.append(Heard(embedding, speech, len(samples) / SAMPLE_RATE))
            except VowelsError as exc:
                results.append(None)
                failures.append(Failure(str(path), str(exc)))
            if progress is not None:
                progress(done, len(paths))
        return results, failures

    def fit(
        self,
        data: str | os.PathLike[str] | Mapping[str, Sequence[str | os.PathLike[str]]],
        *,
        progress: Progress | None = None,
    ) -> VoiceprintClassifier:
        """Enrol every speaker of a folder ``data/<speaker>/`` (or a mapping speaker -> files); sets ``speakers_``,
        ``embeddings_``, ``labels_``, ``sources_``, ``threshold_``, ``calibration_`` and ``failures_`` (files that
        could not be used)."""
        self._check_params()
        if isinstance(data, Mapping):
            pairs = [(str(s), Path(p)) for s, paths in data.items() for p in paths]
            if not pairs:
                raise DataError("no recordings given to enrol.")
        else:
            pairs = list_speaker_files(data, min_speakers=1)
        for speaker in sorted({s for s, _ in pairs}):
            _check_name(speaker, where=None if isinstance(data, Mapping) else Path(data) / speaker)
        vectors, kept, failures = self._heard([p for _, p in pairs], progress)
        for speaker in sorted({s for s, _ in pairs} - {pairs[i][0] for i in kept}):
            first = next(f.message for f in failures if any(s == speaker and str(p) == f.path for s, p in pairs))
            raise DataError(f"{speaker}: none of this speaker's recordings could be used (first problem: {first}).")
        self.embeddings_ = vectors
        self.labels_ = np.array([pairs[i][0] for i in kept], dtype=str)
        self.sources_ = tuple(str(pairs[i][1]) for i in kept)
        self.failures_ = tuple(failures)
        self._update()
        return self

    def _heard(
        self, paths: Sequence[str | os.PathLike[str]], progress: Progress | None = None
    ) -> tuple[np.ndarray, list[int], list[Failure]]:
        """Embeddings (n_kept, 256) of the files in which speech was heard, their indices, and the failures."""
        results, failures = self.embed_files(paths, progress=progress)
        failures += [
            Failure(str(p), f"{p}: no speech found (silence, noise or a tone); not enrolled.")
            for p, r in zip(paths, results, strict=True)
            if r is not None and not r.speech
        ]
        kept = [i for i, r in enumerate(results) if r is not None and r.speech and r.embedding is not None]
        vectors = [r.embedding.vector for r in results if r is not None and r.speech and r.embedding is not None]
        return np.array(vectors, dtype=np.float32).reshape(-1, 256), kept, failures

    def add_speaker(self, name: str, paths: Sequence[str | os.PathLike[str]]) -> list[Failure]:
        """Enrol (or re-enrol, replacing) one speaker from `paths`; the threshold is re-fitted."""
        self._check_params()
        _check_name(name)
        vectors, kept, failures = self._heard(paths)
        if not kept:
            first = failures[0].message if failures else "no files given"
            raise DataError(f"{name}: none of the recordings could be used (first problem: {first}).")
        self._keep(self.labels_ != name)
        self.embeddings_ = np.concatenate([self.embeddings_, vectors])
        self.labels_ = np.concatenate([self.labels_, np.array([name] * len(kept), dtype=str)])
        self.sources_ = (*self.sources_, *(str(paths[i]) for i in kept))
        self._update()
        return failures

    def remove_speaker(self, name: str) -> None:
        """Forget one enrolled speaker; the threshold is re-fitted."""
        if name not in self.speakers_:
            raise DataError(f"{name!r} is not enrolled; enrolled: {', '.join(self.speakers_) or 'none'}.")
        self._keep(self.labels_ != name)
        self._update()

    def _keep(self, keep: np.ndarray) -> None:
        """Keep only the enrolment recordings where `keep` is True."""
        self.embeddings_, self.labels_ = self.embeddings_[keep], self.labels_[keep]
        self.sources_ = tuple(s for s, k in zip(self.sources_, keep, strict=True) if k)

    def _update(self) -> None:
        """Scoring, voiceprints and threshold from the enrolment embeddings."""
        self.speakers_ = tuple(sorted(set(self.labels_.tolist())))
        self.calibration_ = self._calibrate()
        self.scorer_ = VoiceprintScorer.fit(self.embeddings_, self.labels_, self.speakers_, self.scoring_)
        self.threshold_ = self.threshold_choice_.threshold

    def _calibrate(self) -> dict:
        """Sets ``scoring_``; the enrolment recordings' genuine and stranger scores and the threshold they give."""
        counts = {s: int(np.sum(self.labels_ == s)) for s in self.speakers_}
        n_genuine = sum(n for n in counts.values() if n >= 2)
        n_impostor = len(self.labels_) if len(self.speakers_) >= 2 else 0
        fits = n_genuine >= MIN_CALIBRATION and n_impostor >= MIN_CALIBRATION and len(self.speakers_) >= 3
        self.scoring_ = choose_scoring(counts) if fits else "cosine"
        genuine, impostor = calibration_scores(self.embeddings_, self.labels_, self.scoring_)
        result = {"n_genuine": len(genuine), "n_impostor": len(impostor)}
        result |= {"genuine": genuine.tolist(), "impostor": impostor.tolist()}
        if not fits:
            reason = (
                f"{len(genuine)} genuine and {len(impostor)} stranger scores from {len(self.speakers_)} speakers; "
                f"fitting needs {MIN_CALIBRATION} of each from 3 speakers or more"
            )
            return {**result, "rule": "default", "threshold": DEFAULT_THRESHOLD, "reason": reason}
        return {**result, "rule": "gaussian-eer", "threshold": gaussian_eer_threshold(genuine, impostor), "reason": ""}

    @property
    def voiceprints_(self) -> np.ndarray:
        """Each enrolled speaker's L2-normed mean embedding (n_speakers, 256), in ``speakers_`` order."""
        return self.scorer_.voiceprints

    @property
    def threshold_choice_(self) -> ThresholdChoice:
        """How the threshold was chosen: given, fitted to the enrolment recordings, or the default."""
        c = self.calibration_
        if self.threshold != "auto":
            return ThresholdChoice("given", float(self.threshold))
        if c["rule"] != "gaussian-eer":
            more = "enrol more recordings for a threshold fitted to these voices"
            return ThresholdChoice(
                "default", c["threshold"], reason=f"too few recordings to fit one: {c['reason']}; {more}"
            )
        counts = {"n_genuine": c["n_genuine"], "n_impostor": c["n_impostor"]}
        return ThresholdChoice(
            "calibrated", c["threshold"], rule="eer", method="normal fit", scale=SCALES[self.scoring_], **counts
        )

    def describe_scoring(self) -> str:
        """What a score is, in words (``scoring_``, `SCALES`)."""
        return SCALES[self.scoring_]

    def _check_fitted(self) -> None:
        if not self.speakers_:
            raise NotFittedError("no speaker is enrolled; call fit or VoiceprintClassifier.load.")

    def scores(self, vectors: np.ndarray) -> np.ndarray:
        """Scores (n, n_speakers) of embeddings for each enrolled speaker, in ``speakers_`` order, by ``scoring_``."""
        self._check_fitted()
        return self.scorer_.scores(vectors)

    def classify_files(
        self, paths: Sequence[str | os.PathLike[str]], *, threshold: float | None = None
    ) -> tuple[list[VoiceAnswer], list[Failure]]:
        """Who spoke each file; unusable files come back as failures, in input order."""
        self._check_fitted()
        if threshold is not None:
            check_threshold(threshold)
        used = self.threshold_ if threshold is None else float(threshold)
        results, failures = self.embed_files(paths)
        answers = [self.answer(path, heard, used) for path, heard in zip(paths, results, strict=True) if heard]
        return answers, failures

    def answer(self, path: str | os.PathLike[str], heard: Heard, threshold: float) -> VoiceAnswer:
        """The answer for one recording as `embed_files` heard it, at `threshold`."""
        if heard.embedding is None:
            return VoiceAnswer(str(path), UNKNOWN, "", -1.0, "", None, threshold, False, heard.seconds)
        row = self.scores(heard.embedding.vector[np.newaxis])[0]
        best, *others = np.argsort(row)[::-1][:2].tolist()
        second = others[0] if others else None
        return VoiceAnswer(
            path=str(path),
            speaker=self.speakers_[best] if heard.speech and row[best] >= threshold else UNKNOWN,
            nearest=self.speakers_[best],
            score=float(row[best]),
            runner_up="" if second is None else self.speakers_[second],
            runner_up_score=None if second is None else float(row[second]),
            threshold=threshold,
            speech=heard.speech,
            seconds=round(heard.seconds, 3),
            windows=self._windows(heard.embedding, threshold),
        )

    def _windows(self, embedding: Embedding, threshold: float) -> list[dict]:
        partial_scores = self.scores(embedding.partials)
        best = partial_scores.argmax(axis=1)
        return [
            {
                "start": round(float(start), 2),
                "end": round(float(end), 2),
                "speaker": self.speakers_[k] if partial_scores[i, k] >= threshold else UNKNOWN,
                "nearest": self.speakers_[k],
                "score": round(float(partial_scores[i, k]), 4),
            }
            for i, (start, end, k) in enumerate(zip(embedding.starts, embedding.ends, best, strict=True))
        ]

    def evaluate_folder(self, folder: str | os.PathLike[str], *, threshold: float | None = None) -> tuple:
        """The `vowels.evaluation.OpenSetEvaluation` and failures of the model on a labelled ``folder/<speaker>/``,
        whose speakers it does not know are strangers; a recording without speech counts as answered ``unknown``."""
        from .evaluation import evaluate_open_set

        self._check_fitted()
        pairs = list_speaker_files(folder, min_speakers=1)
        answers, failures = self.classify_files([p for _, p in pairs], threshold=threshold)
        truth = {str(p): s for s, p in pairs}
        evaluation = evaluate_open_set(
            [truth[a.path] for a in answers],
            [a.nearest for a in answers],
            [a.score if a.speech else -1.0 for a in answers],
            enrolled=list(self.speakers_),
            threshold=self.threshold_ if threshold is None else float(threshold),
            sources=[a.path for a in answers],
        )
        return evaluation, failures

    def save(self, path: str | os.PathLike[str], *, force: bool = False) -> Path:
        """Write the model folder: ``voiceprints.npz`` (every enrolment embedding, no pickle) and ``metadata.json``
        (speakers, threshold and how it was chosen, the encoder's provenance), as a whole or not at all."""
        self._check_fitted()
        with atomic_folder(Path(path), force=force) as staging:
            sources = np.array(self.sources_, dtype=str)
            np.savez(staging / VOICEPRINTS_FILE, embeddings=self.embeddings_, labels=self.labels_, sources=sources)
            metadata = {
                "format": VOICEPRINT_FORMAT,
                "format_version": FORMAT_VERSION,
                "speakers": list(self.speakers_),
                "recordings": {s: int(np.sum(self.labels_ == s)) for s in self.speakers_},
                "threshold_choice": self.threshold_choice_.to_dict(),
                "calibration": self.calibration_,
                "scoring": self.scoring_,
                "encoder": provenance(),
                "voiceprints_sha256": sha256_of(staging / VOICEPRINTS_FILE),
            }
            write_metadata(staging, metadata)
        return Path(path)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> VoiceprintClassifier:
        """Read a model folder written by `save`, checking its checksums."""
        folder = Path(path)
        where, metadata = read_folder_metadata(folder, VOICEPRINT_MODEL)
        if metadata.get("metadata_sha256") != metadata_digest(metadata):
            raise BundleError(f"{where}: its content does not match the sha256 it records; enrol again.")
        arrays_file = folder / VOICEPRINTS_FILE
        if not arrays_file.is_file():
            raise BundleError(f"{folder}: model is incomplete, {VOICEPRINTS_FILE} is missing; enrol again.")
        if sha256_of(arrays_file) != metadata.get("voiceprints_sha256"):
            raise BundleError(f"{arrays_file}: sha256 does not match metadata.json; the file was changed or damaged.")
        with bundle_entries(folder, "damaged voiceprint model", "enrol again"):
            with np.load(arrays_file, allow_pickle=False) as arrays:
                embeddings = arrays["embeddings"].astype(np.float32)
                labels, sources = arrays["labels"].astype(str), tuple(arrays["sources"].astype(str))
            choice = ThresholdChoice.from_dict(metadata["threshold_choice"])
            model = cls(threshold=choice.threshold if choice.how == "given" else "auto")
        if embeddings.ndim != 2 or len(embeddings) != len(labels) or len(sources) != len(labels) or not len(labels):
            raise BundleError(f"{arrays_file}: arrays disagree in shape; enrol again.")
        model.embeddings_, model.labels_, model.sources_ = embeddings, labels, sources
        model.failures_ = ()
        model._update()
        return model


def embed_paths(paths: Sequence[str | os.PathLike[str]]) -> tuple[np.ndarray, np.ndarray, list[Failure]]:
    """The encoder's embedding (n, 256) of each file and whether speech was found in it (n,): what a trained
    model fuses with its network's score. A file that cannot be read or is silent gives zeros and a `Failure`."""
    heard, failures = VoiceprintClassifier().embed_files(paths)
    vectors = np.zeros((len(heard), 256), dtype=np.float32)
    speech = np.zeros(len(heard), dtype=bool)
    for i, (path, h) in enumerate(zip(paths, heard, strict=True)):
        if h is not None and h.embedding is not None:
            vectors[i], speech[i] = h.embedding.vector, h.speech
        elif h is not None:
            failures.append(Failure(str(path), f"{path}: silence only; nothing for the speaker encoder to hear."))
    return vectors, speech, failures


def _check_name(name: str, *, where: object = None) -> None:
    """A speaker name that can be an answer: not empty, not the reserved ``unknown`` (in any case or width)."""
    shown = where if where is not None else repr(name)
    if not name.strip():
        raise DataError(f"{shown}: a speaker needs a name that is not blank.")
    if unicodedata.normalize("NFKC", name).casefold() == UNKNOWN:
        raise DataError(f"{shown}: a speaker may not be named {UNKNOWN!r}: that is the answer for no match; rename it.")
