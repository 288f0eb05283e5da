"""The networks beside the (Bi)LSTM: a frame-level network (DNN) and a fully convolutional one (FCN).

``dnn``  The classic step before an LSTM: a multilayer perceptron that names the speaker of
         every frame on its own, trained on the (M frames, n_features) matrix of all training
         frames, each labelled with its utterance's speaker; an utterance's answer is the
         softmax of its true frames' averaged log-probabilities. `build_frame_network` returns
         the per-frame network it trains and the sequence network it saves, which share layers.
``fcn``  Wang, Yan and Oates (2017), "Time series classification from scratch with deep neural
         networks: a strong baseline", as Ismail Fawaz et al. (2019, dl-4-tsc) configure it:
         Conv1D of 128, 256 and 128 filters (kernels 8, 5, 3, "same" padding), each followed
         by batch normalisation and ReLU, global average pooling, softmax. Sequences are first
         resampled to one length (`vowels.resampling`); see `vowels.fitting` for its schedule.
"""

from __future__ import annotations

from typing import Any

import keras

from .model import check_network_settings

__all__ = ["FCN_LAYERS", "FRAME_HIDDEN", "MaskedLogMean", "build_fcn", "build_frame_network"]

FRAME_HIDDEN = (256, 256)
"""Units of the DNN's hidden ReLU layers (fixed before any test scoring; not tuned)."""

FCN_LAYERS = ((128, 8), (256, 5), (128, 3))
"""(filters, kernel size) of the FCN's three convolution blocks (Wang et al. 2017)."""


@keras.saving.register_keras_serializable(package="vowels")
class MaskedLogMean(keras.layers.Layer):
    """Per-frame probabilities (batch, time, classes) -> softmax of the mean log-probability over true frames.

    Frames that Keras' mask marks as padding take no part; a batch without a mask averages all.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs: Any, mask: Any = None) -> Any:
        ops = keras.ops
        log_p = ops.log(ops.maximum(inputs, 1e-7))
        if mask is None:
            mean = ops.mean(log_p, axis=1)
        else:
            weight = ops.expand_dims(ops.cast(mask, inputs.dtype), -1)
            mean = ops.sum(log_p * weight, axis=1) / ops.maximum(ops.sum(weight, axis=1), 1.0)
        return ops.softmax(mean, axis=-1)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (input_shape[0], input_shape[2])

    def compute_mask(self, inputs: Any, mask: Any = None) -> None:
        return None


def build_frame_network(
    n_features: int,
    n_classes: int,
    *,
    hidden: tuple[int, ...] = FRAME_HIDDEN,
    dropout: float = 0.0,
    mask_value: float = 0.0,
) -> tuple[keras.Model, keras.Model]:
    """The DNN twice over the same layers: (frames -> speaker, sequences -> speaker).

    Parameters
    ----------
    n_features, n_classes : int
        Features per frame; speakers.
    hidden : tuple of int, default=FRAME_HIDDEN
        Units of each hidden ReLU layer.
    dropout : float in [0, 1), default=0.0
        Dropout after each hidden layer while training.
    mask_value : float, default=0.0
        Frames whose every feature equals this value are padding in the sequence network.

    Returns
    -------
    frame_network : keras.Model
        (batch, n_features) -> (batch, n_classes) probabilities; what training fits.
    sequence_network : keras.Model
        (batch, time, n_features) -> (batch, n_classes): the frames' averaged log-probabilities.
    """
    check_network_settings(n_features=n_features, n_classes=n_classes, dropout=dropout)
    layers: list[keras.layers.Layer] = []
    for i, units in enumerate(hidden):
        layers.append(keras.layers.Dense(units, activation="relu", name=f"hidden_{i + 1}"))
        if dropout:
            layers.append(keras.layers.Dropout(dropout, name=f"dropout_{i + 1}"))
    layers.append(keras.layers.Dense(n_classes, activation="softmax", name="speaker"))

    def through(x: Any) -> Any:
        for layer in layers:
            x = layer(x)
        return x

    frame_in = keras.Input(shape=(n_features,), name="frame")
    frame_network = keras.Model(frame_in, through(frame_in), name="dnn_frames")
    sequence_in = keras.Input(shape=(None, n_features), name="frames")
    masked = keras.layers.Masking(mask_value=mask_value, name="padding_mask")(sequence_in)
    outputs = MaskedLogMean(name="frame_vote")(through(masked))
    return frame_network, keras.Model(sequence_in, outputs, name="dnn_masked")


def build_fcn(n_features: int, n_classes: int, *, layers: tuple[tuple[int, int], ...] = FCN_LAYERS) -> keras.Model:
    """Wang et al.'s fully convolutional network for sequences of shape (time, `n_features`)."""
    check_network_settings(n_features=n_features, n_classes=n_classes)
    inputs = keras.Input(shape=(None, n_features), name="frames")
    x = inputs
    for i, (filters, kernel_size) in enumerate(layers, start=1):
        x = keras.layers.Conv1D(filters, kernel_size, padding="same", name=f"conv_{i}")(x)
        x = keras.layers.BatchNormalization(name=f"batch_norm_{i}")(x)
        x = keras.layers.Activation("relu", name=f"relu_{i}")(x)
    x = keras.layers.GlobalAveragePooling1D(name="average_over_time")(x)
    outputs = keras.layers.Dense(n_classes, activation="softmax", name="speaker")(x)
    return keras.Model(inputs, outputs, name="fcn")
