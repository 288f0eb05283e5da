"""How a fitted network answers, whichever engine runs it: written once for the Keras and the fast engine.

`SpeakerClassifier` (Keras) and `vowels.inference.FastClassifier` (NumPy or ONNX Runtime)
differ only in the function that turns one padded mini-batch into probabilities
(``_forward``). Everything around it is here: the checks on the input, the preprocessing
learned in training, the FCN's resampling to one length, MATLAB's sorted mini-batches padded
to their longest sequence, and the rows put back in the order given.
"""

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
    """`predict_proba` and `predict` over sorted, padded mini-batches, for a class that gives ``_forward``.

    The class using it sets ``classes_``, ``n_features_in_``, ``preprocessing_``, ``batching_``
    (`vowels.batching.batching_of` of its training options), ``sort_by_length``, ``architecture``
    and, for the FCN, ``resample_length_``.
    """

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
        raise NotImplementedError

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
        """Probability of each speaker, shape (n_sequences, n_classes), columns as `classes_`.

        Sequences are sorted by length and padded per mini-batch as in training (MATLAB's
        ``classify(net, X, MiniBatchSize=27, SequenceLength="longest")``); rows come back in
        the order of `X`.
        """
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
        probabilities = self.predict_proba(X)
        return self.classes_[np.argmax(probabilities, axis=1)]
