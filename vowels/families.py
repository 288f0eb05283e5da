"""The networks beside the (Bi)LSTM: a frame-level network (``dnn``, every frame classified on its own, an
utterance's answer the softmax of its frames' mean log-probability) and Wang, Yan and Oates' (2017) fully
convolutional network (``fcn``) as dl-4-tsc configures it, on sequences resampled to one length."""

from __future__ import annotations

import functools
from typing import Any

import keras

from .model import check_network_settings

__all__ = ["FCN_LAYERS", "FRAME_HIDDEN", "MaskedLogMean", "build_fcn", "build_frame_network"]

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
