"""What happens to each sequence before batching: appended slopes (deltas), then standardisation, learned on the
training sequences, saved in the bundle and applied by both engines; NumPy only (`vowels.dsp.delta`)."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .dsp import delta
from .errors import DataError, ParameterError
from .validation import refuse

__all__ = ["Standardization", "Preprocessing"]


@dataclass(frozen=True)
class Standardization:
    """Per-feature mean and standard deviation, learned from training frames.

    Attributes
    ----------
    mean, std : tuple of float, length n_features
        ``std`` is floored at 1e-8, so a constant feature becomes 0 rather than a division by zero.
    """

    mean: tuple[float, ...]
    std: tuple[float, ...]

    @classmethod
    def fit(cls, sequences: Sequence[np.ndarray]) -> Standardization:
        """Statistics over every frame of `sequences` (each of shape (n_frames, n_features))."""
        if not len(sequences):
            raise DataError("cannot learn standardisation statistics from no sequences.")
        frames = np.concatenate(sequences, axis=0).astype(np.float64)
        std = np.maximum(frames.std(axis=0), 1e-8)
        return cls(tuple(map(float, frames.mean(axis=0))), tuple(map(float, std)))

    def apply(self, sequence: np.ndarray) -> np.ndarray:
        """`sequence` of shape (n_frames, n_features) standardised, float32."""
        if sequence.shape[1] != len(self.mean):
            raise DataError(f"sequence has {sequence.shape[1]} features per frame; expected {len(self.mean)}.")
        return ((sequence - np.asarray(self.mean)) / np.asarray(self.std)).astype(np.float32)

    def to_dict(self) -> dict:
        """Plain JSON-ready values."""
        return {"mean": list(self.mean), "std": list(self.std)}

    @classmethod
    def from_dict(cls, values: dict) -> Standardization:
        """The inverse of `to_dict`."""
        mean, std = tuple(map(float, values["mean"])), tuple(map(float, values["std"]))
        if len(mean) != len(std) or not all(s > 0 for s in std):
            raise ParameterError("standardisation needs as many means as standard deviations, all std > 0.")
        return cls(mean, std)


@dataclass(frozen=True)
class Preprocessing:
    """Per-sequence transform learned from training data.

    Attributes
    ----------
    delta_width : int
        0 for none, else an odd number of frames >= 3 over which each feature's slope is taken and appended
        (`vowels.dsp.delta`), doubling the features per frame.
    standardization : Standardization or None
        Per-feature mean and standard deviation of the training frames (after deltas).
    """

    delta_width: int = 0
    standardization: Standardization | None = None

    def __post_init__(self) -> None:
        width = self.delta_width
        whole = isinstance(width, numbers.Integral) and not isinstance(width, bool)
        if not (whole and (width == 0 or (width >= 3 and width % 2 == 1))):
            raise refuse("delta_width", width, "0 or an odd whole number >= 3")

    @property
    def is_identity(self) -> bool:
        """Whether sequences pass through unchanged."""
        return not self.delta_width and self.standardization is None

    def n_outputs(self, n_features: int) -> int:
        """Features per frame after the transform, for `n_features` going in."""
        return 2 * n_features if self.delta_width else n_features

    def _with_deltas(self, sequences: Sequence[np.ndarray]) -> list[np.ndarray]:
        """`sequences` with their slopes appended, if any."""
        if not self.delta_width:
            return list(sequences)
        return [np.concatenate([s, delta(s, width=self.delta_width)], axis=1) for s in sequences]

    @classmethod
    def fit(cls, sequences: Sequence[np.ndarray], *, delta_width: int = 0, standardize: bool = False) -> Preprocessing:
        """Learn the transform from training `sequences` of shape (n_frames, n_features)."""
        expanded = cls(delta_width=delta_width)._with_deltas(sequences)
        return cls(delta_width=delta_width, standardization=Standardization.fit(expanded) if standardize else None)

    def apply(self, sequences: Sequence[np.ndarray]) -> list[np.ndarray]:
        """The transformed sequences, float32, time on axis 0."""
        if self.is_identity:
            return list(sequences)
        norm, expanded = self.standardization, self._with_deltas(sequences)
        return [norm.apply(s) if norm else np.ascontiguousarray(s, dtype=np.float32) for s in expanded]

    def to_dict(self) -> dict:
        """Plain JSON-ready values."""
        stats = None if self.standardization is None else self.standardization.to_dict()
        return {"delta_width": int(self.delta_width), "standardization": stats}

    @classmethod
    def from_dict(cls, values: dict) -> Preprocessing:
        """The inverse of `to_dict`."""
        stats = values["standardization"]
        return cls(int(values["delta_width"]), None if stats is None else Standardization.from_dict(stats))
