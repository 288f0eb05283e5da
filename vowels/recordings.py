"""Recordings of known speakers: features (`vowels.extraction`) -> a trained `RecordingClassifier`
that names the speaker of a new recording, or answers `UNKNOWN`.
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .bundle import bundle_entries
from .datasets import Utterances
from .errors import BundleError, DataError, ParameterError
from .extraction import (
    Extraction,
    Failure,
    Progress,
    extract_files,
    load_speaker_folders,
)
from .features import FeatureConfig
from .fusion import ScoreFusion
from .names import ENGINES, RECURRENT, UNKNOWN
from .openset import ThresholdChoice
from .preprocessing import Preprocessing
from .validation import check_choice, check_int, check_number, check_seconds, check_seed, check_threshold, check_verbose
from .voiceprints import VoiceprintScorer, choose_scoring
from .windowing import cut, frames_of, over_windows

if TYPE_CHECKING:
    from .bundle import BundleMetadata
    from .classifier import SpeakerClassifier
    from .evaluation import OpenSetEvaluation
    from .inference import FastClassifier
    from .openset import OpenSetScorer

__all__ = [
    "Classification",
    "Identification",
    "RecordingClassifier",
]

PARAMS_ENTRY = "recording_params"
"""The metadata entry holding the `RecordingClassifier`'s parameters but ``features`` (saved as ``features``)."""
OPENSET_FILE = "openset.npz"
VOICEPRINTS_FILE = "voiceprints.npz"
"""The bundle file holding each speaker's mean encoder embedding, for a model that fuses the encoder's score."""
"""The bundle file holding the open-set references (`vowels.openset.SpeakerScorer`)."""


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
    all_scores : np.ndarray of float, shape (n, n_speakers)
        Every speaker's open-set score, in the model's order (``scores`` is the column of
        ``nearest``); the probabilities for a model without open-set references.
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
    features : FeatureConfig, default=None
        How to analyse recordings; None means ``FeatureConfig()`` (MFCC). Recordings of a
        lower rate than the config's are analysed at their own rate (`analysis_rate`) unless
        `match_rate` is False. Ignored by `fit` on an `Extraction`, which brings its own.
        Its ``deltas`` and ``standardize`` go to the network's `SpeakerClassifier`
        (``delta_width``, ``standardize``), whose `vowels.preprocessing.Preprocessing` is
        learned on the recordings it trains on.
    mode : {"masked", "matlab", "padded"}, default="masked"
        BiLSTM semantics (see `vowels.model`); ``masked`` ignores padding, which recordings
        of very different lengths need.
    n_hidden : int, default=100
        Hidden units per direction.
    architecture : {"bilstm", "lstm"}, default="bilstm"
        The network reading the features (`vowels.names.RECURRENT`); a forward-only ``"lstm"``
        can answer while a recording is still arriving (`stream`).
    max_epochs : int >= 1, default=30
        Passes over the training recordings, for each network trained.
    mini_batch_size : int >= 1, default=32
        Utterances per mini-batch (sorted by length, padded to the longest, kept every epoch);
        32 was as accurate as 16 on held-out development recordings, in about half the time.
    learning_rate : float > 0, default=1e-3
        Adam's learning rate.
    validation_fraction : float in [0, 1), default=0.2
        Share of each speaker's utterances held out (stratified, seeded) to measure accuracy
        and calibrate the unknown-speaker threshold; 0 trains on everything and calibrates nothing.
        When it would hold out fewer recordings than there are speakers, one of each speaker is
        held out instead (if that leaves at least half to train on), and `fit` says so.
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
    voice_encoder : bool, default=True
        Fuse the open-set score with the pretrained speaker encoder's (`vowels.fusion`): the
        weight and scales are chosen on the calibration folds, so only with "auto". The
        recordings are read a second time, at 16 kHz, for the encoder.
    window_seconds : float > 0 or None, default=3.0
        Recordings longer than this (in s of features, after silence is trimmed) are cut into
        overlapping windows, each a training sequence; a recording's answer is the mean of its
        windows' (`vowels.windowing`). None reads every recording whole.
    window_hop_seconds : float > 0, default=1.5
        Time between the starts of windows, in s, at most `window_seconds`.
    random_state : int, default=0
    verbose : int or "auto", default="auto"
        1 prints each training stage and, for every network trained, each epoch's progress on
        stderr (see `vowels.progress`); 0 nothing; ``"auto"`` 1 in a notebook or at the Python
        prompt, 0 in scripts.
    """

    features: FeatureConfig | None = None
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
        from .openset import parse_operating_point

        check_seed(self.random_state, name="random_state")
        check_verbose(self.verbose)
        if self.architecture not in RECURRENT:
            raise ParameterError(
                f"architecture must be one of {list(RECURRENT)} for recordings (the open-set score reads the "
                f"LSTM's states); got {self.architecture!r}."
            )
        config = FeatureConfig() if self.features is None else self.features
        _ = self._classifier(config).options_  # refuses a bad max_epochs, mini_batch_size or learning_rate, by name
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
        from .progress import resolve_verbose

        if resolve_verbose(self.verbose):
            import sys

            print(message, file=sys.stderr, flush=True)

    def _classifier(self, config: FeatureConfig, *, verbose: int | str = 0) -> SpeakerClassifier:
        """The unfitted network `_train` fits: these training settings, the short last mini-batch kept,
        and the deltas and standardisation `config` asks for."""
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
        hop_ms = self.features_.hop_ms
        return frames_of(self.window_seconds, hop_ms), frames_of(self.window_hop_seconds, hop_ms)

    def _windows(self, utterances: Utterances) -> Utterances:
        """Each recording's windows as sequences of their own, labelled with its speaker."""
        if self.window_ is None:
            return utterances
        windows, owner = cut(utterances.sequences, *self.window_)
        sources = tuple(f"{utterances.sources[i]} (window {k})" for k, i in enumerate(owner))
        return Utterances(windows, utterances.labels[owner], utterances.speakers, sources)

    def _train(self, utterances: Utterances, what: str, *, verbose: int | str = 0) -> SpeakerClassifier:
        """A `SpeakerClassifier` trained on the windows of `utterances`, its preprocessing learned from them."""
        from .progress import run_networks

        windows = self._windows(utterances)
        cut_into = f" cut into {len(windows)} windows" if len(windows) > len(utterances) else ""
        started, n_networks = run_networks() or (0, 1)
        self._say(
            f"Training network {started + 1}/{n_networks}, {what}: {len(utterances)} recordings{cut_into} "
            f"of {len(set(utterances.labels))} speakers."
        )
        classifier = self._classifier(self.features_, verbose=verbose)
        return classifier.fit(windows.sequences, windows.labels)

    def _open_set_scorer(self, classifier: SpeakerClassifier | FastClassifier, enrolled: Utterances) -> OpenSetScorer:
        """Open-set references of `classifier`: the embeddings and feature statistics of the enrolled windows."""
        from .openset import OpenSetScorer

        windows = self._windows(enrolled)
        sequences = windows.sequences
        return OpenSetScorer.fit(
            classifier.embed(sequences), classifier.preprocessing_.apply(sequences), windows.labels, classifier.classes_
        )

    def _recording_proba(self, classifier: SpeakerClassifier | FastClassifier, sequences: Sequence) -> np.ndarray:
        """Speaker probabilities (n, n_speakers) of recordings: the means over their windows."""
        return over_windows(classifier.predict_proba, sequences, self.window_)

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
        """Train on an `Extraction` or a speaker folder: validate, calibrate, then refit on everything.

        1. Hold out `validation_fraction` of each speaker's recordings; train on the rest and
           measure closed-set accuracy on the held-out part (``validation_``).
        2. With "auto" and at least three speakers, calibrate the threshold: train
           `calibration_folds` networks, each without a group of speakers, and score the
           held-out recordings of the speakers it knows (genuine) and of those it does not
           (strangers); pick the threshold at `operating_point` (``operating_point_``).
        3. With `refit`, train the saved network on every recording; its enrolment references
           for open-set scoring are every recording's embedding.

        Sets ``features_``, ``source_rates_``, ``classifier_``, ``scorer_``,
        ``operating_point_``, ``threshold_`` and how it was chosen (``threshold_choice_``,
        `vowels.openset.ThresholdChoice`), ``validation_``, ``failures_``.
        """
        from sklearn.model_selection import train_test_split

        from .progress import training_run

        self._check_params()
        if not isinstance(data, Extraction):
            data = load_speaker_folders(
                data, self.features, n_jobs=n_jobs, progress=progress, match_rate=self.match_rate
            )
        u = data.utterances
        if UNKNOWN in u.speakers:
            raise DataError(f"a speaker may not be named {UNKNOWN!r}: that is the answer for no match; rename it.")
        if len(u.speakers) < 2:
            raise DataError(f"training needs at least 2 speakers; got {[str(s) for s in u.speakers]}.")
        indices = np.arange(len(u))
        validation = np.array([], dtype=int)
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
        self.features_, self.source_rates_, self.failures_ = data.config, dict(data.source_rates), data.failures
        self.fusion_: ScoreFusion | None = None
        self.voiceprints_: VoiceprintScorer | None = None
        start = time.perf_counter()
        final_on_all = self.refit and len(held) > 0
        obstacle = self._calibration_obstacle(u, held) if self.threshold == "auto" else "not asked"
        n_networks = 1 + int(final_on_all) + (len(self._calibration_groups(train)) if obstacle is None else 0)
        with training_run(n_networks, self.max_epochs):
            self._fit_networks(u, train, held, indices, validation, obstacle, final_on_all)
        self.validation_.update(
            train_seconds=round(time.perf_counter() - start, 3),
            refit=bool(final_on_all),
            n_final_train=len(u if final_on_all else train),
        )
        return self

    def _fit_networks(
        self,
        u: Utterances,
        train: Utterances,
        held: Utterances,
        indices: np.ndarray,
        validation: np.ndarray,
        obstacle: str | None,
        final_on_all: bool,
    ) -> None:
        """`fit`'s trainings (the network on the split, the calibration networks, the final one) and scorers."""
        vectors = None
        self.classifier_ = self._train(train, "validation split held out", verbose=self.verbose)
        self.validation_ = {"n_train": len(train)}
        if len(held):
            fast = self.classifier_.to_numpy()
            predicted = fast.classes_[np.argmax(self._recording_proba(fast, held.sequences), axis=1)]
            correct = predicted == held.labels
            self.validation_.update(
                accuracy=float(correct.mean()), n_correct=int(correct.sum()), n_validation=int(len(held))
            )
        self.operating_point_ = None
        if self.threshold != "auto":
            self.threshold_choice_ = ThresholdChoice("given", float(self.threshold))
        elif obstacle is not None:
            self.threshold_choice_ = ThresholdChoice("default", -1.0, reason=obstacle)
            self._say(f"Unknown-speaker threshold not calibrated ({obstacle}); every recording is named.")
        else:
            vectors = self._training_voice_vectors(u) if self.voice_encoder else None
            voices = None if vectors is None else (vectors[indices], vectors[validation])
            self.operating_point_ = self._calibrate(train, held, voices)
            self.threshold_choice_ = ThresholdChoice.calibrated(self.operating_point_)
        if final_on_all:
            self.classifier_ = self._train(u, "the saved model, on every recording", verbose=self.verbose)
        enrolled = u if final_on_all else train
        self.scorer_: OpenSetScorer | None = self._open_set_scorer(self.classifier_.to_numpy(), enrolled)
        if self.fusion_ is not None and vectors is not None:
            enrolled_vectors = vectors if final_on_all else vectors[indices]
            self.voiceprints_ = VoiceprintScorer.fit(
                enrolled_vectors, enrolled.labels, self.classes_, self._scoring(train)
            )
        self.threshold_ = self.threshold_choice_.threshold

    @staticmethod
    def _scoring(u: Utterances) -> str:
        """The encoder's scoring (`vowels.voiceprints.choose_scoring`) for these speakers' recordings."""
        return choose_scoring({str(s): int(np.sum(u.labels == s)) for s in u.speakers})

    def _training_voice_vectors(self, u: Utterances) -> np.ndarray | None:
        """The encoder's embedding of every training recording, or None (and why, said) when one cannot be read."""
        from .voiceprints import embed_paths

        self._say(f"Embedding {len(u)} recordings with the pretrained speaker encoder.")
        vectors, _, failures = embed_paths(u.sources)
        if failures:
            self._say(f"Speaker encoder not used: {failures[0].message}")
            return None
        return vectors

    def _calibration_obstacle(self, u: Utterances, held: Utterances) -> str | None:
        """Why the threshold cannot be calibrated on these data, or None."""
        if len(u.speakers) < 3:
            return "needs at least 3 speakers, so that each left-out group leaves 2 to train on"
        if not len(held):
            return "needs a validation split (validation_fraction > 0)"
        if any(np.sum(held.labels == s) < 1 for s in u.speakers):
            return "every speaker needs a held-out recording"
        return None

    def _calibration_groups(self, train: Utterances) -> list[np.ndarray]:
        """The groups of speakers left out in turn by the calibration networks, one network each."""
        speakers = np.array(train.speakers)
        n_folds = min(self.calibration_folds, len(speakers))
        order = np.random.default_rng(self.random_state).permutation(len(speakers))
        groups = [speakers[np.sort(g)] for g in np.array_split(order, n_folds)]
        if any(len(speakers) - len(g) < 2 for g in groups):
            groups = [np.array([s]) for s in speakers]
        return groups

    def _calibrate(
        self, train: Utterances, held: Utterances, voices: tuple[np.ndarray, np.ndarray] | None = None
    ) -> Any:
        """Genuine and stranger scores of networks trained without each group of speakers, and the threshold.

        With `voices` (the encoder's embeddings of `train` and `held`), the encoder scores the same
        recordings against the voiceprints of the speakers each network knows, and the fused score
        is chosen (``fusion_``) and calibrated instead of the network's alone.
        """
        from .fusion import CalibrationFold
        from .openset import choose_threshold

        groups = self._calibration_groups(train)
        genuine: list[np.ndarray] = []
        impostor: list[np.ndarray] = []
        folds: list[CalibrationFold] = []
        for k, strangers in enumerate(groups, start=1):
            known_rows = np.flatnonzero(~np.isin(train.labels, strangers))
            known_train = train.subset(known_rows)
            classifier = self._train(
                known_train,
                f"calibration {k}/{len(groups)} (strangers: {', '.join(strangers)})",
                verbose=self.verbose,
            ).to_numpy()
            all_scores = self._recording_open_set(
                classifier, self._open_set_scorer(classifier, known_train), held.sequences
            )
            is_stranger = np.isin(held.labels, strangers)
            if voices is not None:
                prints = VoiceprintScorer.fit(
                    voices[0][known_rows], known_train.labels, classifier.classes_, self._scoring(train)
                )
                column = {str(c): i for i, c in enumerate(classifier.classes_)}
                truth = np.array([-1 if s else column[str(label)] for label, s in zip(held.labels, is_stranger)])
                folds.append(CalibrationFold(all_scores, prints.scores(voices[1]), truth))
                continue
            nearest = np.argmax(self._recording_proba(classifier, held.sequences), axis=1)
            scores = all_scores[np.arange(len(held)), nearest]
            genuine.append(scores[~is_stranger])
            impostor.append(scores[is_stranger])
        if folds:
            self.fusion_, fused_genuine, fused_impostor = ScoreFusion.choose(folds)
            return choose_threshold(fused_genuine, fused_impostor, self.operating_point)
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

    @property
    def preprocessing_(self) -> Preprocessing:
        """What the network does to features as extracted before it reads them: the deltas and
        standardisation `features_` asks for, learned from the training recordings."""
        self._check_fitted()
        return self.classifier_.preprocessing_

    def predict_proba(self, sequences: Sequence[np.ndarray]) -> np.ndarray:
        """Speaker probabilities (n_sequences, n_speakers) of feature sequences as extracted."""
        self._check_fitted()
        return self.classifier_.predict_proba(sequences)

    def identify(self, sequences: Sequence[np.ndarray], voice_vectors: np.ndarray | None = None) -> Identification:
        """Probabilities, most probable speaker and the open-set scores, for feature sequences as extracted.

        A model that fuses the speaker encoder's score (``fusion_``) needs the recordings' encoder
        embeddings too (`voice_vectors`); its nearest speaker is then the one with the highest
        fused score, and a recording without speech (a NaN row) scores -1 for every speaker.
        """
        self._check_fitted()
        probabilities = self._recording_proba(self.classifier_, sequences)
        nearest = np.argmax(probabilities, axis=1)
        if self.scorer_ is None:
            all_scores = probabilities
        else:
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
            Features of one recording, as extracted (`vowels.extraction.extract_files`).
        chunk_seconds : float > 0, default=0.1
            Audio per answer, rounded to whole frames (at least one).

        Returns
        -------
        seconds : np.ndarray of float, shape (n_chunks,)
            Time, from the start of the features, at which each answer is given.
        probabilities : np.ndarray of float, shape (n_chunks, n_speakers)
            The answer after each chunk; the last equals `predict_proba` of the whole recording.
        """
        self._check_fitted()
        check_seconds(chunk_seconds, "chunk_seconds")
        hop_seconds = self.features_.hop_ms / 1000
        chunk_frames = max(1, round(chunk_seconds / hop_seconds))
        probabilities = self.classifier_.stream_proba(sequence, chunk_frames=chunk_frames)
        ends = np.minimum(np.arange(1, len(probabilities) + 1) * chunk_frames, len(sequence))
        return ends * hop_seconds, probabilities

    def answer(self, identification: Identification, *, threshold: float | None = None) -> np.ndarray:
        """Speaker names; `UNKNOWN` where the open-set score is below `threshold` (default the model's)."""
        threshold = self.threshold_ if threshold is None else threshold
        names = self.classes_[identification.nearest].astype(object)
        names[identification.scores < threshold] = UNKNOWN
        return names.astype(str)

    def voice_vectors(self, paths: Sequence[str | os.PathLike[str]]) -> np.ndarray | None:
        """The encoder's embeddings of `paths` when the model fuses its score, else None; the row of a recording
        in which no speech was found (`vowels.voice_activity`) is NaN, and `identify` answers it unknown."""
        if self.fusion_ is None:
            return None
        from .voiceprints import embed_paths

        vectors, speech, failures = embed_paths(paths)
        if failures:
            raise DataError(failures[0].message)
        vectors[~speech] = np.nan
        return vectors

    def check_threshold(self, threshold: float | None) -> None:
        """Refuse a `threshold` this model cannot use (None: its own)."""
        if threshold is not None:
            check_threshold(threshold, low=-1 if self.scorer_ is not None else 0)

    def classify_files(
        self,
        paths: Sequence[str | os.PathLike[str]],
        *,
        threshold: float | None = None,
        n_jobs: int = 1,
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
        self._check_fitted()
        self.check_threshold(threshold)
        features, failures = extract_files(paths, self.features_, n_jobs=n_jobs, dsp=self.dsp_)
        return self.classify_features(paths, features, threshold=threshold), failures

    def classify_features(
        self,
        paths: Sequence[str | os.PathLike[str]],
        features: Sequence[np.ndarray | None],
        *,
        threshold: float | None = None,
    ) -> list[Classification]:
        """Who spoke each file, from its features as `vowels.extraction.extract_files` gave them.

        `features` holds None for a file that could not be used; it gets no answer. The rest is
        as `classify_files`, which extracts the features and calls this.
        """
        from .audio import sample_rate_of

        self._check_fitted()
        self.check_threshold(threshold)
        good = [i for i, f in enumerate(features) if f is not None]
        if not good:
            return []
        identification = self.identify(
            [f for f in features if f is not None], self.voice_vectors([paths[i] for i in good])
        )
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
        return results

    def evaluate_folder(
        self,
        folder: str | os.PathLike[str],
        *,
        threshold: float | None = None,
        n_jobs: int = 1,
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
        self.check_threshold(threshold)
        data = load_speaker_folders(
            folder, self.features_, n_jobs=n_jobs, progress=progress, min_speakers=1, dsp=self.dsp_
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
        """Write the model bundle: the network with its preprocessing, and in metadata.json the feature
        config, open-set operating point and threshold; the open-set references in ``openset.npz``."""
        from .inference import FastClassifier

        self._check_fitted()
        if isinstance(self.classifier_, FastClassifier):
            raise ParameterError("a model loaded with engine='fast' cannot be saved; load it with engine='keras'.")
        from .openset import SCORING

        extra = {
            "features": self.features_.to_dict(),
            "source_rates": {str(r): n for r, n in self.source_rates_.items()},
            "unknown_threshold": self.threshold_,
            "open_set": {
                "scoring": SCORING if self.scorer_ is not None else "probability",
                "threshold_choice": self.threshold_choice_.to_dict(),
                "operating_point": None if self.operating_point_ is None else self.operating_point_.to_dict(),
                "fusion": None if self.fusion_ is None else self.fusion_.to_dict(),
            },
            "validation": self.validation_,
            PARAMS_ENTRY: {k: v for k, v in self.get_params().items() if k not in ("features", "verbose")},
        }
        files = {OPENSET_FILE: self.scorer_.to_npz()} if self.scorer_ is not None else {}
        if self.voiceprints_ is not None:
            buffer = io.BytesIO()
            np.savez(
                buffer,
                embeddings=self.voiceprints_.embeddings,
                labels=self.voiceprints_.labels,
                scoring=np.array(self.voiceprints_.scoring),
            )
            files[VOICEPRINTS_FILE] = buffer.getvalue()
        return self.classifier_.save(path, force=force, metrics=self.validation_, extra=extra, extra_files=files)

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, engine: str = "keras") -> RecordingClassifier:
        """Load a bundle written by `save`, checked as `SpeakerClassifier.load` checks it.

        The training settings (`max_epochs`, `mini_batch_size`, `learning_rate`) come back from
        the network's saved training options; the feature settings from ``features``.

        Parameters
        ----------
        path : path-like
        engine : {"keras", "fast"}, default="keras"
            "keras": the Keras model and librosa features, as in training. "fast":
            `vowels.inference.FastClassifier` and `vowels.dsp` features, the same
            probabilities (within 1e-5) without importing TensorFlow, librosa or scikit-learn,
            so a new process answers in well under a second; the model cannot be re-saved.
            The model's ``dsp_`` ("librosa" or "numpy") says which computes its features.
        """
        from .bundle import METADATA_FILE
        from .openset import OpenSetScorer, OperatingPoint

        check_choice(engine, "engine", ENGINES)
        classifier: SpeakerClassifier | FastClassifier
        if engine == "fast":
            from .inference import FastClassifier

            classifier = FastClassifier.load(path)
        else:
            from .classifier import SpeakerClassifier

            classifier = SpeakerClassifier.load(path)
        metadata: BundleMetadata | None = classifier.metadata_
        if metadata is None or metadata.features is None:
            raise BundleError(
                f"{Path(path)}: this model was trained on Japanese Vowels sequences, not recordings "
                "(no feature configuration in metadata.json); train one with 'vowels train DIR'."
            )
        where = Path(path) / METADATA_FILE
        if classifier.mode is None or classifier.n_hidden is None:
            raise BundleError(f"{where}: a {classifier.architecture} network cannot be a recordings model; retrain it.")
        with bundle_entries(where, "missing or invalid recording settings"):
            features = FeatureConfig.from_dict(metadata.features)
            model = cls(**{**metadata.entries[PARAMS_ENTRY], "features": features})
            model._check_windows()
            model.features_ = features
            model.source_rates_ = dict(metadata.source_rates)
            model.threshold_choice_ = ThresholdChoice.from_dict(metadata.open_set["threshold_choice"])
            model.threshold_ = model.threshold_choice_.threshold
            model.validation_ = dict(metadata.validation)
            point = metadata.open_set.get("operating_point")
            model.operating_point_ = None if point is None else OperatingPoint.from_dict(point)
        n_features = model.features_.n_features
        if classifier.n_features_in_ != n_features:
            raise BundleError(
                f"{where}: the network reads {classifier.n_features_in_} features per frame, but the feature "
                f"settings give {n_features}; retrain or re-copy the bundle."
            )
        model.scorer_ = None
        if OPENSET_FILE in metadata.extra_files:
            scorer = OpenSetScorer.from_npz(Path(path) / OPENSET_FILE)
            if list(scorer.classes) != [str(c) for c in classifier.classes_]:
                raise BundleError(f"{Path(path) / OPENSET_FILE}: enrolled speakers differ from the model's classes.")
            model.scorer_ = scorer
        model.fusion_, model.voiceprints_ = None, None
        fusion = metadata.open_set.get("fusion")
        if fusion is not None:
            with bundle_entries(where, "missing or invalid speaker-encoder fusion", "retrain the model"):
                model.fusion_ = ScoreFusion.from_dict(fusion)
                with np.load(Path(path) / VOICEPRINTS_FILE, allow_pickle=False) as arrays:
                    embeddings, labels = arrays["embeddings"].astype(np.float32), arrays["labels"].astype(str)
                    model.voiceprints_ = VoiceprintScorer.fit(
                        embeddings, labels, [str(c) for c in classifier.classes_], str(arrays["scoring"])
                    )
        with bundle_entries(where, "invalid unknown_threshold"):
            model.check_threshold(model.threshold_)
        model.classifier_ = classifier
        model.failures_ = ()
        model.dsp_ = "numpy" if engine == "fast" else "librosa"
        return model
