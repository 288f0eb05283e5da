"""How a fitted network answers (`SequencePredictor`, written once for both engines), and the fast engine: the saved
network's forward pass without TensorFlow (``import keras`` costs seconds), NumPy for a one-layer (Bi)LSTM
(``weights.npz``; its recurrence `lstm` is also the speaker encoder's), ONNX Runtime for the other architectures
(``model.onnx``); probabilities equal Keras' to within 1e-5."""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from .batching import batching_of, predict_in_batches
from .bundle import METADATA_FILE, NUMPY_WEIGHTS_FILE, ONNX_FILE, BundleMetadata, bundle_entries, read_bundle
from .datasets import Utterances, check_sequences
from .errors import BundleError, ParameterError
from .names import MODES
from .preprocessing import Preprocessing
from .validation import check_choice, check_int

__all__ = ["FastClassifier", "NumpyNetwork", "OnnxNetwork", "SequencePredictor", "SequencesLike", "lstm", "weights_npz"]

_LSTM_NAMES = tuple(f"{d}_{part}" for d in ("forward", "backward") for part in ("kernel", "recurrent_kernel", "bias"))
WEIGHT_NAMES = (*_LSTM_NAMES, "dense_kernel", "dense_bias")
FORWARD_WEIGHT_NAMES = tuple(name for name in WEIGHT_NAMES if not name.startswith("backward_"))
_ENTRY_OR_WEIGHTS = "missing or invalid entry, or weights that do not match it"


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function, without overflow warnings for large negative `x`."""
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-x))


def lstm(
    x: np.ndarray,
    mask: np.ndarray | None,
    weights: tuple[np.ndarray, np.ndarray, np.ndarray],
    *,
    backwards: bool,
    states: np.ndarray | None = None,
    carry: list[np.ndarray] | None = None,
) -> np.ndarray:
    """Final hidden state (batch, n_hidden) of a Keras LSTM over `x` (batch, time, features), skipping the steps
    where `mask` (batch, time) is False; `states` (batch, time, n_hidden), if given, receives each step's hidden
    state; `carry`, if given, is ``[h, c]`` to start from (zeros if empty) and is left holding the final one."""
    kernel, recurrent_kernel, bias = weights
    n = recurrent_kernel.shape[0]
    inputs = x @ kernel + bias
    h, c = carry or [np.zeros((x.shape[0], n), dtype=np.float32)] * 2
    for t in range(x.shape[1] - 1, -1, -1) if backwards else range(x.shape[1]):
        z = inputs[:, t] + h @ recurrent_kernel
        i, f, o = _sigmoid(z[:, :n]), _sigmoid(z[:, n : 2 * n]), _sigmoid(z[:, 3 * n :])
        c_next = f * c + i * np.tanh(z[:, 2 * n : 3 * n])
        keep = True if mask is None else mask[:, t, np.newaxis]
        h, c = np.where(keep, o * np.tanh(c_next), h), np.where(keep, c_next, c)
        if states is not None:
            states[:, t] = h
    if carry is not None:
        carry[:] = [h, c]
    return h


def _npz_key(name: str, member: int, n_members: int) -> str:
    """The name of one member's weight in ``weights.npz``: plain for one network, ``member<i>_<name>`` else."""
    return name if n_members == 1 else f"member{member}_{name}"


def weights_npz(members: list[dict[str, np.ndarray]]) -> bytes:
    """The bytes of ``weights.npz`` for one dict of arrays per member, as `vowels.model.weight_arrays` gives."""
    stored = {
        _npz_key(name, member, len(members)): np.asarray(array, dtype=np.float32)
        for member, arrays in enumerate(members)
        for name, array in arrays.items()
    }
    buffer = io.BytesIO()
    cast(Any, np.savez)(buffer, **stored)
    return buffer.getvalue()


def _member_weights(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """One network's weights as float32, after checking their shapes agree with each other."""
    names = WEIGHT_NAMES if any(name.startswith("backward_") for name in arrays) else FORWARD_WEIGHT_NAMES
    w = {name: np.asarray(arrays[name], dtype=np.float32) for name in names}
    n_features, four_n = w["forward_kernel"].shape
    n, n_directions, n_classes = four_n // 4, 2 if "backward_kernel" in w else 1, w["dense_kernel"].shape[-1]
    lstm_shapes = ((n_features, 4 * n), (n, 4 * n), (4 * n,)) * n_directions
    for name, shape in zip(w, (*lstm_shapes, (n_directions * n, n_classes), (n_classes,))):
        if w[name].shape != shape:
            raise ParameterError(f"{name} has shape {w[name].shape}; expected {shape}.")
    return w


class NumpyNetwork:
    """The one-layer (Bi)LSTM classifier of `vowels.model.build_network`, on NumPy arrays.

    Parameters
    ----------
    arrays : dict of str to np.ndarray, or list of them
        The weights, named as in ``WEIGHT_NAMES`` (no ``backward_*`` for a forward-only LSTM);
        a list holds one dict per member of an ensemble, whose probabilities are averaged.
    mode : {"matlab", "padded", "masked"}
    mask_value : float, default=0.0
        In ``"masked"`` mode, frames whose every feature equals this value are padding.
    """

    def __init__(
        self, arrays: dict[str, np.ndarray] | list[dict[str, np.ndarray]], *, mode: str, mask_value: float = 0.0
    ) -> None:
        check_choice(mode, "mode", MODES)
        members = [_member_weights(a) for a in ([arrays] if isinstance(arrays, dict) else arrays)]
        if not members:
            raise ParameterError("NumpyNetwork needs the weights of at least one network; got none.")
        shapes = {(w["forward_kernel"].shape, w["dense_kernel"].shape, "backward_kernel" in w) for w in members}
        if len(shapes) > 1:
            raise ParameterError(f"the members' weights differ in shape: {sorted(shapes)}.")
        self.mode, self.mask_value = mode, float(mask_value)
        (self.n_features, four_n), (_, self.n_classes), self.bidirectional = shapes.pop()
        self.n_hidden, self.n_members = four_n // 4, len(members)
        dense = [(w["dense_kernel"], w["dense_bias"]) for w in members]
        backward = [_gates(w, "backward") if self.bidirectional else None for w in members]
        self._members = list(zip([_gates(w, "forward") for w in members], backward, dense))

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        """Speaker probabilities (batch, n_classes), float32, of a padded batch (batch, time, n_features)."""
        x = np.asarray(batch, dtype=np.float32)
        mask = np.any(x != np.float32(self.mask_value), axis=-1) if self.mode == "masked" else None
        # "matlab": the backward direction has read only the last padded frame (see vowels.model).
        backward_input = x[:, -1:] if self.mode == "matlab" else x
        total = np.zeros((x.shape[0], self.n_classes), dtype=np.float32)
        for forward_weights, backward_weights, dense in self._members:
            states = [lstm(x, mask, forward_weights, backwards=False)]
            if backward_weights is not None:
                states.append(lstm(backward_input, mask, backward_weights, backwards=True))
            total += _softmax(np.concatenate(states, axis=1), dense)
        return (total / self.n_members).astype(np.float32)

    def stream(self, sequence: np.ndarray, *, chunk_frames: int = 1) -> np.ndarray:
        """Probabilities (n_chunks, n_classes) after each chunk of `chunk_frames` frames of one sequence, a
        forward-only LSTM's state carried from chunk to chunk; the last row is the whole sequence's answer."""
        if self.bidirectional:
            raise ParameterError(
                "streaming needs a forward-only LSTM (architecture='lstm'); a BiLSTM's backward "
                "direction reads the sequence from its end, which has not arrived yet."
            )
        check_int(chunk_frames, "chunk_frames")
        x = np.asarray(sequence, dtype=np.float32)[np.newaxis]
        carries: list[list[np.ndarray]] = [[] for _ in self._members]
        rows = []
        for start in range(0, x.shape[1], chunk_frames):
            chunk = x[:, start : start + chunk_frames]
            total = np.zeros((1, self.n_classes), dtype=np.float32)
            for (forward_weights, _, dense), carry in zip(self._members, carries):
                total += _softmax(lstm(chunk, None, forward_weights, backwards=False, carry=carry), dense)
            rows.append(total[0] / self.n_members)
        return np.asarray(rows, dtype=np.float32)

    @property
    def n_embedding(self) -> int:
        """Length of `embed`'s vectors: n_hidden per direction per member."""
        return (2 if self.bidirectional else 1) * self.n_hidden * self.n_members

    def embed(self, batch: np.ndarray) -> np.ndarray:
        """Utterance embeddings (batch, `n_embedding`) of a padded batch (batch, time, n_features): per member
        and direction, the mean hidden state over the true frames (in every mode), for `vowels.openset`."""
        x = np.asarray(batch, dtype=np.float32)
        mask = np.any(x != np.float32(self.mask_value), axis=-1)
        weight = (mask / np.maximum(mask.sum(axis=1, keepdims=True), 1))[..., np.newaxis]
        parts = []
        states = np.zeros((*x.shape[:2], self.n_hidden), dtype=np.float32)
        for forward_weights, backward_weights, _ in self._members:
            for direction, backwards in ((forward_weights, False), (backward_weights, True)):
                if direction is not None:
                    lstm(x, mask, direction, backwards=backwards, states=states)
                    parts.append((states * weight).sum(axis=1))
        return np.concatenate(parts, axis=1)


def _gates(w: dict[str, np.ndarray], direction: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The kernel, recurrent kernel and bias of one direction of the LSTM."""
    return w[f"{direction}_kernel"], w[f"{direction}_recurrent_kernel"], w[f"{direction}_bias"]


def _softmax(features: np.ndarray, dense: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """The softmax layer's probabilities for `features` (batch, n_inputs)."""
    logits = features @ dense[0] + dense[1]
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


class OnnxNetwork:
    """The network of a bundle's ``model.onnx`` at `path` (its sha256 checked by the caller), run by ONNX Runtime:
    padded batch (batch, time, n_features) -> probabilities."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        try:
            self._session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types, not exported for catching
            raise BundleError(f"{path}: not a network ONNX Runtime can run ({exc}).") from None
        (inputs,), (outputs,) = self._session.get_inputs(), self._session.get_outputs()
        self._input_name = inputs.name
        self.n_features, self.n_classes = inputs.shape[-1], outputs.shape[-1]
        if not isinstance(self.n_features, int) or not isinstance(self.n_classes, int):
            shapes = f"{inputs.shape} -> {outputs.shape}"
            raise BundleError(f"{path}: the network's input or output size is not fixed ({shapes}).")

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        """Speaker probabilities (batch, n_classes), float32."""
        return self._session.run(None, {self._input_name: np.asarray(batch, dtype=np.float32)})[0]


SequencesLike = Utterances | Sequence[np.ndarray] | np.ndarray


class SequencePredictor:
    """`predict_proba` and `predict` over sorted, padded mini-batches for a class that gives ``_forward`` and the
    attributes below (``batching_``: `vowels.batching.batching_of` of its training options)."""

    classes_: np.ndarray
    n_features_in_: int
    preprocessing_: Preprocessing
    sort_by_length: bool
    architecture: str
    resample_length_: int

    if TYPE_CHECKING:

        @property
        def batching_(self) -> dict: ...

    def _check_fitted(self) -> None:
        """Raise `NotFittedError` before a prediction by an unfitted estimator (nothing to check by default)."""

    def _forward(self) -> Callable[[np.ndarray], np.ndarray]:
        """The network on one padded mini-batch (batch, time, features) -> probabilities (batch, n_classes)."""
        raise NotImplementedError

    def _network_inputs(self, sequences: Sequence[np.ndarray]) -> list[np.ndarray]:
        """What the network reads: the preprocessed sequences, resampled to one length for the FCN."""
        sequences = self.preprocessing_.apply(sequences)
        if self.architecture == "fcn":
            from .resampling import resample

            return resample(sequences, self.resample_length_)
        return list(sequences)

    def predict_proba(self, X: SequencesLike) -> np.ndarray:
        """Probability of each speaker, shape (n_sequences, n_classes), columns as `classes_`, rows as `X`; batched
        as in training (MATLAB's ``classify(net, X, MiniBatchSize=27, SequenceLength="longest")``)."""
        self._check_fitted()
        return predict_in_batches(
            self._forward(),
            self._network_inputs(check_sequences(X, n_features=self.n_features_in_)),
            n_outputs=len(self.classes_),
            sort=self.sort_by_length,
            **self.batching_,
        )

    def predict(self, X: SequencesLike) -> np.ndarray:
        """The most probable speaker of each sequence."""
        probabilities = self.predict_proba(X)  # first: it checks the estimator is fitted
        return self.classes_[np.argmax(probabilities, axis=1)]


class FastClassifier(SequencePredictor):
    """A saved `SpeakerClassifier` that predicts without Keras or scikit-learn (`FastClassifier.load`), on a
    `NumpyNetwork` or an `OnnxNetwork`, with the loaded `SpeakerClassifier`'s fitted attributes and predictions."""

    def __init__(
        self,
        network: NumpyNetwork | OnnxNetwork,
        *,
        classes: np.ndarray,
        batching: dict,
        sort_by_length: bool = True,
        random_state: int = 0,
        metadata: BundleMetadata | None = None,
        preprocessing: Preprocessing | None = None,
        n_features: int | None = None,
        architecture: str = "bilstm",
        resample_length: int | None = None,
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
        self.architecture = architecture
        if resample_length is not None:
            self.resample_length_ = resample_length
        elif architecture == "fcn":
            raise ParameterError("an FCN needs the resample_length its training sequences had.")
        self.mode = getattr(network, "mode", None)
        self.n_hidden = getattr(network, "n_hidden", None)
        self.n_members = getattr(network, "n_members", 1)
        self._batching = batching
        self.sort_by_length = sort_by_length
        self.random_state = random_state
        self.metadata_ = metadata
        if len(self.classes_) != network.n_classes:
            raise ParameterError(f"{len(self.classes_)} classes given for a network of {network.n_classes} outputs.")

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> FastClassifier:
        """Load a bundle written by `SpeakerClassifier.save`, checked as `SpeakerClassifier.load` checks it
        (a `BundleError` if it is missing, incomplete, tampered with or of another format version)."""
        path = Path(path)
        metadata = read_bundle(path)
        network: NumpyNetwork | OnnxNetwork = (
            OnnxNetwork(path / ONNX_FILE) if metadata.fast_file == ONNX_FILE else _numpy_network(path, metadata)
        )
        with bundle_entries(path / METADATA_FILE, _ENTRY_OR_WEIGHTS):
            params = metadata.params
            clf = cls(
                network,
                classes=np.array(metadata.classes, dtype=str),
                sort_by_length=params["sort_by_length"],
                batching=batching_of(metadata.options),
                random_state=params["random_state"],
                metadata=metadata,
                preprocessing=Preprocessing.from_dict(metadata.preprocessing),
                n_features=metadata.n_features,
                architecture=metadata.architecture,
                resample_length=params.get("resample_length"),
            )
            if isinstance(network, NumpyNetwork) and network.n_hidden != params["n_hidden"]:
                raise ParameterError("the weights do not match n_features and n_hidden")
        return clf

    @property
    def batching_(self) -> dict:
        """The mini-batch size and padding saved with the network (`vowels.batching.batching_of`)."""
        return self._batching

    def _forward(self) -> Callable[[np.ndarray], np.ndarray]:
        return self.network_

    def _numpy_network(self, what: str) -> NumpyNetwork:
        if not isinstance(self.network_, NumpyNetwork):
            raise ParameterError(
                f"{what} needs a one-layer bilstm or lstm; this model is a {self.architecture} run by ONNX."
            )
        return self.network_

    def embed(self, X: SequencesLike) -> np.ndarray:
        """Utterance embeddings (n_sequences, n_embedding), as `SpeakerClassifier.embed`."""
        network = self._numpy_network("embed")
        sequences = self._network_inputs(check_sequences(X, n_features=self.n_features_in_))
        return predict_in_batches(network.embed, sequences, n_outputs=network.n_embedding, **self.batching_)

    def stream_proba(self, sequence: np.ndarray, *, chunk_frames: int = 1) -> np.ndarray:
        """A forward-only LSTM's speaker probabilities (n_chunks, n_classes) after each chunk of `chunk_frames`
        frames (`NumpyNetwork.stream`); the last row is ``predict_proba([sequence])[0]``."""
        network = self._numpy_network("streaming")
        if self.preprocessing_.delta_width:
            raise ParameterError(
                "streaming needs a model without appended slopes (delta_width=0): a slope reads frames "
                "that have not arrived yet."
            )
        (frames,) = self.preprocessing_.apply(check_sequences([sequence], n_features=self.n_features_in_))
        return network.stream(frames, chunk_frames=chunk_frames)


def _numpy_network(path: Path, metadata: BundleMetadata) -> NumpyNetwork:
    """The `NumpyNetwork` of a bundle's ``weights.npz``, checked against its metadata."""
    weights_file = path / NUMPY_WEIGHTS_FILE
    params = metadata.params
    try:
        n_members = int(params["n_members"])
        names = WEIGHT_NAMES if metadata.architecture == "bilstm" else FORWARD_WEIGHT_NAMES
        with np.load(weights_file, allow_pickle=False) as data:
            members = [{name: data[_npz_key(name, m, n_members)] for name in names} for m in range(n_members)]
            stored = len(data.files)
    except (OSError, ValueError, KeyError, TypeError, AttributeError, zipfile.BadZipFile) as exc:
        raise BundleError(f"{weights_file}: not readable as network weights ({exc}).") from None
    if stored != n_members * len(names):
        raise BundleError(
            f"{weights_file}: holds {stored} arrays, not the {n_members * len(names)} of the "
            f"{n_members} network(s) {METADATA_FILE} names; retrain or re-copy the bundle."
        )
    with bundle_entries(path / METADATA_FILE, _ENTRY_OR_WEIGHTS):
        return NumpyNetwork(members, mode=params["mode"], mask_value=batching_of(metadata.options)["value"])
