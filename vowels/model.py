"""The Keras networks. The (Bi)LSTM: (Bi)LSTM (last output) -> Dense -> softmax, in the three modes of docs/modes.md
sharing one set of weights; ``n_members > 1`` averages that many networks in one model. Beside it a frame-level
network (``dnn``: frames classified on their own, an utterance's answer the softmax of its frames' mean
log-probability) and Wang, Yan and Oates' (2017) fully convolutional network (``fcn``) as dl-4-tsc configures it."""

from __future__ import annotations

import functools
from typing import Any

import keras
import numpy as np

from .errors import ParameterError
from .names import MODES, RECURRENT
from .validation import check_choice, check_int, check_number

__all__ = [
    "MODES",
    "LastStep",
    "MaskedLogMean",
    "build_fcn",
    "build_frame_network",
    "build_network",
    "check_network_settings",
    "copy_weights",
    "member_outputs",
    "mode_of",
    "n_members_of",
    "weight_arrays",
]


@keras.saving.register_keras_serializable(package="vowels")
class LastStep(keras.layers.Layer):
    """The last time step of a (batch, time, features) tensor, kept as a length-1 sequence."""

    def call(self, inputs: Any) -> Any:
        return inputs[:, -1:, :]

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (input_shape[0], 1, input_shape[2])

    def compute_mask(self, inputs: Any, mask: Any = None) -> None:
        return None


def check_network_settings(*, dropout: float = 0.0, **counts: int) -> None:
    """Refuse sizes a network cannot have (each count a whole number >= 1, at least 2 speakers) and a
    dropout rate outside [0, 1), naming the setting."""
    for name, value in counts.items():
        check_int(value, name)
    if counts.get("n_classes", 2) < 2:
        raise ParameterError(f"n_classes must be at least 2 to tell speakers apart; got {counts['n_classes']}.")
    check_number(dropout, "dropout", low=0, high=1, high_open=True)


def _l2(l2: float) -> keras.regularizers.Regularizer | None:
    """MATLAB's penalty ``l2 / 2 * ||w||^2`` as Keras' ``L2(c)``, which penalises ``c * ||w||^2``."""
    return keras.regularizers.L2(l2 / 2) if l2 else None


def _lstm(
    n_hidden: int, l2: float, name: str, *, go_backwards: bool = False, return_sequences: bool = False
) -> keras.layers.LSTM:
    """An LSTM with MATLAB's initialisers and L2 on its weights (not its bias)."""
    return keras.layers.LSTM(
        n_hidden,
        kernel_regularizer=_l2(l2),
        recurrent_regularizer=_l2(l2),
        unit_forget_bias=True,
        go_backwards=go_backwards,
        return_sequences=return_sequences,
        name=name,
    )


def build_network(
    n_features: int,
    n_classes: int,
    *,
    mode: str = "matlab",
    n_hidden: int = 100,
    l2: float = 1e-4,
    mask_value: float = 0.0,
    dropout: float = 0.0,
    n_members: int = 1,
    architecture: str = "bilstm",
    n_layers: int = 1,
) -> keras.Model:
    """Build the (Bi)LSTM classifier for sequences of shape (time, `n_features`).

    Parameters
    ----------
    n_features, n_classes : int
        Features per frame (12 for Japanese Vowels); speakers, the softmax's outputs.
    mode : {"matlab", "padded", "masked"}, default="matlab"
        What the backward direction returns (docs/modes.md); a forward-only LSTM reads padding as
        data in ``"matlab"`` and ``"padded"`` mode alike.
    n_hidden : int, default=100
        Hidden units per direction.
    l2 : float, default=1e-4
        MATLAB's ``L2Regularization`` factor, on weights but not biases.
    mask_value : float, default=0.0
        In ``"masked"`` mode, frames whose every feature equals this value are padding.
    dropout : float in [0, 1), default=0.0
        Dropout on the last LSTM layer's output while training; none at prediction.
    n_members : int, default=1
        Classifiers side by side, their probabilities averaged; with more than 1 their layers' names end with
        the member's index (``speaker_0``, ...).
    architecture : {"bilstm", "lstm"}, default="bilstm"
    n_layers : int, default=1
        Stacked LSTM layers; all but the last return their whole output sequence.
    """
    check_choice(mode, "mode", MODES)
    check_choice(architecture, "architecture", RECURRENT, hint="build_fcn and build_frame_network build the others")
    check_number(l2, "l2", low=0)
    check_network_settings(
        n_features=n_features,
        n_classes=n_classes,
        n_hidden=n_hidden,
        n_members=n_members,
        n_layers=n_layers,
        dropout=dropout,
    )

    inputs = keras.Input(shape=(None, n_features), name="frames")
    seen = keras.layers.Masking(mask_value=mask_value, name="padding_mask")(inputs) if mode == "masked" else inputs
    members = []
    for member in range(n_members):
        suffix = _suffix(member, n_members)
        below = seen
        for layer in range(1, n_layers):
            below = _sequence_layer(architecture, n_hidden, l2, f"{architecture}_{layer}{suffix}")(below)
        if architecture == "lstm":
            features = _lstm(n_hidden, l2, f"forward_lstm{suffix}")(below)
        elif mode == "matlab":
            forward = _lstm(n_hidden, l2, f"forward_lstm{suffix}")(below)
            last_frame = LastStep(name=f"last_step{suffix}")(below)
            backward = _lstm(n_hidden, l2, f"backward_lstm{suffix}", go_backwards=True)(last_frame)
            features = keras.layers.Concatenate(name=f"bilstm_last{suffix}")([forward, backward])
        else:
            features = keras.layers.Bidirectional(
                _lstm(n_hidden, l2, f"forward_lstm{suffix}"),
                backward_layer=_lstm(n_hidden, l2, f"backward_lstm{suffix}", go_backwards=True),
                name=f"bilstm_last{suffix}",
            )(below)
        if dropout:
            features = keras.layers.Dropout(dropout, name=f"dropout{suffix}")(features)
        dense = keras.layers.Dense(n_classes, activation="softmax", kernel_regularizer=_l2(l2), name=f"speaker{suffix}")
        members.append(dense(features))
    outputs = members[0] if n_members == 1 else keras.layers.Average(name="ensemble_mean")(members)
    return keras.Model(inputs, outputs, name=f"{architecture}_{mode}")


def _sequence_layer(architecture: str, n_hidden: int, l2: float, name: str) -> keras.layers.Layer:
    """A lower layer of a stack: its whole output sequence, both directions for a BiLSTM."""
    if architecture == "lstm":
        return _lstm(n_hidden, l2, name, return_sequences=True)
    return keras.layers.Bidirectional(_lstm(n_hidden, l2, f"{name}_lstm", return_sequences=True), name=name)


def _suffix(member: int, n_members: int) -> str:
    """What a member's layer names end with: nothing for a single network, else ``_<index>``."""
    return "" if n_members == 1 else f"_{member}"


def n_members_of(model: keras.Model) -> int:
    """How many BiLSTM classifiers a network built by `build_network` averages."""
    names = {layer.name for layer in model.layers}
    return 1 if "speaker" in names else sum(name.startswith("speaker_") for name in names)


def member_outputs(model: keras.Model) -> keras.Model:
    """The same layers as `model`, returning each member's probabilities as a list (for training)."""
    n = n_members_of(model)
    return keras.Model(model.inputs, [model.get_layer(f"speaker{_suffix(m, n)}").output for m in range(n)])


def mode_of(model: keras.Model) -> str:
    """The mode a network built by `build_network` was built in."""
    name = model.name.split("_", 1)[-1]
    if name not in MODES:
        raise ParameterError(f"model {model.name!r} was not built by vowels.model.build_network.")
    return name


def _architecture_of(model: keras.Model) -> str:
    """The architecture of a network built by `build_network`: "lstm" or "bilstm"."""
    return "lstm" if model.name.startswith("lstm_") else "bilstm"


def _member_layers(model: keras.Model, member: int) -> list[keras.layers.Layer]:
    """The forward LSTM, the backward LSTM if any, and the Dense layer of one member of a one-layer network."""
    if any(layer.name.startswith(("bilstm_1", "lstm_1")) for layer in model.layers):
        raise ParameterError(f"model {model.name!r} stacks LSTM layers; only one-layer networks have plain weights.")
    suffix = _suffix(member, n_members_of(model))
    dense = model.get_layer(f"speaker{suffix}")
    if _architecture_of(model) == "lstm":
        return [model.get_layer(f"forward_lstm{suffix}"), dense]
    bilstm = model.get_layer(f"bilstm_last{suffix}")
    if isinstance(bilstm, keras.layers.Bidirectional):
        return [bilstm.forward_layer, bilstm.backward_layer, dense]
    return [model.get_layer(f"forward_lstm{suffix}"), model.get_layer(f"backward_lstm{suffix}"), dense]


def copy_weights(source: keras.Model, target: keras.Model) -> None:
    """Give `target` the weights of `source`, whatever mode each was built in (same architecture and members)."""
    n = n_members_of(source)
    if n_members_of(target) != n:
        raise ParameterError(f"source has {n} members but target has {n_members_of(target)}.")
    if _architecture_of(target) != _architecture_of(source):
        raise ParameterError(f"source is a {_architecture_of(source)} but target a {_architecture_of(target)}.")
    for member in range(n):
        for src, dst in zip(_member_layers(source, member), _member_layers(target, member)):
            dst.set_weights(src.get_weights())


def weight_arrays(model: keras.Model) -> list[dict[str, np.ndarray]]:
    """Every weight of a one-layer `build_network` network, one dict per member, for `vowels.inference`:
    ``{forward,backward}_{kernel,recurrent_kernel,bias}`` in Keras' layout (gates i, f, c, o), ``dense_kernel``
    and ``dense_bias``; a forward-only LSTM has no ``backward_*``."""
    members = []
    for member in range(n_members_of(model)):
        *lstms, dense = _member_layers(model, member)
        arrays = dict(zip(("dense_kernel", "dense_bias"), dense.get_weights()))
        for direction, layer in zip(("forward", "backward"), lstms):
            names = (f"{direction}_kernel", f"{direction}_recurrent_kernel", f"{direction}_bias")
            arrays |= dict(zip(names, layer.get_weights()))
        members.append(arrays)
    return members


FRAME_HIDDEN = (256, 256)
"""Units of the DNN's hidden ReLU layers (fixed before any test scoring)."""
FCN_LAYERS = ((128, 8), (256, 5), (128, 3))
"""(filters, kernel size) of the FCN's convolution blocks."""


@keras.saving.register_keras_serializable(package="vowels")
class MaskedLogMean(keras.layers.Layer):
    """Per-frame probabilities (batch, time, classes) -> softmax of the mean log-probability over the frames
    Keras' mask keeps (all frames without a mask)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs: Any, mask: Any = None) -> Any:
        ops = keras.ops
        log_p = ops.log(ops.maximum(inputs, 1e-7))
        weight = ops.ones_like(log_p[..., :1]) if mask is None else ops.expand_dims(ops.cast(mask, inputs.dtype), -1)
        return ops.softmax(ops.sum(log_p * weight, axis=1) / ops.maximum(ops.sum(weight, axis=1), 1.0), axis=-1)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (input_shape[0], input_shape[2])

    def compute_mask(self, inputs: Any, mask: Any = None) -> None:
        return None


def build_frame_network(
    n_features: int, n_classes: int, *, dropout: float = 0.0, mask_value: float = 0.0
) -> tuple[keras.Model, keras.Model]:
    """The DNN twice over the same layers: (frames -> speaker, sequences -> speaker).

    Parameters
    ----------
    n_features, n_classes : int
        Features per frame; speakers.
    dropout : float in [0, 1), default=0.0
        Dropout after each hidden layer while training.
    mask_value : float, default=0.0
        Frames whose every feature equals this value are padding in the sequence network.

    Returns
    -------
    frame_network, sequence_network : keras.Model
        (batch, n_features) -> (batch, n_classes), what training fits; (batch, time, n_features) -> (batch, n_classes).
    """
    check_network_settings(n_features=n_features, n_classes=n_classes, dropout=dropout)
    layers: list[keras.layers.Layer] = []
    for i, units in enumerate(FRAME_HIDDEN):
        layers.append(keras.layers.Dense(units, activation="relu", name=f"hidden_{i + 1}"))
        if dropout:
            layers.append(keras.layers.Dropout(dropout, name=f"dropout_{i + 1}"))
    layers.append(keras.layers.Dense(n_classes, activation="softmax", name="speaker"))

    def through(x: Any) -> Any:
        return functools.reduce(lambda below, layer: layer(below), layers, x)

    frame_in = keras.Input(shape=(n_features,), name="frame")
    frame_network = keras.Model(frame_in, through(frame_in), name="dnn_frames")
    sequence_in = keras.Input(shape=(None, n_features), name="frames")
    masked = keras.layers.Masking(mask_value=mask_value, name="padding_mask")(sequence_in)
    outputs = MaskedLogMean(name="frame_vote")(through(masked))
    return frame_network, keras.Model(sequence_in, outputs, name="dnn_masked")


def build_fcn(n_features: int, n_classes: int) -> keras.Model:
    """Wang et al.'s fully convolutional network for sequences of shape (time, `n_features`)."""
    check_network_settings(n_features=n_features, n_classes=n_classes)
    inputs = keras.Input(shape=(None, n_features), name="frames")
    x = inputs
    for i, (filters, kernel_size) in enumerate(FCN_LAYERS, start=1):
        x = keras.layers.Conv1D(filters, kernel_size, padding="same", name=f"conv_{i}")(x)
        x = keras.layers.BatchNormalization(name=f"batch_norm_{i}")(x)
        x = keras.layers.Activation("relu", name=f"relu_{i}")(x)
    x = keras.layers.GlobalAveragePooling1D(name="average_over_time")(x)
    outputs = keras.layers.Dense(n_classes, activation="softmax", name="speaker")(x)
    return keras.Model(inputs, outputs, name="fcn")
