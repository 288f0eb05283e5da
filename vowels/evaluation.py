"""Accuracy, per-speaker precision / recall / F1 and the confusion matrix, via scikit-learn."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

__all__ = ["Evaluation", "evaluate_predictions"]


@dataclass(frozen=True)
class Evaluation:
    """How well predicted speakers match the true ones.

    Attributes
    ----------
    accuracy : float
        Fraction of utterances named correctly, in [0, 1].
    n : int
        Number of utterances scored.
    n_errors : int
    speakers : tuple of str
        Row and column order of `confusion` and of the per-speaker arrays.
    confusion : np.ndarray of int, shape (n_speakers, n_speakers)
        Rows are true speakers, columns predicted ones.
    precision, recall, f1 : np.ndarray of float, shape (n_speakers,)
    support : np.ndarray of int, shape (n_speakers,)
        True utterances per speaker.
    """

    accuracy: float
    n: int
    n_errors: int
    speakers: tuple[str, ...]
    confusion: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray
    support: np.ndarray

    def to_dict(self) -> dict:
        """Plain JSON-ready values."""
        return {
            "accuracy": self.accuracy,
            "n": self.n,
            "n_errors": self.n_errors,
            "speakers": list(self.speakers),
            "confusion": self.confusion.tolist(),
            "per_speaker": {
                name: {
                    "precision": float(self.precision[i]),
                    "recall": float(self.recall[i]),
                    "f1": float(self.f1[i]),
                    "support": int(self.support[i]),
                }
                for i, name in enumerate(self.speakers)
            },
        }


def evaluate_predictions(
    y_true: Sequence[str] | np.ndarray, y_pred: Sequence[str] | np.ndarray, *, speakers: Sequence[str]
) -> Evaluation:
    """Score predicted speaker names against true ones, over the speakers listed."""
    y_true, y_pred = np.asarray(y_true).astype(str), np.asarray(y_pred).astype(str)
    labels = [str(s) for s in speakers]
    precision, recall, f1, support = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0.0)
    correct = int(np.sum(y_true == y_pred))
    return Evaluation(
        accuracy=correct / len(y_true),
        n=len(y_true),
        n_errors=len(y_true) - correct,
        speakers=tuple(labels),
        confusion=confusion_matrix(y_true, y_pred, labels=labels),
        precision=precision,
        recall=recall,
        f1=f1,
        support=support.astype(int),
    )
