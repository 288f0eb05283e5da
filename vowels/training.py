"""MATLAB `trainingOptions` semantics for Keras (Adam, per-parameter gradient clipping, sorted batches without
shuffling, one seed, history per iteration and per epoch), and Keras' ``fit`` for the DNN and the FCN, with
dl-4-tsc's schedule for the FCN (Ismail Fawaz et al. 2019)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np

from .augmentation import Augmentation
from .batching import PADDING_DIRECTIONS, batching_of, length_order, minibatch_indices, padded_batches
from .errors import ParameterError
from .progress import TrainingProgress
from .validation import check_choice, check_int, check_number, check_verbose

__all__ = ["LOOPS", "PLATEAU", "TrainingOptions", "TrainingHistory", "fit_arrays", "seed_everything", "train_network"]


@dataclass(frozen=True)
class TrainingOptions:
    """The options of MATLAB's ``trainingOptions("adam", ...)`` that the tutorial uses, with its values (else MATLAB's).

    Parameters
    ----------
    max_epochs, mini_batch_size : int, default=100, 27
    initial_learn_rate : float, default=1e-3
    gradient_threshold : float or None, default=1.0
        Clip gradients above this L2 norm; None disables clipping.
    gradient_threshold_method : {"l2norm", "global-l2norm"}, default="l2norm"
        Each parameter's gradient clipped on its own (Keras ``clipnorm``), or all together (``global_clipnorm``).
    l2_regularization : float, default=1e-4
        MATLAB's factor on weights (penalty ``l2 / 2 * ||w||^2``); biases are not penalised.
    gradient_decay_factor, squared_gradient_decay_factor, epsilon : float, default=0.9, 0.999, 1e-8
        Adam's beta_1, beta_2 and epsilon.
    shuffle : {"never", "once", "every-epoch"}, default="never"
    sequence_padding_direction, sequence_padding_value : {"right", "left"}, float, default="right", 0.0
    drop_last : bool, default=True
        Drop the utterances that do not fill the last mini-batch of an epoch, as MATLAB does.
    """

    max_epochs: int = 100
    mini_batch_size: int = 27
    initial_learn_rate: float = 1e-3
    gradient_threshold: float | None = 1.0
    gradient_threshold_method: str = "l2norm"
    l2_regularization: float = 1e-4
    gradient_decay_factor: float = 0.9
    squared_gradient_decay_factor: float = 0.999
    epsilon: float = 1e-8
    shuffle: str = "never"
    sequence_padding_direction: str = "right"
    sequence_padding_value: float = 0.0
    drop_last: bool = True

    def __post_init__(self) -> None:
        for name in ("max_epochs", "mini_batch_size"):
            check_int(getattr(self, name), name)
        for name in ("initial_learn_rate", "epsilon", "gradient_threshold"):
            check_number(getattr(self, name), name, low=0, low_open=True, none_ok=name == "gradient_threshold")
        check_number(self.l2_regularization, "l2_regularization", low=0)
        for name in ("gradient_decay_factor", "squared_gradient_decay_factor"):
            check_number(getattr(self, name), name, low=0, high=1, high_open=True)
        check_choice(self.gradient_threshold_method, "gradient_threshold_method", ("l2norm", "global-l2norm"))
        check_choice(self.shuffle, "shuffle", ("never", "once", "every-epoch"))
        check_choice(self.sequence_padding_direction, "sequence_padding_direction", PADDING_DIRECTIONS)

    def to_dict(self) -> dict:
        """The options as plain JSON-ready values."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> TrainingOptions:
        """Options from `to_dict` output; unknown keys are an error."""
        unknown = sorted(set(values) - set(cls.__dataclass_fields__))
        if unknown:
            raise ParameterError(f"unknown training options {unknown}; known: {sorted(cls.__dataclass_fields__)}.")
        return cls(**values)

    def optimizer(self) -> Any:
        """A Keras Adam optimiser with these options."""
        import keras

        key = "clipnorm" if self.gradient_threshold_method == "l2norm" else "global_clipnorm"
        clip = {} if self.gradient_threshold is None else {key: self.gradient_threshold}
        return keras.optimizers.Adam(
            learning_rate=self.initial_learn_rate,
            beta_1=self.gradient_decay_factor,
            beta_2=self.squared_gradient_decay_factor,
            epsilon=self.epsilon,
            **clip,
        )


@dataclass
class TrainingHistory:
    """Loss (with the L2 penalty; an ensemble's members summed) and mini-batch accuracy of every iteration,
    and per-epoch summaries."""

    iteration_loss: list[float] = field(default_factory=list)
    iteration_accuracy: list[float] = field(default_factory=list)
    iteration_epoch: list[int] = field(default_factory=list)
    epoch_seconds: list[float] = field(default_factory=list)

    def __repr__(self) -> str:
        """One line, not the lists: ``TrainingHistory(100 epochs, 2700 iterations, last epoch loss 0.0117, ...)``."""
        if not self.iteration_epoch:
            return "TrainingHistory(0 epochs)"
        return (
            f"TrainingHistory({len(set(self.iteration_epoch))} epochs, {len(self.iteration_loss)} iterations, "
            f"last epoch loss {self.epoch_loss[-1]:.4f}, accuracy {self.epoch_accuracy[-1]:.4f})"
        )

    @property
    def epoch_loss(self) -> list[float]:
        """Mean loss of each epoch's iterations."""
        return self._per_epoch(self.iteration_loss)

    @property
    def epoch_accuracy(self) -> list[float]:
        """Mean mini-batch accuracy of each epoch's iterations."""
        return self._per_epoch(self.iteration_accuracy)

    def _per_epoch(self, values: list[float]) -> list[float]:
        epochs = np.asarray(self.iteration_epoch)
        return [float(np.mean(np.asarray(values)[epochs == e])) for e in np.unique(epochs)]

    def to_dict(self) -> dict:
        """Plain lists, for JSON."""
        return {**asdict(self), "epoch_loss": self.epoch_loss, "epoch_accuracy": self.epoch_accuracy}

    @classmethod
    def from_dict(cls, values: dict) -> TrainingHistory:
        """The inverse of `to_dict`."""
        return cls(**{f.name: list(values.get(f.name, [])) for f in fields(cls)})


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and the Keras backend, and ask TensorFlow for deterministic ops."""
    import keras

    keras.utils.set_random_seed(int(seed))
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()


LOOPS = ("auto", "graph", "batch")
"""How `train_network` runs an epoch (its ``loop``)."""


def _graph_epoch(model: Any, options: TrainingOptions) -> Callable[..., tuple[list[float], list[float]]]:
    """One epoch as a TensorFlow graph: ``train_on_batch``'s arithmetic per batch at its length, losses summed; the
    ragged batches stacked to fixed shapes, a short batch's extra rows weighing 0."""
    import keras
    import tensorflow as tf

    from .model import member_outputs

    members = member_outputs(model)
    optimizer = options.optimizer()
    optimizer.build(model.trainable_variables)

    def loss_of(x: Any, y: Any, weight: Any) -> tuple[Any, Any]:
        loss, accuracy = 0.0, 0.0
        outputs = members(x, training=True)
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        for probabilities in outputs:
            per_row = keras.losses.sparse_categorical_crossentropy(y, probabilities)
            loss += tf.reduce_sum(per_row * weight) / tf.reduce_sum(weight)
            hits = tf.cast(tf.equal(tf.argmax(probabilities, axis=-1, output_type=tf.int32), y), tf.float32)
            accuracy += tf.reduce_sum(hits * weight) / tf.reduce_sum(weight)
        if model.losses:
            loss += tf.add_n(model.losses)
        return loss, accuracy / len(outputs)

    @tf.function(reduce_retracing=True)
    def run(x: Any, y: Any, weight: Any, lengths: Any) -> Any:
        n = tf.shape(x)[0]
        results = tf.TensorArray(tf.float32, size=n)
        for b in tf.range(n):
            length = lengths[b]
            with tf.GradientTape() as tape:
                loss, accuracy = loss_of(x[b, :, :length], y[b], weight[b])
            gradients = tape.gradient(loss, model.trainable_variables)
            optimizer.apply(gradients, model.trainable_variables)
            results = results.write(b, tf.stack([loss, accuracy]))
        return results.stack()

    def epoch(frames: list[np.ndarray], labels: list[np.ndarray]) -> tuple[list[float], list[float]]:
        y = np.zeros((len(frames), options.mini_batch_size), dtype=np.int32)
        longest = max(batch.shape[1] for batch in frames)
        x = np.full((*y.shape, longest, frames[0].shape[2]), options.sequence_padding_value, dtype=np.float32)
        weight = np.zeros(y.shape, dtype=np.float32)
        for b, (batch, codes) in enumerate(zip(frames, labels)):
            x[b, : len(batch), : batch.shape[1]] = batch
            y[b, : len(codes)] = codes
            weight[b, : len(codes)] = 1.0
        results = run(x, y, weight, np.array([batch.shape[1] for batch in frames], dtype=np.int32))
        losses, accuracies = np.asarray(results, dtype=float).T.tolist()
        return losses, accuracies

    return epoch


def _batch_epoch(model: Any, options: TrainingOptions) -> Callable[..., tuple[list[float], list[float]]]:
    """Keras' ``train_on_batch`` on each padded mini-batch, the loss summed over members."""
    from .model import member_outputs, n_members_of

    n = n_members_of(model)
    optimizer = options.optimizer()
    if n == 1:
        trained = model
        trained.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    else:
        trained = member_outputs(model)
        trained.compile(optimizer=optimizer, loss=["sparse_categorical_crossentropy"] * n, metrics=[["accuracy"]] * n)

    def epoch(frames: list[np.ndarray], labels: list[np.ndarray]) -> tuple[list[float], list[float]]:
        losses, accuracies = [], []
        for x, y in zip(frames, labels):
            logs = trained.train_on_batch(x, y if n == 1 else [y] * n, return_dict=True)
            losses.append(float(logs["loss"]))
            accuracies.append(float(np.mean([float(v) for k, v in logs.items() if k.endswith("accuracy")])))
        return losses, accuracies

    return epoch


def train_network(
    model: Any,
    sequences: Sequence[np.ndarray],
    codes: np.ndarray,
    options: TrainingOptions,
    *,
    seed: int = 0,
    verbose: int | str = 1,
    loop: str = "auto",
    augmentation: Augmentation | None = None,
    sort_by_length: bool = False,
) -> TrainingHistory:
    """Train `model` on `sequences` in the order given (sort them first for the tutorial).

    Parameters
    ----------
    model : keras.Model
        From `vowels.model.build_network`.
    sequences : sequence of np.ndarray of shape (n_frames, n_features)
    codes : np.ndarray of int, shape (n_sequences,)
    options : TrainingOptions
    seed : int, default=0
        Seeds shuffling and augmentation (`seed_everything` seeds the weights, before building).
    verbose : int or "auto", default=1
        0 silent; 1 a line per epoch on stderr; ``"auto"`` 1 in a notebook or at the Python prompt, else 0.
        `vowels.progress.monitoring` monitors are told whatever `verbose`.
    loop : {"auto", "graph", "batch"}, default="auto"
        Each epoch as one TensorFlow graph, or Keras' ``train_on_batch`` per mini-batch (same updates);
        ``"auto"`` is ``"graph"`` on TensorFlow.
    augmentation : Augmentation, default=None
        Varies every sequence anew each epoch before batching.
    sort_by_length : bool, default=False
        Sort each epoch's (augmented) sequences by length before batching, ties in the epoch's order.
    """
    import keras

    check_choice(loop, "loop", LOOPS)
    check_verbose(verbose)
    graph = loop == "graph" or (loop == "auto" and keras.backend.backend() == "tensorflow")
    run_epoch = (_graph_epoch if graph else _batch_epoch)(model, options)
    codes = np.asarray(codes, dtype=np.int64)
    rng = np.random.default_rng(seed)
    augmentation_rng = np.random.default_rng([seed, 1])
    order = np.arange(len(sequences))
    if options.shuffle == "once":
        order = rng.permutation(order)
    history = TrainingHistory()
    drop_last = options.drop_last and len(sequences) >= options.mini_batch_size  # unless no full batch is left
    n_batches = len(minibatch_indices(len(sequences), options.mini_batch_size, drop_last=drop_last))
    with TrainingProgress(options.max_epochs, n_batches, verbose=verbose) as progress:
        for epoch in range(1, options.max_epochs + 1):
            if options.shuffle == "every-epoch":
                order = rng.permutation(len(sequences))
            seen, seen_order = sequences, order
            if augmentation is not None and not augmentation.is_identity:
                seen = augmentation.apply(sequences, augmentation_rng)
            if sort_by_length:
                seen_order = order[length_order([len(seen[int(i)]) for i in order])]
            batches = padded_batches(seen, drop_last=drop_last, order=seen_order, **batching_of(options.to_dict()))
            frames, labels = [x for _, x in batches], [codes[indices] for indices, _ in batches]
            start = time.perf_counter()
            losses, accuracies = run_epoch(frames, labels)
            history.epoch_seconds.append(time.perf_counter() - start)
            history.iteration_loss += losses
            history.iteration_accuracy += accuracies
            history.iteration_epoch += [epoch] * len(losses)
            progress.epoch_done(epoch, losses, accuracies, history)
    return history


PLATEAU = {"factor": 0.5, "patience": 50, "min_lr": 1e-4}
"""dl-4-tsc's ``ReduceLROnPlateau`` on the training loss, for the FCN."""


def fit_arrays(
    model: Any,
    x: np.ndarray,
    codes: np.ndarray,
    options: TrainingOptions,
    *,
    verbose: int | str = 1,
    schedule: bool = False,
) -> TrainingHistory:
    """Train `model` on equal-shaped examples by Keras' ``fit``: a `TrainingHistory` of one entry per epoch (Keras
    reports the epoch's mean loss).

    Parameters
    ----------
    model : keras.Model
        Softmax outputs, trained on sparse categorical cross-entropy with `options`' Adam.
    x, codes : np.ndarray
        Examples (n_examples, ...) and their class indices (n_examples,).
    options : TrainingOptions
        Epochs, batch size, Adam; every epoch shuffled unless ``shuffle="never"``.
    verbose : int or "auto", default=1
        As `train_network`.
    schedule : bool, default=False
        dl-4-tsc's: the learning rate halved when the training loss stalls (`PLATEAU`), the lowest loss's weights kept.
    """
    import keras

    class Recorder(keras.callbacks.Callback):
        """Fills `history` and reports each epoch; with `schedule`, restores the lowest loss's weights at the end."""

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
            if schedule and loss < self.best_loss:
                self.best_loss, self.best_weights = loss, self.model.get_weights()
            progress.epoch_done(epoch + 1, [loss], [accuracy], history)

        def on_train_end(self, logs: Any = None) -> None:
            if schedule and self.best_weights is not None:
                self.model.set_weights(self.best_weights)

    model.compile(optimizer=options.optimizer(), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = TrainingHistory()
    with TrainingProgress(options.max_epochs, -(-len(x) // options.mini_batch_size), verbose=verbose) as progress:
        callbacks = [Recorder()]
        if schedule:
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
