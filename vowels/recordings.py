"""`RecordingClassifier`: trained on the features of speakers' recordings (`vowels.extraction`), it names the
speaker of a new recording, or answers `UNKNOWN`."""

from __future__ import annotations

import io
import os
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .audio import sample_rate_of
from .bundle import METADATA_FILE, bundle_entries
from .datasets import Utterances
from .errors import BundleError, DataError, NotFittedError, ParameterError
from .extraction import Extraction, Failure, Progress, extract_files, load_speaker_folders
from .features import FeatureConfig
from .fusion import CalibrationFold, ScoreFusion
from .inference import FastClassifier
from .names import ENGINES, RECURRENT, UNKNOWN
from .openset import SCORING, OpenSetScorer, OperatingPoint, ThresholdChoice, choose_threshold, parse_operating_point
from .preprocessing import Preprocessing
from .progress import resolve_verbose, run_networks, training_run
from .validation import check_choice, check_int, check_number, check_seconds, check_seed, check_threshold, check_verbose
from .voiceprints import VOICEPRINTS_FILE, VoiceprintScorer, choose_scoring, embed_paths
from .windowing import cut, frames_of, over_windows

if TYPE_CHECKING:
    from .classifier import SpeakerClassifier
    from .evaluation import OpenSetEvaluation

__all__ = ["Classification", "Identification", "RecordingClassifier"]

PARAMS_ENTRY = "recording_params"  # metadata entry of the parameters but feature_config (saved as "features")
OPENSET_FILE = "openset.npz"  # the open-set references


@dataclass(frozen=True)
class Classification:
    """Who spoke one recording.

    Attributes
    ----------
    path : str
    speaker : str
        The answer: `nearest`, or `UNKNOWN` if its score is below `threshold`.
    nearest, runner_up : str
    probability, runner_up_probability : float
        The network's probabilities of `nearest` and `runner_up`, in [0, 1].
    score : float
        The open-set similarity to `nearest`, in [-1, 1] (the probability without open-set references).
    threshold : float
    sample_rate : int or None
        The recording's own rate in Hz, as its header says.
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
        Column of the named speaker.
    scores : np.ndarray of float, shape (n,)
        Its open-set score (`Classification.score`): the column `nearest` of ``all_scores``.
    all_scores : np.ndarray of float, shape (n, n_speakers)
        Every speaker's open-set score (the probabilities for a model without open-set references).
    """

    probabilities: np.ndarray
    nearest: np.ndarray
    scores: np.ndarray
    all_scores: np.ndarray


@dataclass
class RecordingClassifier:
    """Features + `SpeakerClassifier` + open-set scoring, trained on speaker folders.

    Parameters
    ----------
    feature_config : FeatureConfig, default=None
        How to analyse recordings; None means ``FeatureConfig()`` (MFCC). Its ``deltas`` and
        ``standardize`` go to the `SpeakerClassifier`. Ignored by `fit` on an `Extraction`.
    mode : {"masked", "matlab", "padded"}, default="masked"
        BiLSTM semantics (`vowels.model`).
    n_hidden : int, default=100
    architecture : {"bilstm", "lstm"}, default="bilstm"
        A forward-only ``"lstm"`` can answer while a recording arrives (`stream`).
    max_epochs, mini_batch_size : int >= 1, default=30, 32
    learning_rate : float > 0, default=1e-3
        Training settings of each network trained, as `SpeakerClassifier`'s.
    validation_fraction : float in [0, 1), default=0.2
        Share of each speaker's recordings held out (stratified) to measure accuracy and calibrate the
        threshold; at least one of each speaker when that leaves half to train on; 0 holds out none.
    threshold : float in [-1, 1] or "auto", default="auto"
        Open-set score below which the answer is `UNKNOWN`; -1 always names a speaker; "auto"
        calibrates it on the training data at `operating_point`.
    operating_point : str, default="eer"
        ``"eer"`` (as many strangers accepted as speakers rejected) or ``"far=0.05"`` (at most that
        share of strangers accepted).
    calibration_folds : int >= 2, default=5
        Networks trained for "auto", each with a group of speakers left out to play strangers.
    refit : bool, default=True
        After validation and calibration, train the saved network again on every recording.
    match_rate : bool, default=True
        Analyse lower-rate recordings at their rate (`analysis_rate`) instead of upsampling.
    voice_encoder : bool, default=True
        With "auto", fuse the open-set score with the pretrained speaker encoder's (`vowels.fusion`).
    window_seconds : float > 0 or None, default=3.0
        Recordings longer than this (s of features) are cut into overlapping windows, each a training
        sequence; an answer is the mean of its windows' (`vowels.windowing`). None reads them whole.
    window_hop_seconds : float > 0, default=1.5
        Time between the starts of windows, in s, at most `window_seconds`.
    random_state : int, default=0
    verbose : int or "auto", default="auto"
        1 prints each training stage and epoch on stderr; ``"auto"`` 1 interactively, 0 in scripts.
    """

    feature_config: FeatureConfig | None = None
    mode: str = "masked"
    n_hidden: int = 100
    architecture: str = "bilstm"
    max_epochs: int = 30
    mini_batch_size: int = 32
    learning_rate: float = 1e-3
    validation_fraction: float = 0.2
    threshold: float | str = "auto"
    operating_point: str = "eer"
    calibration_folds: int = 5
    refit: bool = True
    match_rate: bool = True
    voice_encoder: bool = True
    window_seconds: float | None = 3.0
    window_hop_seconds: float = 1.5
    random_state: int = 0
    verbose: int | str = "auto"
    validation_: dict = field(default_factory=dict, init=False, repr=False)
    dsp_: str = field(default="librosa", init=False, repr=False)
    classifier_: SpeakerClassifier | FastClassifier = field(init=False, repr=False, compare=False)

    def _check_params(self) -> None:
        check_seed(self.random_state, name="random_state")
        check_verbose(self.verbose)
        check_choice(self.architecture, "architecture", RECURRENT, hint="the open-set score reads the LSTM's states")
        _ = self._classifier(self.feature_config or FeatureConfig()).options_  # refuses bad training settings
        check_number(self.validation_fraction, "validation_fraction", low=0, high=1, high_open=True)
        check_threshold(self.threshold, auto=True)
        parse_operating_point(self.operating_point)
        check_int(self.calibration_folds, "calibration_folds", low=2)
        self._check_windows()

    def get_params(self) -> dict[str, Any]:
        """The constructor's arguments by name, as scikit-learn's ``get_params``: ``cls(**get_params())`` is a copy."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.init}

    def _check_windows(self) -> None:
        check_seconds(self.window_seconds, "window_seconds", none_ok=True)
        check_seconds(self.window_hop_seconds, "window_hop_seconds")
        if self.window_seconds is not None and self.window_hop_seconds > self.window_seconds:
            raise ParameterError(
                f"window_hop_seconds={self.window_hop_seconds} is longer than window_seconds={self.window_seconds}: "
                "windows would skip audio; give a hop of at most the window."
            )

    def _say(self, message: str) -> None:
        if resolve_verbose(self.verbose):
            print(message, file=sys.stderr, flush=True)

    def _classifier(self, config: FeatureConfig, *, verbose: int | str = 0) -> SpeakerClassifier:
        """The unfitted network `_train` fits, with the deltas and standardisation `config` asks for."""
        from .classifier import SpeakerClassifier
        from .training import TrainingOptions

        return SpeakerClassifier(
            architecture=self.architecture,
            mode=self.mode,
            n_hidden=self.n_hidden,
            max_epochs=self.max_epochs,
            mini_batch_size=self.mini_batch_size,
            learning_rate=self.learning_rate,
            options=TrainingOptions(drop_last=False),
            delta_width=config.delta_width,
            standardize=config.standardize,
            random_state=self.random_state,
            verbose=verbose,
        )

    @property
    def window_(self) -> tuple[int, int] | None:
        """``(length, hop)`` of the windows in feature frames (`vowels.windowing`), or None for whole recordings."""
        if self.window_seconds is None:
            return None
        hop_ms = self.feature_config_.hop_ms
        return frames_of(self.window_seconds, hop_ms), frames_of(self.window_hop_seconds, hop_ms)

    def _windows(self, utterances: Utterances) -> Utterances:
        """Each recording's windows as sequences of their own, labelled with its speaker."""
        if self.window_ is None:
            return utterances
        windows, owner = cut(utterances.sequences, *self.window_)
        sources = tuple(f"{utterances.sources[i]} (window {k})" for k, i in enumerate(owner))
        return Utterances(windows, utterances.labels[owner], utterances.speakers, sources)

    def _train(self, utterances: Utterances, what: str) -> SpeakerClassifier:
        """A `SpeakerClassifier` trained on the windows of `utterances`, its preprocessing learned from them."""
        windows = self._windows(utterances)
        cut_into = f" cut into {len(windows)} windows" if len(windows) > len(utterances) else ""
        started, n_networks = run_networks() or (0, 1)
        self._say(
            f"Training network {started + 1}/{n_networks}, {what}: {len(utterances)} recordings{cut_into} "
            f"of {len(set(utterances.labels))} speakers."
        )
        return self._classifier(self.feature_config_, verbose=self.verbose).fit(windows.sequences, windows.labels)

    def _open_set_scorer(self, classifier: SpeakerClassifier | FastClassifier, enrolled: Utterances) -> OpenSetScorer:
        """Open-set references of `classifier`: the embeddings and feature statistics of the enrolled windows."""
        w = self._windows(enrolled)
        embeddings, sequences = classifier.embed(w.sequences), classifier.preprocessing_.apply(w.sequences)
        return OpenSetScorer.fit(embeddings, sequences, w.labels, classifier.classes_)

    def _recording_open_set(
        self, classifier: SpeakerClassifier | FastClassifier, scorer: OpenSetScorer, sequences: Sequence
    ) -> np.ndarray:
        """Open-set scores (n, n_speakers) of recordings: the means over their windows."""
        return over_windows(
            lambda s: scorer.scores(classifier.embed(s), classifier.preprocessing_.apply(s)), sequences, self.window_
        )

    def fit(
        self, data: Extraction | str | os.PathLike[str], *, n_jobs: int = 1, progress: Progress | None = None
    ) -> RecordingClassifier:
        """Train on an `Extraction` or a speaker folder: hold out `validation_fraction` and measure accuracy on it
        (``validation_``); with "auto" and three speakers, calibrate the threshold on networks trained without each
        group of speakers (``operating_point_``, ``threshold_choice_``); with `refit`, train on every recording.

        Sets ``feature_config_``, ``source_rates_``, ``classifier_``, ``scorer_``, ``operating_point_``, ``threshold_``,
        ``threshold_choice_``, ``validation_`` and ``failures_``.
        """
        from sklearn.model_selection import train_test_split

        self._check_params()
        if not isinstance(data, Extraction):
            data = load_speaker_folders(
                data, self.feature_config, n_jobs=n_jobs, progress=progress, match_rate=self.match_rate
            )
        u = data.utterances
        if UNKNOWN in u.speakers:
            raise DataError(f"a speaker may not be named {UNKNOWN!r}: that is the answer for no match; rename it.")
        if len(u.speakers) < 2:
            raise DataError(f"training needs at least 2 speakers; got {[str(s) for s in u.speakers]}.")
        indices, validation = np.arange(len(u)), np.array([], dtype=int)
        fraction = self.validation_fraction
        if 0 < fraction * len(u) < len(u.speakers) <= len(u) / 2:
            fraction = len(u.speakers) / len(u)
            self._say(
                f"Holding out one recording of each speaker ({len(u.speakers)} of {len(u)}), more than "
                f"validation_fraction={self.validation_fraction} would: a split needs every speaker on both sides."
            )
        if fraction > 0:
            try:
                indices, validation = train_test_split(
                    indices, test_size=fraction, stratify=u.labels, random_state=self.random_state
                )
            except ValueError as exc:
                raise DataError(
                    f"cannot hold out validation_fraction={self.validation_fraction} of {len(u)} utterances "
                    f"of {len(u.speakers)} speakers with every speaker in both parts ({exc}); add "
                    "recordings or pass a different fraction (0 for none)."
                ) from None
        indices, validation = np.sort(indices), np.sort(validation)
        train, held = u.subset(indices), u.subset(validation)
        self.feature_config_, self.source_rates_, self.failures_ = data.config, dict(data.source_rates), data.failures
        self.fusion_: ScoreFusion | None = None
        self.voiceprints_: VoiceprintScorer | None = None
        start = time.perf_counter()
        final_on_all = self.refit and len(held) > 0
        obstacle = self._calibration_obstacle(u, held) if self.threshold == "auto" else "not asked"
        n_networks = 1 + int(final_on_all) + (len(self._calibration_groups(train)) if obstacle is None else 0)
        with training_run(n_networks, self.max_epochs):
            vectors: np.ndarray | None = None
            self.classifier_ = self._train(train, "validation split held out")
            self.validation_ = {"n_train": len(train)}
            if len(held):
                probabilities = over_windows(self.classifier_.to_numpy().predict_proba, held.sequences, self.window_)
                hits = self.classes_[probabilities.argmax(axis=1)] == held.labels
                self.validation_.update(accuracy=float(hits.mean()), n_correct=int(hits.sum()), n_validation=len(held))
            self.operating_point_ = None
            if self.threshold != "auto":
                self.threshold_choice_ = ThresholdChoice("given", float(self.threshold))
            elif obstacle is not None:
                self.threshold_choice_ = ThresholdChoice("default", -1.0, reason=obstacle)
                self._say(f"Unknown-speaker threshold not calibrated ({obstacle}); every recording is named.")
            else:
                if self.voice_encoder:
                    self._say(f"Embedding {len(u)} recordings with the pretrained speaker encoder.")
                    vectors, _, failures = embed_paths(u.sources)
                    if failures:
                        self._say(f"Speaker encoder not used: {failures[0].message}")
                        vectors = None
                voices = None if vectors is None else (vectors[indices], vectors[validation])
                self.operating_point_ = self._calibrate(train, held, voices)
                self.threshold_choice_ = ThresholdChoice.calibrated(self.operating_point_)
            if final_on_all:
                self.classifier_ = self._train(u, "the saved model, on every recording")
            enrolled = u if final_on_all else train
            self.scorer_: OpenSetScorer | None = self._open_set_scorer(self.classifier_.to_numpy(), enrolled)
            if self.fusion_ is not None and vectors is not None:
                voices = vectors if final_on_all else vectors[indices]
                self.voiceprints_ = VoiceprintScorer.fit(
                    voices, enrolled.labels, self.classes_, choose_scoring(Counter(train.labels))
                )
        self.threshold_ = self.threshold_choice_.threshold
        seconds = round(time.perf_counter() - start, 3)
        self.validation_.update(train_seconds=seconds, refit=bool(final_on_all), n_final_train=len(enrolled))
        return self

    def _calibration_obstacle(self, u: Utterances, held: Utterances) -> str | None:
        """Why the threshold cannot be calibrated on these data, or None."""
        if len(u.speakers) < 3:
            return "needs at least 3 speakers, so that each left-out group leaves 2 to train on"
        if not len(held):
            return "needs a validation split (validation_fraction > 0)"
        if set(u.speakers) - set(held.labels):
            return "every speaker needs a held-out recording"
        return None

    def _calibration_groups(self, train: Utterances) -> list[np.ndarray]:
        """The groups of speakers left out in turn by the calibration networks, one network each."""
        speakers = np.array(train.speakers)
        order = np.random.default_rng(self.random_state).permutation(len(speakers))
        groups = [speakers[np.sort(g)] for g in np.array_split(order, min(self.calibration_folds, len(speakers)))]
        return groups if all(len(speakers) - len(g) >= 2 for g in groups) else [np.array([s]) for s in speakers]

    def _calibrate(
        self, train: Utterances, held: Utterances, voices: tuple[np.ndarray, np.ndarray] | None = None
    ) -> OperatingPoint:
        """The threshold from networks trained without each group of speakers, fused (``fusion_``) if `voices` given."""
        groups, scoring = self._calibration_groups(train), choose_scoring(Counter(train.labels))
        genuine, impostor, folds = [], [], []
        for k, strangers in enumerate(groups, start=1):
            known_rows = ~np.isin(train.labels, strangers)
            known = train.subset(np.flatnonzero(known_rows))
            what = f"calibration {k}/{len(groups)} (strangers: {', '.join(strangers)})"
            classifier = self._train(known, what).to_numpy()
            all_scores = self._recording_open_set(classifier, self._open_set_scorer(classifier, known), held.sequences)
            is_stranger = np.isin(held.labels, strangers)
            if voices is not None:
                prints = VoiceprintScorer.fit(voices[0][known_rows], known.labels, classifier.classes_, scoring)
                column = [str(c) for c in classifier.classes_]
                truth = np.array([-1 if s else column.index(str(label)) for label, s in zip(held.labels, is_stranger)])
                folds.append(CalibrationFold(all_scores, prints.scores(voices[1]), truth))
                continue
            nearest = np.argmax(over_windows(classifier.predict_proba, held.sequences, self.window_), axis=1)
            scores = all_scores[np.arange(len(held)), nearest]
            genuine.append(scores[~is_stranger])
            impostor.append(scores[is_stranger])
        if folds:
            self.fusion_, fused_genuine, fused_impostor = ScoreFusion.choose(folds)
            return choose_threshold(fused_genuine, fused_impostor, self.operating_point)
        return choose_threshold(np.concatenate(genuine), np.concatenate(impostor), self.operating_point)

    def _check_fitted(self) -> None:
        if not hasattr(self, "classifier_"):
            raise NotFittedError("this RecordingClassifier is not fitted; call fit or RecordingClassifier.load.")

    @property
    def classes_(self) -> np.ndarray:
        """Enrolled speakers, in the order of `predict_proba`'s columns."""
        self._check_fitted()
        return self.classifier_.classes_

    @property
    def preprocessing_(self) -> Preprocessing:
        """The deltas and standardisation applied to features before the network, learned in training."""
        self._check_fitted()
        return self.classifier_.preprocessing_

    def predict_proba(self, sequences: Sequence[np.ndarray]) -> np.ndarray:
        """Speaker probabilities (n_sequences, n_speakers) of feature sequences as extracted."""
        self._check_fitted()
        return self.classifier_.predict_proba(sequences)

    def identify(self, sequences: Sequence[np.ndarray], voice_vectors: np.ndarray | None = None) -> Identification:
        """Probabilities, named speaker and open-set scores of feature sequences as extracted; a model with
        ``fusion_`` needs the encoder's `voice_vectors` too, names the best fused score, and scores -1 a NaN row."""
        self._check_fitted()
        probabilities = over_windows(self.classifier_.predict_proba, sequences, self.window_)
        nearest = np.argmax(probabilities, axis=1)
        all_scores = probabilities
        if self.scorer_ is not None:
            all_scores = self._recording_open_set(self.classifier_, self.scorer_, sequences)
        if self.fusion_ is not None and self.voiceprints_ is not None:
            if voice_vectors is None or len(voice_vectors) != len(sequences):
                raise ParameterError(
                    "this model fuses the speaker encoder's score: pass each recording's voice_vectors."
                )
            vectors = np.asarray(voice_vectors, dtype=np.float32)
            no_speech = np.isnan(vectors).any(axis=1)
            all_scores = self.fusion_.combine(all_scores, self.voiceprints_.scores(np.nan_to_num(vectors)))
            all_scores[no_speech] = -1.0
            nearest = np.where(no_speech, nearest, np.argmax(all_scores, axis=1))
        scores = all_scores[np.arange(len(nearest)), nearest]
        return Identification(probabilities, nearest, scores.astype(float), all_scores.astype(float))

    def stream(self, sequence: np.ndarray, *, chunk_seconds: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
        """A forward-only model's speaker probabilities as one recording's features arrive.

        Parameters
        ----------
        sequence : np.ndarray of shape (n_frames, n_features)
            Features of one recording, as extracted.
        chunk_seconds : float > 0, default=0.1
            Audio per answer in s, rounded to whole frames (at least one).

        Returns
        -------
        seconds : np.ndarray of float, shape (n_chunks,)
            When each answer is given, in s from the start.
        probabilities : np.ndarray of float, shape (n_chunks, n_speakers)
        """
        self._check_fitted()
        check_seconds(chunk_seconds, "chunk_seconds")
        hop_seconds = self.feature_config_.hop_ms / 1000
        chunk_frames = max(1, round(chunk_seconds / hop_seconds))
        probabilities = self.classifier_.stream_proba(sequence, chunk_frames=chunk_frames)
        ends = np.minimum(np.arange(1, len(probabilities) + 1) * chunk_frames, len(sequence))
        return ends * hop_seconds, probabilities

    def answer(self, identification: Identification, *, threshold: float | None = None) -> np.ndarray:
        """Speaker names; `UNKNOWN` where the open-set score is below `threshold` (default the model's)."""
        threshold = self.threshold_ if threshold is None else threshold
        return np.where(identification.scores < threshold, UNKNOWN, self.classes_[identification.nearest])

    def voice_vectors(self, paths: Sequence[str | os.PathLike[str]]) -> np.ndarray | None:
        """The encoder's embeddings of `paths` if the model fuses its score, else None; NaN where no speech is found."""
        if self.fusion_ is None:
            return None
        vectors, speech, failures = embed_paths(paths)
        if failures:
            raise DataError(failures[0].message)
        vectors[~speech] = np.nan
        return vectors

    def check_threshold(self, threshold: float | None) -> None:
        """Refuse a `threshold` this model cannot use (None: its own)."""
        self._check_fitted()
        if threshold is not None:
            check_threshold(threshold, low=-1 if self.scorer_ is not None else 0)

    def classify_files(
        self, paths: Sequence[str | os.PathLike[str]], *, threshold: float | None = None, n_jobs: int = 1
    ) -> tuple[list[Classification], list[Failure]]:
        """Who spoke each file; unusable files come back as failures, in input order.

        Parameters
        ----------
        paths : sequence of path-like
        threshold : float, default=None
            Open-set score below which the answer is `UNKNOWN`; None uses the model's (``threshold_``).
        n_jobs : int, default=1
            Parallel jobs for feature extraction, as in `vowels.extraction.extract_files`.
        """
        self.check_threshold(threshold)
        features, failures = extract_files(paths, self.feature_config_, n_jobs=n_jobs, dsp=self.dsp_)
        return self.classify_features(paths, features, threshold=threshold), failures

    def classify_features(
        self,
        paths: Sequence[str | os.PathLike[str]],
        features: Sequence[np.ndarray | None],
        *,
        threshold: float | None = None,
    ) -> list[Classification]:
        """`classify_files` from features as `vowels.extraction.extract_files` gave them (None: no answer)."""
        self.check_threshold(threshold)
        good = [i for i, f in enumerate(features) if f is not None]
        if not good:
            return []
        usable = [f for f in features if f is not None]
        identification = self.identify(usable, self.voice_vectors([paths[i] for i in good]))
        names = self.answer(identification, threshold=threshold)
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
                    threshold=float(self.threshold_ if threshold is None else threshold),
                    sample_rate=sample_rate_of(paths[i]),
                )
            )
        return results

    def evaluate_folder(
        self,
        folder: str | os.PathLike[str],
        *,
        threshold: float | None = None,
        n_jobs: int = 1,
        progress: Progress | None = None,
    ) -> tuple[OpenSetEvaluation, list[Failure]]:
        """The model's `vowels.evaluation.OpenSetEvaluation` on a labelled folder ``folder/<speaker>/`` (speakers it
        does not know are strangers), and the files that failed."""
        from .evaluation import evaluate_open_set

        self.check_threshold(threshold)
        data = load_speaker_folders(
            folder, self.feature_config_, n_jobs=n_jobs, progress=progress, min_speakers=1, dsp=self.dsp_
        )
        u = data.utterances
        identification = self.identify(u.sequences, self.voice_vectors(u.sources))
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
        """Write the model bundle: the network, and the feature config and threshold in metadata.json; the open-set
        references in ``openset.npz``."""
        self._check_fitted()
        if isinstance(self.classifier_, FastClassifier):
            raise ParameterError("a model loaded with engine='fast' cannot be saved; load it with engine='keras'.")
        extra = {
            "features": self.feature_config_.to_dict(),
            "source_rates": {str(r): n for r, n in self.source_rates_.items()},
            "unknown_threshold": self.threshold_,
            "open_set": {
                "scoring": SCORING if self.scorer_ is not None else "probability",
                "threshold_choice": self.threshold_choice_.to_dict(),
                "operating_point": None if self.operating_point_ is None else self.operating_point_.to_dict(),
                "fusion": None if self.fusion_ is None else self.fusion_.to_dict(),
            },
            "validation": self.validation_,
            PARAMS_ENTRY: {k: v for k, v in self.get_params().items() if k not in ("feature_config", "verbose")},
        }
        files = {OPENSET_FILE: self.scorer_.to_npz()} if self.scorer_ is not None else {}
        if (prints := self.voiceprints_) is not None:
            buffer = io.BytesIO()
            np.savez(buffer, embeddings=prints.embeddings, labels=prints.labels, scoring=np.array(prints.scoring))
            files[VOICEPRINTS_FILE] = buffer.getvalue()
        return self.classifier_.save(path, force=force, metrics=self.validation_, extra=extra, extra_files=files)

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, engine: str = "keras") -> RecordingClassifier:
        """Load a bundle written by `save`, checked as `SpeakerClassifier.load` checks it.

        Parameters
        ----------
        path : path-like
        engine : {"keras", "fast"}, default="keras"
            "keras": the Keras model and librosa features, as in training. "fast":
            `vowels.inference.FastClassifier` and `vowels.dsp` features (``dsp_``), the same probabilities
            within 1e-5 without importing TensorFlow or librosa; the model cannot be re-saved.
        """
        check_choice(engine, "engine", ENGINES)
        folder = Path(path)
        classifier: SpeakerClassifier | FastClassifier
        if engine == "fast":
            classifier = FastClassifier.load(path)
        else:
            from .classifier import SpeakerClassifier

            classifier = SpeakerClassifier.load(path)
        metadata = classifier.metadata_
        if metadata is None or metadata.feature_config is None:
            raise BundleError(
                f"{folder}: this model was trained on Japanese Vowels sequences, not recordings "
                "(no feature configuration in metadata.json); train one with 'vowels train DIR'."
            )
        where = folder / METADATA_FILE
        if classifier.mode is None or classifier.n_hidden is None:
            raise BundleError(f"{where}: a {classifier.architecture} network cannot be a recordings model; retrain it.")
        with bundle_entries(where, "missing or invalid recording settings"):
            feature_config = FeatureConfig.from_dict(metadata.feature_config)
            model = cls(**{**metadata.entries[PARAMS_ENTRY], "feature_config": feature_config})
            model._check_windows()
            model.feature_config_ = feature_config
            model.source_rates_ = dict(metadata.source_rates)
            model.threshold_choice_ = ThresholdChoice.from_dict(metadata.open_set["threshold_choice"])
            model.threshold_ = model.threshold_choice_.threshold
            model.validation_ = dict(metadata.validation)
            point = metadata.open_set.get("operating_point")
            model.operating_point_ = None if point is None else OperatingPoint.from_dict(point)
        if classifier.n_features_in_ != feature_config.n_features:
            raise BundleError(
                f"{where}: the network reads {classifier.n_features_in_} features per frame, but the feature "
                f"settings give {feature_config.n_features}; retrain or re-copy the bundle."
            )
        classes = [str(c) for c in classifier.classes_]
        model.scorer_ = OpenSetScorer.from_npz(folder / OPENSET_FILE) if OPENSET_FILE in metadata.extra_files else None
        if model.scorer_ is not None and list(model.scorer_.classes) != classes:
            raise BundleError(f"{folder / OPENSET_FILE}: enrolled speakers differ from the model's classes.")
        model.fusion_, model.voiceprints_ = None, None
        if (fusion := metadata.open_set.get("fusion")) is not None:
            with bundle_entries(where, "missing or invalid speaker-encoder fusion", "retrain the model"):
                model.fusion_ = ScoreFusion.from_dict(fusion)
                with np.load(folder / VOICEPRINTS_FILE, allow_pickle=False) as arrays:
                    embeddings, labels = arrays["embeddings"].astype(np.float32), arrays["labels"].astype(str)
                    model.voiceprints_ = VoiceprintScorer.fit(embeddings, labels, classes, str(arrays["scoring"]))
        model.classifier_ = classifier
        with bundle_entries(where, "invalid unknown_threshold"):
            model.check_threshold(model.threshold_)
        model.failures_ = ()
        model.dsp_ = "numpy" if engine == "fast" else "librosa"
        return model
