"""Keras' ``fit`` for the DNN and the FCN, which need no MATLAB batching, with dl-4-tsc's schedule for the FCN
(Ismail Fawaz et al. 2019): the learning rate halved when the training loss stalls 50 epochs, the weights of the
epoch of lowest training loss kept."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from .progress import TrainingProgress
from .training import TrainingHistory, TrainingOptions

__all__ = ["PLATEAU", "fit_arrays"]

PLATEAU = {"factor": 0.5, "patience": 50, "min_lr": 1e-4}
"""dl-4-tsc's ``ReduceLROnPlateau`` on the training loss, for the FCN."""


def _recorder(history: TrainingHistory, progress: TrainingProgress, keep_best: bool) -> Any:
    """A Keras callback that fills `history`, reports each epoch and, if `keep_best`, restores the best weights."""
    import keras

    class Recorder(keras.callbacks.Callback):
        def on_train_begin(self, logs: Any = None) -> None:
            self.best_loss, self.best_weights = np.inf, None

        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            loss, accuracy = float(logs["loss"]), float(logs["accuracy"])
            history.epoch_seconds.append(time.perf_counter() - self.started)
            history.iteration_loss.append(loss)
            history.iteration_accuracy.append(accuracy)
            history.iteration_epoch.append(epoch + 1)
            if keep_best and loss < self.best_loss:
                self.best_loss, self.best_weights = loss, self.model.get_weights()
            progress.epoch_done(epoch + 1, [loss], [accuracy], history)

        def on_train_end(self, logs: Any = None) -> None:
            if keep_best and self.best_weights is not None:
                self.model.set_weights(self.best_weights)

    return Recorder()


def fit_arrays(
    model: Any,
    x: np.ndarray,
    codes: np.ndarray,
    options: TrainingOptions,
    *,
    verbose: int | str = 1,
    plateau: bool = False,
    keep_best: bool = False,
) -> TrainingHistory:
    """Train `model` on equal-shaped examples `x` with class indices `codes` by Keras' ``fit``.

    Parameters
    ----------
    model : keras.Model
        Softmax outputs; trained on sparse categorical cross-entropy with `options`' Adam.
    x : np.ndarray, shape (n_examples, ...)
    codes : np.ndarray of int, shape (n_examples,)
    options : TrainingOptions
        ``max_epochs``, ``mini_batch_size``, Adam's settings, ``shuffle`` (any but "never" shuffles every epoch).
    verbose : int or "auto", default=1
        As `vowels.training.train_network`.
    plateau : bool, default=False
        Halve the learning rate when the training loss stalls (`PLATEAU`).
    keep_best : bool, default=False
        End with the weights of the epoch of lowest training loss.

    Returns
    -------
    TrainingHistory
        One entry per epoch (Keras reports the epoch's mean loss, not each mini-batch's).
    """
    import keras

    model.compile(optimizer=options.optimizer(), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = TrainingHistory()
    n_batches = -(-len(x) // options.mini_batch_size)
    with TrainingProgress(options.max_epochs, n_batches, verbose=verbose) as progress:
        callbacks = [_recorder(history, progress, keep_best)]
        if plateau:
            callbacks.append(keras.callbacks.ReduceLROnPlateau(monitor="loss", **PLATEAU))
        model.fit(
            np.asarray(x, dtype=np.float32),
            np.asarray(codes, dtype=np.int64),
            batch_size=options.mini_batch_size,
            epochs=options.max_epochs,
            shuffle=options.shuffle != "never",
            callbacks=callbacks,
            verbose=0,
        )
    return history
