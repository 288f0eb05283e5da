"""The network: sequence input -> BiLSTM (last output) -> Dense -> softmax, in three modes.

What MATLAB's ``bilstmLayer(..., OutputMode="last")`` returns for its backward direction:
the layer's output sequence holds, at each time step t, the forward state after frames 1..t
and the backward state after frames T..t; "last" takes the last time step T of the padded
batch. MATLAB's documentation says exactly that ("last — output the last time step of the
sequence"), so at step T the backward half has read only frame T, which is padding for every
sequence shorter than its batch's longest. That is mode ``"matlab"``:

``"matlab"``  forward state after the whole padded sequence; backward state after one step
              over the last padded frame (reading A of DESIGN.md).
``"padded"``  forward and backward states each after the whole padded sequence (reading B):
              a plain Keras ``Bidirectional(LSTM)`` fed padding as data.
``"masked"``  each direction's state after the true frames only; padding changes nothing.

All three share one set of weights (a forward LSTM, a backward LSTM, a Dense layer), so a
model trained in one mode can be run in another.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from .errors import ParameterError

__all__ = ["MODES", "LastStep", "build_network", "copy_weights", "mode_of", "weight_arrays"]

MODES = ("matlab", "padded", "masked")


@keras.saving.register_keras_serializable(package="vowels")
class LastStep(keras.layers.Layer):
    """The last time step of a (batch, time, features) tensor, kept as a length-1 sequence."""

    def call(self, inputs: Any) -> Any:
        return inputs[:, -1:, :]

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (input_shape[0], 1, input_shape[2])

    def compute_mask(self, inputs: Any, mask: Any = None) -> None:
        return None


def _lstm(n_hidden: int, l2: float, name: str, *, go_backwards: bool = False) -> keras.layers.LSTM:
    """An LSTM with MATLAB's initialisers and L2 on its weights (not its bias).

    MATLAB penalises ``l2 / 2 * ||w||^2``; Keras' ``L2(c)`` penalises ``c * ||w||^2``.
    """
    regularizer = keras.regularizers.L2(l2 / 2) if l2 else None
    return keras.layers.LSTM(
        n_hidden,
        kernel_regularizer=regularizer,
        recurrent_regularizer=regularizer,
        unit_forget_bias=True,
        go_backwards=go_backwards,
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
) -> keras.Model:
    """Build the BiLSTM classifier for sequences of shape (time, `n_features`).

    Parameters
    ----------
    n_features : int
        Features per frame (12 for Japanese Vowels).
    n_classes : int
        Number of speakers; the output is a softmax over them.
    mode : {"matlab", "padded", "masked"}, default="matlab"
        What the backward direction returns; see the module docstring.
    n_hidden : int, default=100
        Hidden units per direction.
    l2 : float, default=1e-4
        MATLAB's ``L2Regularization`` factor, applied to weights but not biases.
    mask_value : float, default=0.0
        In ``"masked"`` mode, frames whose every feature equals this value are padding.
    dropout : float in [0, 1), default=0.0
        Dropout on the BiLSTM output while training; none at prediction.
    """
    if mode not in MODES:
        raise ParameterError(f"mode must be one of {list(MODES)}; got {mode!r}.")
    for name, value in (("n_features", n_features), ("n_classes", n_classes), ("n_hidden", n_hidden)):
        if not isinstance(value, int) or value < 1:
            raise ParameterError(f"{name} must be a positive integer; got {value!r}.")
    if n_classes < 2:
        raise ParameterError(f"n_classes must be at least 2 to tell speakers apart; got {n_classes}.")
    if l2 < 0:
        raise ParameterError(f"l2 must be >= 0; got {l2!r}.")
    if not 0 <= dropout < 1:
        raise ParameterError(f"dropout must be in [0, 1); got {dropout!r}.")

    inputs = keras.Input(shape=(None, n_features), name="frames")
    if mode == "matlab":
        forward = _lstm(n_hidden, l2, "forward_lstm")(inputs)
        backward = _lstm(n_hidden, l2, "backward_lstm", go_backwards=True)(LastStep(name="last_step")(inputs))
        features = keras.layers.Concatenate(name="bilstm_last")([forward, backward])
    else:
        x = keras.layers.Masking(mask_value=mask_value, name="padding_mask")(inputs) if mode == "masked" else inputs
        features = keras.layers.Bidirectional(
            _lstm(n_hidden, l2, "forward_lstm"),
            backward_layer=_lstm(n_hidden, l2, "backward_lstm", go_backwards=True),
            name="bilstm_last",
        )(x)
    if dropout:
        features = keras.layers.Dropout(dropout, name="dropout")(features)
    regularizer = keras.regularizers.L2(l2 / 2) if l2 else None
    outputs = keras.layers.Dense(n_classes, activation="softmax", kernel_regularizer=regularizer, name="speaker")(
        features
    )
    return keras.Model(inputs, outputs, name=f"bilstm_{mode}")


def mode_of(model: keras.Model) -> str:
    """The mode a network built by `build_network` was built in."""
    name = model.name.removeprefix("bilstm_")
    if name not in MODES:
        raise ParameterError(f"model {model.name!r} was not built by vowels.model.build_network.")
    return name


def _direction_layers(model: keras.Model) -> tuple[keras.layers.LSTM, keras.layers.LSTM]:
    """The forward and backward LSTM of a network built by `build_network`."""
    bilstm = model.get_layer("bilstm_last")
    if isinstance(bilstm, keras.layers.Bidirectional):
        return bilstm.forward_layer, bilstm.backward_layer
    return model.get_layer("forward_lstm"), model.get_layer("backward_lstm")


def copy_weights(source: keras.Model, target: keras.Model) -> None:
    """Give `target` the weights of `source`, whatever mode each was built in."""
    for src, dst in zip(_direction_layers(source), _direction_layers(target)):
        dst.set_weights(src.get_weights())
    target.get_layer("speaker").set_weights(source.get_layer("speaker").get_weights())


def weight_arrays(model: keras.Model) -> dict[str, np.ndarray]:
    """Every weight of a network built by `build_network`, by name, for `vowels.inference`.

    ``{forward,backward}_{kernel,recurrent_kernel,bias}`` in Keras' layout (gates i, f, c, o;
    shapes (n_features, 4 n_hidden), (n_hidden, 4 n_hidden), (4 n_hidden,)) and
    ``dense_kernel`` (2 n_hidden, n_classes), ``dense_bias`` (n_classes,).
    """
    arrays: dict[str, np.ndarray] = {}
    for direction, layer in zip(("forward", "backward"), _direction_layers(model)):
        kernel, recurrent_kernel, bias = layer.get_weights()
        arrays |= {
            f"{direction}_kernel": kernel,
            f"{direction}_recurrent_kernel": recurrent_kernel,
            f"{direction}_bias": bias,
        }
    kernel, bias = model.get_layer("speaker").get_weights()
    return arrays | {"dense_kernel": kernel, "dense_bias": bias}
