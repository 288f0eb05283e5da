"""MATLAB `trainingOptions` semantics for Keras: Adam, per-parameter gradient clipping, sorted
batches without shuffling, one seed, history per iteration and per epoch."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from .batching import PADDING_DIRECTIONS, padded_batches
from .errors import ParameterError

__all__ = ["TrainingOptions", "TrainingHistory", "seed_everything", "train_network"]

SHUFFLE_CHOICES = ("never", "once", "every-epoch")
THRESHOLD_METHODS = ("l2norm", "global-l2norm")


@dataclass(frozen=True)
class TrainingOptions:
    """The options of MATLAB's ``trainingOptions("adam", ...)`` that the tutorial uses.

    Defaults are the tutorial's values and, where it is silent, MATLAB's defaults.

    Parameters
    ----------
    max_epochs : int, default=100
    mini_batch_size : int, default=27
    initial_learn_rate : float, default=1e-3
    gradient_threshold : float or None, default=1.0
        Clip gradients above this L2 norm; None disables clipping.
    gradient_threshold_method : {"l2norm", "global-l2norm"}, default="l2norm"
        ``"l2norm"`` clips each parameter's gradient on its own (Keras ``clipnorm``);
        ``"global-l2norm"`` clips all gradients together (``global_clipnorm``).
    l2_regularization : float, default=1e-4
        MATLAB's factor on weights (penalty ``l2 / 2 * ||w||^2``); biases are not penalised.
    gradient_decay_factor, squared_gradient_decay_factor : float, default=0.9, 0.999
        Adam's beta_1 and beta_2.
    epsilon : float, default=1e-8
    shuffle : {"never", "once", "every-epoch"}, default="never"
    sequence_padding_direction : {"right", "left"}, default="right"
    sequence_padding_value : float, default=0.0
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
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ParameterError(f"{name} must be a positive integer; got {value!r}.")
        positive = ["initial_learn_rate", "epsilon"]
        if self.gradient_threshold is not None:
            positive.append("gradient_threshold")
        for name in positive:
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not value > 0:
                raise ParameterError(f"{name} must be a number > 0; got {value!r}.")
        if not self.l2_regularization >= 0:
            raise ParameterError(f"l2_regularization must be >= 0; got {self.l2_regularization!r}.")
        for name in ("gradient_decay_factor", "squared_gradient_decay_factor"):
            value = getattr(self, name)
            if not 0 <= value < 1:
                raise ParameterError(f"{name} must be in [0, 1); got {value!r}.")
        for name, allowed in (
            ("gradient_threshold_method", THRESHOLD_METHODS),
            ("shuffle", SHUFFLE_CHOICES),
            ("sequence_padding_direction", PADDING_DIRECTIONS),
        ):
            if getattr(self, name) not in allowed:
                raise ParameterError(f"{name} must be one of {list(allowed)}; got {getattr(self, name)!r}.")

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

    def optimizer(self):
        """A Keras Adam optimiser with these options."""
        import keras

        clip = {}
        if self.gradient_threshold is not None:
            key = "clipnorm" if self.gradient_threshold_method == "l2norm" else "global_clipnorm"
            clip[key] = self.gradient_threshold
        return keras.optimizers.Adam(
            learning_rate=self.initial_learn_rate,
            beta_1=self.gradient_decay_factor,
            beta_2=self.squared_gradient_decay_factor,
            epsilon=self.epsilon,
            **clip,
        )


@dataclass
class TrainingHistory:
    """Loss and mini-batch accuracy of every iteration, and per-epoch summaries.

    The loss includes the L2 penalty, as the optimiser sees it.
    """

    iteration_loss: list[float] = field(default_factory=list)
    iteration_accuracy: list[float] = field(default_factory=list)
    iteration_epoch: list[int] = field(default_factory=list)
    epoch_seconds: list[float] = field(default_factory=list)

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
        return {
            "iteration_loss": self.iteration_loss,
            "iteration_accuracy": self.iteration_accuracy,
            "iteration_epoch": self.iteration_epoch,
            "epoch_seconds": self.epoch_seconds,
            "epoch_loss": self.epoch_loss,
            "epoch_accuracy": self.epoch_accuracy,
        }

    @classmethod
    def from_dict(cls, values: dict) -> TrainingHistory:
        """The inverse of `to_dict`."""
        keys = ("iteration_loss", "iteration_accuracy", "iteration_epoch", "epoch_seconds")
        return cls(**{k: list(values.get(k, [])) for k in keys})


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and the Keras backend, and ask TensorFlow for deterministic ops."""
    import keras

    keras.utils.set_random_seed(int(seed))
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()


def train_network(
    model,
    sequences: Sequence[np.ndarray],
    codes: np.ndarray,
    options: TrainingOptions,
    *,
    seed: int = 0,
    verbose: int = 1,
) -> TrainingHistory:
    """Train `model` on `sequences` in the order given (sort them first for the tutorial).

    Parameters
    ----------
    model : keras.Model
        From `vowels.model.build_network`; compiled here with `options`.
    sequences : sequence of np.ndarray of shape (n_frames, n_features)
    codes : np.ndarray of int, shape (n_sequences,)
        Class index of each sequence.
    options : TrainingOptions
    seed : int, default=0
        Drives shuffling, if any (weights are seeded by `seed_everything` before building).
    verbose : int, default=1
        0 silent, 1 a progress bar per epoch.
    """
    import keras

    model.compile(
        optimizer=options.optimizer(),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    codes = np.asarray(codes, dtype=np.int64)
    rng = np.random.default_rng(seed)
    order = np.arange(len(sequences))
    if options.shuffle == "once":
        order = rng.permutation(order)
    history = TrainingHistory()
    for epoch in range(1, options.max_epochs + 1):
        if options.shuffle == "every-epoch":
            order = rng.permutation(len(sequences))
        batches = padded_batches(
            sequences,
            batch_size=options.mini_batch_size,
            padding=options.sequence_padding_direction,
            value=options.sequence_padding_value,
            drop_last=options.drop_last and len(sequences) >= options.mini_batch_size,
            order=order,
        )
        bar = keras.utils.Progbar(len(batches), verbose=verbose, unit_name="iteration") if verbose else None
        if bar is not None:
            print(f"Epoch {epoch}/{options.max_epochs}")
        start = time.perf_counter()
        for step, (indices, x) in enumerate(batches, start=1):
            logs = model.train_on_batch(x, codes[indices], return_dict=True)
            loss, accuracy = float(logs["loss"]), float(logs["accuracy"])
            history.iteration_loss.append(loss)
            history.iteration_accuracy.append(accuracy)
            history.iteration_epoch.append(epoch)
            if bar is not None:
                bar.update(step, values=[("loss", loss), ("accuracy", accuracy)])
        history.epoch_seconds.append(time.perf_counter() - start)
    return history
