"""How a fitted network answers, written once for the Keras and the fast engine, which differ only in
``_forward`` (one padded mini-batch -> probabilities): input checks, preprocessing, the FCN's resampling,
sorted mini-batches padded to their longest, rows put back in the order given."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from .batching import predict_in_batches
from .datasets import Utterances, check_sequences

if TYPE_CHECKING:
    from .preprocessing import Preprocessing

__all__ = ["SequencePredictor", "SequencesLike"]

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
