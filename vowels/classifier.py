"""`SpeakerClassifier`: the BiLSTM recipe and the other architectures as a scikit-learn estimator, saved as a bundle."""

from __future__ import annotations

import contextlib
import datetime as _dt
import logging
import os
import warnings
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from .augmentation import Augmentation
from .batching import batching_of
from .bundle import (
    FAST_FILES,
    METADATA_FILE,
    MODEL_FILE,
    NUMPY_WEIGHTS_FILE,
    ONNX_FILE,
    bundle_entries,
    read_bundle,
    write_metadata,
)
from .datasets import Utterances, check_sequences
from .errors import BundleError, DataError, NotFittedError, ParameterError
from .files import FORMAT_VERSION, atomic_folder, sha256_of, write_bytes
from .inference import FastClassifier, NumpyNetwork, SequencePredictor, SequencesLike, weights_npz
from .names import ARCHITECTURES, MODES, RECURRENT
from .preprocessing import Preprocessing
from .provenance import library_versions
from .recipes import ARCHITECTURE_OPTIONS
from .training import TrainingHistory, TrainingOptions, fit_arrays, seed_everything, train_network
from .validation import check_choice, check_int, check_number, check_seed, check_verbose

__all__ = ["SpeakerClassifier"]


@dataclass(kw_only=True, repr=False, eq=False)
class SpeakerClassifier(SequencePredictor, ClassifierMixin, BaseEstimator):
    """Name the speaker of a sequence with the MATLAB tutorial's BiLSTM, or another network architecture.

    Parameters
    ----------
    architecture : {"bilstm", "lstm", "dnn", "fcn"}, default="bilstm"
        The tutorial's BiLSTM; a forward-only LSTM (which can `stream_proba`); a frame-level network
        whose frames vote, or Wang et al.'s fully convolutional network (`vowels.model`).
    mode : {"matlab", "padded", "masked"}, default="matlab"
        What the BiLSTM's backward direction returns (see `vowels.model`); (Bi)LSTM only.
    n_hidden, n_layers : int, default=100, 1
        Hidden units per direction, and stacked (Bi)LSTM layers; (Bi)LSTM only.
    max_epochs, mini_batch_size : int, default=None
        Passes over the training set, and sequences per mini-batch (frames, for the DNN).
    learning_rate : float, default=None
        Adam's initial learning rate. These three settings override `options`' (for `GridSearchCV`); None keeps
        its value (100, 27 and 1e-3 for the tutorial).
    options : TrainingOptions, default=None
        The other training options; None means the architecture's (`vowels.recipes.ARCHITECTURE_OPTIONS`, the
        tutorial's for the (Bi)LSTM).
    resample_length : int, default=None
        FCN only: frames every sequence is resampled to; None takes the longest training sequence's.
    sort_by_length : bool, default=True
        Sort sequences by length before batching, for training and prediction.
    delta_width : int, default=0
        Append each feature's slope over this many frames (odd, >= 3); 0 appends none.
    standardize : bool, default=False
        Standardise each feature (after deltas) with the training frames' mean and standard deviation.
    dropout : float in [0, 1), default=0.0
        Dropout rate on the BiLSTM output during training.
    time_warp, noise : float, default=0.0
        Each training epoch scales every sequence's length by a random factor in ``[1 - time_warp, 1 + time_warp]``
        (`time_warp` in [0, 1)) and adds Gaussian noise of standard deviation `noise` (>= 0) to the preprocessed
        features.
    n_members : int, default=1
        Networks trained side by side from different initial weights, their probabilities averaged.
    random_state : int, default=0
        Seeds weights and any shuffling.
    verbose : int or "auto", default="auto"
        1 a line per epoch on stderr (`vowels.progress`); 0 nothing; ``"auto"`` 1 in a notebook or
        at the Python prompt, else 0. A loaded model has 0.

    Attributes
    ----------
    classes_ : np.ndarray of str
        Speaker names, in the order of `predict_proba`'s columns.
    n_features_in_ : int
    model_ : keras.Model
    history_ : TrainingHistory
    """

    architecture: str = "bilstm"
    mode: str = "matlab"
    n_hidden: int = 100
    n_layers: int = 1
    max_epochs: int | None = None
    mini_batch_size: int | None = None
    learning_rate: float | None = None
    options: TrainingOptions | None = None
    resample_length: int | None = None
    sort_by_length: bool = True
    delta_width: int = 0
    standardize: bool = False
    dropout: float = 0.0
    time_warp: float = 0.0
    noise: float = 0.0
    n_members: int = 1
    random_state: int = 0
    verbose: int | str = "auto"

    @property
    def options_(self) -> TrainingOptions:
        """The training options in force: `options` with the flat settings that were given."""
        options = (
            TrainingOptions(**ARCHITECTURE_OPTIONS.get(self.architecture, {})) if self.options is None else self.options
        )
        if not isinstance(options, TrainingOptions):
            raise ParameterError(f"options must be a TrainingOptions; got {type(options).__name__}.")
        if self.learning_rate is not None:
            check_number(self.learning_rate, "learning_rate", low=0, low_open=True)
        given: dict[str, Any] = {"max_epochs": self.max_epochs, "mini_batch_size": self.mini_batch_size}
        given["initial_learn_rate"] = self.learning_rate
        return replace(options, **{name: value for name, value in given.items() if value is not None})

    @property
    def batching_(self) -> dict:
        """Mini-batch size and padding of `options_` (`vowels.batching.batching_of`), for prediction."""
        return batching_of(self.options_.to_dict())

    def fit(self, X: SequencesLike, y: Sequence[str] | np.ndarray | None = None) -> SpeakerClassifier:
        """Train on sequences `X` with speaker labels `y` (taken from `X` if it is `Utterances`)."""
        check_choice(self.architecture, "architecture", ARCHITECTURES)
        check_choice(self.mode, "mode", MODES)
        check_int(self.resample_length, "resample_length", none_ok=True)
        check_verbose(self.verbose)
        options = self.options_
        classes = np.array(X.speakers) if isinstance(X, Utterances) else None
        y = X.labels if y is None and isinstance(X, Utterances) else y
        if y is None:
            raise ParameterError("y is required unless X is an Utterances with labels.")
        sequences = check_sequences(X)
        y = np.asarray(y).astype(str)
        if len(y) != len(sequences):
            raise DataError(f"X has {len(sequences)} sequences but y has {len(y)} labels.")
        self.classes_ = np.unique(y) if classes is None else classes
        if len(self.classes_) < 2:
            raise DataError(f"training needs at least 2 speakers; got {[str(c) for c in self.classes_]}.")
        self.n_features_in_ = sequences[0].shape[1]
        codes = _codes(y, self.classes_)
        self.preprocessing_ = Preprocessing.fit(sequences, delta_width=self.delta_width, standardize=self.standardize)
        if self.architecture == "fcn":
            self.resample_length_ = self.resample_length or max(len(s) for s in sequences)
        sequences = self._network_inputs(sequences)
        check_seed(self.random_state, name="random_state")
        seed_everything(self.random_state)
        n_inputs = self.preprocessing_.n_outputs(self.n_features_in_)
        train = self._fit_recurrent if self.architecture in RECURRENT else self._fit_by_keras
        self.history_ = train(sequences, codes, n_inputs, options)
        return self

    def _fit_recurrent(
        self, sequences: list[np.ndarray], codes: np.ndarray, n_inputs: int, options: TrainingOptions
    ) -> TrainingHistory:
        """The tutorial's training (`vowels.training`): sorted, padded mini-batches, MATLAB's Adam."""
        from .model import build_network

        if self.sort_by_length:
            order = np.argsort([len(s) for s in sequences], kind="stable")
            sequences, codes = [sequences[i] for i in order], codes[order]
        self.model_ = build_network(
            n_inputs,
            len(self.classes_),
            mode=self.mode,
            n_hidden=self.n_hidden,
            l2=options.l2_regularization,
            mask_value=options.sequence_padding_value,
            dropout=self.dropout,
            n_members=self.n_members,
            architecture=self.architecture,
            n_layers=self.n_layers,
        )
        return train_network(
            self.model_,
            sequences,
            codes,
            options,
            seed=self.random_state,
            verbose=self.verbose,
            augmentation=Augmentation(time_warp=self.time_warp, noise=self.noise),
            sort_by_length=self.sort_by_length and options.shuffle == "never",
        )

    def _fit_by_keras(
        self, sequences: list[np.ndarray], codes: np.ndarray, n_inputs: int, options: TrainingOptions
    ) -> TrainingHistory:
        """Keras' fit: the FCN on sequences of one length with dl-4-tsc's schedule, the DNN on every frame."""
        from .model import build_fcn, build_frame_network

        if self.architecture == "fcn":
            self.model_ = build_fcn(n_inputs, len(self.classes_))
            return fit_arrays(self.model_, np.stack(sequences), codes, options, verbose=self.verbose, schedule=True)
        frame_network, self.model_ = build_frame_network(
            n_inputs, len(self.classes_), dropout=self.dropout, mask_value=options.sequence_padding_value
        )
        frame_codes = np.repeat(codes, [len(s) for s in sequences])
        return fit_arrays(frame_network, np.concatenate(sequences), frame_codes, options, verbose=self.verbose)

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise NotFittedError("this SpeakerClassifier is not fitted yet; call fit or SpeakerClassifier.load first.")

    def _forward(self) -> Callable[[np.ndarray], np.ndarray]:
        return self.model_.predict_on_batch

    def embed(self, X: SequencesLike) -> np.ndarray:
        """Utterance embeddings (n_sequences, n_embedding) for open-set scoring (`vowels.inference`)."""
        return self.to_numpy().embed(X)

    def to_numpy(self) -> FastClassifier:
        """This fitted one-layer (Bi)LSTM as a `vowels.inference.FastClassifier` (NumPy; the same probabilities)."""
        from .model import weight_arrays

        self._check_fitted()
        if not self._has_plain_weights():
            raise ParameterError(
                f"to_numpy needs a one-layer bilstm or lstm; this is a {self.n_layers}-layer {self.architecture}. "
                "Its bundle classifies without Keras through ONNX (FastClassifier.load)."
            )
        return FastClassifier(
            NumpyNetwork(weight_arrays(self.model_), mode=self.mode, mask_value=self.options_.sequence_padding_value),
            classes=self.classes_,
            batching=self.batching_,
            sort_by_length=self.sort_by_length,
            random_state=self.random_state,
            preprocessing=self.preprocessing_,
            n_features=self.n_features_in_,
            architecture=self.architecture,
        )

    def _has_plain_weights(self) -> bool:
        """Whether `vowels.inference.NumpyNetwork` can run this network (else the bundle carries ONNX)."""
        return self.architecture in RECURRENT and self.n_layers == 1

    def stream_proba(self, sequence: np.ndarray, *, chunk_frames: int = 1) -> np.ndarray:
        """A forward-only LSTM's speaker probabilities (n_chunks, n_classes) after each chunk of `sequence`'s
        frames (`vowels.inference.FastClassifier.stream_proba`)."""
        return self.to_numpy().stream_proba(sequence, chunk_frames=chunk_frames)

    def score(
        self, X: SequencesLike, y: Sequence[str] | np.ndarray | None = None, sample_weight: np.ndarray | None = None
    ) -> float:
        """Accuracy on `X` (labels from `X` if it is `Utterances`)."""
        if y is None and isinstance(X, Utterances):
            y = X.labels
        return super().score(X, np.asarray(y).astype(str), sample_weight=sample_weight)

    def save(
        self,
        path: str | os.PathLike[str],
        *,
        force: bool = False,
        metrics: dict | None = None,
        extra: dict | None = None,
        extra_files: dict[str, bytes] | None = None,
    ) -> Path:
        """Write the model bundle folder at `path` atomically (replacing one only with `force`): ``model.keras``,
        the network for `vowels.inference.FastClassifier` (``weights.npz`` for a one-layer (Bi)LSTM, else
        ``model.onnx``), `extra_files` (name -> bytes) and ``metadata.json`` with every file's sha256."""
        from .model import weight_arrays

        self._check_fitted()
        path = Path(path)
        fast_file = NUMPY_WEIGHTS_FILE if self._has_plain_weights() else ONNX_FILE
        fast_entry = next(entry for entry, name in FAST_FILES.items() if name == fast_file)
        with atomic_folder(path, force=force) as staging:
            self.model_.save(staging / MODEL_FILE)
            if fast_file == ONNX_FILE:
                _export_onnx(self.model_, staging / ONNX_FILE)
            else:
                write_bytes(staging / NUMPY_WEIGHTS_FILE, weights_npz(weight_arrays(self.model_)))
            for name, data in (extra_files or {}).items():
                write_bytes(staging / name, data)
            metadata = {
                "format": "vowels-model",
                "format_version": FORMAT_VERSION,
                "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
                "classes": [str(c) for c in self.classes_],
                "n_features": int(self.n_features_in_),
                "params": {
                    **{name: value for name, value in self.get_params().items() if name != "verbose"},
                    "resample_length": self.resample_length_ if self.architecture == "fcn" else None,
                    "options": self.options_.to_dict(),
                },
                "preprocessing": self.preprocessing_.to_dict(),
                "metrics": metrics or {},
                "library_versions": library_versions(),
                "weights_sha256": sha256_of(staging / MODEL_FILE),
                fast_entry: sha256_of(staging / fast_file),
                "extra_files": {name: sha256_of(staging / name) for name in extra_files or {}},
                **(extra or {}),
            }
            write_metadata(staging, metadata)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> SpeakerClassifier:
        """Load a bundle written by `save`, after checking it is whole and untampered."""
        import keras

        from .model import LastStep, MaskedLogMean  # noqa: F401  registers the custom layers

        path = Path(path)
        model_file, metadata = path / MODEL_FILE, read_bundle(path)
        with bundle_entries(path / METADATA_FILE):
            params = metadata.params
            clf = cls(**{**params, "options": TrainingOptions.from_dict(params["options"]), "verbose": 0})
            clf.classes_ = np.array(metadata.classes, dtype=str)
            clf.n_features_in_ = metadata.n_features
            clf.preprocessing_ = Preprocessing.from_dict(metadata.preprocessing)
            if clf.resample_length is not None:
                clf.resample_length_ = clf.resample_length
        try:
            clf.model_ = keras.saving.load_model(model_file, safe_mode=True)
        except (OSError, ValueError, TypeError, KeyError, zipfile.BadZipFile) as exc:
            raise BundleError(f"{model_file}: cannot be loaded as a Keras model ({exc}).") from None
        try:  # a network that does not fit the metadata is refused, as FastClassifier refuses it
            n_inputs, n_outputs = clf.model_.input_shape[-1], clf.model_.output_shape[-1]
        except (AttributeError, TypeError, IndexError, ValueError) as exc:
            raise BundleError(f"{model_file}: not a speaker network ({exc}); retrain or re-copy the bundle.") from None
        n_expected = clf.preprocessing_.n_outputs(clf.n_features_in_)
        if n_inputs != n_expected:
            raise BundleError(
                f"{model_file}: the network takes {n_inputs} inputs per frame, but {METADATA_FILE} gives "
                f"{clf.n_features_in_} features ({n_expected} after preprocessing); retrain or re-copy the bundle."
            )
        if n_outputs != len(clf.classes_):
            raise BundleError(
                f"{model_file}: the network has {n_outputs} outputs, but {METADATA_FILE} names {len(clf.classes_)} "
                "speakers; retrain or re-copy the bundle."
            )
        clf.metadata_ = metadata
        clf.history_ = TrainingHistory()
        return clf


def _export_onnx(model: Any, path: Path) -> None:
    """Write Keras `model` as ONNX at `path`, after calling it once (Keras exports only a called model)."""
    model(np.zeros((1, 1, model.input_shape[-1]), dtype=np.float32))
    logging.getLogger("tf2onnx").setLevel(logging.ERROR)
    with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet), warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        model.export(str(path), format="onnx", verbose=False)


def _codes(y: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Each label's index in `classes`; an unknown label is a `DataError`."""
    index = {name: i for i, name in enumerate(classes)}
    unknown = sorted(str(label) for label in set(y) - set(index))
    if unknown:
        raise DataError(f"labels {unknown} are not among the speakers {[str(c) for c in classes]}.")
    return np.array([index[label] for label in y], dtype=np.int64)
