"""The saved network's forward pass in NumPy, so that classifying never imports TensorFlow.

``import keras`` (with TensorFlow) costs 4.1-4.5 s in a new process on the development
machine, and ``import sklearn`` another 1-1.7 s, for a prediction that takes milliseconds. So
`SpeakerClassifier.save` writes the network's weights a second time, as plain arrays in
``weights.npz`` (no pickle; its sha256 is recorded in ``metadata.json`` and checked at load
like ``model.keras``'s), and `NumpyClassifier` runs the same network on them: the forward
and backward LSTM (Keras' gate order i, f, c, o; sigmoid and tanh) and the softmax layer, in
each of the three modes of `vowels.model`, on the same sorted, padded mini-batches as
`SpeakerClassifier.predict_proba`. Its probabilities equal Keras' to within 1e-5
(``tests/test_inference.py``). Bundles written before ``weights.npz`` existed load with Keras.
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np

from .batching import predict_in_batches
from .bundle import METADATA_FILE, NUMPY_WEIGHTS_FILE, read_bundle_metadata
from .datasets import Utterances, check_sequences
from .errors import BundleError, NotFittedError, ParameterError
from .names import MODES
from .preprocessing import Preprocessing
from .training import TrainingOptions

__all__ = ["NumpyClassifier", "NumpyNetwork", "has_numpy_weights", "npz_key", "weights_npz"]

WEIGHT_NAMES = (
    "forward_kernel",
    "forward_recurrent_kernel",
    "forward_bias",
    "backward_kernel",
    "backward_recurrent_kernel",
    "backward_bias",
    "dense_kernel",
    "dense_bias",
)


def npz_key(name: str, member: int, n_members: int) -> str:
    """The name of one member's weight in ``weights.npz``: plain for one network, ``member<i>_<name>`` else."""
    return name if n_members == 1 else f"member{member}_{name}"


def weights_npz(members: list[dict[str, np.ndarray]]) -> bytes:
    """The bytes of ``weights.npz`` for one dict of arrays per member, as `vowels.model.weight_arrays` gives."""
    if not members:
        raise ParameterError("weights_npz needs the weights of at least one network; got none.")
    stored = {}
    for member, arrays in enumerate(members):
        missing = sorted(set(WEIGHT_NAMES) - set(arrays))
        if missing:
            raise ParameterError(f"weights {missing} of member {member} are missing; expected {list(WEIGHT_NAMES)}.")
        for name in WEIGHT_NAMES:
            stored[npz_key(name, member, len(members))] = np.asarray(arrays[name], dtype=np.float32)
    buffer = io.BytesIO()
    cast(Any, np.savez)(buffer, **stored)
    return buffer.getvalue()


def has_numpy_weights(path: str | os.PathLike[str]) -> bool:
    """Whether the bundle folder at `path` holds ``weights.npz`` (written by vowels since 0.1)."""
    return (Path(path) / NUMPY_WEIGHTS_FILE).is_file()


def _sigmoid(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-x))


def _lstm(
    x: np.ndarray,
    mask: np.ndarray | None,
    weights: tuple[np.ndarray, np.ndarray, np.ndarray],
    *,
    backwards: bool,
    states: np.ndarray | None = None,
) -> np.ndarray:
    """Final hidden state (batch, n_hidden) of a Keras LSTM over `x` (batch, time, features).

    Where `mask` (batch, time) is False, the step is skipped: state and output carry over.
    `states`, if given (batch, time, n_hidden), receives the hidden state after each step.
    """
    kernel, recurrent_kernel, bias = weights
    n = recurrent_kernel.shape[0]
    inputs = x @ kernel + bias
    h = np.zeros((x.shape[0], n), dtype=np.float32)
    c = np.zeros_like(h)
    for t in range(x.shape[1] - 1, -1, -1) if backwards else range(x.shape[1]):
        z = inputs[:, t] + h @ recurrent_kernel
        i, f, o = _sigmoid(z[:, :n]), _sigmoid(z[:, n : 2 * n]), _sigmoid(z[:, 3 * n :])
        c_next = f * c + i * np.tanh(z[:, 2 * n : 3 * n])
        h_next = o * np.tanh(c_next)
        if mask is None:
            h, c = h_next, c_next
        else:
            keep = mask[:, t, np.newaxis]
            h, c = np.where(keep, h_next, h), np.where(keep, c_next, c)
        if states is not None:
            states[:, t] = h
    return h


def _member_weights(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """One network's weights as float32, after checking their shapes agree with each other."""
    w = {name: np.asarray(arrays[name], dtype=np.float32) for name in WEIGHT_NAMES}
    n_features, four_n = w["forward_kernel"].shape
    n = four_n // 4
    expected = {
        "kernel": (n_features, 4 * n),
        "recurrent_kernel": (n, 4 * n),
        "bias": (4 * n,),
    }
    for direction in ("forward", "backward"):
        for part, shape in expected.items():
            found = w[f"{direction}_{part}"].shape
            if found != shape:
                raise ParameterError(f"{direction}_{part} has shape {found}; expected {shape}.")
    if w["dense_kernel"].ndim != 2 or w["dense_kernel"].shape[0] != 2 * n:
        raise ParameterError(f"dense_kernel has shape {w['dense_kernel'].shape}; expected ({2 * n}, n_classes).")
    if w["dense_bias"].shape != (w["dense_kernel"].shape[1],):
        raise ParameterError(f"dense_bias has shape {w['dense_bias'].shape}; expected ({w['dense_kernel'].shape[1]},).")
    return w


class NumpyNetwork:
    """The BiLSTM classifier of `vowels.model.build_network`, on NumPy arrays.

    Parameters
    ----------
    arrays : dict of str to np.ndarray, or list of them
        The weights, named as in ``WEIGHT_NAMES``; a list holds one dict per member of an
        ensemble, whose probabilities are averaged.
    mode : {"matlab", "padded", "masked"}
    mask_value : float, default=0.0
        In ``"masked"`` mode, frames whose every feature equals this value are padding.
    """

    def __init__(
        self, arrays: dict[str, np.ndarray] | list[dict[str, np.ndarray]], *, mode: str, mask_value: float = 0.0
    ) -> None:
        if mode not in MODES:
            raise ParameterError(f"mode must be one of {list(MODES)}; got {mode!r}.")
        members = [_member_weights(a) for a in ([arrays] if isinstance(arrays, dict) else arrays)]
        if not members:
            raise ParameterError("NumpyNetwork needs the weights of at least one network; got none.")
        shapes = {(w["forward_kernel"].shape, w["dense_kernel"].shape) for w in members}
        if len(shapes) > 1:
            raise ParameterError(f"the members' weights differ in shape: {sorted(shapes)}.")
        self.mode, self.mask_value = mode, float(mask_value)
        self.n_features = members[0]["forward_kernel"].shape[0]
        self.n_hidden = members[0]["forward_recurrent_kernel"].shape[0]
        self.n_classes = members[0]["dense_kernel"].shape[1]
        self.n_members = len(members)
        self._members = [
            (
                (w["forward_kernel"], w["forward_recurrent_kernel"], w["forward_bias"]),
                (w["backward_kernel"], w["backward_recurrent_kernel"], w["backward_bias"]),
                (w["dense_kernel"], w["dense_bias"]),
            )
            for w in members
        ]

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        """Speaker probabilities (batch, n_classes), float32, of a padded batch (batch, time, n_features)."""
        x = np.asarray(batch, dtype=np.float32)
        mask = np.any(x != np.float32(self.mask_value), axis=-1) if self.mode == "masked" else None
        # "matlab": the backward direction has read only the last padded frame (see vowels.model).
        backward_input = x[:, -1:] if self.mode == "matlab" else x
        total = np.zeros((x.shape[0], self.n_classes), dtype=np.float32)
        for forward_weights, backward_weights, (kernel, bias) in self._members:
            forward = _lstm(x, mask, forward_weights, backwards=False)
            backward = _lstm(backward_input, mask, backward_weights, backwards=True)
            logits = np.concatenate([forward, backward], axis=1) @ kernel + bias
            exp = np.exp(logits - logits.max(axis=1, keepdims=True))
            total += exp / exp.sum(axis=1, keepdims=True)
        return (total / self.n_members).astype(np.float32)

    @property
    def n_embedding(self) -> int:
        """Length of `embed`'s vectors: 2 * n_hidden per member."""
        return 2 * self.n_hidden * self.n_members

    def embed(self, batch: np.ndarray) -> np.ndarray:
        """Utterance embeddings (batch, `n_embedding`) of a padded batch (batch, time, n_features).

        Per member, both directions read only the true frames (frames not all equal to the
        mask value, in every mode), and the embedding is the mean of their hidden states over
        those frames: the BiLSTM's output sequence pooled over time. Of the final states, the
        mean, the standard deviation and their combinations, the mean told strangers from
        enrolled speakers best on held-out development data (see `vowels.openset`).
        """
        x = np.asarray(batch, dtype=np.float32)
        mask = np.any(x != np.float32(self.mask_value), axis=-1)
        weight = (mask / np.maximum(mask.sum(axis=1, keepdims=True), 1))[..., np.newaxis]
        parts = []
        states = np.zeros((*x.shape[:2], self.n_hidden), dtype=np.float32)
        for forward_weights, backward_weights, _ in self._members:
            for direction, backwards in ((forward_weights, False), (backward_weights, True)):
                _lstm(x, mask, direction, backwards=backwards, states=states)
                parts.append((states * weight).sum(axis=1))
        return np.concatenate(parts, axis=1)


class NumpyClassifier:
    """A saved `SpeakerClassifier` that predicts with `NumpyNetwork`: no Keras, no scikit-learn.

    Load it with `NumpyClassifier.load`. It has the fitted attributes a `SpeakerClassifier`
    loaded from the same bundle has (``classes_``, ``n_features_in_``, ``mode``,
    ``n_hidden``, ``options_``, ``metadata_``, ...) and its `predict_proba` and `predict`.
    """

    def __init__(
        self,
        network: NumpyNetwork,
        *,
        classes: np.ndarray,
        options: TrainingOptions,
        sort_by_length: bool = True,
        random_state: int = 0,
        metadata: dict | None = None,
        preprocessing: Preprocessing | None = None,
        n_features: int | None = None,
    ) -> None:
        self.network_ = network
        self.classes_ = np.asarray(classes, dtype=str)
        self.preprocessing_ = preprocessing or Preprocessing()
        self.n_features_in_ = network.n_features if n_features is None else n_features
        if self.preprocessing_.n_outputs(self.n_features_in_) != network.n_features:
            raise ParameterError(
                f"{self.n_features_in_} features per frame, preprocessed, do not fit a network of "
                f"{network.n_features} inputs."
            )
        self.mode, self.n_hidden, self.n_members = network.mode, network.n_hidden, network.n_members
        self.options_ = options
        self.sort_by_length = sort_by_length
        self.random_state = random_state
        self.metadata_ = metadata or {}
        if len(self.classes_) != network.n_classes:
            raise ParameterError(f"{len(self.classes_)} classes given for a network of {network.n_classes} outputs.")

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> NumpyClassifier:
        """Load a bundle written by `SpeakerClassifier.save`, checked as `SpeakerClassifier.load` checks it.

        Raises
        ------
        BundleError
            The bundle is missing, incomplete, tampered with, of another format version, or
            older than ``weights.npz`` (load that one with `SpeakerClassifier.load`).
        """
        path = Path(path)
        metadata = read_bundle_metadata(path)
        weights_file = path / NUMPY_WEIGHTS_FILE
        if "numpy_weights_sha256" not in metadata:
            raise BundleError(
                f"{path}: bundle has no {NUMPY_WEIGHTS_FILE} recorded in {METADATA_FILE} (written by an older "
                "vowels); load it with Keras (SpeakerClassifier.load, or --engine keras)."
            )
        try:
            n_members = int(metadata["params"].get("n_members", 1))
            with np.load(weights_file, allow_pickle=False) as data:
                members = [{name: data[npz_key(name, m, n_members)] for name in WEIGHT_NAMES} for m in range(n_members)]
                stored = len(data.files)
        except (OSError, ValueError, KeyError, TypeError, AttributeError, zipfile.BadZipFile) as exc:
            raise BundleError(f"{weights_file}: not readable as network weights ({exc}).") from None
        if stored != n_members * len(WEIGHT_NAMES):
            raise BundleError(
                f"{weights_file}: holds {stored} arrays, not the {n_members * len(WEIGHT_NAMES)} of the "
                f"{n_members} network(s) {METADATA_FILE} names; retrain or re-copy the bundle."
            )
        try:
            params = metadata["params"]
            options = TrainingOptions.from_dict(params["options"])
            network = NumpyNetwork(members, mode=params["mode"], mask_value=options.sequence_padding_value)
            clf = cls(
                network,
                classes=np.array(metadata["classes"], dtype=str),
                options=options,
                sort_by_length=params["sort_by_length"],
                random_state=params["random_state"],
                metadata=metadata,
                preprocessing=Preprocessing.from_dict(metadata.get("preprocessing")),
                n_features=int(metadata["n_features"]),
            )
            if network.n_hidden != params["n_hidden"]:
                raise ParameterError("the weights do not match n_features and n_hidden")
        except (KeyError, TypeError, ParameterError) as exc:
            raise BundleError(
                f"{path / METADATA_FILE}: missing or invalid entry, or weights that do not match it ({exc})."
            ) from None
        return clf

    def predict_proba(self, X: Utterances | list[np.ndarray] | np.ndarray) -> np.ndarray:
        """Probability of each speaker, shape (n_sequences, n_classes), as `SpeakerClassifier.predict_proba`."""
        if not hasattr(self, "network_"):
            raise NotFittedError("this NumpyClassifier has no network; use NumpyClassifier.load.")
        sequences = self.preprocessing_.apply(check_sequences(X, n_features=self.n_features_in_))
        return predict_in_batches(
            self.network_,
            sequences,
            n_outputs=len(self.classes_),
            sort=self.sort_by_length,
            **self.options_.batching(),
        )

    def predict(self, X: Utterances | list[np.ndarray] | np.ndarray) -> np.ndarray:
        """The most probable speaker of each sequence."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def embed(self, X: Utterances | Sequence[np.ndarray] | np.ndarray) -> np.ndarray:
        """Utterance embeddings (n_sequences, n_embedding), as `SpeakerClassifier.embed`."""
        sequences = self.preprocessing_.apply(check_sequences(X, n_features=self.n_features_in_))
        return predict_in_batches(
            self.network_.embed, sequences, n_outputs=self.network_.n_embedding, **self.options_.batching()
        )
