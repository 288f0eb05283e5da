"""The LSTM recurrence in NumPy (gate order i, f, c, o, as Keras and torch keep it), shared by the fast
engine (`vowels.inference`) and the speaker encoder (`vowels.speaker_encoder`)."""

from __future__ import annotations

import numpy as np

__all__ = ["lstm", "sigmoid"]


def sigmoid(x: np.ndarray) -> np.ndarray:
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
        i, f, o = sigmoid(z[:, :n]), sigmoid(z[:, n : 2 * n]), sigmoid(z[:, 3 * n :])
        c_next = f * c + i * np.tanh(z[:, 2 * n : 3 * n])
        h_next = o * np.tanh(c_next)
        if mask is None:
            h, c = h_next, c_next
        else:
            keep = mask[:, t, np.newaxis]
            h, c = np.where(keep, h_next, h), np.where(keep, c_next, c)
        if states is not None:
            states[:, t] = h
    if carry is not None:
        carry[:] = [h, c]
    return h
